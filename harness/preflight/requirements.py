"""Every call the ECS agent makes with the execution role to start a task, derived from its task definition.

What the agent does at task start (Amazon ECS Developer Guide, "Task execution IAM role"):

- images in Amazon ECR: ``ecr:GetAuthorizationToken`` (not resource-scoped, so ``*``), then
  ``ecr:BatchCheckLayerAvailability``, ``ecr:GetDownloadUrlForLayer`` and ``ecr:BatchGetImage`` on the
  repository the image URI names, in whichever account owns it (the repository policy decides there);
  images elsewhere need no ECR permission;
- ``repositoryCredentials`` (private registry auth): ``secretsmanager:GetSecretValue`` on the secret;
- ``secrets``: ``secretsmanager:GetSecretValue`` per Secrets Manager ARN (JSON-key, stage and version
  suffixes removed), ``ssm:GetParameters`` per parameter (ARN, or name in the task's own
  account/region); ``kms:Decrypt`` when the secret or SecureString uses a customer managed key, with
  ``kms:ViaService`` set to the calling service;
- ``awslogs``: ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the stream, and
  ``logs:CreateLogGroup`` when ``awslogs-create-group`` is ``true``.

Secret and parameter encryption keys are facts about resources, not the task definition, so they come
from a :class:`Facts` object (the AWS-backed one lives in :mod:`harness.preflight.collect`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.aws import ecr, secrets, ssm

#: Actions the agent needs to pull one image from a repository.
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
#: A task id stands in for the real one in log stream names (the agent names streams prefix/container/id).
SAMPLE_TASK_ID = "0123456789abcdef0123456789abcdef"
#: KMS key ids of AWS managed keys need no permission of the role (their key policies allow the service).
AWS_MANAGED_KEY_ALIASES = ("alias/aws/secretsmanager", "alias/aws/ssm")


@dataclass(frozen=True)
class Requirement:
    """One permission the execution role needs for the task to start."""

    kind: str  # ecr-auth | ecr-pull | registry-credentials | secret | parameter | kms | logs | logs-create-group
    action: str
    resource: str
    resource_owner: str
    source: str  # where in the task definition it comes from, for people
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    resource_policy_kind: str = "default"
    exists: bool | None = None  # False when the referenced resource was looked up and is missing
    missing: str = ""  # what is missing, in words

    @property
    def key(self) -> tuple[str, str, str]:
        """(action, resource, calling service): the identity of the permission.

        The calling service (``kms:ViaService``) is part of it: one key used by a secret and by a
        SecureString is two requirements, and a key policy may allow one service and not the other.
        """
        via = self.context.get("kms:ViaService", "")
        return (self.action, self.resource, via if isinstance(via, str) else ",".join(via))


class Facts(Protocol):
    """What the requirement derivation needs to know about resources (AWS-backed or recorded)."""

    def secret(self, secret_id: str) -> Mapping[str, Any] | None:
        """DescribeSecret of the secret (ARN, KmsKeyId, ...), or None when it does not exist."""

    def parameter(self, name: str, account: str, region: str) -> Mapping[str, Any] | None:
        """DescribeParameters entry of the parameter (Type, KeyId, ARN), or None when missing."""

    def key_arn(self, key_id: str, account: str, region: str) -> str | None:
        """The ARN of a KMS key given by id, alias or ARN, or None when it does not exist."""

    def log_group_exists(self, name: str, account: str, region: str) -> bool:
        """True when the log group exists."""

    def repository_exists(self, name: str, account: str, region: str) -> bool:
        """True when the ECR repository exists."""


@dataclass(frozen=True)
class Scope:
    """Where the task runs: its account, region and partition, and the facts source."""

    facts: Facts
    principal_account: str
    region: str
    partition: str


def arn_parts(arn: str) -> tuple[str, str, str, str, str]:
    """(partition, service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"{arn!r} is not an ARN")
    return parts[1], parts[2], parts[3], parts[4], parts[5]


def _kms_requirement(
    key_id: str | None,
    *,
    facts: Facts,
    service: str,
    region: str,
    account: str,
    principal_account: str,
    source: str,
    encryption_context: Mapping[str, str],
) -> Requirement | None:
    """``kms:Decrypt`` for a customer managed key; None for AWS managed keys."""
    if not key_id or key_id in AWS_MANAGED_KEY_ALIASES or key_id.endswith(AWS_MANAGED_KEY_ALIASES):
        return None
    key_arn = facts.key_arn(key_id, account, region)
    if key_arn is None:
        return Requirement(
            "kms", "kms:Decrypt", key_id, account, source, exists=False, missing=f"KMS key {key_id} does not exist"
        )
    context: dict[str, str | list[str]] = {
        "kms:ViaService": f"{service}.{region}.amazonaws.com",
        "kms:CallerAccount": principal_account,
    }
    context.update({f"kms:EncryptionContext:{k}": v for k, v in encryption_context.items()})
    return Requirement(
        "kms", "kms:Decrypt", key_arn, arn_parts(key_arn)[3], source, context=context, resource_policy_kind="kms"
    )


def _secret_requirements(value_from: str, *, kind: str, source: str, scope: Scope) -> list[Requirement]:
    """GetSecretValue on the secret (plus kms:Decrypt for a customer key)."""
    reference = secrets.parse_secret_reference(value_from)
    facts, principal_account = scope.facts, scope.principal_account
    owner = arn_parts(reference.secret_id)[3] if reference.is_arn else principal_account
    metadata = facts.secret(reference.secret_id)
    if metadata is None:
        return [
            Requirement(
                kind,
                "secretsmanager:GetSecretValue",
                reference.secret_id,
                owner,
                source,
                exists=False,
                missing=f"secret {reference.secret_id} does not exist",
            )
        ]
    arn = str(metadata["ARN"])
    found = [Requirement(kind, "secretsmanager:GetSecretValue", arn, owner, source, exists=True)]
    secret_region = arn_parts(arn)[2]
    kms = _kms_requirement(
        metadata.get("KmsKeyId"),
        facts=facts,
        service="secretsmanager",
        region=secret_region,
        account=owner,
        principal_account=principal_account,
        source=f"{source} (secret encryption key)",
        encryption_context={"SecretARN": arn},
    )
    return found + ([kms] if kms else [])


