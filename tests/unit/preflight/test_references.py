"""Every reference judged on its own, awslogs as the driver behaves, sidecars, and what was checked (issue 27).

Recorded task definition (``data/preflight/task_definition_references.json``: an Airflow web task with FireLens and
a custom Fluent Bit config, a CloudWatch agent sidecar, JSON-key secrets one of which has a stray character in its
version-id field, ``awslogs-create-group`` on an existing group) and dict-backed facts; no AWS, no emulator.

AWS documentation, per class:

- references: Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html, and "Pass
  sensitive data to an Amazon ECS container",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html; Secrets Manager API
  Reference, GetSecretValue, https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html;
  "Private registry authentication for tasks",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html;
- awslogs: "Send Amazon ECS logs to CloudWatch",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html, and the driver Fargate runs
  (moby daemon/logger/awslogs: CreateLogStream first, CreateLogGroup only for a missing group);
- sidecars: "Send Amazon ECS logs to an AWS service or AWS Partner",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html; CloudWatch User Guide,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights-Prometheus-install-ECS.html;
- images outside ECR: "Using non-AWS container images in Amazon ECS",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fargate_harness.aws import secrets
from fargate_harness.preflight.analysis import PreflightReport, Verdict, decide, review_task_role
from fargate_harness.preflight.collect import AwsFacts, RolePolicies, emulator_label
from fargate_harness.preflight.requirements import NOBODY, Requirement, checked_rows, derive
from fargate_harness.preflight.sidecars import find_sidecars, image_repository
from fargate_harness.targets.base import Target

DATA = Path(__file__).resolve().parents[1] / "data" / "preflight"
ACCOUNT = "111122223333"
REGION = "us-east-1"
DB = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:airflow/db-AbCdEf"
FERNET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:airflow/fernet-GhIjKl"
REGISTRY = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:registry/dockerhub-QwErTy"
CURRENT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PREVIOUS = "0f9e8d7c6b5a49382716f5e4d3c2b1a0"
EXEC_ARN = f"arn:aws:iam::{ACCOUNT}:role/airflow-exec"
TASK_ARN = f"arn:aws:iam::{ACCOUNT}:role/airflow-task"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5555eeee-5555-4555-8555-555555555555"


def _td() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "task_definition_references.json").read_text(encoding="utf-8"))
    return copy.deepcopy(loaded["taskDefinition"])


class ReferenceFacts:
    """The ``Facts`` protocol and decide()'s resource-policy readers, from dicts. Secret values are recorded as their
    shape only (keys), never values."""

    def __init__(self) -> None:
        versions = {CURRENT: ["AWSCURRENT"], PREVIOUS: ["AWSPREVIOUS"]}
        self.secrets: dict[str, dict[str, Any]] = {
            arn: {"ARN": arn, "Name": name, "VersionIdsToStages": copy.deepcopy(versions)}
            for arn, name in ((DB, "airflow/db"), (FERNET, "airflow/fernet"), (REGISTRY, "registry/dockerhub"))
        }
        self.shapes: dict[str, secrets.SecretValueShape | None] = {
            DB: secrets.SecretValueShape(True, frozenset({"username", "password", "host"})),
            FERNET: secrets.SecretValueShape(False),
            REGISTRY: secrets.SecretValueShape(True, frozenset({"username"})),
        }
        self.parameters: dict[tuple[str, str, str], dict[str, Any]] = {
            ("ecs-cwagent", ACCOUNT, REGION): {"Name": "ecs-cwagent", "Type": "String"}
        }
        self.log_groups: dict[tuple[str, str], dict[str, str | None]] = {
            (ACCOUNT, REGION): {"/ecs/airflow": None, "/ecs/airflow-firelens": None},
            (ACCOUNT, "eu-west-1"): {"/ecs/airflow-eu": KEY},
        }
        self.calls: list[tuple[str, ...]] = []

    # -- Facts --------------------------------------------------------------------------------------
    def secret(self, secret_id: str) -> Mapping[str, Any] | None:
        """Recorded DescribeSecret (by ARN or name)."""
        self.calls.append(("secret", secret_id))
        return next((m for arn, m in self.secrets.items() if secret_id in (arn, m["Name"])), None)

    def secret_value_shape(
        self, secret_arn: str, version_id: str | None, version_stage: str | None
    ) -> secrets.SecretValueShape | None:
        """Recorded shape of the secret's value."""
        self.calls.append(("shape", secret_arn, version_id or "", version_stage or ""))
        return self.shapes.get(secret_arn)

    def parameter(self, name: str, account: str, region: str) -> Mapping[str, Any] | None:
        """Recorded DescribeParameters entry."""
        return self.parameters.get((name, account, region))

    def key_arn(self, key_id: str, account: str, region: str) -> str | None:
        """Every key id is its own ARN here."""
        return key_id

    def log_group_exists(self, name: str, account: str, region: str) -> bool:
        """Whether the group is recorded in that account and region."""
        self.calls.append(("log-group", name, account, region))
        return name in self.log_groups.get((account, region), {})

    def log_group_kms_key(self, name: str, account: str, region: str) -> str | None:
        """The recorded kmsKeyId of a group."""
        return self.log_groups.get((account, region), {}).get(name)

    def repository_exists(self, name: str, account: str, region: str) -> bool:
        """Every repository exists."""
        return True

    def image_ids(self, name: str, account: str, region: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """Images cannot be told (the pull decides)."""
        return None

    def pull_through_rules(self, account: str, region: str) -> list[dict[str, Any]]:
        """No rules."""
        return []

    def object_metadata(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        """No objects."""
        return None

    def bucket_owner(self, bucket: str) -> str | None:
        """No buckets."""
        return None

    def file_system(self, file_system_id: str, account: str, region: str) -> Mapping[str, Any] | None:
        """No file systems."""
        return None

    # -- resource policies (decide) -----------------------------------------------------------------
    def secret_policy(self, secret_arn: str) -> dict[str, Any] | None:
        """No secret has a resource policy."""
        return None

    def repository_policy(self, repository_arn: str) -> dict[str, Any] | None:
        """No repository policy."""
        return None

    def key_policy(self, key_arn: str) -> dict[str, Any] | None:
        """No key policy."""
        return None


def _role(arn: str, *statements: dict[str, Any]) -> RolePolicies:
    name = arn.rsplit("/", 1)[-1]
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return RolePolicies(arn, name, {f"{name}/inline": document}, frozenset(), None, {})


def _allow(actions: list[str], resources: list[str] | str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


#: The execution role AmazonECSTaskExecutionRolePolicy plus the secrets and the parameter give: no CreateLogGroup.
EXECUTION_ROLE = _role(
    EXEC_ARN,
    _allow(["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"]),
    _allow(["ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"]),
    _allow(["secretsmanager:GetSecretValue"], f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*"),
    _allow(["ssm:GetParameters"], f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecs-cwagent"),
)
#: The task role: CloudWatchAgentServerPolicy's actions (for the agent) and the Fluent Bit outputs (for the router).
TASK_ROLE = _role(
    TASK_ARN,
    _allow(["cloudwatch:PutMetricData", "ec2:DescribeVolumes", "ec2:DescribeTags"]),
    _allow(["logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups", "logs:CreateLogStream"]),
    _allow(["logs:CreateLogGroup", "s3:PutObject", "firehose:PutRecordBatch"]),
    _allow(["ssm:GetParameter"], "arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*"),
)


def _derive(td: Mapping[str, Any], facts: ReferenceFacts | None = None) -> list[Requirement]:
    return derive(td, facts or ReferenceFacts(), principal_account=ACCOUNT, region=REGION)


def _verdicts(td: Mapping[str, Any], facts: ReferenceFacts | None = None) -> list[Verdict]:
    facts = facts or ReferenceFacts()
    found = _derive(td, facts) + checked_rows(td, facts, principal_account=ACCOUNT, region=REGION)
    return decide(found, EXECUTION_ROLE, facts, REGION, task_role=TASK_ROLE)  # type: ignore[arg-type]


def _report(td: Mapping[str, Any], facts: ReferenceFacts | None = None) -> PreflightReport:
    return PreflightReport("airflow-web:7", EXEC_ARN, TASK_ARN, verdicts=_verdicts(td, facts))


def _by_source(verdicts: list[Verdict], source: str) -> Verdict:
    (found,) = [v for v in verdicts if v.requirement.source == source]
    return found


def _with_secret(value_from: str, *, name: str = "X") -> dict[str, Any]:
    return {
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/t:1",
        "executionRoleArn": EXEC_ARN,
        "containerDefinitions": [
            {"name": "app", "image": "busybox:1.36", "secrets": [{"name": name, "valueFrom": value_from}]}
        ],
    }


# -- every reference on its own -------------------------------------------------------------------------------


def test_each_reference_is_a_row_naming_its_container_and_variable() -> None:
    """Four references to two secrets give four rows (they were one row per secret ARN, so the second, third and
    fourth were never judged)."""
    rows = [r for r in _derive(_td()) if r.kind == "secret"]
    assert [r.source for r in rows] == [
        "container web secret DB_USER",
        "container web secret DB_PASSWORD",
        "container web secret DB_HOST",
        "container web secret FERNET_KEY",
    ], [r.source for r in rows]


def test_a_stray_character_in_the_version_field_is_a_version_id_the_agent_cannot_send() -> None:
    """``<arn>:password::}``: the '}' is the version-id field; GetSecretValue takes 32-64 characters, the SDK refuses
    it before the call (``ResourceInitializationError ... GetSecretValueInput.VersionId``)."""
    report = _report(_td())
    bad = _by_source(report.verdicts, "container web secret DB_PASSWORD")
    assert not bad.allowed and bad.requirement.exists is False, f"DB_PASSWORD: expected denied, got {bad}"
    assert "minimum field size of 32, GetSecretValueInput.VersionId" in bad.error, bad.error
    assert bad.error.startswith("ResourceInitializationError: unable to pull secrets or registry auth"), bad.error
    assert "'<json-key>::'" in bad.fix, bad.fix
    assert _by_source(report.verdicts, "container web secret DB_USER").allowed
    assert not report.will_start and bad.error in report.errors


@pytest.mark.parametrize(
    ("version_id", "expected"),
    [
        ("}", "minimum field size of 32, GetSecretValueInput.VersionId"),
        ("a" * 31, "minimum field size of 32, GetSecretValueInput.VersionId"),
        ("b" * 65, "maximum field size of 64, GetSecretValueInput.VersionId"),
        ("c" * 32, "can't find the specified secret value for VersionId: " + "c" * 32),
        (PREVIOUS, ""),
    ],
    ids=["one-char", "31-chars", "65-chars", "unknown-version", "existing-version"],
)
def test_version_id_format_and_existence(version_id: str, expected: str) -> None:
    (verdict,) = [v for v in _verdicts(_with_secret(f"{DB}:password::{version_id}")) if v.requirement.kind == "secret"]
    if not expected:
        assert verdict.allowed, f"version {version_id}: expected allowed, got {verdict.reason}"
        return
    assert not verdict.allowed and expected in verdict.error, f"version {version_id!r}: got {verdict.error!r}"


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        (":password:AWSPENDING:", "can't find the specified secret value for staging label: AWSPENDING"),
        (":password:AWSPREVIOUS:", ""),
        (f":password:AWSPREVIOUS:{CURRENT}", "do not name the same version"),
        (f":password:AWSCURRENT:{CURRENT}", ""),
    ],
    ids=["stage-not-attached", "stage-attached", "stage-and-id-differ", "stage-and-id-agree"],
)
def test_version_stage_is_attached(suffix: str, expected: str) -> None:
    (verdict,) = [v for v in _verdicts(_with_secret(f"{DB}{suffix}")) if v.requirement.kind == "secret"]
    if not expected:
        assert verdict.allowed, f"{suffix}: expected allowed, got {verdict.reason}"
        return
    assert not verdict.allowed and expected in verdict.error, f"{suffix}: got {verdict.error!r}"


def test_json_key_missing_from_the_value_names_aws_error_and_not_the_value() -> None:
    facts = ReferenceFacts()
    (verdict,) = [v for v in _verdicts(_with_secret(f"{DB}:passwd::"), facts) if v.requirement.kind == "secret"]
    assert not verdict.allowed
    assert verdict.error.endswith("retrieved secret from Secrets Manager did not contain json key passwd"), (
        verdict.error
    )
    assert "add the key 'passwd'" in verdict.fix, verdict.fix
    assert ("shape", DB, "", "") in facts.calls, "the value's keys were not read for the AWSCURRENT version"


def test_json_key_of_a_value_that_is_not_json() -> None:
    (verdict,) = [v for v in _verdicts(_with_secret(f"{FERNET}:key::")) if v.requirement.kind == "secret"]
    assert not verdict.allowed and "not a JSON object" in verdict.reason, verdict.reason


def test_whole_value_needs_no_read_of_the_value() -> None:
    facts = ReferenceFacts()
    (verdict,) = [v for v in _verdicts(_with_secret(FERNET), facts) if v.requirement.kind == "secret"]
    assert verdict.allowed, verdict.reason
    assert not [call for call in facts.calls if call[0] == "shape"], "a whole-value reference read the value"


def test_an_unreadable_value_is_not_a_finding() -> None:
    facts = ReferenceFacts()
    facts.shapes[DB] = None
    (verdict,) = [v for v in _verdicts(_with_secret(f"{DB}:passwd::"), facts) if v.requirement.kind == "secret"]
    assert verdict.allowed, "a JSON key that could not be checked was reported as a failure"


def test_a_secret_scheduled_for_deletion() -> None:
    facts = ReferenceFacts()
    facts.secrets[DB]["DeletedDate"] = "2026-12-01T00:00:00Z"
    (verdict,) = [v for v in _verdicts(_with_secret(f"{DB}:password::"), facts) if v.requirement.kind == "secret"]
    assert not verdict.allowed and "marked for deletion" in verdict.error, verdict.error


def test_a_secret_without_a_value_is_a_warning_and_its_permission_is_still_judged() -> None:
    """A secret created without a version (DescribeSecret lists none): GetSecretValue finds no AWSCURRENT until a
    pipeline puts one, so it warns (as images pushed later would); the permission is judged all the same."""
    facts = ReferenceFacts()
    del facts.secrets[FERNET]["VersionIdsToStages"]
    report = _report(_with_secret(f"{FERNET}:key::"), facts)
    (value,) = [v for v in report.verdicts if v.requirement.kind == "secret-value"]
    assert not value.allowed and not value.requirement.fatal
    assert "can't find the specified secret value for staging label: AWSCURRENT" in value.error, value.error
    assert "aws_secretsmanager_secret_version" in value.fix, value.fix
    assert report.will_start and value.error in report.warnings, report.errors
    (permission,) = [v for v in report.verdicts if v.requirement.kind == "secret"]
    assert permission.allowed and permission.statements, "the GetSecretValue permission was not evaluated"


def test_a_secret_without_a_value_is_a_warning_everywhere() -> None:
    """The row's severity is data (``warning`` in the JSON); the table never marks it DENY; the failure lines of a
    task that does not start never carry it, :func:`checks.warning_findings` gives it apart."""
    from fargate_harness import checks

    facts = ReferenceFacts()
    del facts.secrets[FERNET]["VersionIdsToStages"]
    report = _report(_with_secret(f"{FERNET}:key::"), facts)
    rows = {row["kind"]: row for row in report.to_dict()["requirements"]}
    assert rows["secret-value"]["severity"] == "warning", rows["secret-value"]
    assert rows["secret"]["severity"] == "fatal", rows["secret"]
    assert {row["severity"] for row in rows.values()} <= {"fatal", "warning", "info"}
    value_rows = [line for line in report.table().splitlines() if "GetSecretValue" in line and FERNET in line]
    assert value_rows and not any("DENY" in line for line in value_rows), report.table()
    assert any(line.strip().startswith("warn ") for line in value_rows), report.table()
    assert not any("has no value yet" in line or "can't find" in line for line in checks.denied_findings(report))
    (warning,) = checks.warning_findings(report)
    assert "can't find the specified secret value" in warning, warning


def test_a_value_problem_behind_parameter_store_reads_as_ssm() -> None:
    """/aws/reference/secretsmanager/<name>: the agent calls Parameter Store, which reads the secret: an SSM error."""
    facts = ReferenceFacts()
    del facts.secrets[FERNET]["VersionIdsToStages"]
    verdicts = _verdicts(_with_secret("/aws/reference/secretsmanager/airflow/fernet"), facts)
    (verdict,) = [v for v in verdicts if v.requirement.kind == "secret-value"]
    assert not verdict.allowed and "unable to retrieve secrets from ssm" in verdict.error, verdict.error


def test_a_reference_with_too_many_fields_is_a_finding_not_a_traceback() -> None:
    (verdict,) = [v for v in _verdicts(_with_secret(f"{DB}:password:::extra")) if v.requirement.kind == "secret"]
    assert not verdict.allowed and "too many fields" in verdict.reason, verdict.reason


def test_a_secrets_manager_name_is_read_from_parameter_store() -> None:
    """ECS reads a valueFrom that is not a Secrets Manager ARN from Parameter Store: a secret's bare name fails."""
    (verdict,) = [v for v in _verdicts(_with_secret("airflow/db")) if v.requirement.kind == "parameter"]
    assert not verdict.allowed
    assert "unable to retrieve secrets from ssm" in verdict.error and "invalid parameters: airflow/db" in verdict.error
    assert DB in verdict.fix, f"expected the fix to give the secret's ARN, got {verdict.fix!r}"


def test_registry_credentials_need_username_and_password() -> None:
    td = _with_secret(FERNET)
    td["containerDefinitions"][0]["repositoryCredentials"] = {"credentialsParameter": REGISTRY}
    (verdict,) = [v for v in _verdicts(td) if v.requirement.kind == "registry-credentials"]
    assert not verdict.allowed
    assert "asm fetching password: AuthorizationData is malformed, empty field" in verdict.error, verdict.error


def test_get_secret_value_shape_keeps_keys_never_the_value() -> None:
    sentinel = "s3ntinel-value-never-shown"

    class Client:
        class exceptions:  # botocore names it so
            ClientError = ClientError

        def get_secret_value(self, **request: str) -> dict[str, Any]:
            assert request == {"SecretId": DB, "VersionStage": "AWSCURRENT"}
            return {"SecretString": json.dumps({"password": sentinel, "user": ""}), "ARN": DB}

    shape = secrets.get_secret_value_shape(Client(), DB, version_stage="AWSCURRENT")
    assert shape == secrets.SecretValueShape(True, frozenset({"password", "user"}), frozenset({"user"}))
    assert sentinel not in repr(shape)


# -- awslogs as the driver behaves ----------------------------------------------------------------------------


def _awslogs(**options: str) -> dict[str, Any]:
    return {
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/t:1",
        "executionRoleArn": EXEC_ARN,
        "containerDefinitions": [
            {
                "name": "app",
                "image": "busybox:1.36",
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-region": REGION, "awslogs-stream-prefix": "app", **options},
                },
            }
        ],
    }


def test_create_group_on_an_existing_group_is_a_warning_quoting_the_docs() -> None:
    """The group exists: the driver's CreateLogStream succeeds and CreateLogGroup is never called."""
    report = _report(_awslogs(**{"awslogs-group": "/ecs/airflow", "awslogs-create-group": "true"}))
    assert report.will_start, f"expected the task to start, got {report.errors}"
    (create,) = [v for v in report.verdicts if v.requirement.action == "logs:CreateLogGroup"]
    assert not create.allowed and not create.requirement.fatal
    assert any(
        "Your IAM policy must include the logs:CreateLogGroup permission before you attempt to use "
        "awslogs-create-group." in warning
        for warning in report.warnings
    ), report.warnings


def test_create_group_on_a_missing_group_without_permission_is_fatal() -> None:
    report = _report(_awslogs(**{"awslogs-group": "/ecs/new", "awslogs-create-group": "true"}))
    assert not report.will_start
    assert any("failed to create Cloudwatch log group" in error for error in report.errors), report.errors
    streams = [v for v in report.verdicts if v.requirement.kind == "logs"]
    assert streams and all(v.allowed for v in streams), "the streams of a group the driver creates are not missing"


def test_create_group_on_a_missing_group_with_permission_starts() -> None:
    facts = ReferenceFacts()
    found = _derive(_awslogs(**{"awslogs-group": "/ecs/new", "awslogs-create-group": "true"}), facts)
    role = _role(EXEC_ARN, _allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]))
    verdicts = decide(found, role, facts, REGION)  # type: ignore[arg-type]
    assert all(v.allowed for v in verdicts), [v.reason for v in verdicts if not v.allowed]


