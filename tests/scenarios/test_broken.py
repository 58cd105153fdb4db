"""Broken cases: a reference scenario plus one ``*_override.tf`` that breaks one thing; preflight must name it.

Every case of ``scenarios/broken/`` is applied once for the module, as one batch where it can be (one init,
apply, plan and destroy for all of them, see runner/batch.py; a case with two provider configurations runs
alone), and each test checks one case on its own state: that preflight predicts the task would not start,
which requirements are denied, the ECS error, and where the fix goes. Nothing else may be reported denied. As
in ``startup_preflight``, the scenario's pipeline push of ``latest`` to its own repositories is stood in for by
a placeholder manifest, so images are decided as AWS decides them (``images="require"``).

AWS documentation: Amazon ECS Developer Guide, "Amazon ECS stopped task error messages",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html, and each case's
docstring.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest

from fargate_harness import checks
from fargate_harness.aws import ecr, ecs, iam
from fargate_harness.checks import AppliedRun
from fargate_harness.plugin import Together
from fargate_harness.preflight import AwsFacts, PreflightReport, preflight
from tests.scenarios._support import reference


def report_of(applied: AppliedRun, service_key: str = "", deployer_role: str = "") -> PreflightReport:
    """Preflight of the case's task definition (``service_key`` picks one of several services), as ``deployer_role``
    (a role the case creates, by name suffix after ``<name>-``) when given."""
    services = reference.services(applied)
    if service_key:
        (service,) = [s for s in services if s.key == service_key]
    else:
        (service,) = services
    facts = AwsFacts(applied.target)
    if applied.target.is_emulator:
        td = ecs.get_task_definition(applied.target.client("ecs"), service["task_definition_arn"])
        for container in td.get("containerDefinitions", []):
            image = ecr.parse_image_uri(str(container.get("image", "")))
            client = facts.client("ecr", image.account_id) if image else None
            if image and client is not None and facts.repository_exists(image.repository_name, image.account_id, ""):
                ecr.push_placeholder_image(client, image.repository_name, "latest", registry_id=image.account_id)
    deployer = None
    if deployer_role:
        name = f"{str(service['execution_role_name']).removesuffix('-execution')}-{deployer_role}"
        deployer = str(iam.get_role(applied.target.client("iam"), name)["Arn"])
    return preflight(applied.target, service["task_definition_arn"], facts, deployer=deployer)


class Case:
    """What every case shares: its folder under scenarios/, which service and which deployer."""

    case: ClassVar[str]
    service: ClassVar[str] = ""  # the key of the service to check when the scenario has several
    deployer_role: ClassVar[str] = ""  # preflight with deployer= this role of the case ("<name>-<deployer_role>")

    def report(self, applied: AppliedRun) -> PreflightReport:
        return report_of(applied, self.service, self.deployer_role)


class BrokenCase(Case):
    """One case: the denied requirement kinds, a fragment of the error, a fragment of the fix and its place."""

    kinds: ClassVar[set[str]]
    error: ClassVar[str]
    fix: ClassVar[str] = ""
    place: ClassVar[str] = ""

    def names_the_failure(self, applied: AppliedRun) -> None:
        report = self.report(applied)
        case = applied.name
        subject = f"task definition {report.task_definition}"
        denied = {v.requirement.kind for v in report.failures}
        assert not report.will_start, f"{case}: {subject}: expected the task not to start, got will_start"
        assert denied == self.kinds, (
            f"{case}: {subject}: expected denied {sorted(self.kinds)}, got {sorted(denied)} "
            f"(missing {sorted(self.kinds - denied)}, extra {sorted(denied - self.kinds)})"
        )
        assert any(self.error in error for error in report.errors), (
            f"{case}: {subject}: expected an error with {self.error!r}, got {report.errors!r}"
        )
        fixes = " | ".join(v.fix for v in report.failures)
        assert self.fix in fixes, f"{case}: {subject}: expected a fix with {self.fix!r}, got {fixes!r}"
        places = {v.place for v in report.failures}
        assert not self.place or any(self.place in place for place in places), (
            f"{case}: {subject}: expected the fix in {self.place!r}, got {sorted(places)}"
        )

    def json_says_it_would_not_start(self, applied: AppliedRun) -> None:
        document = self.report(applied).to_dict()
        assert document["will_start"] is False
        assert {r["kind"] for r in document["requirements"] if not r["allowed"]} == self.kinds
        assert document["error"] == " | ".join(document["errors"])


class WarningCase(Case):
    """A case whose denials do not stop the task: the kinds denied, a fragment of the warning and of the fix."""

    kinds: ClassVar[set[str]]
    warning: ClassVar[str]
    fix: ClassVar[str] = ""
    place: ClassVar[str] = ""

    def warns_and_the_task_starts(self, applied: AppliedRun) -> None:
        report = self.report(applied)
        subject = f"{applied.name}: task definition {report.task_definition}"
        assert report.will_start, f"{subject}: expected the task to start, got errors {report.errors!r}"
        assert report.errors == [], f"{subject}: expected no start error, got {report.errors!r}"
        denied = {v.requirement.kind for v in report.failures}
        assert denied == self.kinds, f"{subject}: expected denied {sorted(self.kinds)}, got {sorted(denied)}"
        assert any(self.warning in text for text in report.warnings), (
            f"{subject}: expected a warning with {self.warning!r}, got {report.warnings!r}"
        )
        assert all(not v.requirement.fatal for v in report.failures), f"{subject}: a denial stops the task"
        fixes = " | ".join(v.fix for v in report.failures)
        assert self.fix in fixes, f"{subject}: expected a fix with {self.fix!r}, got {fixes!r}"
        places = {v.place for v in report.failures}
        assert not self.place or any(self.place in place for place in places), (
            f"{subject}: expected the fix in {self.place!r}, got {sorted(places)}"
        )

    def json_says_it_would_start_with_warnings(self, applied: AppliedRun) -> None:
        document = self.report(applied).to_dict()
        assert document["will_start"] is True
        assert document["errors"] == [] and document["error"] == ""
        assert document["warnings"], "expected warnings in the JSON report"
        assert {r["kind"] for r in document["requirements"] if not r["allowed"]} == self.kinds


class EcrPullDenied(BrokenCase):
    """Amazon ECS Developer Guide, "Amazon ECS task execution IAM role" (ECR permissions),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"""

    case = "broken/ecr-pull-denied"
    kinds: ClassVar[set[str]] = {"ecr-auth", "ecr-pull"}
    error = "unable to retrieve ecr registry auth"
    fix = '"Action": "ecr:GetAuthorizationToken"'
    place = "role"


class CrossAccountPolicyMissing(BrokenCase):
    """Amazon ECR User Guide, "Private repository policy examples" (cross-account pull),
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html"""

    case = "broken/cross-account-policy-missing"
    kinds: ClassVar[set[str]] = {"ecr-pull"}
    error = "CannotPullContainerError"
    fix = "repository policy in account"
    place = "repository policy"


class SecretNotGranted(BrokenCase):
    """Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"""

    case = "broken/secret-not-granted"
    kinds: ClassVar[set[str]] = {"secret"}
    error = "unable to retrieve secret from asm"
    fix = '"Action": "secretsmanager:GetSecretValue"'


class ParameterNotGranted(BrokenCase):
    """Amazon ECS Developer Guide, "Pass Systems Manager parameters through Amazon ECS environment variables",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html"""

    case = "broken/parameter-not-granted"
    kinds: ClassVar[set[str]] = {"parameter"}
    error = "unable to retrieve secrets from ssm"
    fix = '"Action": "ssm:GetParameters"'


class KmsDecryptMissing(BrokenCase):
    """AWS KMS Developer Guide, "Default key policy" (IAM policies grant use when the key policy delegates),
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"""

    case = "broken/kms-decrypt-missing"
    kinds: ClassVar[set[str]] = {"kms"}
    error = "kms:Decrypt denied"
    fix = '"Action": "kms:Decrypt"'
    place = "role"


class KeyPolicyUntrusted(BrokenCase):
    """AWS KMS Developer Guide, "Key policies in AWS KMS" (without a root statement IAM cannot grant),
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"""

    case = "broken/key-policy-untrusted"
    kinds: ClassVar[set[str]] = {"kms"}
    error = "kms:Decrypt denied"
    fix = "add to the key policy of"
    place = "key policy"


class LogGroupMissing(BrokenCase):
    """Amazon ECS Developer Guide, "Send Amazon ECS logs to CloudWatch",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"""

    case = "broken/log-group-missing"
    kinds: ClassVar[set[str]] = {"logs"}
    error = "failed to validate logger args"
    fix = "create it, or fix the reference in container app awslogs"
    place = "create the resource"


class LogsActionsMissing(BrokenCase):
    """Amazon ECS Developer Guide, "Send Amazon ECS logs to CloudWatch" (logs:CreateLogStream, PutLogEvents),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"""

    case = "broken/logs-actions-missing"
    kinds: ClassVar[set[str]] = {"logs"}
    error = "failed to validate logger args"
    fix = '"Action": "logs:CreateLogStream"'


class ImageNotPushed(BrokenCase):
    """Amazon ECS Developer Guide, "Troubleshoot CannotPullContainer task errors" (image not found),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html"""

    case = "broken/image-not-pushed"
    kinds: ClassVar[set[str]] = {"image"}
    error = "CannotPullContainerError"
    fix = "push the image"
    place = "push the image"


class ExecutionRoleMissing(BrokenCase):
    """Amazon ECS Developer Guide, "Amazon ECS task execution IAM role" (trust relationship) and "Amazon ECS
    stopped task error messages" ("ECS was unable to assume the role"),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"""

    case = "broken/execution-role-missing"
    kinds: ClassVar[set[str]] = {"trust"}
    error = "ECS was unable to assume the role"
    place = "trust policy"


