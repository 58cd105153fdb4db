"""cleanup.sweep against a real moto server (the embedded target), in the primary and the registry account.

Every kind the sweep knows is created marked in both accounts, next to unmarked look-alikes; then a dry
run, a sweep and a second sweep are checked against what exists on the server.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import ClientError

from fargate_harness.cleanup.sweep import SweepReport, sweep
from fargate_harness.model.ownership import MARKER_KEY, ownership_tags
from fargate_harness.targets import EmbeddedTarget
from fargate_harness.targets.embedded import EMBEDDED_ACCOUNT, EMBEDDED_REGISTRY_ACCOUNT

ACCOUNTS = ("primary", "registry")
MANAGED_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
INLINE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}]}
)

Resource = tuple[str, str, str]  # (account, kind, identifier)


@pytest.fixture(scope="module")
def moto_target() -> Iterator[EmbeddedTarget]:
    """A moto server of this module's own, so no other test's resources are swept (no warm-up: the tests'
    own requests and sweeps build every backend they use)."""
    embedded = EmbeddedTarget(warm_up=False)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


def _tags(created: dt.datetime | None = None) -> dict[str, str]:
    return ownership_tags("run-1", "sweep", "sweep", created=created)


def _unmarked() -> dict[str, str]:
    """Tags that look like the harness's but lack the marker (one has it with the wrong value)."""
    return {**{k: v for k, v in _tags().items() if k != MARKER_KEY}, MARKER_KEY: "false"}


def _kv(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


# Creators: each makes one resource of its kind in ``account`` and returns its sweep identifier. -----------


def _role(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    iam = target.client("iam", account=account)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Tags=_kv(tags))
    iam.attach_role_policy(RoleName=name, PolicyArn=MANAGED_POLICY)
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=INLINE)
    iam.create_instance_profile(InstanceProfileName=f"{name}-profile")
    iam.add_role_to_instance_profile(InstanceProfileName=f"{name}-profile", RoleName=name)
    return name


def _task_definition(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    answer = target.client("ecs", account=account).register_task_definition(
        family=name,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/docker/library/busybox:latest"}],
        tags=_kv(tags, "key", "value"),
    )
    definition = answer["taskDefinition"]
    return f"{definition['family']}:{definition['revision']}"


def _repository(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    ecr = target.client("ecr", account=account)
    ecr.create_repository(repositoryName=name, tags=_kv(tags))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "pull",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{EMBEDDED_ACCOUNT}:root"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ],
    }
    ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(policy))
    return name


