"""Configuration task-role: execution role and task role side by side, with an S3 bucket and a DynamoDB table."""

from __future__ import annotations

import pytest

from fargate_harness import checks
from fargate_harness.checks import AppliedRun
from tests.scenarios._support import need, reference, run_check

pytestmark = pytest.mark.scenario("task-role")

CHECKS = (
    *reference.COMMON_CHECKS,
    reference.task_role_statements,
    reference.secret_references,
    reference.role_separation,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: AppliedRun, check: checks.Check) -> None:
    run_check(applied, check)


def test_task_role_reaches_bucket_and_table(applied: AppliedRun) -> None:
    (service,) = reference.services(applied)
    assert service.task_declared("s3_bucket_arns") == [applied.outputs["bucket_arn"]]
    need(applied, {"dynamodb"}, "table (create_table = false)")
    assert service.task_declared("dynamodb_table_arns") == [applied.outputs["table_arn"]]
