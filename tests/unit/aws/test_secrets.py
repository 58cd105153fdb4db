"""Unit tests for fargate_harness.aws.secrets: reference parsing, metadata reading and matching."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import secrets
from fargate_harness.aws.secrets import SecretReference, parse_secret_reference
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"
BASE = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-password-AbCdEf"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CURRENT_ID = "a1b2c3d4-0000-1111-2222-333344445555"


def _metadata() -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((DATA / "secrets_describe_secret.json").read_text(encoding="utf-8"))
    return recorded


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    sm = boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(sm) as stubber:
        yield sm, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("value_from", "expected"),
    [
        (BASE, SecretReference(BASE)),
        (BASE + ":password::", SecretReference(BASE, json_key="password")),
        (BASE + "::AWSPREVIOUS:", SecretReference(BASE, version_stage="AWSPREVIOUS")),
        (BASE + ":::" + CURRENT_ID, SecretReference(BASE, version_id=CURRENT_ID)),
        (
            BASE + ":password:AWSCURRENT:" + CURRENT_ID,
            SecretReference(BASE, "password", "AWSCURRENT", CURRENT_ID),
        ),
        (BASE + ":password", SecretReference(BASE, json_key="password")),
        (BASE + ":password:AWSCURRENT", SecretReference(BASE, "password", "AWSCURRENT")),
        (BASE + ":::", SecretReference(BASE)),
        ("app/db-password", SecretReference("app/db-password")),
        ("plain", SecretReference("plain")),
        (
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:s-AbCdEf:k::",
            SecretReference("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:s-AbCdEf", json_key="k"),
        ),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:partial-name",
            SecretReference("arn:aws:secretsmanager:us-east-1:123456789012:secret:partial-name"),
        ),
    ],
)
def test_parse_secret_reference(value_from: str, expected: SecretReference) -> None:
    assert parse_secret_reference(value_from) == expected


@pytest.mark.parametrize(
    ("value_from", "message"),
    [
        ("", "empty"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/app/x", "not a Secrets Manager secret ARN"),
        ("arn:aws:secretsmanager:us-east-1:123456789012", "not a Secrets Manager secret ARN"),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:", "without a name"),
        (BASE + ":k:AWSCURRENT:id:extra", "too many fields"),
        ("name:key", "neither a name nor an ARN"),
    ],
)
def test_parse_secret_reference_rejects(value_from: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_secret_reference(value_from)


def test_secret_reference_is_frozen_and_knows_arns() -> None:
    reference = parse_secret_reference(BASE)
    assert reference.is_arn
    assert not parse_secret_reference("name").is_arn
    with pytest.raises(AttributeError):
        reference.secret_id = "x"  # type: ignore[misc]


def test_get_secret_metadata(client: tuple[Any, Stubber]) -> None:
    sm, stubber = client
    stubber.add_response("describe_secret", _metadata(), {"SecretId": BASE})
    metadata = secrets.get_secret_metadata(sm, BASE)
    assert metadata["Name"] == "app/db-password"
    assert "ResponseMetadata" not in metadata
    assert "SecretString" not in metadata


def test_get_secret_metadata_missing(client: tuple[Any, Stubber]) -> None:
    sm, stubber = client
    stubber.add_client_error("describe_secret", service_error_code="ResourceNotFoundException", http_status_code=400)
    with pytest.raises(ResourceNotFoundError, match="Secrets Manager secret 'app/gone' not found"):
        secrets.get_secret_metadata(sm, "app/gone")


@pytest.mark.parametrize(
    "reference",
    [
        BASE,
        BASE + ":password::",
        BASE + "::AWSPREVIOUS:",
        BASE + ":::" + CURRENT_ID,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-password",
        "app/db-password",
    ],
)
def test_assert_secret_matches_passes(reference: str) -> None:
    secrets.assert_secret_matches(reference, _metadata(), scenario="basic", kms_key_ids={KEY_ARN})


def test_assert_secret_matches_accepts_parsed_reference() -> None:
    secrets.assert_secret_matches(parse_secret_reference(BASE), _metadata(), scenario="basic")


@pytest.mark.parametrize(
    "reference",
    [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-password-ZZZZZZ",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db",
        "app/other",
    ],
)
def test_assert_secret_matches_other_secret(reference: str) -> None:
    with pytest.raises(
        AssertionError,
        match=r"^basic: Secrets Manager secret .*app/db-password-AbCdEf: "
        r"expected to be the secret referenced as .*, got a different secret$",
    ):
        secrets.assert_secret_matches(reference, _metadata(), scenario="basic")


def test_assert_secret_matches_missing_stage_and_version() -> None:
    with pytest.raises(
        AssertionError,
        match=r"expected version stage 'AWSPENDING', got stages \['AWSCURRENT', 'AWSPREVIOUS'\]$",
    ):
        secrets.assert_secret_matches(BASE + "::AWSPENDING:", _metadata(), scenario="basic")
    with pytest.raises(AssertionError, match=r"expected version id 'nope', got versions \["):
        secrets.assert_secret_matches(BASE + ":::nope", _metadata(), scenario="basic")


def test_assert_secret_matches_deleted() -> None:
    metadata = _metadata()
    metadata["DeletedDate"] = "2024-06-01T00:00:00Z"
    with pytest.raises(AssertionError, match=r"expected not scheduled for deletion, got DeletedDate 2024-06-01"):
        secrets.assert_secret_matches(BASE, metadata, scenario="basic")


def test_assert_secret_matches_kms_key() -> None:
    metadata = _metadata()
    with pytest.raises(AssertionError, match=r"expected KmsKeyId one of \['alias/other'\], got '.*1234abcd"):
        secrets.assert_secret_matches(BASE, metadata, scenario="basic", kms_key_ids={"alias/other"})
    del metadata["KmsKeyId"]
    secrets.assert_secret_matches(BASE, metadata, scenario="basic", kms_key_ids={"alias/aws/secretsmanager"})
    with pytest.raises(AssertionError, match=r"got 'alias/aws/secretsmanager'$"):
        secrets.assert_secret_matches(BASE, metadata, scenario="basic", kms_key_ids={KEY_ARN})
