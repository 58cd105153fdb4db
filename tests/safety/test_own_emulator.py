"""Runs on the harness's own emulator (the default target, no shared endpoint): nothing outlives a run without
--keep, a kept emulator can be inspected and is finished by ``sweep``, and after ``kill -9`` of a run its
emulator dies with it and ``sweep`` tidies the run's files and exits 0."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from fargate_harness.cleanup.leftovers import pid_alive
from fargate_harness.options import RUN_MARKER
from fargate_harness.targets.kept import listening
from tests.safety.conftest import ROOT, cli
from tools.soak import processes_under

BASIC = ROOT / "scenarios" / "basic"
CROSS_ACCOUNT = ROOT / "scenarios" / "cross-account-ecr"
KEPT_EU = ROOT / "tests" / "data" / "configs" / "kept-eu-service"


def _env(results: Path) -> dict[str, str]:
    env = {"HARNESS_RESULTS_DIR": str(results)}
    return env


def _manifest(results: Path) -> dict[str, object]:
    (path,) = results.glob("*/*/run.json")
    return dict(json.loads(path.read_text()))


def _role_names(endpoint: str, account: str) -> list[str]:
    """Role names in ``account`` of the emulator at ``endpoint`` (a role session for any account but moto's own)."""
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if account != "123456789012":
        sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", **keys)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/inspect", RoleSessionName="inspect")
        keys = {
            "aws_access_key_id": creds["Credentials"]["AccessKeyId"],
            "aws_secret_access_key": creds["Credentials"]["SecretAccessKey"],
            "aws_session_token": creds["Credentials"]["SessionToken"],
        }
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **keys)
    return [role["RoleName"] for role in iam.list_roles()["Roles"]]


