"""Unit tests for the start-up inputs beyond the basic ones: each test cites the AWS page its rule follows.

Recorded JSON only (``data/preflight/facts.json`` through the ``RecordedFacts`` of the analysis tests): no
Terraform, no emulator.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fargate_harness.preflight import PreflightReport, registration_errors
from fargate_harness.preflight.analysis import ECS_ERRORS, decide, misplaced_on_task_role, overgrants
from fargate_harness.preflight.collect import RolePolicies
from fargate_harness.preflight.requirements import SAMPLE_CLUSTER, Requirement, derive, derive_roles
from tests.unit.preflight.test_analysis import RecordedFacts

ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "us-east-1"
EXEC_ARN = f"arn:aws:iam::{ACCOUNT}:role/web-exec"
TASK_ARN = f"arn:aws:iam::{ACCOUNT}:role/web-task"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:user/ci"
TD_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:3"
FS = "fs-0123456789abcdef0"
FS_ARN = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/{FS}"
PARAM_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3333cccc-3333-4333-8333-333333333333"
S3_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5555eeee-5555-4555-8555-555555555555"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ECSTasksAssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
PULL = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str | list[str], resource: str | list[str], sid: str = "", **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if sid:
        statement["Sid"] = sid
    return statement


def _role(*statements: dict[str, Any], arn: str = EXEC_ARN, trust: dict[str, Any] | None = None) -> RolePolicies:
    name = arn.rsplit("/", 1)[-1]
    policies = {f"{name}/inline": _doc(*statements)} if statements else {}
    return RolePolicies(arn, name, policies, frozenset(), None, {}, copy.deepcopy(trust or TRUST))


def _td(*containers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "taskDefinitionArn": TD_ARN,
        "family": "web",
        "revision": 3,
        "executionRoleArn": EXEC_ARN,
        "taskRoleArn": TASK_ARN,
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": list(containers),
        **fields,
    }


def _container(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "public.ecr.aws/docker/library/nginx:stable", "essential": True, **fields}


def _derive(td: dict[str, Any], images: str = "require") -> list[Requirement]:
    return derive(td, RecordedFacts(), principal_account=ACCOUNT, region=REGION, images=images)


def _report(
    td: dict[str, Any],
    role: RolePolicies | None,
    task_role: RolePolicies | None = None,
    facts: RecordedFacts | None = None,
    **roles_args: Any,
) -> PreflightReport:
    deployer = roles_args.pop("deployer_policies", None)
    facts = facts or RecordedFacts()
    requirements = derive(td, facts, principal_account=ACCOUNT, region=REGION)
    requirements += derive_roles(td, principal_account=ACCOUNT, region=REGION, **roles_args)
    verdicts = decide(
        requirements,
        role,
        facts,  # type: ignore[arg-type]
        REGION,
        task_role=task_role,
        deployer=deployer,
        cluster=roles_args.get("cluster"),
    )
    report = PreflightReport("web:3", td.get("executionRoleArn"), td.get("taskRoleArn"), verdicts=verdicts)
    report.registration_errors = registration_errors(td)
    return report


def _kinds(report: PreflightReport) -> set[str]:
    return {v.requirement.kind for v in report.failures}


# -- trust ------------------------------------------------------------------------------------------


def test_trust_both_roles_assumable_by_ecs_tasks() -> None:
    """Amazon ECS Developer Guide, "Amazon ECS task execution IAM role" (trust relationship for
    ecs-tasks.amazonaws.com), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    """
    report = _report(_td(_container()), _role(), _role(arn=TASK_ARN))
    trust = [v for v in report.verdicts if v.requirement.kind == "trust"]
    assert [(v.requirement.resource, v.allowed) for v in trust] == [(EXEC_ARN, True), (TASK_ARN, True)]
    assert trust[0].statements == ("resource policy statement 'ECSTasksAssumeRole'",)


def test_trust_without_ecs_tasks_gives_the_ecs_message() -> None:
    """ECS's stopped reason when it cannot assume a role (Amazon ECS Developer Guide, "Amazon ECS task execution
    IAM role"; "Amazon ECS stopped task error messages",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html)."""
    lambda_trust = _doc(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    report = _report(_td(_container()), _role(trust=lambda_trust), _role(arn=TASK_ARN))
    (failure,) = report.failures
    assert failure.requirement.resource == EXEC_ARN
    assert failure.error == (
        f"ECS was unable to assume the role '{EXEC_ARN}' that was provided for this task. Please verify that the "
        "role being passed has the proper trust relationship and permissions and that your IAM user has "
        "permissions to pass this role."
    )
    assert failure.place == "trust policy"
    assert failure.fix.startswith("add to the trust policy of role web-exec: ")
    assert not report.will_start


def _trust_with(condition: dict[str, Any]) -> dict[str, Any]:
    trust = copy.deepcopy(TRUST)
    trust["Statement"][0]["Condition"] = condition
    return trust


def test_trust_source_account_condition() -> None:
    """Confused deputy prevention: ECS sends aws:SourceAccount and aws:SourceArn (Amazon ECS Developer Guide,
    "Amazon ECS task execution IAM role"; IAM User Guide, "The confused deputy problem",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html)."""
    own = _trust_with({"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    other = _trust_with({"StringEquals": {"aws:SourceAccount": OTHER}})
    assert _report(_td(_container(), taskRoleArn=None), _role(trust=own)).will_start
    denied = _report(_td(_container(), taskRoleArn=None), _role(trust=other))
    assert _kinds(denied) == {"trust"}


def test_trust_condition_naming_another_account_fix_names_the_condition() -> None:
    """The statement for ecs-tasks.amazonaws.com exists; its aws:SourceAccount condition is what fails. The fix is to
    correct the condition (IAM User Guide, "The confused deputy problem"), not to add an unconditioned statement."""
    other = _trust_with({"StringEquals": {"aws:SourceAccount": OTHER}})
    (failure,) = _report(_td(_container(), taskRoleArn=None), _role(trust=other)).failures
    assert failure.place == "trust policy"
    assert failure.fix.startswith("in the trust policy of role web-exec, make the Condition of statement ")
    assert "'ECSTasksAssumeRole'" in failure.fix and f"aws:SourceAccount = {ACCOUNT}" in failure.fix
    unconditioned = _doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    (ec2,) = _report(_td(_container(), taskRoleArn=None), _role(trust=unconditioned)).failures
    assert ec2.fix.startswith("add to the trust policy of role web-exec: ")


def test_trust_pinned_to_a_cluster_depends_on_the_cluster() -> None:
    """A trust condition naming one cluster in aws:SourceArn is answered conservatively without a cluster."""
    pinned = _trust_with({"ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod/*"}})
    td = _td(_container(), taskRoleArn=None)
    (failure,) = _report(td, _role(trust=pinned)).failures
    assert failure.reason.startswith("depends on the cluster: ")
    assert "'prod'" in failure.reason and SAMPLE_CLUSTER in failure.reason
    assert "cluster='prod'" in failure.fix
    assert _report(td, _role(trust=pinned), cluster="prod").will_start
    assert not _report(td, _role(trust=pinned), cluster="staging").will_start


def test_trust_wildcard_cluster_is_allowed() -> None:
    wildcard = _trust_with({"ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"}})
    assert _report(_td(_container(), taskRoleArn=None), _role(trust=wildcard)).will_start


# -- images ---------------------------------------------------------------------------------------


def _ecr(repository: str, ref: str, account: str = ACCOUNT) -> str:
    return f"{account}.dkr.ecr.{REGION}.amazonaws.com/{repository}{ref}"


def _pull_role(*resources: str) -> RolePolicies:
    return _role(_allow("ecr:GetAuthorizationToken", "*"), _allow(PULL, list(resources)))


def test_missing_tag_is_its_own_finding() -> None:
    """The pull fails when the tag is not in the repository (Amazon ECS Developer Guide, "Troubleshoot
    CannotPullContainer task errors", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html)."""
    image = _ecr("app/web", ":2.0.0")
    report = _report(_td(_container(image=image), taskRoleArn=None), _pull_role("*"))
    (failure,) = report.failures
    assert failure.requirement.kind == "image"
    assert failure.error.startswith("CannotPullContainerError")
    assert "no image tagged '2.0.0'" in failure.reason
    assert (failure.place, failure.fix) == (
        "push the image",
        f"push the image {image} (or fix the tag/digest in container app image)",
    )


@pytest.mark.parametrize("ref", [":1.4.2", "", "@sha256:" + "0f1e2d3c4b5a6978" * 4])
def test_pushed_tag_latest_and_digest_pass(ref: str) -> None:
    report = _report(_td(_container(image=_ecr("app/web", ref)), taskRoleArn=None), _pull_role("*"))
    assert report.will_start, report.table()


def test_images_assume_pushed_skips_the_lookup() -> None:
    found = _derive(_td(_container(image=_ecr("app/web", ":not-yet"))), images="assume-pushed")
    assert "image" not in {r.kind for r in found}
    with pytest.raises(ValueError, match="images must be"):
        _derive(_td(_container()), images="sometimes")


def test_aws_for_fluent_bit_needs_only_the_identity_side() -> None:
    """AWS publishes aws-for-fluent-bit for public pull in its regional registry accounts (Amazon ECS Developer
    Guide, "Using the AWS for Fluent Bit image",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-using-fluentbit.html; account table of
    aws/aws-for-fluent-bit scripts/publish.sh): only the role's own policy decides, and the fix is never their
    repository policy."""
    image = "906394416424.dkr.ecr.us-east-1.amazonaws.com/aws-for-fluent-bit:stable"
    repo = "arn:aws:ecr:us-east-1:906394416424:repository/aws-for-fluent-bit"
    td = _td(_container(image=image), taskRoleArn=None)
    assert _report(td, _pull_role(repo)).will_start
    report = _report(td, _role(_allow("ecr:GetAuthorizationToken", "*")))
    assert _kinds(report) == {"ecr-pull"}
    assert all(v.place == "role web-exec" for v in report.failures)
    assert "repository policy" not in " ".join(v.fix for v in report.failures)


def test_fluent_bit_in_another_region_account_is_not_public() -> None:
    image = "906394416424.dkr.ecr.af-south-1.amazonaws.com/aws-for-fluent-bit:stable"
    found = _derive(_td(_container(image=image)))
    assert {r.resource_policy_kind for r in found if r.kind == "ecr-pull"} == {"default"}


def test_pull_through_cache_first_pull_needs_import_and_create() -> None:
    """Amazon ECR User Guide, "IAM permissions required to sync an upstream registry with an Amazon ECR private
    registry", https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html"""
    image = _ecr("docker-hub/library/nginx", ":1.27")
    repo = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/docker-hub/library/nginx"
    found = _derive(_td(_container(image=image)))
    assert [(r.kind, r.action) for r in found if r.kind == "ecr-pull-through"] == [
        ("ecr-pull-through", "ecr:BatchImportUpstreamImage"),
        ("ecr-pull-through", "ecr:CreateRepository"),
    ]
    assert "image" not in {r.kind for r in found}  # the cache fetches it upstream
    report = _report(_td(_container(image=image), taskRoleArn=None), _pull_role(repo))
    assert _kinds(report) == {"ecr-pull-through"}
    assert report.errors == [ECS_ERRORS["ecr-pull-through"]]
    granted = _role(
        _allow("ecr:GetAuthorizationToken", "*"),
        _allow([*PULL, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"], repo),
    )
    assert _report(_td(_container(image=image), taskRoleArn=None), granted).will_start


# -- agent-side inputs ------------------------------------------------------------------------------


def test_log_secret_options_are_secrets() -> None:
    """Amazon ECS Developer Guide, "Pass sensitive data to an Amazon ECS container" (secretOptions of the log
    configuration), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html"""
    token = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/api-token-GhIjKl"
    config = {"logDriver": "splunk", "options": {}, "secretOptions": [{"name": "splunk-token", "valueFrom": token}]}
    found = _derive(_td(_container(logConfiguration=config)))
    assert [(r.kind, r.action, r.resource) for r in found] == [("secret", "secretsmanager:GetSecretValue", token)]
    assert found[0].source == "container app logConfiguration secretOptions splunk-token"
    assert registration_errors(_td(_container(logConfiguration=config), executionRoleArn=None))[0].startswith(
        "ClientException: When you are specifying container secrets"
    )


def test_environment_files_need_get_object_and_bucket_location() -> None:
    """Amazon ECS Developer Guide, "Pass an individual environment variable to an Amazon ECS container" /
    environmentFiles ("s3:GetObject" and "s3:GetBucketLocation" on the execution role),
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html"""
    env = {"value": "arn:aws:s3:::app-config/web/app.env", "type": "s3"}
    found = _derive(_td(_container(environmentFiles=[env])))
    assert [(r.action, r.resource, r.exists) for r in found] == [
        ("s3:GetObject", "arn:aws:s3:::app-config/web/app.env", True),
        ("s3:GetBucketLocation", "arn:aws:s3:::app-config", True),
    ]
    role = _role(
        _allow("s3:GetObject", "arn:aws:s3:::app-config/web/*"),
        _allow("s3:GetBucketLocation", "arn:aws:s3:::app-config"),
    )
    report = _report(_td(_container(environmentFiles=[env]), taskRoleArn=None), role)
    assert report.will_start, report.table()
    assert overgrants(role, _derive(_td(_container(environmentFiles=[env]))))[1] == []  # s3 is not misplaced here


def test_environment_file_missing_object_and_sse_kms() -> None:
    """A missing object, and an SSE-KMS object needing kms:Decrypt via S3 (Amazon S3 User Guide, "Using
    server-side encryption with AWS KMS keys", https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)."""
    gone = {"value": "arn:aws:s3:::app-config/web/gone.env", "type": "s3"}
    encrypted = {"value": "arn:aws:s3:::app-config/web/kms.env", "type": "s3"}
    found = _derive(_td(_container(environmentFiles=[gone, encrypted])))
    assert [(r.kind, r.exists) for r in found if r.action == "s3:GetObject"] == [
        ("environment-file", False),
        ("environment-file", True),
    ]
    (kms,) = [r for r in found if r.kind == "kms"]
    assert (kms.resource, kms.context["kms:ViaService"]) == (S3_KEY, f"s3.{REGION}.amazonaws.com")
    report = _report(_td(_container(environmentFiles=[gone]), taskRoleArn=None), _role(_allow("s3:*", "*")))
    (failure,) = report.failures
    assert failure.reason == "object web/gone.env does not exist in bucket app-config"
    assert failure.error == ECS_ERRORS["environment-file"]
    assert failure.place == "create the resource"


def test_environment_file_in_another_account_needs_the_bucket_policy() -> None:
    """Cross-account: identity and bucket policy must both allow (IAM User Guide, "Cross-account policy
    evaluation logic", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html)."""
    env = {"value": "arn:aws:s3:::shared-config/web/shared.env", "type": "s3"}
    role = _role(_allow(["s3:GetObject", "s3:GetBucketLocation"], "*"))
    report = _report(_td(_container(environmentFiles=[env]), taskRoleArn=None), role)
    assert _kinds(report) == {"environment-file"}
    assert {v.place for v in report.failures} == {"bucket policy"}
    policy = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": EXEC_ARN},
            "Action": ["s3:GetObject", "s3:GetBucketLocation"],
            "Resource": ["arn:aws:s3:::shared-config", "arn:aws:s3:::shared-config/*"],
        }
    )
    facts = RecordedFacts(bucket_policies={"arn:aws:s3:::shared-config": policy})
    assert _report(_td(_container(environmentFiles=[env]), taskRoleArn=None), role, facts=facts).will_start


def test_firelens_outputs_are_task_role_needs() -> None:
    """The log router's outputs use the task role (Amazon ECS Developer Guide, "Send Amazon ECS logs to an AWS
    service or AWS Partner", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html)."""
    cloudwatch = {
        "logDriver": "awsfirelens",
        "options": {
            "Name": "cloudwatch_logs",
            "region": REGION,
            "log_group_name": "/ecs/app",
            "log_stream_prefix": "fb-",
            "auto_create_group": "true",
        },
    }
    firehose = {"logDriver": "awsfirelens", "options": {"Name": "kinesis_firehose", "delivery_stream": "logs"}}
    kinesis = {"logDriver": "awsfirelens", "options": {"Name": "kinesis_streams", "stream": "events"}}
    s3_out = {"logDriver": "awsfirelens", "options": {"Name": "s3", "bucket": "app-logs"}}
    containers = [
        _container(name=name, logConfiguration=config)
        for name, config in (("a", cloudwatch), ("b", firehose), ("c", kinesis), ("d", s3_out))
    ]
    found = _derive(_td(*containers))
    assert {(r.principal, r.fatal) for r in found} == {("task", False)}
    assert [r.action for r in found] == [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "logs:CreateLogGroup",
        "firehose:PutRecordBatch",
        "kinesis:PutRecords",
        "s3:PutObject",
    ]
    assert found[0].resource.startswith(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/app:log-stream:fb-a-")
    assert found[4].resource == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/logs"
    assert found[5].resource == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/events"
    task_role = _role(
        _allow(["logs:*", "firehose:PutRecordBatch", "kinesis:PutRecords", "s3:PutObject"], "*"), arn=TASK_ARN
    )
    assert misplaced_on_task_role(task_role, found) == []  # expected on the task role, not misplaced
    ok = _report(_td(*containers), _role(), task_role)
    assert ok.will_start and ok.failures == []


def test_firelens_output_denied_is_a_warning_not_a_start_failure() -> None:
    config = {"logDriver": "awsfirelens", "options": {"Name": "firehose", "delivery_stream": "logs"}}
    report = _report(_td(_container(logConfiguration=config)), _role(), _role(arn=TASK_ARN))
    assert report.will_start
    assert _kinds(report) == {"firelens-output"}
    assert report.warnings == [ECS_ERRORS["firelens-output"]]
    assert report.errors == []
    no_task_role = _report(_td(_container(logConfiguration=config), taskRoleArn=None), _role())
    (failure,) = no_task_role.failures
    assert failure.place == "task definition" and "set taskRoleArn" in failure.fix
    assert no_task_role.to_dict()["warnings"] == [ECS_ERRORS["firelens-output"]]


def test_firelens_s3_config_on_fargate_is_a_registration_error() -> None:
    """Amazon ECS Developer Guide, "Send Amazon ECS logs to an AWS service or AWS Partner": on Fargate only the
    file config type is supported; RegisterTaskDefinition answers "Invalid arn syntax." (aws/aws-sdk#311)."""
    router = _container(
        name="log_router",
        firelensConfiguration={
            "type": "fluentbit",
            "options": {"config-file-type": "s3", "config-file-value": "s3://b/fluent.conf"},
        },
    )
    (error,) = registration_errors(_td(router))
    assert error.startswith("ClientException: Invalid arn syntax.")
    router["firelensConfiguration"]["options"]["config-file-value"] = "arn:aws:s3:::b/fluent.conf"
    assert "does not satisfy the task definition's required capabilities" in registration_errors(_td(router))[0]
    router["firelensConfiguration"]["options"]["config-file-type"] = "file"
    assert registration_errors(_td(router)) == []


def _efs_td(
    *, iam: str = "ENABLED", transit: str = "ENABLED", read_only: bool = False, **fields: Any
) -> dict[str, Any]:
    volume = {
        "name": "data",
        "efsVolumeConfiguration": {
            "fileSystemId": FS,
            "transitEncryption": transit,
            "authorizationConfig": {"iam": iam, "accessPointId": "fsap-0abc"},
        },
    }
    mount = {"sourceVolume": "data", "containerPath": "/data", "readOnly": read_only}
    return _td(_container(mountPoints=[mount]), volumes=[volume], **fields)


def test_efs_iam_needs_client_mount_and_write_with_the_task_role() -> None:
    """Amazon ECS Developer Guide, "Specify an Amazon EFS file system in an Amazon ECS task definition" (IAM
    authorization uses the task role); Amazon EFS User Guide, "Using IAM to control file system data access",
    https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html"""
    found = _derive(_efs_td())
    assert [(r.action, r.resource, r.principal) for r in found] == [
        ("elasticfilesystem:ClientMount", FS_ARN, "task"),
        ("elasticfilesystem:ClientWrite", FS_ARN, "task"),
    ]
    assert found[0].context["elasticfilesystem:AccessPointArn"].endswith(":access-point/fsap-0abc")
    assert [r.action for r in _derive(_efs_td(read_only=True))] == ["elasticfilesystem:ClientMount"]
    assert _derive(_efs_td(iam="DISABLED")) == []


def test_efs_default_policy_lets_the_task_role_mount() -> None:
    """Without a file system policy EFS applies its default policy (full access through a mount target)."""
    assert _report(_efs_td(), _role(), _role(arn=TASK_ARN)).will_start


def test_efs_policy_without_grant_denies_and_names_the_file_system_policy() -> None:
    only_admin = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"},
            "Action": "elasticfilesystem:Client*",
            "Resource": FS_ARN,
        }
    )
    facts = RecordedFacts(file_system_policies={FS_ARN: only_admin})
    report = _report(_efs_td(), _role(), _role(arn=TASK_ARN), facts=facts)
    assert _kinds(report) == {"efs"}
    assert report.errors == [ECS_ERRORS["efs"]]
    assert {v.place for v in report.failures} == {"role web-task"}
    granted = _role(_allow(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], FS_ARN), arn=TASK_ARN)
    assert _report(_efs_td(), _role(), granted, facts=facts).will_start
    deny = _doc(
        {
            "Sid": "NoWrites",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "elasticfilesystem:ClientWrite",
            "Resource": FS_ARN,
        }
    )
    denied = _report(_efs_td(), _role(), granted, facts=RecordedFacts(file_system_policies={FS_ARN: deny}))
    (failure,) = denied.failures
    assert failure.place == "resource policy" and "'NoWrites'" in failure.fix


