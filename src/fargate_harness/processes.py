"""Processes: the children the harness owns (Terraform, the provider, the embedded emulator), how they die with
it, how an interrupt reaches them, and Linux's record of any process.

Each Terraform command runs under :mod:`fargate_harness.supervisor`, given this process's :func:`lifeline`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1

#: ``by``: the pid of the process that forked this one, as this process knew it; ``self``: this one's (refreshed
#: at every fork Python makes, subprocess's with a ``preexec_fn`` included).
_FORK = {"by": os.getppid(), "self": os.getpid()}


def _forked() -> None:  # pragma: no cover - runs in a child right after fork
    _FORK["by"], _FORK["self"] = _FORK["self"], os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def _prctl(option: int, value: int) -> bool:
    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGKILL this child when the thread that started it ends, so that a SIGKILL-ed harness leaves
    no provider or emulator behind (prctl(2), PR_SET_PDEATHSIG). A parent that died between the fork and the
    prctl (the signal is then never sent) is seen at once: this child is no longer its parent's, and ends.
    Elsewhere it does nothing."""
    if _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) and os.getppid() != _FORK["by"]:
        os.kill(os.getpid(), signal.SIGKILL)


#: This process's lifeline: pid -> (read end, write end), made on first use (again in a forked child).
_LIFELINE: dict[int, tuple[int, int]] = {}
_LIFELINE_LOCK = threading.Lock()


def lifeline() -> int:
    """The read end of this process's lifeline: a pipe whose only write end this process holds (never inherited:
    every descriptor Python opens is close-on-exec). A supervisor given the read end sees end-of-file the moment
    this process ends, however it ends (SIGKILL included) and whichever thread started it: unlike
    PR_SET_PDEATHSIG, the pipe has no window between fork and exec and does not depend on the starting thread."""
    with _LIFELINE_LOCK:
        if os.getpid() not in _LIFELINE:
            _LIFELINE.clear()
            _LIFELINE[os.getpid()] = os.pipe()
        return _LIFELINE[os.getpid()][0]


class Interrupts:
    """The process's answer to SIGINT and SIGTERM, shared by every run in it.

    The first interrupt forwards SIGINT to every Terraform process running (each runs in a session of its own,
    so a terminal's Ctrl-C reaches only the harness) and lets each finish what it is doing: Terraform then
    writes its state and releases its lock, and the destroy that follows finds everything it created. The
    second stops at once: every Terraform process is killed and no new command starts (the state stays in the
    run's folder, for ``fargate-harness sweep``).
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.forced = threading.Event()
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[str]] = set()
        self._count = 0

    @property
    def count(self) -> int:
        """How many interrupts the process received so far."""
        return self._count

    def track(self, process: subprocess.Popen[str], since: int) -> None:
        """Watch a Terraform command just started; ``since`` is :attr:`count` from before it was started. An
        interrupt that came while it was starting (before it was tracked) reaches it now: a command is never left
        out of an interrupt by a race with its own start."""
        with self._lock:
            self._live.add(process)
            missed = self._count > since
            forced = self.forced.is_set()
        if missed and forced:
            kill_group(process)
        elif missed:
            with contextlib.suppress(OSError):
                process.send_signal(signal.SIGINT)

    def untrack(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._live.discard(process)

    def interrupt(self) -> bool:
        """Record an interrupt; True when it is the second (stop at once)."""
        with self._lock:
            live = list(self._live)
            forced = self.requested.is_set()
            (self.forced if forced else self.requested).set()
            self._count += 1
        for process in live:
            if forced:
                kill_group(process)
            else:
                with contextlib.suppress(OSError):
                    process.send_signal(signal.SIGINT)
        return forced

    def reset(self) -> None:
        """Forget earlier interrupts (for tests and for long-lived processes that ran a session already)."""
        self.requested.clear()
        self.forced.clear()
        self._count = 0


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the process group ``process`` leads (a Terraform command's: its supervisor, Terraform, the provider
    plugins and provisioners Terraform started, and any orphan of theirs the supervisor adopted)."""
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)


#: The one interrupt state of the process.
INTERRUPTS = Interrupts()


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


def descendants(root: int) -> list[int]:
    """Every living process descended from ``root`` (children first), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = stat_fields(int(entry))
            except OSError:
                continue
            if fields[0] not in ("Z", "X"):
                children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def end_descendants(grace: float = 2.0) -> list[int]:
    """SIGKILL every process descended from this one and the process group each one leads (a Terraform command's
    supervisor leads its own: plugins, provisioners and their children die with it). They are stopped (SIGSTOP)
    first until no new one appears, so nothing forks past the kill. Waits up to ``grace`` seconds for them to be
    gone; returns those still there."""
    me, stopped = os.getpid(), set[int]()
    for _ in range(20):
        new = [pid for pid in descendants(me) if pid not in stopped]
        if not new:
            break
        for pid in new:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
        stopped.update(new)
    for pid in stopped:
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pid and pid != os.getpgrp():
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    ends = time.monotonic() + grace
    while True:
        left = [pid for pid in stopped if running(pid)]
        if not left or time.monotonic() > ends:
            return left
        time.sleep(0.02)


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (from /proc)."""
    try:
        return stat_fields(pid)[0] not in ("Z", "X")
    except OSError:
        return False


def second_interrupt_stops_at_once(kept: Callable[[], str]) -> None:
    """Make the second SIGINT of this process stop everything at once: every descendant (xdist workers, their
    emulators, Terraform and everything it started) is killed (:func:`end_descendants`), the line ``kept()`` returns
    (what is kept, for ``sweep``) is printed, and the process exits 130 without unwinding: no teardown, no traceback.
    The first SIGINT raises KeyboardInterrupt, as Python's own handler does. Only in the main thread, and not when
    SIGINT is ignored (a harness started in the background keeps that)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None):
        return
    seen: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        seen.append(signum)
        if len(seen) == 1:
            raise KeyboardInterrupt
        for _ in range(2):
            with contextlib.suppress(Exception):
                INTERRUPTS.interrupt()  # no command starts; those running are killed
        left = end_descendants()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        line = kept()
        if left:
            line += f" ({len(left)} processes did not end: {', '.join(map(str, left))})"
        with contextlib.suppress(Exception):
            sys.stderr.write(f"\nfargate-harness: {line}\n")
            sys.stderr.flush()
        os._exit(130)

    signal.signal(signal.SIGINT, handler)
