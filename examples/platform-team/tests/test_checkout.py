"""The checkout service, applied once for this module on the emulator the harness starts itself."""

from __future__ import annotations

import pytest

from fargate_harness import AppliedRun

pytestmark = pytest.mark.terraform("../infra/services/checkout")


def test_the_task_would_start(applied: AppliedRun) -> None:
    assert applied.assert_tasks_start() == 1


def test_the_execution_role_grants_no_more_than_the_task_needs(applied: AppliedRun) -> None:
    applied.assert_least_privilege()


def test_both_roles_trust_only_ecs_tasks(applied: AppliedRun) -> None:
    applied.assert_trusts_only_ecs_tasks()
    applied.role("checkout-task").assert_trusts_only("ecs-tasks.amazonaws.com")


def test_tfvars_are_read_but_the_harness_region_wins(applied: AppliedRun) -> None:
    """terraform.tfvars gives the image; the harness's own `region` (the target's) beats the tfvars value."""
    (task_definition,) = applied.inventory.task_definitions
    assert task_definition.containers[0].image == "public.ecr.aws/nginx/nginx:1.25"
    assert task_definition.arn.split(":")[3] == applied.target.region
