"""Unit tests for fargate_harness.cleanup.sweep: parse_duration, and sweeps against botocore's Stubber (no server).

The stubbed tests leave the Tagging API out (``tagging_api=False``); the tests at the end run real boto3
calls against a moto server on a free port, for the Fargate stack kinds, the Tagging API and the prefix window.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.cleanup import sweep as sweep_module
from fargate_harness.cleanup.sweep import KINDS, Kind, SweepItem, SweepReport, parse_duration
from fargate_harness.errors import ConfigurationError
from fargate_harness.model.ownership import CREATED_KEY, MARKER_KEY, ownership_tags

ACCOUNT = "123456789012"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def sweep(*args: Any, **kwargs: Any) -> SweepReport:
    """fargate_harness.cleanup.sweep.sweep without the Tagging API (each stubbed call must be queued)."""
    kwargs.setdefault("tagging_api", False)
    return sweep_module.sweep(*args, **kwargs)


class FakeTarget:
    """Just what sweep() needs: stubbed clients per (service, account) and an optional registry."""

    def __init__(self, clients: dict[tuple[str, str], Any], registry_role_arn: str | None = None) -> None:
        self.clients = clients
        self.registry_role_arn = registry_role_arn

    def client(self, service: str, account: str = "primary") -> Any:
        return self.clients[(service, account)]


class Stubs:
    """Stubbed boto3 clients, created on first use, all checked for unused responses at the end."""

    def __init__(self) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        self.clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, account: str = "primary") -> Stubber:
        key = (service, account)
        if key not in self.stubbers:
            client = boto3.client(
                service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self.clients[key] = client
            self.stubbers[key] = Stubber(client)
            self.stubbers[key].activate()
        return self.stubbers[key]

    def target(self, registry_role_arn: str | None = None) -> FakeTarget:
        return FakeTarget(self.clients, registry_role_arn)


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    made = Stubs()
    yield made
    for stubber in made.stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def only(*names: str) -> list[Kind]:
    return [kind for kind in KINDS if kind.name in names]


def tags(created: dt.datetime | None = NOW, marked: bool = True) -> list[dict[str, str]]:
    values = ownership_tags("run-1", "basic", "fh-1", created=created)
    if not marked:
        values[MARKER_KEY] = "false"
    return [{"Key": key, "Value": value} for key, value in values.items()]


def role(name: str, created: dt.datetime = NOW) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROA" + name.upper().replace("-", "")[:16].ljust(16, "X"),
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "CreateDate": created,
    }


def stub_role_deletion(iam: Stubber, name: str, *, fail_delete: str = "") -> None:
    iam.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyName": "exec", "PolicyArn": EXEC_POLICY}]},
        {"RoleName": name},
    )
    iam.add_response("detach_role_policy", {}, {"RoleName": name, "PolicyArn": EXEC_POLICY})
    iam.add_response("list_role_policies", {"PolicyNames": ["inline"]}, {"RoleName": name})
    iam.add_response("delete_role_policy", {}, {"RoleName": name, "PolicyName": "inline"})
    iam.add_response(
        "list_instance_profiles_for_role",
        {
            "InstanceProfiles": [
                {
                    "Path": "/",
                    "InstanceProfileName": f"{name}-profile",
                    "InstanceProfileId": "AIPAEXAMPLEEXAMPLE01",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}-profile",
                    "CreateDate": NOW,
                    "Roles": [],
                }
            ]
        },
        {"RoleName": name},
    )
    iam.add_response(
        "remove_role_from_instance_profile", {}, {"InstanceProfileName": f"{name}-profile", "RoleName": name}
    )
    if fail_delete:
        iam.add_client_error(
            "delete_role",
            service_error_code=fail_delete,
            service_message="not allowed",
            expected_params={"RoleName": name},
        )
    else:
        iam.add_response("delete_role", {}, {"RoleName": name})


# parse_duration --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", dt.timedelta(seconds=90)),
        ("30m", dt.timedelta(minutes=30)),
        ("2h", dt.timedelta(hours=2)),
        ("1d", dt.timedelta(days=1)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("1d12h", dt.timedelta(days=1, hours=12)),
        (" 2H ", dt.timedelta(hours=2)),
        ("0m", dt.timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "-1h", "1.5h", "30m1h", "1 h", "2hours"])
def test_parse_duration_rejects_bad_input_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"90s, 30m, 2h, 1d or 1h30m") as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)


# IAM roles -------------------------------------------------------------------------------------------------


def test_marked_role_is_emptied_then_deleted_and_unmarked_role_untouched(stubs: Stubs) -> None:
    iam = stubs("iam")
    iam.add_response("list_roles", {"Roles": [role("fh-1-task"), role("someone-elses")]})
    iam.add_response("list_role_tags", {"Tags": tags()}, {"RoleName": "fh-1-task"})
    iam.add_response("list_role_tags", {"Tags": tags(marked=False)}, {"RoleName": "someone-elses"})
    stub_role_deletion(iam, "fh-1-task")

    report = sweep(stubs.target(), kinds=only("iam-role"))

    assert report.items == [SweepItem("primary", "iam-role", "fh-1-task", NOW, deleted=True)]
    assert report.errors == []
    assert report.table().splitlines()[-1] == "1 found, 1 deleted, 0 failed"


def test_service_linked_roles_are_not_even_read(stubs: Stubs) -> None:
    iam = stubs("iam")
    linked = {**role("AWSServiceRoleForECS"), "Path": "/aws-service-role/ecs.amazonaws.com/"}
    iam.add_response("list_roles", {"Roles": [linked]})
    assert sweep(stubs.target(), kinds=only("iam-role")).items == []


def test_older_than_keeps_recent_and_sweeps_old_and_undated(stubs: Stubs) -> None:
    iam = stubs("iam")
    long_ago = NOW - dt.timedelta(days=5)
    roles = [role("old"), role("new"), role("undated", long_ago), role("garbled", long_ago), role("undated-new")]
    iam.add_response("list_roles", {"Roles": roles})
    iam.add_response("list_role_tags", {"Tags": tags(NOW - dt.timedelta(days=3))}, {"RoleName": "old"})
    iam.add_response("list_role_tags", {"Tags": tags(NOW - dt.timedelta(hours=1))}, {"RoleName": "new"})
    iam.add_response("list_role_tags", {"Tags": [{"Key": MARKER_KEY, "Value": "true"}]}, {"RoleName": "undated"})
    garbled = [{"Key": MARKER_KEY, "Value": "true"}, {"Key": CREATED_KEY, "Value": "yesterday"}]
    iam.add_response("list_role_tags", {"Tags": garbled}, {"RoleName": "garbled"})
    iam.add_response("list_role_tags", {"Tags": [{"Key": MARKER_KEY, "Value": "true"}]}, {"RoleName": "undated-new"})

    report = sweep(stubs.target(), older_than=dt.timedelta(days=1), dry_run=True, kinds=only("iam-role"))

    # Without a readable creation tag, the creation time IAM reports decides.
    assert [(item.identifier, item.created) for item in report.items] == [
        ("old", NOW - dt.timedelta(days=3)),
        ("undated", long_ago),
        ("garbled", long_ago),
    ]


def test_dry_run_lists_and_deletes_nothing(stubs: Stubs) -> None:
    iam = stubs("iam")
    iam.add_response("list_roles", {"Roles": [role("fh-1-task")]})
    iam.add_response("list_role_tags", {"Tags": tags()}, {"RoleName": "fh-1-task"})
    ssm = stubs("ssm")
    ssm.add_response("describe_parameters", {"Parameters": [{"Name": "/fh-1/db"}]})
    ssm.add_response(
        "list_tags_for_resource", {"TagList": tags()}, {"ResourceType": "Parameter", "ResourceId": "/fh-1/db"}
    )

    report = sweep(stubs.target(), dry_run=True, kinds=only("ssm-parameter", "iam-role"))

    # Stubber would fail on any call not queued above: no detach, no delete.
    assert [(item.kind, item.identifier, item.deleted) for item in report.items] == [
        ("ssm-parameter", "/fh-1/db", False),
        ("iam-role", "fh-1-task", False),
    ]
    assert report.table().splitlines()[-1] == "2 found (dry run)"
    assert "would delete" in report.table()


def test_access_denied_on_one_delete_is_recorded_and_the_sweep_goes_on(stubs: Stubs) -> None:
    iam = stubs("iam")
    iam.add_response("list_roles", {"Roles": [role("first"), role("second")]})
    iam.add_response("list_role_tags", {"Tags": tags()}, {"RoleName": "first"})
    iam.add_response("list_role_tags", {"Tags": tags()}, {"RoleName": "second"})
    stub_role_deletion(iam, "first", fail_delete="AccessDenied")
    stub_role_deletion(iam, "second")

    report = sweep(stubs.target(), kinds=only("iam-role"))

    first, second = report.items
    assert (first.deleted, first.error) == (False, "AccessDenied: not allowed")
    assert (second.deleted, second.error) == (True, "")
    assert report.errors == [first]
    table = report.table()
    assert "FAILED AccessDenied: not allowed" in table
    assert table.splitlines()[-1] == "2 found, 1 deleted, 1 failed"


# Accounts and listing failures ------------------------------------------------------------------------------


def test_registry_account_is_skipped_without_a_registry_role(stubs: Stubs) -> None:
    stubs("iam").add_response("list_roles", {"Roles": []})
    report = sweep(stubs.target(registry_role_arn=None), kinds=only("iam-role"))
    assert report.items == [] and report.skipped == []
    assert ("iam", "registry") not in stubs.clients


def test_registry_account_is_swept_when_the_target_has_one(stubs: Stubs) -> None:
    stubs("iam").add_response("list_roles", {"Roles": []})
    registry = stubs("iam", "registry")
    registry.add_response("list_roles", {"Roles": [role("fh-1-pull")]})
    registry.add_response("list_role_tags", {"Tags": tags()}, {"RoleName": "fh-1-pull"})
    stub_role_deletion(registry, "fh-1-pull")

    report = sweep(stubs.target(f"arn:aws:iam::{'2' * 12}:role/registry"), kinds=only("iam-role"))

    assert [(item.account, item.identifier, item.deleted) for item in report.items] == [("registry", "fh-1-pull", True)]


def test_unknown_account_is_a_configuration_error(stubs: Stubs) -> None:
    with pytest.raises(ConfigurationError, match="primary, registry"):
        sweep(stubs.target(), accounts=("staging",))


def test_a_kind_that_cannot_be_listed_is_reported_and_the_others_are_swept(stubs: Stubs) -> None:
    stubs("kms").add_client_error("list_keys", service_error_code="AccessDeniedException", service_message="no")
    iam = stubs("iam")
    iam.add_response("list_roles", {"Roles": [role("fh-1-task")]})
    iam.add_response("list_role_tags", {"Tags": tags()}, {"RoleName": "fh-1-task"})
    stub_role_deletion(iam, "fh-1-task")

    report = sweep(stubs.target(), kinds=only("kms-key", "iam-role"))

    assert report.skipped == [SweepItem("primary", "kms-key", "*", None, error="AccessDeniedException: no")]
    assert [item.identifier for item in report.deleted] == ["fh-1-task"]
    assert "(could not list)" in report.table()
    assert report.table().splitlines()[-1] == "1 found, 1 deleted, 0 failed, 1 skipped"


def test_unreadable_tags_skip_that_resource_only(stubs: Stubs) -> None:
    iam = stubs("iam")
    iam.add_response("list_roles", {"Roles": [role("locked"), role("gone"), role("fh-1-task")]})
    iam.add_client_error("list_role_tags", service_error_code="AccessDenied", service_message="no")
    iam.add_client_error("list_role_tags", service_error_code="NoSuchEntity", service_message="gone")
    iam.add_response("list_role_tags", {"Tags": tags()}, {"RoleName": "fh-1-task"})

    report = sweep(stubs.target(), dry_run=True, kinds=only("iam-role"))

    assert [item.identifier for item in report.items] == ["fh-1-task"]
    assert [(item.identifier, item.error) for item in report.skipped] == [("locked", "AccessDenied: no")]


def test_full_sweep_of_an_empty_account_lists_every_kind_once(stubs: Stubs) -> None:
    scaling = stubs("application-autoscaling")
    scaling.add_response("describe_scaling_policies", {"ScalingPolicies": []}, {"ServiceNamespace": "ecs"})
    scaling.add_response("describe_scalable_targets", {"ScalableTargets": []}, {"ServiceNamespace": "ecs"})
    stubs("cloudwatch").add_response(
        "describe_alarms", {"MetricAlarms": []}, {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    )
    ecs = stubs("ecs")
    ecs.add_response("list_clusters", {"clusterArns": []})
    discovery = stubs("servicediscovery")
    discovery.add_response("list_services", {"Services": []})
    discovery.add_response("list_namespaces", {"Namespaces": []})
    ecs.add_response("list_task_definitions", {"taskDefinitionArns": []}, {"status": "ACTIVE"})
    ecs.add_response("list_clusters", {"clusterArns": []})
    elbv2 = stubs("elbv2")
    elbv2.add_response("describe_load_balancers", {"LoadBalancers": []})
    elbv2.add_response("describe_load_balancers", {"LoadBalancers": []})
    elbv2.add_response("describe_target_groups", {"TargetGroups": []})
    efs = stubs("efs")
    for _kind in ("access points", "mount targets", "file systems"):
        efs.add_response("describe_file_systems", {"FileSystems": []})
    stubs("ecr").add_response("describe_repositories", {"repositories": []})
    stubs("logs").add_response("describe_log_groups", {"logGroups": []})
    stubs("secretsmanager").add_response("list_secrets", {"SecretList": []})
    stubs("ssm").add_response("describe_parameters", {"Parameters": []})
    stubs("kms").add_response("list_keys", {"Keys": []})
    stubs("s3").add_response("list_buckets", {"Buckets": []}, {"BucketRegion": "us-east-1"})
    stubs("dynamodb").add_response("list_tables", {"TableNames": []})
    ec2 = stubs("ec2")
    ec2.add_response("describe_security_groups", {"SecurityGroups": []})
    ec2.add_response("describe_subnets", {"Subnets": []})
    ec2.add_response("describe_route_tables", {"RouteTables": []})
    ec2.add_response("describe_internet_gateways", {"InternetGateways": []})
    ec2.add_response("describe_vpcs", {"Vpcs": []})
    iam = stubs("iam")
    iam.add_response("list_roles", {"Roles": []})
    iam.add_response("list_policies", {"Policies": []}, {"Scope": "Local"})

    report = sweep(stubs.target())

    assert report == SweepReport()
    assert report.table() == "0 found, 0 deleted, 0 failed"


# The other kinds' finders and deleters ----------------------------------------------------------------------


def test_ssm_parameters_are_deleted_ten_at_a_time(stubs: Stubs) -> None:
    ssm = stubs("ssm")
    names = [f"/fh-1/p{index:02d}" for index in range(12)]
    ssm.add_response("describe_parameters", {"Parameters": [{"Name": name} for name in names]})
    for name in names:
        ssm.add_response(
            "list_tags_for_resource", {"TagList": tags()}, {"ResourceType": "Parameter", "ResourceId": name}
        )
    ssm.add_response("delete_parameters", {"DeletedParameters": names[:10]}, {"Names": names[:10]})
    ssm.add_response(
        "delete_parameters", {"DeletedParameters": names[10:11], "InvalidParameters": names[11:]}, {"Names": names[10:]}
    )

    report = sweep(stubs.target(), kinds=only("ssm-parameter"))

    assert [item.deleted for item in report.items] == [True] * 11 + [False]
    assert report.errors[0].identifier == "/fh-1/p11"
    assert report.errors[0].error.startswith("ParameterNotFound")


def test_kms_skips_aws_managed_and_pending_keys_and_removes_aliases(stubs: Stubs) -> None:
    kms = stubs("kms")
    keys = {"mine": "Enabled", "aws": "Enabled", "pending": "PendingDeletion"}
    kms.add_response("list_keys", {"Keys": [{"KeyId": key, "KeyArn": f"arn:aws:kms:::key/{key}"} for key in keys]})
    for key, state in keys.items():
        manager = "AWS" if key == "aws" else "CUSTOMER"
        metadata = {"KeyId": key, "KeyManager": manager, "KeyState": state}
        kms.add_response("describe_key", {"KeyMetadata": metadata}, {"KeyId": key})
        if key == "mine":
            marked = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in tags()]
            kms.add_response("list_resource_tags", {"Tags": marked}, {"KeyId": "mine"})
    kms.add_response("list_aliases", {"Aliases": [{"AliasName": "alias/fh-1"}]}, {"KeyId": "mine"})
    kms.add_response("delete_alias", {}, {"AliasName": "alias/fh-1"})
    kms.add_response("schedule_key_deletion", {}, {"KeyId": "mine", "PendingWindowInDays": 7})

    report = sweep(stubs.target(), kinds=only("kms-key"))

    assert [(item.identifier, item.deleted) for item in report.items] == [("mine", True)]


def test_buckets_are_emptied_of_every_version_then_deleted(stubs: Stubs) -> None:
    s3 = stubs("s3")
    s3.add_response("list_buckets", {"Buckets": [{"Name": "fh-1-state"}, {"Name": "untagged"}]})
    s3.add_response("get_bucket_tagging", {"TagSet": tags()}, {"Bucket": "fh-1-state"})
    s3.add_client_error("get_bucket_tagging", service_error_code="NoSuchTagSet", expected_params={"Bucket": "untagged"})
    s3.add_response(
        "list_object_versions",
        {
            "Versions": [{"Key": "state", "VersionId": "v1"}],
            "DeleteMarkers": [{"Key": "state", "VersionId": "v2"}],
        },
        {"Bucket": "fh-1-state"},
    )
    objects = [{"Key": "state", "VersionId": "v1"}, {"Key": "state", "VersionId": "v2"}]
    s3.add_response("delete_objects", {}, {"Bucket": "fh-1-state", "Delete": {"Objects": objects, "Quiet": True}})
    s3.add_response("delete_bucket", {}, {"Bucket": "fh-1-state"})

    report = sweep(stubs.target(), kinds=only("s3-bucket"))

    assert [(item.identifier, item.deleted) for item in report.items] == [("fh-1-state", True)]
    assert report.skipped == []


def test_log_group_tags_fall_back_to_the_older_api(stubs: Stubs) -> None:
    logs = stubs("logs")
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/fh-1"
    logs.add_response("describe_log_groups", {"logGroups": [{"logGroupName": "/ecs/fh-1", "arn": f"{arn}:*"}]})
    logs.add_client_error(
        "list_tags_for_resource", service_error_code="InvalidParameterException", expected_params={"resourceArn": arn}
    )
    marked = {tag["Key"]: tag["Value"] for tag in tags()}
    logs.add_response("list_tags_log_group", {"tags": marked}, {"logGroupName": "/ecs/fh-1"})
    logs.add_response("delete_log_group", {}, {"logGroupName": "/ecs/fh-1"})

    report = sweep(stubs.target(), kinds=only("log-group"))

    assert [(item.identifier, item.deleted) for item in report.items] == [("/ecs/fh-1", True)]


def test_task_definitions_are_deregistered_even_where_deletion_is_refused(stubs: Stubs) -> None:
    ecs = stubs("ecs")
    arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/fh-1-app:3"
    ecs.add_response("list_task_definitions", {"taskDefinitionArns": [arn]}, {"status": "ACTIVE"})
    marked = [{"key": tag["Key"], "value": tag["Value"]} for tag in tags()]
    ecs.add_response("list_tags_for_resource", {"tags": marked}, {"resourceArn": arn})
    ecs.add_response("deregister_task_definition", {}, {"taskDefinition": "fh-1-app:3"})
    ecs.add_client_error("delete_task_definitions", service_error_code="AccessDeniedException")

    report = sweep(stubs.target(), kinds=only("ecs-task-definition"))

    assert [(item.identifier, item.deleted) for item in report.items] == [("fh-1-app:3", True)]


def test_tables_being_deleted_are_not_listed(stubs: Stubs) -> None:
    dynamodb = stubs("dynamodb")
    dynamodb.add_response("list_tables", {"TableNames": ["locks"]})
    dynamodb.add_response(
        "describe_table", {"Table": {"TableName": "locks", "TableStatus": "DELETING"}}, {"TableName": "locks"}
    )
    assert sweep(stubs.target(), kinds=only("dynamodb-table")).items == []


def test_kinds_are_in_dependency_order() -> None:
    names = [kind.name for kind in sweep_module.KINDS]
    before = {
        "scaling-policy": ["scalable-target", "ecs-service"],
        "scalable-target": ["ecs-service"],
        "ecs-service": ["ecs-cluster", "target-group", "security-group", "discovery-service", "iam-role"],
        "discovery-service": ["discovery-namespace"],
        "elb-listener": ["load-balancer", "target-group"],
        "load-balancer": ["target-group", "security-group", "subnet"],
        "efs-access-point": ["efs-file-system"],
        "efs-mount-target": ["efs-file-system", "security-group", "subnet"],
        "ecs-task-definition": ["iam-role"],
        "s3-bucket": ["iam-role"],
        "dynamodb-table": ["iam-role"],
        "security-group": ["vpc"],
        "subnet": ["vpc"],
        "route-table": ["vpc"],
        "internet-gateway": ["vpc"],
        "iam-role": ["iam-policy"],
    }
    wrong = [(a, b) for a, later in before.items() for b in later if names.index(a) > names.index(b)]
    assert not wrong, f"KINDS: expected each first kind to be deleted before the second, got them reversed: {wrong}"
    assert names[-1] == "iam-policy"


# Against a real moto server: the Fargate stack kinds, the Tagging API and the name-prefix window -------------

PREFIX = "fh-gw0-a1b2c3"
OTHER = "fh-gw1-d4e5f6"
MARK = [{"Key": MARKER_KEY, "Value": "true"}]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto(moto_url: str) -> Iterator[Any]:
    """A target on the module's moto server, emptied after each test."""
    import urllib.request

    from fargate_harness.targets.base import Target

    yield Target("moto", "us-east-1", moto_url, access_key="testing", secret_key="testing")
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=10).close()


