"""Child processes the harness starts and owns (the embedded emulator, the run's provider)."""

from __future__ import annotations

import subprocess


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
