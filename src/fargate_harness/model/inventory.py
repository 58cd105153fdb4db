"""What a configuration built, read from Terraform's own state: the one picture checks and preflight use.

:meth:`Inventory.from_state` takes ``terraform show -json`` (every module, every provider alias) and
returns typed records: task definitions with their containers parsed, IAM roles with their trust, inline
and attached policies and boundary, log groups, secrets, parameters, KMS keys and aliases, ECR
repositories and their policies, buckets, tables, EFS file systems and access points, ECS clusters and
services. Each record knows the Terraform address it came from and, from its ARN, the account and region
it lives in (so resources of an aliased provider in another account are told apart).

Secret values are never copied into a record: ``aws_secretsmanager_secret_version`` and the ``value`` of
``aws_ssm_parameter`` are left out on purpose.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

from fargate_harness.errors import ConfigurationError
from fargate_harness.model.arn import Arn, account_of, region_of

#: Values never read from the state into a record (they hold secret material).
SECRET_ATTRIBUTES = frozenset({"secret_string", "secret_binary", "value", "insecure_value", "plaintext"})


def _document(text: Any) -> dict[str, Any]:
    """A policy document from the state (JSON text, already decoded, or empty)."""
    if isinstance(text, Mapping):
        return dict(text)
    if isinstance(text, str) and text.strip():
        try:
            return dict(json.loads(text))
        except ValueError:
            return {}
    return {}


@dataclass(frozen=True)
class Resource:
    """One managed resource instance of the state."""

    address: str
    type: str
    name: str
    module: str
    values: Mapping[str, Any] = field(repr=False)

    @property
    def arn(self) -> str | None:
        """The ``arn`` attribute, when the resource has one."""
        value = self.values.get("arn")
        return str(value) if value else None

    @property
    def account(self) -> str | None:
        """The account it lives in, from its ARN."""
        return account_of(self.arn)

    @property
    def region(self) -> str | None:
        """The region it lives in, from its ARN."""
        return region_of(self.arn)


@dataclass(frozen=True)
class Container:
    """One container definition, with the parts the ECS agent acts on at task start."""

    name: str
    image: str
    essential: bool
    secrets: tuple[tuple[str, str], ...]
    log_driver: str | None
    log_options: Mapping[str, str]
    log_secrets: tuple[tuple[str, str], ...]
    environment_files: tuple[str, ...]
    firelens_type: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Container:
        """From one element of ``containerDefinitions``."""
        log = raw.get("logConfiguration") or {}
        return cls(
            name=str(raw.get("name") or ""),
            image=str(raw.get("image") or ""),
            essential=bool(raw.get("essential", True)),
            secrets=tuple((str(s.get("name")), str(s.get("valueFrom"))) for s in raw.get("secrets") or []),
            log_driver=log.get("logDriver"),
            log_options={str(k): str(v) for k, v in (log.get("options") or {}).items()},
            log_secrets=tuple((str(s.get("name")), str(s.get("valueFrom"))) for s in log.get("secretOptions") or []),
            environment_files=tuple(str(f.get("value")) for f in raw.get("environmentFiles") or []),
            firelens_type=(raw.get("firelensConfiguration") or {}).get("type"),
            raw=raw,
        )


@dataclass(frozen=True)
class TaskDefinition:
    """An ``aws_ecs_task_definition`` with its containers parsed."""

    resource: Resource
    arn: str
    family: str
    revision: int
    execution_role_arn: str | None
    task_role_arn: str | None
    compatibilities: tuple[str, ...]
    network_mode: str | None
    cpu: str | None
    memory: str | None
    containers: tuple[Container, ...]
    volumes: tuple[Mapping[str, Any], ...]

    @property
    def label(self) -> str:
        """``family:revision``."""
        return f"{self.family}:{self.revision}"

    @property
    def address(self) -> str:
        """The Terraform address."""
        return self.resource.address

    @property
    def account(self) -> str:
        """The account the task definition (and so its tasks) lives in, from its ARN."""
        return account_of(self.arn) or ""

    @property
    def region(self) -> str:
        """The region the task definition lives in, from its ARN."""
        return region_of(self.arn) or ""

    @property
    def partition(self) -> str:
        """The partition of its ARN (``aws``, ``aws-cn``, ``aws-us-gov``)."""
        arn = Arn.parse(self.arn)
        return arn.partition if arn else "aws"

    @classmethod
    def parse(cls, resource: Resource) -> TaskDefinition:
        """From the state's values of an ``aws_ecs_task_definition``."""
        values = resource.values
        raw = values.get("container_definitions") or "[]"
        try:
            containers = json.loads(raw) if isinstance(raw, str) else list(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{resource.address}: container_definitions is not JSON ({exc})") from exc
        return cls(
            resource=resource,
            arn=str(values.get("arn") or ""),
            family=str(values.get("family") or ""),
            revision=int(values.get("revision") or 0),
            execution_role_arn=values.get("execution_role_arn") or None,
            task_role_arn=values.get("task_role_arn") or None,
            compatibilities=tuple(values.get("requires_compatibilities") or ()),
            network_mode=values.get("network_mode") or None,
            cpu=str(values["cpu"]) if values.get("cpu") else None,
            memory=str(values["memory"]) if values.get("memory") else None,
            containers=tuple(Container.parse(c) for c in containers),
            volumes=tuple(values.get("volume") or ()),
        )


@dataclass
class Role:
    """An IAM role and every policy the state gives it, whichever resource type carried it."""

    resource: Resource
    arn: str
    name: str
    trust: dict[str, Any]
    inline: dict[str, dict[str, Any]] = field(default_factory=dict)
    attached: list[str] = field(default_factory=list)
    boundary: str | None = None

    @property
    def address(self) -> str:
        """The Terraform address."""
        return self.resource.address

    @property
    def account(self) -> str | None:
        """The role's account."""
        return account_of(self.arn)


@dataclass(frozen=True)
class Record:
    """One resource of a kind the inventory gathers: its Terraform address, name and ARN (the account and region
    come from the ARN), and its values with secret attributes left out (:data:`SECRET_ATTRIBUTES`)."""

    #: The resource type this record is read from, and the attribute that names it.
    TYPE: ClassVar[str] = ""
    NAME: ClassVar[str] = "name"

    address: str
    name: str
    arn: str | None
    values: Mapping[str, Any] = field(repr=False)

    @property
    def account(self) -> str | None:
        """The account it lives in, from its ARN (None for ARNs without one: S3)."""
        return account_of(self.arn)

    @property
    def region(self) -> str | None:
        """The region it lives in, from its ARN."""
        return region_of(self.arn)

    @classmethod
    def parse(cls, resource: Resource) -> Self:
        """The record of one state resource of :attr:`TYPE`."""
        values = {k: v for k, v in resource.values.items() if k not in SECRET_ATTRIBUTES}
        extra = cls.fields_of(values)
        return cls(resource.address, str(values.get(cls.NAME) or ""), resource.arn, values, **extra)

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """The fields a subclass adds, read from the values."""
        return {}


_R = TypeVar("_R", bound=Record)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class LogGroup(Record):
    """A CloudWatch Logs log group."""

    TYPE = "aws_cloudwatch_log_group"
    retention_days: int | None = None  # None: never expires
    kms_key_id: str | None = None

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        days = values.get("retention_in_days")
        return {"retention_days": int(days) if days else None, "kms_key_id": _text(values.get("kms_key_id"))}


@dataclass(frozen=True)
class Secret(Record):
    """A Secrets Manager secret (metadata only: a version's value is never read)."""

    TYPE = "aws_secretsmanager_secret"
    kms_key_id: str | None = None

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"kms_key_id": _text(values.get("kms_key_id"))}


