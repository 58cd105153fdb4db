"""SIGTERM in the middle of a run destroys what was applied before the command exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fargate_harness.cleanup.sweep import sweep
from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT
from tests.safety.test_kill_and_sweep import _marked_roles


def test_sigterm_mid_apply_destroys_before_exit(emulator: EmbeddedTarget, tmp_path: Path) -> None:
    assert emulator.endpoint_url
    before = {(i.account, i.kind, i.identifier) for i in sweep(emulator, dry_run=True).items}
    env = {
        **os.environ,
        "HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url,
        "HARNESS_RESULTS_DIR": str(tmp_path / "results"),
    }
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fargate_harness.cli",
            "run",
            "--jobs",
            "1",
            "--scenario",
            "module-reuse",
            "--scenario",
            "secrets",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not _marked_roles(emulator):
        assert run.poll() is None, "the run ended before it created anything"
        assert time.monotonic() < deadline, "no harness role appeared within 120 s"
        time.sleep(0.2)
    run.send_signal(signal.SIGTERM)  # to the harness only; it must finish Terraform's work and destroy
    _out, err = run.communicate(timeout=300)
    assert run.returncode == 130, err[-2000:]
    assert "interrupted" in err
    after = {(i.account, i.kind, i.identifier) for i in sweep(emulator, dry_run=True).items}
    assert after - before == set(), f"SIGTERM teardown: expected nothing left, got {sorted(after - before)}"
