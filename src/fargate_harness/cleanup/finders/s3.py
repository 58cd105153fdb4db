"""Sweep finders and deleters for S3: buckets.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    error_code,
    key_value,
    pages,
    read_tags,
)

#: GetBucketTagging errors meaning "not a bucket this client's region can read" (or gone).
_S3_SKIP = ("NoSuchBucket", "PermanentRedirect", "AuthorizationHeaderMalformed", "301")


def find_buckets(s3: Any) -> Iterator[Found]:
    """Buckets in the client's region (where ListBuckets can filter by region), with their tags.

    A bucket without tags is listed too (``NoSuchTagSet``): the provider creates a bucket and tags it in
    a second call, so a run killed in between leaves a bucket that only its name prefix identifies.
    """
    region = s3.meta.region_name
    kwargs: dict[str, Any] = {}
    if region and "BucketRegion" in s3.meta.service_model.operation_model("ListBuckets").input_shape.members:
        kwargs["BucketRegion"] = region
    for page in pages(s3, "list_buckets", **kwargs):
        for bucket in page.get("Buckets", []):

            def read(name: str = bucket["Name"]) -> dict[str, str]:
                try:
                    return key_value(s3.get_bucket_tagging(Bucket=name).get("TagSet", []))
                except ClientError as error:
                    if error_code(error) == "NoSuchTagSet":
                        return {}
                    raise

            found = read_tags(
                bucket["Name"], read, _S3_SKIP, arn=f"arn:aws:s3:::{bucket['Name']}", created=bucket.get("CreationDate")
            )
            if found:
                yield found


def delete_bucket(s3: Any, name: str) -> None:
    """Delete every object version and delete marker, then the bucket."""
    for page in pages(s3, "list_object_versions", Bucket=name):
        objects = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(objects), 1000):
            answer = s3.delete_objects(Bucket=name, Delete={"Objects": objects[start : start + 1000], "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise ClientError(
                    {"Error": {"Code": first.get("Code", "DeleteObjectsFailed"), "Message": first.get("Message", "")}},
                    "DeleteObjects",
                )
    s3.delete_bucket(Bucket=name)
