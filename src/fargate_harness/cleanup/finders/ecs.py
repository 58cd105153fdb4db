"""Sweep finders and deleters for ECS: services, clusters and task definitions.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    key_value,
    pages,
    read_tags,
)


def _cluster_arns(ecs: Any) -> list[str]:
    return [arn for page in pages(ecs, "list_clusters") for arn in page.get("clusterArns", [])]


def find_services(ecs: Any) -> Iterator[Found]:
    """Services of every cluster that are not already INACTIVE, as ``cluster/service``, with their tags."""
    for cluster in _cluster_arns(ecs):
        cluster_name = cluster.rsplit("/", 1)[-1]
        arns = [arn for page in pages(ecs, "list_services", cluster=cluster) for arn in page.get("serviceArns", [])]
        for start in range(0, len(arns), 10):
            answer = ecs.describe_services(cluster=cluster, services=arns[start : start + 10], include=["TAGS"])
            for service in answer.get("services", []):
                if service.get("status") == "INACTIVE":
                    continue
                yield Found(
                    f"{cluster_name}/{service['serviceName']}",
                    key_value(service.get("tags", []), "key", "value"),
                    arn=service.get("serviceArn", ""),
                    created=service.get("createdAt"),
                )


def delete_service(ecs: Any, identifier: str) -> None:
    """Scale the service to 0 (so its tasks stop), then delete it (``force``: even if tasks remain)."""
    cluster, name = identifier.split("/", 1)
    with contextlib.suppress(ClientError):  # a DRAINING service refuses updates; deletion still works
        ecs.update_service(cluster=cluster, service=name, desiredCount=0)
    ecs.delete_service(cluster=cluster, service=name, force=True)


def find_clusters(ecs: Any) -> Iterator[Found]:
    """Active clusters, with their tags."""
    arns = _cluster_arns(ecs)
    for start in range(0, len(arns), 100):
        for cluster in ecs.describe_clusters(clusters=arns[start : start + 100], include=["TAGS"]).get("clusters", []):
            if cluster.get("status") == "INACTIVE":
                continue
            yield Found(
                cluster["clusterName"],
                key_value(cluster.get("tags", []), "key", "value"),
                arn=cluster.get("clusterArn", ""),
            )


def delete_cluster(ecs: Any, name: str) -> None:
    """Delete a cluster (its services are gone by then)."""
    ecs.delete_cluster(cluster=name)


def find_task_definitions(ecs: Any) -> Iterator[Found]:
    """Active task definitions, as ``family:revision``, with their tags."""
    for page in pages(ecs, "list_task_definitions", status="ACTIVE"):
        for arn in page.get("taskDefinitionArns", []):
            identifier = arn.rsplit("/", 1)[-1]

            def read(arn: str = arn) -> dict[str, str]:
                return key_value(ecs.list_tags_for_resource(resourceArn=arn).get("tags", []), "key", "value")

            found = read_tags(identifier, read, ("ClientException", "InvalidParameterException"), arn=arn)
            if found:
                yield found


def delete_task_definition(ecs: Any, identifier: str) -> None:
    """Deregister, then delete where the API has DeleteTaskDefinitions (its failure is tolerated)."""
    ecs.deregister_task_definition(taskDefinition=identifier)
    if hasattr(ecs, "delete_task_definitions"):
        # Deregistered is what matters (an INACTIVE revision cannot run tasks); deletion is a tidy-up.
        with contextlib.suppress(ClientError, BotoCoreError):
            ecs.delete_task_definitions(taskDefinitions=[identifier])
