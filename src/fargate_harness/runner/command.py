"""One Terraform command as a child process: the only place the harness starts Terraform.

Written here rather than through tftest's ``execute_command`` because a test harness must own the process:
tftest reads standard output to its end before standard error (a full error pipe blocks Terraform), leaves
Terraform running when the caller is interrupted, and starts it in the caller's process group, where a
terminal's Ctrl-C kills it in the middle of an apply with the state lock held. Here each command runs in a
session of its own under a supervisor (:func:`fargate_harness.supervisor.supervise`) that ends the whole tree with
the command and with the harness, receives the interrupt the harness received, forwarded by
:data:`~fargate_harness.processes.INTERRUPTS`, so that Terraform can write its state first, and may be given a
deadline, reached like a first interrupt.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fargate_harness import supervisor
from fargate_harness.errors import InterruptedRun, ToolchainError
from fargate_harness.processes import INTERRUPTS, kill_group, lifeline

#: Signals the supervisor handles; blocked while it starts (a blocked signal stays pending across exec), so that an
#: interrupt, or the harness's end, that comes before its handlers exist is not lost.
_HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}


@functools.cache
def supervised() -> bool:
    """Whether Terraform runs under the supervisor: on Linux (/proc, prctl and the subreaper exist)."""
    return sys.platform.startswith("linux") and Path("/proc/self/stat").exists()


def supervisor_command(argv: list[str]) -> list[str]:
    """The command line that runs ``argv`` under the supervisor, given this process's lifeline."""
    return [sys.executable, "-I", "-S", str(Path(supervisor.__file__).resolve()), str(lifeline()), *argv]


@dataclass(frozen=True)
class CommandOutput:
    """What one Terraform command printed and how it ended. ``interrupted``: SIGINT was forwarded to it;
    ``timed_out``: it reached its deadline (and was stopped as on an interrupt, or killed after the grace)."""

    retcode: int
    out: str
    err: str
    interrupted: bool = False
    timed_out: bool = False


@dataclass
class TerraformCli:
    """Terraform in one folder with one environment (``env`` may be changed between commands)."""

    tfdir: Path
    binary: Path
    env: dict[str, str] = field(default_factory=dict)
    #: Every deadline this folder's commands reached, as ``"terraform <cmd> in <folder> (<seconds>s)"``: the exit
    #: code of the command that ran them says so (124, see :func:`fargate_harness.lifecycle.exit_code`).
    reached: list[str] = field(default_factory=list)
    #: Every command of this folder the harness killed before it could finish (its deadline's grace ran out), as
    #: ``"terraform <cmd> in <folder>"``: its state may lack what it had created (see :attr:`TerraformRun.killed`).
    killed: list[str] = field(default_factory=list)

    def execute_command(
        self, cmd: str, *args: str, deadline: float | None = None, grace: float = 120.0
    ) -> CommandOutput:
        """Run ``terraform CMD ARGS`` to its end.

        On the first interrupt (KeyboardInterrupt in this thread, or :meth:`Interrupts.interrupt` from another),
        Terraform is sent SIGINT and waited for; the KeyboardInterrupt is raised again once it has exited. On the
        second, it is killed at once. :class:`InterruptedRun` when the harness was already told to stop at once.

        ``deadline``: seconds the command may run; then it is sent SIGINT as on a first interrupt (Terraform writes
        its state and exits), and killed as on a second when it is still running ``grace`` seconds later. The
        output then says ``timed_out``.
        """
        if INTERRUPTS.forced.is_set():
            raise InterruptedRun(f"`terraform {cmd}` not started: the run was stopped at once (second interrupt)")
        since = INTERRUPTS.count
        command = [str(self.binary), cmd, *args]
        held = supervised()
        if held:  # arguments reach Terraform as they are, never parsed by a shell
            command = supervisor_command(command)
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            process = subprocess.Popen(
                command,
                cwd=self.tfdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
                pass_fds=(lifeline(),) if held else (),
            )
        except OSError as exc:
            raise ToolchainError(f"cannot run Terraform ({self.binary}): {exc}") from exc
        finally:
            if held:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        INTERRUPTS.track(process, since)
        try:
            out, err, caught, timed_out = self._wait(process, cmd, deadline, grace)
        finally:
            INTERRUPTS.untrack(process)
        if caught is not None:
            raise caught
        interrupted = INTERRUPTS.requested.is_set() and process.returncode != 0
        return CommandOutput(process.returncode, out or "", err or "", interrupted and not timed_out, timed_out)

    def _wait(
        self, process: subprocess.Popen[str], cmd: str, deadline: float | None, grace: float
    ) -> tuple[str, str, KeyboardInterrupt | None, bool]:
        """Standard output and error, the first KeyboardInterrupt caught, and whether the deadline was reached."""
        caught: KeyboardInterrupt | None = None
        timed_out = False
        ends = None if deadline is None else time.monotonic() + deadline
        while True:
            try:
                out, err = process.communicate(timeout=None if ends is None else max(0.0, ends - time.monotonic()))
                return out or "", err or "", caught, timed_out
            except subprocess.TimeoutExpired:
                if not timed_out:  # the deadline: stop as on a first interrupt, then the grace
                    timed_out = True
                    self.reached.append(f"terraform {cmd} in {self.tfdir} ({deadline:g}s)")
                    with contextlib.suppress(OSError):
                        process.send_signal(signal.SIGINT)
                    ends = time.monotonic() + grace
                else:  # the grace: stop as on a second interrupt
                    self.killed.append(f"terraform {cmd} in {self.tfdir}")
                    kill_group(process)
                    ends = None
            except KeyboardInterrupt as exc:
                caught = caught or exc
                if INTERRUPTS.interrupt():  # the second: stop at once
                    kill_group(process)
                    process.wait()
                    raise
