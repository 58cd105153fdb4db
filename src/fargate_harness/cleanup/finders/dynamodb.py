"""Sweep finders and deleters for DynamoDB: tables.

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
)


def find_tables(dynamodb: Any) -> Iterator[Found]:
    """Tables not already being deleted, with their tags."""
    for page in pages(dynamodb, "list_tables"):
        for name in page.get("TableNames", []):

            def read(name: str = name) -> tuple[dict[str, str], dict[str, Any]] | None:
                table = dynamodb.describe_table(TableName=name)["Table"]
                if table.get("TableStatus") == "DELETING":
                    return None
                tags: dict[str, str] = {}
                for tag_page in pages(dynamodb, "list_tags_of_resource", ResourceArn=table["TableArn"]):
                    tags.update(key_value(tag_page.get("Tags", [])))
                return tags, table

            try:
                answer = read()
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    yield Found(name, {}, describe_error(error))
                continue
            if answer is not None:
                tags, table = answer
                yield Found(name, tags, arn=table.get("TableArn", ""), created=table.get("CreationDateTime"))


def delete_table(dynamodb: Any, name: str) -> None:
    """Delete a table (fails, and is reported, when deletion protection is on)."""
    dynamodb.delete_table(TableName=name)
