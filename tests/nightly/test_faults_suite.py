"""The scenario suite passes with faults injected between Terraform/boto3 and the emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.nightly.conftest import ROOT


def test_suite_passes_under_moderate_faults(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/scenarios/test_secrets.py",
            "tests/scenarios/test_cross_account_ecr.py",
            "-o",
            "log_cli=true",
            "--log-cli-level=WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "HARNESS_FAULTS": "moderate,seed=11", "HARNESS_RESULTS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    stats = re.findall(r"faults injected: (\{.*?\})", output)
    assert stats, f"fault proxy: expected its statistics in the log, got none:\n{output[-2000:]}"
    injected = sum(
        int(count)
        for kind, count in re.findall(r"'(\w+)': (\d+)", " ".join(stats))
        if kind in ("throttled", "errored", "dropped", "slowed")
    )
    assert injected > 0, f"fault proxy: expected injected faults, got {stats}"
