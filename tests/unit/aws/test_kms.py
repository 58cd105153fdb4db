"""Unit tests for fargate_harness.aws.kms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import kms
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    kms_client = boto3.client(
        "kms", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(kms_client) as stubber:
        yield kms_client, stubber
        stubber.assert_no_pending_responses()


def test_get_key_metadata(client: tuple[Any, Stubber]) -> None:
    kms_client, stubber = client
    stubber.add_response("describe_key", _load("kms_describe_key.json"), {"KeyId": "alias/app"})
    assert kms.get_key_metadata(kms_client, "alias/app")["Arn"] == KEY_ARN


def test_get_key_metadata_missing(client: tuple[Any, Stubber]) -> None:
    kms_client, stubber = client
    stubber.add_client_error("describe_key", service_error_code="NotFoundException", http_status_code=400)
    with pytest.raises(ResourceNotFoundError, match="KMS key 'alias/gone' not found"):
        kms.get_key_metadata(kms_client, "alias/gone")


def test_get_key_aliases_paginates(client: tuple[Any, Stubber]) -> None:
    kms_client, stubber = client
    aliases = _load("kms_list_aliases.json")["Aliases"]
    stubber.add_response(
        "list_aliases", {"Aliases": aliases[:1], "Truncated": True, "NextMarker": "m"}, {"KeyId": KEY_ID}
    )
    stubber.add_response("list_aliases", {"Aliases": aliases[1:], "Truncated": False}, {"KeyId": KEY_ID, "Marker": "m"})
    assert [a["AliasName"] for a in kms.get_key_aliases(kms_client, KEY_ID)] == ["alias/app", "alias/other"]


def test_key_identifiers_from_list_aliases_entries() -> None:
    meta = _load("kms_describe_key.json")["KeyMetadata"]
    assert kms.key_identifiers(meta, _load("kms_list_aliases.json")["Aliases"]) == {
        KEY_ID,
        KEY_ARN,
        "alias/app",
        "arn:aws:kms:us-east-1:123456789012:alias/app",
    }


def test_key_identifiers_from_alias_names() -> None:
    meta = _load("kms_describe_key.json")["KeyMetadata"]
    assert kms.key_identifiers(meta, ["alias/app", "short"]) == {
        KEY_ID,
        KEY_ARN,
        "alias/app",
        "alias/short",
        "arn:aws:kms:us-east-1:123456789012:alias/app",
        "arn:aws:kms:us-east-1:123456789012:alias/short",
    }


def test_key_identifiers_without_aliases_or_arn() -> None:
    meta = _load("kms_describe_key.json")["KeyMetadata"]
    assert kms.key_identifiers(meta) == {KEY_ID, KEY_ARN}
    assert kms.key_identifiers({"KeyId": KEY_ID}, ["alias/app"]) == {KEY_ID, "alias/app"}