class EnvironmentFileMissing(BrokenCase):
    """Amazon ECS Developer Guide, "Pass environment variables to an Amazon ECS container" (environmentFiles:
    s3:GetObject and s3:GetBucketLocation), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html"""

    case = "broken/environment-file-missing"
    kinds: ClassVar[set[str]] = {"environment-file"}
    error = "failed to download env files"
    fix = '"Action": "s3:GetBucketLocation"'


class FirelensS3Config(BrokenCase):
    """Amazon ECS Developer Guide, "Send Amazon ECS logs to an AWS service or AWS Partner" (Fargate supports only
    the file config type), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html;
    RegisterTaskDefinition's "Invalid arn syntax." (github.com/aws/aws-sdk/issues/311)"""

    case = "broken/firelens-s3-config"
    kinds: ClassVar[set[str]] = set()
    error = "ClientException: Invalid arn syntax."


class TrustEc2Service(BrokenCase):
    """Amazon ECS Developer Guide, "Amazon ECS task IAM role" (the trust relationship names
    ecs-tasks.amazonaws.com) and "Amazon ECS stopped task error messages" ("ECS was unable to assume the role"),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"""

    case = "broken/trust-ec2-service"
    kinds: ClassVar[set[str]] = {"trust"}
    error = "ECS was unable to assume the role"
    fix = '"Principal": {"Service": "ecs-tasks.amazonaws.com"}'
    place = "trust policy"


