"""fargate_harness.preflight.requirements.derive against recorded task definitions and dict-backed facts."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.aws import secrets
from fargate_harness.preflight.analysis import decide
from fargate_harness.preflight.collect import RolePolicies
from fargate_harness.preflight.requirements import ECR_PULL_ACTIONS, SAMPLE_TASK_ID, Requirement, derive

DATA = Path(__file__).resolve().parents[1] / "data" / "preflight"
ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "us-east-1"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-password-AbCdEf"
SECRET_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111aaaa-1111-4111-8111-111111111111"
ALIASED_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/2222bbbb-2222-4222-8222-222222222222"
PARAM_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3333cccc-3333-4333-8333-333333333333"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/app"
WEB_REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app/web"
EXEC = f"arn:aws:iam::{ACCOUNT}:role/exec"
DIGEST = "sha256:" + "0f1e2d3c4b5a6978" * 4


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def _td(name: str = "task_definition_web.json") -> dict[str, Any]:
    return copy.deepcopy(_load(name)["taskDefinition"])


class DictFacts:
    """The ``Facts`` protocol backed by the recorded ``facts.json`` (and a log of the lookups made)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        """Use ``data`` or the recorded facts."""
        self.data: dict[str, Any] = copy.deepcopy(dict(data or _load("facts.json")))
        self.calls: list[tuple[str, ...]] = []

    def secret(self, secret_id: str) -> Mapping[str, Any] | None:
        """DescribeSecret of a recorded secret."""
        self.calls.append(("secret", secret_id))
        found: Mapping[str, Any] | None = self.data["secrets"].get(secret_id)
        return found

    def parameter(self, name: str, account: str, region: str) -> Mapping[str, Any] | None:
        """DescribeParameters entry of a recorded parameter."""
        self.calls.append(("parameter", name, account, region))
        found: Mapping[str, Any] | None = self.data["parameters"].get(account, {}).get(region, {}).get(name)
        return found

    def key_arn(self, key_id: str, account: str, region: str) -> str | None:
        """The recorded ARN of a key id, alias or ARN."""
        self.calls.append(("key", key_id, account, region))
        found: str | None = self.data["keys"].get(key_id)
        return found

    def log_group_kms_key(self, name: str, account: str, region: str) -> str | None:
        """The recorded KMS key of a log group (none unless ``log_group_keys`` names one)."""
        found: str | None = self.data.get("log_group_keys", {}).get(name)
        return found

    def secret_value_shape(
        self, secret_arn: str, version_id: str | None, version_stage: str | None
    ) -> secrets.SecretValueShape | None:
        """The recorded shape of a secret's value (``secret_values``: ARN -> keys, or null for a non-JSON value)."""
        recorded = self.data.get("secret_values", {})
        if secret_arn not in recorded:
            return None
        keys = recorded[secret_arn]
        if keys is None:
            return secrets.SecretValueShape(False)
        return secrets.SecretValueShape(True, frozenset(keys))

    def log_group_exists(self, name: str, account: str, region: str) -> bool:
        """True for recorded log groups."""
        self.calls.append(("log-group", name, account, region))
        return name in self.data["log_groups"].get(account, {}).get(region, [])

    def repository_exists(self, name: str, account: str, region: str) -> bool:
        """True for recorded repositories."""
        self.calls.append(("repository", name, account, region))
        return name in self.data["repositories"].get(account, {}).get(region, [])

    def image_ids(self, name: str, account: str, region: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """Recorded tags and digests of a repository."""
        found = self.data["images"].get(account, {}).get(region, {}).get(name)
        return None if found is None else (frozenset(found["tags"]), frozenset(found["digests"]))

    def pull_through_rules(self, account: str, region: str) -> list[dict[str, Any]]:
        """Recorded pull through cache rules."""
        rules: list[dict[str, Any]] = self.data["pull_through_rules"].get(account, {}).get(region, [])
        return rules

    def bucket_owner(self, bucket: str) -> str | None:
        """The recorded owner of a bucket."""
        owner: str | None = self.data["buckets"].get(bucket)
        return owner

    def object_metadata(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        """Recorded HeadObject."""
        found: Mapping[str, Any] | None = self.data["objects"].get(bucket, {}).get(key)
        return found

    def file_system(self, file_system_id: str, account: str, region: str) -> Mapping[str, Any] | None:
        """A recorded file system."""
        known = file_system_id in self.data["file_systems"].get(account, {}).get(region, [])
        return {"FileSystemId": file_system_id} if known else None


def _container(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "busybox:1.36", "essential": True, **fields}


def _derive(*containers: dict[str, Any], facts: DictFacts | None = None) -> list[Requirement]:
    td = {
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/t:1",
        "containerDefinitions": list(containers),
    }
    return derive(td, facts or DictFacts(), principal_account=ACCOUNT, region=REGION)


def _secret_container(value_from: str) -> dict[str, Any]:
    return _container(secrets=[{"name": "S", "valueFrom": value_from}])


def _by_kind(requirements: list[Requirement], kind: str) -> list[Requirement]:
    return [r for r in requirements if r.kind == kind]


def _awslogs(**options: str) -> dict[str, Any]:
    return {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "awslogs-region": REGION, **options}}


# -- ECR images ---------------------------------------------------------------------------------------


def test_ecr_image_same_account() -> None:
    found = _derive(_container(image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app/web:1.4.2"))
    auth, *pulls = found
    assert (auth.kind, auth.action, auth.resource, auth.resource_owner) == (
        "ecr-auth",
        "ecr:GetAuthorizationToken",
        "*",
        ACCOUNT,
    )
    assert [p.action for p in pulls] == list(ECR_PULL_ACTIONS)
    assert {(p.kind, p.resource, p.resource_owner, p.exists) for p in pulls} == {("ecr-pull", WEB_REPO, ACCOUNT, True)}


def test_ecr_image_other_account_is_owned_by_that_account() -> None:
    found = _derive(_container(image=f"{OTHER}.dkr.ecr.eu-west-1.amazonaws.com/base/python:3.11"))
    pulls = _by_kind(found, "ecr-pull")
    assert {p.resource for p in pulls} == {f"arn:aws:ecr:eu-west-1:{OTHER}:repository/base/python"}
    assert {p.resource_owner for p in pulls} == {OTHER}
    assert _by_kind(found, "ecr-auth")[0].resource_owner == ACCOUNT  # the token is the caller's own


@pytest.mark.parametrize(
    "suffix",
    [f"@{DIGEST}", f":1.4.2@{DIGEST}"],
    ids=["digest", "tag-and-digest"],
)
def test_ecr_image_with_digest(suffix: str) -> None:
    found = _derive(_container(image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app/web{suffix}"))
    assert {p.resource for p in _by_kind(found, "ecr-pull")} == {WEB_REPO}
    assert len(found) == 4


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.25",
        "docker.io/library/nginx:1.25",
        "public.ecr.aws/nginx/nginx:1.25",
        "ghcr.io/acme/agent:2.0.1",
        "quay.io/prometheus/node-exporter:v1.8.0",
    ],
)
def test_image_outside_private_ecr_needs_nothing(image: str) -> None:
    facts = DictFacts()
    assert _derive(_container(image=image), facts=facts) == []
    assert facts.calls == []


def test_ecr_repository_missing() -> None:
    found = _derive(_container(image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app/gone:1"))
    auth = _by_kind(found, "ecr-auth")[0]
    pulls = _by_kind(found, "ecr-pull")
    assert auth.exists is None
    assert {p.exists for p in pulls} == {False}
    assert {p.missing for p in pulls} == {f"repository app/gone does not exist in {ACCOUNT}/{REGION}"}


def test_ecr_partition_follows_the_task_definition_arn() -> None:
    td = {
        "taskDefinitionArn": f"arn:aws-cn:ecs:cn-north-1:{ACCOUNT}:task-definition/t:1",
        "containerDefinitions": [_container(image=f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/app/web:1")],
    }
    data = _load("facts.json")
    data["repositories"][ACCOUNT]["cn-north-1"] = ["app/web"]
    found = derive(td, DictFacts(data), principal_account=ACCOUNT, region="cn-north-1")
    assert {p.resource for p in _by_kind(found, "ecr-pull")} == {
        f"arn:aws-cn:ecr:cn-north-1:{ACCOUNT}:repository/app/web"
    }


# -- Secrets Manager ----------------------------------------------------------------------------------


PARTIAL = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-password"


@pytest.mark.parametrize(
    ("value_from", "looked_up"),
    [
        (SECRET, SECRET),
        (f"{SECRET}:password::", SECRET),
        (f"{SECRET}::AWSPREVIOUS:", SECRET),
        (f"{SECRET}:::11111111-2222-3333-4444-555555555555", SECRET),
        (f"{SECRET}:password:AWSCURRENT:", SECRET),
        (PARTIAL, PARTIAL),
        (f"{PARTIAL}:password::", PARTIAL),
    ],
    ids=["full-arn", "json-key", "version-stage", "version-id", "key-and-stage", "partial-arn", "partial-json-key"],
)
def test_secret_resource_is_the_full_arn_from_facts(value_from: str, looked_up: str) -> None:
    facts = DictFacts()
    secrets = _by_kind(_derive(_secret_container(value_from), facts=facts), "secret")
    assert len(secrets) == 1
    requirement = secrets[0]
    assert (requirement.action, requirement.resource) == ("secretsmanager:GetSecretValue", SECRET)
    assert (requirement.resource_owner, requirement.exists) == (ACCOUNT, True)
    assert requirement.source == "container app secret S"
    assert facts.calls[0] == ("secret", looked_up)


def test_secret_with_customer_key_needs_kms_decrypt_via_secretsmanager() -> None:
    found = _derive(_secret_container(SECRET))
    assert [r.kind for r in found] == ["secret", "kms"]
    kms = found[1]
    assert (kms.action, kms.resource, kms.resource_owner) == ("kms:Decrypt", SECRET_KEY, ACCOUNT)
    assert kms.resource_policy_kind == "kms"
    assert kms.context["kms:ViaService"] == f"secretsmanager.{REGION}.amazonaws.com"
    assert kms.context["kms:CallerAccount"] == ACCOUNT
    assert kms.context["kms:EncryptionContext:SecretARN"] == SECRET
    assert kms.source == "container app secret S (secret encryption key)"


def test_secret_key_given_by_alias_resolves_to_the_key_arn() -> None:
    value_from = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/aliased-XyZ123"
    kms = _by_kind(_derive(_secret_container(value_from)), "kms")
    assert [k.resource for k in kms] == [ALIASED_KEY]


def test_secret_in_other_account_and_region() -> None:
    value_from = f"arn:aws:secretsmanager:eu-west-1:{OTHER}:secret:shared/token-ZzYyXx"
    secret, kms = _derive(_secret_container(value_from))
    assert (secret.resource_owner, kms.resource_owner) == (OTHER, OTHER)
    assert kms.context["kms:ViaService"] == "secretsmanager.eu-west-1.amazonaws.com"
    assert kms.context["kms:CallerAccount"] == ACCOUNT


@pytest.mark.parametrize(
    "name",
    ["app/api-token-GhIjKl", "app/managed-key-MnOpQr", "app/managed-key-arn-StUvWx"],
    ids=["no-kms-key-id", "alias-aws-secretsmanager", "alias-arn-aws-secretsmanager"],
)
def test_secret_under_default_key_needs_no_kms(name: str) -> None:
    found = _derive(_secret_container(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"))
    assert [r.kind for r in found] == ["secret"]


def test_secret_missing() -> None:
    value_from = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/gone-AaBbCc:key::"
    (requirement,) = _derive(_secret_container(value_from))
    assert requirement.exists is False
    assert requirement.resource == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/gone-AaBbCc"
    assert "does not exist" in requirement.missing


def test_secret_customer_key_missing() -> None:
    data = _load("facts.json")
    del data["keys"][SECRET_KEY]
    kms = _by_kind(_derive(_secret_container(SECRET), facts=DictFacts(data)), "kms")
    assert [(k.resource, k.exists) for k in kms] == [(SECRET_KEY, False)]
    assert kms[0].missing == f"KMS key {SECRET_KEY} does not exist"


# -- SSM parameters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_from", "arn", "lookup"),
    [
        ("/app/db-url", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db-url", ("/app/db-url", ACCOUNT, REGION)),
        ("feature-flag", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/feature-flag", ("feature-flag", ACCOUNT, REGION)),
        (
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/feature-flag",
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/feature-flag",
            ("feature-flag", ACCOUNT, REGION),
        ),
        (
            f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shared/flag",
            f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shared/flag",
            ("/shared/flag", ACCOUNT, "eu-west-1"),
        ),
    ],
    ids=["hierarchical-name", "flat-name", "arn-flat", "arn-other-region"],
)
def test_parameter_get_parameters_on_the_right_arn(value_from: str, arn: str, lookup: tuple[str, str, str]) -> None:
    facts = DictFacts()
    found = _derive(_secret_container(value_from), facts=facts)
    (parameter,) = _by_kind(found, "parameter")
    assert (parameter.action, parameter.resource, parameter.exists) == ("ssm:GetParameters", arn, True)
    assert "parameter//" not in parameter.resource
    assert ("parameter", *lookup) in facts.calls


def test_secure_string_under_customer_key_needs_kms_via_ssm() -> None:
    found = _derive(_secret_container("/app/db-url"))
    assert [r.kind for r in found] == ["parameter", "kms"]
    kms = found[1]
    assert (kms.resource, kms.resource_policy_kind) == (PARAM_KEY, "kms")
    assert kms.context["kms:ViaService"] == f"ssm.{REGION}.amazonaws.com"
    assert kms.context["kms:EncryptionContext:PARAMETER_ARN"] == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db-url"


def test_secure_string_in_other_region_uses_that_region() -> None:
    found = _derive(_secret_container(f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shared/flag"))
    (kms,) = _by_kind(found, "kms")
    assert kms.context["kms:ViaService"] == "ssm.eu-west-1.amazonaws.com"
    assert kms.resource == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/5555eeee-5555-4555-8555-555555555555"


@pytest.mark.parametrize("name", ["/app/default-key", "/app/no-key-id", "feature-flag"])
def test_parameter_without_customer_key_needs_no_kms(name: str) -> None:
    facts = DictFacts()
    found = _derive(_secret_container(name), facts=facts)
    assert [r.kind for r in found] == ["parameter"]
    assert not [call for call in facts.calls if call[0] == "key"]


def test_parameter_missing() -> None:
    (parameter,) = _derive(_secret_container("/app/nope"))
    assert parameter.exists is False
    assert parameter.resource == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/nope"
    assert parameter.missing == (
        f"SSM parameter /app/nope does not exist in {ACCOUNT}/{REGION}; a parameter of another Region must be "
        "given by its full ARN"
    )


# -- repositoryCredentials ----------------------------------------------------------------------------


def test_repository_credentials() -> None:
    credentials = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:registry/ghcr-QwErTy"
    found = _derive(
        _container(image="ghcr.io/acme/agent:2.0.1", repositoryCredentials={"credentialsParameter": credentials})
    )
    (requirement,) = found
    assert (requirement.kind, requirement.action, requirement.resource) == (
        "registry-credentials",
        "secretsmanager:GetSecretValue",
        credentials,
    )
    assert requirement.source == "container app repositoryCredentials"


# -- awslogs ------------------------------------------------------------------------------------------


def test_awslogs_with_stream_prefix() -> None:
    found = _derive(_container(logConfiguration=_awslogs(**{"awslogs-stream-prefix": "web"})))
    assert [(r.kind, r.action) for r in found] == [("logs", "logs:CreateLogStream"), ("logs", "logs:PutLogEvents")]
    assert {r.resource for r in found} == {f"{GROUP_ARN}:log-stream:web/app/{SAMPLE_TASK_ID}"}
    assert {(r.exists, r.resource_owner) for r in found} == {(True, ACCOUNT)}


def test_awslogs_without_stream_prefix() -> None:
    found = _derive(_container(logConfiguration=_awslogs()))
    assert {r.resource for r in found} == {f"{GROUP_ARN}:log-stream:{SAMPLE_TASK_ID}"}


def test_awslogs_region_option() -> None:
    config = _awslogs(**{"awslogs-group": "/ecs/app-eu", "awslogs-region": "eu-west-1"})
    found = _derive(_container(logConfiguration=config))
    assert {r.resource for r in found} == {
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/app-eu:log-stream:{SAMPLE_TASK_ID}"
    }
    assert {r.exists for r in found} == {True}


@pytest.mark.parametrize("flag", ["true", "True"])
def test_awslogs_create_group(flag: str) -> None:
    config = _awslogs(**{"awslogs-group": "/ecs/new", "awslogs-create-group": flag, "awslogs-stream-prefix": "p"})
    facts = DictFacts()
    found = _derive(_container(logConfiguration=config), facts=facts)
    assert [r.action for r in found] == ["logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogGroup"]
    create = found[-1]
    new_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/new"
    assert (create.kind, create.resource) == ("logs-create-group", f"{new_group}:log-stream:")
    assert {r.exists for r in found[:2]} == {True}
    assert {r.missing for r in found} == {""}


#: The role's grant of logs:CreateLogGroup, and whether AWS allows the driver's call with it (group missing).
CREATE_GROUP_GRANTS = [
    ("log-group:/ecs/new:log-stream:*", True),  # judged denied before: the driver's call is on ":log-stream:"
    ("log-group:/ecs/new:*", True),
    ("log-group:/ecs/new", False),  # the bare group ARN does not match the ARN AWS evaluates
    ("log-group:/ecs/new:log-stream:ecs/*", False),
]


@pytest.mark.parametrize(("grant", "allowed"), CREATE_GROUP_GRANTS)
def test_awslogs_create_group_is_authorized_on_the_arn_aws_names(grant: str, allowed: bool) -> None:
    """``logs:CreateLogGroup`` from the awslogs driver is authorized on ``log-group:NAME:log-stream:`` (an empty stream
    name): Fargate's AccessDenied names that resource ("... is not authorized to perform: logs:CreateLogGroup on
    resource: arn:aws:logs:<region>:<account>:log-group:<name>:log-stream: because no identity-based policy
    allows ..."). The service authorization reference lists CreateLogGroup under the ``log-group`` resource type
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html), and the
    CloudWatch Logs user guide says IAM policies name a group's ARN with the trailing ``:*`` for all but a few
    actions (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html): a
    ``:*`` or ``:log-stream:*`` grant matches the ARN AWS evaluates, a bare group ARN does not."""
    config = _awslogs(**{"awslogs-group": "/ecs/new", "awslogs-create-group": "true"})
    (create,) = [r for r in _derive(_container(logConfiguration=config)) if r.action == "logs:CreateLogGroup"]
    statement = {
        "Effect": "Allow",
        "Action": "logs:CreateLogGroup",
        "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:{grant}",
    }
    role = RolePolicies(
        EXEC, "exec", {"exec/inline": {"Version": "2012-10-17", "Statement": [statement]}}, frozenset(), None, {}
    )
    (verdict,) = decide([create], role, None, REGION)  # type: ignore[arg-type]  # logs have no resource policy
    assert verdict.allowed is allowed, f"grant {grant} on {create.resource}: {verdict.reason}"


def test_awslogs_missing_group_without_create_group() -> None:
    config = _awslogs(**{"awslogs-group": "/ecs/nope", "awslogs-create-group": "false"})
    found = _derive(_container(logConfiguration=config))
    assert [r.kind for r in found] == ["logs", "logs"]
    assert {r.exists for r in found} == {False}
    assert {r.missing for r in found} == {f"log group /ecs/nope does not exist in {ACCOUNT}/{REGION}"}


@pytest.mark.parametrize(
    "config",
    [
        None,
        {"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}},
        {"logDriver": "splunk", "options": {"splunk-url": "https://splunk.example.com:8088"}},
    ],
    ids=["none", "firelens", "splunk"],
)
def test_other_log_drivers_need_nothing_of_the_execution_role(config: dict[str, Any] | None) -> None:
    assert [r for r in _derive(_container(logConfiguration=config)) if r.principal == "execution"] == []


# -- whole task definitions ---------------------------------------------------------------------------


def test_recorded_task_definition_in_container_order() -> None:
    """Every container's requirements, in order, with duplicates dropped (but one row per secret reference)."""
    found = derive(_td(), DictFacts(), principal_account=ACCOUNT, region=REGION)
    prefix = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
    otel = f"arn:aws:ecr:{REGION}:{OTHER}:repository/shared/otel"
    assert [(r.kind, r.action, r.resource) for r in found] == [
        ("ecr-auth", "ecr:GetAuthorizationToken", "*"),
        *[("ecr-pull", action, WEB_REPO) for action in ECR_PULL_ACTIONS],
        ("secret", "secretsmanager:GetSecretValue", SECRET),
        ("kms", "kms:Decrypt", SECRET_KEY),
        ("secret", "secretsmanager:GetSecretValue", f"{prefix}app/api-token-GhIjKl"),
        ("parameter", "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db-url"),
        ("kms", "kms:Decrypt", PARAM_KEY),
        ("parameter", "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/feature-flag"),
        ("logs", "logs:CreateLogStream", f"{GROUP_ARN}:log-stream:app/web/{SAMPLE_TASK_ID}"),
        ("logs", "logs:PutLogEvents", f"{GROUP_ARN}:log-stream:app/web/{SAMPLE_TASK_ID}"),
        *[("ecr-pull", action, otel) for action in ECR_PULL_ACTIONS],
        ("registry-credentials", "secretsmanager:GetSecretValue", f"{prefix}registry/ghcr-QwErTy"),
        ("secret", "secretsmanager:GetSecretValue", SECRET),  # container agent's DB_PASSWORD: its own row
        ("logs", "logs:CreateLogStream", f"{GROUP_ARN}:log-stream:app/agent/{SAMPLE_TASK_ID}"),
        ("logs", "logs:PutLogEvents", f"{GROUP_ARN}:log-stream:app/agent/{SAMPLE_TASK_ID}"),
    ]
    assert {r.resource_owner for r in found if r.resource == otel} == {OTHER}
    assert all(r.exists is not False for r in found)


def test_duplicates_across_containers_collapse_but_each_secret_reference_keeps_its_row() -> None:
    """Permissions repeat once; a secret reference is judged on its own (its JSON key, stage and version id may
    differ), one row per container and variable. Amazon ECS Developer Guide, "Pass Secrets Manager secrets through
    Amazon ECS environment variables",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"""
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app/web:1"
    one = _container(name="one", image=image, secrets=[{"name": "A", "valueFrom": SECRET}])
    two = _container(name="two", image=image, secrets=[{"name": "B", "valueFrom": f"{SECRET}:password::"}])
    found = _derive(one, two)
    assert [r.kind for r in found] == ["ecr-auth", "ecr-pull", "ecr-pull", "ecr-pull", "secret", "kms", "secret"]
    assert [r.source for r in _by_kind(found, "secret")] == ["container one secret A", "container two secret B"]


def test_public_only_task_definition_needs_nothing_of_the_execution_role() -> None:
    found = derive(_td("task_definition_public_only.json"), DictFacts(), principal_account=ACCOUNT, region=REGION)
    assert [r for r in found if r.principal == "execution"] == []
    assert {(r.principal, r.fatal) for r in found} == {("task", False)}  # its FireLens output


def test_same_key_for_secret_and_secure_string_keeps_both_via_services() -> None:
    container = _container(secrets=[{"name": "A", "valueFrom": SECRET}, {"name": "B", "valueFrom": "/app/same-key"}])
    kms = _by_kind(_derive(container), "kms")
    assert {k.context["kms:ViaService"] for k in kms} == {
        f"secretsmanager.{REGION}.amazonaws.com",
        f"ssm.{REGION}.amazonaws.com",
    }
