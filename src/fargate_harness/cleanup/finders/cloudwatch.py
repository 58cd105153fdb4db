"""Sweep finders and deleters for CloudWatch: metric and composite alarms.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    describe_error,
    pages,
)


def find_alarms(cloudwatch: Any) -> Iterator[Found]:
    """Metric and composite alarms; tags come from the Tagging API (target-tracking alarms carry the
    scaled resource, hence the prefix, in their name)."""
    for page in pages(cloudwatch, "describe_alarms", AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
        for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            yield Found(alarm["AlarmName"], {}, arn=alarm.get("AlarmArn", ""))


def delete_alarms(cloudwatch: Any, names: Sequence[str]) -> dict[str, str]:
    """Delete alarms 100 at a time (the API's limit)."""
    failed: dict[str, str] = {}
    for start in range(0, len(names), 100):
        batch = list(names[start : start + 100])
        try:
            cloudwatch.delete_alarms(AlarmNames=batch)
        except (ClientError, BotoCoreError) as error:
            failed.update(dict.fromkeys(batch, describe_error(error)))
    return failed
