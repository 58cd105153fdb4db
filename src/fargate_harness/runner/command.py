"""One Terraform command as a child process: the only place the harness starts Terraform.

Written here rather than through tftest's ``execute_command`` because a test harness must own the process:
tftest reads standard output to its end before standard error (a full error pipe blocks Terraform), leaves
Terraform running when the caller is interrupted, and starts it in the caller's process group, where a
terminal's Ctrl-C kills it in the middle of an apply with the state lock held. Here each command runs in a
session of its own, stops with the harness (PR_SET_PDEATHSIG, SIGTERM), and receives the interrupt the harness received,
forwarded by :data:`~fargate_harness.processes.INTERRUPTS`, so that it can write its state first.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from fargate_harness.errors import InterruptedRun, ToolchainError
from fargate_harness.processes import INTERRUPTS, kill_group, stop_with_parent

#: On Linux, Terraform runs under this small POSIX shell, the leader of a process group of its own that holds
#: Terraform and the provider plugins Terraform starts. It passes a SIGINT on to Terraform (which then writes its
#: state), and when the harness dies (PR_SET_PDEATHSIG gives the shell SIGTERM) it stops the whole group: Terraform
#: exits on SIGTERM without ending its plugins, which were left running, orphaned, after a kill -9 of the harness.
#: A shell starts a background command with SIGINT ignored; ``env --default-signal=INT`` (GNU coreutils >= 8.31)
#: gives it back (Terraform, a Go program, would take it back anyway; a stand-in script cannot).
SUPERVISOR = (
    # a SIGINT before Terraform has started (or before its pid is known) is remembered, then passed on
    "trap 'pending=1' INT\n"
    "trap 'trap - TERM; kill -s TERM 0' TERM\n"
    'env --default-signal=INT "$@" &\n'
    "child=$!\n"
    "trap 'kill -INT \"$child\" 2>/dev/null' INT\n"
    '[ -z "$pending" ] || kill -INT "$child" 2>/dev/null\n'
    "while :; do\n"
    '  wait "$child"; status=$?\n'
    '  kill -0 "$child" 2>/dev/null || exit "$status"\n'
    "done\n"
)


@functools.cache
def supervised() -> bool:
    """Whether Terraform runs under :data:`SUPERVISOR`: on Linux (where the parent-death signal exists) with a
    ``/bin/sh`` and an ``env`` that can give a signal back its default action."""
    if not sys.platform.startswith("linux") or not Path("/bin/sh").exists():
        return False
    try:
        answer = subprocess.run(["env", "--default-signal=INT", "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return answer.returncode == 0


@dataclass(frozen=True)
class CommandOutput:
    """What one Terraform command printed and how it ended. ``interrupted``: SIGINT was forwarded to it."""

    retcode: int
    out: str
    err: str
    interrupted: bool = False


@dataclass
class TerraformCli:
    """Terraform in one folder with one environment (``env`` may be changed between commands)."""

    tfdir: Path
    binary: Path
    env: dict[str, str] = field(default_factory=dict)

    def execute_command(self, cmd: str, *args: str) -> CommandOutput:
        """Run ``terraform CMD ARGS`` to its end.

        On the first interrupt (KeyboardInterrupt in this thread, or :meth:`Interrupts.interrupt` from another),
        Terraform is sent SIGINT and waited for; the KeyboardInterrupt is raised again once it has exited. On the
        second, it is killed at once. :class:`InterruptedRun` when the harness was already told to stop at once.
        """
        if INTERRUPTS.forced.is_set():
            raise InterruptedRun(f"`terraform {cmd}` not started: the run was stopped at once (second interrupt)")
        since = INTERRUPTS.count
        try:
            command = [str(self.binary), cmd, *args]
            if supervised():  # arguments reach Terraform as they are, never parsed by the shell
                command = ["/bin/sh", "-c", SUPERVISOR, "terraform", *command]
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
                preexec_fn=stop_with_parent,  # noqa: PLW1509 - prctl only, no locks taken
            )
        except OSError as exc:
            raise ToolchainError(f"cannot run Terraform ({self.binary}): {exc}") from exc
        INTERRUPTS.track(process, since)
        caught: KeyboardInterrupt | None = None
        try:
            while True:
                try:
                    out, err = process.communicate()
                    break
                except KeyboardInterrupt as exc:
                    caught = caught or exc
                    if INTERRUPTS.interrupt():  # the second: stop at once
                        kill_group(process)
                        process.wait()
                        raise
        finally:
            INTERRUPTS.untrack(process)
        if caught is not None:
            raise caught
        interrupted = INTERRUPTS.requested.is_set() and process.returncode != 0
        return CommandOutput(process.returncode, out or "", err or "", interrupted)
