"""Where scenarios live, what each needs, and the variables a run gives it."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import run_id
from harness.errors import ConfigurationError
from harness.ownership import ownership_tags
from harness.targets.base import RESOURCE_SERVICES, Target
from harness.terraform import ScenarioRun, local_module_dirs
from harness.toolchain import Toolchain

_RESOURCE = re.compile(r'^\s*resource\s+"(aws_[a-z0-9_]+)"', re.MULTILINE)
_VARIABLE = re.compile(r'^\s*variable\s+"([A-Za-z0-9_-]+)"', re.MULTILINE)
#: Variables whose values the harness generates and must never print.
SENSITIVE_VARIABLES = ("secret_value",)


def default_scenarios_dir() -> Path:
    """``HARNESS_SCENARIOS_DIR``, else ``./scenarios``."""
    return Path(os.environ.get("HARNESS_SCENARIOS_DIR") or "scenarios").resolve()


@dataclass(frozen=True)
class Scenario:
    """A root configuration under the scenarios folder."""

    name: str
    path: Path

    @property
    def needed_services(self) -> frozenset[str]:
        """AWS services the scenario's resources (its own and its local modules') need."""
        found = {"iam", "sts"}
        for folder in local_module_dirs(self.path):
            for tf in folder.glob("*.tf"):
                for resource_type in _RESOURCE.findall(tf.read_text()):
                    for prefix, service in RESOURCE_SERVICES.items():
                        if resource_type.startswith(prefix):
                            found.add(service)
        return frozenset(found)

    @property
    def variables(self) -> frozenset[str]:
        """Names of the variables the root module declares."""
        names: set[str] = set()
        for tf in self.path.glob("*.tf"):
            names.update(_VARIABLE.findall(tf.read_text()))
        return frozenset(names)

    @property
    def needs_registry_account(self) -> bool:
        """True when the scenario reaches a second (registry) account."""
        return "registry_role_arn" in self.variables


def discover(scenarios_dir: Path | None = None) -> dict[str, Scenario]:
    """Every root configuration directly under the scenarios folder, by name."""
    root = scenarios_dir or default_scenarios_dir()
    if not root.is_dir():
        raise ConfigurationError(
            f"scenarios folder {root} does not exist: run from the project root or set "
            "--tf-scenarios-dir / HARNESS_SCENARIOS_DIR"
        )
    return {
        child.name: Scenario(child.name, child)
        for child in sorted(root.iterdir())
        if child.is_dir() and any(child.glob("*.tf"))
    }


def get(name: str, scenarios_dir: Path | None = None) -> Scenario:
    """The scenario called ``name`` (a folder under the scenarios folder, nested ones like ``broken/x`` too)."""
    root = scenarios_dir or default_scenarios_dir()
    known = discover(root)
    if name in known:
        return known[name]
    path = (root / name).resolve()
    if "/" in name and path.is_relative_to(root.resolve()) and path.is_dir() and any(path.glob("*.tf")):
        return Scenario(name, path)
    raise ConfigurationError(f"no scenario {name!r}; known scenarios: {', '.join(known) or 'none'}")


def unique_prefix(worker: str = "main") -> str:
    """A resource-name prefix unique to this process: ``fh-<worker>-<6 hex>``."""
    worker = re.sub(r"[^a-z0-9]", "", worker.lower())[:6] or "main"
    return f"fh-{worker}-{secrets.token_hex(3)}"


def run_variables(scenario: Scenario, prefix: str, target_variables: dict[str, str]) -> dict[str, str]:
    """Variables for one run: the prefix, a secret value, and what the target supplies.

    The secret value is fresh per run unless ``HARNESS_SECRET_VALUE`` plants a known one (for hygiene tests).
    """
    secret = os.environ.get("HARNESS_SECRET_VALUE") or secrets.token_urlsafe(24)
    values = {"name_prefix": prefix, "secret_value": secret, **target_variables}
    return {k: v for k, v in values.items() if k in scenario.variables}


def new_run(
    scenario: Scenario,
    *,
    target: Target,
    tools: Toolchain,
    results_dir: Path,
    worker: str = "main",
    keep: bool = False,
    extra: dict[str, Any] | None = None,
) -> ScenarioRun:
    """A :class:`ScenarioRun` with a unique prefix, the run's variables and its ownership tags."""
    prefix = unique_prefix(worker)
    return ScenarioRun(
        scenario.path,
        target=target,
        toolchain=tools,
        prefix=prefix,
        results_dir=results_dir,
        variables={**run_variables(scenario, prefix, target.scenario_variables()), **(extra or {})},
        sensitive=SENSITIVE_VARIABLES,
        tags=ownership_tags(run_id(), scenario.name, prefix),
        keep=keep,
        label=scenario.name,
    )
