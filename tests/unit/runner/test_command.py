"""The one place Terraform runs (runner.command): output, exit code, the interrupt forwarded and waited for.

A stand-in executable plays Terraform: like Terraform, it traps SIGINT, finishes what it is doing (writes a file
standing for the state) and exits 1. The real Terraform's behaviour on SIGINT is its "Interrupt received. Please
wait for Terraform to exit or data loss may occur." (https://developer.hashicorp.com/terraform/cli/commands/apply).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fargate_harness.errors import InterruptedRun
from fargate_harness.processes import INTERRUPTS
from fargate_harness.runner.command import TerraformCli

FAKE = """#!/bin/sh
echo "started $1" >&2
trap 'sleep 0.3; echo written > "$PWD/state"; echo "Interrupt received" >&2; exit 1' INT
echo $$ > "$PWD/pid"
i=0
while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo "done $1"
"""


@pytest.fixture(autouse=True)
def fresh_interrupts() -> Iterator[None]:
    INTERRUPTS.reset()
    yield
    INTERRUPTS.reset()


@pytest.fixture
def cli(tmp_path: Path) -> TerraformCli:
    binary = tmp_path / "terraform"
    binary.write_text(FAKE)
    binary.chmod(0o755)
    return TerraformCli(tmp_path, binary, dict(os.environ))


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 5
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_output_and_exit_code(tmp_path: Path) -> None:
    binary = tmp_path / "terraform"
    binary.write_text('#!/bin/sh\necho "out $1 $2"\necho "Error: bad" >&2\nexit 3\n')
    binary.chmod(0o755)
    result = TerraformCli(tmp_path, binary, dict(os.environ)).execute_command("plan", "-no-color")
    assert (result.retcode, result.out, result.err, result.interrupted) == (
        3,
        "out plan -no-color\n",
        "Error: bad\n",
        False,
    )


def test_first_interrupt_is_forwarded_and_waited_for(cli: TerraformCli, tmp_path: Path) -> None:
    """Another thread's interrupt reaches the running command as SIGINT; the command finishes its trap (its
    state written) before execute_command returns, and the output says it was interrupted."""
    answer: list[object] = []
    worker = threading.Thread(target=lambda: answer.append(cli.execute_command("apply")))
    worker.start()
    _wait_for(tmp_path / "pid")
    assert INTERRUPTS.interrupt() is False, "the first interrupt must not be the forced one"
    worker.join(10)
    assert answer, "execute_command did not return after the interrupt"
    result = answer[0]
    assert getattr(result, "interrupted", None) is True and getattr(result, "retcode", None) == 1, result
    assert (tmp_path / "state").read_text() == "written\n", "Terraform's stand-in was not let finish its state"


def test_second_interrupt_kills_and_refuses_new_commands(cli: TerraformCli, tmp_path: Path) -> None:
    answer: list[object] = []
    worker = threading.Thread(target=lambda: answer.append(cli.execute_command("destroy")))
    worker.start()
    _wait_for(tmp_path / "pid")
    INTERRUPTS.interrupt()
    started = time.monotonic()
    assert INTERRUPTS.interrupt() is True
    worker.join(10)
    assert time.monotonic() - started < 0.3 + 2, "the second interrupt must not wait for the trap"
    assert not (tmp_path / "state").exists(), "killed at once, the stand-in must not have finished its trap"
    with pytest.raises(InterruptedRun, match="stopped at once"):
        cli.execute_command("destroy")


def test_the_command_runs_in_a_session_of_its_own(cli: TerraformCli, tmp_path: Path) -> None:
    """A terminal's Ctrl-C goes to the foreground process group; Terraform must not be in it (it would die
    mid-apply, lock held), so the harness decides when it gets the signal."""
    worker = threading.Thread(target=lambda: cli.execute_command("apply"))
    worker.start()
    _wait_for(tmp_path / "pid")
    pid = int((tmp_path / "pid").read_text())
    try:
        assert os.getsid(pid) != os.getsid(0), "Terraform must not be in the harness's session"
        assert os.getpgid(pid) == os.getsid(pid), "Terraform must be in the group its supervisor leads"
    finally:
        INTERRUPTS.interrupt()
        INTERRUPTS.interrupt()
        worker.join(10)


PLUGIN_FAKE = """#!/bin/sh
sleep 300 &
echo $! > "$PWD/plugin"
trap 'exit 1' INT TERM
wait
"""

RUN_IN_CHILD = """
import os, sys
from pathlib import Path
from fargate_harness.runner.command import TerraformCli
TerraformCli(Path(sys.argv[1]), Path(sys.argv[2]), dict(os.environ)).execute_command("apply")
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_killed_harness_takes_terraform_and_its_plugins_with_it(tmp_path: Path) -> None:
    """kill -9 of the harness: Terraform and the plugin processes Terraform started itself must stop too (they
    were left running, orphaned: Terraform exits on SIGTERM without ending its plugins)."""
    binary = tmp_path / "terraform"
    binary.write_text(PLUGIN_FAKE)
    binary.chmod(0o755)
    harness = subprocess.Popen([sys.executable, "-c", RUN_IN_CHILD, str(tmp_path), str(binary)])
    try:
        _wait_for(tmp_path / "plugin")
        plugin = int((tmp_path / "plugin").read_text())
        assert _alive(plugin)
    finally:
        harness.kill()
        harness.wait()
    deadline = time.monotonic() + 10
    while _alive(plugin):
        assert time.monotonic() < deadline, f"the plugin process {plugin} outlived the killed harness"
        time.sleep(0.05)


