"""Find and delete what harness runs left behind: every resource carrying the ownership marker.

``fargate-harness sweep`` calls :func:`sweep`. It looks in the primary account and, when the target has a
registry role, in the registry account, for resources tagged :data:`~harness.ownership.MARKER_KEY` =
:data:`~harness.ownership.MARKER_VALUE` (optionally only those whose
:data:`~harness.ownership.CREATED_KEY` time is older than a cut-off) and deletes them in dependency
order: task definitions, repositories, log groups, secrets, parameters, keys, buckets, tables, then roles,
because the others reference roles. Nothing without the marker is ever deleted.

Each resource kind is one row of :data:`KINDS`: a finder that yields every resource of the kind with its
tags, and a deleter for one resource (or a batch deleter). Every deletion is independent: an error is
recorded on its :class:`SweepItem` and the sweep goes on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from harness.errors import ConfigurationError
from harness.ownership import RUN_ID_KEY, created_at, is_owned, now_utc

__all__ = [
    "KINDS",
    "Kind",
    "SweepItem",
    "SweepReport",
    "parse_duration",
    "sweep",
]

ACCOUNTS = ("primary", "registry")

#: Identifier of a :attr:`SweepReport.skipped` entry that stands for a whole kind that could not be listed.
WHOLE_KIND = "*"

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_FORMS = (
    "a whole number of days, hours, minutes and/or seconds in that order, such as 90s, 30m, 2h, 1d or 1h30m"
)


class SweepTarget(Protocol):
    """What :func:`sweep` needs of a target: boto3 clients per account, and whether a registry exists."""

    registry_role_arn: str | None

    def client(self, service: str, account: str = "primary") -> Any:
        """A boto3 client for ``service`` in ``account``."""


@dataclass
class SweepItem:
    """One marked resource: where it is, what it is, when it was created, and what became of it.

    ``error`` is ``"<AWS error code>: <message>"`` when deletion failed, empty otherwise.
    """

    account: str
    kind: str
    identifier: str
    created: dt.datetime | None
    deleted: bool = False
    error: str = ""


@dataclass
class SweepReport:
    """The outcome of one sweep.

    ``items`` are the marked resources found, in deletion order. ``skipped`` are resources whose tags
    could not be read (so whether they are the harness's is unknown) and kinds that could not be listed
    at all (identifier :data:`WHOLE_KIND`); none of them was touched.
    """

    dry_run: bool = False
    items: list[SweepItem] = field(default_factory=list)
    skipped: list[SweepItem] = field(default_factory=list)

    @property
    def errors(self) -> list[SweepItem]:
        """The marked resources that could not be deleted."""
        return [item for item in self.items if item.error]

    @property
    def deleted(self) -> list[SweepItem]:
        """The marked resources that were deleted (KMS keys: scheduled for deletion)."""
        return [item for item in self.items if item.deleted]

    def table(self) -> str:
        """Human-readable text: one line per resource, then the totals."""
        lines = []
        for item in self.items:
            if self.dry_run:
                status = "would delete"
            elif item.deleted:
                status = "deleted"
            else:
                status = f"FAILED {item.error}"
            created = item.created.isoformat().replace("+00:00", "Z") if item.created else "-"
            lines.append(f"{item.account:<8} {item.kind:<20} {item.identifier}  created {created}  {status}")
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
    """A resource a finder listed: its identifier for the deleter and its tags, or why they are unreadable."""

    identifier: str
    tags: Mapping[str, str]
    error: str = ""


Finder = Callable[[Any], Iterable[Found]]
Deleter = Callable[[Any, str], None]
#: Deletes several resources at once; returns identifier -> error for those that failed.
BatchDeleter = Callable[[Any, Sequence[str]], dict[str, str]]


@dataclass(frozen=True)
class Kind:
    """One kind of resource the sweep knows: its name in reports, boto3 service, finder and deleter."""

    name: str
    service: str
    find: Finder
    delete: Deleter | None = None
    delete_batch: BatchDeleter | None = None


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


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**kwargs)


def _key_value(tags: Iterable[Mapping[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {tag[key]: tag.get(value, "") for tag in tags}


def _read_tags(identifier: str, read: Callable[[], Mapping[str, str]], gone: Iterable[str]) -> Found | None:
    """Read one resource's tags: None when the resource vanished meanwhile, an error ``Found`` when unreadable."""
    try:
        return Found(identifier, read())
    except ClientError as error:
        if _code(error) in set(gone):
            return None
        return Found(identifier, {}, describe_error(error))


# ECS task definitions -----------------------------------------------------------------------------------


def find_task_definitions(ecs: Any) -> Iterator[Found]:
    """Active task definitions, as ``family:revision``, with their tags."""
    for page in _pages(ecs, "list_task_definitions", status="ACTIVE"):
        for arn in page.get("taskDefinitionArns", []):
            identifier = arn.rsplit("/", 1)[-1]

            def read(arn: str = arn) -> dict[str, str]:
                return _key_value(ecs.list_tags_for_resource(resourceArn=arn).get("tags", []), "key", "value")

            found = _read_tags(identifier, read, ("ClientException", "InvalidParameterException"))
            if found:
                yield found


def delete_task_definition(ecs: Any, identifier: str) -> None:
    """Deregister, then delete where the API has DeleteTaskDefinitions (its failure is tolerated)."""
    ecs.deregister_task_definition(taskDefinition=identifier)
    if hasattr(ecs, "delete_task_definitions"):
        # Deregistered is what matters (an INACTIVE revision cannot run tasks); deletion is a tidy-up.
        with contextlib.suppress(ClientError, BotoCoreError):
            ecs.delete_task_definitions(taskDefinitions=[identifier])


# ECR repositories ---------------------------------------------------------------------------------------


def find_repositories(ecr: Any) -> Iterator[Found]:
    """Repositories of the caller's registry, with their tags."""
    for page in _pages(ecr, "describe_repositories"):
        for repository in page.get("repositories", []):

            def read(arn: str = repository["repositoryArn"]) -> dict[str, str]:
                return _key_value(ecr.list_tags_for_resource(resourceArn=arn).get("tags", []))

            found = _read_tags(repository["repositoryName"], read, ("RepositoryNotFoundException",))
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

            found = _read_tags(group["logGroupName"], read, ("ResourceNotFoundException",))
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
            yield Found(secret["Name"], _key_value(secret.get("Tags", [])))


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


def find_keys(kms: Any) -> Iterator[Found]:
    """Customer-managed keys not already pending deletion, with their tags."""
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

            found = _read_tags(key_id, read, ("NotFoundException",))
            if found:
                yield found


def delete_key(kms: Any, key_id: str) -> None:
    """Delete the key's aliases, then schedule the key for deletion after the shortest window (7 days)."""
    aliases = [
        alias["AliasName"] for page in _pages(kms, "list_aliases", KeyId=key_id) for alias in page.get("Aliases", [])
    ]
    for alias in aliases:
        kms.delete_alias(AliasName=alias)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)


