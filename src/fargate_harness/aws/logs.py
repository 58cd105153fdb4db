"""Read CloudWatch Logs log groups and check their retention."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fargate_harness.aws._policy import fail, raise_if_not_found
from fargate_harness.errors import ResourceNotFoundError

__all__ = ["assert_retention", "get_log_group"]


def get_log_group(logs: Any, name: str) -> dict[str, Any]:
    """Return the log group named exactly ``name`` (describe_log_groups by prefix, all pages)."""
    try:
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
            for group in page.get("logGroups", []):
                if group.get("logGroupName") == name:
                    return dict(group)
    except logs.exceptions.ClientError as error:
        raise_if_not_found(error, ("ResourceNotFoundException",), f"CloudWatch log group {name!r}")
        raise
    raise ResourceNotFoundError(f"CloudWatch log group {name!r} not found")


def assert_retention(group: Mapping[str, Any], expected_days: int | None, *, scenario: str) -> None:
    """Check the group's ``retentionInDays``; ``expected_days=None`` means the group never expires."""
    actual = group.get("retentionInDays")
    if actual != expected_days:
        expected = "no retention (never expire)" if expected_days is None else f"retention {expected_days} days"
        got = "no retention (never expire)" if actual is None else f"{actual} days"
        fail(scenario, f"log group {group.get('logGroupName')}", expected, got)
