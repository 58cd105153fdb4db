"""Unit tests for fargate_harness.aws.iam: readers against botocore's Stubber, checks against recorded JSON."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import iam
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"
ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/db-password-AbCdEf"
TOKEN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/api-token-GhIjKl"
OTHER_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:billing/db-password-QwErTy"
EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    iam_client = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(iam_client) as stubber:
        yield iam_client, stubber
        stubber.assert_no_pending_responses()


def _role(trust_name: str) -> dict[str, Any]:
    return {"RoleName": "app-task", "AssumeRolePolicyDocument": _load("iam_trust_policies.json")[trust_name]}


# Readers ---------------------------------------------------------------------------------------------


def test_get_role_decodes_url_encoded_trust_policy(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_response("get_role", _load("iam_get_role.json"), {"RoleName": "app-task-exec"})
    role = iam.get_role(iam_client, "app-task-exec")
    assert role["RoleName"] == "app-task-exec"
    assert role["AssumeRolePolicyDocument"] == _load("iam_trust_policies.json")["ok"]


def test_get_role_missing_raises_resource_not_found(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_client_error(
        "get_role",
        service_error_code="NoSuchEntity",
        service_message="Role gone cannot be found.",
        http_status_code=404,
    )
    with pytest.raises(ResourceNotFoundError, match="IAM role 'gone' not found"):
        iam.get_role(iam_client, "gone")


def test_get_role_other_errors_propagate(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_client_error("get_role", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(iam_client.exceptions.ClientError) as info:
        iam.get_role(iam_client, "app-task")
    assert not isinstance(info.value, ResourceNotFoundError)


def test_get_attached_policy_arns_paginates(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    first = {
        "AttachedPolicies": [{"PolicyName": "AmazonECSTaskExecutionRolePolicy", "PolicyArn": EXEC_POLICY}],
        "IsTruncated": True,
        "Marker": "page-2",
    }
    second = {
        "AttachedPolicies": [{"PolicyName": "extra", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/extra"}],
        "IsTruncated": False,
    }
    stubber.add_response("list_attached_role_policies", first, {"RoleName": "app-task-exec"})
    stubber.add_response("list_attached_role_policies", second, {"RoleName": "app-task-exec", "Marker": "page-2"})
    assert iam.get_attached_policy_arns(iam_client, "app-task-exec") == [
        EXEC_POLICY,
        f"arn:aws:iam::{ACCOUNT}:policy/extra",
    ]


def test_get_attached_policy_arns_missing_role(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_client_error("list_attached_role_policies", service_error_code="NoSuchEntity", http_status_code=404)
    with pytest.raises(ResourceNotFoundError, match="IAM role 'gone'"):
        iam.get_attached_policy_arns(iam_client, "gone")


def test_get_inline_policies_paginates_and_decodes(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    recorded = _load("iam_execution_inline_policies.json")
    stubber.add_response(
        "list_role_policies",
        {"PolicyNames": ["secrets-access"], "IsTruncated": True, "Marker": "m1"},
        {"RoleName": "app-task-exec"},
    )
    stubber.add_response(
        "list_role_policies",
        {"PolicyNames": ["logs"], "IsTruncated": False},
        {"RoleName": "app-task-exec", "Marker": "m1"},
    )
    for name in ("secrets-access", "logs"):
        stubber.add_response(
            "get_role_policy",
            {
                "RoleName": "app-task-exec",
                "PolicyName": name,
                "PolicyDocument": urllib.parse.quote(json.dumps(recorded[name])),
            },
            {"RoleName": "app-task-exec", "PolicyName": name},
        )
    assert iam.get_inline_policies(iam_client, "app-task-exec") == recorded


def test_get_inline_policies_missing_role(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_client_error("list_role_policies", service_error_code="NoSuchEntity", http_status_code=404)
    with pytest.raises(ResourceNotFoundError, match="IAM role 'gone'"):
        iam.get_inline_policies(iam_client, "gone")


def test_get_inline_policies_policy_vanished(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_response("list_role_policies", {"PolicyNames": ["p"], "IsTruncated": False}, {"RoleName": "r"})
    stubber.add_client_error("get_role_policy", service_error_code="NoSuchEntity", http_status_code=404)
    with pytest.raises(ResourceNotFoundError, match="inline policy 'p' of IAM role 'r'"):
        iam.get_inline_policies(iam_client, "r")


def test_get_managed_policy_document_reads_default_version(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_response(
        "get_policy",
        {
            "Policy": {
                "PolicyName": "AmazonECSTaskExecutionRolePolicy",
                "Arn": EXEC_POLICY,
                "DefaultVersionId": "v3",
            }
        },
        {"PolicyArn": EXEC_POLICY},
    )
    stubber.add_response(
        "get_policy_version",
        _load("iam_managed_execution_policy_version.json"),
        {"PolicyArn": EXEC_POLICY, "VersionId": "v3"},
    )
    document = iam.get_managed_policy_document(iam_client, EXEC_POLICY)
    assert "ecr:BatchGetImage" in document["Statement"][0]["Action"]


def test_get_managed_policy_document_missing(client: tuple[Any, Stubber]) -> None:
    iam_client, stubber = client
    stubber.add_client_error("get_policy", service_error_code="NoSuchEntity", http_status_code=404)
    with pytest.raises(ResourceNotFoundError, match="IAM managed policy 'arn:aws:iam::1:policy/x' not found"):
        iam.get_managed_policy_document(iam_client, "arn:aws:iam::1:policy/x")


# Trust policy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("trust", ["ok", "ok_list_service_with_condition"])
def test_assert_trusts_only_service_passes(trust: str) -> None:
    iam.assert_trusts_only_service(_role(trust), scenario="basic")


def test_assert_trusts_only_service_accepts_string_document() -> None:
    role = {
        "RoleName": "app-task",
        "AssumeRolePolicyDocument": json.dumps(_load("iam_trust_policies.json")["ok"]),
    }
    iam.assert_trusts_only_service(role, scenario="basic")


@pytest.mark.parametrize(
    ("trust", "found"),
    [
        ("extra_aws_principal", r"'AWS': 'arn:aws:iam::123456789012:root'"),
        (
            "second_statement_ec2",
            r"statement Ec2: Effect 'Allow', Principal \{'Service': 'ec2.amazonaws.com'\}",
        ),
        ("two_services_one_statement", r"lambda\.amazonaws\.com"),
        ("wildcard_action", r"Action \['sts:\*'\]"),
        ("tag_session_too", r"sts:TagSession"),
        ("star_principal", r"Principal '\*'"),
        ("deny_statement", r"statement DenyOthers: Effect 'Deny'"),
        ("empty", r"no statements"),
    ],
)
def test_assert_trusts_only_service_fails(trust: str, found: str) -> None:
    pattern = (
        r"^basic: IAM role app-task trust policy: expected only Service 'ecs-tasks\.amazonaws\.com' "
        r"allowed sts:AssumeRole, got .*" + found
    )
    with pytest.raises(AssertionError, match=pattern):
        iam.assert_trusts_only_service(_role(trust), scenario="basic")


def test_assert_trusts_only_service_other_service() -> None:
    with pytest.raises(AssertionError, match=r"expected only Service 'lambda\.amazonaws\.com'"):
        iam.assert_trusts_only_service(_role("ok"), "lambda.amazonaws.com", scenario="basic")


def test_assert_trusts_only_service_without_document() -> None:
    with pytest.raises(AssertionError, match=r"IAM role app-task trust policy: .* got no AssumeRolePolicyDocument$"):
        iam.assert_trusts_only_service({"RoleName": "app-task"}, scenario="basic")


# Managed policy attachment -----------------------------------------------------------------------------


def test_assert_managed_policy_attached() -> None:
    iam.assert_managed_policy_attached("app-task-exec", [EXEC_POLICY], EXEC_POLICY, scenario="basic")
    with pytest.raises(
        AssertionError,
        match=r"^basic: IAM role app-task-exec: expected managed policy .*AmazonECSTaskExecutionRolePolicy "
        r"attached, got attached \[\]$",
    ):
        iam.assert_managed_policy_attached("app-task-exec", [], EXEC_POLICY, scenario="basic")


# Statements ------------------------------------------------------------------------------------------


def test_assert_statement_passes_with_mapping_list_and_single_document() -> None:
    recorded = _load("iam_execution_inline_policies.json")
    expected = {"actions": {"secretsmanager:GetSecretValue"}, "resources": {SECRET, TOKEN}}
    iam.assert_statement("app-task-exec", recorded, "ReadSecrets", scenario="s", **expected)
    iam.assert_statement("app-task-exec", list(recorded.values()), "ReadSecrets", scenario="s", **expected)
    iam.assert_statement("app-task-exec", recorded["secrets-access"], "ReadSecrets", scenario="s", **expected)
    iam.assert_statement(
        "app-task-exec",
        recorded,
        "WriteLogs",
        actions={"LOGS:createlogstream", "logs:PutLogEvents"},
        resources={f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/app:*"},
        scenario="s",
    )


def test_assert_statement_missing_sid() -> None:
    with pytest.raises(
        AssertionError, match=r"^s: IAM role app-task-exec statement 'Nope': expected the statement to exist"
    ):
        iam.assert_statement(
            "app-task-exec",
            _load("iam_execution_inline_policies.json"),
            "Nope",
            actions=set(),
            resources=set(),
            scenario="s",
        )


def test_assert_statement_extra_and_missing_actions() -> None:
    with pytest.raises(
        AssertionError,
        match=r"^s: IAM role app-task-exec statement 'ReadSecrets': expected actions "
        r"\['secretsmanager:describesecret'\], got \['secretsmanager:getsecretvalue'\] "
        r"\(missing \['secretsmanager:describesecret'\], extra \['secretsmanager:getsecretvalue'\]\)$",
    ):
        iam.assert_statement(
            "app-task-exec",
            _load("iam_execution_inline_policies.json"),
            "ReadSecrets",
            actions={"secretsmanager:DescribeSecret"},
            resources={SECRET, TOKEN},
            scenario="s",
        )


def test_assert_statement_extra_resource() -> None:
    with pytest.raises(AssertionError, match=r"statement 'ReadSecrets': expected resources .* \(extra \[.*api-token"):
        iam.assert_statement(
            "app-task-exec",
            _load("iam_execution_inline_policies.json"),
            "ReadSecrets",
            actions={"secretsmanager:GetSecretValue"},
            resources={SECRET},
            scenario="s",
        )


def test_assert_statement_missing_resource() -> None:
    with pytest.raises(AssertionError, match=r"\(missing \[.*billing/db-password-QwErTy'\]\)$"):
        iam.assert_statement(
            "app-task-exec",
            _load("iam_execution_inline_policies.json"),
            "ReadSecrets",
            actions={"secretsmanager:GetSecretValue"},
            resources={SECRET, TOKEN, OTHER_SECRET},
            scenario="s",
        )


def test_assert_statement_effect_duplicates_and_not_elements() -> None:
    deny = [{"Statement": {"Sid": "X", "Effect": "Deny", "Action": "a:b", "Resource": "*"}}]
    with pytest.raises(AssertionError, match=r"statement 'X': expected Effect 'Allow', got Effect 'Deny'"):
        iam.assert_statement("r", deny, "X", actions={"a:b"}, resources={"*"}, scenario="s")
    twice = [{"Statement": {"Sid": "X", "Effect": "Allow", "Action": "a:b", "Resource": "*"}}] * 2
    with pytest.raises(AssertionError, match=r"expected exactly one statement with that Sid, got 2 statements"):
        iam.assert_statement("r", twice, "X", actions={"a:b"}, resources={"*"}, scenario="s")
    not_resource = [{"Statement": {"Sid": "X", "Effect": "Allow", "Action": "a:b", "NotResource": "arn:x"}}]
    with pytest.raises(AssertionError, match=r"expected no NotResource, got NotResource 'arn:x'"):
        iam.assert_statement("r", not_resource, "X", actions={"a:b"}, resources=set(), scenario="s")


def test_assert_no_statement() -> None:
    recorded = _load("iam_execution_inline_policies.json")
    iam.assert_no_statement("app-task-exec", recorded, "ReadEverything", scenario="empty-inputs")
    with pytest.raises(
        AssertionError,
        match=r"^empty-inputs: IAM role app-task-exec statement 'ReadParameters': "
        r"expected no statement with that Sid, got \[\{'Sid': 'ReadParameters'",
    ):
        iam.assert_no_statement("app-task-exec", recorded, "ReadParameters", scenario="empty-inputs")


# Grants ----------------------------------------------------------------------------------------------


def test_assert_granted_and_not_granted_pass() -> None:
    recorded = _load("iam_execution_inline_policies.json")
    iam.assert_granted("app-task-exec", recorded, "secretsmanager:GetSecretValue", SECRET, scenario="iso")
    iam.assert_not_granted("app-task-exec", recorded, "secretsmanager:GetSecretValue", OTHER_SECRET, scenario="iso")


def test_assert_not_granted_names_granting_statement() -> None:
    with pytest.raises(
        AssertionError,
        match=r"^iso: IAM role app-task-exec: expected no Allow for secretsmanager:GetSecretValue on "
        r".*app/db-password-AbCdEf, got granted by statements \['ReadSecrets'\]$",
    ):
        iam.assert_not_granted(
            "app-task-exec",
            _load("iam_execution_inline_policies.json"),
            "secretsmanager:GetSecretValue",
            SECRET,
            scenario="iso",
        )


def test_assert_not_granted_catches_wildcards() -> None:
    broad = {"broad": {"Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]}}
    with pytest.raises(AssertionError, match=r"got granted by statements \['<no Sid>'\]"):
        iam.assert_not_granted("role-a", broad, "secretsmanager:GetSecretValue", OTHER_SECRET, scenario="iso")


def test_assert_granted_fails() -> None:
    with pytest.raises(
        AssertionError,
        match=r"^iso: IAM role app-task-exec: expected an Allow for ssm:GetParameters on "
        r"arn:aws:ssm:us-east-1:123456789012:parameter/billing/x, got none$",
    ):
        iam.assert_granted(
            "app-task-exec",
            _load("iam_execution_inline_policies.json"),
            "ssm:GetParameters",
            f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/billing/x",
            scenario="iso",
        )