def test_the_second_interrupt_kills_the_plugins_too(tmp_path: Path) -> None:
    binary = tmp_path / "terraform"
    binary.write_text(PLUGIN_FAKE.replace("trap 'exit 1' INT TERM", "trap '' INT"))
    binary.chmod(0o755)
    cli = TerraformCli(tmp_path, binary, dict(os.environ))
    worker = threading.Thread(target=lambda: cli.execute_command("apply"))
    worker.start()
    _wait_for(tmp_path / "plugin")
    plugin = int((tmp_path / "plugin").read_text())
    INTERRUPTS.interrupt()
    INTERRUPTS.interrupt()
    worker.join(10)
    deadline = time.monotonic() + 5
    while _alive(plugin):
        assert time.monotonic() < deadline, f"the plugin process {plugin} outlived the second interrupt"
        time.sleep(0.05)


def test_an_interrupt_that_comes_while_a_command_starts_reaches_it() -> None:
    """Under load the interrupt can come after the process exists and before it is tracked: tracking then passes
    on what it missed (and only that: a command started after the interrupt, the destroy, is left alone)."""
    from fargate_harness.processes import Interrupts

    interrupts = Interrupts()
    since = interrupts.count
    missed = subprocess.Popen(["sleep", "30"], start_new_session=True, text=True)
    interrupts.interrupt()  # the first interrupt, while `missed` was starting
    later = subprocess.Popen(["sleep", "30"], start_new_session=True, text=True)
    try:
        interrupts.track(missed, since)
        interrupts.track(later, interrupts.count)
        assert missed.wait(timeout=5) == -2, "the command that missed the interrupt must get its SIGINT"
        assert later.poll() is None, "a command started after the interrupt must not get it"
    finally:
        for process in (missed, later):
            process.kill()
            process.wait()


