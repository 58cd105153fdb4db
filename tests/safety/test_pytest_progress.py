"""Progress under pytest: with -v a line when each stage starts and ends reaches the terminal (pytest captures
the file descriptors, so a plain write to standard error was swallowed). Without -v there is none:
tests/unit/test_plugin.py::test_without_v_no_stage_line_and_no_news."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT

TEST_FILE = f"""
import pytest

pytestmark = pytest.mark.terraform({str(ROOT / "scenarios" / "basic")!r})


def test_roles(applied):
    applied.assert_trusts_only_ecs_tasks()
"""


def test_stage_lines_reach_the_terminal_with_v(tmp_path: Path, emulator: EmbeddedTarget) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_infra.py").write_text(TEST_FILE)
    assert emulator.endpoint_url
    env = {
        **os.environ,
        "HARNESS_RESULTS_DIR": str(tmp_path / "results"),
        "HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url,
    }
    answer = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "tests"],
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
    assert len(lines) == 2 and lines[0].endswith("...") and lines[1].endswith("s"), output[-3000:]