class TrustOtherSourceAccount(BrokenCase):
    """IAM User Guide, "The confused deputy problem" (ECS sends aws:SourceAccount, the account the task runs in),
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html; Amazon ECS Developer Guide, "Amazon ECS
    task IAM role", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"""

    case = "broken/trust-other-source-account"
    kinds: ClassVar[set[str]] = {"trust"}
    error = "ECS was unable to assume the role"
    fix = "aws:SourceAccount"
    place = "trust policy"


class EfsMountDenied(BrokenCase):
    """Amazon ECS Developer Guide, "Specify an Amazon EFS file system in an Amazon ECS task definition" (IAM
    authorization mounts with the task role), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html;
    Amazon EFS User Guide, "Using IAM to control file system data access",
    https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html"""

    case = "broken/efs-mount-denied"
    kinds: ClassVar[set[str]] = {"efs"}
    error = "failed to invoke EFS utils commands to set up EFS volumes"
    fix = '"Action": "elasticfilesystem:ClientMount"'
    place = "role"


class LogSecretNotGranted(BrokenCase):
    """Amazon ECS Developer Guide, "Pass sensitive data to an Amazon ECS container" (logConfiguration.secretOptions
    are fetched with the task execution role), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html"""

    case = "broken/log-secret-not-granted"
    service = "worker"
    kinds: ClassVar[set[str]] = {"secret"}
    error = "unable to retrieve secret from asm"
    fix = '"Action": "secretsmanager:GetSecretValue"'
    place = "role"


class SecretReferenceNotGranted(BrokenCase):
    """AWS Systems Manager User Guide, "Referencing AWS Secrets Manager secrets from Parameter Store parameters"
    (the caller needs ssm:GetParameters and secretsmanager:GetSecretValue),
    https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html"""

    case = "broken/secret-reference-not-granted"
    kinds: ClassVar[set[str]] = {"secret"}
    error = "unable to retrieve secrets from ssm"
    fix = '"Action": "secretsmanager:GetSecretValue"'
    place = "role"


