"""Sweep finders and deleters for Application Auto Scaling: scaling policies and scalable targets (ECS).

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fargate_harness.cleanup.finders.common import (
    Found,
    pages,
)

#: Namespaces a Fargate stack scales in.
SCALING_NAMESPACES = ("ecs",)


def find_scaling_policies(autoscaling: Any) -> Iterator[Found]:
    """Scaling policies (not taggable): matched by their name or the resource they scale."""
    for namespace in SCALING_NAMESPACES:
        for page in pages(autoscaling, "describe_scaling_policies", ServiceNamespace=namespace):
            for policy in page.get("ScalingPolicies", []):
                identifier = "|".join(
                    (namespace, policy["ResourceId"], policy["ScalableDimension"], policy["PolicyName"])
                )
                yield Found(
                    identifier,
                    {},
                    names=(policy["PolicyName"], policy["ResourceId"]),
                    arn=policy.get("PolicyARN", ""),
                    created=policy.get("CreationTime"),
                )


def delete_scaling_policy(autoscaling: Any, identifier: str) -> None:
    """Delete one policy (its target-tracking alarms go with it)."""
    namespace, resource_id, dimension, name = identifier.split("|", 3)
    autoscaling.delete_scaling_policy(
        PolicyName=name, ServiceNamespace=namespace, ResourceId=resource_id, ScalableDimension=dimension
    )


def find_scalable_targets(autoscaling: Any) -> Iterator[Found]:
    """Scalable targets, matched by the resource they scale (or by their tags, from the Tagging API).

    Their own ListTagsForResource is not used: moto 5.2.5 answers it with HTTP 500 (retried for seconds),
    and the scaled resource's name carries the prefix anyway.
    """
    for namespace in SCALING_NAMESPACES:
        for page in pages(autoscaling, "describe_scalable_targets", ServiceNamespace=namespace):
            for target in page.get("ScalableTargets", []):
                yield Found(
                    "|".join((namespace, target["ResourceId"], target["ScalableDimension"])),
                    {},
                    names=(target["ResourceId"],),
                    arn=target.get("ScalableTargetARN", ""),
                    created=target.get("CreationTime"),
                )


def delete_scalable_target(autoscaling: Any, identifier: str) -> None:
    """Deregister a scalable target (and whatever policies remain on it)."""
    namespace, resource_id, dimension = identifier.split("|", 2)
    autoscaling.deregister_scalable_target(
        ServiceNamespace=namespace, ResourceId=resource_id, ScalableDimension=dimension
    )
