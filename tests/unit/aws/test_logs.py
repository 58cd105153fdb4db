"""Unit tests for fargate_harness.aws.logs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import logs
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"


def _recorded() -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((DATA / "logs_describe_log_groups.json").read_text(encoding="utf-8"))
    return recorded


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    logs_client = boto3.client(
        "logs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(logs_client) as stubber:
        yield logs_client, stubber
        stubber.assert_no_pending_responses()


def test_get_log_group_exact_match_across_pages(client: tuple[Any, Stubber]) -> None:
    logs_client, stubber = client
    groups = _recorded()["logGroups"]
    # The prefix also matches /ecs/app-worker; the exact name is on the second page.
    stubber.add_response(
        "describe_log_groups",
        {"logGroups": [groups[1]], "nextToken": "t1"},
        {"logGroupNamePrefix": "/ecs/app"},
    )
    stubber.add_response(
        "describe_log_groups",
        {"logGroups": [groups[0]]},
        {"logGroupNamePrefix": "/ecs/app", "nextToken": "t1"},
    )
    group = logs.get_log_group(logs_client, "/ecs/app")
    assert group["logGroupName"] == "/ecs/app"
    assert group["retentionInDays"] == 30


def test_get_log_group_prefix_only_is_not_found(client: tuple[Any, Stubber]) -> None:
    logs_client, stubber = client
    stubber.add_response(
        "describe_log_groups",
        {"logGroups": [_recorded()["logGroups"][1]]},
        {"logGroupNamePrefix": "/ecs/app-w"},
    )
    with pytest.raises(ResourceNotFoundError, match="CloudWatch log group '/ecs/app-w' not found"):
        logs.get_log_group(logs_client, "/ecs/app-w")


def test_get_log_group_error_code_mapping(client: tuple[Any, Stubber]) -> None:
    logs_client, stubber = client
    stubber.add_client_error("describe_log_groups", service_error_code="ResourceNotFoundException")
    with pytest.raises(ResourceNotFoundError, match="'/x'"):
        logs.get_log_group(logs_client, "/x")


def test_assert_retention() -> None:
    with_retention, without = _recorded()["logGroups"]
    logs.assert_retention(with_retention, 30, scenario="basic")
    logs.assert_retention(without, None, scenario="basic")
    with pytest.raises(AssertionError, match=r"^basic: log group /ecs/app: expected retention 7 days, got 30 days$"):
        logs.assert_retention(with_retention, 7, scenario="basic")
    with pytest.raises(
        AssertionError,
        match=r"^basic: log group /ecs/app-worker: expected retention 14 days, got no retention",
    ):
        logs.assert_retention(without, 14, scenario="basic")
    with pytest.raises(AssertionError, match=r"expected no retention \(never expire\), got 30 days$"):
        logs.assert_retention(with_retention, None, scenario="basic")
