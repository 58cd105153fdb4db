"""Unit tests for fargate_harness.aws.ssm: parameter names from ARNs, metadata reading, SecureString checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import ssm
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def _recorded() -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((DATA / "ssm_describe_parameters.json").read_text(encoding="utf-8"))
    return recorded


def _filters(name: str) -> list[dict[str, Any]]:
    return [{"Key": "Name", "Option": "Equals", "Values": [name]}]


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    ssm_client = boto3.client(
        "ssm", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(ssm_client) as stubber:
        yield ssm_client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("value_from", "expected"),
    [
        ("arn:aws:ssm:us-east-1:123456789012:parameter/app/feature-flag", "/app/feature-flag"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/a/b/c", "/a/b/c"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/name", "name"),
        ("arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/gov/x", "/gov/x"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/with.dots_and-dash", "with.dots_and-dash"),
        ("/app/feature-flag", "/app/feature-flag"),
        ("plain-name", "plain-name"),
    ],
)
def test_parameter_name(value_from: str, expected: str) -> None:
    assert ssm.parameter_name(value_from) == expected


@pytest.mark.parametrize(
    "value_from",
    [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf",
        "arn:aws:ssm:us-east-1:123456789012:document/x",
        "arn:aws:ssm:us-east-1",
    ],
)
def test_parameter_name_rejects_other_arns(value_from: str) -> None:
    with pytest.raises(ValueError, match="not an SSM parameter ARN"):
        ssm.parameter_name(value_from)


def test_parameter_name_rejects_arn_without_name() -> None:
    with pytest.raises(ValueError, match="without a name"):
        ssm.parameter_name("arn:aws:ssm:us-east-1:123456789012:parameter/")


def test_get_parameter_metadata_skips_empty_pages(client: tuple[Any, Stubber]) -> None:
    ssm_client, stubber = client
    stubber.add_response(
        "describe_parameters",
        {"Parameters": [], "NextToken": "t1"},
        {"ParameterFilters": _filters("/app/feature-flag")},
    )
    stubber.add_response(
        "describe_parameters",
        _recorded(),
        {"ParameterFilters": _filters("/app/feature-flag"), "NextToken": "t1"},
    )
    meta = ssm.get_parameter_metadata(ssm_client, "/app/feature-flag")
    assert meta["Type"] == "SecureString"
    assert "Value" not in meta


def test_get_parameter_metadata_missing(client: tuple[Any, Stubber]) -> None:
    ssm_client, stubber = client
    stubber.add_response("describe_parameters", {"Parameters": []}, {"ParameterFilters": _filters("/gone")})
    with pytest.raises(ResourceNotFoundError, match="SSM parameter '/gone' not found"):
        ssm.get_parameter_metadata(ssm_client, "/gone")


def test_get_parameter_metadata_error_code(client: tuple[Any, Stubber]) -> None:
    ssm_client, stubber = client
    stubber.add_client_error("describe_parameters", service_error_code="ParameterNotFound")
    with pytest.raises(ResourceNotFoundError, match="SSM parameter '/gone'"):
        ssm.get_parameter_metadata(ssm_client, "/gone")


def _entry(name: str) -> dict[str, Any]:
    return {"Name": name, "Type": "String", "Version": 1}


def test_get_parameters_metadata_one_filter_for_several_names(client: tuple[Any, Stubber]) -> None:
    ssm_client, stubber = client
    filters = [{"Key": "Name", "Option": "Equals", "Values": ["/a", "/b", "/gone"]}]
    stubber.add_response(
        "describe_parameters", {"Parameters": [_entry("/a")], "NextToken": "t1"}, {"ParameterFilters": filters}
    )
    stubber.add_response(
        "describe_parameters", {"Parameters": [_entry("/b")]}, {"ParameterFilters": filters, "NextToken": "t1"}
    )
    found = ssm.get_parameters_metadata(ssm_client, ["/a", "/b", "/a", "/gone"])
    assert sorted(found) == ["/a", "/b"]  # duplicates asked once, a missing name is absent


def test_get_parameters_metadata_fifty_names_per_filter(client: tuple[Any, Stubber]) -> None:
    """ParameterStringFilter takes at most 50 values (AWS Systems Manager API Reference, ParameterStringFilter)."""
    ssm_client, stubber = client
    names = [f"/p{i}" for i in range(51)]
    for chunk in (names[:50], names[50:]):
        filters = [{"Key": "Name", "Option": "Equals", "Values": chunk}]
        stubber.add_response(
            "describe_parameters", {"Parameters": [_entry(n) for n in chunk]}, {"ParameterFilters": filters}
        )
    assert len(ssm.get_parameters_metadata(ssm_client, names)) == 51


@pytest.mark.parametrize("key_id", ["alias/app", KEY_ARN, KEY_ID])
def test_assert_secure_string_passes(key_id: str) -> None:
    meta = _recorded()["Parameters"][0]
    meta["KeyId"] = key_id
    ssm.assert_secure_string(meta, key_arn=KEY_ARN, key_id_aliases={KEY_ID, "alias/app"}, scenario="basic")


def test_assert_secure_string_wrong_type() -> None:
    meta = _recorded()["Parameters"][0]
    meta["Type"] = "String"
    with pytest.raises(
        AssertionError,
        match=r"^basic: SSM parameter /app/feature-flag: expected Type 'SecureString', got 'String'$",
    ):
        ssm.assert_secure_string(meta, key_arn=KEY_ARN, key_id_aliases=(), scenario="basic")


def test_assert_secure_string_default_key() -> None:
    meta = _recorded()["Parameters"][0]
    meta["KeyId"] = "alias/aws/ssm"
    with pytest.raises(
        AssertionError,
        match=r"^basic: SSM parameter /app/feature-flag: "
        r"expected KeyId one of \['alias/app', 'arn:aws:kms:.*'\], got 'alias/aws/ssm'$",
    ):
        ssm.assert_secure_string(meta, key_arn=KEY_ARN, key_id_aliases=["alias/app"], scenario="basic")
