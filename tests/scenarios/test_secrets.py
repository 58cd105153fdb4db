"""Configuration secrets: Secrets Manager secrets injected by ARN and by JSON key."""

from __future__ import annotations

import pytest

from fargate_harness import checks
from fargate_harness.aws import ecs, secrets
from fargate_harness.checks import AppliedRun
from tests.scenarios._support import need, reference, run_check

pytestmark = pytest.mark.scenario("secrets")

CHECKS = (
    *reference.COMMON_CHECKS,
    reference.secret_references,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: AppliedRun, check: checks.Check) -> None:
    run_check(applied, check)


def test_json_key_reference_is_used(applied: AppliedRun) -> None:
    need(applied, {"ecs"}, "task definition secrets")
    (service,) = reference.services(applied)
    td = ecs.get_task_definition(applied.target.client("ecs"), service["task_definition_arn"])
    keys = [secrets.parse_secret_reference(ref).json_key for _c, _n, ref in ecs.secret_references(td)]
    assert any(keys), (
        f"secrets: task definition {ecs.task_definition_label(td)}: expected a JSON-key reference, got {keys}"
    )