@dataclass(frozen=True)
class Parameter(Record):
    """An SSM parameter, without its value."""

    TYPE = "aws_ssm_parameter"
    type: str = ""
    key_id: str | None = None

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": str(values.get("type") or ""), "key_id": _text(values.get("key_id"))}


@dataclass(frozen=True)
class KmsKey(Record):
    """A customer managed KMS key, with its key policy."""

    TYPE = "aws_kms_key"
    NAME = "key_id"
    policy: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"policy": _document(values.get("policy"))}


@dataclass(frozen=True)
class KmsAlias(Record):
    """A KMS alias and the key it points to."""

    TYPE = "aws_kms_alias"
    target_key_id: str = ""

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"target_key_id": str(values.get("target_key_id") or "")}


@dataclass(frozen=True)
class Repository(Record):
    """An ECR repository."""

    TYPE = "aws_ecr_repository"
    url: str = ""

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"url": str(values.get("repository_url") or "")}


@dataclass(frozen=True)
class RepositoryPolicy(Record):
    """An ECR repository policy (``name`` is the repository's)."""

    TYPE = "aws_ecr_repository_policy"
    NAME = "repository"
    policy: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"policy": _document(values.get("policy"))}


@dataclass(frozen=True)
class Bucket(Record):
    """An S3 bucket."""

    TYPE = "aws_s3_bucket"
    NAME = "bucket"


