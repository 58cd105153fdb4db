"""Where scenarios live, what each needs, and the variables a run gives it."""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError
from fargate_harness.model.ownership import ownership_tags
from fargate_harness.options import run_id
from fargate_harness.runner import hcl
from fargate_harness.runner.run import SENSITIVE_VARIABLES, Progress, TerraformRun
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets import capabilities
from fargate_harness.targets.base import RESOURCE_SERVICES, Target
from fargate_harness.targets.localstack import OPTIONAL_SERVICES

#: A case folder (``scenarios/broken/<case>/``) names its reference scenario here; its ``*_override.tf``
#: files are copied into the root of that scenario's copy (Terraform merges override files per module).
CASE_FILE = "case.json"


def default_scenarios_dir() -> Path:
    """``HARNESS_SCENARIOS_DIR``, else ``./scenarios``."""
    return Path(os.environ.get("HARNESS_SCENARIOS_DIR") or "scenarios").resolve()


@dataclass(frozen=True)
class Configuration:
    """A root configuration: one of ours under the scenarios folder, a case (a reference scenario plus
    ``overlays``), or any folder a user names."""

    name: str
    path: Path
    overlays: tuple[Path, ...] = field(default=())
    #: One of the harness's reference scenarios (or a case of one): it deploys in the target's region (the
    #: harness's ``region`` variable is imposed). Any other configuration keeps its own region.
    reference: bool = False

    @property
    def needed_services(self) -> frozenset[str]:
        """AWS services the scenario's resources (its own, its overlays' and its local modules') need."""
        found = {"iam", "sts"}
        types = {kind for module in hcl.walk(self.path) for kind in module.resource_types}
        for overlay in self.overlays:
            types |= {kind for kind, _name in hcl.read_module(overlay.parent, [overlay]).resources}
        for resource_type in types:
            for prefix, service in RESOURCE_SERVICES.items():
                if resource_type.startswith(prefix):
                    found.add(service)
        return frozenset(found)

    @property
    def variables(self) -> frozenset[str]:
        """Names of the variables the root module declares."""
        return frozenset(hcl.read_module(self.path).variables)

    @property
    def needs_registry_account(self) -> bool:
        """True when the scenario reaches a second (registry) account."""
        return "registry_role_arn" in self.variables


def optional_services(scenario: Configuration) -> frozenset[str]:
    """Services ``scenario`` can run without: those whose switch variable it declares
    (:data:`~fargate_harness.targets.localstack.OPTIONAL_SERVICES`).

    A case (a reference scenario plus ``*_override.tf`` files, ``scenarios/broken/``) exists to be diagnosed by
    the preflight of its task definition, so nothing is optional there even though its base declares switches.
    """
    if scenario.overlays:
        return frozenset()
    return frozenset(service for service, variable in OPTIONAL_SERVICES.items() if variable in scenario.variables)


def missing_for(scenario: Configuration, target: Target) -> tuple[list[str], list[str]]:
    """(missing_required, missing_optional): the services ``scenario`` needs that ``target`` lacks
    (:func:`fargate_harness.targets.capabilities.missing_services`)."""
    return capabilities.missing_services(target, scenario.needed_services, optional_services(scenario))


def skip_reason(scenario: Configuration, target: Target) -> str | None:
    """Why ``scenario`` cannot run on ``target`` (``"target localstack lacks ecr"``), or None when it can."""
    return capabilities.lacks(target, scenario.needed_services, optional_services(scenario))


def unavailable(scenario: Configuration, target: Target, registry_hint: str) -> str | None:
    """:func:`skip_reason`, or for a scenario that reaches a registry account on a target without one,
    ``"needs a registry account"`` followed by ``registry_hint`` (how to give one); None when it can run."""
    return capabilities.unavailable(
        target,
        scenario.needed_services,
        optional_services(scenario),
        needs_registry_account=scenario.needs_registry_account,
        registry_hint=registry_hint,
    )


def discover(scenarios_dir: Path | None = None) -> dict[str, Configuration]:
    """Every root configuration directly under the scenarios folder, by name."""
    root = scenarios_dir or default_scenarios_dir()
    if not root.is_dir():
        raise ConfigurationError(
            f"scenarios folder {root} does not exist: run from the project root or set "
            "--tf-scenarios-dir / HARNESS_SCENARIOS_DIR"
        )
    return {
        child.name: Configuration(child.name, child, reference=True)
        for child in sorted(root.iterdir())
        if child.is_dir() and any(child.glob("*.tf"))
    }


