"""Sweep finders and deleters for Service discovery (Cloud Map): services and namespaces.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fargate_harness.cleanup.finders.common import (
    Found,
    key_value,
    pages,
    read_tags,
    retry_while,
)


def _cloud_map_tags(servicediscovery: Any, arn: str) -> dict[str, str]:
    return key_value(servicediscovery.list_tags_for_resource(ResourceARN=arn).get("Tags", []))


def find_discovery_services(servicediscovery: Any) -> Iterator[Found]:
    """Cloud Map services, with their tags."""
    for page in pages(servicediscovery, "list_services"):
        for service in page.get("Services", []):

            def read(arn: str = service["Arn"]) -> dict[str, str]:
                return _cloud_map_tags(servicediscovery, arn)

            found = read_tags(
                service["Id"],
                read,
                ("ServiceNotFound", "ResourceNotFoundException"),
                names=(service.get("Name", ""),),
                arn=service["Arn"],
                created=service.get("CreateDate"),
            )
            if found:
                yield found


def delete_discovery_service(servicediscovery: Any, service_id: str) -> None:
    """Deregister the service's instances, then delete it."""
    for page in pages(servicediscovery, "list_instances", ServiceId=service_id):
        for instance in page.get("Instances", []):
            servicediscovery.deregister_instance(ServiceId=service_id, InstanceId=instance["Id"])
    retry_while(("ResourceInUse",), lambda: servicediscovery.delete_service(Id=service_id))


def find_namespaces(servicediscovery: Any) -> Iterator[Found]:
    """Cloud Map namespaces, with their tags."""
    for page in pages(servicediscovery, "list_namespaces"):
        for namespace in page.get("Namespaces", []):

            def read(arn: str = namespace["Arn"]) -> dict[str, str]:
                return _cloud_map_tags(servicediscovery, arn)

            found = read_tags(
                namespace["Id"],
                read,
                ("NamespaceNotFound", "ResourceNotFoundException"),
                names=(namespace.get("Name", ""),),
                arn=namespace["Arn"],
                created=namespace.get("CreateDate"),
            )
            if found:
                yield found


def delete_namespace(servicediscovery: Any, namespace_id: str) -> None:
    """Delete a namespace (AWS does it asynchronously, and refuses while services remain)."""
    retry_while(("ResourceInUse",), lambda: servicediscovery.delete_namespace(Id=namespace_id))
