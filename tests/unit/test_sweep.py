"""Unit tests for harness.sweep: parse_duration, and sweeps against botocore's Stubber (no server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from harness import sweep as sweep_module
from harness.errors import ConfigurationError
from harness.ownership import CREATED_KEY, MARKER_KEY, ownership_tags
from harness.sweep import KINDS, Kind, SweepItem, SweepReport, parse_duration, sweep

ACCOUNT = "123456789012"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


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


def role(name: str) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROA" + name.upper().replace("-", "")[:16].ljust(16, "X"),
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "CreateDate": NOW,
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
    iam.add_response("list_roles", {"Roles": [role("old"), role("new"), role("undated"), role("garbled")]})
    iam.add_response("list_role_tags", {"Tags": tags(NOW - dt.timedelta(days=3))}, {"RoleName": "old"})
    iam.add_response("list_role_tags", {"Tags": tags(NOW - dt.timedelta(hours=1))}, {"RoleName": "new"})
    iam.add_response("list_role_tags", {"Tags": [{"Key": MARKER_KEY, "Value": "true"}]}, {"RoleName": "undated"})
    garbled = [{"Key": MARKER_KEY, "Value": "true"}, {"Key": CREATED_KEY, "Value": "yesterday"}]
    iam.add_response("list_role_tags", {"Tags": garbled}, {"RoleName": "garbled"})

    report = sweep(stubs.target(), older_than=dt.timedelta(days=1), dry_run=True, kinds=only("iam-role"))

    assert [(item.identifier, item.created) for item in report.items] == [
        ("old", NOW - dt.timedelta(days=3)),
        ("undated", None),
        ("garbled", None),
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
    stubs("ecs").add_response("list_task_definitions", {"taskDefinitionArns": []}, {"status": "ACTIVE"})
    stubs("ecr").add_response("describe_repositories", {"repositories": []})
    stubs("logs").add_response("describe_log_groups", {"logGroups": []})
    stubs("secretsmanager").add_response("list_secrets", {"SecretList": []})
    stubs("ssm").add_response("describe_parameters", {"Parameters": []})
    stubs("kms").add_response("list_keys", {"Keys": []})
    stubs("s3").add_response("list_buckets", {"Buckets": []}, {"BucketRegion": "us-east-1"})
    stubs("dynamodb").add_response("list_tables", {"TableNames": []})
    stubs("iam").add_response("list_roles", {"Roles": []})

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
    assert names[0] == "ecs-task-definition"
    assert names[-1] == "iam-role"
    assert names.index("s3-bucket") < names.index("iam-role")
    assert names.index("dynamodb-table") < names.index("iam-role")