# S3 buckets ---------------------------------------------------------------------------------------------

#: GetBucketTagging errors meaning "no tags" or "not a bucket this client's region can read".
_S3_SKIP = ("NoSuchTagSet", "NoSuchBucket", "PermanentRedirect", "AuthorizationHeaderMalformed", "301")


def find_buckets(s3: Any) -> Iterator[Found]:
    """Buckets in the client's region (where ListBuckets can filter by region), with their tags."""
    region = s3.meta.region_name
    kwargs: dict[str, Any] = {}
    if region and "BucketRegion" in s3.meta.service_model.operation_model("ListBuckets").input_shape.members:
        kwargs["BucketRegion"] = region
    for page in _pages(s3, "list_buckets", **kwargs):
        for bucket in page.get("Buckets", []):

            def read(name: str = bucket["Name"]) -> dict[str, str]:
                return _key_value(s3.get_bucket_tagging(Bucket=name).get("TagSet", []))

            found = _read_tags(bucket["Name"], read, _S3_SKIP)
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

            def read(name: str = name) -> dict[str, str] | None:
                table = dynamodb.describe_table(TableName=name)["Table"]
                if table.get("TableStatus") == "DELETING":
                    return None
                tags: dict[str, str] = {}
                for tag_page in _pages(dynamodb, "list_tags_of_resource", ResourceArn=table["TableArn"]):
                    tags.update(_key_value(tag_page.get("Tags", [])))
                return tags

            try:
                tags = read()
            except ClientError as error:
                if _code(error) != "ResourceNotFoundException":
                    yield Found(name, {}, describe_error(error))
                continue
            if tags is not None:
                yield Found(name, tags)


