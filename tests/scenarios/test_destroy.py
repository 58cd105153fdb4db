"""The destroy path of a run: what it does when the emulator no longer holds what the state says."""

from __future__ import annotations

from collections.abc import Callable

from harness.terraform import RetryPolicy, ScenarioRun


def test_destroy_after_an_object_left_behind_terraforms_back_still_removes_everything(
    scenario_factory: Callable[..., ScenarioRun],
) -> None:
    """After the clean idempotency plan the destroy skips its refresh on an emulator (never on real AWS); an
    object deleted outside Terraform since then makes that attempt fail or not, and either way nothing may
    remain. Terraform CLI docs,
    "Command: plan", planning options: ``-refresh=false`` ignores changes made outside of Terraform."""
    run = scenario_factory("basic")
    run.retry = RetryPolicy(attempts=run.retry.attempts, pause_seconds=0)  # the retry, not its pause, is tested
    (group,) = run.inventory.values_of("aws_cloudwatch_log_group")
    (repository,) = run.inventory.values_of("aws_ecr_repository")
    logs, ecr_client = run.target.client("logs"), run.target.client("ecr")
    logs.delete_log_group(logGroupName=group["name"])

    run.destroy()

    commands = [line for line in run.log_path.read_text().splitlines() if line.startswith("$ ") and " destroy " in line]
    assert commands and ("-refresh=false" in commands[0]) is run.target.is_emulator, (
        f"basic: expected the first destroy after a clean plan to "
        f"{'skip' if run.target.is_emulator else 'keep'} the refresh on {run.target.name}, ran {commands}"
    )
    assert all("-refresh=false" not in line for line in commands[1:]), f"basic: a retry must refresh, ran {commands}"
    left = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group["name"])["logGroups"]]
    repositories = [r["repositoryName"] for r in ecr_client.describe_repositories()["repositories"]]
    assert not left and repository["name"] not in repositories, (
        f"basic: after the destroy expected nothing left, got log groups {left}, repository "
        f"{repository['name'] if repository['name'] in repositories else 'gone'}"
    )
    assert not run.applied, "basic: the destroy finished but the run still counts as applied"
