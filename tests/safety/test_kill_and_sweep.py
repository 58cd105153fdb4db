"""A run killed with SIGKILL in the middle of apply leaks resources; ``sweep`` leaves none behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fargate_harness.cleanup.sweep import sweep
from fargate_harness.model.ownership import PREFIX_KEY, is_owned
from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT, cli


def _marked_roles(target: EmbeddedTarget) -> list[str]:
    iam = target.client("iam")
    names = [role["RoleName"] for page in iam.get_paginator("list_roles").paginate() for role in page["Roles"]]
    marked = []
    for name in names:
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}
        if is_owned(tags) and tags.get(PREFIX_KEY, "").startswith("fh-cli-"):
            marked.append(name)
    return marked


def test_sigkill_mid_apply_then_sweep_leaves_nothing(emulator: EmbeddedTarget, tmp_path: Path) -> None:
    assert emulator.endpoint_url
    env = {
        **os.environ,
        "HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url,
        "HARNESS_RESULTS_DIR": str(tmp_path / "results"),
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "fargate_harness.cli", "run", "--scenario", "module-reuse", "--scenario", "ssm-kms"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _marked_roles(emulator):
            assert run.poll() is None, "the run ended before it created anything; nothing was killed mid-apply"
            assert time.monotonic() < deadline, "no harness role appeared within 120 s"
            time.sleep(0.2)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the CLI and its Terraform children, with no chance to clean up
        run.wait()

    leaked = sweep(emulator, dry_run=True)
    assert leaked.items, "sweep --dry-run: expected the killed run's resources, got none"

    # the run's own results folder: the project's results/ may hold a developer's kept runs on other emulators
    result = cli(
        "sweep",
        env={"HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url, "HARNESS_RESULTS_DIR": env["HARNESS_RESULTS_DIR"]},
    )
    assert result.returncode == 0, result.stdout + result.stderr

    left = sweep(emulator, dry_run=True)
    assert not left.items, f"sweep: expected no harness resource left, got {[i.identifier for i in left.items]}"
    assert not _marked_roles(emulator)
