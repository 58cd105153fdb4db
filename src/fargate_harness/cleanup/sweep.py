"""Find and delete what harness runs left behind: every resource the harness owns, by tag or by name prefix.

``fargate-harness sweep`` calls :func:`sweep`. It looks in the primary account and, when the target has a
registry role, in the registry account (or in the account ids it is given: :class:`AccountClients`), for:

- resources tagged :data:`~.ownership.MARKER_KEY` = :data:`~.ownership.MARKER_VALUE`, read
  from each service and from the Resource Groups Tagging API (``GetResources``), which also reports tagged
  resources of types no kind below knows (they are listed as failures: nothing can delete them here);
- resources whose name carries a run's prefix (``fh-<worker>-<6 hex>``, :data:`HARNESS_PREFIX`), even
  without tags: the AWS provider 3.x creates some resources (an S3 bucket) and tags them in a second call,
  so a run killed in between leaves an untagged resource that only its name identifies. Only prefixes of
  the harness's shape, or prefixes read from the harness's own run folders (:mod:`fargate_harness.cleanup.leftovers`),
  are ever matched; an explicitly unmarked resource (marker tag with another value) never is.

Resources are deleted in dependency order (:data:`KINDS`): scaling policies and targets, alarms, ECS
services, service discovery, task definitions, clusters, listeners, load balancers, target groups, EFS
access points, mount targets and file systems, repositories, log groups, secrets, parameters, keys,
buckets, tables, security groups (cross-references revoked first), subnets, route tables, internet
gateways, VPCs, then roles and customer managed policies, because the others reference them. An
optional cut-off keeps resources created more recently (tag :data:`~fargate_harness.model.ownership.CREATED_KEY`, else
the creation time the service reports).

Each resource kind is one row of :data:`KINDS`: a finder that yields every resource of the kind with its
tags and names, and a deleter for one resource (or a batch deleter). Every deletion is independent: an
error is recorded on its :class:`SweepItem` and the sweep goes on.

moto 5.2.5 serves every API used here. Its ``GetResources`` covers EC2, ECS, ELBv2 (not listeners), EFS,
Logs, S3, KMS, Secrets Manager, SSM and CloudWatch, but not IAM, ECR, DynamoDB, Service Discovery or
Application Auto Scaling (their tags are read from the services themselves). moto does not refuse to
delete a security group another group references, nor a namespace that still has services, as AWS does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.errors import ConfigurationError
from fargate_harness.model.arn import Arn
from fargate_harness.model.ownership import (
    MARKER_KEY,
    MARKER_VALUE,
    PREFIX_KEY,
    RUN_ID_KEY,
    created_at,
    is_owned,
    now_utc,
)

__all__ = [
    "HARNESS_PREFIX",
    "KINDS",
    "AccountClients",
    "Kind",
    "SweepItem",
    "SweepReport",
    "is_harness_prefix",
    "parse_duration",
    "sweep",
]

ACCOUNTS = ("primary", "registry")

#: Identifier of a :attr:`SweepReport.skipped` entry that stands for a whole kind that could not be listed.
WHOLE_KIND = "*"

#: The shape of the prefix every harness run gives its resource names (``configurations.unique_prefix``).
HARNESS_PREFIX = re.compile(r"fh-[a-z0-9]{1,6}-[0-9a-f]{6}")
_PREFIX_IN_SEGMENT = re.compile(rf"({HARNESS_PREFIX.pattern})(?=$|[-_.])")
_SEGMENT_SEPARATORS = re.compile(r"[/:|]")
#: The role assumed in an emulator account that is neither the target's primary nor its registry account.

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_FORMS = (
    "a whole number of days, hours, minutes and/or seconds in that order, such as 90s, 30m, 2h, 1d or 1h30m"
)
_ACCOUNT_ID = re.compile(r"\d{12}")


class SweepTarget(Protocol):
    """What :func:`sweep` needs of a target: boto3 clients per account, and whether a registry exists."""

    registry_role_arn: str | None

    def client(self, service: str, account: str = "primary") -> Any:
        """A boto3 client for ``service`` in ``account``."""


@dataclass
class SweepItem:
    """One owned resource: where it is, what it is, when it was created, and what became of it.

    ``matched`` says how it was recognised: ``"tag"`` (the ownership marker) or ``"prefix"`` (its name);
    ``prefix`` is the run prefix it carries (tag or name), when known. ``error`` is
    ``"<AWS error code>: <message>"`` when deletion failed, empty otherwise.
    """

    account: str
    kind: str
    identifier: str
    created: dt.datetime | None
    deleted: bool = False
    error: str = ""
    matched: str = "tag"
    prefix: str = field(default="", compare=False)


@dataclass
class SweepReport:
    """The outcome of one sweep.

    ``items`` are the owned resources found, in deletion order. ``skipped`` are resources whose tags
    could not be read (so whether they are the harness's is unknown) and kinds that could not be listed
    at all (identifier :data:`WHOLE_KIND`); none of them was touched.
    """

    dry_run: bool = False
    items: list[SweepItem] = field(default_factory=list)
    skipped: list[SweepItem] = field(default_factory=list)

    @property
    def errors(self) -> list[SweepItem]:
        """The owned resources that could not be deleted."""
        return [item for item in self.items if item.error]

    @property
    def deleted(self) -> list[SweepItem]:
        """The owned resources that were deleted (KMS keys: scheduled for deletion)."""
        return [item for item in self.items if item.deleted]

    def table(self) -> str:
        """Human-readable text: one line per resource, then the totals."""
        lines = []
        for item in self.items:
            if item.deleted:
                status = "deleted"
            elif item.error:
                status = f"FAILED {item.error}"
            else:
                status = "would delete" if self.dry_run else "not deleted"
            created = item.created.isoformat().replace("+00:00", "Z") if item.created else "-"
            how = "  (by name prefix)" if item.matched == "prefix" else ""
            lines.append(f"{item.account:<8} {item.kind:<20} {item.identifier}  created {created}  {status}{how}")
        for item in self.skipped:
            what = "(could not list)" if item.identifier == WHOLE_KIND else item.identifier
            lines.append(f"{item.account:<8} {item.kind:<20} {what}  skipped: {item.error}")
        if self.dry_run:
            summary = f"{len(self.items)} found (dry run)"
        else:
            summary = f"{len(self.items)} found, {len(self.deleted)} deleted, {len(self.errors)} failed"
        if self.skipped:
            summary += f", {len(self.skipped)} skipped"
        lines.append(summary)
        return "\n".join(lines)


@dataclass(frozen=True)
class Found:
    """A resource a finder listed: its identifier for the deleter, its tags (or why they are unreadable),
    the names its prefix may show in (besides the identifier), its ARN and its creation time if known."""

    identifier: str
    tags: Mapping[str, str]
    error: str = ""
    names: tuple[str, ...] = ()
    arn: str = ""
    created: dt.datetime | None = None


Finder = Callable[[Any], Iterable[Found]]
Deleter = Callable[[Any, str], None]
#: Deletes several resources at once; returns identifier -> error for those that failed.
BatchDeleter = Callable[[Any, Sequence[str]], dict[str, str]]


@dataclass(frozen=True)
class Kind:
    """One kind of resource the sweep knows: its name in reports, boto3 service, finder and deleter.

    ``arn_types`` are the ``<service>:<resource type>`` of its ARNs as the Tagging API reports them, so
    that tagged resources of those types are not reported as having no deleter.
    """

    name: str
    service: str
    find: Finder
    delete: Deleter | None = None
    delete_batch: BatchDeleter | None = None
    arn_types: tuple[str, ...] = ()


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` (units d, h, m, s, largest first)."""
    cleaned = text.strip().lower()
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ConfigurationError(f"cannot read the duration {text!r}: use {_DURATION_FORMS}")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def describe_error(error: Exception) -> str:
    """``"<code>: <message>"`` for an AWS error, ``"<class>: <text>"`` for anything else botocore raises."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
    return f"{type(error).__name__}: {error}"


# Prefixes --------------------------------------------------------------------------------------------------


def is_harness_prefix(text: str) -> bool:
    """True when ``text`` has the shape of a harness run's prefix, ``fh-<worker>-<6 hex>``."""
    return HARNESS_PREFIX.fullmatch(text) is not None


def _segments(names: Iterable[str]) -> Iterator[str]:
    for name in names:
        yield from _SEGMENT_SEPARATORS.split(name)


def name_prefix(names: Iterable[str], prefixes: Sequence[str] = ()) -> str | None:
    """The run prefix one of ``names`` starts a segment with (segments split on ``/``, ``:`` and ``|``).

    With ``prefixes``, only those count; without, any prefix of the harness's shape does. A segment
    matches when it is the prefix or continues it with ``-``, ``_`` or ``.``.
    """
    for segment in _segments(names):
        if prefixes:
            for prefix in prefixes:
                if segment == prefix or (segment.startswith(prefix) and segment[len(prefix)] in "-_."):
                    return prefix
        else:
            match = _PREFIX_IN_SEGMENT.match(segment)
            if match:
                return match.group(1)
    return None


def _checked_prefixes(prefixes: Iterable[str], folder_prefixes: Iterable[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for prefix in prefixes:
        if not is_harness_prefix(prefix):
            raise ConfigurationError(
                f"prefix {prefix!r} does not have the harness's shape fh-<worker>-<6 hex>; the sweep never "
                "deletes by an arbitrary name prefix"
            )
        chosen.append(prefix)
    for prefix in folder_prefixes:
        # Read from a run folder's run.json: what the harness itself named the run's resources with.
        if len(prefix) < 6 or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", prefix):
            raise ConfigurationError(f"run folder prefix {prefix!r} is not a resource-name prefix the harness writes")
        chosen.append(prefix)
    return tuple(dict.fromkeys(chosen))


# Helpers ---------------------------------------------------------------------------------------------------


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**kwargs)


def _key_value(tags: Iterable[Mapping[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {tag[key]: tag.get(value, "") for tag in tags}


def _read_tags(
    identifier: str,
    read: Callable[[], Mapping[str, str]],
    gone: Iterable[str],
    **extra: Any,
) -> Found | None:
    """Read one resource's tags: None when the resource vanished meanwhile, an error ``Found`` when unreadable."""
    try:
        return Found(identifier, read(), **extra)
    except ClientError as error:
        if _code(error) in set(gone):
            return None
        return Found(identifier, {}, describe_error(error), **extra)


def _retry_while(codes: Iterable[str], action: Callable[[], object], attempts: int = 6, pause: float = 5.0) -> None:
    """Run ``action``; while it fails with one of ``codes`` (a dependency still going away), wait and retry."""
    wanted = set(codes)
    for attempt in range(1, attempts + 1):
        try:
            action()
            return
        except ClientError as error:
            if _code(error) not in wanted or attempt == attempts:
                raise
            time.sleep(pause)


def _name_tag(tags: Iterable[Mapping[str, str]] | None) -> tuple[str, ...]:
    return tuple(tag["Value"] for tag in tags or [] if tag.get("Key") == "Name")


def _arn_type(arn: str) -> str:
    """``<service>:<resource type>`` of an ARN (``s3`` for buckets, whose ARNs have no type)."""
    parsed = Arn.parse(arn)
    if parsed is None:
        return arn
    return f"{parsed.service}:{parsed.resource_type}" if parsed.resource_type else parsed.service


def _normal_arn(arn: str) -> str:
    return arn.removesuffix(":*")


# Application Auto Scaling -----------------------------------------------------------------------------------

#: Namespaces a Fargate stack scales in.
SCALING_NAMESPACES = ("ecs",)


def find_scaling_policies(autoscaling: Any) -> Iterator[Found]:
    """Scaling policies (not taggable): matched by their name or the resource they scale."""
    for namespace in SCALING_NAMESPACES:
        for page in _pages(autoscaling, "describe_scaling_policies", ServiceNamespace=namespace):
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
        for page in _pages(autoscaling, "describe_scalable_targets", ServiceNamespace=namespace):
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


# CloudWatch alarms ------------------------------------------------------------------------------------------


def find_alarms(cloudwatch: Any) -> Iterator[Found]:
    """Metric and composite alarms; tags come from the Tagging API (target-tracking alarms carry the
    scaled resource, hence the prefix, in their name)."""
    for page in _pages(cloudwatch, "describe_alarms", AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
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


# ECS services and clusters ----------------------------------------------------------------------------------


def _cluster_arns(ecs: Any) -> list[str]:
    return [arn for page in _pages(ecs, "list_clusters") for arn in page.get("clusterArns", [])]


def find_services(ecs: Any) -> Iterator[Found]:
    """Services of every cluster that are not already INACTIVE, as ``cluster/service``, with their tags."""
    for cluster in _cluster_arns(ecs):
        cluster_name = cluster.rsplit("/", 1)[-1]
        arns = [arn for page in _pages(ecs, "list_services", cluster=cluster) for arn in page.get("serviceArns", [])]
        for start in range(0, len(arns), 10):
            answer = ecs.describe_services(cluster=cluster, services=arns[start : start + 10], include=["TAGS"])
            for service in answer.get("services", []):
                if service.get("status") == "INACTIVE":
                    continue
                yield Found(
                    f"{cluster_name}/{service['serviceName']}",
                    _key_value(service.get("tags", []), "key", "value"),
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
                _key_value(cluster.get("tags", []), "key", "value"),
                arn=cluster.get("clusterArn", ""),
            )


def delete_cluster(ecs: Any, name: str) -> None:
    """Delete a cluster (its services are gone by then)."""
    ecs.delete_cluster(cluster=name)


# Service discovery (Cloud Map) --------------------------------------------------------------------------------


def _cloud_map_tags(servicediscovery: Any, arn: str) -> dict[str, str]:
    return _key_value(servicediscovery.list_tags_for_resource(ResourceARN=arn).get("Tags", []))


def find_discovery_services(servicediscovery: Any) -> Iterator[Found]:
    """Cloud Map services, with their tags."""
    for page in _pages(servicediscovery, "list_services"):
        for service in page.get("Services", []):

            def read(arn: str = service["Arn"]) -> dict[str, str]:
                return _cloud_map_tags(servicediscovery, arn)

            found = _read_tags(
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
    for page in _pages(servicediscovery, "list_instances", ServiceId=service_id):
        for instance in page.get("Instances", []):
            servicediscovery.deregister_instance(ServiceId=service_id, InstanceId=instance["Id"])
    _retry_while(("ResourceInUse",), lambda: servicediscovery.delete_service(Id=service_id))


def find_namespaces(servicediscovery: Any) -> Iterator[Found]:
    """Cloud Map namespaces, with their tags."""
    for page in _pages(servicediscovery, "list_namespaces"):
        for namespace in page.get("Namespaces", []):

            def read(arn: str = namespace["Arn"]) -> dict[str, str]:
                return _cloud_map_tags(servicediscovery, arn)

            found = _read_tags(
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
    _retry_while(("ResourceInUse",), lambda: servicediscovery.delete_namespace(Id=namespace_id))


# ECS task definitions -----------------------------------------------------------------------------------


def find_task_definitions(ecs: Any) -> Iterator[Found]:
    """Active task definitions, as ``family:revision``, with their tags."""
    for page in _pages(ecs, "list_task_definitions", status="ACTIVE"):
        for arn in page.get("taskDefinitionArns", []):
            identifier = arn.rsplit("/", 1)[-1]

            def read(arn: str = arn) -> dict[str, str]:
                return _key_value(ecs.list_tags_for_resource(resourceArn=arn).get("tags", []), "key", "value")

            found = _read_tags(identifier, read, ("ClientException", "InvalidParameterException"), arn=arn)
            if found:
                yield found


def delete_task_definition(ecs: Any, identifier: str) -> None:
    """Deregister, then delete where the API has DeleteTaskDefinitions (its failure is tolerated)."""
    ecs.deregister_task_definition(taskDefinition=identifier)
    if hasattr(ecs, "delete_task_definitions"):
        # Deregistered is what matters (an INACTIVE revision cannot run tasks); deletion is a tidy-up.
        with contextlib.suppress(ClientError, BotoCoreError):
            ecs.delete_task_definitions(taskDefinitions=[identifier])


# Elastic Load Balancing v2 --------------------------------------------------------------------------------------


def _elb_tags(elbv2: Any, arns: Sequence[str]) -> dict[str, dict[str, str]]:
    """ARN -> tags, 20 ARNs a call (the API's limit)."""
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):
        answer = elbv2.describe_tags(ResourceArns=list(arns[start : start + 20]))
        for description in answer.get("TagDescriptions", []):
            tags[description["ResourceArn"]] = _key_value(description.get("Tags", []))
    return tags


def _load_balancers(elbv2: Any) -> list[dict[str, Any]]:
    return [lb for page in _pages(elbv2, "describe_load_balancers") for lb in page.get("LoadBalancers", [])]


def find_listeners(elbv2: Any) -> Iterator[Found]:
    """Listeners, owned with their load balancer: they carry its tags and name (moto cannot tag listeners)."""
    balancers = _load_balancers(elbv2)
    tags = _elb_tags(elbv2, [lb["LoadBalancerArn"] for lb in balancers])
    for balancer in balancers:
        for page in _pages(elbv2, "describe_listeners", LoadBalancerArn=balancer["LoadBalancerArn"]):
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
    groups = [group for page in _pages(elbv2, "describe_target_groups") for group in page.get("TargetGroups", [])]
    tags = _elb_tags(elbv2, [group["TargetGroupArn"] for group in groups])
    for group in groups:
        arn = group["TargetGroupArn"]
        yield Found(arn, tags.get(arn, {}), names=(group["TargetGroupName"],), arn=arn)


def delete_target_group(elbv2: Any, arn: str) -> None:
    """Delete a target group; AWS refuses while a deleted load balancer's listener still points at it."""
    _retry_while(("ResourceInUse",), lambda: elbv2.delete_target_group(TargetGroupArn=arn))


# EFS --------------------------------------------------------------------------------------------------------------


def _file_systems(efs: Any) -> list[dict[str, Any]]:
    return [fs for page in _pages(efs, "describe_file_systems") for fs in page.get("FileSystems", [])]


def _fs_names(fs: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name in (fs.get("CreationToken", ""), fs.get("Name", "")) if name)


def find_access_points(efs: Any) -> Iterator[Found]:
    """Access points; their own tags, else their file system's (tags and names)."""
    systems = {fs["FileSystemId"]: fs for fs in _file_systems(efs)}
    for fs_id, fs in systems.items():
        for point in efs.describe_access_points(FileSystemId=fs_id).get("AccessPoints", []):
            own = _key_value(point.get("Tags", []))
            yield Found(
                point["AccessPointId"],
                own or _key_value(fs.get("Tags", [])),
                names=(point.get("Name", ""), *_fs_names(fs)),
                arn=point.get("AccessPointArn", ""),
            )


def delete_access_point(efs: Any, access_point_id: str) -> None:
    """Delete one access point."""
    efs.delete_access_point(AccessPointId=access_point_id)


def find_mount_targets(efs: Any) -> Iterator[Found]:
    """Mount targets (not taggable): owned with their file system, whose tags and names they carry."""
    for fs in _file_systems(efs):
        for page in _pages(efs, "describe_mount_targets", FileSystemId=fs["FileSystemId"]):
            for target in page.get("MountTargets", []):
                if target.get("LifeCycleState") in ("deleting", "deleted"):
                    continue
                yield Found(target["MountTargetId"], _key_value(fs.get("Tags", [])), names=_fs_names(fs))


def delete_mount_target(efs: Any, mount_target_id: str) -> None:
    """Delete one mount target (AWS does it asynchronously; the file system's deleter waits)."""
    efs.delete_mount_target(MountTargetId=mount_target_id)


def find_file_systems(efs: Any) -> Iterator[Found]:
    """File systems, with their tags."""
    for fs in _file_systems(efs):
        if fs.get("LifeCycleState") in ("deleting", "deleted"):
            continue
        yield Found(
            fs["FileSystemId"],
            _key_value(fs.get("Tags", [])),
            names=_fs_names(fs),
            arn=fs.get("FileSystemArn", ""),
            created=fs.get("CreationTime"),
        )


def delete_file_system(efs: Any, fs_id: str) -> None:
    """Delete a file system, waiting (bounded) while its mount targets are still being deleted."""
    _retry_while(("FileSystemInUse",), lambda: efs.delete_file_system(FileSystemId=fs_id))


# ECR repositories ---------------------------------------------------------------------------------------


def find_repositories(ecr: Any) -> Iterator[Found]:
    """Repositories of the caller's registry, with their tags."""
    for page in _pages(ecr, "describe_repositories"):
        for repository in page.get("repositories", []):

            def read(arn: str = repository["repositoryArn"]) -> dict[str, str]:
                return _key_value(ecr.list_tags_for_resource(resourceArn=arn).get("tags", []))

            found = _read_tags(
                repository["repositoryName"],
                read,
                ("RepositoryNotFoundException",),
                arn=repository["repositoryArn"],
                created=repository.get("createdAt"),
            )
            if found:
                yield found


def delete_repository(ecr: Any, name: str) -> None:
    """Delete a repository with its images; its repository policy goes with it."""
    ecr.delete_repository(repositoryName=name, force=True)


# CloudWatch log groups ----------------------------------------------------------------------------------


def _log_group_tags(logs: Any, group: Mapping[str, Any]) -> dict[str, str]:
    """Tags by ListTagsForResource (ARN without ``:*``), falling back to the older ListTagsLogGroup."""
    arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
    if arn:
        try:
            return dict(logs.list_tags_for_resource(resourceArn=arn).get("tags", {}))
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                raise
    return dict(logs.list_tags_log_group(logGroupName=group["logGroupName"]).get("tags", {}))


def find_log_groups(logs: Any) -> Iterator[Found]:
    """Log groups, with their tags."""
    for page in _pages(logs, "describe_log_groups"):
        for group in page.get("logGroups", []):

            def read(group: Mapping[str, Any] = group) -> dict[str, str]:
                return _log_group_tags(logs, group)

            arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
            found = _read_tags(group["logGroupName"], read, ("ResourceNotFoundException",), arn=arn)
            if found:
                yield found


def delete_log_group(logs: Any, name: str) -> None:
    """Delete a log group and its streams."""
    logs.delete_log_group(logGroupName=name)


# Secrets Manager ----------------------------------------------------------------------------------------


def find_secrets(secretsmanager: Any) -> Iterator[Found]:
    """Secrets not already scheduled for deletion; ListSecrets carries their tags."""
    for page in _pages(secretsmanager, "list_secrets"):
        for secret in page.get("SecretList", []):
            yield Found(
                secret["Name"],
                _key_value(secret.get("Tags", [])),
                arn=secret.get("ARN", ""),
                created=secret.get("CreatedDate"),
            )


def delete_secret(secretsmanager: Any, name: str) -> None:
    """Delete a secret at once, without the recovery window."""
    secretsmanager.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


# SSM parameters -----------------------------------------------------------------------------------------


def find_parameters(ssm: Any) -> Iterator[Found]:
    """Parameters, with their tags."""
    for page in _pages(ssm, "describe_parameters"):
        for parameter in page.get("Parameters", []):

            def read(name: str = parameter["Name"]) -> dict[str, str]:
                answer = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
                return _key_value(answer.get("TagList", []))

            found = _read_tags(parameter["Name"], read, ("InvalidResourceId", "ParameterNotFound"))
            if found:
                yield found


def delete_parameters(ssm: Any, names: Sequence[str]) -> dict[str, str]:
    """Delete parameters ten at a time (the API's limit); return name -> error for those that failed."""
    failed: dict[str, str] = {}
    for start in range(0, len(names), 10):
        batch = list(names[start : start + 10])
        try:
            answer = ssm.delete_parameters(Names=batch)
        except (ClientError, BotoCoreError) as error:
            failed.update(dict.fromkeys(batch, describe_error(error)))
            continue
        for name in answer.get("InvalidParameters", []):
            failed[name] = "ParameterNotFound: the parameter was not deleted"
    return failed


# KMS keys -----------------------------------------------------------------------------------------------


def _aliases(kms: Any, key_id: str) -> list[str]:
    return [
        alias["AliasName"] for page in _pages(kms, "list_aliases", KeyId=key_id) for alias in page.get("Aliases", [])
    ]


def find_keys(kms: Any) -> Iterator[Found]:
    """Customer-managed keys not already pending deletion, with their tags (and aliases, for the prefix)."""
    for page in _pages(kms, "list_keys"):
        for key in page.get("Keys", []):
            key_id = key["KeyId"]
            try:
                metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            except ClientError as error:
                if _code(error) == "NotFoundException":
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
                for tag_page in _pages(kms, "list_resource_tags", KeyId=key_id):
                    tags.update(_key_value(tag_page.get("Tags", []), "TagKey", "TagValue"))
                return tags

            found = _read_tags(key_id, read, ("NotFoundException",), arn=metadata.get("Arn", ""))
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


# S3 buckets ---------------------------------------------------------------------------------------------

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
    for page in _pages(s3, "list_buckets", **kwargs):
        for bucket in page.get("Buckets", []):

            def read(name: str = bucket["Name"]) -> dict[str, str]:
                try:
                    return _key_value(s3.get_bucket_tagging(Bucket=name).get("TagSet", []))
                except ClientError as error:
                    if _code(error) == "NoSuchTagSet":
                        return {}
                    raise

            found = _read_tags(
                bucket["Name"], read, _S3_SKIP, arn=f"arn:aws:s3:::{bucket['Name']}", created=bucket.get("CreationDate")
            )
            if found:
                yield found


def delete_bucket(s3: Any, name: str) -> None:
    """Delete every object version and delete marker, then the bucket."""
    for page in _pages(s3, "list_object_versions", Bucket=name):
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


# DynamoDB tables ----------------------------------------------------------------------------------------


def find_tables(dynamodb: Any) -> Iterator[Found]:
    """Tables not already being deleted, with their tags."""
    for page in _pages(dynamodb, "list_tables"):
        for name in page.get("TableNames", []):

            def read(name: str = name) -> tuple[dict[str, str], dict[str, Any]] | None:
                table = dynamodb.describe_table(TableName=name)["Table"]
                if table.get("TableStatus") == "DELETING":
                    return None
                tags: dict[str, str] = {}
                for tag_page in _pages(dynamodb, "list_tags_of_resource", ResourceArn=table["TableArn"]):
                    tags.update(_key_value(tag_page.get("Tags", [])))
                return tags, table

            try:
                answer = read()
            except ClientError as error:
                if _code(error) != "ResourceNotFoundException":
                    yield Found(name, {}, describe_error(error))
                continue
            if answer is not None:
                tags, table = answer
                yield Found(name, tags, arn=table.get("TableArn", ""), created=table.get("CreationDateTime"))


def delete_table(dynamodb: Any, name: str) -> None:
    """Delete a table (fails, and is reported, when deletion protection is on)."""
    dynamodb.delete_table(TableName=name)


# EC2 networking ------------------------------------------------------------------------------------------------


def _ec2_arn(ec2: Any, kind: str, identifier: str, owner: str = "") -> str:
    return f"arn:aws:ec2:{ec2.meta.region_name}:{owner}:{kind}/{identifier}"


def find_security_groups(ec2: Any) -> Iterator[Found]:
    """Security groups other than each VPC's ``default`` group, with their tags."""
    for page in _pages(ec2, "describe_security_groups"):
        for group in page.get("SecurityGroups", []):
            if group.get("GroupName") == "default":
                continue
            yield Found(
                group["GroupId"],
                _key_value(group.get("Tags", [])),
                names=(group.get("GroupName", ""), *_name_tag(group.get("Tags"))),
                arn=_ec2_arn(ec2, "security-group", group["GroupId"], group.get("OwnerId", "")),
            )


def _referencing(permissions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rules that name another security group, as RevokeSecurityGroup* takes them."""
    return [
        {key: value for key, value in rule.items() if value not in ([], None)}
        for rule in permissions
        if rule.get("UserIdGroupPairs")
    ]


def delete_security_groups(ec2: Any, group_ids: Sequence[str]) -> dict[str, str]:
    """Revoke every rule of these groups that references a group (so none blocks another's deletion),
    then delete each group, waiting (bounded) while network interfaces of deleted services still hold it."""
    failed: dict[str, str] = {}
    if not group_ids:
        return failed
    groups = ec2.describe_security_groups(GroupIds=list(group_ids)).get("SecurityGroups", [])
    for group in groups:
        try:
            ingress = _referencing(group.get("IpPermissions", []))
            egress = _referencing(group.get("IpPermissionsEgress", []))
            if ingress:
                ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=ingress)
            if egress:
                ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=egress)
        except (ClientError, BotoCoreError) as error:
            failed[group["GroupId"]] = describe_error(error)
    for group_id in group_ids:
        if group_id in failed:
            continue
        try:
            _retry_while(("DependencyViolation",), _deleter(ec2.delete_security_group, GroupId=group_id))
        except (ClientError, BotoCoreError) as error:
            failed[group_id] = describe_error(error)
    return failed


def _deleter(call: Callable[..., object], **kwargs: Any) -> Callable[[], object]:
    return lambda: call(**kwargs)


def find_subnets(ec2: Any) -> Iterator[Found]:
    """Subnets other than the default ones, with their tags."""
    for page in _pages(ec2, "describe_subnets"):
        for subnet in page.get("Subnets", []):
            if subnet.get("DefaultForAz"):
                continue
            yield Found(
                subnet["SubnetId"],
                _key_value(subnet.get("Tags", [])),
                names=_name_tag(subnet.get("Tags")),
                arn=subnet.get("SubnetArn", ""),
            )


def delete_subnet(ec2: Any, subnet_id: str) -> None:
    """Delete a subnet, waiting (bounded) while network interfaces in it are released."""
    _retry_while(("DependencyViolation",), lambda: ec2.delete_subnet(SubnetId=subnet_id))


def find_route_tables(ec2: Any) -> Iterator[Found]:
    """Route tables other than a VPC's main one, with their tags."""
    for page in _pages(ec2, "describe_route_tables"):
        for table in page.get("RouteTables", []):
            if any(association.get("Main") for association in table.get("Associations", [])):
                continue
            yield Found(
                table["RouteTableId"],
                _key_value(table.get("Tags", [])),
                names=_name_tag(table.get("Tags")),
                arn=_ec2_arn(ec2, "route-table", table["RouteTableId"], table.get("OwnerId", "")),
            )


def delete_route_table(ec2: Any, table_id: str) -> None:
    """Remove the table's subnet associations, then delete it."""
    tables = ec2.describe_route_tables(RouteTableIds=[table_id]).get("RouteTables", [])
    for table in tables:
        for association in table.get("Associations", []):
            if not association.get("Main") and association.get("RouteTableAssociationId"):
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    ec2.delete_route_table(RouteTableId=table_id)


def find_internet_gateways(ec2: Any) -> Iterator[Found]:
    """Internet gateways, with their tags."""
    for page in _pages(ec2, "describe_internet_gateways"):
        for gateway in page.get("InternetGateways", []):
            yield Found(
                gateway["InternetGatewayId"],
                _key_value(gateway.get("Tags", [])),
                names=_name_tag(gateway.get("Tags")),
                arn=_ec2_arn(ec2, "internet-gateway", gateway["InternetGatewayId"], gateway.get("OwnerId", "")),
            )


def delete_internet_gateway(ec2: Any, gateway_id: str) -> None:
    """Detach the gateway from its VPCs, then delete it."""
    for gateway in ec2.describe_internet_gateways(InternetGatewayIds=[gateway_id]).get("InternetGateways", []):
        for attachment in gateway.get("Attachments", []):
            ec2.detach_internet_gateway(InternetGatewayId=gateway_id, VpcId=attachment["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=gateway_id)


def find_vpcs(ec2: Any) -> Iterator[Found]:
    """VPCs other than the default one, with their tags."""
    for page in _pages(ec2, "describe_vpcs"):
        for vpc in page.get("Vpcs", []):
            if vpc.get("IsDefault"):
                continue
            yield Found(
                vpc["VpcId"],
                _key_value(vpc.get("Tags", [])),
                names=_name_tag(vpc.get("Tags")),
                arn=_ec2_arn(ec2, "vpc", vpc["VpcId"], vpc.get("OwnerId", "")),
            )


def delete_vpc(ec2: Any, vpc_id: str) -> None:
    """Delete a VPC (its default security group, main route table and ACL go with it)."""
    _retry_while(("DependencyViolation",), lambda: ec2.delete_vpc(VpcId=vpc_id))


# IAM roles and policies -------------------------------------------------------------------------------------


def find_roles(iam: Any) -> Iterator[Found]:
    """Roles other than service-linked ones, with their tags (ListRoles does not return tags)."""
    for page in _pages(iam, "list_roles"):
        for role in page.get("Roles", []):
            if role.get("Path", "").startswith("/aws-service-role/"):
                continue

            def read(name: str = role["RoleName"]) -> dict[str, str]:
                tags: dict[str, str] = {}
                for tag_page in _pages(iam, "list_role_tags", RoleName=name):
                    tags.update(_key_value(tag_page.get("Tags", [])))
                return tags

            found = _read_tags(role["RoleName"], read, ("NoSuchEntity",))
            if found:
                yield Found(found.identifier, found.tags, found.error, created=role.get("CreateDate"))


def delete_role(iam: Any, name: str) -> None:
    """Detach managed policies, delete inline ones, remove the role from instance profiles, then delete it."""
    for page in _pages(iam, "list_attached_role_policies", RoleName=name):
        for policy in page.get("AttachedPolicies", []):
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for page in _pages(iam, "list_role_policies", RoleName=name):
        for policy_name in page.get("PolicyNames", []):
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    for page in _pages(iam, "list_instance_profiles_for_role", RoleName=name):
        for profile in page.get("InstanceProfiles", []):
            iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    iam.delete_role(RoleName=name)


def find_policies(iam: Any) -> Iterator[Found]:
    """Customer managed policies (AWS managed ones are never listed), with their tags."""
    for page in _pages(iam, "list_policies", Scope="Local"):
        for policy in page.get("Policies", []):

            def read(arn: str = policy["Arn"]) -> dict[str, str]:
                return _key_value(iam.list_policy_tags(PolicyArn=arn).get("Tags", []))

            found = _read_tags(
                policy["Arn"],
                read,
                ("NoSuchEntity",),
                names=(policy["PolicyName"],),
                arn=policy["Arn"],
                created=policy.get("CreateDate"),
            )
            if found:
                yield found


def delete_policy(iam: Any, arn: str) -> None:
    """Detach the policy from every role, user and group, delete its other versions, then delete it."""
    for page in _pages(iam, "list_entities_for_policy", PolicyArn=arn):
        for role in page.get("PolicyRoles", []):
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        for user in page.get("PolicyUsers", []):
            iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        for group in page.get("PolicyGroups", []):
            iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for page in _pages(iam, "list_policy_versions", PolicyArn=arn):
        for version in page.get("Versions", []):
            if not version.get("IsDefaultVersion"):
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)


#: The kinds in deletion order: whatever references something else goes before it (scaling before the
#: services they scale, services before clusters, target groups and security groups; load balancers and
#: mount targets before security groups and subnets; everything that may reference a role before roles).
KINDS: tuple[Kind, ...] = (
    Kind("scaling-policy", "application-autoscaling", find_scaling_policies, delete_scaling_policy),
    Kind("scalable-target", "application-autoscaling", find_scalable_targets, delete_scalable_target),
    Kind("cloudwatch-alarm", "cloudwatch", find_alarms, delete_batch=delete_alarms, arn_types=("cloudwatch:alarm",)),
    Kind("ecs-service", "ecs", find_services, delete_service, arn_types=("ecs:service", "ecs:task")),
    Kind("discovery-service", "servicediscovery", find_discovery_services, delete_discovery_service),
    Kind("discovery-namespace", "servicediscovery", find_namespaces, delete_namespace),
    Kind(
        "ecs-task-definition", "ecs", find_task_definitions, delete_task_definition, arn_types=("ecs:task-definition",)
    ),
    Kind("ecs-cluster", "ecs", find_clusters, delete_cluster, arn_types=("ecs:cluster",)),
    Kind("elb-listener", "elbv2", find_listeners, delete_listener, arn_types=("elasticloadbalancing:listener",)),
    Kind(
        "load-balancer",
        "elbv2",
        find_load_balancers,
        delete_load_balancer,
        arn_types=("elasticloadbalancing:loadbalancer",),
    ),
    Kind(
        "target-group",
        "elbv2",
        find_target_groups,
        delete_target_group,
        arn_types=("elasticloadbalancing:targetgroup",),
    ),
    Kind(
        "efs-access-point",
        "efs",
        find_access_points,
        delete_access_point,
        arn_types=("elasticfilesystem:access-point",),
    ),
    Kind("efs-mount-target", "efs", find_mount_targets, delete_mount_target),
    Kind("efs-file-system", "efs", find_file_systems, delete_file_system, arn_types=("elasticfilesystem:file-system",)),
    Kind("ecr-repository", "ecr", find_repositories, delete_repository, arn_types=("ecr:repository",)),
    Kind("log-group", "logs", find_log_groups, delete_log_group, arn_types=("logs:log-group",)),
    Kind("secret", "secretsmanager", find_secrets, delete_secret, arn_types=("secretsmanager:secret",)),
    Kind("ssm-parameter", "ssm", find_parameters, delete_batch=delete_parameters, arn_types=("ssm:parameter",)),
    Kind("kms-key", "kms", find_keys, delete_key, arn_types=("kms:key", "kms:alias")),
    Kind("s3-bucket", "s3", find_buckets, delete_bucket, arn_types=("s3",)),
    Kind("dynamodb-table", "dynamodb", find_tables, delete_table, arn_types=("dynamodb:table",)),
    Kind(
        "security-group",
        "ec2",
        find_security_groups,
        delete_batch=delete_security_groups,
        arn_types=("ec2:security-group",),
    ),
    Kind("subnet", "ec2", find_subnets, delete_subnet, arn_types=("ec2:subnet",)),
    Kind("route-table", "ec2", find_route_tables, delete_route_table, arn_types=("ec2:route-table",)),
    Kind(
        "internet-gateway", "ec2", find_internet_gateways, delete_internet_gateway, arn_types=("ec2:internet-gateway",)
    ),
    Kind("vpc", "ec2", find_vpcs, delete_vpc, arn_types=("ec2:vpc",)),
    Kind("iam-role", "iam", find_roles, delete_role, arn_types=("iam:role",)),
    Kind("iam-policy", "iam", find_policies, delete_policy, arn_types=("iam:policy",)),
)

#: Tagged resource types the sweep deliberately leaves: they hold nothing and go with their owner.
_IGNORED_TYPES = frozenset({"ec2:network-interface", "ssm:document"})


# Accounts ------------------------------------------------------------------------------------------------------


class AccountClients:
    """boto3 clients for the accounts a sweep visits: ``primary``, ``registry``, or any 12-digit account id.

    An id that is the target's primary or registry account uses those clients. On an emulator, any other
    id is reached through the target's role session in it (moto lets an assumed role in any account stand
    for that account, which is how per-run emulator accounts are swept). On real AWS such an account
    cannot be reached: :meth:`reachable` says why.
    """

    def __init__(self, target: SweepTarget) -> None:
        self.target = target
        self.registry_role_arn = target.registry_role_arn
        self._primary_id: str | None = None

    def _primary(self) -> str:
        if self._primary_id is None:
            self._primary_id = str(self.target.client("sts").get_caller_identity()["Account"])
        return self._primary_id

    def _registry(self) -> str | None:
        arn = Arn.parse(self.registry_role_arn)
        return arn.account if arn is not None and arn.service == "iam" else None

    def resolve(self, account: str) -> str:
        """``primary``, ``registry`` or the account id itself."""
        if account in ACCOUNTS or not _ACCOUNT_ID.fullmatch(account):
            return account
        if account == self._primary():
            return "primary"
        if account == self._registry():
            return "registry"
        return account

    def reachable(self, account: str) -> str:
        """Empty when ``account`` can be swept, else the reason it cannot."""
        resolved = self.resolve(account)
        if resolved in ACCOUNTS or getattr(self.target, "endpoint_url", None):
            return ""
        return (
            f"account {account} is neither the target's account nor its registry account; "
            "log in to it (or give its role as --registry-role-arn) to sweep it"
        )

    def client(self, service: str, account: str = "primary") -> Any:
        """A client for ``service`` in ``account``, from the target (:meth:`Target.client`: one boto3 session per
        account and region, role sessions in other accounts on emulators)."""
        return self.target.client(service, account=self.resolve(account))


def _chosen_accounts(accounts: Iterable[str], registry_role_arn: str | None) -> list[str]:
    chosen: list[str] = []
    for account in accounts:
        if account not in ACCOUNTS and not _ACCOUNT_ID.fullmatch(account):
            raise ConfigurationError(
                f"account must be one of {', '.join(ACCOUNTS)} or a 12-digit account id, not {account!r}"
            )
        if account == "registry" and not registry_role_arn:
            continue
        if account not in chosen:
            chosen.append(account)
    return chosen


def _lacks(target: SweepTarget, service: str) -> bool:
    missing = getattr(target, "missing_services", None)
    return bool(missing([service])) if callable(missing) else False


def _delete(kind: Kind, client: Any, items: list[SweepItem]) -> None:
    if kind.delete_batch is not None:
        failed = kind.delete_batch(client, [item.identifier for item in items])
        for item in items:
            item.error = failed.get(item.identifier, "")
            item.deleted = not item.error
        return
    assert kind.delete is not None, f"kind {kind.name} has no deleter"
    for item in items:
        try:
            kind.delete(client, item.identifier)
        except (ClientError, BotoCoreError) as error:
            item.error = describe_error(error)
        else:
            item.deleted = True


@dataclass(frozen=True)
class _Scope:
    """Which resources count as this sweep's: see :func:`sweep`."""

    run_id: str | None
    prefixes: tuple[str, ...]

    def match(self, tags: Mapping[str, str], names: Iterable[str]) -> tuple[str, str] | None:
        """``("tag" | "prefix", <run prefix or "">)``, or None (not ours)."""
        names = tuple(names)
        if is_owned(tags):
            if self.run_id is not None and tags.get(RUN_ID_KEY) != self.run_id:
                return None
            if self.prefixes and tags.get(PREFIX_KEY) not in self.prefixes:
                return None
            return "tag", tags.get(PREFIX_KEY) or name_prefix(names, self.prefixes) or ""
        if MARKER_KEY in tags:
            return None  # explicitly marked as not the harness's
        if self.run_id is not None and not self.prefixes:
            return None  # an untagged resource cannot show its run id
        prefix = name_prefix(names, self.prefixes)
        return ("prefix", prefix) if prefix else None


def _tagged_resources(client: Any) -> dict[str, dict[str, str]]:
    """Normalised ARN -> tags of every resource the Tagging API reports with the ownership marker."""
    found: dict[str, dict[str, str]] = {}
    for page in _pages(client, "get_resources", TagFilters=[{"Key": MARKER_KEY, "Values": [MARKER_VALUE]}]):
        for mapping in page.get("ResourceTagMappingList", []):
            found[_normal_arn(mapping["ResourceARN"])] = _key_value(mapping.get("Tags", []))
    return found


def sweep(
    target: SweepTarget,
    older_than: dt.timedelta | None = None,
    dry_run: bool = False,
    accounts: Iterable[str] = ACCOUNTS,
    kinds: Sequence[Kind] = KINDS,
    *,
    run_id: str | None = None,
    prefixes: Iterable[str] = (),
    folder_prefixes: Iterable[str] = (),
    tagging_api: bool = True,
) -> SweepReport:
    """Delete every owned resource in the accounts ``target`` reaches; see the module docstring.

    ``older_than`` keeps resources created more recently than that (a resource with no readable creation
    time counts as old). ``dry_run`` lists without deleting. The registry account is skipped quietly when
    the target has no registry role; services the target lacks are skipped too. ``accounts`` may name
    account ids (see :class:`AccountClients`). ``run_id`` limits the sweep to one run's tagged resources
    (so concurrent runs in one account leave each other alone). ``prefixes`` (of the harness's shape) and
    ``folder_prefixes`` (read from run folders) limit it to those runs: resources tagged with one of them,
    or named with one. Without either, any name of the harness's shape counts. ``tagging_api`` also asks
    the Resource Groups Tagging API, for tags and for tagged resources of types no kind knows.
    """
    scope = _Scope(run_id, _checked_prefixes(prefixes, folder_prefixes))
    clients = AccountClients(target)
    reachable: list[str] = []
    report = SweepReport(dry_run=dry_run)
    for account in _chosen_accounts(accounts, target.registry_role_arn):
        why = clients.reachable(account)
        if why:
            report.skipped.append(SweepItem(account, "account", WHOLE_KIND, None, error=why))
        else:
            reachable.append(account)
    cutoff = now_utc() - older_than if older_than is not None else None
    tagged: dict[str, dict[str, dict[str, str]]] = {account: {} for account in reachable}
    if tagging_api and not _lacks(target, "resourcegroupstaggingapi"):
        for account in reachable:
            try:
                tagged[account] = _tagged_resources(clients.client("resourcegroupstaggingapi", account))
            except (ClientError, BotoCoreError) as error:
                report.skipped.append(SweepItem(account, "tagging-api", WHOLE_KIND, None, error=describe_error(error)))

    def keep(tags: Mapping[str, str], names: Iterable[str], created: dt.datetime | None) -> tuple[str, str] | None:
        how = scope.match(tags, names)
        if how is None or (cutoff is not None and created is not None and created >= cutoff):
            return None
        return how

    for kind in kinds:
        if _lacks(target, kind.service):
            continue
        for account in reachable:
            _sweep_kind(kind, account, clients, tagged=tagged[account], keep=keep, report=report)

    known = {arn_type for kind in kinds for arn_type in kind.arn_types} | _IGNORED_TYPES
    for account in reachable:
        for arn, tags in tagged[account].items():
            arn_type = _arn_type(arn)
            how = keep(tags, (), created_at(tags))
            if arn_type in known or how is None:
                continue
            report.items.append(
                SweepItem(
                    account,
                    f"tagged {arn_type}",
                    arn,
                    created_at(tags),
                    error="no deleter for this resource type: delete it by hand",
                    prefix=how[1],
                )
            )
    return report


def _sweep_kind(
    kind: Kind,
    account: str,
    clients: AccountClients,
    *,
    tagged: Mapping[str, Mapping[str, str]],
    keep: Callable[[Mapping[str, str], Iterable[str], dt.datetime | None], tuple[str, str] | None],
    report: SweepReport,
) -> None:
    """List one kind in one account, keep what is in scope, delete it (unless a dry run), record it all."""
    found: list[SweepItem] = []
    client: Any = None
    try:
        client = clients.client(kind.service, account)
        for resource in kind.find(client):
            if resource.error:
                report.skipped.append(SweepItem(account, kind.name, resource.identifier, None, error=resource.error))
                continue
            tags = resource.tags or tagged.get(_normal_arn(resource.arn), {})
            created = created_at(tags) or _aware(resource.created)
            how = keep(tags, (resource.identifier, *resource.names), created)
            if how is not None:
                found.append(SweepItem(account, kind.name, resource.identifier, created, matched=how[0], prefix=how[1]))
    except (ClientError, BotoCoreError) as error:
        report.skipped.append(SweepItem(account, kind.name, WHOLE_KIND, None, error=describe_error(error)))
    if found and not report.dry_run:
        _delete(kind, client, found)
    report.items.extend(found)


def _aware(value: Any) -> dt.datetime | None:
    """A creation time the service reported, as aware UTC (None when absent or not a time)."""
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