def _wait_until(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _processes_writing_under(folder: Path) -> list[int]:
    """Processes whose standard output is a file under ``folder`` (the emulator writes its log there)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            out = os.readlink(proc / "fd" / "1")
        except OSError:
            continue
        if out.startswith(str(folder)):
            found.append(int(proc.name))
    return found


class TestARunsOwnEmulator:
    """A run on its own emulator ends with nothing left, or with the emulator kept for inspection."""

    def test_without_keep_nothing_outlives_the_run(self, tmp_path: Path) -> None:
        results = tmp_path / "results"
        answer = cli("run", "--dir", str(BASIC), env={**_env(results), "HARNESS_EMBEDDED_ENDPOINT": ""})
        assert answer.returncode == 0, answer.stdout + answer.stderr
        assert list(results.glob("*/summaries/*.json")), "a passing run leaves its summary"
        kept = ("summaries", RUN_MARKER)  # the marker says `clean` may remove the folder
        left = sorted(str(p.relative_to(results)) for p in results.glob("*/*") if p.name not in kept)
        assert left == [], f"a passing run leaves nothing but its summaries (and marker) under results/, got {left}"
        assert _processes_writing_under(results) == [], "a process of the run outlived it"
        assert "emulator kept" not in answer.stderr
        assert not list(results.glob("emulators/*.json")), "no emulator record without --keep"

    def test_keep_leaves_an_emulator_to_inspect_as_printed_and_sweep_finishes_it(self, tmp_path: Path) -> None:
        """``--keep`` on a configuration in eu-west-1 with ``allowed_account_ids``: only the emulator outlives the
        command, it holds the run's roles in the run's account, ``emulators`` lists it, the inspect command printed
        for its region and account, run as printed with none of the user's AWS settings, lists its task definition
        (the session's us-east-1 and moto's default account hold none), and ``sweep`` destroys the run and stops
        the emulator."""
        results = tmp_path / "results"
        answer = cli("run", "--dir", str(KEPT_EU), "--keep", env={**_env(results), "HARNESS_EMBEDDED_ENDPOINT": ""})
        kept = re.search(r"emulator kept at (http://127\.0\.0\.1:\d+) \(pid (\d+)\)", answer.stderr)
        assert kept, f"expected the kept emulator's address, got: {answer.stdout}{answer.stderr}"
        endpoint, pid = kept.group(1), int(kept.group(2))
        try:
            assert answer.returncode == 0, answer.stdout + answer.stderr
            assert "took them with it" not in answer.stderr, answer.stderr
            assert listening(endpoint), "the kept emulator must still answer after the command exited"
            assert _processes_writing_under(results) == [pid], "only the kept emulator may outlive the run"
            manifest = _manifest(results)
            assert manifest["accounts"][0] == "271828182845", manifest["accounts"]  # type: ignore[index]
            names = _role_names(endpoint, "271828182845")
            assert "kept-eu-web-execution" in names, f"expected the kept run's role in 271828182845, got {names}"

            listed = cli("emulators", "--results-dir", str(results))
            assert endpoint in listed.stdout and "running" in listed.stdout, listed.stdout

            line = re.search(r"inspect 271828182845 in eu-west-1: (.+)", answer.stderr)
            assert line, f"expected an inspect command for 271828182845 in eu-west-1, got: {answer.stderr}"
            inspected = shutil.which("aws") is not None
            if inspected:
                env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}
                shell = ["bash", "-c", line.group(1)]
                done = subprocess.run(shell, check=False, env=env, capture_output=True, text=True, timeout=120)
                assert done.returncode == 0, f"{line.group(1)}\n{done.stderr}"
                assert ":task-definition/kept-eu-web:" in done.stdout and "eu-west-1:271828182845" in done.stdout, (
                    f"kept-eu-service: expected the kept task definition kept-eu-web, got {done.stdout}"
                )

            swept = cli("sweep", "--results-dir", str(results), env={"HARNESS_EMBEDDED_ENDPOINT": ""})
            assert swept.returncode == 0, swept.stdout + swept.stderr
            assert "1 destroyed, 0 failed; stopped" in swept.stdout, swept.stdout
            # its process, not its port: another worker's guard or emulator may take the port once it is free
            _wait_until(lambda: not pid_alive(pid), 15, "sweep must stop the kept emulator")
            assert not list(results.glob("emulators/*.json")), "the kept emulator's record must be removed"
        finally:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if not inspected:
            pytest.skip("the kept run and its sweep passed; the printed inspect command needs the AWS CLI")


class TestKill9:
    """``kill -9`` of a run (a class of its own: with ``--dist loadscope`` the classes run on two workers)."""

    @pytest.mark.parametrize("configuration", [BASIC, CROSS_ACCOUNT], ids=["one-provider", "two-providers"])
    def test_kill_9_takes_the_emulator_with_it_and_sweep_exits_0(self, tmp_path: Path, configuration: Path) -> None:
        """One provider configuration: its provider is the harness's own process. Two (cross-account-ecr): Terraform
        starts the provider plugins itself, and they must stop with it."""
        results = tmp_path / "results"
        env = {**os.environ, **_env(results)}
        env.pop("HARNESS_EMBEDDED_ENDPOINT", None)
        run = subprocess.Popen(
            [sys.executable, "-m", "fargate_harness.cli", "run", "--dir", str(configuration)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:

            def applying() -> bool:
                states = list(results.glob("*/*/config/**/terraform.tfstate"))
                return bool(states) and '"type"' in states[0].read_text()

            _wait_until(applying, 120, "no resource appeared in the run's state within 120 s")
        finally:
            os.kill(run.pid, signal.SIGKILL)  # the harness only: its children must die with it
            run.wait()
        endpoint = str(_manifest(results)["endpoint"])
        # the emulator writes its log under the results folder; its port may be another process's a moment later
        _wait_until(
            lambda: not _processes_writing_under(results), 15, f"the run's emulator at {endpoint} outlived a kill -9"
        )
        _wait_until(lambda: not processes_under(results), 30, "processes of the killed run outlived it")

        swept = cli("sweep", "--results-dir", str(results), env={"HARNESS_EMBEDDED_ENDPOINT": ""})
        assert swept.returncode == 0, swept.stdout + swept.stderr
        assert "is gone, and what it held with it" in swept.stdout, swept.stdout
        assert not list(results.glob("*/*/config/**/terraform.tfstate")), "the dead emulator's state must not stay live"
        assert list(results.glob("*/*/config/**/terraform.tfstate.emulator-gone")), "the state is kept aside, not lost"