def test_efs_iam_without_transit_encryption_is_a_registration_error() -> None:
    """ECS API reference, EFSAuthorizationConfig.iam: "If it is turned on, transit encryption must be turned on in
    the EFSVolumeConfiguration", https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EFSAuthorizationConfig.html"""
    (error,) = registration_errors(_efs_td(transit="DISABLED"))
    assert error.startswith("ClientException: volume data: EFS IAM authorization needs transit encryption")
    assert registration_errors(_efs_td()) == []


def test_efs_file_system_missing_and_no_task_role() -> None:
    td = _efs_td()
    td["volumes"][0]["efsVolumeConfiguration"]["fileSystemId"] = "fs-gone"
    report = _report(td, _role(), _role(arn=TASK_ARN))
    assert {v.reason for v in report.failures} == {f"EFS file system fs-gone does not exist in {ACCOUNT}/{REGION}"}
    no_role = _report(_efs_td(taskRoleArn=None), _role())
    assert {v.place for v in no_role.failures} == {"task definition"} and not no_role.will_start


def test_repository_credentials_with_customer_key() -> None:
    """Amazon ECS Developer Guide, "Using non-AWS container images in Amazon ECS" (kms:Decrypt for a customer
    managed key), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html"""
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-password-AbCdEf"
    found = _derive(_td(_container(repositoryCredentials={"credentialsParameter": secret})))
    assert [(r.kind, r.action) for r in found] == [
        ("registry-credentials", "secretsmanager:GetSecretValue"),
        ("kms", "kms:Decrypt"),
    ]