def _stack(target: Any, prefix: str) -> dict[str, str]:
    """A Fargate service behind an ALB with EFS, Cloud Map and autoscaling; tagged where ``tags`` allows.

    Half of it carries the marker, half only the name prefix (as after a kill in the create-then-tag window).
    """
    ec2, elbv2, efs = target.client("ec2"), target.client("elbv2"), target.client("efs")
    ecs, scaling = target.client("ecs"), target.client("application-autoscaling")
    discovery, cloudwatch, iam = target.client("servicediscovery"), target.client("cloudwatch"), target.client("iam")
    vpc = ec2.create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [*MARK, {"Key": "Name", "Value": prefix}]}],
    )["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=f"10.9.{index}.0/24",
            AvailabilityZone=f"us-east-1{'ab'[index]}",
            TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": f"{prefix}-{index}"}]}],
        )["Subnet"]["SubnetId"]
        for index in range(2)
    ]
    alb_sg = ec2.create_security_group(GroupName=f"{prefix}-alb", Description="alb", VpcId=vpc)["GroupId"]
    task_sg = ec2.create_security_group(
        GroupName=f"{prefix}-task",
        Description="task",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": MARK}],
    )["GroupId"]
    for group, other in ((alb_sg, task_sg), (task_sg, alb_sg)):
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": other}]}
            ],
        )
    lb = elbv2.create_load_balancer(Name=f"{prefix}-alb", Subnets=subnets, SecurityGroups=[alb_sg], Tags=MARK)
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tg_arn = elbv2.create_target_group(Name=f"{prefix}-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}]
    )
    fs = efs.create_file_system(CreationToken=f"{prefix}-data", Tags=MARK)["FileSystemId"]
    efs.create_mount_target(FileSystemId=fs, SubnetId=subnets[0], SecurityGroups=[task_sg])
    efs.create_access_point(FileSystemId=fs)
    namespace = discovery.create_private_dns_namespace(Name=f"{prefix}.local", Vpc=vpc)
    namespace_id = discovery.get_operation(OperationId=namespace["OperationId"])["Operation"]["Targets"]["NAMESPACE"]
    discovery.create_service(Name=f"{prefix}-web", NamespaceId=namespace_id, Tags=MARK)
    ecs.create_cluster(clusterName=f"{prefix}-cluster")
    ecs.register_task_definition(
        family=f"{prefix}-web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}]
    )
    ecs.create_service(
        cluster=f"{prefix}-cluster",
        serviceName=f"{prefix}-web",
        taskDefinition=f"{prefix}-web",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [task_sg]}},
        tags=[{"key": MARKER_KEY, "value": "true"}],
    )
    resource_id = f"service/{prefix}-cluster/{prefix}-web"
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=0,
        MaxCapacity=2,
    )
    scaling.put_scaling_policy(
        PolicyName=f"{prefix}-cpu",
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        },
    )
    cloudwatch.put_metric_alarm(
        AlarmName=f"{prefix}-5xx",
        MetricName="HTTPCode_ELB_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    policy = iam.create_policy(PolicyName=f"{prefix}-read", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    iam.create_role(RoleName=f"{prefix}-execution", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName=f"{prefix}-execution", PolicyArn=policy)
    iam.put_role_policy(RoleName=f"{prefix}-execution", PolicyName="inline", PolicyDocument=json.dumps(POLICY))
    return {"vpc": vpc, "alb_sg": alb_sg, "task_sg": task_sg, "fs": fs, "policy": policy}


POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _census(target: Any) -> dict[str, list[str]]:
    """Everything of the stack's kinds on the server, listed without cleanup.sweep (defaults left out)."""
    ec2, elbv2, efs = target.client("ec2"), target.client("elbv2"), target.client("efs")
    ecs, scaling = target.client("ecs"), target.client("application-autoscaling")
    discovery, iam = target.client("servicediscovery"), target.client("iam")
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    return {
        "vpc": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]],
        "subnet": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if not s["DefaultForAz"]],
        "security-group": [
            g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"
        ],
        "load-balancer": [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target-group": [tg["TargetGroupName"] for tg in elbv2.describe_target_groups()["TargetGroups"]],
        "file-system": [fs["FileSystemId"] for fs in efs.describe_file_systems()["FileSystems"]],
        "access-point": [ap["AccessPointId"] for ap in efs.describe_access_points()["AccessPoints"]],
        "namespace": [ns["Name"] for ns in discovery.list_namespaces()["Namespaces"]],
        "discovery-service": [s["Name"] for s in discovery.list_services()["Services"]],
        "cluster": [c["clusterName"] for c in clusters if c["status"] != "INACTIVE"],
        "scalable-target": [
            t["ResourceId"] for t in scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        ],
        "scaling-policy": [
            p["PolicyName"] for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        ],
        "alarm": [a["AlarmName"] for a in target.client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "role": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "policy": [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]],
    }


