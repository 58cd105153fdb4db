"""Deployed as written: user-shaped configurations applied on the selected target keep their own region, account
and default_tags, and the run lists what the harness changed.

- ``team-service-eu``: terraform.tfvars sets ``region = "eu-west-1"`` (variables.tf defaults to us-east-1), the
  provider carries the team's ``default_tags`` (a literal map) and ``ignore_tags``; an alias with no region of
  its own has ``default_tags`` that are an expression.
- ``fixed-account-registry``: fixed names, and a repository policy that grants pull to the execution role by its
  ARN in account 111122223333, the account the image is in.
- ``cross-account-ecr-variable``: the same grant with the account written as a variable
  (``arn:aws:iam::${var.ecs_account_id}:role/orders-task-execution``, default 314159265358), in eu-west-1.

AWS docs: tags_all and default_tags (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/resource-tagging),
Terraform override files replace nested blocks whole (https://developer.hashicorp.com/terraform/language/files/override),
ECR repository policies for same- and cross-account pulls
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fargate_harness import checks, configurations
from fargate_harness.checks import AppliedRun
from fargate_harness.model.inventory import managed_resources
from fargate_harness.model.ownership import MARKER_KEY, MARKER_VALUE, SCENARIO_KEY
from fargate_harness.runner.overrides import HARNESS_VAR_FILE, MANIFEST_FILE
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets import Target
from tests.scenarios._support import need

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"
TEAM_TAGS = {"Team": "payments", "CostCenter": "cc-4711", "Environment": "staging"}
AUDIT_TAGS = {"DataClass": "restricted", "Purpose": "audit"}
NAMED_ACCOUNT = "111122223333"  # the account of the repository policy's principal in fixed-account-registry/main.tf


def _tags_all(run: AppliedRun) -> dict[str, dict[str, str]]:
    """Terraform address -> tags_all, for every resource of the state that has tags_all."""
    return {
        r.address: dict(r.values["tags_all"])
        for r in managed_resources(run.state)
        if r.values.get("tags_all") is not None
    }


@pytest.mark.terraform(str(CONFIGS / "team-service-eu"))
class TestTeamServiceEu:
    def test_the_configurations_region_is_kept(self, applied_class: AppliedRun) -> None:
        (td,) = applied_class.inventory.task_definitions
        region = td.arn.split(":")[3]
        assert region == "eu-west-1", (
            f"team-service-eu: aws_ecs_task_definition.orders: expected region eu-west-1 (terraform.tfvars), got "
            f"{region}; fix: the harness must not give `region` where the configuration gives one"
        )
        harness_values = json.loads((applied_class.workdir / HARNESS_VAR_FILE).read_text())
        assert "region" not in harness_values, f"team-service-eu: harness var file sets region: {harness_values}"
        assert applied_class.target.region == "eu-west-1", applied_class.target

    def test_an_alias_without_a_region_lands_in_the_configurations_region(self, applied_class: AppliedRun) -> None:
        arns = {r.address: r.values.get("arn") for r in managed_resources(applied_class.state)}
        arn = str(arns["aws_cloudwatch_log_group.audit"])
        assert ":eu-west-1:" in arn, f"team-service-eu: aws_cloudwatch_log_group.audit: expected eu-west-1, got {arn}"
        assert any(c.startswith('region: provider "aws.audit" sets no region') for c in applied_class.changes), (
            applied_class.changes
        )

    def test_tags_all_carry_the_teams_tags_and_the_ownership_tags(self, applied_class: AppliedRun) -> None:
        tagged = _tags_all(applied_class)
        assert len(tagged) >= 5, f"team-service-eu: expected at least 5 tagged resources, got {sorted(tagged)}"
        for address, tags in tagged.items():
            expected = {**(AUDIT_TAGS if address.endswith(".audit") else TEAM_TAGS), MARKER_KEY: MARKER_VALUE}
            missing = {k: v for k, v in expected.items() if tags.get(k) != v}
            assert not missing, (
                f"team-service-eu: {address}: expected tags_all to hold {missing}, got {tags}; fix: merge the "
                "harness's tags into the configuration's default_tags instead of replacing them"
            )
            assert tags.get(SCENARIO_KEY) == "team-service-eu", f"team-service-eu: {address}: {tags}"

    def test_the_tags_are_on_the_aws_object(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"logs"}, "log group tags")
        logs = applied_class.target.client("logs")  # the run's target reads in eu-west-1
        tags = logs.list_tags_log_group(logGroupName="/ecs/orders")["tags"]
        assert tags.get("Team") == "payments" and tags.get(MARKER_KEY) == MARKER_VALUE, (
            f"team-service-eu: aws_cloudwatch_log_group.orders: expected Team and {MARKER_KEY} on the log group in "
            f"eu-west-1, got {tags}"
        )

    def test_checks_and_preflight_read_in_the_configurations_region(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs", "logs"}, "preflight")
        assert checks.awslogs_groups_exist(applied_class) == 1
        assert applied_class.assert_tasks_start() == 1
        (report,) = checks.preflight_reports(applied_class)
        logs = [v.requirement.resource for v in report.verdicts if v.requirement.kind == "logs"]
        assert logs and all(":logs:eu-west-1:" in r for r in logs), (
            f"team-service-eu: aws_ecs_task_definition.orders: expected the preflight to judge the log group in "
            f"eu-west-1, got {logs}"
        )

    def test_the_run_lists_what_the_harness_changed(self, applied_class: AppliedRun) -> None:
        changes = applied_class.changes
        assert any(c.startswith("tags: the ownership tags") and "merged into" in c for c in changes), changes
        assert not any(c.startswith("region: variable region set") for c in changes), changes
        manifest = json.loads((applied_class.workdir / MANIFEST_FILE).read_text())
        assert manifest["changes"] == changes and manifest["region"] == "eu-west-1", manifest

    def test_ignore_tags_of_the_configuration_are_kept(self, applied_class: AppliedRun) -> None:
        """A tag another tool sets (``LastScannedBy``, in the provider's ignore_tags) must not make the plan want to
        remove it: the override never replaces ignore_tags."""
        need(applied_class, {"logs"}, "log group tags")
        logs = applied_class.target.client("logs")
        logs.tag_log_group(logGroupName="/ecs/orders", tags={"LastScannedBy": "scanner"})
        changes = applied_class.plan_changes()
        assert not changes, (
            f"team-service-eu: aws_cloudwatch_log_group.orders: expected no change for an ignored tag, got {changes}; "
            "fix: keep the configuration's ignore_tags"
        )


@pytest.mark.terraform(str(CONFIGS / "fixed-account-registry"), preflight={"images": "assume-pushed"})
class TestFixedAccountRegistry:
    def test_runs_in_the_account_it_names(self, applied_class: AppliedRun) -> None:
        if not applied_class.target.is_emulator:
            pytest.skip("on real AWS the credentials decide the account")
        role = applied_class.inventory.role("ecs-task-execution-role")
        assert role.account == NAMED_ACCOUNT == applied_class.target.account_id(), (
            f"fixed-account-registry: aws_iam_role.execution: expected account {NAMED_ACCOUNT} (the repository "
            f"policy's principal), got {role.account}"
        )
        assert any(c.startswith(f"account: runs in {NAMED_ACCOUNT}") for c in applied_class.changes), (
            applied_class.changes
        )

    def test_its_image_is_pulled_within_its_own_account(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs", "ecr"}, "preflight")
        assert applied_class.assert_tasks_start() == 1


VARIABLE_ACCOUNT = "314159265358"  # var.ecs_account_id's default in cross-account-ecr-variable/variables.tf


@pytest.mark.terraform(str(CONFIGS / "cross-account-ecr-variable"), preflight={"images": "assume-pushed"})
class TestAccountNamedThroughAVariable:
    """Deployed in a random account, the repository policy's principal (the role in 314159265358) is not the task's
    execution role, and the preflight reports a CannotPullContainerError that the configuration, deployed where it
    says, never meets."""

    def test_runs_in_the_account_its_policy_names(self, applied_class: AppliedRun) -> None:
        if not applied_class.target.is_emulator:
            pytest.skip("on real AWS the credentials decide the account")
        role = applied_class.inventory.role("orders-task-execution")
        assert role.account == VARIABLE_ACCOUNT, (
            f"cross-account-ecr-variable: aws_iam_role.task_execution: expected account {VARIABLE_ACCOUNT} "
            f"(var.ecs_account_id in the repository policy's principal), got {role.account}"
        )
        assert any("var.ecs_account_id = 314159265358" in c for c in applied_class.changes), applied_class.changes

    def test_no_false_cannot_pull(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs", "ecr"}, "preflight")
        assert applied_class.assert_tasks_start() == 1


def test_an_account_id_given_to_the_run_wins(
    harness_target: Target, harness_toolchain: Toolchain, tmp_path: Path
) -> None:
    if not harness_target.is_emulator:
        pytest.skip("on real AWS the credentials decide the account")
    run = configurations.new_run(
        configurations.from_path(CONFIGS / "fixed-account-registry"),
        target=harness_target,
        tools=harness_toolchain,
        results_dir=tmp_path,
        worker="acct",
        account_id="444455556666",
    )
    try:
        run.prepare()
        assert run.target.account_id() == "444455556666", (
            f"fixed-account-registry: expected the given account 444455556666, got {run.target.account_id()}"
        )
        assert any("the account id given to the run" in c for c in run.changes), run.changes
    finally:
        run.down()
