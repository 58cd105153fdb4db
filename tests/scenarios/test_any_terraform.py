"""Configurations written the way users write them (tests/data/configs): fixed names, tfvars, an S3 backend, a
provider block in a child module, no outputs. Each is applied on the selected target through the
``terraform`` marker, and the checks that need no contract read what it built from the state.

Each class applies its configuration once (``applied_class``); with ``--dist loadscope`` classes spread over
the xdist workers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fargate_harness import checks
from fargate_harness.checks import AppliedRun
from fargate_harness.runner.overrides import BACKEND_OVERRIDE_FILE, OVERRIDE_FILE
from tests.scenarios._support import need, run_check

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"


def _denied(run: AppliedRun) -> dict[str, set[str]]:
    """task definition -> kinds of the requirements the preflight found denied or missing."""
    return {r.task_definition: {v.requirement.kind for v in r.failures} for r in checks.preflight_reports(run)}


def _failure_text(run: AppliedRun, check: checks.Check) -> str:
    with pytest.raises(AssertionError) as caught:
        check(run)
    return str(caught.value)


@pytest.mark.terraform(str(CONFIGS / "tutorial-web"), vars={"app_name": "shop"})
class TestTutorialWeb:
    """Fixed names, terraform.tfvars (region eu-west-1), an S3 backend and a `profile`, an image in a repository
    the configuration does not create and a log group it never creates."""

    def test_backend_is_local_and_the_profile_is_not_used(self, applied_class: AppliedRun) -> None:
        assert (applied_class.tfdir / BACKEND_OVERRIDE_FILE).is_file(), "tutorial-web: expected a local backend"
        assert (applied_class.tfdir / "terraform.tfstate").is_file(), (
            f"tutorial-web: expected the state in {applied_class.tfdir}, got none (was the s3 backend used?)"
        )
        assert "profile                     = null" in (applied_class.tfdir / OVERRIDE_FILE).read_text()

    def test_marker_values_beat_terraform_tfvars_and_tfvars_beat_defaults(self, applied_class: AppliedRun) -> None:
        (td,) = applied_class.inventory.task_definitions
        assert td.family == "shop-task", f"tutorial-web: task definition family: expected shop-task, got {td.family}"
        assert td.arn.split(":")[3] == "eu-west-1", f"tutorial-web: expected region eu-west-1 (tfvars), got {td.arn}"

    def test_fixed_names_run_in_an_account_of_their_own(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"iam"}, "isolated account")
        account = applied_class.inventory.role("shop-ecsTaskExecutionRole").account
        assert account == applied_class.target.account_id() != "123456789012", (
            f"tutorial-web: expected the run's own emulator account, got role account {account}"
        )

    def test_preflight_names_the_missing_repository_and_log_group(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs"}, "preflight")
        (kinds,) = _denied(applied_class).values()
        assert {"ecr-pull", "logs"} <= kinds, f"tutorial-web: preflight: expected ecr-pull and logs, got {kinds}"
        message = _failure_text(applied_class, checks.tasks_start)
        assert "shop-task:1" in message
        assert "repository web does not exist" in message, message

    def test_forgotten_log_group_is_named(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs", "logs"}, "awslogs groups")
        message = _failure_text(applied_class, checks.awslogs_groups_exist)
        assert "log group '/ecs/shop'" in message and "eu-west-1" in message, message

    @pytest.mark.parametrize("check", [checks.roles_trust_ecs_tasks, checks.execution_roles_least_privilege])
    def test_roles_are_sound(self, applied_class: AppliedRun, check: checks.Check) -> None:
        run_check(applied_class, check)


@pytest.mark.terraform(str(CONFIGS / "tutorial-secrets"))
class TestTutorialSecrets:
    """Secrets Manager: the inline policy grants one of the two secrets the task reads."""

    def test_preflight_names_the_ungranted_secret(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs"}, "preflight")
        (report,) = checks.preflight_reports(applied_class)
        denied = {v.requirement.resource for v in report.failures}
        assert len(denied) == 1 and "prod/orders/api-token" in denied.pop(), (
            f"tutorial-secrets: preflight: expected only the api-token secret denied, got {report.failures}"
        )
        assert "ResourceInitializationError" in report.error

    def test_secret_value_never_reaches_the_messages(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs"}, "preflight")
        message = _failure_text(applied_class, checks.tasks_start)
        assert "change-me-in-the-pipeline" not in message

    @pytest.mark.parametrize(
        "check",
        [checks.value_from_resolves, checks.roles_trust_ecs_tasks, checks.awslogs_groups_exist],
        ids=lambda c: c.__name__,
    )
    def test_passing_checks(self, applied_class: AppliedRun, check: checks.Check) -> None:
        run_check(applied_class, check)


@pytest.mark.terraform(str(CONFIGS / "tutorial-ssm-kms"))
class TestTutorialSsmKms:
    """SSM SecureString under a customer key the execution role may not decrypt; a SourceAccount condition."""

    def test_preflight_names_the_missing_decrypt(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs"}, "preflight")
        (kinds,) = _denied(applied_class).values()
        assert kinds == {"kms"}, f"tutorial-ssm-kms: preflight: expected only kms denied, got {kinds}"

    def test_source_account_condition_admits_the_account_ecs_sends(self, applied_class: AppliedRun) -> None:
        """Amazon ECS Developer Guide, "Task execution IAM role": the trust policy may carry aws:SourceAccount
        (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html)."""
        run_check(applied_class, checks.roles_trust_ecs_tasks)

    def test_parameters_resolve_by_arn_and_by_name(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs"}, "valueFrom")
        assert checks.value_from_resolves(applied_class) == 2


@pytest.mark.terraform(str(CONFIGS / "tutorial-task-role"))
class TestTutorialTaskRole:
    """A task role for the application, and an S3 permission put on the execution role "to be safe"."""

    def test_application_permission_on_the_execution_role_is_reported(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs", "iam"}, "misplaced permissions")
        message = _failure_text(applied_class, checks.execution_roles_hold_no_app_permissions)
        assert "s3:PutObject" in message or "s3" in message, message

    def test_role_assertions(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"iam", "dynamodb"}, "role assertions")
        table = next(t.arn for t in applied_class.inventory.tables)
        task = applied_class.role("uploader-task")
        task.assert_trusts_only("ecs-tasks.amazonaws.com")
        task.assert_allows("dynamodb:PutItem", table)
        task.assert_denies("dynamodb:DeleteTable", table)
        with pytest.raises(AssertionError, match="uploader-execution: expected not to allow s3:PutObject"):
            applied_class.role("uploader-execution").assert_denies("s3:PutObject", "arn:aws:s3:::acme-uploads-prod/x")

    def test_inventory_gathers_every_policy_kind(self, applied_class: AppliedRun) -> None:
        execution = applied_class.inventory.role("uploader-execution")
        task = applied_class.inventory.role("uploader-task")
        assert execution.attached == ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]
        assert set(execution.inline) == {"s3"}
        assert len(task.attached) == 1 and task.attached[0].endswith(":policy/uploader-task")


@pytest.mark.terraform(str(CONFIGS / "cross-account-alias"))
class TestCrossAccountAlias:
    """An aliased provider without a region of its own assumes a role in the registry account."""

    def test_repository_lives_in_the_registry_account(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecr"}, "registry account")
        (repository,) = applied_class.inventory.of_type("aws_ecr_repository")
        assert repository.account == applied_class.target.registry_account_id, (
            f"cross-account-alias: repository account: expected {applied_class.target.registry_account_id}, "
            f"got {repository.account}"
        )
        assert applied_class.inventory.accounts == {applied_class.target.account_id(), repository.account}

    def test_pull_is_granted_on_both_sides(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs", "ecr"}, "preflight")
        (report,) = checks.preflight_reports(applied_class)
        pulls = [v for v in report.verdicts if v.requirement.kind == "ecr-pull"]
        assert pulls and all(v.allowed for v in pulls), f"cross-account-alias: expected pulls allowed, got {pulls}"


@pytest.mark.terraform(str(CONFIGS / "deploy-role"))
class TestDeployRole:
    """JSON syntax, a ``cloud`` block, a profile, and a provider that assumes a deploy role in an account of its
    own: everything is built in that account, and read and preflighted there."""

    ACCOUNT = "345678901234"  # the account of the role_arn in tests/data/configs/deploy-role/main.tf.json

    def test_everything_lives_in_the_deploy_roles_account(self, applied_class: AppliedRun) -> None:
        assert applied_class.inventory.accounts == {self.ACCOUNT}, (
            f"deploy-role: expected every resource in {self.ACCOUNT}, got {applied_class.inventory.accounts}"
        )
        assert applied_class.target.account_id() != self.ACCOUNT, "deploy-role: the run's own account is another"

    def test_the_secret_is_read_where_the_task_runs(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs", "secretsmanager"}, "preflight")
        (report,) = checks.preflight_reports(applied_class)
        secrets = [v for v in report.verdicts if v.requirement.kind == "secret"]
        assert secrets and all(v.allowed for v in secrets), f"deploy-role: expected the secret readable: {secrets}"
        assert all(f":{self.ACCOUNT}:" in v.requirement.resource for v in secrets), secrets

    @pytest.mark.parametrize("check", checks.INVENTORY_CHECKS, ids=lambda c: c.__name__)
    def test_roles_are_sound(self, applied_class: AppliedRun, check: checks.Check) -> None:
        run_check(applied_class, check)


@pytest.mark.terraform(str(CONFIGS / "service-platform"))
class TestServicePlatform:
    """VPC, security groups, EFS with an access point, and a service module used by two services with
    autoscaling; the network module configures its own provider. (It had an ALB until provider 3.39's 60 s wait
    in every ``aws_lb`` create made it the suite's longest unit; the load balancer proved nothing the rest does
    not: the redirection of a child module's provider is what this class is for.)"""

    def test_child_module_provider_is_redirected(self, applied_class: AppliedRun) -> None:
        network = applied_class.tfdir / "modules" / "network" / OVERRIDE_FILE
        assert network.is_file(), f"service-platform: expected an override in {network.parent}"
        assert "endpoints {" in network.read_text()
        assert not (applied_class.tfdir / "modules" / "service" / OVERRIDE_FILE).exists(), (
            "service-platform: modules/service inherits its provider; no override expected there"
        )

    def test_inventory_finds_both_services(self, applied_class: AppliedRun) -> None:
        inventory = applied_class.inventory
        assert sorted(td.family for td in inventory.task_definitions) == ["staging-api", "staging-worker"]
        assert len(inventory.roles) == 4
        assert len(inventory.file_systems) == 1 and len(inventory.access_points) == 1
        assert {"aws_appautoscaling_target", "aws_appautoscaling_policy", "aws_security_group", "aws_vpc"} <= set(
            inventory.counts
        )

    @pytest.mark.parametrize(
        "check", [c for c in checks.INVENTORY_CHECKS if c is not checks.value_from_resolves], ids=lambda c: c.__name__
    )
    def test_every_inventory_check_passes(self, applied_class: AppliedRun, check: checks.Check) -> None:
        run_check(applied_class, check)

    def test_no_value_from_is_nothing_to_resolve(self, applied_class: AppliedRun) -> None:
        need(applied_class, {"ecs"}, "valueFrom")
        assert checks.value_from_resolves(applied_class) == 0