def test_a_fargate_stack_is_swept_whole_by_tag_and_by_name_prefix(moto: Any) -> None:
    _stack(moto, PREFIX)
    keep = moto.client("ec2").create_security_group(GroupName="team-db", Description="not ours")["GroupId"]
    assert all(_census(moto).values()), f"the stack was not built: {_census(moto)}"

    report = sweep_module.sweep(moto, accounts=("primary",))

    assert report.errors == [], report.table()
    assert report.skipped == [], report.table()
    left = {kind: names for kind, names in _census(moto).items() if names}
    assert left == {"security-group": ["team-db"]}, f"sweep: expected only the unowned group left, got {left}"
    kinds = {item.kind: item.matched for item in report.items}
    assert kinds["vpc"] == "tag" and kinds["subnet"] == "prefix" and kinds["iam-policy"] == "prefix"
    assert "(by name prefix)" in report.table()
    assert moto.client("ec2").describe_security_groups(GroupIds=[keep])["SecurityGroups"]
    assert sweep_module.sweep(moto, accounts=("primary",)).items == []


def test_an_untagged_bucket_named_with_a_run_prefix_is_swept(moto: Any) -> None:
    s3 = moto.client("s3")
    for name in (f"{PREFIX}-app-data", f"{OTHER}-app-data", "fh-someone-bucket", "team-data"):
        s3.create_bucket(Bucket=name)  # created, never tagged: the run was killed before PutBucketTagging

    only_one = sweep_module.sweep(moto, accounts=("primary",), folder_prefixes=[PREFIX])
    assert [(i.identifier, i.matched, i.deleted) for i in only_one.items] == [(f"{PREFIX}-app-data", "prefix", True)]

    shaped = sweep_module.sweep(moto, accounts=("primary",))
    assert [i.identifier for i in shaped.items] == [f"{OTHER}-app-data"]
    left = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    assert left == ["fh-someone-bucket", "team-data"], f"expected only names not of the harness's shape, got {left}"