@dataclass(frozen=True)
class Table(Record):
    """A DynamoDB table."""

    TYPE = "aws_dynamodb_table"


@dataclass(frozen=True)
class FileSystem(Record):
    """An EFS file system (``name`` is its id)."""

    TYPE = "aws_efs_file_system"
    NAME = "id"
    encrypted: bool = False

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"encrypted": bool(values.get("encrypted"))}


@dataclass(frozen=True)
class AccessPoint(Record):
    """An EFS access point (``name`` is its id)."""

    TYPE = "aws_efs_access_point"
    NAME = "id"
    file_system_id: str = ""

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"file_system_id": str(values.get("file_system_id") or "")}


@dataclass(frozen=True)
class Cluster(Record):
    """An ECS cluster."""

    TYPE = "aws_ecs_cluster"


@dataclass(frozen=True)
class Service(Record):
    """An ECS service: its cluster and the task definition it runs."""

    TYPE = "aws_ecs_service"
    cluster: str = ""
    task_definition: str = ""

    @classmethod
    def fields_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "cluster": str(values.get("cluster") or ""),
            "task_definition": str(values.get("task_definition") or ""),
        }


def _records(kind: type[_R], inventory: Inventory) -> list[_R]:
    return [kind.parse(resource) for resource in inventory.of_type(kind.TYPE)]


@dataclass
class Inventory:
    """Typed records of everything in one configuration's state."""

    source: str
    resources: list[Resource] = field(default_factory=list)
    task_definitions: list[TaskDefinition] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    log_groups: list[LogGroup] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    kms_keys: list[KmsKey] = field(default_factory=list)
    kms_aliases: list[KmsAlias] = field(default_factory=list)
    repositories: list[Repository] = field(default_factory=list)
    repository_policies: list[RepositoryPolicy] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    file_systems: list[FileSystem] = field(default_factory=list)
    access_points: list[AccessPoint] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], source: str = "the configuration") -> Inventory:
        """From ``terraform show -json`` of a state (an empty or missing state gives an empty inventory)."""
        inventory = cls(source)
        inventory.resources = managed_resources(state)
        inventory.task_definitions = [TaskDefinition.parse(r) for r in inventory.of_type("aws_ecs_task_definition")]
        inventory.roles = _roles(inventory)
        inventory.log_groups = _records(LogGroup, inventory)
        inventory.secrets = _records(Secret, inventory)
        inventory.parameters = _records(Parameter, inventory)
        inventory.kms_keys = _records(KmsKey, inventory)
        inventory.kms_aliases = _records(KmsAlias, inventory)
        inventory.repositories = _records(Repository, inventory)
        inventory.repository_policies = _records(RepositoryPolicy, inventory)
        inventory.buckets = _records(Bucket, inventory)
        inventory.tables = _records(Table, inventory)
        inventory.file_systems = _records(FileSystem, inventory)
        inventory.access_points = _records(AccessPoint, inventory)
        inventory.clusters = _records(Cluster, inventory)
        inventory.services = _records(Service, inventory)
        return inventory

    def of_type(self, *types: str) -> list[Resource]:
        """Resources of the given types, in state order."""
        return [r for r in self.resources if r.type in types]

    def values_of(self, *types: str) -> list[Mapping[str, Any]]:
        """The values of the resources of the given types."""
        return [r.values for r in self.of_type(*types)]

    @property
    def counts(self) -> dict[str, int]:
        """Resource type -> how many instances."""
        return dict(Counter(r.type for r in self.resources))

    @property
    def accounts(self) -> set[str]:
        """Every account a resource of the state lives in (from ARNs)."""
        return {a for r in self.resources if (a := r.account)}

    def role(self, key: str) -> Role:
        """A role by name, ARN or Terraform address; ConfigurationError listing the roles otherwise."""
        for role in self.roles:
            if key in (role.name, role.arn, role.address):
                return role
        known = ", ".join(sorted(r.name for r in self.roles)) or "none"
        raise ConfigurationError(f"{self.source}: no IAM role {key!r} in the state; roles: {known}")

    def role_by_arn(self, arn: str | None) -> Role | None:
        """The state's role with this ARN, or None (a role created elsewhere)."""
        return next((r for r in self.roles if arn and r.arn == arn), None)

    @property
    def execution_role_arns(self) -> list[str]:
        """Execution roles the task definitions name (state or not), in first-seen order."""
        return list(dict.fromkeys(td.execution_role_arn for td in self.task_definitions if td.execution_role_arn))

    @property
    def task_role_arns(self) -> list[str]:
        """Task roles the task definitions name (state or not), in first-seen order."""
        return list(dict.fromkeys(td.task_role_arn for td in self.task_definitions if td.task_role_arn))

    @property
    def addresses(self) -> dict[str, str]:
        """ARN -> Terraform address of every resource of the state that has an ARN. Where several carry one ARN (a
        secret and its ``aws_secretsmanager_secret_version``, whose ``arn`` is the secret's), the resource the ARN
        identifies (its ``id`` is the ARN) wins, else the first in the state."""
        found: dict[str, str] = {}
        for resource in self.resources:
            if resource.arn and (resource.arn not in found or (resource.values or {}).get("id") == resource.arn):
                found[resource.arn] = resource.address
        return found

    def log_group(self, name: str) -> LogGroup | None:
        """The state's log group of this name, or None."""
        return next((group for group in self.log_groups if group.name == name), None)

    def summary(self) -> str:
        """One line for people: how many of each kind the harness checks."""
        return (
            f"{len(self.resources)} resources, {len(self.task_definitions)} task definitions, {len(self.roles)} roles"
        )


