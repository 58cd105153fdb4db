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
from typing import Any

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


@dataclass
class Inventory:
    """Typed records of everything in one configuration's state."""

    source: str
    resources: list[Resource] = field(default_factory=list)
    task_definitions: list[TaskDefinition] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], source: str = "the configuration") -> Inventory:
        """From ``terraform show -json`` of a state (an empty or missing state gives an empty inventory)."""
        inventory = cls(source)
        inventory.resources = managed_resources(state)
        inventory.task_definitions = [TaskDefinition.parse(r) for r in inventory.of_type("aws_ecs_task_definition")]
        inventory.roles = _roles(inventory)
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

    def log_groups(self) -> dict[str, Mapping[str, Any]]:
        """Log group name -> values."""
        return {str(v["name"]): v for v in self.values_of("aws_cloudwatch_log_group") if v.get("name")}

    def secrets(self) -> list[Mapping[str, Any]]:
        """Secrets Manager secrets (metadata only)."""
        return self.values_of("aws_secretsmanager_secret")

    def parameters(self) -> list[dict[str, Any]]:
        """SSM parameters, without their values."""
        return [{k: v for k, v in p.items() if k not in SECRET_ATTRIBUTES} for p in self.values_of("aws_ssm_parameter")]

    def kms_keys(self) -> list[Mapping[str, Any]]:
        """Customer managed KMS keys."""
        return self.values_of("aws_kms_key")

    def kms_aliases(self) -> list[Mapping[str, Any]]:
        """KMS aliases."""
        return self.values_of("aws_kms_alias")

    def repositories(self) -> list[Mapping[str, Any]]:
        """ECR repositories."""
        return self.values_of("aws_ecr_repository")

    def repository_policies(self) -> list[Mapping[str, Any]]:
        """ECR repository policies."""
        return self.values_of("aws_ecr_repository_policy")

    def buckets(self) -> list[Mapping[str, Any]]:
        """S3 buckets."""
        return self.values_of("aws_s3_bucket")

    def tables(self) -> list[Mapping[str, Any]]:
        """DynamoDB tables."""
        return self.values_of("aws_dynamodb_table")

    def file_systems(self) -> list[Mapping[str, Any]]:
        """EFS file systems."""
        return self.values_of("aws_efs_file_system")

    def access_points(self) -> list[Mapping[str, Any]]:
        """EFS access points."""
        return self.values_of("aws_efs_access_point")

    def services(self) -> list[Mapping[str, Any]]:
        """ECS services."""
        return self.values_of("aws_ecs_service")

    def summary(self) -> str:
        """One line for people: how many of each kind the harness checks."""
        return (
            f"{len(self.resources)} resources, {len(self.task_definitions)} task definitions, {len(self.roles)} roles"
        )


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
