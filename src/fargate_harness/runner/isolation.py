"""Isolation by the kernel: a network namespace with only loopback, for a whole emulator run.

:func:`isolate_network` moves the calling process into a new Linux network namespace whose only interface is
``lo`` (brought up), so every process it starts afterwards inherits it: Terraform, the provider plugins, a
provisioner's commands, moto's server. Nothing in there can reach any address but its own loopback, whatever
proxy settings it ignores; the network guard (:mod:`~fargate_harness.targets.netguard`) stays, inside the
namespace, to name what tried.

How: ``unshare(CLONE_NEWNET)`` when the process may (root with ``CAP_SYS_ADMIN``), else
``unshare(CLONE_NEWUSER | CLONE_NEWNET)``, an unprivileged user namespace in which the process maps its own
user and group ids to themselves (files keep their owners) and holds the capabilities a namespace of its own
needs (man 7 user_namespaces, man 7 network_namespaces, man 2 unshare). A new network namespace has ``lo``
down; it is brought up with the ``SIOCSIFFLAGS`` ioctl (man 7 netdevice).

``unshare`` moves only the calling thread, and a user namespace cannot be entered by a process with more than
one thread (``EINVAL``): it must be called while the process is single-threaded, before any emulator, guard,
parse or warm-up thread starts. It also cuts the host's loopback off: an emulator or LocalStack already
running on the host cannot be reached from inside (the embedded emulator must start after isolation), and
neither can a registry ``terraform init`` would download from. :func:`isolation_blockers` says when a run
must not be isolated.

Where isolation is not possible (not Linux, a container that forbids namespaces, threads already running),
:func:`isolate_network` says why and the run relies on the guard alone; :func:`isolation_status` gives the
one line a run prints.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Flags of unshare(2) (linux/sched.h).
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
#: ioctls of netdevice(7) (linux/sockios.h) and the "up" flag (linux/if.h).
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
#: ``struct ifreq``: a 16-byte interface name, then a 24-byte union whose first member is ``short ifr_flags``.
_IFREQ = "16sh22x"
#: ``HARNESS_NETWORK_ISOLATION=0`` (or off/false/no) turns isolation off.
ENV_SWITCH = "HARNESS_NETWORK_ISOLATION"
KERNEL = "kernel namespace (loopback only)"
GUARD_ONLY = "proxy guard only"


@dataclass(frozen=True)
class IsolationStatus:
    """Whether this process runs in a loopback-only network namespace, how, and if not, why."""

    isolated: bool
    reason: str = ""
    #: "root" (CLONE_NEWNET) or "user namespace" (CLONE_NEWUSER | CLONE_NEWNET) when isolated
    method: str = ""

    def describe(self) -> str:
        """The line a run prints once: ``network isolation: kernel namespace (loopback only)`` or
        ``network isolation: proxy guard only (<reason>)``."""
        if self.isolated:
            return f"network isolation: {KERNEL}"
        return f"network isolation: {GUARD_ONLY} ({self.reason or 'not requested'})"


_LOCK = threading.Lock()
#: What isolate_network did in this process (one element at most).
_DONE: list[IsolationStatus] = []


def isolation_status() -> IsolationStatus:
    """What :func:`isolate_network` did in this process (not isolated, "not requested", before it was called).
    A process started by an isolated one is isolated too; it learns so from :func:`in_isolated_namespace`."""
    if _DONE:
        return _DONE[0]
    if in_isolated_namespace():
        return IsolationStatus(True, method="inherited")
    return IsolationStatus(False, "not requested")


def in_isolated_namespace() -> bool:
    """True when the only network interface this process sees is ``lo`` (a namespace like the one
    :func:`isolate_network` makes; the host always has another)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return [name for _index, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


def isolation_blockers(
    target: str, *, provider_source: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """Why a run on ``target`` must not be isolated (None when it may): real AWS and LocalStack are reached
    over the network or the host's loopback; an emulator that already runs (``HARNESS_EMBEDDED_ENDPOINT``) is
    on the host's loopback; a registry provider source (``--tf-provider-source registry``) downloads during
    ``init``; ``HARNESS_NETWORK_ISOLATION=0`` turns it off."""
    env = os.environ if environ is None else environ
    if env.get(ENV_SWITCH, "").strip().lower() in ("0", "off", "false", "no"):
        return f"turned off by {ENV_SWITCH}={env[ENV_SWITCH]}"
    if target != "embedded":
        return f"--target {target} is reached over the network"
    if env.get("HARNESS_EMBEDDED_ENDPOINT"):
        return "HARNESS_EMBEDDED_ENDPOINT names an emulator on the host's loopback, which a namespace cannot reach"
    if provider_source == "registry":
        return "--tf-provider-source registry: terraform init downloads providers"
    return None


def _threads() -> int:
    """Threads of this process, as the kernel counts them (``/proc/self/task``), or 1 when unknown."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _unshare(flags: int) -> int:
    """``unshare(flags)``; 0, or the errno it failed with."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(ctypes.c_int(flags)) == 0:
        return 0
    return ctypes.get_errno() or errno.EPERM


def _map_own_ids(uid: int, gid: int) -> None:
    """In a new user namespace: map the process's user and group ids to themselves (setgroups must be denied
    before an unprivileged process may write its gid_map: man 7 user_namespaces)."""
    with contextlib.suppress(FileNotFoundError):
        Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def bring_loopback_up() -> None:
    """Set ``IFF_UP`` on ``lo`` (``SIOCGIFFLAGS`` then ``SIOCSIFFLAGS``, man 7 netdevice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        _name, flags = struct.unpack(_IFREQ, fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, request))
        if not flags & IFF_UP:
            fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | IFF_UP))


def isolate_network(*, skip: str | None = None) -> IsolationStatus:
    """Move this process (and every process it starts from now on) into a new network namespace with only
    ``lo``, up. Returns whether it did, and if not why (the run then relies on the network guard alone).

    ``skip``: a reason not to isolate (:func:`isolation_blockers`'s answer), reported as is. Calling it again
    returns the first answer. Must be called while the process has a single thread (see the module docstring).
    """
    with _LOCK:
        if not _DONE:
            _DONE.append(_isolate(skip))
        return _DONE[0]


def _isolate(skip: str | None) -> IsolationStatus:
    if skip:
        return IsolationStatus(False, skip)
    if not sys.platform.startswith("linux"):
        return IsolationStatus(False, f"{sys.platform} has no network namespaces")
    threads = max(threading.active_count(), _threads())
    if threads != 1:
        return IsolationStatus(
            False, f"{threads} threads already run in this process; a namespace must be entered before any starts"
        )
    uid, gid = os.geteuid(), os.getegid()
    method, failure = "root", _unshare(CLONE_NEWNET) if uid == 0 else errno.EPERM
    if failure:
        method, failure = "user namespace", _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        if failure:
            return IsolationStatus(
                False,
                f"the kernel refused a new network namespace ({errno.errorcode.get(failure, failure)}: "
                f"{os.strerror(failure)}); a container or sysctl may forbid (user) namespaces",
            )
        try:
            _map_own_ids(uid, gid)
        except OSError as exc:
            # the namespace exists and has no route anywhere: isolated, only without an id mapping
            method = f"user namespace (ids unmapped: {exc.strerror})"
    try:
        bring_loopback_up()
    except OSError as exc:
        ip = shutil.which("ip")
        done = ip is not None and subprocess.run([ip, "link", "set", "lo", "up"], check=False).returncode == 0
        if not done:
            # already cut off, and without lo not even the emulator is reachable: the caller must stop the run
            return IsolationStatus(False, f"in a new network namespace but `lo` could not be brought up: {exc}")
    return IsolationStatus(True, method=method)


def isolate_run(target: str, provider_source: str | None = None, *, keep: bool = False) -> IsolationStatus:
    """What the CLI and the pytest plugin call first, while single-threaded: isolate unless something blocks it
    (:func:`isolation_blockers`). With the default provider source (``auto``) the registry is probed first, as the
    toolchain would: a reachable registry means ``terraform init`` may download providers and modules, which a
    namespace would break, so the run keeps the network and relies on the guard (``--tf-provider-source
    mirror`` isolates). With ``keep`` the emulator must stay reachable from the host after the run: no namespace."""
    source = (provider_source or os.environ.get("HARNESS_PROVIDER_SOURCE") or "auto").lower()
    blocked = isolation_blockers(target, provider_source=source)
    if blocked is None and keep:
        blocked = "--keep: the kept emulator must stay reachable from the host after the run"
    if blocked is None and source == "auto":
        from fargate_harness.runner.toolchain import registry_reachable

        if registry_reachable():
            blocked = "the Terraform registry is reachable and init may download from it (--tf-provider-source mirror)"
    return isolate_network(skip=blocked)
