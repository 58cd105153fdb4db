"""Several configurations applied as module blocks of one generated root: one ``init``, ``apply``, idempotency
``plan`` and ``destroy`` for all of them instead of one of each per configuration.

Why: on an emulator most of a small configuration's CPU is fixed per Terraform command, not per resource.
Measured on 2 cores with the provider attached: a plan of ``basic`` (6 resources) and of ``module-reuse``
(21) both cost the provider 0.32 CPU-s; the five single-provider reference scenarios applied as one root
took 5.8 CPU-s and 4.4 s, against about 16.5 CPU-s and 13 s one after another.

What each configuration keeps: the values the harness gives it alone (its own name prefix,
``<batch prefix>-<n>``, the region, the generated secret), its own state (the batch's, restricted to its
addresses, with the ``module.<key>.`` prefix taken off), every check and preflight on that state, its own
idempotency verdict (the batch's plan restricted to its addresses) and a destroy (the batch's).

A configuration joins a batch only when, as a module of another root, Terraform would build what it builds
as a root (:func:`unbatchable` gives the rule each refusal rests on); the rest run alone, as before. When
the batch fails before its checks (init, apply, the plan), it is destroyed, its folder is kept, and every
member runs alone: Terraform then attributes each error itself, exactly as without batching.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fargate_harness.errors import ConfigurationError, NotIdempotentError
from fargate_harness.model.applied import AppliedState
from fargate_harness.runner import as_written, hcl
from fargate_harness.runner.diagnostics import not_idempotent
from fargate_harness.runner.overrides import OVERRIDE_FILE
from fargate_harness.runner.run import SENSITIVE_VARIABLES, TerraformRun
from fargate_harness.runner.workspace import copy_configuration
from fargate_harness.targets.base import DEFAULT_TAGS_SINCE, Target, provider_release


class Configuration(Protocol):
    """What a batch reads of a configuration (:class:`fargate_harness.configurations.Configuration` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def overlays(self) -> tuple[Path, ...]: ...
    @property
    def reference(self) -> bool: ...
    @property
    def variables(self) -> frozenset[str]: ...


#: Variables the harness itself gives a configuration that declares them (``configurations.run_variables``).
HARNESS_VARIABLES = ("name_prefix", "secret_value", "region", "registry_role_arn")
#: Files Terraform loads by itself for a root module, and never for a module call (Terraform docs, "Input
#: Variables", "Variable Definitions (.tfvars) Files").
_AUTO_VAR_FILES = ("terraform.tfvars", "terraform.tfvars.json", "*.auto.tfvars", "*.auto.tfvars.json")
_PATH_ROOT = re.compile(r"\bpath\.root\b")


def unbatchable(scenario: Configuration, target: Target) -> str | None:
    """Why ``scenario`` cannot be a module of a batch on ``target``, or None when it can.

    Each rule is a difference between a root module and a called module that would change what Terraform
    builds, or that the harness could not undo:

    - provider blocks: a called module's own ``provider`` block is a configuration of its own, so the
      batch could not share one provider process; only a root ``provider "aws"`` block setting nothing but
      ``region``, to the region the batch uses, is equivalent to the batch's;
    - ``terraform.tfvars``/``*.auto.tfvars``, a lock file, ``import`` blocks and ``backend``/``cloud``
      blocks take effect in a root module only; ``path.root`` names the batch's folder inside a module;
    - a module from a registry or git: its provider blocks are only known after ``init``;
    - no ``name_prefix``: fixed names run in an account of their own (isolation), and a variable without
      a default that the harness does not set would fail the whole batch.
    """
    return next(_reasons(scenario, target), None)


def _reasons(scenario: Configuration, target: Target) -> Iterator[str]:
    if not target.is_emulator:
        yield "batches run on emulator targets only"
        return
    modules = hcl.walk(scenario.path)
    root = modules[0]
    if "name_prefix" not in root.variables:
        yield "no name_prefix variable (fixed names run in an account of their own)"
    missing = sorted(n for n, v in root.variables.items() if not v.has_default and n not in HARNESS_VARIABLES)
    if missing:
        yield f"variable(s) without a default the harness does not set: {', '.join(missing)}"
    if hcl.remote_modules(modules):
        yield "calls a module that is not a local folder (its provider blocks are known only after init)"
    yield from _root_only_settings(scenario, root)
    if not scenario.reference:
        # deployed as written: a member that names its own region would be built in the target's inside a batch
        values = as_written.variable_values(scenario.path, root.variables)
        region = as_written.configured_region(root, values).region
        if region is not None and region != target.region:
            yield f"it deploys in its own region {region} (the batch deploys in {target.region})"
    for module in modules:
        yield from (r for b in module.providers if (r := _provider_reason(b, module is root, target)))
        for path in hcl.config_files(module.path):
            if _PATH_ROOT.search(path.read_text(encoding="utf-8")):
                yield f"{path.name} uses path.root, which names the batch's folder inside a module"


def _root_only_settings(scenario: Configuration, root: hcl.ModuleConfig) -> Iterator[str]:
    """What takes effect in a root module only, in the configuration or in its overlays."""
    if root.backend is not None or root.cloud is not None:
        yield "declares a backend or cloud block (a root module's setting)"
    for pattern in _AUTO_VAR_FILES:
        yield from (f"{found.name} is loaded for a root module only" for found in sorted(scenario.path.glob(pattern)))
    if (scenario.path / ".terraform.lock.hcl").is_file():
        yield "its .terraform.lock.hcl selects provider versions only as a root module"
    if root.imports:
        yield "import blocks are allowed in a root module only"
    for overlay in scenario.overlays:
        extra = hcl.read_module(overlay.parent, [overlay])
        if extra.providers or extra.backend or extra.imports or _PATH_ROOT.search(overlay.read_text("utf-8")):
            yield f"{overlay.name} changes a provider, the backend, an import or uses path.root"


def _provider_reason(block: hcl.ProviderBlock, in_root: bool, target: Target) -> str | None:
    where = f'provider "{block.label}" in {block.file}'
    if not in_root:
        return None if block.is_proxy else f"{where} configures a provider inside a module"
    if block.name != "aws" or block.alias or not block.arguments <= {"region"}:
        return f"{where} is a provider configuration a batch cannot share (only `region` may be set)"
    if block.file.name.endswith(".tf.json"):
        return f"{where} is in a JSON file"
    region = hcl.provider_argument(block, "region")
    if region is not None and region not in ("var.region", target.region):
        # the harness sets var.region to the target's region; any other expression may differ from the batch's
        return f"{where} sets region to {region!r}, not var.region or the target's {target.region}"
    return None


def module_key(name: str, taken: Iterable[str]) -> str:
    """A module block name for a configuration called ``name`` (``broken/x`` -> ``broken_x``), unique."""
    key = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "config"
    if not key[0].isalpha():
        key = f"c_{key}"
    used, candidate, n = set(taken), key, 2
    while candidate in used:
        candidate, n = f"{key}_{n}", n + 1
    return candidate


@dataclass
class Member:
    """One configuration of a batch: its module block name, its name prefix suffix, its outputs."""

    scenario: Configuration
    key: str
    number: int
    #: root output name -> the configuration's own output name
    outputs: dict[str, str] = field(default_factory=dict)
    #: its root folder in the batch's generated source (a copy of its own, with its local modules)
    copy: Path = Path()

    @property
    def address(self) -> str:
        """``module.<key>``"""
        return f"module.{self.key}"


def root_text(members: Iterable[Member], folder: Path) -> str:
    """The generated root (``main.tf``) calling each member from ``folder``; fills ``Member.outputs``."""
    modules = [(member, hcl.read_module(member.scenario.path)) for member in members]
    declared: dict[str, bool] = {}
    for _member, module in modules:
        for name, variable in module.variables.items():
            if name in HARNESS_VARIABLES:
                declared[name] = declared.get(name, False) or variable.sensitive or name in SENSITIVE_VARIABLES
    lines = [
        "# Written by fargate-harness: configurations applied as modules of one root (runner/batch.py).",
        "terraform {",
        "  required_providers {",
        "    aws = {",
        '      source = "hashicorp/aws"',
        "    }",
        "  }",
        "}",
    ]
    for name, sensitive in declared.items():
        lines += ["", f'variable "{name}" {{', *(["  sensitive = true"] if sensitive else []), "}"]
    for member, module in modules:
        source = os.path.relpath(member.copy, folder)
        arguments = {"source": f'"{source if source.startswith("..") else "./" + source}"'}
        for name in module.variables:
            if name == "name_prefix":
                arguments[name] = f'"${{var.name_prefix}}-{member.number}"'
            elif name in declared:
                arguments[name] = f"var.{name}"
        width = max(len(k) for k in arguments)
        lines += ["", f'module "{member.key}" {{', *[f"  {k:<{width}} = {v}" for k, v in arguments.items()], "}"]
        for output, sensitive in module.outputs.items():
            exported = f"{member.key}__{output}"
            member.outputs[exported] = output
            lines += ["", f'output "{exported}" {{', f"  value     = {member.address}.{output}"]
            lines += [f"  sensitive = {'true' if sensitive else 'false'}", "}"]
    return "\n".join(lines) + "\n"


def _as_module(member: Member) -> None:
    """Take the root ``provider "aws"`` block (:func:`unbatchable` allows only a region one) out of the member's
    copy, and add the member's overlays (a broken case's ``*_override.tf``) to it."""
    for path in hcl.config_files(member.copy):
        if path.name.endswith(".tf"):
            text, removed = hcl.without_blocks(path.read_text(encoding="utf-8"), "provider", "aws")
            if removed:
                path.write_text(text, encoding="utf-8")
    for overlay in member.scenario.overlays:
        if overlay.name == OVERRIDE_FILE:
            raise ConfigurationError(f"{overlay}: the harness writes {OVERRIDE_FILE}; rename it")
        shutil.copy2(overlay, member.copy / overlay.name)


def member_state(state: Mapping[str, Any], member: Member) -> dict[str, Any]:
    """``terraform show -json`` of the batch's state as the member's own state would read: its module's
    resources and child modules at the root, every address without ``module.<key>.``, its outputs."""
    values = state.get("values") or {}
    prefix = member.address + "."
    found: Mapping[str, Any] = {}
    for child in (values.get("root_module") or {}).get("child_modules") or []:
        if child.get("address") == member.address:
            found = child
    module = _strip(found, prefix)
    module.pop("address", None)
    outputs = {own: item for name, item in (values.get("outputs") or {}).items() if (own := member.outputs.get(name))}
    shown = {k: v for k, v in state.items() if k != "values"}
    shown["values"] = {"outputs": outputs, "root_module": module}
    return shown


def _strip(module: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    def short(address: str) -> str:
        return address[len(prefix) :] if address.startswith(prefix) else address

    copied = dict(module)
    if "address" in copied:
        copied["address"] = short(str(copied["address"]))
    resources = []
    for item in copied.get("resources") or []:
        resource = dict(item, address=short(str(item.get("address"))))
        if "depends_on" in resource:
            resource["depends_on"] = [short(str(a)) for a in resource["depends_on"]]
        resources.append(resource)
    if "resources" in copied:
        copied["resources"] = resources
    if "child_modules" in copied:
        copied["child_modules"] = [_strip(child, prefix) for child in copied["child_modules"]]
    return copied


def member_changes(changes: Iterable[str], member: Member) -> list[str]:
    """The batch plan's changes (``"<address>: <actions>"``) that are the member's, in its own addresses."""
    prefix = member.address + "."
    mine = []
    for change in changes:
        if change.startswith(prefix):
            mine.append(change[len(prefix) :])
        elif change.startswith("output."):
            name, _, actions = change[len("output.") :].partition(": ")
            if name in member.outputs:
                mine.append(f"output.{member.outputs[name]}: {actions}")
    return mine


class Batch:
    """The generated root over ``scenarios`` and its run; :meth:`views` gives each member's run after ``up``."""

    def __init__(
        self,
        chosen: Iterable[Configuration],
        *,
        results_dir: Path,
        new_run: Callable[[Path], TerraformRun],
    ) -> None:
        """``new_run(source)``: the run of the generated root ``source`` (the lifecycle's, with its target,
        toolchain, prefix and variables)."""
        self.members: list[Member] = []
        for number, scenario in enumerate(chosen, start=1):
            key = module_key(scenario.name, (m.key for m in self.members))
            self.members.append(Member(scenario, key, number))
        self.source = results_dir / ".batch-sources" / f"{os.getpid()}-{id(self):x}"
        for member in self.members:
            member.copy = copy_configuration(member.scenario.path, self.source / "members" / member.key)
            _as_module(member)
        (self.source / "main.tf").write_text(root_text(self.members, self.source))
        self.run = new_run(self.source)
        self.changes: list[str] = []

    @property
    def names(self) -> list[str]:
        """The members' scenario names, in order."""
        return [m.scenario.name for m in self.members]

    def up(self) -> None:
        """Copy, make each member's copy a plain module, init, apply, plan for idempotency."""
        run = self.run
        run.prepare()
        run.init()
        # below DEFAULT_TAGS_SINCE the harness passes its ownership tags through each configuration's own `tags`
        # variable, which a batch cannot mirror
        old_provider = provider_release(run.provider_version or "0") < DEFAULT_TAGS_SINCE
        if old_provider and any("tags" in m.scenario.variables for m in self.members):
            raise ConfigurationError(
                f"aws provider {run.provider_version} has no default_tags: the harness tags each configuration "
                "through its own `tags` variable, which a batch cannot mirror"
            )
        run.apply()
        self.changes = run.plan_changes()

    def _copy_of(self, member: Member) -> Path:
        """The member's root folder in the run's copy (which keeps the batch source's layout)."""
        return self.run.tfdir / member.copy.relative_to(self.source)

    def member_states(self) -> list[AppliedState]:
        """Each member's share of the batch's applied state: its own state (addresses without ``module.<key>.``),
        outputs, prefix and variables, in its root folder of the batch's copy."""
        run = self.run
        states = []
        for member in self.members:
            prefix = f"{run.prefix}-{member.number}"
            variables = {k: v for k, v in run.variables.items() if k in member.scenario.variables}
            variables["name_prefix"] = prefix
            states.append(
                AppliedState(
                    member.scenario.name,
                    member.scenario.path.resolve(),
                    prefix,
                    self._copy_of(member),
                    member_state(run.state, member),
                    {own: run.outputs[name] for name, own in member.outputs.items() if name in run.outputs},
                    variables,
                )
            )
        return states

    def member(self, name: str) -> Member:
        """The member whose scenario is called ``name``."""
        return next(m for m in self.members if m.scenario.name == name)

    def forget(self, name: str, address: str) -> None:
        """:meth:`TerraformRun.forget` of the member's own ``address`` (for emulator gaps only)."""
        self.run.forget(f"{self.member(name).address}.{address}")

    def idempotency_error(self, member_name: str) -> NotIdempotentError | None:
        """The member's idempotency failure (as its own plan would report it), or None."""
        changes = member_changes(self.changes, self.member(member_name))
        return not_idempotent(member_name, changes) if changes else None

    def down(self, failed: bool = False) -> None:
        """Destroy the batch (one destroy for every member); its folder is kept when ``failed``."""
        try:
            self.run.down(failed=failed)
        finally:
            shutil.rmtree(self.source, ignore_errors=True)
