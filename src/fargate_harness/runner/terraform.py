"""One configuration's run: the work folder, the Terraform commands and what they left (state, outputs).

A :class:`ScenarioRun` copies any root configuration (and the local modules it sources) into a work
folder, replaces its backend with a local one, writes the provider override into every module copy that
has a ``provider "aws"`` block (emulator targets), gives the harness's variables in a generated
``-var-file``, and runs init / apply / plan / output / destroy (:mod:`~fargate_harness.runner.command`) with
``-input=false -no-color``. Any non-zero exit raises :class:`~fargate_harness.errors.TerraformError` (or a
:class:`~fargate_harness.errors.ConfigurationError` when the cause is the configuration or the toolchain);
errors the retry table calls transient are retried a bounded number of times, each retry logged with its
reason; fatal ones never are (:mod:`~fargate_harness.runner.diagnostics`). The copy itself is
:mod:`~fargate_harness.runner.workspace`; what a test asserts on an applied run,
:class:`fargate_harness.checks.AppliedRun`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from fargate_harness.errors import ConfigurationError, HarnessError, InterruptedRun, StageTimeout, TerraformError
from fargate_harness.model.inventory import Inventory, managed_resources
from fargate_harness.options import deadline_for, run_id, validate_arn_option
from fargate_harness.runner import as_written, hcl, provider_schema, workspace
from fargate_harness.runner.command import CommandOutput, TerraformCli
from fargate_harness.runner.diagnostics import (
    APPLY_PLAN,
    INIT_PROBLEMS,
    INVALID_VARIABLE_ERROR,
    UNSET_VARIABLE_ERROR,
    RetryPolicy,
    check_resource_limit,
    empty_lookups,
    failed_objects,
    fatal,
    not_idempotent,
    unknown_argument,
)
from fargate_harness.runner.masking import (
    Masker,
    check_sizes,
    given_values,
    protect_var_files,
    redact_file,
    secret_forms,
    var_files_under,
)
from fargate_harness.runner.netguard import NetworkGuardError, refusal_message, refuse_user_overrides
from fargate_harness.runner.provider_server import REATTACH_ENV, ProviderServer, configurations, plugin_binary
from fargate_harness.runner.toolchain import Toolchain, cache_dir, file_lock
from fargate_harness.targets.base import Target

LOG = logging.getLogger("fargate_harness.runner.terraform")


#: The harness's provider override. Terraform merges override files in lexical order of their names, the last one
#: winning (https://developer.hashicorp.com/terraform/language/files/override): the name sorts after the
#: override files users write (``override.tf``, ``<x>_override.tf``); one that still sorts later and configures
#: where requests go is refused (:func:`fargate_harness.runner.netguard.refuse_user_overrides`).
OVERRIDE_FILE = "zz_harness_override.tf"
#: Replaces the configuration's backend (``s3``, ``remote``, ``cloud``...) with a local one in the copy.
BACKEND_OVERRIDE_FILE = "harness_backend_override.tf"
#: The harness's own variable values: the first ``-var-file``, so they beat ``terraform.tfvars`` and
#: ``*.auto.tfvars`` (Terraform reads command-line var files after those, in order).
HARNESS_VAR_FILE = "harness.tfvars.json"
#: Values the user gave by name (``--var NAME=VALUE``, fixture keywords): the last ``-var-file``.
USER_VAR_FILE = "harness-user.tfvars"
#: What the runner records about a run as soon as it starts (for the sweeper of killed runs).
MANIFEST_FILE = workspace.MANIFEST_FILE
#: The work copy lives in :mod:`fargate_harness.runner.workspace`; the old names stay importable from here.
copy_configuration = workspace.copy_configuration
local_module_dirs = workspace.local_module_dirs
#: Terraform commands that never call AWS but may need the network (registry, module sources).
_UNGUARDED = frozenset({"init", "providers", "version", "fmt", "validate"})

#: Registry addresses of the AWS provider in a lock file (Terraform's and OpenTofu's registries).
_LOCK_AWS_SUFFIXES = ("registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws")
_UMASK_LOCK = threading.Lock()
#: Told of each stage of a run: ``(configuration, stage, None)`` when it starts, ``(..., seconds)`` when it ends.
Progress = Callable[[str, str, "float | None"], None]
_UMASK_USERS = [0]
#: Serialized runs (:meth:`ScenarioRun._serialize`): lock key -> (thread, run) holding it in this process.
_HELD: dict[str, tuple[int, str]] = {}
_HELD_LOCK = threading.Lock()
_THREAD_LOCKS: dict[str, threading.Lock] = {}
#: The topics of the sentences :meth:`ScenarioRun.init_override` writes into ``changes``.
_OVERRIDE_TOPICS = ("endpoints:", "tags:")


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


def provider_aliases(module_dir: Path) -> list[str]:
    """Aliases of the ``provider "aws"`` blocks in one module folder's own files."""
    return [p.alias for p in hcl.read_module(module_dir).provider_blocks("aws") if p.alias]


def selected_provider_version(root_module: Path) -> str | None:
    """The AWS provider version ``init`` recorded in ``.terraform.lock.hcl`` (read as HCL), or None."""
    lock = root_module / ".terraform.lock.hcl"
    if not lock.is_file():
        return None
    for name, body in hcl.provider_locks(lock).items():
        if name.endswith(_LOCK_AWS_SUFFIXES) and body.get("version"):
            return str(body["version"])
    return None


def module_calls(root_copy: Path) -> list[Path]:
    """The root's folder, then the folder of every module call ``init`` recorded in ``modules.json`` (local
    and downloaded), one entry per call: two calls of one local module name its folder twice."""
    manifest = root_copy / ".terraform" / "modules" / "modules.json"
    folders = [root_copy.resolve()]
    if manifest.is_file():
        for entry in json.loads(manifest.read_text()).get("Modules") or []:
            if entry.get("Key"):  # "" is the root itself
                folders.append((root_copy / str(entry.get("Dir") or ".")).resolve())
    return folders


def installed_modules(root_copy: Path) -> list[Path]:
    """Every module folder ``init`` installed for a root, root first, each once."""
    return list(dict.fromkeys(module_calls(root_copy)))


