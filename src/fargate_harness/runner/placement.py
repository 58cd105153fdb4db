"""Where a run deploys: its account, its region, whether it is isolated, and the lock that serializes runs of
fixed names. Decided once, before any Terraform command, into a frozen :class:`Placement`.

The configuration is deployed as written (:mod:`fargate_harness.runner.as_written`): its own region (provider
literal, variable default, tfvars, the user's values) is kept, and the harness's ``region`` variable is given only
where the configuration gives none. On emulators it runs in the account it names by ID, or the account id given to
the run; a configuration of fixed names (no ``name_prefix``) that names none runs in a fresh account of its own.
On real AWS the credentials decide the account, and runs of fixed names wait for each other (:class:`SerialLock`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError
from fargate_harness.runner import as_written, hcl
from fargate_harness.runner.toolchain import cache_dir, file_lock
from fargate_harness.targets.base import Target

LOG = logging.getLogger("fargate_harness.runner.placement")


@dataclass(frozen=True)
class Placement:
    """Where one run deploys. ``target`` is the run's target in its account and region; ``changes`` what the
    harness changed about the deployment, one short sentence each; ``serial`` the lock key (and what it guards)
    that runs of the same fixed names share, or None; ``drop_region``: the configuration or the user gives its
    ``region`` variable a value, so the harness's is not passed."""

    target: Target
    changes: tuple[str, ...] = ()
    serial: tuple[str, str] | None = None
    drop_region: bool = False


@dataclass(frozen=True)
class Request:
    """What placement reads: the run's name, source and modules, the target it was given, the harness's variables,
    the user's var files and values by name, and the run's choices."""

    name: str
    source: Path
    modules: list[hcl.ModuleConfig]
    target: Target
    variables: Mapping[str, Any]
    prefix: str
    isolate: bool
    var_files: tuple[Path, ...] = ()
    user_variables: Mapping[str, Any] = field(default_factory=dict)
    account_id: str | None = None
    keep_region: bool = True


def place(request: Request) -> Placement:
    """The run's :class:`Placement`: its account first (:func:`_account`), then its region (:func:`_region`), from
    the values the configuration and the user give its variables (never the harness's), in Terraform's precedence."""
    values = as_written.variable_values(
        request.source, request.modules[0].variables, request.var_files, request.user_variables, environ=os.environ
    )
    target, changes, serial = _account(request, values)
    target, region_changes, drop_region = _region(request, values, target)
    return Placement(target, tuple(changes + region_changes), serial, drop_region)


def _account(
    request: Request, values: Mapping[str, as_written.Value]
) -> tuple[Target, list[str], tuple[str, str] | None]:
    """The account the run deploys into.

    On an emulator: the account id given to the run, else the account the configuration names by ID
    (:func:`~fargate_harness.runner.as_written.named_account`), reached as a role session there (moto and
    LocalStack keep every account apart and honour any role); else, for fixed names, a fresh account; else the
    target's own. Runs of fixed names in a named account are serialized per emulator and account (another run
    there would find the same names taken), not isolated: the account is what the configuration asked for. On real
    AWS the credentials decide the account: a different named account is noted, a different account id refused.
    """
    target, changes = request.target, []
    named = (
        as_written.NamedAccount(request.account_id, "the account id given to the run")
        if request.account_id
        else as_written.named_account(request.modules, dict(values))
    )
    if named is not None and named.account is None:
        changes.append(
            f"account: the configuration names several accounts ({', '.join(named.candidates)}, where "
            f"{named.origin}); none was chosen: give the one it deploys to as its account id"
        )
        named = None
    if named is not None and named.account is not None:
        if target.is_emulator:
            reached = target.in_account(named.account)
            how = (
                "the target's own account"
                if reached is target
                else f"a role session there on the {target.name} emulator"
            )
            changes.append(f"account: runs in {named.account}, the account {named.origin} names ({how})")
            serial = (
                (f"{reached.endpoint_url}|{named.account}", f"account {named.account}") if request.isolate else None
            )
            return reached, changes, serial
        actual = target.account_id()
        if actual != named.account:
            if request.account_id:
                raise ConfigurationError(
                    f"{request.name}: account id {request.account_id} was given, but the credentials of target "
                    f"{target.name} are for account {actual}; on real AWS the credentials decide the "
                    "account: use credentials of that account, or leave the account id out"
                )
            changes.append(
                f"account: {named.origin} names {named.account}, but the credentials are for {actual}, where "
                "the run deploys"
            )
    if not request.isolate:
        return target, changes, None
    if target.is_emulator:  # fixed names: a fresh emulator account
        isolated = target.isolated(request.prefix)
        if isolated is not target:
            changes.append(
                f"account: runs in a fresh {isolated.name} account ({isolated.known_account_id}): it uses fixed "
                "names (no name_prefix variable) and names no account of its own"
            )
        return isolated, changes, None
    LOG.warning("%s: fixed names (no name_prefix): waiting for other runs of %s on aws", request.name, request.source)
    return target, changes, (f"{request.source}|{target.region}", f"configuration {request.source}")