def case(name: str, folder: Path, root: Path) -> Configuration:
    """A case folder: ``case.json`` names the reference scenario, ``*_override.tf`` files break it."""
    try:
        spec = json.loads((folder / CASE_FILE).read_text())
        base = str(spec["base"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(f'{folder / CASE_FILE}: expected {{"base": "<scenario>"}} ({exc})') from exc
    overlays = tuple(sorted(folder.glob("*_override.tf")))
    if not overlays:
        raise ConfigurationError(f"{folder}: a case needs at least one *_override.tf file")
    return Configuration(name, get(base, root).path, overlays, reference=True)


def get(name: str, scenarios_dir: Path | None = None) -> Configuration:
    """The scenario called ``name`` (a folder under the scenarios folder, nested ones like ``broken/x`` too)."""
    root = scenarios_dir or default_scenarios_dir()
    known = discover(root)
    if name in known:
        return known[name]
    path = (root / name).resolve()
    if "/" in name and path.is_relative_to(root.resolve()) and path.is_dir():
        if (path / CASE_FILE).is_file():
            return case(name, path, root)
        if hcl.config_files(path):
            return Configuration(name, path, reference=True)
    raise ConfigurationError(f"no scenario {name!r}; known scenarios: {', '.join(known) or 'none'}")


def from_path(path: Path, label: str | None = None) -> Configuration:
    """Any Terraform root folder as a scenario (``--dir PATH``, the ``terraform`` marker)."""
    folder = path.expanduser().resolve()
    if not folder.is_dir():
        raise ConfigurationError(f"{path}: no such folder; give the folder of a Terraform root configuration")
    if not hcl.config_files(folder):
        raise ConfigurationError(f"{path}: no .tf or .tf.json files; give the folder of a Terraform root configuration")
    return Configuration(label or folder.name, folder)


def unique_prefix(worker: str = "main") -> str:
    """A resource-name prefix unique to this process: ``fh-<worker>-<6 hex>``."""
    worker = re.sub(r"[^a-z0-9]", "", worker.lower())[:6] or "main"
    return f"fh-{worker}-{secrets.token_hex(3)}"


def run_variables(scenario: Configuration, prefix: str, target_variables: dict[str, str]) -> dict[str, str]:
    """Variables for one run: the prefix, a secret value, and what the target supplies.

    ``region`` among them is a fallback for any configuration but the reference scenarios: the run gives it only
    where the configuration gives none (``TerraformRun.keep_region``).

    The secret value is fresh per run unless ``HARNESS_SECRET_VALUE`` plants a known one (for hygiene tests).
    """
    secret = os.environ.get("HARNESS_SECRET_VALUE") or secrets.token_urlsafe(24)
    values = {"name_prefix": prefix, "secret_value": secret, **target_variables}
    return {k: v for k, v in values.items() if k in scenario.variables}


def new_run(
    scenario: Configuration,
    *,
    target: Target,
    tools: Toolchain,
    results_dir: Path,
    worker: str = "main",
    keep: bool = False,
    extra: dict[str, Any] | None = None,
    var_files: tuple[Path, ...] = (),
    progress: Progress | None = None,
    account_id: str | None = None,
) -> TerraformRun:
    """A :class:`~fargate_harness.runner.run.TerraformRun` with a unique prefix, the run's variables and its
    ownership tags.

    ``extra`` are values given by name (they win over the harness's values and over ``var_files``);
    ``account_id`` the account to deploy into on an emulator, over the one the configuration names.
    """
    prefix = unique_prefix(worker)
    return TerraformRun(
        scenario.path,
        target=target,
        toolchain=tools,
        prefix=prefix,
        results_dir=results_dir,
        variables=run_variables(scenario, prefix, target.scenario_variables()),
        user_variables=dict(extra or {}),
        var_files=var_files,
        overlays=scenario.overlays,
        sensitive=SENSITIVE_VARIABLES,
        tags=ownership_tags(run_id(), scenario.name, prefix),
        keep=keep,
        label=scenario.name,
        progress=progress,
        account_id=account_id,
        keep_region=not scenario.reference,
    )