def test_ssm_reference_to_secrets_manager_needs_both() -> None:
    """AWS Systems Manager User Guide, "Referencing AWS Secrets Manager secrets from Parameter Store parameters",
    https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html"""
    value = "/aws/reference/secretsmanager/app/api-token"
    facts = RecordedFacts()
    facts.data["secrets"]["app/api-token"] = facts.data["secrets"][
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/api-token-GhIjKl"
    ]
    found = derive(
        _td(_container(secrets=[{"name": "T", "valueFrom": value}])), facts, principal_account=ACCOUNT, region=REGION
    )
    assert [(r.action, r.resource) for r in found] == [
        ("ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/aws/reference/secretsmanager/app/api-token"),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/api-token-GhIjKl"),
    ]
    # Only the parameter granted: the agent's call to SSM fails, so the task stops with the SSM error.
    td = _td(_container(secrets=[{"name": "T", "valueFrom": value}]), taskRoleArn=None)
    report = _report(td, _role(_allow("ssm:GetParameters", found[0].resource)), facts=facts)
    (failure,) = report.failures
    assert (failure.requirement.kind, failure.requirement.action) == ("secret", "secretsmanager:GetSecretValue")
    assert report.errors == [ECS_ERRORS["parameter"]]
    assert '"Action": "secretsmanager:GetSecretValue"' in failure.fix