class FirelensOutputDenied(WarningCase):
    """Amazon ECS Developer Guide, "Send Amazon ECS logs to an AWS service or AWS Partner" (the log router's outputs
    use the task role; the task starts either way), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html"""

    case = "broken/firelens-output-denied"
    kinds: ClassVar[set[str]] = {"firelens-output"}
    warning = "FireLens log router (task role)"
    fix = '"Action": "logs:PutLogEvents"'
    place = "-task"


class CreateGroupOnExistingLogGroup(WarningCase):
    """Amazon ECS Developer Guide, "Send Amazon ECS logs to CloudWatch" ("Your IAM policy must include the
    logs:CreateLogGroup permission before you attempt to use awslogs-create-group."),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html; the awslogs driver Fargate uses
    creates the group only when CreateLogStream says it is missing (moby daemon/logger/awslogs)"""

    case = "broken/create-group-on-existing-log-group"
    kinds: ClassVar[set[str]] = {"logs-create-group"}
    warning = "Your IAM policy must include the logs:CreateLogGroup permission before you attempt to use"
    fix = '"Action": "logs:CreateLogGroup"'
    place = "role"


class DeployerCannotPassRole(BrokenCase):
    """IAM User Guide, "Grant a user permissions to pass a role to an AWS service" (iam:PassRole on every role the
    task definition names), https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"""

    case = "broken/deployer-cannot-pass-role"
    deployer_role = "extra"
    kinds: ClassVar[set[str]] = {"deployer"}
    error = "is not authorized to perform: iam:PassRole on resource: "
    fix = '"Action": "iam:PassRole"'
    place = "-extra"


class SecretVersionIdMalformed(BrokenCase):
    """Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables" (valueFrom
    arn:...:secret:name-AbCdEf:json-key:version-stage:version-id),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html; Secrets Manager
    API Reference, GetSecretValue (VersionId: 32-64 characters),
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html"""

    case = "broken/secret-version-id-malformed"
    kinds: ClassVar[set[str]] = {"secret"}
    error = "GetSecretValueInput.VersionId"
    fix = "end valueFrom with '<json-key>::'"
    place = "the resource"


class SecretJsonKeyMissing(BrokenCase):
    """Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables" (a specific
    JSON key of a secret), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"""

    case = "broken/secret-json-key-missing"
    kinds: ClassVar[set[str]] = {"secret"}
    error = "retrieved secret from Secrets Manager did not contain json key passwd"
    fix = "add the key 'passwd' to the secret's value, or fix the JSON key in container app secret DB_PASSWORD"


class CreateGroupDenied(BrokenCase):
    """Amazon ECS Developer Guide, "Send Amazon ECS logs to CloudWatch" (awslogs-create-group needs
    logs:CreateLogGroup), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html; the driver
    creates a missing group after CreateLogStream (moby daemon/logger/awslogs)"""

    case = "broken/create-group-denied"
    kinds: ClassVar[set[str]] = {"logs-create-group"}
    error = "failed to create Cloudwatch log group"
    fix = '"Action": "logs:CreateLogGroup"'
    place = "role"


BROKEN: list[BrokenCase] = [case() for case in BrokenCase.__subclasses__()]
WARNING: list[WarningCase] = [case() for case in WarningCase.__subclasses__()]


def _params(cases: list[BrokenCase] | list[WarningCase]) -> list[object]:
    """One parameter per case, marked with its scenario (the report tallies tests per scenario)."""
    return [pytest.param(c, id=c.case.removeprefix("broken/"), marks=pytest.mark.scenario(c.case)) for c in cases]


@pytest.fixture(scope="module")
def broken(request: pytest.FixtureRequest, scenario_batch: Callable[..., Together]) -> Iterator[Together]:
    """Every case a selected test of the module asks for (``-k``, a shard), applied once for the module (see the
    module's docstring)."""
    selected = {
        item.callspec.params["case"].case
        for item in request.session.items
        if item.module is request.module and isinstance(item, pytest.Function) and hasattr(item, "callspec")
    }
    together = scenario_batch([case.case for case in (*BROKEN, *WARNING) if case.case in selected])
    yield together
    # LocalStack may answer DeleteFileSystemPolicy as moto 5.2.5 does (HTTP 500; the embedded emulator adds it,
    # fargate_harness.targets.moto_server): there the policy leaves the state before the destroy, which deletes the file
    # system and its policy with it (as EFS does). On the embedded target the destroy deletes the policy itself.
    efs = EfsMountDenied.case
    if together.target.is_emulator and together.target.name != "embedded" and together.applied(efs):
        together.forget(efs, "aws_efs_file_system_policy.extra[0]")


