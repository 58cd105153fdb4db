"""Ctrl-C twice under ``pytest -n 2``, as an impatient user presses it: the second stops at once, without a
traceback (xdist's ``teardown_nodes`` used to raise one from execnet's ``safe_terminate``), names the folders whose
state is kept for ``sweep``, exits 130, and nothing of the session is alive one second after pytest exits.

SIGINT goes to pytest's whole process group, as a terminal sends it; pytest starts with SIGINT at its default action
(``env --default-signal=INT``), since a background job of a script starts with it ignored.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.safety.test_process_tree import sleepers, slow_configuration
from tools.soak import processes_under

TEST_FILE = """
import pytest

pytestmark = pytest.mark.terraform({path!r})


def test_applied(applied):
    assert applied.outputs is not None
"""


def test_ctrl_c_twice_under_xdist_stops_at_once(tmp_path: Path) -> None:
    config = slow_configuration(tmp_path / "slow")
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    for name in ("test_one.py", "test_two.py"):  # one per worker (the plugin distributes by file)
        (repo / "tests" / name).write_text(TEST_FILE.format(path=str(config)))
    results = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_EMBEDDED_ENDPOINT", "PYTEST_XDIST_WORKER")}
    env["HARNESS_RESULTS_DIR"] = str(results)  # each worker's own emulator: it must die with the session
    args = ["env", "--default-signal=INT", sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    session = subprocess.Popen(
        [*args, "-n", "2", "tests"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while len(sleepers(results)) < 2:  # both workers are in their apply (their provisioners sleep)
            assert session.poll() is None, f"the session ended before its applies: {session.communicate()[0][-3000:]}"
            assert time.monotonic() < deadline, "the two applies did not reach their provisioners within 180 s"
            time.sleep(0.1)
        os.killpg(session.pid, signal.SIGINT)
        time.sleep(2)
        os.killpg(session.pid, signal.SIGINT)
        output, _ = session.communicate(timeout=30)
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    assert session.returncode == 130, f"expected exit 130, got {session.returncode}:\n{output[-3000:]}"
    assert "Traceback" not in output, f"a traceback after Ctrl-C twice:\n{output[-3000:]}"
    assert "stopped at once (second interrupt); the state of what was applied is kept in " in output, output[-3000:]
    assert f"fargate-harness sweep --results-dir {results}" in output, output[-3000:]
    time.sleep(1)
    assert processes_under(results) == [], f"alive 1 s after pytest exited:\n{output[-3000:]}"