def logged_commands(log_text: str) -> list[list[str]]:
    """The Terraform command lines a run's ``terraform.log`` records, in order, as argument lists (the lines
    :meth:`ScenarioRun._command` writes: ``$ <terraform> <cmd> <args>  (attempt N)``); other lines, and ``$``
    lines of other programs, are not commands."""
    found = []
    for line in log_text.splitlines():
        if line.startswith("$ "):
            argv = line[2:].split("  (attempt")[0].split()
            if argv and Path(argv[0]).name in ("terraform", "tofu"):
                found.append(argv)
    return found


def _hcl_string(value: str) -> str:
    """An HCL string literal: JSON escapes, and template sequences ``${`` / ``%{`` escaped."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def user_var_file_text(values: Mapping[str, Any], declared: Mapping[str, hcl.Variable]) -> str:
    """A ``.tfvars`` file for values given by name, with ``-var`` semantics.

    Strings for primitive-typed (or untyped) variables are taken literally, as ``-var NAME=VALUE`` does;
    strings for collection or object types are HCL expressions (``-var 'ids=["a","b"]'``); other Python
    values are written as JSON, which is valid HCL.
    """
    lines = []
    for name, value in values.items():
        variable = declared[name]
        if isinstance(value, str):
            lines.append(f"{name} = {_hcl_string(value) if variable.is_primitive else value}")
        else:
            lines.append(f"{name} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


@dataclass
class ScenarioRun:
    """One configuration applied on one target: copy, init, apply, idempotency plan, outputs, destroy.

    ``source`` is any Terraform root folder. ``variables`` are the harness's values (prefix, secret,
    region...; only those the root declares are passed), ``var_files`` the user's, in order, and
    ``user_variables`` values given by name (they win over both). ``overlays`` are extra files (for example
    ``*_override.tf``) copied into the root of the copy. ``workdir`` lives under ``results_dir``; it is
    removed after a clean destroy and kept (state, logs, outputs) whenever something failed, or with ``keep``.

    A configuration that does not declare ``name_prefix`` cannot have unique names: on emulator targets it
    runs in a fresh account of its own (``isolate``: None decides so), on real AWS runs of it are serialized.

    The configuration is deployed as written (:mod:`fargate_harness.runner.as_written`): its own region (provider
    literal, variable default, tfvars, the user's values) is kept, and the harness's ``region`` variable is given
    only where the configuration gives none (``keep_region`` False imposes it: the reference scenarios deploy
    where the target is). On emulators it runs in the account it names by ID, or ``account_id`` when given. Its
    own ``default_tags`` are kept, with the ownership tags merged in. :attr:`changes` says, in short sentences,
    what the harness changed about the deployment; the run's manifest (``run.json``) records them.
    """

    source: Path
    target: Target
    toolchain: Toolchain
    prefix: str
    results_dir: Path
    variables: dict[str, Any] = field(default_factory=dict, repr=False)
    sensitive: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    keep: bool = False
    label: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    masker: Masker = field(default_factory=Masker, repr=False)
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)
    resources: list[str] = field(default_factory=list, repr=False)
    provider_version: str | None = None
    failed: bool = False
    applied: bool = False
    var_files: tuple[Path, ...] = ()
    user_variables: dict[str, Any] = field(default_factory=dict, repr=False)
    overlays: tuple[Path, ...] = ()
    isolate: bool | None = None
    progress: Progress | None = field(default=None, repr=False)
    retries: int = 0
    apply_error: str = ""
    #: What the checks read once per applied state (:class:`fargate_harness.checks.Reads`; None again after apply).
    reads: object | None = field(default=None, repr=False)
    #: Keyword options of every preflight of this run (``images="assume-pushed"``, ``deployer=ARN``...).
    preflight_options: dict[str, Any] = field(default_factory=dict)
    #: Set on a batch member's view (:meth:`member_view`): the batch's run, which alone applies and destroys.
    member_of: ScenarioRun | None = field(default=None, repr=False)
    #: Attach every command to one AWS provider process of this run (:mod:`fargate_harness.runner.provider_server`) when
    #: the configuration has a single AWS provider configuration; ``HARNESS_PROVIDER_REATTACH=0`` turns it off.
    reattach: bool = field(default_factory=lambda: os.environ.get("HARNESS_PROVIDER_REATTACH", "1") != "0")
    #: The account to deploy into on an emulator, over the one the configuration names (``--account-id``).
    account_id: str | None = None
    #: Keep the configuration's own region (False: the harness's ``region`` variable is imposed, as for the
    #: reference scenarios, which deploy in the target's region).
    keep_region: bool = True
    #: What the harness changed about the deployment, one short sentence each (also in ``run.json``).
    changes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.source = self.source.resolve()
        if not (self.source.is_dir() and hcl.config_files(self.source)):
            raise ConfigurationError(
                f"{self.source} is not a Terraform root module (no .tf or .tf.json files); give the folder "
                "that holds the configuration"
            )
        self.modules = hcl.walk(self.source)
        self.declared = self.modules[0].variables
        self.name = self.label or self.source.name
        self.workdir = self.results_dir / f"{self.name.replace('/', '-')}-{self.prefix}"
        self.log_path = self.workdir / "terraform.log"
        self.tfdir = self.workdir
        self._tf: TerraformCli | None = None
        self._state: dict[str, Any] | None = None
        self._inventory: Inventory | None = None
        self._serial: contextlib.ExitStack | None = None
        self._schema: provider_schema.ProviderSchema | None = None
        self._provider: ProviderServer | None = None
        #: The last plan refreshed every object and wanted no change, and nothing was applied since: the state
        #: is what the emulator holds, so the destroy need not read every object again (see :meth:`destroy`).
        self._settled = False
        self.var_files = tuple(Path(f).resolve() for f in self.var_files)
        for path in self.var_files:
            if not path.is_file():
                raise ConfigurationError(f"{self.name}: var file {path} does not exist")
        undeclared = sorted(set(self.user_variables) - set(self.declared))
        if undeclared:
            raise ConfigurationError(
                f"{self.name}: variable(s) {', '.join(undeclared)} are not declared in {self.source}; declared: "
                f"{', '.join(sorted(self.declared)) or 'none'}"
            )
        if self.isolate is None:
            self.isolate = "name_prefix" not in self.declared
        if self.account_id is not None and not as_written.ACCOUNT.fullmatch(self.account_id):
            raise ConfigurationError(
                f"{self.name}: account id {self.account_id!r} is not a 12-digit AWS account ID; give the account to "
                "deploy into as 12 digits (--account-id 123456789012)"
            )
        if self.target.is_emulator:
            refuse_user_overrides(self.name, self.modules, OVERRIDE_FILE)
        # every value of a sensitive variable, from every source Terraform reads, is masked before any command
        # runs (a provider error may echo it); any value too large for a provider's messages stops the run here
        for name in self.sensitive:
            if name in self.variables:
                self.masker.add(*secret_forms(self.variables[name]))
        given = given_values(self.source, self.var_files, self.user_variables)
        check_sizes(self.name, [value for value in given if value.name in self.declared])  # Terraform ignores others
        for value in given:
            if value.name in self.sensitive or self._is_sensitive(value.name):
                self.masker.add(*secret_forms(value.value))

    # -- plumbing ---------------------------------------------------------------------------------
    def _log(self, text: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(self.masker(text))

    def _env_for(self, cmd: str) -> None:
        """Route the command's requests through the network guard (never for init and other offline commands),
        and attach it to the run's provider process (never init: it must see and lock the real plugin)."""
        assert self._tf is not None
        self._tf.env.pop(REATTACH_ENV, None)
        if self._provider is not None and cmd != "init":
            if not self._provider.alive:  # the guard kills a provider that left the emulator: start a new one
                self._provider.start()
            self._tf.env.update(self._provider.env())
        guard = self.target.guard
        if guard is None:
            return
        for key in guard.env():
            self._tf.env.pop(key, None)
        if cmd not in _UNGUARDED:
            self._tf.env.update(guard.env())

    def _start_provider(self) -> None:
        """Start the run's AWS provider process when every command can share it (see
        :mod:`fargate_harness.runner.provider_server`); otherwise Terraform starts its plugins itself, as always."""
        self._stop_provider()
        if not self.reattach or self._tf is None or not self.provider_version:
            return
        binary = plugin_binary(self.tfdir, version=self.provider_version)
        count = configurations(module_calls(self.tfdir), self.tfdir)
        if binary is None or count != 1:
            LOG.debug("%s: %d AWS provider configurations: Terraform starts the provider per command", self.name, count)
            return
        guard = self.target.guard
        env = {**self._tf.env, **(guard.env() if guard is not None else {})}
        server = ProviderServer(binary, env, self.tfdir)
        if server.start():
            self._provider = server

    @property
    def provider_pid(self) -> int | None:
        """The process id of the AWS provider this run's commands attach to, or None (Terraform starts one
        per command: several provider configurations, reattach off, or a provider without debug mode)."""
        return self._provider.pid if self._provider is not None else None

    def _stop_provider(self) -> None:
        if self._provider is not None:
            self._provider.stop()
            self._provider = None

    def _guard_check(self, cmd: str) -> None:
        guard = self.target.guard
        if guard is None:
            return
        refusals = guard.take(self.workdir)
        if refusals:
            self.failed = True
            endpoints = self._schema.endpoints if self._schema is not None else ()
            states = tuple(
                f"data.terraform_remote_state.{label} in {module.path}"
                for module in self.modules
                for kind, label in module.data_sources
                if kind == "terraform_remote_state"
            )
            message = refusal_message(
                self.name, cmd, refusals, endpoints, tuple(self.unredirected_blocks()), remote_states=states
            )
            raise NetworkGuardError(self.masker(message))

    def unredirected_blocks(self) -> list[str]:
        """``provider "aws"`` blocks of the copy whose module folder holds no emulator override, as
        ``<label> in <file>`` (relative to the original configuration where possible)."""
        found = []
        for folder in installed_modules(self.tfdir):
            blocks = [b for b in hcl.read_module(folder).provider_blocks("aws") if not b.is_proxy]
            if blocks and not (folder / OVERRIDE_FILE).is_file():
                for block in blocks:
                    where = block.file
                    with contextlib.suppress(ValueError):
                        where = self.source / where.relative_to(self.tfdir)
                    found.append(f'provider "{block.name}" ({block.label}) in {where}')
        return found

    def _command(
        self, cmd: str, *args: str, ok: Iterable[int] = (0,), retry: bool = True, holds_values: bool = False
    ) -> CommandOutput:
        """Run one Terraform command in the copy; retry known-transient errors; raise on any other exit.

        ``holds_values``: the command prints state or plan values (``show -json``), which hold every sensitive
        attribute in plain text (a generated password, a parameter's value); its standard output is returned
        but only its size goes to ``terraform.log``."""
        assert self._tf is not None, "prepare() first"
        argv = [str(self.toolchain.terraform), cmd, *args]
        attempts = self.retry.attempts if retry else 1
        self._env_for(cmd)
        for attempt in range(1, attempts + 1):
            self._log(f"\n$ {' '.join(argv)}  (attempt {attempt})\n")
            deadline, grace = deadline_for(cmd)
            with private_files():
                result = self._tf.execute_command(cmd, *args, deadline=deadline, grace=grace)
            code, out, err = result.retcode, result.out or "", result.err or ""
            shown = f"[{len(out)} characters of state or plan values, not logged]\n" if holds_values and out else out
            self._log(shown + err + f"\n[exit {code}]\n")
            self._guard_check(cmd)
            if result.timed_out:
                raise StageTimeout(
                    f"{self.name}: `terraform {cmd}` reached its deadline ({cmd}={deadline:g}s, --tf-timeout) and was "
                    f"stopped as on Ctrl-C; {self.masker(err.strip()[-500:])}",
                    cmd,
                )
            if code in ok:
                return result
            if getattr(result, "interrupted", False):
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
            self._explain(cmd, err + out)
            raise TerraformError(argv, code, self.masker(err), self.masker(out))
        raise AssertionError("unreachable")

    def _explain(self, cmd: str, text: str) -> None:
        """Raise ConfigurationError for failures whose fix is in the configuration or the toolchain."""
        why = fatal(text, self.target.is_emulator)
        if why and cmd != "destroy":  # a destroy names the resource itself (see destroy)
            objects = "".join(f"{kind} {object_id}: " for kind, object_id in failed_objects(text))
            raise ConfigurationError(f"{self.name}: `terraform {cmd}` failed at once, not retried: {objects}{why}")
        if cmd == "init":
            problem = self._init_problem(text)
            if problem:
                raise ConfigurationError(f"{self.name}: {problem}\n{self.masker(text.strip()[-1500:])}")
        unknown = unknown_argument(text)
        if unknown:
            what, where = unknown
            raise ConfigurationError(
                f"{self.name}: {where}: `{what}` is not known to hashicorp/aws {self.provider_version or '?'} (the "
                "version init selected); it needs a newer provider. Offline the mirror holds aws "
                f"{', '.join(self.toolchain.mirror_versions) or 'none'}: use --tf-provider-source registry online, "
                "or remove the argument"
            )
        unset = list(dict.fromkeys(UNSET_VARIABLE_ERROR.findall(text)))
        if unset:
            raise ConfigurationError(
                f"{self.name}: variable(s) {', '.join(unset)} of {self.source} have no value and no default: give "
                "each with --var NAME=VALUE or in a --var-file (CLI), or in vars= / var_files= of the terraform "
                "marker"
            )
        invalid = INVALID_VARIABLE_ERROR.search(text)
        if invalid:
            name = invalid["name"]
            hidden = name in self.sensitive or self._is_sensitive(name)
            shown = "***" if hidden else repr(self.variables.get(name))
            origin = (
                f"The harness set it to {shown} (give your own with --var {name}=VALUE, or let the rule accept the "
                "harness's value)"
                if name in self.variables and name not in self.user_variables
                else f"Give a value it accepts with --var {name}=VALUE or in a --var-file"
            )
            raise ConfigurationError(
                f"{self.name}: variable {name} fails its validation rule ({invalid['file']} line {invalid['line']}): "
                f"{' '.join(invalid['message'].split())!r}. {origin}."
            )
        # a destroy handles its own (see destroy): the managed resources need no data source to go
        lookups = empty_lookups(text) if self.target.is_emulator and cmd != "destroy" else []
        if lookups:
            found = "".join(f"\n  {address} ({where}): {summary}" for address, where, summary in lookups)
            raise ConfigurationError(
                f"{self.name}: `terraform {cmd}`: {len(lookups)} data source(s) found nothing on the emulator "
                f"({self.target.name}), which starts empty and holds only what the configuration creates:{found}\n"
                "They look up infrastructure made outside the configuration. To test it on an emulator, create that "
                "infrastructure first: call the configuration as a module from a test root that creates it and "
                "passes its identifiers in, or take the identifiers as variables instead of looking them up. Or run "
                "against a sandbox account where it exists (--target aws). If the configuration creates the object "
                "itself, make the data source depend on it (a reference or depends_on)."
            )

    def _init_problem(self, text: str) -> str | None:
        for pattern, kind in INIT_PROBLEMS.items():
            if not re.search(pattern, text):
                continue
            mirror = self.toolchain.provider_source == "mirror"
            held = ", ".join(self.toolchain.mirror_versions) or "none"
            if kind == "constraint":
                constraints = sorted(
                    {v for m in self.modules if (v := m.required_providers.get("aws", {}).get("version"))}
                )
                return (
                    f"no AWS provider version meets the configuration's constraint(s) {', '.join(constraints) or '?'}"
                    + (
                        f"; the offline mirror holds hashicorp/aws {held}. Online, use the registry: "
                        "--tf-provider-source registry (or HARNESS_PROVIDER_SOURCE=registry)"
                        if mirror
                        else ""
                    )
                )
            if kind == "missing-provider":
                names = sorted(
                    {
                        spec.get("source", name)
                        for m in self.modules
                        for name, spec in m.required_providers.items()
                        if name != "aws"
                    }
                )
                return f"init could not install a provider ({', '.join(names) or 'see below'})" + (
                    f"; the offline mirror holds only hashicorp/aws {held}. Online, use --tf-provider-source registry"
                    if mirror
                    else ""
                )
            remote = hcl.remote_modules(self.modules)
            sources = ", ".join(f"module.{c.name} ({c.source}, {c.file.name})" for c in remote) or "see below"
            return (
                f"init could not download remote module source(s): {sources}. Offline, vendor them into the "
                "repository and use a local source (./modules/...), or run where the source is reachable"
            )
        return None

    def _stage(self, name: str) -> _Timer:
        return _Timer(self.timings, name, self._report_progress)

    def _report_progress(self, stage: str, seconds: float | None) -> None:
        if self.progress is not None:
            self.progress(self.name, stage, seconds)

    # -- stages -----------------------------------------------------------------------------------
    @classmethod
    def member_view(
        cls,
        batch: ScenarioRun,
        *,
        source: Path,
        label: str,
        prefix: str,
        variables: dict[str, Any],
        overlays: tuple[Path, ...],
        tfdir: Path,
        state: dict[str, Any],
        outputs: dict[str, Any],
    ) -> Self:
        """One configuration of a batch (:mod:`fargate_harness.runner.batch`) as a read-only run of its own: its
        state, resources and outputs, the batch's target, masker, work folder and stage seconds. It cannot be
        prepared, applied or destroyed: the batch does that, once for all its members."""
        view = cls(
            source,
            target=batch.target,
            toolchain=batch.toolchain,
            prefix=prefix,
            results_dir=batch.results_dir,
            variables=variables,
            sensitive=batch.sensitive,
            tags=batch.tags,
            label=label,
            masker=batch.masker,
            overlays=overlays,
            timings=dict(batch.timings),
            provider_version=batch.provider_version,
            member_of=batch,
        )
        view.workdir, view.tfdir, view.log_path = batch.workdir, tfdir, batch.log_path
        view._state = state
        view.resources = sorted(r.address for r in managed_resources(state))
        view.outputs = outputs
        return view

    def _not_a_view(self, what: str) -> None:
        if self.member_of is not None:
            raise HarnessError(
                f"{self.name} is a member of the batch {self.member_of.name} ({self.member_of.workdir}): the batch "
                f"does the {what}, once for all its members"
            )

    def prepare(self) -> None:
        """Copy the configuration into the work folder, record the run, write the backend override and
        set up the Terraform command line."""
        self._not_a_view("copy")
        if self.preflight_options.get("deployer") is not None:  # set after construction; checked before any apply
            validate_arn_option("deployer", self.preflight_options["deployer"])
        if self.workdir.exists():
            raise ConfigurationError(f"{self.workdir} already exists; prefixes must be unique per run")
        self.workdir.mkdir(parents=True, mode=0o700)
        config = self.workdir / "config"
        self.tfdir = copy_configuration(self.source, config, exclude=(self.results_dir,))
        protect_var_files(config)
        for overlay in self.overlays:
            shutil.copy2(overlay, self.tfdir / overlay.name)
        for module in self.modules:
            copied = self.tfdir / os.path.relpath(module.path, self.source)
            if (copied / OVERRIDE_FILE).exists():
                raise ConfigurationError(
                    f"{module.path} has its own {OVERRIDE_FILE}; rename it, the harness writes that file"
                )
        self._choose_account()
        self._keep_region()
        self._write_manifest()
        root = self.modules[0]
        if root.backend is not None or root.cloud is not None:
            kind = f'the "{root.backend[0]}" backend' if root.backend is not None else "the cloud block"
            self.changes.append(f"state: {kind} replaced by a local state in the run's work folder")
            # a test run's state lives in its work folder: the configured backend is never contacted
            (self.tfdir / BACKEND_OVERRIDE_FILE).write_text(
                "# Written by fargate-harness: a test run keeps its state in its work folder.\n"
                'terraform {\n  backend "local" {}\n}\n'
            )
        env = {**os.environ, **self.toolchain.env(), **self.target.terraform_env()}
        env.pop("TF_LOG", None)  # Terraform's own debug log would carry every request, secrets included
        self._tf = TerraformCli(self.tfdir, self.toolchain.terraform, env)

    def _values(self) -> dict[str, as_written.Value]:
        """The values the configuration and the user give the root's variables (never the harness's)."""
        return as_written.variable_values(
            self.source, self.declared, self.var_files, self.user_variables, environ=os.environ
        )

    def _choose_account(self) -> None:
        """The account the run deploys into.

        On an emulator: ``account_id`` when given, else the account the configuration names by ID
        (:func:`~fargate_harness.runner.as_written.named_account`), reached as a role session there (moto and
        LocalStack keep every account apart and honour any role); else, for fixed names, a fresh account as
        before; else the target's own. Runs of fixed names in a named account are serialized per emulator and
        account (another run there would find the same names taken), not isolated: the account is what the
        configuration asked for. On real AWS the credentials decide the account: a different named account is
        noted, a different ``account_id`` refused.
        """
        named = (
            as_written.NamedAccount(self.account_id, "the account id given to the run")
            if self.account_id
            else as_written.named_account(self.modules, self._values())
        )
        if named is not None and named.account is None:
            self.changes.append(
                f"account: the configuration names several accounts ({', '.join(named.candidates)}, where "
                f"{named.origin}); none was chosen: give the one it deploys to as its account id"
            )
            named = None
        if named is not None and named.account is not None:
            if self.target.is_emulator:
                reached = self.target.in_account(named.account)
                how = (
                    "the target's own account"
                    if reached is self.target
                    else f"a role session there on the {self.target.name} emulator"
                )
                self.target = reached
                self.changes.append(f"account: runs in {named.account}, the account {named.origin} names ({how})")
                if self.isolate:
                    self._serialize(f"{self.target.endpoint_url}|{named.account}", f"account {named.account}")
                return
            actual = self.target.account_id()
            if actual != named.account:
                if self.account_id:
                    raise ConfigurationError(
                        f"{self.name}: account id {self.account_id} was given, but the credentials of target "
                        f"{self.target.name} are for account {actual}; on real AWS the credentials decide the "
                        "account: use credentials of that account, or leave the account id out"
                    )
                self.changes.append(
                    f"account: {named.origin} names {named.account}, but the credentials are for {actual}, where "
                    "the run deploys"
                )
        if self.isolate:
            self._isolate()

    def _isolate(self) -> None:
        """Fixed names: a fresh emulator account, or on real AWS one run of this configuration at a time."""
        if self.target.is_emulator:
            isolated = self.target.isolated(f"{self.prefix}")
            if isolated is not self.target:
                self.changes.append(
                    f"account: runs in a fresh {isolated.name} account ({isolated.known_account_id}): it uses fixed "
                    "names (no name_prefix variable) and names no account of its own"
                )
            self.target = isolated
            return
        LOG.warning("%s: fixed names (no name_prefix): waiting for other runs of %s on aws", self.name, self.source)
        self._serialize(f"{self.source}|{self.target.region}", f"configuration {self.source}")

    def _serialize(self, key: str, what: str) -> None:
        """Hold the lock of ``key`` until :meth:`down`: across processes (a file lock) and across the threads of
        this one. The same thread asking twice would wait for itself: refused instead."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        with _HELD_LOCK:
            holder = _HELD.get(digest)
            if holder is not None and holder[0] == threading.get_ident():
                raise ConfigurationError(
                    f"{self.name}: {what} is in use by run {holder[1]} of this session, which uses the same fixed "
                    "names: apply the two one after the other (finish the first), or give one another account id"
                )
            lock = _THREAD_LOCKS.setdefault(digest, threading.Lock())
        stack = contextlib.ExitStack()
        lock.acquire()
        stack.callback(lock.release)
        stack.callback(_HELD.pop, digest, None)
        with _HELD_LOCK:
            _HELD[digest] = (threading.get_ident(), self.name)
        stack.enter_context(file_lock(cache_dir() / "serial" / f"{digest}.lock"))
        self._serial = stack

    def _keep_region(self) -> None:
        """The region the run deploys to: the configuration's own when it gives one (the run's target, and so
        every read of the checks and the preflight, follows it), else the target's, given where the
        configuration reads it (its ``region`` variable; ``AWS_REGION`` for a provider block with no region)."""
        if not self.keep_region:
            return
        values = self._values()
        harness_region = self.variables.get("region")
        if harness_region is not None:
            if "region" in values:
                del self.variables["region"]  # the configuration's (or the user's) value stands
            else:
                self.changes.append(
                    f"region: variable region set to {harness_region} (the target's region): the configuration "
                    "gives it no value"
                )
        setting = as_written.configured_region(self.modules[0], values)
        region = setting.region
        if region is None and setting.variable is not None and setting.variable in self.variables:
            region = str(self.variables[setting.variable])
        if region and region != self.target.region:
            account = self.target.known_account_id
            self.target = self.target.derived(region=region)
            self.target._account = account
        elif region is None and setting.expression is not None:
            self.changes.append(
                f"region: {setting.origin}, which the harness cannot read; its own reads use {self.target.region}"
            )
        elif region is None and setting.variable is None:
            self.changes.append(f"region: {self.target.region} given as AWS_REGION: {setting.origin}")
        for block in self.modules[0].provider_blocks("aws"):
            if block.alias and not block.is_proxy and "region" not in block.arguments:
                self.changes.append(
                    f'region: provider "{block.label}" sets no region; it gets {self.target.region} (AWS_REGION)'
                )

    def _write_manifest(self) -> None:
        accounts = [self.target.known_account_id] if self.target.known_account_id else []
        if self.target.registry_account_id:
            accounts.append(self.target.registry_account_id)
        manifest = {
            "run_id": run_id(),
            "prefix": self.prefix,
            "label": self.name,
            "source": str(self.source),
            "target": self.target.name,
            "endpoint": self.target.endpoint_url,
            "region": self.target.region,
            "accounts": accounts,
            "pid": os.getpid(),
            "started": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "tfdir": str(self.tfdir),
            "var_files": [
                str(p) for p in (self.workdir / HARNESS_VAR_FILE, *self.var_files, self.workdir / USER_VAR_FILE)
            ],
            "changes": list(self.changes),
        }
        (self.workdir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")

    def init(self, upgrade: bool = False) -> None:
        """``terraform init`` (``-upgrade`` to select newer providers), then the provider override for the
        version init selected."""
        with self._stage("init"), self.toolchain.init_lock():
            self._command("init", "-input=false", "-no-color", *(["-upgrade"] if upgrade else []))
        self.init_override()

    def _provider_schema(self) -> provider_schema.ProviderSchema | None:
        """What the selected provider version accepts (cached per version); None on real AWS."""
        if not self.target.is_emulator or not self.provider_version:
            return None

        def read() -> dict[str, Any]:
            return dict(json.loads(self._command("providers", "schema", "-json", retry=False).out or "{}"))

        return provider_schema.cached(self.provider_version, read)

    def init_override(self) -> None:
        """Write the provider override, for the provider version the last ``init`` selected, into every module
        copy with a ``provider "aws"`` block (the root always), and the generated variable files."""
        self.provider_version = selected_provider_version(self.tfdir)
        lock = self.tfdir / ".terraform.lock.hcl"
        if (
            self.target.is_emulator
            and not self.provider_version
            and lock.is_file()
            and "/hashicorp/aws" in lock.read_text()
        ):
            raise ConfigurationError(
                f"{self.name}: cannot read the AWS provider version from {lock}; without it no emulator override "
                "can be written and Terraform would call real AWS. Check the lock file's provider block."
            )
        default_tags = False
        changes: list[str] = []
        if self.provider_version:
            self._schema = self._provider_schema()
            for folder in installed_modules(self.tfdir):
                is_root = folder == self.tfdir.resolve()
                module = hcl.read_module(folder)
                blocks = [b for b in module.provider_blocks("aws") if is_root or not b.is_proxy]
                if not is_root and not blocks:
                    continue  # the module inherits its providers from its caller
                own_tags = as_written.own_default_tags(folder)
                # one override per local name of hashicorp/aws (`amazon = { source = "hashicorp/aws" }` too)
                parts = [
                    self.target.provider_override(
                        self.provider_version,
                        [b.alias for b in blocks if b.name == local],
                        default_tags=self.tags,
                        schema=self._schema,
                        include_default=(is_root and (local == "aws" or local in module.required_providers))
                        or any(b.alias is None and b.name == local for b in blocks),
                        local_name=local,
                        own_tags=own_tags,
                    )
                    for local in sorted(module.aws_local_names())
                    if local == "aws" or any(b.name == local for b in blocks) or local in module.required_providers
                ]
                override = "\n".join(part for part in parts if part) or None
                target_file = folder / OVERRIDE_FILE
                if override:
                    target_file.write_text(override)
                    default_tags = default_tags or "default_tags" in override
                    changes += self._override_changes(folder, override, own_tags)
                else:
                    target_file.unlink(missing_ok=True)
        # init may run again (an upgrade): the sentences of the last override replace the previous ones
        self.changes[:] = [c for c in self.changes if not c.startswith(_OVERRIDE_TOPICS)] + list(dict.fromkeys(changes))
        self._write_var_files(default_tags)
        self._record_changes()
        self._start_provider()

    def _record_changes(self) -> None:
        """Write :attr:`changes` into the run's manifest (``run.json``)."""
        manifest_path = self.workdir / MANIFEST_FILE
        if manifest_path.is_file():
            manifest = json.loads(manifest_path.read_text())
            manifest["changes"] = list(self.changes)
            manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")

    def _override_changes(self, folder: Path, override: str, own_tags: Mapping[str | None, object]) -> list[str]:
        """What one module folder's override changes, in the run's short sentences."""
        where = "" if folder == self.tfdir.resolve() else f" of {os.path.relpath(folder, self.tfdir)}"
        found = []
        if self.target.is_emulator:
            found.append(
                f"endpoints: every AWS service of the provider{where} redirected to the {self.target.name} emulator, "
                "with its credentials (profile and shared credential files unset)"
            )
        if "default_tags" in override:
            prefixes = sorted({key.split(":")[0] + ":*" if ":" in key else key for key in self.tags})
            tags = ", ".join(prefixes)
            if own_tags:
                labels = ", ".join(f"aws.{a}" if a else "aws" for a in own_tags)
                found.append(
                    f"tags: the ownership tags ({tags}) merged into the configuration's own default_tags "
                    f"(provider {labels}{where})"
                )
            else:
                found.append(f"tags: the ownership tags ({tags}) added as the provider's default_tags{where}")
        return found

    def _write_var_files(self, default_tags: bool) -> None:
        values = {k: v for k, v in self.variables.items() if k in self.declared and k != "tags"}
        if "tags" in self.declared and (self.tags or "tags" in self.variables):
            own = dict(self.variables.get("tags") or {})
            # the provider tags everything through default_tags; the same keys in `tags` would be refused
            tags = own if default_tags else {**self.tags, **own}
            if tags or "tags" in self.variables:
                values["tags"] = tags
        with private_files():
            (self.workdir / HARNESS_VAR_FILE).write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
            (self.workdir / USER_VAR_FILE).write_text(user_var_file_text(self.user_variables, self.declared))

    def _var_args(self) -> list[str]:
        """``-var-file`` arguments: the harness's values, the user's files in order, the user's named values."""
        files = [self.workdir / HARNESS_VAR_FILE, *self.var_files, self.workdir / USER_VAR_FILE]
        return [f"-var-file={path}" for path in files]

    def apply(self) -> None:
        """``terraform apply``; the state is read once after it (even when it fails part-way): the resource
        list, the outputs and :attr:`state` all come from that one ``terraform show -json``."""
        self.applied = True  # a failed apply may still have created resources: destroy must run
        self.apply_error = ""
        self._settled = False
        self._state = self._inventory = None
        self.reads = None
        try:
            with self._stage("apply"):
                self._apply_within_limit()
        except (TerraformError, ConfigurationError) as exc:  # ConfigurationError: a failure _explain names
            self.apply_error = str(exc)
            raise
        finally:
            try:
                self._state = self.show_state()
                if self.apply_error and not managed_resources(self._state):
                    # the state Terraform keeps says the failed apply created nothing: there is nothing to
                    # destroy (a destroy would only fail again on the same error, three times)
                    self.applied = False
            except TerraformError:  # no readable state: the apply failed before creating anything
                self._state = {}
            self.resources = sorted(r.address for r in managed_resources(self._state))
        self.read_outputs((self._state.get("values") or {}).get("outputs") or {})

    def _apply_within_limit(self) -> None:
        """``terraform apply``; on an emulator, planned first into a file and refused (ConfigurationError) when
        the plan creates more than :func:`max_resources` resources, then applied from that plan, so nothing is
        created by a refused configuration. A retryable failure of the saved plan's apply (whose state moved on)
        is retried as a plain apply."""
        common = ("-input=false", "-no-color")
        if self.target.is_emulator:
            planned = self._command("plan", *common, f"-out={APPLY_PLAN}", *self._var_args())
            check_resource_limit(self.name, planned.out or "")
            try:
                self._command("apply", *common, APPLY_PLAN, retry=False)
                return
            except TerraformError as exc:
                why = self.retry.reason(exc.stderr + exc.stdout)
                if not why or self.retry.attempts < 2:
                    raise
                self.retries += 1
                LOG.warning("%s: retrying `terraform apply` (%s) without the saved plan", self.name, why)
                time.sleep(self.retry.pause_seconds)
        self._command("apply", *common, "-auto-approve", *self._var_args())

    def read_outputs(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Outputs as plain values, from ``raw`` (the state's ``values.outputs``, shaped as ``terraform output
        -json`` prints them); sensitive ones are masked everywhere and kept out of outputs.json."""
        values, shown = {}, {}
        for name, item in raw.items():
            values[name] = item.get("value")
            if item.get("sensitive"):
                self.masker.add(*_strings(item.get("value")))
                shown[name] = "***"
            else:
                shown[name] = item.get("value")
        (self.workdir / "outputs.json").write_text(self.masker(json.dumps(shown, indent=2, sort_keys=True)))
        self.outputs = values
        return values

    def plan(self, out: str) -> dict[str, Any]:
        """Plan into the file ``out``; its ``terraform show -json`` form, or {} when nothing would change."""
        with self._stage("plan"):
            result = self._command(
                "plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={out}", *self._var_args(), ok=(0, 2)
            )
            if result.retcode == 0:
                return {}
            return dict(json.loads(self._command("show", "-json", out, retry=False, holds_values=True).out or "{}"))

    def show_state(self) -> dict[str, Any]:
        """The state as ``terraform show -json`` prints it (read again on every call)."""
        return dict(json.loads(self._command("show", "-json", "-no-color", retry=False, holds_values=True).out or "{}"))

    @property
    def state(self) -> dict[str, Any]:
        """``terraform show -json`` of the state after the last apply (read once). Holds secret values in plain
        text, as Terraform's state always does: never print it."""
        if self._state is None:
            self._state = self.show_state()
        return self._state

    @property
    def inventory(self) -> Inventory:
        """What the configuration built, read from the state: see :mod:`fargate_harness.model.inventory`."""
        if self._inventory is None:
            self._inventory = Inventory.from_state(self.state, source=str(self.source))
        return self._inventory

    def forget(self, address: str) -> None:
        """``terraform state rm ADDRESS``: the destroy leaves that resource alone. For emulator gaps only (an
        API the emulator lacks, whose resource goes with its parent), never to hide a leak on real AWS."""
        self._command("state", "rm", "-no-color", address, retry=False)
        self._state = self._inventory = None

    def plan_changes(self) -> list[str]:
        """Resources a fresh plan would change, as ``"<address>: <actions>"`` (empty when idempotent)."""
        shown = self.plan("idempotency.tfplan")
        changes = []
        for change in shown.get("resource_changes", []):
            actions = change.get("change", {}).get("actions", [])
            if actions not in (["no-op"], ["read"]):
                changes.append(f"{change.get('address')}: {'/'.join(actions)}")
        for name, change in (shown.get("output_changes") or {}).items():
            if change.get("actions") not in (["no-op"], None):
                changes.append(f"output.{name}: {'/'.join(change['actions'])}")
        self._settled = not changes
        return changes

    def check_idempotent(self) -> None:
        """Raise NotIdempotentError when a plan right after apply proposes changes."""
        changes = self.plan_changes()
        if changes:
            raise not_idempotent(self.name, changes)

    def destroy(self) -> None:
        """``terraform destroy``. Errors the retry table calls transient are retried by :meth:`_command`; anything
        else fails at once, and a fatal one (deletion protection, an emulator's missing action) names the resource
        and the cause (:meth:`_destroy_failure`).

        On an emulator, right after a plan that refreshed every object and wanted no change (the idempotency
        check), the first attempt skips the refresh (``-refresh=false``): the state already holds what the
        emulator holds, and reading it all again was a fifth of the destroy's CPU. When that attempt fails with a
        non-fatal error, one more attempt refreshes, so an object a test removed behind Terraform's back is found.
        On real AWS the destroy always refreshes: other actors may change a sandbox account between the plan and
        the destroy. The one exception, on every target: after an attempt failed because a data source found
        nothing, the next skips the refresh, which would only fail the same way (the state's managed resources
        are destroyed without it).

        After a clean destroy, the files that hold secret values (plan files, state backup) are removed.
        """
        unreadable = False
        with self._stage("destroy"):
            for attempt in (1, 2):
                skip_refresh = unreadable or (attempt == 1 and self._settled and self.target.is_emulator)
                try:
                    self._command(
                        "destroy",
                        "-input=false",
                        "-no-color",
                        "-auto-approve",
                        *(["-refresh=false"] if skip_refresh else []),
                        *self._var_args(),
                    )
                    break
                except TerraformError as exc:
                    text = exc.stderr + exc.stdout
                    if attempt == 1 and not fatal(text, self.target.is_emulator):
                        # a data source that finds nothing (an image never pushed, an object removed elsewhere)
                        # fails every refresh the same way; the managed resources need none to be destroyed
                        unreadable = bool(empty_lookups(text)) and not skip_refresh
                        if unreadable or skip_refresh:
                            self.retries += 1
                            LOG.warning(
                                "%s: destroy failed, trying once more %s",
                                self.name,
                                "without reading data sources (one found nothing)" if unreadable else "with a refresh",
                            )
                            continue
                    raise self._destroy_failure(exc) from exc
        self.applied = self._settled = False
        for leftover in [*self.tfdir.glob("*.tfplan"), self.tfdir / "terraform.tfstate.backup"]:
            leftover.unlink(missing_ok=True)

    def _destroy_failure(self, exc: TerraformError) -> TerraformError:
        """``exc`` with, first, what a fatal error means for each object the provider names in it (its Terraform
        address when the state still holds it)."""
        text = exc.stderr + exc.stdout
        why = fatal(text, self.target.is_emulator)
        if why is None:
            return exc
        objects = failed_objects(text)
        addresses = self._addresses_of([object_id for _kind, object_id in objects])
        named = [f"{addresses.get(i, '?')} ({kind} {i})" for kind, i in objects] or ["a resource of the state"]
        gap = self.target.is_emulator and why.rstrip().endswith("not a fault of the configuration")
        emulator = f" ({self.target.name} emulator)" if gap else ""
        lines = [f"{self.name}: {what}: cannot be deleted{emulator}, not retried: {why}" for what in named]
        return TerraformError(exc.command, exc.exit_code, "\n".join(lines) + "\n" + exc.stderr, exc.stdout)

    def _addresses_of(self, object_ids: Iterable[str]) -> dict[str, str]:
        """object id or name -> the Terraform address of the managed resource of the state that has it."""
        wanted = set(object_ids)
        if not wanted:
            return {}
        try:
            state = self.show_state()
        except TerraformError:
            return {}
        found: dict[str, str] = {}
        for resource in managed_resources(state):
            values = resource.values or {}
            for key in ("id", "name", "identifier", "arn"):
                value = values.get(key)
                if isinstance(value, str) and value in wanted:
                    found.setdefault(value, resource.address)
        return found

    def down(self, failed: bool = False) -> None:
        """Destroy unless ``keep``; keep the work folder (state, logs, outputs) on any failure."""
        self._not_a_view("destroy")
        self.failed = self.failed or failed
        try:
            if self.keep:
                if self.resources_outlive_run:
                    LOG.warning(
                        "%s: resources kept (--tf-keep); destroy later with: %s", self.name, self.cleanup_hint()
                    )
                else:
                    LOG.warning("%s: --tf-keep: %s", self.name, self.cleanup_hint())
                return
            if self.applied and self._tf is not None:
                try:
                    self.destroy()
                except TerraformError as exc:
                    self.failed = True
                    raise TerraformError(
                        exc.command,
                        exc.exit_code,
                        f"{exc.stderr}\n"
                        + (
                            f"resources of {self.name} may remain; state kept in {self.tfdir}. Finish the clean-up "
                            f"with: {self.cleanup_hint()}"
                            if self.resources_outlive_run
                            else f"state kept in {self.tfdir}; {self.cleanup_hint()}"
                        ),
                        exc.stdout,
                    ) from exc
            if not self.failed:
                shutil.rmtree(self.workdir, ignore_errors=True)
        finally:
            self._stop_provider()
            self._redact_var_files()
            if self._serial is not None:
                self._serial.close()
                self._serial = None

    def _redact_var_files(self) -> None:
        """Replace sensitive values in the generated var files by ``***`` once the run is over: a kept folder
        must not hold them (a destroy from it does not need them). The state, when kept, is as sensitive as
        Terraform always makes it."""
        harness_file = self.workdir / HARNESS_VAR_FILE
        if harness_file.is_file():
            values = json.loads(harness_file.read_text())
            redacted = {k: ("***" if k in self.sensitive or self._is_sensitive(k) else v) for k, v in values.items()}
            harness_file.write_text(json.dumps(redacted, indent=2, sort_keys=True) + "\n")
        user_file = self.workdir / USER_VAR_FILE
        if user_file.is_file() and self.user_variables:
            masked = {k: ("***" if self._is_sensitive(k) else v) for k, v in self.user_variables.items()}
            user_file.write_text(self.masker(user_var_file_text(masked, self.declared)))
        # the copy's own terraform.tfvars / *.auto.tfvars (and any other var file copied with the configuration)
        for path in var_files_under(self.workdir / "config"):
            redact_file(path, self.masker)

    def _is_sensitive(self, name: str) -> bool:
        variable = self.declared.get(name)
        return bool(variable and variable.sensitive)

    @property
    def resources_outlive_run(self) -> bool:
        """True when what the run built outlives it (real AWS, or an emulator that keeps running)."""
        return not self.target.is_emulator or self.target.outlives_run

    def cleanup_hint(self) -> str:
        """What finishes the clean-up of what this run left behind: the shell command that destroys it where the
        resources outlive the run (real AWS; an emulator kept running: ``target.outlives_run``), else the sentence
        that says there is nothing to do. Never a credential: an emulator's keys are in the work folder's
        override file, which the command uses."""
        if not self.resources_outlive_run:
            return (
                f"nothing to clean up: the resources were held by the {self.target.name} emulator, which stopped with "
                "the run and took them with it"
            )
        files = " ".join(self._var_args()) if self._tf is not None else ""
        return (
            f"cd {self.tfdir} && AWS_REGION={self.target.region} TF_CLI_CONFIG_FILE={self.toolchain.cli_config} "
            f"{self.toolchain.terraform} destroy -auto-approve {files}".rstrip()
        )

    @property
    def total_seconds(self) -> float:
        """Seconds spent in Terraform stages so far."""
        return sum(self.timings.values())


class _Timer:
    def __init__(
        self, sink: dict[str, float], name: str, done: Callable[[str, float | None], None] | None = None
    ) -> None:
        self.sink, self.name, self.done = sink, name, done

    def __enter__(self) -> None:
        self.start = time.perf_counter()
        if self.done is not None:
            self.done(self.name, None)

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.start
        self.sink[self.name] = self.sink.get(self.name, 0.0) + seconds
        if self.done is not None:
            self.done(self.name, seconds)


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a nested output value (to mask each of them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)
