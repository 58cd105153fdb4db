"""Sweep finders and deleters for Elastic Load Balancing v2: listeners, load balancers and target groups.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    key_value,
    pages,
    retry_while,
)


def _elb_tags(elbv2: Any, arns: Sequence[str]) -> dict[str, dict[str, str]]:
    """ARN -> tags, 20 ARNs a call (the API's limit)."""
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):
        answer = elbv2.describe_tags(ResourceArns=list(arns[start : start + 20]))
        for description in answer.get("TagDescriptions", []):
            tags[description["ResourceArn"]] = key_value(description.get("Tags", []))
    return tags


def _load_balancers(elbv2: Any) -> list[dict[str, Any]]:
    return [lb for page in pages(elbv2, "describe_load_balancers") for lb in page.get("LoadBalancers", [])]


def find_listeners(elbv2: Any) -> Iterator[Found]:
    """Listeners, owned with their load balancer: they carry its tags and name (moto cannot tag listeners)."""
    balancers = _load_balancers(elbv2)
    tags = _elb_tags(elbv2, [lb["LoadBalancerArn"] for lb in balancers])
    for balancer in balancers:
        for page in pages(elbv2, "describe_listeners", LoadBalancerArn=balancer["LoadBalancerArn"]):
            for listener in page.get("Listeners", []):
                yield Found(
                    listener["ListenerArn"],
                    tags.get(balancer["LoadBalancerArn"], {}),
                    names=(balancer["LoadBalancerName"],),
                    arn=listener["ListenerArn"],
                )


def delete_listener(elbv2: Any, arn: str) -> None:
    """Delete one listener."""
    elbv2.delete_listener(ListenerArn=arn)


def find_load_balancers(elbv2: Any) -> Iterator[Found]:
    """Application and network load balancers, with their tags."""
    balancers = _load_balancers(elbv2)
    tags = _elb_tags(elbv2, [lb["LoadBalancerArn"] for lb in balancers])
    for balancer in balancers:
        arn = balancer["LoadBalancerArn"]
        yield Found(
            arn, tags.get(arn, {}), names=(balancer["LoadBalancerName"],), arn=arn, created=balancer.get("CreatedTime")
        )


def delete_load_balancer(elbv2: Any, arn: str) -> None:
    """Turn deletion protection off, then delete the load balancer (its listeners go with it)."""
    with contextlib.suppress(ClientError):
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
        )
    elbv2.delete_load_balancer(LoadBalancerArn=arn)


def find_target_groups(elbv2: Any) -> Iterator[Found]:
    """Target groups, with their tags."""
    groups = [group for page in pages(elbv2, "describe_target_groups") for group in page.get("TargetGroups", [])]
    tags = _elb_tags(elbv2, [group["TargetGroupArn"] for group in groups])
    for group in groups:
        arn = group["TargetGroupArn"]
        yield Found(arn, tags.get(arn, {}), names=(group["TargetGroupName"],), arn=arn)


def delete_target_group(elbv2: Any, arn: str) -> None:
    """Delete a target group; AWS refuses while a deleted load balancer's listener still points at it."""
    retry_while(("ResourceInUse",), lambda: elbv2.delete_target_group(TargetGroupArn=arn))
