"""The harness's own process records (processes.py): the lifeline, and who forked whom."""

from __future__ import annotations

import os
import sys

import pytest

from fargate_harness import processes


def test_the_lifeline_is_one_pipe_never_inherited() -> None:
    """One read end per process, close-on-exec at both ends: a supervisor is given the read end explicitly, and no
    other child may hold the write end (the end-of-file would then never come)."""
    read = processes.lifeline()
    assert processes.lifeline() == read
    ((_pid, (read_end, write_end)),) = processes._LIFELINE.items()
    assert read_end == read
    assert not os.get_inheritable(read_end) and not os.get_inheritable(write_end)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and prctl are Linux's here")
def test_a_forked_child_knows_who_forked_it() -> None:
    """die_with_parent compares the parent it has after the prctl with the one that forked it: a parent that died
    in between (the parent-death signal is then never sent) is seen, and the child ends."""
    parent = os.getpid()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os._exit(0 if processes._FORK["by"] == parent and processes._FORK["self"] == os.getpid() else 1)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child's record of who forked it is wrong"
    assert processes._FORK["self"] == parent


ENDS_ITS_TREE = """
import subprocess, sys, time
from fargate_harness.processes import end_descendants
# a child, a grandchild in a session of its own (as a Terraform command's supervisor), and its own child
subprocess.Popen(["sleep", "300"])
subprocess.Popen(["sh", "-c", "sleep 301 & sleep 302"], start_new_session=True)
time.sleep(0.3)
print(end_descendants(grace=3))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_end_descendants_leaves_nothing_of_the_tree() -> None:
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-c", ENDS_ITS_TREE]
    run = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30, check=False)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
