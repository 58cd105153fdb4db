"""The destroy path of a run: what it does when the emulator no longer holds what the state says."""

from __future__ import annotations

from collections.abc import Callable

from fargate_harness.checks import AppliedRun, run_of
from fargate_harness.runner.diagnostics import RetryPolicy
from fargate_harness.runner.session import logged_commands


def test_destroy_after_an_object_left_behind_terraforms_back_still_removes_everything(
    scenario_factory: Callable[..., AppliedRun],
) -> None:
    """After the clean idempotency plan the destroy skips its refresh on an emulator (never on real AWS); an
    object deleted outside Terraform since then makes that attempt fail or not, and either way nothing may
    remain. Terraform CLI docs, "Command: plan", planning options: ``-refresh=false`` ignores changes made
    outside of Terraform."""
    run = run_of(scenario_factory("basic"))  # the lifecycle's run: this test drives its destroy
    assert run.session is not None
    run.session.retry = RetryPolicy(attempts=run.retry.attempts, pause_seconds=0)  # the retry, not its pause
    (group,) = run.inventory.values_of("aws_cloudwatch_log_group")
    # the repository only where the target has ECR (basic's create_repository switch: LocalStack has none)
    repositories = [r["name"] for r in run.inventory.values_of("aws_ecr_repository")]
    logs = run.target.client("logs")
    logs.delete_log_group(logGroupName=group["name"])

    run.destroy()

    commands = [argv for argv in logged_commands(run.log_path.read_text()) if argv[1] == "destroy"]
    emulator = run.target.is_emulator
    assert commands and ("-refresh=false" in commands[0]) is emulator, (
        f"basic: expected the first destroy after a clean plan to "
        f"{'skip' if emulator else 'keep'} the refresh on {run.target.name}, ran {commands}"
    )
    assert all("-refresh=false" not in argv for argv in commands[1:]), f"basic: a retry must refresh, ran {commands}"
    left = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group["name"])["logGroups"]]
    if repositories:
        held = {r["repositoryName"] for r in run.target.client("ecr").describe_repositories()["repositories"]}
        left += [f"repository {name}" for name in repositories if name in held]
    assert not left, f"basic: after the destroy expected nothing of the run left, got {left}"
    assert not run.applied, "basic: the destroy finished but the run still counts as applied"