def _log_group(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    target.client("logs", account=account).create_log_group(logGroupName=f"/sweep/{name}", tags=tags)
    return f"/sweep/{name}"


def _secret(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    target.client("secretsmanager", account=account).create_secret(Name=name, SecretString="s3cr3t", Tags=_kv(tags))
    return name


def _parameter(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    target.client("ssm", account=account).put_parameter(
        Name=f"/sweep/{name}", Value="value", Type="String", Tags=_kv(tags)
    )
    return f"/sweep/{name}"


def _key(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    kms = target.client("kms", account=account)
    key_id = str(kms.create_key(Description=name, Tags=_kv(tags, "TagKey", "TagValue"))["KeyMetadata"]["KeyId"])
    kms.create_alias(AliasName=f"alias/{name}", TargetKeyId=key_id)
    return key_id


def _bucket(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    s3 = target.client("s3", account=account)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _kv(tags)})
    s3.put_object(Bucket=name, Key="state/terraform.tfstate", Body=b"{}")
    return name


def _table(target: EmbeddedTarget, account: str, name: str, tags: dict[str, str]) -> str:
    target.client("dynamodb", account=account).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=_kv(tags),
    )
    return name


CREATORS: dict[str, Callable[[EmbeddedTarget, str, str, dict[str, str]], str]] = {
    "iam-role": _role,
    "ecs-task-definition": _task_definition,
    "ecr-repository": _repository,
    "log-group": _log_group,
    "secret": _secret,
    "ssm-parameter": _parameter,
    "kms-key": _key,
    "s3-bucket": _bucket,
    "dynamodb-table": _table,
}


# Existence checks on the server, independent of cleanup.sweep. --------------------------------------------


def _missing(error: ClientError, *codes: str) -> bool:
    code = error.response["Error"]["Code"]
    if code in codes:
        return True
    raise error


def exists(target: EmbeddedTarget, resource: Resource) -> bool:
    """True while the resource is live (a KMS key: not pending deletion and still aliased)."""
    account, kind, identifier = resource
    client = target.client(
        {
            "iam-role": "iam",
            "ecs-task-definition": "ecs",
            "ecr-repository": "ecr",
            "log-group": "logs",
            "secret": "secretsmanager",
            "ssm-parameter": "ssm",
            "kms-key": "kms",
            "s3-bucket": "s3",
            "dynamodb-table": "dynamodb",
        }[kind],
        account=account,
    )
    try:
        if kind == "iam-role":
            client.get_role(RoleName=identifier)
        elif kind == "ecs-task-definition":
            status = client.describe_task_definition(taskDefinition=identifier)["taskDefinition"]["status"]
            return bool(status == "ACTIVE")
        elif kind == "ecr-repository":
            client.describe_repositories(repositoryNames=[identifier])
        elif kind == "log-group":
            groups = client.describe_log_groups(logGroupNamePrefix=identifier)["logGroups"]
            return any(group["logGroupName"] == identifier for group in groups)
        elif kind == "secret":
            return "DeletedDate" not in client.describe_secret(SecretId=identifier)
        elif kind == "ssm-parameter":
            client.get_parameter(Name=identifier)
        elif kind == "kms-key":
            state = client.describe_key(KeyId=identifier)["KeyMetadata"]["KeyState"]
            aliases = client.list_aliases(KeyId=identifier)["Aliases"]
            return bool(state != "PendingDeletion" and aliases)
        elif kind == "s3-bucket":
            client.head_bucket(Bucket=identifier)
        else:
            client.describe_table(TableName=identifier)
    except ClientError as error:
        return not _missing(
            error,
            "NoSuchEntity",
            "ClientException",
            "RepositoryNotFoundException",
            "ResourceNotFoundException",
            "ParameterNotFound",
            "NotFoundException",
            "404",
            "NoSuchBucket",
        )
    return True


def _keys(report: SweepReport) -> set[Resource]:
    return {(item.account, item.kind, item.identifier) for item in report.items}


@dataclass
class World:
    """What the module created and what each step of the sweep saw."""

    marked: set[Resource] = field(default_factory=set)
    unmarked: set[Resource] = field(default_factory=set)
    dry_run: SweepReport | None = None
    alive_after_dry_run: set[Resource] = field(default_factory=set)
    report: SweepReport | None = None
    alive_after_sweep: set[Resource] = field(default_factory=set)
    second: SweepReport | None = None


@pytest.fixture(scope="module")
def world(moto_target: EmbeddedTarget) -> World:
    """Create everything, then dry-run, sweep and sweep again, recording what exists after each step."""
    state = World()
    for account in ACCOUNTS:
        short = account[:3]
        for kind, create in CREATORS.items():
            name = f"sweep-{short}-{kind}"
            state.marked.add((account, kind, create(moto_target, account, name, _tags())))
        # More than one DeleteParameters batch of ten.
        for index in range(11):
            state.marked.add(
                (account, "ssm-parameter", _parameter(moto_target, account, f"batch-{short}-{index}", _tags()))
            )
        for kind in ("iam-role", "ssm-parameter", "secret", "s3-bucket", "kms-key", "log-group", "ecr-repository"):
            name = f"keep-{short}-{kind}"
            state.unmarked.add((account, kind, CREATORS[kind](moto_target, account, name, _unmarked())))
        state.unmarked.add((account, "dynamodb-table", _table(moto_target, account, f"keep-{short}-untagged", {})))
        state.unmarked.add(
            (account, "ecs-task-definition", _task_definition(moto_target, account, f"keep-{short}", {}))
        )
    everything = state.marked | state.unmarked

    state.dry_run = sweep(moto_target, dry_run=True)
    state.alive_after_dry_run = {resource for resource in everything if exists(moto_target, resource)}
    state.report = sweep(moto_target)
    state.alive_after_sweep = {resource for resource in everything if exists(moto_target, resource)}
    state.second = sweep(moto_target)
    return state


def test_the_registry_account_is_a_different_account(moto_target: EmbeddedTarget) -> None:
    identity = moto_target.client("sts", account="registry").get_caller_identity()
    assert identity["Account"] == EMBEDDED_REGISTRY_ACCOUNT
    assert moto_target.account_id() == EMBEDDED_ACCOUNT


def test_dry_run_lists_exactly_the_marked_resources(world: World) -> None:
    assert world.dry_run is not None
    assert world.dry_run.skipped == []
    assert _keys(world.dry_run) == world.marked
    assert {kind for _, kind, _ in world.marked} == set(CREATORS)
    assert not any(item.deleted for item in world.dry_run.items)
    assert world.dry_run.table().endswith(f"{len(world.marked)} found (dry run)")


def test_dry_run_deletes_nothing(world: World) -> None:
    assert world.alive_after_dry_run == world.marked | world.unmarked


def test_sweep_deletes_every_marked_resource_in_dependency_order(world: World) -> None:
    assert world.report is not None
    assert world.report.skipped == []
    assert world.report.errors == []
    assert _keys(world.report) == world.marked
    assert all(item.deleted for item in world.report.items)
    kinds = [item.kind for item in world.report.items]
    assert kinds.index("iam-role") > max(kinds.index(kind) for kind in set(kinds) - {"iam-role"})
    assert world.report.table().endswith(f"{len(world.marked)} found, {len(world.marked)} deleted, 0 failed")


def test_no_marked_resource_remains_and_unmarked_ones_survive(world: World) -> None:
    assert world.alive_after_sweep == world.unmarked


def test_second_sweep_finds_nothing(world: World) -> None:
    assert world.second is not None
    assert world.second.items == []
    assert world.second.skipped == []


def test_older_than_keeps_recent_resources(moto_target: EmbeddedTarget, world: World) -> None:
    # ``world`` first, so its sweep cannot interfere with these resources.
    now = dt.datetime.now(dt.UTC)
    old = ("primary", "iam-role", _role(moto_target, "primary", "sweep-age-old", _tags(now - dt.timedelta(days=3))))
    new = ("primary", "iam-role", _role(moto_target, "primary", "sweep-age-new", _tags(now)))
    undated_tags = {MARKER_KEY: "true"}
    undated = ("registry", "ssm-parameter", _parameter(moto_target, "registry", "sweep-age-undated", undated_tags))

    report = sweep(moto_target, older_than=dt.timedelta(days=1))

    assert _keys(report) == {old, undated}
    assert all(item.deleted for item in report.items)
    assert not exists(moto_target, old)
    assert not exists(moto_target, undated)
    assert exists(moto_target, new)
    assert {item.created is None for item in report.items} == {True, False}

    cleanup = sweep(moto_target)
    assert _keys(cleanup) == {new}
    assert not exists(moto_target, new)
