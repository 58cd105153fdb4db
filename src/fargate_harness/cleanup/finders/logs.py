"""Sweep finders and deleters for CloudWatch Logs: log groups.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    error_code,
    pages,
    read_tags,
)


def _log_group_tags(logs: Any, group: Mapping[str, Any]) -> dict[str, str]:
    """Tags by ListTagsForResource (ARN without ``:*``), falling back to the older ListTagsLogGroup."""
    arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
    if arn:
        try:
            return dict(logs.list_tags_for_resource(resourceArn=arn).get("tags", {}))
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise
    return dict(logs.list_tags_log_group(logGroupName=group["logGroupName"]).get("tags", {}))


def find_log_groups(logs: Any) -> Iterator[Found]:
    """Log groups, with their tags."""
    for page in pages(logs, "describe_log_groups"):
        for group in page.get("logGroups", []):

            def read(group: Mapping[str, Any] = group) -> dict[str, str]:
                return _log_group_tags(logs, group)

            arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
            found = read_tags(group["logGroupName"], read, ("ResourceNotFoundException",), arn=arn)
            if found:
                yield found


def delete_log_group(logs: Any, name: str) -> None:
    """Delete a log group and its streams."""
    logs.delete_log_group(logGroupName=name)
