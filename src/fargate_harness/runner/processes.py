"""Processes: stopping the children the harness owns (the embedded emulator, the run's provider), reading
Linux's record of any process."""

from __future__ import annotations

import subprocess
from pathlib import Path


def terminate(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """Stop a child that may still run: SIGTERM, then SIGKILL after ``grace`` seconds; reaped either way."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold spaces and parentheses):
    index 0 is the state, 11 and 12 user and system time, 19 the start time, in clock ticks (proc(5)).
    OSError when there is no such process or no /proc."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
