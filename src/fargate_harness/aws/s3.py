"""Read S3 objects' metadata (never their content), bucket policies and bucket owners, and parse S3 ARNs.

An ECS ``environmentFiles`` entry names its object by ARN (``arn:aws:s3:::bucket/key``); the agent reads it
with the task execution role (Amazon ECS Developer Guide, "Pass environment variables to an Amazon ECS
container": ``s3:GetObject`` on the object and ``s3:GetBucketLocation`` on the bucket).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fargate_harness.aws._policy import decode_document, fail, raise_if_not_found
from fargate_harness.model.arn import Arn

__all__ = [
    "S3Object",
    "assert_object_exists",
    "get_bucket_policy",
    "get_object_metadata",
    "parse_object_arn",
]

_NOT_FOUND = ("NoSuchKey", "NoSuchBucket", "404", "NotFound")


@dataclass(frozen=True)
class S3Object:
    """An object named by an S3 ARN."""

    partition: str
    bucket: str
    key: str

    @property
    def arn(self) -> str:
        """``arn:<partition>:s3:::<bucket>/<key>``."""
        return f"arn:{self.partition}:s3:::{self.bucket}/{self.key}"

    @property
    def bucket_arn(self) -> str:
        """``arn:<partition>:s3:::<bucket>``."""
        return f"arn:{self.partition}:s3:::{self.bucket}"


def parse_object_arn(value: str) -> S3Object:
    """Parse ``arn:<partition>:s3:::<bucket>/<key>``; ValueError for anything else (no key, not S3)."""
    arn = Arn.parse(value)
    if arn is None or arn.service != "s3" or arn.region or arn.account:
        raise ValueError(f"not an S3 object ARN: {value!r}")
    bucket, _, key = arn.resource.partition("/")
    if not bucket or not key:
        raise ValueError(f"S3 ARN without bucket or key: {value!r}")
    return S3Object(arn.partition, bucket, key)


def get_object_metadata(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    """Return ``head_object`` of the object (size, ``ServerSideEncryption``, ``SSEKMSKeyId``...), no content."""
    try:
        response = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"S3 object s3://{bucket}/{key}")
        raise
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def get_bucket_policy(s3: Any, bucket: str) -> dict[str, Any]:
    """Return the bucket policy decoded to a dict (ResourceNotFoundError when the bucket has none)."""
    try:
        text = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except s3.exceptions.ClientError as error:
        raise_if_not_found(error, ("NoSuchBucketPolicy", "NoSuchBucket"), f"policy of S3 bucket {bucket!r}")
        raise
    return decode_document(text)


def assert_object_exists(obj: S3Object, metadata: Mapping[str, Any] | None, *, scenario: str) -> None:
    """Check that ``head_object`` found the object (``metadata`` is None when it did not)."""
    if metadata is None:
        fail(scenario, f"S3 object {obj.arn}", "the object to exist", "no such object")
