"""Unit tests for fargate_harness.aws.s3: S3 ARN parsing, HeadObject and bucket policy readers (stubbed boto3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import s3
from fargate_harness.errors import ResourceNotFoundError


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    s3_client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="x")
    with Stubber(s3_client) as stubber:
        yield s3_client, stubber
        stubber.assert_no_pending_responses()


def test_parse_object_arn() -> None:
    obj = s3.parse_object_arn("arn:aws:s3:::app-config/web/app.env")
    assert (obj.bucket, obj.key, obj.arn, obj.bucket_arn) == (
        "app-config",
        "web/app.env",
        "arn:aws:s3:::app-config/web/app.env",
        "arn:aws:s3:::app-config",
    )


@pytest.mark.parametrize(
    "value", ["s3://b/k", "arn:aws:s3:::bucket-only", "arn:aws:s3:us-east-1::b/k", "arn:aws:sqs:::b/k"]
)
def test_parse_object_arn_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="S3"):
        s3.parse_object_arn(value)


def test_get_object_metadata_and_missing(client: tuple[Any, Stubber]) -> None:
    s3_client, stubber = client
    stubber.add_response(
        "head_object",
        {"ContentLength": 12, "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:aws:kms:us-east-1:1:key/k"},
        {"Bucket": "b", "Key": "k"},
    )
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    assert s3.get_object_metadata(s3_client, "b", "k")["ServerSideEncryption"] == "aws:kms"
    with pytest.raises(ResourceNotFoundError, match="S3 object s3://b/gone"):
        s3.get_object_metadata(s3_client, "b", "gone")


def test_get_bucket_policy(client: tuple[Any, Stubber]) -> None:
    s3_client, stubber = client
    policy = {"Version": "2012-10-17", "Statement": []}
    stubber.add_response("get_bucket_policy", {"Policy": json.dumps(policy)}, {"Bucket": "b"})
    stubber.add_client_error("get_bucket_policy", service_error_code="NoSuchBucketPolicy", http_status_code=404)
    assert s3.get_bucket_policy(s3_client, "b") == policy
    with pytest.raises(ResourceNotFoundError, match="policy of S3 bucket 'b'"):
        s3.get_bucket_policy(s3_client, "b")


def test_assert_object_exists() -> None:
    obj = s3.parse_object_arn("arn:aws:s3:::b/k")
    s3.assert_object_exists(obj, {"ContentLength": 1}, scenario="demo")
    with pytest.raises(AssertionError, match=r"^demo: S3 object arn:aws:s3:::b/k: expected the object to exist, got"):
        s3.assert_object_exists(obj, None, scenario="demo")
