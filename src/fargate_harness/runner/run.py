"""One configuration's run: prepare, init, apply, plan, destroy, down; composed of the run's pieces.

A :class:`TerraformRun` copies any root configuration (and the local modules it sources) into a work folder
(:mod:`~fargate_harness.runner.workspace`), decides once where it deploys (:mod:`~fargate_harness.runner.placement`),
writes the backend, provider overrides and variable files beside the copy (:mod:`~fargate_harness.runner.overrides`),
and runs init / apply / plan / show / destroy in a :class:`~fargate_harness.runner.session.Session` with
``-input=false -no-color``. Any non-zero exit raises :class:`~fargate_harness.errors.TerraformError`, or a
:class:`~fargate_harness.errors.ConfigurationError` when the cause is the configuration or the toolchain
(:func:`fargate_harness.runner.diagnostics.explain`). What a test reads of an applied run is the read-only
:class:`~fargate_harness.model.applied.AppliedState` (:meth:`TerraformRun.applied_state`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError, TerraformError
from fargate_harness.model.applied import AppliedState
from fargate_harness.model.inventory import Inventory, managed_resources
from fargate_harness.runner import as_written, hcl, overrides, placement, provider_schema
from fargate_harness.runner.diagnostics import (
    APPLY_PLAN,
    Diagnosis,
    RetryPolicy,
    check_resource_limit,
    empty_lookups,
    explain,
    explain_destroy,
    failed_objects,
    fatal,
    not_idempotent,
    sensitive_variable,
)
from fargate_harness.runner.masking import Masker, check_sizes, given_values, protect_var_files, secret_forms
from fargate_harness.runner.session import Session
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.runner.workspace import copy_configuration
from fargate_harness.targets.base import Target
from fargate_harness.targets.netguard import refusal_message, refuse_user_overrides

LOG = logging.getLogger("fargate_harness.runner.run")

#: Variables whose values the harness generates and must never print.
SENSITIVE_VARIABLES = ("secret_value",)
#: Told of each stage of a run: ``(configuration, stage, None)`` when it starts, ``(..., seconds)`` when it ends.
Progress = Callable[[str, str, "float | None"], None]


@dataclass(eq=False)
class TerraformRun:
    """One configuration applied on one target: copy, init, apply, idempotency plan, outputs, destroy.

    ``source`` is any Terraform root folder. ``variables`` are the harness's values (prefix, secret, region...;
    only those the root declares are passed), ``var_files`` the user's, in order, and ``user_variables`` values
    given by name (they win over both). ``overlays`` are extra files (for example ``*_override.tf``) copied into the
    root of the copy. ``workdir`` lives under ``results_dir``; it is removed after a clean destroy and kept (state,
    logs, outputs) whenever something failed, or with ``keep``. Where it deploys (``account_id``, ``keep_region``,
    ``isolate``: None decides by ``name_prefix``) is :mod:`~fargate_harness.runner.placement`'s; :attr:`changes`
    says, in short sentences, what the harness changed about the deployment (also in ``run.json``).
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
    apply_error: str = ""
    #: Keyword options of every preflight of this run (``images="assume-pushed"``, ``deployer=ARN``...).
    preflight_options: dict[str, Any] = field(default_factory=dict)
    #: Attach every command to one AWS provider process (:mod:`fargate_harness.runner.provider_server`) when the
    #: configuration has a single AWS provider configuration; ``HARNESS_PROVIDER_REATTACH=0`` turns it off.
    reattach: bool = field(default_factory=lambda: os.environ.get("HARNESS_PROVIDER_REATTACH", "1") != "0")
    #: The account to deploy into on an emulator, over the one the configuration names (``--account-id``).
    account_id: str | None = None
    #: Keep the configuration's own region (False: the harness's ``region`` variable is imposed).
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
        self.session: Session | None = None
        self._state: dict[str, Any] | None = None
        self._applied: AppliedState | None = None
        self._serial: contextlib.ExitStack | None = None
        self.schema: provider_schema.ProviderSchema | None = None
        #: The last plan refreshed every object and wanted no change, and nothing was applied since: the state
        #: is what the emulator holds, so the destroy need not read every object again (see :meth:`destroy`).
        self.settled = False
        _check_inputs(self)

    # -- the session -------------------------------------------------------------------------------
    def is_sensitive(self, name: str) -> bool:
        """Whether the variable ``name`` holds a secret: the harness's own, or declared ``sensitive``."""
        return sensitive_variable(name, self.declared, self.sensitive)

    def _command(self, cmd: str, *args: str, **options: Any) -> Any:
        assert self.session is not None, "prepare() first"
        try:
            return self.session.command(cmd, *args, **options)
        finally:
            self.failed = self.failed or self.session.refused

    @property
    def retries(self) -> int:
        """Retries of known-transient errors so far."""
        return self.session.retries if self.session is not None else 0

    @property
    def deadlines_reached(self) -> list[str]:
        """The stages of this run that reached their ``--tf-timeout`` deadline (each stopped, then destroyed)."""
        return self.session.cli.reached if self.session is not None else []

    @property
    def killed(self) -> list[str]:
        """Commands killed after their grace: the state may lack what they created (the lifecycle sweeps)."""
        return self.session.cli.killed if self.session is not None else []

    @property
    def provider_pid(self) -> int | None:
        """The process id of the AWS provider this run's commands attach to, or None."""
        return self.session.provider_pid if self.session is not None else None

    def _stage(self, name: str) -> contextlib.AbstractContextManager[None]:
        return _stage(self, name)

    # -- stages -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Copy the configuration into the work folder, decide where it deploys, record the run, write the
        backend override and open the Terraform session."""
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
            if (copied / overrides.OVERRIDE_FILE).exists():
                raise ConfigurationError(
                    f"{module.path} has its own {overrides.OVERRIDE_FILE}; rename it, the harness writes that file"
                )
        self._place()
        overrides.write_manifest(
            self.workdir,
            prefix=self.prefix,
            label=self.name,
            source=self.source,
            target=self.target,
            tfdir=self.tfdir,
            var_files=self.var_files,
            changes=self.changes,
        )
        backend = overrides.write_backend_override(self.modules[0], self.tfdir)
        if backend:
            self.changes.append(backend)
        self.session = Session(
            self.name,
            self.tfdir,
            self.log_path,
            self.workdir,
            self.target,
            self.toolchain,
            self.masker,
            self.retry,
            diagnose=lambda cmd, text: explain(cmd, text, diagnosis(self)),
            describe_refusal=lambda cmd, refusals: refusal(self, cmd, refusals),
            reattach=self.reattach,
        )

    def _place(self) -> None:
        """Decide where the run deploys (:func:`~fargate_harness.runner.placement.place`), once, before any
        command; hold the serial lock of fixed names until :meth:`down`."""
        where = placement.place(
            placement.Request(
                name=self.name,
                source=self.source,
                modules=self.modules,
                target=self.target,
                variables=self.variables,
                prefix=self.prefix,
                isolate=bool(self.isolate),
                var_files=self.var_files,
                user_variables=self.user_variables,
                account_id=self.account_id,
                keep_region=self.keep_region,
            )
        )
        self.target = where.target
        self.changes.extend(where.changes)
        if where.drop_region:
            del self.variables["region"]
        if where.serial is not None:
            self._serial = placement.SERIAL.hold(*where.serial, self.name)

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
        assert self.session is not None, "prepare() first"
        self.provider_version = overrides.selected_provider_version(self.tfdir)
        overrides.check_lock_readable(self.name, self.tfdir, self.target, self.provider_version)
        default_tags, changes = False, list[str]()
        if self.provider_version:
            self.schema = self._provider_schema()
            default_tags, changes = overrides.write_provider_overrides(
                self.tfdir, self.target, self.provider_version, self.tags, self.schema
            )
        # init may run again (an upgrade): the sentences of the last override replace the previous ones
        self.changes[:] = [c for c in self.changes if not c.startswith(overrides.OVERRIDE_TOPICS)] + list(
            dict.fromkeys(changes)
        )
        overrides.write_var_files(
            self.workdir,
            variables=self.variables,
            declared=self.declared,
            tags=self.tags,
            user_variables=self.user_variables,
            default_tags=default_tags,
        )
        overrides.record_changes(self.workdir, self.changes)
        self.session.start_provider(self.provider_version, overrides.module_calls(self.tfdir))

    def _var_args(self) -> list[str]:
        return overrides.var_args(self.workdir, self.var_files)

    def apply(self) -> None:
        """``terraform apply``; the state is read once after it (even when it fails part-way): the resource
        list, the outputs and :attr:`state` all come from that one ``terraform show -json``."""
        self.applied = True  # a failed apply may still have created resources: destroy must run
        self.apply_error = ""
        self.settled = False
        self._state = None
        try:
            with self._stage("apply"):
                self._apply_within_limit()
        except (TerraformError, ConfigurationError) as exc:  # ConfigurationError: a failure explain() names
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
        the plan creates more than :func:`~fargate_harness.runner.diagnostics.max_resources` resources, then applied
        from that plan, so nothing is created by a refused configuration. A retryable failure of the saved plan's
        apply (whose state moved on) is retried as a plain apply."""
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
                assert self.session is not None
                self.session.pause_and_count(why, "`terraform apply` without the saved plan")
        self._command("apply", *common, "-auto-approve", *self._var_args())

    def read_outputs(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Outputs as plain values (:func:`read_outputs`)."""
        self.outputs = read_outputs(self, raw)
        return self.outputs

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
        return self.applied_state().inventory

    def applied_state(self) -> AppliedState:
        """The state after the last apply, as a read-only value (the same one until the state changes)."""
        state = self.state
        if self._applied is None or self._applied.state is not state:
            self._applied = AppliedState(
                self.name, self.source, self.prefix, self.tfdir, state, dict(self.outputs), dict(self.variables)
            )
        return self._applied

    def forget(self, address: str) -> None:
        """``terraform state rm ADDRESS``: the destroy leaves that resource alone. For emulator gaps only (an
        API the emulator lacks, whose resource goes with its parent), never to hide a leak on real AWS."""
        self._command("state", "rm", "-no-color", address, retry=False)
        self._state = None

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
        self.settled = not changes
        return changes

    def check_idempotent(self) -> None:
        """Raise NotIdempotentError when a plan right after apply proposes changes."""
        changes = self.plan_changes()
        if changes:
            raise not_idempotent(self.name, changes)

    def destroy(self) -> None:
        """``terraform destroy`` (:func:`destroy`)."""
        destroy(self)

    def down(self, failed: bool = False) -> None:
        """Destroy unless ``keep``; keep the work folder (state, logs, outputs) on any failure."""
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
            if self.applied and self.session is not None:
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
            if self.session is not None:
                self.session.stop_provider()
            overrides.redact_var_files(self.workdir, self.masker, self.declared, self.user_variables, self.is_sensitive)
            if self._serial is not None:
                self._serial.close()
                self._serial = None

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
        files = " ".join(self._var_args()) if self.session is not None else ""
        return (
            f"cd {self.tfdir} && AWS_REGION={self.target.region} TF_CLI_CONFIG_FILE={self.toolchain.cli_config} "
            f"{self.toolchain.terraform} destroy -auto-approve {files}".rstrip()
        )


def _check_inputs(run: TerraformRun) -> None:
    """Refuse bad input before anything runs (var files, undeclared variables, an account id, overrides that
    would win over the harness's), and mask every value of a sensitive variable, from every source Terraform reads
    (a provider error may echo it); a value too large for a provider's messages stops the run here."""
    run.var_files = tuple(Path(f).resolve() for f in run.var_files)
    for path in run.var_files:
        if not path.is_file():
            raise ConfigurationError(f"{run.name}: var file {path} does not exist")
    undeclared = sorted(set(run.user_variables) - set(run.declared))
    if undeclared:
        raise ConfigurationError(
            f"{run.name}: variable(s) {', '.join(undeclared)} are not declared in {run.source}; declared: "
            f"{', '.join(sorted(run.declared)) or 'none'}"
        )
    if run.isolate is None:
        run.isolate = "name_prefix" not in run.declared
    if run.account_id is not None and not as_written.ACCOUNT.fullmatch(run.account_id):
        raise ConfigurationError(
            f"{run.name}: account id {run.account_id!r} is not a 12-digit AWS account ID; give the account to "
            "deploy into as 12 digits (--account-id 123456789012)"
        )
    if run.target.is_emulator:
        refuse_user_overrides(run.name, run.modules, overrides.OVERRIDE_FILE)
    # every value of a sensitive variable, from every source Terraform reads, is masked before any command
    # runs (a provider error may echo it); any value too large for a provider's messages stops the run here
    for name in run.sensitive:
        if name in run.variables:
            run.masker.add(*secret_forms(run.variables[name]))
    given = given_values(run.source, run.var_files, run.user_variables)
    check_sizes(run.name, [value for value in given if value.name in run.declared])  # Terraform ignores others
    for value in given:
        if run.is_sensitive(value.name):
            run.masker.add(*secret_forms(value.value))


def read_outputs(run: TerraformRun, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs as plain values, from ``raw`` (the state's ``values.outputs``, shaped as ``terraform output
    -json`` prints them); sensitive ones are masked everywhere and kept out of outputs.json."""
    values, shown = {}, {}
    for name, item in raw.items():
        values[name] = item.get("value")
        if item.get("sensitive"):
            run.masker.add(*_strings(item.get("value")))
            shown[name] = "***"
        else:
            shown[name] = item.get("value")
    (run.workdir / "outputs.json").write_text(run.masker(json.dumps(shown, indent=2, sort_keys=True)))
    return values


def diagnosis(run: TerraformRun) -> Diagnosis:
    """What :func:`~fargate_harness.runner.diagnostics.explain` knows of ``run``."""
    return Diagnosis.of(
        run.name,
        run.source,
        run.modules,
        run.target,
        run.toolchain,
        variables=run.variables,
        user_variables=run.user_variables,
        sensitive=run.sensitive,
        masker=run.masker,
        provider_version=run.provider_version,
    )


def refusal(run: TerraformRun, cmd: str, refusals: list[Any]) -> str:
    """The network guard's message for ``run``'s refused requests."""
    endpoints = run.schema.endpoints if run.schema is not None else ()
    states = tuple(
        f"data.terraform_remote_state.{label} in {module.path}"
        for module in run.modules
        for kind, label in module.data_sources
        if kind == "terraform_remote_state"
    )
    return refusal_message(
        run.name,
        cmd,
        refusals,
        endpoints,
        tuple(overrides.unredirected_blocks(run.tfdir, run.source)),
        remote_states=states,
    )


def destroy(run: TerraformRun) -> None:
    """``terraform destroy``. Errors the retry table calls transient are retried by the session; anything
    else fails at once, and a fatal one (deletion protection, an emulator's missing action) names the resource
    and the cause (:func:`destroy_failure`).

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
    with run._stage("destroy"):
        for attempt in (1, 2):
            skip_refresh = unreadable or (attempt == 1 and run.settled and run.target.is_emulator)
            try:
                run._command(
                    "destroy",
                    "-input=false",
                    "-no-color",
                    "-auto-approve",
                    *(["-refresh=false"] if skip_refresh else []),
                    *run._var_args(),
                )
                break
            except TerraformError as exc:
                text = exc.stderr + exc.stdout
                if attempt == 1 and not fatal(text, run.target.is_emulator):
                    # a data source that finds nothing (an image never pushed, an object removed elsewhere)
                    # fails every refresh the same way; the managed resources need none to be destroyed
                    unreadable = bool(empty_lookups(text)) and not skip_refresh
                    if unreadable or skip_refresh:
                        assert run.session is not None
                        run.session.retries += 1
                        LOG.warning(
                            "%s: destroy failed, trying once more %s",
                            run.name,
                            "without reading data sources (one found nothing)" if unreadable else "with a refresh",
                        )
                        continue
                raise destroy_failure(run, exc) from exc
    run.applied = run.settled = False
    for leftover in [*run.tfdir.glob("*.tfplan"), run.tfdir / "terraform.tfstate.backup"]:
        leftover.unlink(missing_ok=True)


def destroy_failure(run: TerraformRun, exc: TerraformError) -> TerraformError:
    """``exc`` with, first, what a fatal error means for each object the provider names in it (its Terraform
    address when the state still holds it), emulator error pages summarised (:func:`explain_destroy`)."""
    text, emulator = exc.stderr + exc.stdout, run.target.is_emulator
    objects = failed_objects(text) if fatal(text, emulator) else []
    addresses = addresses_of(run, [object_id for _kind, object_id in objects])
    stderr = explain_destroy(
        run.name, exc.stderr, exc.stdout, emulator=emulator, target=run.target.name, addresses=addresses
    )
    return TerraformError(exc.command, exc.exit_code, stderr, exc.stdout)


def addresses_of(run: TerraformRun, object_ids: Iterable[str]) -> dict[str, str]:
    """object id or name -> the Terraform address of the managed resource of the state that has it."""
    wanted = set(object_ids)
    if not wanted:
        return {}
    try:
        state = run.show_state()
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


@contextlib.contextmanager
def _stage(run: TerraformRun, name: str) -> Iterator[None]:
    """Time one stage into ``run.timings``, telling ``run.progress`` when it starts and ends."""
    if run.progress is not None:
        run.progress(run.name, name, None)
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        run.timings[name] = run.timings.get(name, 0.0) + seconds
        if run.progress is not None:
            run.progress(run.name, name, seconds)


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
