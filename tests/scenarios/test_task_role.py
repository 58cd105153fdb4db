"""Scenario task-role: execution role and task role side by side, with an S3 bucket and a DynamoDB table."""

from __future__ import annotations

import pytest

from harness import checks
from harness.terraform import ScenarioRun

pytestmark = pytest.mark.scenario("task-role")

CHECKS = (
    *checks.COMMON_CHECKS,
    checks.task_role_statements,
    checks.secret_references,
    checks.role_separation,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: ScenarioRun, check: checks.Check) -> None:
    missing = checks.unavailable(check, applied.target)
    if missing:
        pytest.skip(f"task-role: {check.__name__}: target {applied.target.name} lacks {', '.join(missing)}")
    assert check(applied) > 0, f"task-role: {check.__name__}: expected something to check, got nothing"


def test_task_role_reaches_bucket_and_table(applied: ScenarioRun) -> None:
    (service,) = checks.services(applied)
    assert service.task_declared("s3_bucket_arns") == [applied.outputs["bucket_arn"]]
    missing = applied.target.missing_services({"dynamodb"})
    if missing:
        pytest.skip(f"task-role: table: target {applied.target.name} lacks dynamodb (create_table = false)")
    assert service.task_declared("dynamodb_table_arns") == [applied.outputs["table_arn"]]
