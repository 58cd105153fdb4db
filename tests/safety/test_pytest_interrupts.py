"""Ctrl-C under pytest, as a user's terminal sends it (SIGINT to pytest's process group; Terraform runs in a
session of its own and hears it from the harness): the apply in flight is let finish and write its state, the
destroy then removes everything, no process outlives the session, and pytest exits as interrupted (2).
Terraform's own behaviour on SIGINT: https://developer.hashicorp.com/terraform/cli/commands/apply
("Interrupt received. Please wait for Terraform to exit or data loss may occur.")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT
from tools.soak import processes_under

BASIC = ROOT / "scenarios" / "basic"
WAIT = ROOT / "tests" / "data" / "configs" / "cluster-wait"
TEST_FILE = """
import pytest

pytestmark = pytest.mark.terraform({path!r})


def test_roles(applied):
    applied.assert_trusts_only_ecs_tasks()
"""


def _terraform_applying(results: Path) -> bool:
    """A ``terraform apply`` is running in a run folder under ``results``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"terraform") and argv[1] == b"apply" and cwd.startswith(str(results)):
            return True
    return False


def _prefix_roles(emulator: EmbeddedTarget) -> list[str]:
    iam = emulator.client("iam")
    return [r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]


@pytest.mark.parametrize("workers", [0, 2], ids=["alone", "xdist"])
def test_ctrl_c_mid_apply_destroys_and_leaves_no_process(
    workers: int, tmp_path: Path, emulator: EmbeddedTarget
) -> None:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_infra.py").write_text(TEST_FILE.format(path=str(BASIC)))
    results = tmp_path / "results"
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(results)}
    env.pop("PYTEST_XDIST_WORKER", None)
    before = set(_prefix_roles(emulator))
    if workers == 0:
        assert emulator.endpoint_url
        env["HARNESS_EMBEDDED_ENDPOINT"] = emulator.endpoint_url  # resources can be counted after the session
    else:
        env.pop("HARNESS_EMBEDDED_ENDPOINT", None)  # each worker's own emulator: it must die with the session
    # the harness's warnings (retries, a destroy that meets a lock) shown live, to be asserted on
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "log_cli=true", "tests"]
    args += ["--log-cli-level=WARNING"]
    if workers:
        args += ["-n", str(workers)]
    session = subprocess.Popen(
        args, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while not _terraform_applying(results) or (workers == 0 and not set(_prefix_roles(emulator)) - before):
            # alone: until the apply has created something (a role), so that the interrupt lands mid-apply
            assert session.poll() is None, f"the session ended before its apply: {session.communicate()[0][-2000:]}"
            assert time.monotonic() < deadline, "no terraform apply (creating a role) within 120 s"
            time.sleep(0.05)
        if workers:
            time.sleep(1.0)  # each worker's own emulator cannot be watched from here: let the apply get going
        os.killpg(session.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = session.communicate(timeout=300)
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    assert session.returncode == 2, (
        f"expected pytest's 'interrupted' exit 2, got {session.returncode}:\n{output[-3000:]}"
    )
    assert "state lock" not in output and "retrying" not in output, output[-3000:]
    time.sleep(1)
    assert processes_under(results) == [], "processes of the session outlived it"
    if workers == 0:
        left = sorted(set(_prefix_roles(emulator)) - before)
        assert left == [], f"the interrupted run left roles behind: {left}\n{output[-3000:]}"


def test_ctrl_c_while_an_apply_waits_lets_it_finish_before_the_destroy(
    tmp_path: Path, emulator: EmbeddedTarget
) -> None:
    """The case where waiting matters: provider 3.39's ``aws_ecs_cluster`` create waits about 10 s after the
    cluster exists (tests/data/configs/cluster-wait). Interrupted then, Terraform finishes that wait and writes its
    state before it exits; a destroy started earlier would meet its state lock ("Error acquiring the state lock")
    and retry."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_infra.py").write_text(TEST_FILE.format(path=str(WAIT)))
    results = tmp_path / "results"
    assert emulator.endpoint_url
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(results), "HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url}
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "log_cli=true", "tests"]
    args += ["--log-cli-level=WARNING"]
    session = subprocess.Popen(
        args, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )

    def clusters() -> list[str]:
        """The active clusters (a deleted cluster stays listed as INACTIVE, on AWS as on moto)."""
        arns: list[str] = []
        for account in _accounts(emulator, results):
            ecs = emulator.in_account(account).client("ecs")
            listed = ecs.list_clusters()["clusterArns"]
            described = ecs.describe_clusters(clusters=listed)["clusters"] if listed else []
            arns += [c["clusterArn"] for c in described if c["status"] == "ACTIVE"]
        return arns

    try:
        deadline = time.monotonic() + 300
        while not clusters():
            assert session.poll() is None, f"the session ended before its cluster: {session.communicate()[0][-2000:]}"
            assert time.monotonic() < deadline, "no cluster within 300 s"
            time.sleep(0.2)
        time.sleep(2)  # the provider is now in its wait for the cluster
        os.killpg(session.pid, signal.SIGINT)
        output, _ = session.communicate(timeout=600)
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    assert session.returncode == 2, f"expected exit 2, got {session.returncode}:\n{output[-3000:]}"
    assert "state lock" not in output and "retrying" not in output, output[-3000:]
    assert clusters() == [], f"the cluster outlived the interrupted run:\n{output[-3000:]}"
    assert processes_under(results) == [], "processes of the session outlived it"


def _accounts(emulator: EmbeddedTarget, results: Path) -> list[str]:
    """The emulator's own account and those the runs under ``results`` recorded (a fixed-name configuration runs in
    a fresh account of its own)."""
    found = [emulator.account_id()]
    for manifest in results.glob("*/*/run.json"):
        for account in json.loads(manifest.read_text()).get("accounts") or []:
            if account not in found:
                found.append(str(account))
    return found