def delete_table(dynamodb: Any, name: str) -> None:
    """Delete a table (fails, and is reported, when deletion protection is on)."""
    dynamodb.delete_table(TableName=name)


# IAM roles ----------------------------------------------------------------------------------------------


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
                yield found


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


#: The kinds in deletion order: everything that may reference a role goes before the roles.
KINDS: tuple[Kind, ...] = (
    Kind("ecs-task-definition", "ecs", find_task_definitions, delete_task_definition),
    Kind("ecr-repository", "ecr", find_repositories, delete_repository),
    Kind("log-group", "logs", find_log_groups, delete_log_group),
    Kind("secret", "secretsmanager", find_secrets, delete_secret),
    Kind("ssm-parameter", "ssm", find_parameters, delete_batch=delete_parameters),
    Kind("kms-key", "kms", find_keys, delete_key),
    Kind("s3-bucket", "s3", find_buckets, delete_bucket),
    Kind("dynamodb-table", "dynamodb", find_tables, delete_table),
    Kind("iam-role", "iam", find_roles, delete_role),
)


def _reachable_accounts(target: SweepTarget, accounts: Iterable[str]) -> list[str]:
    chosen: list[str] = []
    for account in accounts:
        if account not in ACCOUNTS:
            raise ConfigurationError(f"account must be one of {', '.join(ACCOUNTS)}, not {account!r}")
        if account == "registry" and not target.registry_role_arn:
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


def sweep(
    target: SweepTarget,
    older_than: dt.timedelta | None = None,
    dry_run: bool = False,
    accounts: Iterable[str] = ACCOUNTS,
    kinds: Sequence[Kind] = KINDS,
    *,
    run_id: str | None = None,
) -> SweepReport:
    """Delete every marked resource in the accounts ``target`` reaches; see the module docstring.

    ``older_than`` keeps resources created more recently than that (a marked resource with no readable
    creation time counts as old). ``dry_run`` lists without deleting. The registry account is skipped
    quietly when the target has no registry role; services the target lacks are skipped too. ``run_id``
    limits the sweep to one run's resources (so concurrent runs in one account leave each other alone).
    """
    reachable = _reachable_accounts(target, accounts)
    cutoff = now_utc() - older_than if older_than is not None else None
    report = SweepReport(dry_run=dry_run)
    for kind in kinds:
        if _lacks(target, kind.service):
            continue
        for account in reachable:
            found: list[SweepItem] = []
            client: Any = None
            try:
                client = target.client(kind.service, account=account)
                for resource in kind.find(client):
                    if resource.error:
                        report.skipped.append(
                            SweepItem(account, kind.name, resource.identifier, None, error=resource.error)
                        )
                        continue
                    if not is_owned(resource.tags):
                        continue
                    if run_id is not None and resource.tags.get(RUN_ID_KEY) != run_id:
                        continue
                    created = created_at(resource.tags)
                    if cutoff is not None and created is not None and created >= cutoff:
                        continue
                    found.append(SweepItem(account, kind.name, resource.identifier, created))
            except (ClientError, BotoCoreError) as error:
                report.skipped.append(SweepItem(account, kind.name, WHOLE_KIND, None, error=describe_error(error)))
            if found and not dry_run:
                _delete(kind, client, found)
            report.items.extend(found)
    return report
