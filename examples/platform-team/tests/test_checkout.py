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


def test_tfvars_are_read_and_the_service_stays_in_its_own_region(applied: AppliedRun) -> None:
    """terraform.tfvars gives the image and the region: the harness deploys the service as written, in eu-central-1."""
    (task_definition,) = applied.inventory.task_definitions
    assert task_definition.containers[0].image == "public.ecr.aws/nginx/nginx:1.25"
    region = task_definition.arn.split(":")[3]
    assert region == "eu-central-1", f"checkout: aws_ecs_task_definition.checkout: expected eu-central-1, got {region}"
