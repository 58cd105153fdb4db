"""Unit tests for fargate_harness.aws.efs: file system and file system policy readers (stubbed boto3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import efs
from fargate_harness.errors import ResourceNotFoundError

FS = "fs-0123456789abcdef0"


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    efs_client = boto3.client("efs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="x")
    with Stubber(efs_client) as stubber:
        yield efs_client, stubber
        stubber.assert_no_pending_responses()


def _system() -> dict[str, Any]:
    return {
        "OwnerId": "111122223333",
        "CreationToken": "t",
        "FileSystemId": FS,
        "CreationTime": "2026-01-01T00:00:00Z",
        "LifeCycleState": "available",
        "NumberOfMountTargets": 1,
        "SizeInBytes": {"Value": 0},
        "PerformanceMode": "generalPurpose",
        "Tags": [],
    }


def test_file_system_arn() -> None:
    assert efs.file_system_arn(FS, region="eu-west-1", account="111122223333") == (
        f"arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/{FS}"
    )


def test_get_file_system_and_missing(client: tuple[Any, Stubber]) -> None:
    efs_client, stubber = client
    stubber.add_response("describe_file_systems", {"FileSystems": [_system()]}, {"FileSystemId": FS})
    stubber.add_client_error("describe_file_systems", service_error_code="FileSystemNotFound", http_status_code=404)
    assert efs.get_file_system(efs_client, FS)["FileSystemId"] == FS
    with pytest.raises(ResourceNotFoundError, match="EFS file system 'fs-gone'"):
        efs.get_file_system(efs_client, "fs-gone")


def test_get_file_system_policy(client: tuple[Any, Stubber]) -> None:
    efs_client, stubber = client
    policy = {"Version": "2012-10-17", "Statement": []}
    stubber.add_response("describe_file_system_policy", {"FileSystemId": FS, "Policy": json.dumps(policy)})
    stubber.add_client_error("describe_file_system_policy", service_error_code="PolicyNotFound", http_status_code=404)
    assert efs.get_file_system_policy(efs_client, FS) == policy
    assert efs.get_file_system_policy(efs_client, FS) is None


def test_default_policy_allows_through_mount_targets_only() -> None:
    (statement,) = efs.DEFAULT_FILE_SYSTEM_POLICY["Statement"]
    assert statement["Condition"] == {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}


def test_assert_file_system_exists() -> None:
    efs.assert_file_system_exists(FS, _system(), scenario="demo")
    with pytest.raises(AssertionError, match=r"^demo: EFS file system fs-gone: expected the file system to exist"):
        efs.assert_file_system_exists("fs-gone", None, scenario="demo")