def test_a_prefix_that_is_not_of_the_harness_shape_is_refused(moto: Any) -> None:
    with pytest.raises(ConfigurationError, match="fh-<worker>-<6 hex>"):
        sweep_module.sweep(moto, prefixes=["team"])


def test_an_explicitly_unmarked_resource_is_never_swept_by_name(moto: Any) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=f"{PREFIX}-kept")
    s3.put_bucket_tagging(Bucket=f"{PREFIX}-kept", Tagging={"TagSet": [{"Key": MARKER_KEY, "Value": "false"}]})
    assert sweep_module.sweep(moto, accounts=("primary",)).items == []


def test_a_tagged_resource_of_a_type_without_deleter_is_reported_as_a_failure(moto: Any) -> None:
    topic = moto.client("sns").create_topic(Name=f"{PREFIX}-alerts", Tags=MARK)["TopicArn"]

    report = sweep_module.sweep(moto, accounts=("primary",))

    assert [(i.kind, i.identifier) for i in report.errors] == [("tagged sns", topic)]
    assert "no deleter" in report.table()


def test_an_emulator_account_given_by_id_is_reached_by_assuming_a_role(moto: Any) -> None:
    clients = sweep_module.AccountClients(moto)
    s3 = clients.client("s3", "333333333333")
    s3.create_bucket(Bucket=f"{PREFIX}-elsewhere")
    s3.put_bucket_tagging(Bucket=f"{PREFIX}-elsewhere", Tagging={"TagSet": MARK})

    assert sweep_module.sweep(moto, accounts=("primary",)).items == []
    report = sweep_module.sweep(moto, accounts=("333333333333",))

    assert [(i.account, i.identifier, i.deleted) for i in report.items] == [
        ("333333333333", f"{PREFIX}-elsewhere", True)
    ]
