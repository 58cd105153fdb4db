"""Sweep finders and deleters for KMS: customer managed keys.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    describe_error,
    error_code,
    key_value,
    pages,
    read_tags,
)
from fargate_harness.model.ownership import is_owned


def _aliases(kms: Any, key_id: str) -> list[str]:
    return [
        alias["AliasName"] for page in pages(kms, "list_aliases", KeyId=key_id) for alias in page.get("Aliases", [])
    ]


def find_keys(kms: Any) -> Iterator[Found]:
    """Customer-managed keys not already pending deletion, with their tags (and aliases, for the prefix)."""
    for page in pages(kms, "list_keys"):
        for key in page.get("Keys", []):
            key_id = key["KeyId"]
            try:
                metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            except ClientError as error:
                if error_code(error) == "NotFoundException":
                    continue
                yield Found(key_id, {}, describe_error(error))
                continue
            if metadata.get("KeyManager") == "AWS" or metadata.get("KeyState") in (
                "PendingDeletion",
                "PendingReplicaDeletion",
            ):
                continue

            def read(key_id: str = key_id) -> dict[str, str]:
                tags: dict[str, str] = {}
                for tag_page in pages(kms, "list_resource_tags", KeyId=key_id):
                    tags.update(key_value(tag_page.get("Tags", []), "TagKey", "TagValue"))
                return tags

            found = read_tags(key_id, read, ("NotFoundException",), arn=metadata.get("Arn", ""))
            if found and not found.error and not is_owned(found.tags):
                # Only an unmarked key needs its aliases read: they are the only names it has.
                try:
                    names = (*_aliases(kms, key_id), metadata.get("Description", ""))
                except ClientError as error:
                    found = Found(key_id, {}, describe_error(error))
                else:
                    found = Found(key_id, found.tags, names=names, arn=found.arn)
            if found:
                yield found


def delete_key(kms: Any, key_id: str) -> None:
    """Delete the key's aliases, then schedule the key for deletion after the shortest window (7 days)."""
    for alias in _aliases(kms, key_id):
        kms.delete_alias(AliasName=alias)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
