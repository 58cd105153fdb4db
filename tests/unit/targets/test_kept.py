"""Kept emulators: the message a ``--keep`` run ends with, and the inspect command it prints, run as printed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fargate_harness.targets import kept
from fargate_harness.targets.embedded import EmbeddedTarget

RUN_ACCOUNT = "111122223333"
RUN_REGION = "eu-west-1"


def _record(results: Path, endpoint: str, region: str, accounts: list[str]) -> None:
    folder = results / "20261207T000000-abcd" / "web-fh-cli-000001"
    folder.mkdir(parents=True)
    record = {"endpoint": endpoint, "region": region, "accounts": accounts, "pid": 1, "tfdir": str(folder)}
    (folder / "run.json").write_text(json.dumps(record))


def test_a_detached_emulator_outlives_the_run_so_the_clean_up_hint_names_a_destroy() -> None:
    """``--keep`` on the embedded target: the run's hint must not say the emulator "stopped with the run and took
    them with it" while the session keeps the emulator running."""
    assert EmbeddedTarget(detached=True).outlives_run
    assert not EmbeddedTarget().outlives_run


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_inspect_command_run_as_printed_lists_the_run_s_task_definitions(tmp_path: Path) -> None:
    """A run deployed in eu-west-1 in account 111122223333 (its provider's ``allowed_account_ids``): the command the
    kept message prints, run as printed with none of the user's AWS settings, lists that run's task definitions
    (the session's region and moto's default account list none)."""
    target = EmbeddedTarget(region="us-east-1", warm_up=False)
    target.start()
    try:
        assert target.endpoint_url is not None
        client = target.in_account(RUN_ACCOUNT).client("ecs", region=RUN_REGION)
        client.register_task_definition(
            family="web-kept",
            containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
        )
        results = tmp_path / "results"
        _record(results, target.endpoint_url, RUN_REGION, [RUN_ACCOUNT])
        assert target.pid is not None
        record = kept.KeptEmulator(
            results / kept.FOLDER / "1.json", target.pid, target.endpoint_url, "us-east-1", "", "now"
        )
        record.path.parent.mkdir(parents=True)
        message = kept.kept_message(record, results)
        assert "took them with it" not in message, message
        (line,) = [line for line in message.splitlines() if line.strip().startswith("inspect")]
        assert f"inspect {RUN_ACCOUNT} in {RUN_REGION}: " in line, message
        command = line.split(": ", 1)[1]
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}
        shell = ["bash", "-c", command]
        done = subprocess.run(shell, check=False, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        families = re.findall(r"task-definition/([\w-]+):", done.stdout)
        assert families == ["web-kept"], f"{command}: expected the run's task definition web-kept, got {done.stdout}"
    finally:
        target.stop()


def test_a_kept_emulator_is_alive_only_while_its_own_process_serves_its_port(tmp_path: Path) -> None:
    """A port and a pid are both reused once free: a record whose pid is another process, or whose port another
    process now holds, is not alive (and ``stop`` signals no stranger)."""
    target = EmbeddedTarget(region="us-east-1", warm_up=False)
    target.start()
    try:
        assert target.pid is not None and target.endpoint_url
        own = kept.KeptEmulator(tmp_path / "1.json", target.pid, target.endpoint_url, "us-east-1", "", "now")
        assert own.alive
        stranger = kept.KeptEmulator(tmp_path / "2.json", os.getpid(), target.endpoint_url, "us-east-1", "", "now")
        assert not stranger.alive, "this pytest process listens on no port of the record: not the emulator"
        stranger.stop()  # removes the record, signals nothing
        elsewhere = f"http://127.0.0.1:{int(target.endpoint_url.rsplit(':', 1)[1]) + 1}"
        assert not kept.KeptEmulator(tmp_path / "3.json", target.pid, elsewhere, "us-east-1", "", "now").alive
    finally:
        target.stop()