def address_in(resource: str, addresses: Mapping[str, str]) -> str | None:
    """The Terraform address of the resource a policy's ``Resource`` names, from ``addresses`` (ARN -> address,
    :attr:`Inventory.addresses`): its ARN, or the ARN with a trailing ``:*`` / ``/*`` / ``*`` (a log group's
    streams, a bucket's objects, a repository's images); None otherwise."""
    for candidate in (resource, resource.removesuffix(":*"), resource.removesuffix("/*"), resource.removesuffix("*")):
        if candidate in addresses:
            return addresses[candidate]
    return None


def managed_resources(state: Mapping[str, Any]) -> list[Resource]:
    """The managed resources (data sources left out) of every module in ``terraform show -json`` of a state."""
    return list(_resources((state.get("values") or {}).get("root_module") or {}))


def _resources(module: Mapping[str, Any]) -> Iterator[Resource]:
    for item in module.get("resources") or []:
        if item.get("mode") != "managed":
            continue
        yield Resource(
            address=str(item.get("address")),
            type=str(item.get("type")),
            name=str(item.get("name")),
            module=str(module.get("address") or ""),
            values=item.get("values") or {},
        )
    for child in module.get("child_modules") or []:
        yield from _resources(child)


def _roles(inventory: Inventory) -> list[Role]:
    """Roles, with inline policies, attachments and boundaries gathered from every resource type carrying them."""
    roles: list[Role] = []
    by_name: dict[str, Role] = {}
    for resource in inventory.of_type("aws_iam_role"):
        values = resource.values
        role = Role(
            resource=resource,
            arn=str(values.get("arn") or ""),
            name=str(values.get("name") or ""),
            trust=_document(values.get("assume_role_policy")),
            boundary=values.get("permissions_boundary") or None,
        )
        for inline in values.get("inline_policy") or []:
            if inline.get("name") and inline.get("policy"):
                role.inline[str(inline["name"])] = _document(inline["policy"])
        role.attached += [str(a) for a in values.get("managed_policy_arns") or []]
        roles.append(role)
        by_name[role.name] = role
    for values in inventory.values_of("aws_iam_role_policy"):
        role_name = str(values.get("role") or "").split(":")[0]
        if role_name in by_name:
            by_name[role_name].inline[str(values.get("name") or values.get("id"))] = _document(values.get("policy"))
    for values in inventory.values_of("aws_iam_role_policy_attachment"):
        attached = by_name.get(str(values.get("role") or ""))
        if attached is not None and values.get("policy_arn") not in attached.attached:
            attached.attached.append(str(values["policy_arn"]))
    for values in inventory.values_of("aws_iam_policy_attachment"):
        for role_name in values.get("roles") or []:
            attached = by_name.get(str(role_name))
            if attached is not None and values.get("policy_arn") not in attached.attached:
                attached.attached.append(str(values["policy_arn"]))
    return roles