def test_missing_group_without_create_group_is_fatal() -> None:
    report = _report(_awslogs(**{"awslogs-group": "/ecs/new"}))
    assert not report.will_start and "create stream has been retried 1 times" in report.error


def test_awslogs_region_decides_where_the_group_is_looked_up() -> None:
    facts = ReferenceFacts()
    found = _derive(_awslogs(**{"awslogs-group": "/ecs/airflow", "awslogs-region": "eu-west-1"}), facts)
    assert ("log-group", "/ecs/airflow", ACCOUNT, "eu-west-1") in facts.calls, facts.calls
    (stream, _put) = found
    assert stream.resource.startswith(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/airflow:")
    assert stream.exists is False
    assert "(awslogs-region eu-west-1; the task runs in us-east-1)" in stream.missing, stream.missing


def test_kms_encrypted_log_group_gets_a_row_saying_what_applies() -> None:
    td = _awslogs(**{"awslogs-group": "/ecs/airflow-eu", "awslogs-region": "eu-west-1"})
    rows = checked_rows(td, ReferenceFacts(), principal_account=ACCOUNT, region=REGION)
    (row,) = [r for r in rows if r.kind == "logs-kms"]
    assert (row.principal, row.resource) == (NOBODY, KEY)
    assert "logs.eu-west-1.amazonaws.com" in row.note and "needs no kms permission" in row.note, row.note


# -- sidecars -------------------------------------------------------------------------------------------------


def test_sidecar_permissions_on_the_task_role_are_expected_not_misplaced() -> None:
    td = _td()
    found = _derive(td)
    misplaced, expected = review_task_role(TASK_ROLE, found, find_sidecars(td))
    assert misplaced == [], misplaced
    assert any("CloudWatch agent (container cwagent)" in text for text in expected), expected
    assert any("FireLens log router (container log_router)" in text for text in expected), expected


def test_without_the_sidecars_the_same_task_role_is_misplaced() -> None:
    """The control: drop the agent and the custom Fluent Bit config, and the same grants are misplaced again."""
    td = _td()
    td["containerDefinitions"] = [c for c in td["containerDefinitions"] if c["name"] != "cwagent"]
    td["containerDefinitions"][1]["firelensConfiguration"]["options"] = {"enable-ecs-log-metadata": "true"}
    misplaced, _expected = review_task_role(TASK_ROLE, _derive(td), find_sidecars(td))
    assert any("logs:CreateLogStream" in text and "should not need" in text for text in misplaced), misplaced


def test_a_custom_fluent_bit_config_is_noted_as_unread() -> None:
    notes = [s.note for s in find_sidecars(_td()) if s.note]
    assert any("/fluent-bit/etc/extra.conf" in note and "cannot read" in note for note in notes), notes
    assert any("CloudWatch agent" in note for note in notes), notes


@pytest.mark.parametrize(
    ("image", "label"),
    [
        ("amazon/cloudwatch-agent:latest", "CloudWatch agent"),
        ("public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300044.0b793", "CloudWatch agent"),
        ("public.ecr.aws/xray/aws-xray-daemon:3.x", "X-Ray daemon"),
        ("amazon/aws-xray-daemon", "X-Ray daemon"),
        ("public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0", "AWS Distro for OpenTelemetry collector"),
        ("840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1.29.6.0-prod", "App Mesh Envoy"),
        ("localhost:5000/mirror/aws-xray-daemon@sha256:" + "0" * 64, "X-Ray daemon"),
        ("acme/cloudwatch-agent-exporter:1", ""),
        ("nginx:1.25", ""),
    ],
)
def test_sidecars_are_recognised_by_repository_name(image: str, label: str) -> None:
    td = {"containerDefinitions": [{"name": "side", "image": image}]}
    found = [s.kind.label for s in find_sidecars(td)]
    assert found == ([label] if label else []), f"{image} ({image_repository(image)}): got {found}"


# -- what was checked ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "label"),
    [
        ("nginx:1.25", "Docker Hub"),
        ("library/redis:7", "Docker Hub"),
        ("apache/airflow:2.9.3", "Docker Hub"),
        ("ghcr.io/acme/agent:2.0.1", "GitHub Container Registry"),
        ("public.ecr.aws/nginx/nginx:1.25", "Amazon ECR Public"),
        ("quay.io/prometheus/node-exporter:v1.8.0", "Quay"),
        ("registry.example.com:5000/team/app:3", "registry registry.example.com:5000"),
    ],
)
def test_images_outside_ecr_get_a_row_saying_what_was_checked(image: str, label: str) -> None:
    td = {"containerDefinitions": [{"name": "app", "image": image}]}
    (row,) = checked_rows(td, ReferenceFacts(), principal_account=ACCOUNT, region=REGION)
    assert row.principal == NOBODY and row.kind == "image-unchecked"
    assert row.note.startswith(f"{label}: no IAM needed; existence not checked"), row.note
    (verdict,) = decide([row], EXECUTION_ROLE, ReferenceFacts(), REGION)  # type: ignore[arg-type]
    assert verdict.allowed and verdict.reason == row.note


