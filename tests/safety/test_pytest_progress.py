"""Progress under pytest: with -v a line when each stage starts and ends reaches the terminal (pytest captures
the file descriptors, so a plain write to standard error was swallowed); with -q there is none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT

TEST_FILE = f"""
import pytest

pytestmark = pytest.mark.terraform({str(ROOT / "scenarios" / "basic")!r})


def test_roles(applied):
    applied.assert_trusts_only_ecs_tasks()
"""


@pytest.mark.parametrize(("flag", "shown"), [("-v", True), ("-q", False)])
def test_stage_lines_follow_the_verbosity(tmp_path: Path, emulator: EmbeddedTarget, flag: str, shown: bool) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_infra.py").write_text(TEST_FILE)
    assert emulator.endpoint_url
    env = {
        **os.environ,
        "HARNESS_RESULTS_DIR": str(tmp_path / "results"),
        "HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url,
    }
    answer = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", flag, "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout[-3000:] + answer.stderr[-3000:]
    output = answer.stdout + answer.stderr
    lines = [line for line in output.splitlines() if line.startswith("fargate-harness: basic: apply")]
    if shown:
        assert len(lines) == 2 and lines[0].endswith("...") and lines[1].endswith("s"), output[-3000:]
    else:
        assert lines == [], f"-q must show no stage line, got {lines}"
