"""One AWS provider process per run, which every Terraform command of that run attaches to.

Terraform normally starts a fresh provider plugin for each walk of each command (validate, plan, apply,
the refresh of a destroy, ``show``): for hashicorp/aws that is a 170 MB binary building its whole schema
every time, about a second of CPU each, and most of a small configuration's wall time on an emulator.
Terraform's documented alternative is ``TF_REATTACH_PROVIDERS``: a provider started in debug mode
(``terraform-provider-aws -debug``) prints the value to set, and Terraform then talks to that process
instead of starting one (developer docs, "Debugging Providers"). The requests, the provider code and
the state are the same; only the process is reused.

One process serves one provider *configuration* safely: the SDK keeps the last ``ConfigureProvider``'s
client, so two configurations (an alias, a provider block in a child module) attached to one process
would overwrite each other's region, credentials and endpoints. :func:`configurations` counts them and
the runner attaches only when there is exactly one; every other configuration runs as Terraform would
run it by itself. A provider that cannot serve in debug mode (older releases) is simply not attached.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import selectors
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from fargate_harness.processes import die_with_parent, terminate
from fargate_harness.runner import hcl

LOG = logging.getLogger("fargate_harness.runner.provider_server")
#: The variable Terraform reads, and the line a provider in debug mode prints with its value.
REATTACH_ENV = "TF_REATTACH_PROVIDERS"
_REATTACH_LINE = re.compile(REATTACH_ENV + r"='(\{.*\})'")
#: Seconds a provider gets to print its reattach line (about 1 s for aws 3.x on these machines).
START_TIMEOUT = 60.0


def configurations(calls: Iterable[Path], root: Path, provider: str = "aws") -> int:
    """How many ``provider`` configurations Terraform creates for an initialised ``root`` whose module calls,
    root first and one entry per call, are ``calls`` (:func:`fargate_harness.runner.overrides.module_calls`).

    The root always has the default one (declared or not: the harness's override declares it) plus one per
    alias; every non-proxy block in a called module is one more, so a module with its own block called
    twice counts twice (Terraform forbids ``count``/``for_each`` on such calls, so a call is one instance).
    """
    root = root.resolve()
    found = 0
    for folder in calls:
        blocks = hcl.read_module(folder).provider_blocks(provider)
        if folder == root:  # in the root even an alias-only block is a configuration of its own
            found += len({("aws", None)} | {(b.name, b.alias) for b in blocks})
        else:
            found += len([b for b in blocks if not b.is_proxy])
    return found


def plugin_binary(root: Path, provider: str = "hashicorp/aws", version: str | None = None) -> Path | None:
    """The plugin ``init`` installed for ``provider`` under ``root/.terraform/providers``, or None."""
    namespace, name = provider.split("/")
    pattern = f"*/{namespace}/{name}/{version or '*'}/*/terraform-provider-{name}*"
    found = sorted((root / ".terraform" / "providers").glob(pattern))
    return found[0] if found else None


class ProviderServer:
    """A provider plugin started in debug mode in ``cwd`` with ``env``; :meth:`env` attaches Terraform to it.

    ``cwd`` is the run's copy of the configuration, so the network guard attributes any refused request of
    the provider to the run, as it would for a plugin Terraform started there.
    """

    def __init__(self, binary: Path, env: Mapping[str, str], cwd: Path) -> None:
        self.binary, self.cwd = binary, cwd
        self._env = dict(env)
        self._env.pop(REATTACH_ENV, None)
        self._process: subprocess.Popen[bytes] | None = None
        self._reattach = ""

    @property
    def alive(self) -> bool:
        """True while the provider process runs (the network guard kills a provider that left the emulator)."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The provider's process id while it runs."""
        return self._process.pid if self.alive and self._process is not None else None

    def start(self, timeout: float = START_TIMEOUT) -> bool:
        """Start the provider and read its reattach line; False (nothing left running) when it cannot serve
        in debug mode."""
        self.stop()
        started = time.perf_counter()
        # the child dies with the thread that starts it (PDEATHSIG: a run's lifecycle stays in one thread);
        # start_new_session keeps a Ctrl-C in the terminal from killing it before the destroy that needs it
        process = subprocess.Popen(  # the binary init installed, no shell
            [str(self.binary), "-debug"],
            cwd=self.cwd,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - prctl only, no locks taken
            start_new_session=True,
        )
        assert process.stdout is not None
        line = _read_reattach(process, timeout)
        if line is None:
            with contextlib.suppress(OSError):
                process.kill()
            process.wait()
            LOG.info("%s cannot serve in debug mode: Terraform starts it per command", self.binary.name)
            return False
        self._process, self._reattach = process, line
        threading.Thread(target=_drain, args=(process,), name="provider-output", daemon=True).start()
        LOG.debug("provider %s serving as pid %d (%.2fs)", self.binary.name, process.pid, time.perf_counter() - started)
        return True

    def env(self) -> dict[str, str]:
        """``TF_REATTACH_PROVIDERS`` for a Terraform command, or {} when the provider is not running."""
        return {REATTACH_ENV: self._reattach} if self.alive else {}

    def stop(self) -> None:
        """Stop the provider (SIGTERM, then SIGKILL after 5 s)."""
        process, self._process, self._reattach = self._process, None, ""
        terminate(process, grace=5)


def _read_reattach(process: subprocess.Popen[bytes], timeout: float) -> str | None:
    """The JSON value of the reattach line the provider prints, or None (exited, or silent for ``timeout``)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffered = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                return None  # the provider exited (no debug mode)
            buffered += chunk
            match = _REATTACH_LINE.search(buffered.decode("utf-8", "replace"))
            if match:
                try:
                    json.loads(match.group(1))  # a value Terraform could not parse would fail every command
                except ValueError:
                    return None
                return match.group(1)
    return None


def _drain(process: subprocess.Popen[bytes]) -> None:
    """Read and drop the provider's output (without ``TF_LOG`` Terraform shows none of it either), so a
    full pipe never blocks it."""
    assert process.stdout is not None
    with contextlib.suppress(OSError, ValueError):
        while process.stdout.read(65536):
            pass
