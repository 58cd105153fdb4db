"""``make soak`` in small: 3 runs SIGKILLed at seeded random points, a sweep after each, nothing left (Ctrl-C twice
and a deadline reached have tests of their own: test_ctrl_c_twice.py, test_process_tree.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.safety.conftest import ROOT
from tools.soak import KILL_WINDOW, files_with, next_window, summary_line


def test_summary_line_and_secret_search(tmp_path: Path) -> None:
    assert summary_line(20, 0, 0, 0) == (
        "soak summary: 20 kills, 0 left after sweep, 0 files with the secret, 0 processes left"
    )
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "terraform.tfstate").write_bytes(b'{"value": "planted-value-123"}')
    (tmp_path / "a" / "terraform.log").write_text("value: ***\n")
    assert files_with("planted-value-123", tmp_path) == [tmp_path / "a" / "b" / "terraform.tfstate"]


def test_the_kill_window_shrinks_to_the_shortest_run_that_outlived_it() -> None:
    assert next_window(4.0, None) == 4.0, "a killed run says nothing about how long runs live"
    assert next_window(4.0, 3.0) == 0.9 * 3.0
    assert next_window(2.7, 3.5) == 2.7, "a longer run must not widen the window again"
    assert next_window(4.0, 0.1) == KILL_WINDOW[0], "the window never closes before its earliest point"


def test_three_kills_leave_nothing_and_no_file_with_the_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_FAULTS", "HARNESS_EMBEDDED_ENDPOINT")}
    result = subprocess.run(
        [sys.executable, "-m", "tools.soak", "--kills", "3", "--seed", "7", "--no-events", "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"soak: expected output, got none; stderr:\n{result.stderr[-2000:]}"
    assert lines[-1] == summary_line(3, 0, 0, 0), f"soak: expected a clean summary, got:\n{result.stdout[-3000:]}"
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_processes_under_sees_a_working_folder_and_an_argument(tmp_path: Path) -> None:
    """What the soak counts as left: a process working in the folder, and one naming it in its arguments."""
    from tools.soak import processes_under

    working = subprocess.Popen(["sleep", "30"], cwd=tmp_path)
    naming = subprocess.Popen(["sh", "-c", 'sleep 30; echo "$0"', str(tmp_path / "x")])
    try:
        time.sleep(0.2)
        seen = processes_under(tmp_path)
        assert f"process {working.pid} (sleep)" in seen and f"process {naming.pid} (sh)" in seen, seen
    finally:
        for process in (working, naming):
            process.kill()
            process.wait()
    assert processes_under(tmp_path) == []