def test_cross_account_secret_under_aws_managed_key_is_a_finding() -> None:
    """AWS Secrets Manager User Guide, "Access AWS Secrets Manager secrets from a different account": the secret
    must be encrypted with a customer managed key,
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html"""
    facts = RecordedFacts()
    shared = f"arn:aws:secretsmanager:eu-west-1:{OTHER}:secret:shared/managed-QqQqQq"
    facts.data["secrets"][shared] = {"ARN": shared, "Name": "shared/managed"}
    td = _td(_container(secrets=[{"name": "S", "valueFrom": shared}]), taskRoleArn=None)
    found = derive(td, facts, principal_account=ACCOUNT, region=REGION)
    (kms,) = [r for r in found if r.kind == "kms"]
    assert kms.exists is False
    assert "AWS managed key aws/secretsmanager" in kms.missing
    report = _report(td, _role(_allow("*", "*")), facts=facts)
    assert (
        "re-encrypt the secret with a customer managed key"
        in {v.requirement.kind: v.fix for v in report.failures}["kms"]
    )


# -- deployer ----------------------------------------------------------------------------------------


def test_deployer_pass_role_with_passed_to_service() -> None:
    """IAM User Guide, "Grant a user permissions to pass a role to an AWS service" (iam:PassedToService),
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"""
    condition = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    deployer = _role(
        _allow("ecs:RegisterTaskDefinition", "*"),
        _allow("iam:PassRole", [EXEC_ARN, TASK_ARN], Condition=condition),
        arn=DEPLOYER,
    )
    td = _td(_container())
    assert _report(td, _role(), _role(arn=TASK_ARN), deployer=DEPLOYER, deployer_policies=deployer).will_start
    only_exec = _role(_allow("ecs:RegisterTaskDefinition", "*"), _allow("iam:PassRole", EXEC_ARN), arn=DEPLOYER)
    report = _report(td, _role(), _role(arn=TASK_ARN), deployer=DEPLOYER, deployer_policies=only_exec)
    (failure,) = report.failures
    assert failure.error == f"User: {DEPLOYER} is not authorized to perform: iam:PassRole on resource: {TASK_ARN}"
    assert failure.place == "role ci"
    lambda_only = _role(
        _allow("ecs:RegisterTaskDefinition", "*"),
        _allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        arn=DEPLOYER,
    )
    denied = _report(td, _role(), _role(arn=TASK_ARN), deployer=DEPLOYER, deployer_policies=lambda_only)
    assert [v.requirement.resource for v in denied.failures] == [EXEC_ARN, TASK_ARN]


# -- report ------------------------------------------------------------------------------------------


def test_to_dict_keeps_old_keys_and_adds_new_ones() -> None:
    report = _report(_td(_container(image=_ecr("app/web", ":2.0.0")), taskRoleArn=None), _role())
    document = report.to_dict()
    assert {"task_definition", "will_start", "error", "requirements", "overgrants", "notes"} <= set(document)
    assert {"errors", "warnings", "registration_errors", "deployer"} <= set(document)
    assert document["error"] == " | ".join(document["errors"])
    assert len(document["errors"]) == 3  # ecr auth, pull, and the missing image: three classes
    first = document["requirements"][0]
    assert {"principal", "fatal", "statements", "place"} <= set(first)