def _processes_in(folder: Path) -> list[int]:
    """Processes (not zombies) whose working folder is ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.readlink(proc / "cwd") == str(folder) and _alive(int(proc.name)):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _none_left(folder: Path, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while _processes_in(folder):
        assert time.monotonic() < deadline, f"{what}: processes {_processes_in(folder)} still run in {folder}"
        time.sleep(0.05)


#: Terraform as a provisioner leaves it: a child of a child that outlives Terraform in the command's group, and one
#: that left the group (``setsid``) and whose parent died, adopted by the supervisor as subreaper.
LEAVES_CHILDREN = """#!/bin/sh
sh -c 'sleep 300; echo slept' >/dev/null 2>&1 &
setsid sh -c 'sleep 301; echo slept' >/dev/null 2>&1 &
echo started > "$PWD/started"
exit 0
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the supervisor is Linux's")
def test_nothing_terraform_started_outlives_the_command(tmp_path: Path) -> None:
    """A provisioner's child still in the group when Terraform exits, and an orphan that left the group, end with
    the command (both outlived it before the supervisor ended the group and became a subreaper)."""
    binary = tmp_path / "terraform"
    binary.write_text(LEAVES_CHILDREN)
    binary.chmod(0o755)
    result = TerraformCli(tmp_path, binary, dict(os.environ)).execute_command("apply")
    assert result.retcode == 0 and (tmp_path / "started").exists(), result
    _none_left(tmp_path, 2, "after the command ended")


#: A Terraform, and a plugin, that ignore SIGTERM: only a SIGKILL ends them (the plugins a killed run left behind
#: were started after the SIGTERM reached the group, or never got it).
LINGERS = """#!/bin/sh
trap '' INT TERM
sh -c 'sleep 300; echo slept' >/dev/null 2>&1 &
echo started > "$PWD/plugin"
sleep 300
"""

KILL_HARNESS_AT = """
import os, sys, threading, time
from pathlib import Path
from fargate_harness.runner.command import TerraformCli
threading.Timer(float(sys.argv[3]), lambda: os.kill(os.getpid(), 9)).start()
TerraformCli(Path(sys.argv[1]), Path(sys.argv[2]), dict(os.environ)).execute_command("apply")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the supervisor is Linux's")
@pytest.mark.parametrize("moment", [0.0, 0.03, 0.08, 0.15, 0.4])
def test_a_harness_killed_at_any_moment_leaves_nothing(tmp_path: Path, moment: float) -> None:
    """SIGKILL of the harness while the supervisor starts, while Terraform starts, and while its plugins run: the
    lifeline's end-of-file reaches the supervisor, which ends the whole tree (within its grace for Terraform)."""
    binary = tmp_path / "terraform"
    binary.write_text(LINGERS)
    binary.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HARNESS_ORPHAN_GRACE": "0.5"}
    argv = [sys.executable, "-c", KILL_HARNESS_AT, str(tmp_path), str(binary), str(moment)]
    harness = subprocess.Popen(argv, env=env)
    assert harness.wait(timeout=30) == -9
    _none_left(tmp_path, 4, f"harness killed {moment}s in")


def test_a_deadline_stops_the_command_as_a_first_interrupt(cli: TerraformCli, tmp_path: Path) -> None:
    """At its deadline the command gets SIGINT and is let write its state; the output says it timed out."""
    started = time.monotonic()
    result = cli.execute_command("apply", deadline=0.5)
    assert result.timed_out and not result.interrupted and result.retcode == 1, result
    assert (tmp_path / "state").read_text() == "written\n", "the stand-in was not let finish its state"
    assert time.monotonic() - started < 5


def test_past_the_grace_the_command_is_killed(tmp_path: Path) -> None:
    binary = tmp_path / "terraform"
    binary.write_text(PLUGIN_FAKE.replace("trap 'exit 1' INT TERM", "trap '' INT"))  # ignores the interrupt
    binary.chmod(0o755)
    started = time.monotonic()
    result = TerraformCli(tmp_path, binary, dict(os.environ)).execute_command("apply", deadline=0.3, grace=0.5)
    assert result.timed_out and result.retcode != 0, result
    assert time.monotonic() - started < 5, "the grace must end the command"
    _none_left(tmp_path, 2, "after the grace")
