"""A Terraform session: one folder, one environment, and every command run there.

The session owns what each command runs under: the environment (the toolchain's, the target's, never
``TF_LOG``), the network guard (every command that may call AWS goes through the target's loopback proxy), the
run's one AWS provider process (:mod:`fargate_harness.runner.provider_server`), the command log
(``terraform.log``, masked) and the retry policy. It knows nothing of what the commands are for: a run
(:mod:`fargate_harness.runner.run`) and ``terraform test`` on the emulator both run their commands through one.
What a failure means is decided by a ``diagnose`` callable the owner gives (the run's is in
:mod:`fargate_harness.runner.diagnostics`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fargate_harness.errors import InterruptedRun, StageTimeout, TerraformError
from fargate_harness.options import deadline_for
from fargate_harness.runner.command import CommandOutput, TerraformCli
from fargate_harness.runner.diagnostics import RetryPolicy
from fargate_harness.runner.masking import Masker
from fargate_harness.runner.provider_server import REATTACH_ENV, ProviderServer, configurations, plugin_binary
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.base import Target
from fargate_harness.targets.netguard import NetworkGuardError

LOG = logging.getLogger("fargate_harness.runner.session")

#: Terraform commands that never call AWS but may need the network (registry, module sources).
UNGUARDED = frozenset({"init", "providers", "version", "fmt", "validate"})

_UMASK_LOCK = threading.Lock()
_UMASK_USERS = [0]


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """While held, processes started by any thread create files as 0600 (state, plans, backups hold secrets).

    The umask is process-wide; a counter keeps it at 077 while any command runs and restores it after the
    last one.
    """
    with _UMASK_LOCK:
        if _UMASK_USERS[0] == 0:
            _UMASK_USERS.append(os.umask(0o077))
        _UMASK_USERS[0] += 1
    try:
        yield
    finally:
        with _UMASK_LOCK:
            _UMASK_USERS[0] -= 1
            if _UMASK_USERS[0] == 0:
                os.umask(_UMASK_USERS.pop())


def logged_commands(log_text: str) -> list[list[str]]:
    """The Terraform command lines a run's ``terraform.log`` records, in order, as argument lists (the lines
    :meth:`Session.command` writes: ``$ <terraform> <cmd> <args>  (attempt N)``); other lines, and ``$`` lines of
    other programs, are not commands."""
    found = []
    for line in log_text.splitlines():
        if line.startswith("$ "):
            argv = line[2:].split("  (attempt")[0].split()
            if argv and Path(argv[0]).name in ("terraform", "tofu"):
                found.append(argv)
    return found


#: Told what a failed command printed (``cmd``, stderr + stdout); raises the error that names the cause, or returns.
Diagnose = Callable[[str, str], None]
#: Given the command and the guard's refusals, the message of the :class:`NetworkGuardError` to raise.
DescribeRefusal = Callable[[str, list[object]], str]


@dataclass
class Session:
    """Terraform commands in ``tfdir`` for the run called ``name``, logged to ``log_path`` through ``masker``."""

    name: str
    tfdir: Path
    log_path: Path
    guard_key: Path
    target: Target
    toolchain: Toolchain
    masker: Masker
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    diagnose: Diagnose = field(default=lambda _cmd, _text: None, repr=False)
    describe_refusal: DescribeRefusal = field(default=lambda cmd, refusals: f"`terraform {cmd}` refused", repr=False)
    #: Attach commands to one AWS provider process when the configuration has a single AWS provider configuration.
    reattach: bool = True
    #: Retries of known-transient errors made so far.
    retries: int = 0
    #: Set when the network guard refused a request of one of the session's commands.
    refused: bool = False

    def __post_init__(self) -> None:
        env = {**os.environ, **self.toolchain.env(), **self.target.terraform_env()}
        env.pop("TF_LOG", None)  # Terraform's own debug log would carry every request, secrets included
        self.cli = TerraformCli(self.tfdir, self.toolchain.terraform, env)
        self._provider: ProviderServer | None = None

    def log(self, text: str) -> None:
        """Append ``text`` (masked) to the command log."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(self.masker(text))

    # -- the provider process ----------------------------------------------------------------------
    def start_provider(self, provider_version: str | None, module_folders: Iterable[Path]) -> None:
        """Start the session's AWS provider process when every command can share it (see
        :mod:`fargate_harness.runner.provider_server`); otherwise Terraform starts its plugins itself, as always."""
        self.stop_provider()
        if not self.reattach or not provider_version:
            return
        binary = plugin_binary(self.tfdir, version=provider_version)
        count = configurations(list(module_folders), self.tfdir)
        if binary is None or count != 1:
            LOG.debug("%s: %d AWS provider configurations: Terraform starts the provider per command", self.name, count)
            return
        guard = self.target.guard
        env = {**self.cli.env, **(guard.env() if guard is not None else {})}
        server = ProviderServer(binary, env, self.tfdir)
        if server.start():
            self._provider = server

    @property
    def provider_pid(self) -> int | None:
        """The process id of the AWS provider the commands attach to, or None (Terraform starts one per command)."""
        return self._provider.pid if self._provider is not None else None

    def stop_provider(self) -> None:
        """Stop the session's provider process, if any."""
        if self._provider is not None:
            self._provider.stop()
            self._provider = None

    # -- commands ----------------------------------------------------------------------------------
    def _env_for(self, cmd: str) -> None:
        """Route the command's requests through the network guard (never for init and other offline commands),
        and attach it to the provider process (never init: it must see and lock the real plugin)."""
        self.cli.env.pop(REATTACH_ENV, None)
        if self._provider is not None and cmd != "init":
            if not self._provider.alive:  # the guard kills a provider that left the emulator: start a new one
                self._provider.start()
            self.cli.env.update(self._provider.env())
        guard = self.target.guard
        if guard is None:
            return
        for key in guard.env():
            self.cli.env.pop(key, None)
        if cmd not in UNGUARDED:
            self.cli.env.update(guard.env())

    def _guard_check(self, cmd: str) -> None:
        guard = self.target.guard
        if guard is None:
            return
        refusals = guard.take(self.guard_key)
        if refusals:
            self.refused = True
            raise NetworkGuardError(self.masker(self.describe_refusal(cmd, list(refusals))))

    def command(
        self, cmd: str, *args: str, ok: Iterable[int] = (0,), retry: bool = True, holds_values: bool = False
    ) -> CommandOutput:
        """Run one Terraform command; retry known-transient errors; raise on any other exit.

        ``holds_values``: the command prints state or plan values (``show -json``), which hold every sensitive
        attribute in plain text (a generated password, a parameter's value); its standard output is returned
        but only its size goes to the log."""
        argv = [str(self.toolchain.terraform), cmd, *args]
        attempts = self.retry.attempts if retry else 1
        self._env_for(cmd)
        for attempt in range(1, attempts + 1):
            self.log(f"\n$ {' '.join(argv)}  (attempt {attempt})\n")
            deadline, grace = deadline_for(cmd)
            with private_files():
                result = self.cli.execute_command(cmd, *args, deadline=deadline, grace=grace)
            code, out, err = result.retcode, result.out or "", result.err or ""
            shown = f"[{len(out)} characters of state or plan values, not logged]\n" if holds_values and out else out
            self.log(shown + err + f"\n[exit {code}]\n")
            self._guard_check(cmd)
            if getattr(result, "timed_out", False):
                raise StageTimeout(
                    f"{self.name}: `terraform {cmd}` reached its deadline ({cmd}={deadline:g}s, --tf-timeout) and was "
                    f"stopped as on Ctrl-C; {self.masker(err.strip()[-500:])}",
                    cmd,
                )
            if code in ok:
                return result
            if getattr(result, "interrupted", False):  # a stand-in of execute_command may not say
                raise InterruptedRun(
                    f"{self.name}: `terraform {cmd}` was interrupted; {self.masker(err.strip()[-500:])}"
                )
            why = self.retry.reason(err + out, self.target.is_emulator)
            if why and attempt < attempts:
                self.retries += 1
                LOG.warning(
                    "%s: retrying `terraform %s` (%s), attempt %d of %d", self.name, cmd, why, attempt + 1, attempts
                )
                time.sleep(self.retry.pause_seconds)
                continue
            # diagnosed on the masked text: its message, and the arguments a traceback shows, never hold a secret
            self.diagnose(cmd, self.masker(err + out))
            raise TerraformError(argv, code, self.masker(err), self.masker(out))
        raise AssertionError("unreachable")

    def pause_and_count(self, why: str, what: str) -> None:
        """One retry decided by the caller (not by :meth:`command`): logged, counted, paused."""
        self.retries += 1
        LOG.warning("%s: retrying %s (%s)", self.name, what, why)
        time.sleep(self.retry.pause_seconds)