def test_ecr_images_get_no_such_row_and_the_table_marks_info_rows() -> None:
    td = {"containerDefinitions": [{"name": "app", "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1"}]}
    assert checked_rows(td, ReferenceFacts(), principal_account=ACCOUNT, region=REGION) == []
    report = _report(_td())
    assert "  info   (no IAM)" in report.table(), report.table()
    assert report.to_dict()["emulator_gaps"] == []


class _StubTarget(Target):
    """A target whose ECR answers DescribePullThroughCacheRules with HTTP 500, as moto 5.2.5 does (no network)."""

    def account_id(self) -> str:
        return ACCOUNT

    def client(self, service: str, account: str = "primary", region: str | None = None, *, retries: int = 8) -> Any:
        class Paginator:
            def paginate(self, **_: Any) -> Any:
                raise ClientError({"Error": {"Code": "500", "Message": "Internal Server Error"}}, "Describe")

        class Client:
            exceptions = type("Exceptions", (), {"ClientError": ClientError})

            def get_paginator(self, _name: str) -> Paginator:
                return Paginator()

            def get_key_policy(self, **_: Any) -> dict[str, Any]:
                raise ClientError({"Error": {"Code": "500", "Message": "Internal Server Error"}}, "GetKeyPolicy")

        return Client()


