"""The supervisor each Terraform command runs under: ``python -I -S supervisor.py FD terraform ARGS...``.

It imports nothing but a few modules of the standard library (it starts in a few milliseconds, without the package
on the path), and nothing of the package imports it: :mod:`fargate_harness.runner.command` runs it by its path.
See :func:`supervise`.
"""

from __future__ import annotations

import ctypes
import os
import select
import time

TYPE_CHECKING = False  # typing, too, would cost start-up time
if TYPE_CHECKING:
    import signal
else:  # the C module: ``signal`` would import enum, a third of the start-up
    import _signal as signal

_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _kill(pid: int, signum: int) -> None:
    try:  # noqa: SIM105 - contextlib would cost start-up time
        os.kill(pid, signum)
    except OSError:
        pass


def _stat(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` after the command name: state, ppid, pgrp... (proc(5))."""
    with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
        return handle.read().rsplit(")", 1)[1].split()


#: Seconds Terraform gets, once the harness is gone, to stop as on an interrupt (SIGTERM: it writes its state,
#: which ``sweep`` reads) before everything left of the command is killed. Short: nobody waits for it, and an apply
#: left running would go on creating what a sweep started meanwhile cannot see.
ORPHAN_GRACE = float(os.environ.get("HARNESS_ORPHAN_GRACE") or 5.0)


def _group_and_children() -> list[int]:
    """Every process of this process's group, and every child of this process (orphans adopted as subreaper),
    but this process itself."""
    me, group = os.getpid(), os.getpgrp()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            fields = _stat(int(entry))
        except OSError:
            continue
        if fields[0] not in ("Z", "X") and (int(fields[1]) == me or int(fields[2]) == group):
            found.append(int(entry))
    return found


def _end_all() -> None:  # pragma: no cover - runs in the supervisor
    """SIGKILL everything of the command but the supervisor, reap it, until nothing is left."""
    for _ in range(50):
        left = _group_and_children()
        for pid in left:
            _kill(pid, signal.SIGKILL)
        _reap()
        if not left:
            return
        time.sleep(0.02)


def _reap() -> dict[int, int]:
    """Collect every child that ended: pid -> wait status."""
    ended: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended[pid] = status


class _Supervisor:  # pragma: no cover - runs in its own process (the tests run it so)
    """See :func:`supervise`."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.child = 0
        self.pending: list[int] = []
        self.wake, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGINT, self._on_interrupt)
        signal.signal(signal.SIGTERM, lambda _signum, _frame: self.pending.append(signal.SIGTERM))
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)  # wakes the select below
        signal.pthread_sigmask(signal.SIG_SETMASK, set())

    def _on_interrupt(self, _signum: int, _frame: object) -> None:
        if self.child:
            _kill(self.child, signal.SIGINT)
        else:
            self.pending.append(signal.SIGINT)

    def harness_gone(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a signal or the lifeline; True when the harness has ended."""
        readable, _, _ = select.select([self.line, self.wake], [], [], timeout)
        if self.wake in readable:
            os.read(self.wake, 512)
        if signal.SIGTERM in self.pending:
            return True
        return self.line in readable and not os.read(self.line, 1)

    def run(self, argv: list[str]) -> int:
        if self.harness_gone(0):
            return 128 + signal.SIGTERM
        try:
            self.child = os.posix_spawn(argv[0], argv, os.environ)
        except OSError as exc:
            os.write(2, f"cannot run {argv[0]}: {exc}\n".encode())
            return 127
        if signal.SIGINT in self.pending:
            os.kill(self.child, signal.SIGINT)
        status = self.wait()
        _end_all()
        if status is None:
            return 128 + signal.SIGKILL
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code

    def wait(self) -> int | None:
        """Terraform's wait status; None when it was still running :data:`ORPHAN_GRACE` seconds after the harness
        ended (it was sent SIGTERM, with its plugins, when that was seen)."""
        gone_at: float | None = None
        while True:
            status = _reap().get(self.child)
            if status is not None:
                return status
            if gone_at is None:
                if self.harness_gone(1.0):
                    gone_at = time.monotonic()
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                    _kill(-os.getpgrp(), signal.SIGTERM)  # Terraform stops as on an interrupt; its plugins end
            elif time.monotonic() - gone_at > ORPHAN_GRACE:
                return None
            else:
                self.harness_gone(0.2)


def supervise(line: int, argv: list[str]) -> int:  # pragma: no cover - runs in its own process (tests run it so)
    """Run ``argv`` (Terraform) as a child of this process, the leader of the command's process group and a child
    subreaper (prctl(2), PR_SET_CHILD_SUBREAPER: a provider or provisioner child whose parent died is adopted here
    rather than by init). Returns Terraform's exit code (128 + N when signal N ended it).

    - SIGINT (the harness forwards an interrupt) goes to Terraform, which stops gracefully and writes its state; one
      that came before Terraform started is passed on once it has.
    - When Terraform exits, everything left of the command (a provisioner's child, a plugin, an adopted orphan) is
      killed: nothing outlives the command.
    - When the harness ends, however it ends (end-of-file on the lifeline ``line``; SIGTERM also counts), Terraform
      and its plugins get SIGTERM and :data:`ORPHAN_GRACE` seconds, then everything is killed.

    The harness starts it with SIGINT, SIGTERM and SIGCHLD blocked; they are unblocked once handled here, so none
    is lost while Python starts.
    """
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    os.set_inheritable(line, False)
    return _Supervisor(line).run(argv)


if __name__ == "__main__":  # pragma: no cover - the supervisor's own process
    import sys

    sys.exit(supervise(int(sys.argv[1]), sys.argv[2:]))
