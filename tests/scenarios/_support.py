"""What every scenario test module does the same way: run a check, or skip what the target cannot do."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from fargate_harness import checks
from fargate_harness.checks import AppliedRun

#: This repository's reference-scenario checks (scenarios/reference_checks.py), loaded as the CLI loads them.
reference = checks.load_module(Path(__file__).resolve().parents[2] / "scenarios" / "reference_checks.py")


def need(run: AppliedRun, services: Iterable[str], what: str) -> None:
    """Skip the calling test, naming ``what`` and the services, when the target lacks any of ``services``."""
    missing = run.target.missing_services(services)
    if missing:
        pytest.skip(f"{run.name}: {what}: target {run.target.name} lacks {', '.join(missing)}")


def run_check(run: AppliedRun, check: checks.Check) -> None:
    """Run one check; it must find something to check (a check that cannot fail is a defect)."""
    need(run, checks.needs_of(check), check.__name__)
    assert check(run) > 0, f"{run.name}: {check.__name__}: expected something to check, got nothing"