def test_an_emulator_gap_is_phrased_as_such_and_is_no_note() -> None:
    target = _StubTarget("embedded", REGION, "http://127.0.0.1:9/preflight-references-gap")
    facts = AwsFacts(target)
    assert facts.pull_through_rules(ACCOUNT, REGION) == []
    assert facts.unreadable == [], "an emulator's missing action was recorded as a note about the configuration"
    (gap,) = facts.emulator_gaps
    assert gap.startswith(f"{emulator_label(target)} does not implement ecr:DescribePullThroughCacheRules"), gap
    assert emulator_label(target).startswith("the embedded emulator (moto ")


def test_an_emulator_gap_is_shown_only_on_tasks_it_concerns() -> None:
    """A key policy the emulator cannot answer concerns the tasks using that key, not every task."""
    target = _StubTarget("embedded", REGION, "http://127.0.0.1:9/preflight-references-key")
    facts = AwsFacts(target)
    assert facts.key_policy(KEY) is None
    assert facts.unreadable == [], facts.unreadable
    (gap,) = facts.gaps_for({KEY.replace("arn:aws:", "arn:aws-cn:")}, pull_through=False)
    assert "does not answer kms:GetKeyPolicy (HTTP 500)" in gap, gap
    assert facts.gaps_for({FERNET}, pull_through=False) == []
    assert facts.gaps_for(set(), pull_through=True) == [], "a key policy gap is not a pull through cache gap"
