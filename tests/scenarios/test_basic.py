"""Configuration basic: one service pulling its image from a same-account ECR repository."""

from __future__ import annotations

import os

import pytest

from fargate_harness import checks
from fargate_harness.aws import ecr, ecs
from fargate_harness.checks import AppliedRun
from fargate_harness.processes import stat_fields
from tests.scenarios._support import need, reference, run_check

pytestmark = pytest.mark.scenario("basic")

CHECKS = reference.COMMON_CHECKS


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: AppliedRun, check: checks.Check) -> None:
    run_check(applied, check)


def test_image_comes_from_the_declared_same_account_repository(applied: AppliedRun) -> None:
    need(applied, {"ecs"}, "task definition image")
    (service,) = reference.services(applied)
    td = ecs.get_task_definition(applied.target.client("ecs"), service["task_definition_arn"])
    images = [ecr.parse_image_uri(c["image"]) for c in td["containerDefinitions"]]
    arns = {ecr.repository_arn(i, partition=service["execution_role_arn"].split(":")[1]) for i in images if i}
    assert arns == set(service.declared("ecr_repository_arns")), (
        f"basic: task definition {ecs.task_definition_label(td)}: expected images from "
        f"{service.declared('ecr_repository_arns')}, got {[c['image'] for c in td['containerDefinitions']]}"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc/<pid>/stat."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_commands_attach_to_the_runs_provider_process(applied: AppliedRun) -> None:
    # TF_REATTACH_PROVIDERS: Terraform plugin docs, "Debugging Providers" (debug mode and reattach)
    pid = applied.provider_pid
    assert pid is not None, "basic: one AWS provider configuration, but the run started no provider process"
    before = _cpu_seconds(pid)
    applied.plan_changes()
    used = _cpu_seconds(pid) - before
    assert applied.provider_pid == pid, (
        f"basic: the provider process changed during a plan ({pid} -> {applied.provider_pid})"
    )
    assert used >= 0.05, f"basic: a plan used {used:.2f} s CPU of the run's provider process {pid}: it did not attach"