@pytest.mark.parametrize("case", _params(BROKEN))
def test_preflight_names_the_failure(case: BrokenCase, broken: Together) -> None:
    case.names_the_failure(broken.run(case.case))


@pytest.mark.parametrize("case", _params(BROKEN))
def test_json_report_says_it_would_not_start(case: BrokenCase, broken: Together) -> None:
    case.json_says_it_would_not_start(broken.run(case.case))


@pytest.mark.parametrize("case", _params(WARNING))
def test_preflight_warns_and_the_task_starts(case: WarningCase, broken: Together) -> None:
    case.warns_and_the_task_starts(broken.run(case.case))


@pytest.mark.parametrize("case", _params(WARNING))
def test_json_report_says_it_would_start_with_warnings(case: WarningCase, broken: Together) -> None:
    case.json_says_it_would_start_with_warnings(broken.run(case.case))


# -- fixes in the configuration's own terms, end to end ------------------------------------------------------------
# ``broken/secret-not-granted`` passes no secret to the execution-role module (``secret_arns = []``), so the task
# cannot read its two secrets. The assertion users call (``AppliedRun.assert_tasks_start()``) must say so with the
# Terraform addresses of the secrets, the module argument that feeds the role's policy and the policy resource, and
# ``fix:``; never the emulator's account or the secrets' random suffixes in the fix. The case's member of the
# module's batch is what a test of that configuration alone receives (tests/scenarios/test_batch.py).
# AWS documentation: Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment
# variables" (the execution role needs ``secretsmanager:GetSecretValue`` on each secret),
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html

SECRETS = ("aws_secretsmanager_secret.api_key", "aws_secretsmanager_secret.db_credentials")
POLICY = "module.execution_role.aws_iam_role_policy.this[0]"
SECRET_NOT_GRANTED = _params([c for c in BROKEN if isinstance(c, SecretNotGranted)])


def _message(applied: AppliedRun) -> str:
    with pytest.raises(AssertionError) as raised:
        applied.assert_tasks_start()
    return str(raised.value)


@pytest.mark.parametrize("case", SECRET_NOT_GRANTED)
def test_assertion_names_the_secrets_and_the_fix_in_terraform_terms(case: BrokenCase, broken: Together) -> None:
    applied = broken.run(case.case)
    message = _message(applied)
    header, *lines = message.splitlines()
    (definition,) = applied.inventory.task_definitions
    assert header == (
        f"{applied.name}: expected every task to start, got task definition {definition.label} not starting "
        "(2 findings below, one per line)"
    ), message
    for address, line in zip(SECRETS, sorted(lines, key=lambda text: "db_credentials" in text), strict=True):
        head = f"{applied.name}: {definition.address}: expected secretsmanager:GetSecretValue on {address} ("
        assert line.startswith(head), f"{applied.name}: {address}: expected a line starting {head!r}, got {line!r}"
        assert "; fix: " in line, f"{applied.name}: {address}: expected a fix, got {line!r}"
        fix = line.split("; fix: ", 1)[1]
        assert f"add {address}.arn (" in fix, f"{applied.name}: {address}: expected the secret's reference in {fix!r}"
        assert "to the argument secret_arns of module.execution_role (" in fix, (
            f"{applied.name}: {address}: expected the module argument feeding the policy in {fix!r}"
        )
        assert POLICY in fix and re.search(r"main\.tf:\d+\)", fix), (
            f"{applied.name}: {address}: expected {POLICY} with its file:line in {fix!r}"
        )
        assert not re.search(r"\d{12}|arn:", fix), f"{applied.name}: {address}: expected no ARN in the fix {fix!r}"


@pytest.mark.parametrize("case", SECRET_NOT_GRANTED)
def test_cli_json_and_table_carry_the_fix(case: BrokenCase, broken: Together) -> None:
    applied = broken.run(case.case)
    (report,) = checks.preflight_reports(applied)
    (definition,) = applied.inventory.task_definitions
    document = json.loads(report.to_json())
    assert document["terraform_address"] == definition.address
    denied = [r for r in document["requirements"] if not r["allowed"]]
    assert sorted(r["resource_address"] for r in denied) == sorted(SECRETS)
    assert {r["terraform_address"] for r in denied} == {POLICY}
    assert all(r["fix"] and r["terraform_fix"] for r in denied), denied
    table = report.table()
    fixes = [line.strip() for line in table.splitlines() if line.strip().startswith("fix:")]
    assert len(fixes) == 2 and all(POLICY in line for line in fixes), table
    assert not any(re.search(r"\d{12}", line) for line in fixes), table