def _region(request: Request, values: Mapping[str, as_written.Value], target: Target) -> tuple[Target, list[str], bool]:
    """The region the run deploys to: the configuration's own when it gives one (the run's target, and so every
    read of the checks and the preflight, follows it), else the target's, given where the configuration reads it
    (its ``region`` variable; ``AWS_REGION`` for a provider block with no region)."""
    if not request.keep_region:
        return target, [], False
    changes: list[str] = []
    harness_region = request.variables.get("region")
    drop_region = harness_region is not None and "region" in values  # the configuration's (or the user's) stands
    if harness_region is not None and not drop_region:
        changes.append(
            f"region: variable region set to {harness_region} (the target's region): the configuration gives it "
            "no value"
        )
    setting = as_written.configured_region(request.modules[0], dict(values))
    region = setting.region
    given = setting.variable is not None and setting.variable in request.variables
    if region is None and given and not (setting.variable == "region" and drop_region):
        region = str(request.variables[str(setting.variable)])
    if region and region != target.region:
        account = target.known_account_id
        target = target.derived(region=region)
        target._account = account
    elif region is None and setting.expression is not None:
        changes.append(f"region: {setting.origin}, which the harness cannot read; its own reads use {target.region}")
    elif region is None and setting.variable is None:
        changes.append(f"region: {target.region} given as AWS_REGION: {setting.origin}")
    for block in request.modules[0].provider_blocks("aws"):
        if block.alias and not block.is_proxy and "region" not in block.arguments:
            changes.append(f'region: provider "{block.label}" sets no region; it gets {target.region} (AWS_REGION)')
    return target, changes, drop_region


@dataclass
class SerialLock:
    """Runs that would take the same fixed names, one at a time: a file lock across processes and a lock across the
    threads of this one, per key. The same thread asking twice would wait for itself: refused instead."""

    _held: dict[str, tuple[int, str]] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)

    def hold(self, key: str, what: str, name: str) -> contextlib.ExitStack:
        """Hold the lock of ``key`` until the returned stack is closed."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        with self._guard:
            holder = self._held.get(digest)
            if holder is not None and holder[0] == threading.get_ident():
                raise ConfigurationError(
                    f"{name}: {what} is in use by run {holder[1]} of this session, which uses the same fixed "
                    "names: apply the two one after the other (finish the first), or give one another account id"
                )
            lock = self._locks.setdefault(digest, threading.Lock())
        stack = contextlib.ExitStack()
        lock.acquire()
        stack.callback(lock.release)
        stack.callback(self._held.pop, digest, None)
        with self._guard:
            self._held[digest] = (threading.get_ident(), name)
        stack.enter_context(file_lock(cache_dir() / "serial" / f"{digest}.lock"))
        return stack


#: The process's serial locks: runs in any thread of this process, and through the file lock in any other.
SERIAL = SerialLock()
