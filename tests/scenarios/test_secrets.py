"""Scenario secrets: Secrets Manager secrets injected by ARN and by JSON key."""

from __future__ import annotations

import pytest

from harness import checks
from harness.aws import ecs, secrets
from harness.terraform import ScenarioRun

pytestmark = pytest.mark.scenario("secrets")

CHECKS = (
    *checks.COMMON_CHECKS,
    checks.secret_references,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: ScenarioRun, check: checks.Check) -> None:
    missing = checks.unavailable(check, applied.target)
    if missing:
        pytest.skip(f"secrets: {check.__name__}: target {applied.target.name} lacks {', '.join(missing)}")
    assert check(applied) > 0, f"secrets: {check.__name__}: expected something to check, got nothing"


def test_json_key_reference_is_used(applied: ScenarioRun) -> None:
    missing = applied.target.missing_services({"ecs"})
    if missing:
        pytest.skip(f"secrets: task definition secrets: target {applied.target.name} lacks {', '.join(missing)}")
    (service,) = checks.services(applied)
    td = ecs.get_task_definition(applied.target.client("ecs"), service["task_definition_arn"])
    keys = [secrets.parse_secret_reference(ref).json_key for _c, _n, ref in ecs.secret_references(td)]
    assert any(keys), (
        f"secrets: task definition {ecs.task_definition_label(td)}: expected a JSON-key reference, got {keys}"
    )
