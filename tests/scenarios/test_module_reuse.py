"""Configuration module-reuse: the execution-role module reused for three services, each with its own secret."""

from __future__ import annotations

import pytest

from fargate_harness import checks
from fargate_harness.checks import AppliedRun
from tests.scenarios._support import reference, run_check

pytestmark = pytest.mark.scenario("module-reuse")

CHECKS = (
    *reference.COMMON_CHECKS,
    reference.secret_references,
    reference.role_isolation,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: AppliedRun, check: checks.Check) -> None:
    run_check(applied, check)


def test_three_services_with_distinct_roles(applied: AppliedRun) -> None:
    items = reference.services(applied)
    roles = {s["execution_role_arn"] for s in items}
    assert len(items) >= 3 and len(roles) == len(items), (
        f"module-reuse: services: expected >= 3 services with distinct execution roles, got {sorted(roles)}"
    )
