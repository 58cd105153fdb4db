"""fargate-harness: integration tests, in Python, for the IAM roles of ECS Fargate tasks written in Terraform.

The public API, typed (``py.typed``): what a test or a script imports from ``fargate_harness``. Everything else
is importable but may change between minor versions. Names are loaded on first use, so that a process that only
needs one part (the embedded emulator's server, for one) does not import the rest.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("fargate-harness")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from fargate_harness.checks import AppliedRun, CheckResult, RoleAssertions
    from fargate_harness.errors import (
        ConfigurationError,
        HarnessError,
        InterruptedRun,
        NotIdempotentError,
        ResourceNotFoundError,
        TargetError,
        TerraformError,
        ToolchainError,
    )
    from fargate_harness.lifecycle import Lifecycle, Outcome
    from fargate_harness.model.inventory import Container, Inventory, Resource, Role, TaskDefinition
    from fargate_harness.plugin import TerraformApply
    from fargate_harness.preflight import AwsFacts, PreflightReport, preflight
    from fargate_harness.preflight.plan import PlanPreflight, PlanReport, preflight_plan

#: public name -> the module that defines it
_PUBLIC = {
    "AppliedRun": "fargate_harness.checks",
    "CheckResult": "fargate_harness.checks",
    "RoleAssertions": "fargate_harness.checks",
    "ConfigurationError": "fargate_harness.errors",
    "HarnessError": "fargate_harness.errors",
    "InterruptedRun": "fargate_harness.errors",
    "NotIdempotentError": "fargate_harness.errors",
    "ResourceNotFoundError": "fargate_harness.errors",
    "TargetError": "fargate_harness.errors",
    "TerraformError": "fargate_harness.errors",
    "ToolchainError": "fargate_harness.errors",
    "Lifecycle": "fargate_harness.lifecycle",
    "Outcome": "fargate_harness.lifecycle",
    "TerraformApply": "fargate_harness.plugin",
    "Container": "fargate_harness.model.inventory",
    "Inventory": "fargate_harness.model.inventory",
    "Resource": "fargate_harness.model.inventory",
    "Role": "fargate_harness.model.inventory",
    "TaskDefinition": "fargate_harness.model.inventory",
    "AwsFacts": "fargate_harness.preflight",
    "PreflightReport": "fargate_harness.preflight",
    "preflight": "fargate_harness.preflight",
    "PlanPreflight": "fargate_harness.preflight.plan",
    "PlanReport": "fargate_harness.preflight.plan",
    "preflight_plan": "fargate_harness.preflight.plan",
}

__all__ = [
    "AppliedRun",
    "AwsFacts",
    "CheckResult",
    "ConfigurationError",
    "Container",
    "HarnessError",
    "InterruptedRun",
    "Inventory",
    "Lifecycle",
    "NotIdempotentError",
    "Outcome",
    "PlanPreflight",
    "PlanReport",
    "PreflightReport",
    "Resource",
    "ResourceNotFoundError",
    "Role",
    "RoleAssertions",
    "TargetError",
    "TaskDefinition",
    "TerraformApply",
    "TerraformError",
    "ToolchainError",
    "__version__",
    "preflight",
    "preflight_plan",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'fargate_harness' has no attribute {name!r}")