def _parameter_requirements(value_from: str, *, source: str, scope: Scope) -> list[Requirement]:
    """GetParameters on the parameter (plus kms:Decrypt for a customer-key SecureString)."""
    name = ssm.parameter_name(value_from)
    facts, principal_account = scope.facts, scope.principal_account
    partition, region = scope.partition, scope.region
    if value_from.startswith("arn:"):
        partition, _service, region, account, _res = arn_parts(value_from)
    else:
        account = principal_account
    arn = f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
    meta = facts.parameter(name, account, region)
    if meta is None:
        return [
            Requirement(
                "parameter",
                "ssm:GetParameters",
                arn,
                account,
                source,
                exists=False,
                missing=f"SSM parameter {name} does not exist in {account}/{region}",
            )
        ]
    found = [Requirement("parameter", "ssm:GetParameters", arn, account, source, exists=True)]
    if meta.get("Type") == "SecureString":
        kms = _kms_requirement(
            meta.get("KeyId") or "alias/aws/ssm",
            facts=facts,
            service="ssm",
            region=region,
            account=account,
            principal_account=principal_account,
            source=f"{source} (SecureString key)",
            encryption_context={"PARAMETER_ARN": arn},
        )
        if kms:
            found.append(kms)
    return found


def _image_requirements(image: str, *, source: str, scope: Scope) -> list[Requirement]:
    """GetAuthorizationToken plus the pull actions on the repository (none for images outside ECR)."""
    facts, principal_account, partition = scope.facts, scope.principal_account, scope.partition
    parsed = ecr.parse_image_uri(image)
    if parsed is None:
        return []  # Docker Hub, public.ecr.aws, another registry: no ECR permission involved
    repository = ecr.repository_arn(parsed, partition=partition)
    exists = facts.repository_exists(parsed.repository_name, parsed.account_id, parsed.region)
    missing = (
        "" if exists else f"repository {parsed.repository_name} does not exist in {parsed.account_id}/{parsed.region}"
    )
    found = [Requirement("ecr-auth", "ecr:GetAuthorizationToken", "*", principal_account, f"{source} (registry auth)")]
    found += [
        Requirement("ecr-pull", action, repository, parsed.account_id, source, exists=exists, missing=missing)
        for action in ECR_PULL_ACTIONS
    ]
    return found


def _log_requirements(container: Mapping[str, Any], *, source: str, scope: Scope) -> list[Requirement]:
    """Stream creation and writes for awslogs (plus CreateLogGroup with awslogs-create-group)."""
    facts, principal_account, partition, region = scope.facts, scope.principal_account, scope.partition, scope.region
    config = container.get("logConfiguration") or {}
    if config.get("logDriver") != "awslogs":
        return []
    options = config.get("options") or {}
    group = options.get("awslogs-group", "")
    log_region = options.get("awslogs-region", region)
    prefix = options.get("awslogs-stream-prefix")
    stream = f"{prefix}/{container.get('name')}/{SAMPLE_TASK_ID}" if prefix else SAMPLE_TASK_ID
    group_arn = f"arn:{partition}:logs:{log_region}:{principal_account}:log-group:{group}"
    create = str(options.get("awslogs-create-group", "")).lower() == "true"
    exists = create or facts.log_group_exists(group, principal_account, log_region)
    missing = "" if exists else f"log group {group} does not exist in {principal_account}/{log_region}"
    found = [
        Requirement(
            "logs",
            action,
            f"{group_arn}:log-stream:{stream}",
            principal_account,
            source,
            exists=exists,
            missing=missing,
        )
        for action in ("logs:CreateLogStream", "logs:PutLogEvents")
    ]
    if create:
        found.append(
            Requirement("logs-create-group", "logs:CreateLogGroup", f"{group_arn}:*", principal_account, source)
        )
    return found


def derive(
    task_definition: Mapping[str, Any], facts: Facts, *, principal_account: str, region: str
) -> list[Requirement]:
    """Every requirement of the task definition's containers, in container order, without duplicates."""
    arn = str(task_definition.get("taskDefinitionArn") or "")
    partition = arn_parts(arn)[0] if arn.startswith("arn:") else "aws"
    scope = Scope(facts, principal_account, region, partition)
    found: list[Requirement] = []
    for container in task_definition.get("containerDefinitions", []):
        name = container.get("name", "?")
        found += _image_requirements(container.get("image", ""), source=f"container {name} image", scope=scope)
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            where = f"container {name} repositoryCredentials"
            found += _secret_requirements(credentials, kind="registry-credentials", source=where, scope=scope)
        for secret in container.get("secrets", []):
            value_from, where = secret.get("valueFrom", ""), f"container {name} secret {secret.get('name')}"
            if value_from.startswith("arn:") and arn_parts(value_from)[1] == "secretsmanager":
                found += _secret_requirements(value_from, kind="secret", source=where, scope=scope)
            else:
                found += _parameter_requirements(value_from, source=where, scope=scope)
        found += _log_requirements(container, source=f"container {name} awslogs", scope=scope)
    unique: dict[tuple[str, str, str], Requirement] = {}
    for requirement in found:
        unique.setdefault(requirement.key, requirement)
    return list(unique.values())
