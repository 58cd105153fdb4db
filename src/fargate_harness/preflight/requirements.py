"""Every call the ECS agent makes with the execution role to start a task, derived from its task definition.

What the agent does at task start (Amazon ECS Developer Guide, "Task execution IAM role"):

- images in Amazon ECR: ``ecr:GetAuthorizationToken`` (not resource-scoped, so ``*``), then
  ``ecr:BatchCheckLayerAvailability``, ``ecr:GetDownloadUrlForLayer`` and ``ecr:BatchGetImage`` on the
  repository the image URI names, in whichever account owns it (the repository policy decides there);
  images elsewhere need no ECR permission;
- ``repositoryCredentials`` (private registry auth): ``secretsmanager:GetSecretValue`` on the secret, whose value
  must be a JSON object with ``username`` and ``password`` (the agent's ``asm`` package);
- ``secrets``: ``secretsmanager:GetSecretValue`` per reference (one row per container and variable; the JSON key,
  version stage and version id of ``arn:...:secret:name-AbCdEf:json-key:version-stage:version-id`` are judged as
  the agent and Secrets Manager judge them: a version id of 32-64 characters that exists, a stage attached to
  some version, a key present in the JSON value), ``ssm:GetParameters`` per parameter (ARN, or name in the task's
  own account/region; a Secrets Manager secret named without its ARN is read from Parameter Store and fails);
  ``kms:Decrypt`` when the secret or SecureString uses a customer managed key, with ``kms:ViaService`` set to
  the calling service (Amazon ECS Developer Guide, "Pass sensitive data to an Amazon ECS container" and "Pass
  Secrets Manager secrets through Amazon ECS environment variables");
- ``awslogs`` as the driver behaves (moby's ``daemon/logger/awslogs``, used by Fargate's shim-loggers-for-containerd):
  ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the stream in the ``awslogs-region``; ``logs:CreateLogGroup``
  only when ``awslogs-create-group`` is ``true`` *and* the group is missing (the driver creates the stream first).
  With the group present the permission is not needed to start; its absence is a warning quoting the ECS
  documentation, which asks for it whenever the option is set;
- ``logConfiguration.secretOptions``: the same as ``secrets``;
- ``environmentFiles`` ("Pass environment variables to an Amazon ECS container"): ``s3:GetObject`` on the
  object and ``s3:GetBucketLocation`` on the bucket, the object must exist, ``kms:Decrypt`` via S3 for an
  SSE-KMS object;
- SSM parameters that reference Secrets Manager (``/aws/reference/secretsmanager/<name>``, Systems Manager
  User Guide, "Referencing AWS Secrets Manager secrets from Parameter Store parameters"): ``ssm:GetParameters``
  on that parameter *and* ``secretsmanager:GetSecretValue`` on the secret;
- a secret in another account needs a customer managed key (Secrets Manager User Guide, "Access AWS
  Secrets Manager secrets from a different account": the AWS managed key cannot be used across accounts);
- the image itself: a tag or digest that is not in the repository fails the pull (``CannotPullContainerError``);
  pull through cache repositories (Amazon ECR User Guide, "IAM permissions required to sync an upstream
  registry") need ``ecr:BatchImportUpstreamImage``, and ``ecr:CreateRepository`` before the first pull.

With the **task role** (:data:`TASK`):

- FireLens outputs of containers logging with ``awsfirelens`` (Amazon ECS Developer Guide, "Send Amazon ECS
  logs to an AWS service or AWS Partner": the log router uses the task role), and
- EFS volumes with ``authorizationConfig.iam = ENABLED`` (Amazon ECS Developer Guide, "Specify an Amazon EFS
  file system in an Amazon ECS task definition"): ``elasticfilesystem:ClientMount``, plus ``ClientWrite``
  unless every mount point is read-only.

As ``ecs-tasks.amazonaws.com`` (:func:`derive_roles`): ``sts:AssumeRole`` on both roles, with the
``aws:SourceAccount`` / ``aws:SourceArn`` ECS sends; and as the deployer, ``ecs:RegisterTaskDefinition`` and
``iam:PassRole`` on both roles with ``iam:PassedToService``.

Secret and parameter encryption keys are facts about resources, not the task definition, so they come
from a :class:`Facts` object (the AWS-backed one lives in :mod:`fargate_harness.preflight.collect`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fargate_harness.aws import ecr, s3, secrets, ssm

#: Actions the agent needs to pull one image from a repository.
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
#: A task id stands in for the real one in log stream names (the agent names streams prefix/container/id).
SAMPLE_TASK_ID = "0123456789abcdef0123456789abcdef"
#: KMS key ids of AWS managed keys need no permission of the role (their key policies allow the service).
AWS_MANAGED_KEY_ALIASES = ("alias/aws/secretsmanager", "alias/aws/ssm", "alias/aws/s3")
#: A cluster name stands in for the real one in the ``aws:SourceArn`` ECS sends when it assumes a role.
SAMPLE_CLUSTER = "harness-sample-cluster"
#: The service principal ECS uses to assume both roles of a task.
ECS_TASKS = "ecs-tasks.amazonaws.com"
#: Who makes a call: the execution role (the agent), the task role (FireLens, EFS), ECS itself, the deployer.
EXECUTION, TASK, DEPLOYER = "execution", "task", "deployer"
#: Rows that need no permission of anyone: they say what was (and was not) checked.
NOBODY = "none"
#: The ``action`` of such rows.
NO_IAM = "(no IAM)"
#: Parameters under this path are Secrets Manager secrets read through Parameter Store.
SECRETS_MANAGER_REFERENCE = "/aws/reference/secretsmanager/"
#: Ends the ``source`` of the secret read behind such a parameter (the agent calls SSM, which reads the secret).
REFERENCE_SOURCE = " (Secrets Manager reference)"
#: Registry accounts where AWS publishes ``aws-for-fluent-bit`` for anyone to pull, by region. Source: the
#: region/account table of AWS's aws/aws-for-fluent-bit repository (scripts/publish.sh), the regional images
#: the Amazon ECS Developer Guide points to ("Using the AWS for Fluent Bit image",
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-using-fluentbit.html).
_CLASSIC_FLUENT_BIT_REGIONS = (
    *("us-east-1", "eu-west-1", "us-west-1", "ap-southeast-1", "ap-northeast-1", "us-west-2", "sa-east-1"),
    *("ap-southeast-2", "eu-central-1", "ap-northeast-2", "ap-south-1", "us-east-2", "ca-central-1"),
    *("eu-west-2", "eu-west-3", "eu-north-1", "ap-northeast-3"),
)
AWS_PUBLIC_REGISTRIES: Mapping[str, str] = {
    **dict.fromkeys(_CLASSIC_FLUENT_BIT_REGIONS, "906394416424"),
    "cn-north-1": "128054284489",
    "cn-northwest-1": "128054284489",
    "us-gov-east-1": "161423150738",
    "us-gov-west-1": "161423150738",
    "ap-east-1": "449074385750",
    "me-south-1": "741863432321",
    "af-south-1": "928143927712",
    "eu-south-1": "960320637246",
    "ap-southeast-3": "921575906885",
    "me-central-1": "358001906437",
    "eu-south-2": "146576467002",
    "eu-central-2": "269912160255",
    "ap-south-2": "378905956269",
}
#: Repositories published for public pull in those accounts.
AWS_PUBLIC_REPOSITORIES = frozenset({"aws-for-fluent-bit"})


@dataclass(frozen=True)
class Requirement:
    """One permission the execution role needs for the task to start."""

    # ecr-auth | ecr-pull | ecr-pull-through | image | registry-credentials | secret | parameter | kms | logs |
    # logs-create-group | environment-file | firelens-output | efs | trust | deployer | image-unchecked | logs-kms
    kind: str
    action: str
    resource: str
    resource_owner: str
    source: str  # where in the task definition it comes from, for people
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    resource_policy_kind: str = "default"  # default | kms | public | trust | efs | bucket
    exists: bool | None = None  # False when the referenced resource was looked up and is missing
    missing: str = ""  # what is missing, in words
    principal: str = EXECUTION  # EXECUTION | TASK | DEPLOYER | ECS_TASKS | NOBODY: who makes the call
    fatal: bool = True  # False: the task starts anyway (a FireLens output that cannot deliver)
    fix_hint: str = ""  # the fix when the resource is missing or unusable (instead of "create it")
    aws_error: str = ""  # the error AWS reports for this requirement, when more precise than its kind's
    note: str = ""  # for NOBODY rows (and allowed rows that need a word): what was and was not checked

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(action, resource, calling service, principal): the identity of the permission.

        The calling service (``kms:ViaService``) is part of it: one key used by a secret and by a
        SecureString is two requirements, and a key policy may allow one service and not the other.
        """
        via = self.context.get("kms:ViaService", "")
        return (self.action, self.resource, via if isinstance(via, str) else ",".join(via), self.principal)


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

    def log_group_kms_key(self, name: str, account: str, region: str) -> str | None:
        """The KMS key ARN a log group is encrypted with (None: none, or the group is missing)."""

    def secret_value_shape(
        self, secret_arn: str, version_id: str | None, version_stage: str | None
    ) -> secrets.SecretValueShape | None:
        """Whether a secret version's value is a JSON object and its keys (never the value); None when it cannot
        be read (the version is then judged from DescribeSecret alone)."""

    def repository_exists(self, name: str, account: str, region: str) -> bool:
        """True when the ECR repository exists."""

    def image_ids(self, name: str, account: str, region: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """(tags, digests) in the repository; None when they cannot be read (or the repository is missing)."""

    def pull_through_rules(self, account: str, region: str) -> list[dict[str, Any]]:
        """The registry's pull through cache rules (empty when there are none or they cannot be read)."""

    def object_metadata(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        """HeadObject of the object (``ServerSideEncryption``, ``SSEKMSKeyId``), None when it is missing."""

    def bucket_owner(self, bucket: str) -> str | None:
        """The account that owns the bucket, None when no reachable account has it."""

    def file_system(self, file_system_id: str, account: str, region: str) -> Mapping[str, Any] | None:
        """DescribeFileSystems entry, None when the file system does not exist."""


@dataclass(frozen=True)
class Scope:
    """Where the task runs: its account, region and partition, the facts source and the images policy."""

    facts: Facts
    principal_account: str
    region: str
    partition: str
    images: str = "require"


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


#: How the agent reports a secret it could not read (Amazon ECS Developer Guide, "Amazon ECS stopped task error
#: messages"); the reason follows.
ASM_ERROR = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
    "unable to retrieve secret from asm: service call has been retried 1 time(s): "
)
REGISTRY_AUTH_ERROR = (
    "ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: "
    "unable to retrieve registry credentials from Secrets Manager: "
)
#: The Secrets Manager guides this module follows, for fixes.
SECRETS_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"
PRIVATE_AUTH_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html"


def _reference_problem(
    reference: secrets.SecretReference, metadata: Mapping[str, Any], *, kind: str, source: str, scope: Scope
) -> tuple[str, str, str] | None:
    """(what is wrong, the AWS error, the fix) of a reference to an existing secret, or None when it resolves.

    Judged as the agent and Secrets Manager judge them: the version id's length (GetSecretValue's model, 32-64
    characters; the SDK refuses a shorter one before any call), the version id among the secret's versions, the
    stage attached to some version (and to the version id when both are given), the JSON key in the value.
    """
    prefix = (
        REGISTRY_AUTH_ERROR
        if kind == "registry-credentials"
        else SSM_ERROR  # Parameter Store reads the secret behind /aws/reference/secretsmanager/ for the agent
        if source.endswith(REFERENCE_SOURCE)
        else ASM_ERROR
    )
    problem = _version_problem(reference, metadata, prefix=prefix, source=source)
    if problem is not None or (reference.json_key is None and kind != "registry-credentials"):
        return problem
    arn = str(metadata["ARN"])
    shape = scope.facts.secret_value_shape(arn, reference.version_id, reference.version_stage)
    if shape is None:
        return None  # could not be read: the collector says so in a note
    if kind == "registry-credentials":
        return _credentials_problem(arn, shape, prefix=prefix)
    return _json_key_problem(arn, str(reference.json_key), shape, prefix=prefix, source=source)


def _version_problem(
    reference: secrets.SecretReference, metadata: Mapping[str, Any], *, prefix: str, source: str
) -> tuple[str, str, str] | None:
    """The secret's deletion, and the reference's version id and stage against DescribeSecret's versions."""
    arn = str(metadata["ARN"])
    versions: Mapping[str, list[str]] = metadata.get("VersionIdsToStages") or {}
    version_id, stage = reference.version_id, reference.version_stage
    if metadata.get("DeletedDate"):
        return (
            f"secret {arn} is scheduled for deletion",
            f"{prefix}failed to fetch secret {arn} from secrets manager: InvalidRequestException: You can't "
            "perform this operation on the secret because it was marked for deletion.",
            f"restore the secret (RestoreSecret) or point {source} at another one",
        )
    problem = _version_id_format_problem(arn, version_id, prefix=prefix, source=source)
    if problem is not None:
        return problem
    if not versions:
        return None  # no value yet: _no_value_row says so
    return _version_label_problem(arn, versions, version_id, stage, prefix=prefix, source=source)


def _version_id_format_problem(
    arn: str, version_id: str | None, *, prefix: str, source: str
) -> tuple[str, str, str] | None:
    """GetSecretValue's VersionId is 32-64 characters; the agent's SDK refuses a shorter one before the call."""
    low, high = secrets.VERSION_ID_LENGTH
    if version_id is not None and not low <= len(version_id) <= high:
        bound = f"minimum field size of {low}" if len(version_id) < low else f"maximum field size of {high}"
        return (
            f"the version id field of valueFrom is {len(version_id)} character(s) long; GetSecretValue takes "
            f"{low}-{high} (a stray character after the last ':' is read as a version id)",
            f"{prefix}failed to fetch secret {arn} from secrets manager: InvalidParameter: 1 validation error(s) "
            f"found. - {bound}, GetSecretValueInput.VersionId.",
            f"in {source}, end valueFrom with '<json-key>::' (empty stage and version id), or give a version id "
            f"of the secret ({SECRETS_DOC})",
        )
    return None


def _version_label_problem(
    arn: str,
    versions: Mapping[str, list[str]],
    version_id: str | None,
    stage: str | None,
    *,
    prefix: str,
    source: str,
) -> tuple[str, str, str] | None:
    """The version id among the secret's versions, the stage attached to one (to the version id when both)."""
    if version_id is not None and version_id not in versions:
        return (
            f"secret {arn} has no version {version_id!r}",
            f"{prefix}failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: Secrets "
            f"Manager can't find the specified secret value for VersionId: {version_id}",
            f"in {source}, leave the version id empty or name an existing version ({SECRETS_DOC})",
        )
    attached = {label for labels in versions.values() for label in labels}
    if stage is not None and stage not in attached:
        return (
            f"no version of secret {arn} carries the staging label {stage!r} (labels: "
            f"{', '.join(sorted(attached)) or 'none'})",
            f"{prefix}failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: Secrets "
            f"Manager can't find the specified secret value for staging label: {stage}",
            f"in {source}, leave the version stage empty (AWSCURRENT) or name an attached label ({SECRETS_DOC})",
        )
    if stage is not None and version_id is not None and stage not in (versions.get(version_id) or [stage]):
        return (
            f"version {version_id} of secret {arn} does not carry the staging label {stage!r}; GetSecretValue "
            "needs both to name the same version",
            f"{prefix}failed to fetch secret {arn} from secrets manager: InvalidRequestException: the version "
            f"stage {stage} and version id {version_id} do not name the same version",
            f"in {source}, give either the version stage or the version id ({SECRETS_DOC})",
        )
    return None


def _credentials_problem(arn: str, shape: secrets.SecretValueShape, *, prefix: str) -> tuple[str, str, str] | None:
    """Registry credentials: a JSON object with non-empty ``username`` and ``password`` (the agent's asm package)."""
    fix = f'store {{"username": ..., "password": ...}} in the secret ({PRIVATE_AUTH_DOC})'
    if not shape.is_json_object:
        return (
            f"the value of secret {arn} is not a JSON object with username and password",
            f"{prefix}asm fetching authorization data: unable to unmarshal secret value, invalid schema",
            fix,
        )
    for field_name in ("username", "password"):
        if field_name not in shape.keys or field_name in shape.empty_keys:
            return (
                f"the value of secret {arn} has no non-empty {field_name!r} key",
                f"{prefix}asm fetching {field_name}: AuthorizationData is malformed, empty field",
                fix,
            )
    return None


def _json_key_problem(
    arn: str, key: str, shape: secrets.SecretValueShape, *, prefix: str, source: str
) -> tuple[str, str, str] | None:
    """The JSON key of a reference against the value's keys (the agent unmarshals the value and looks the key up)."""
    if not shape.is_json_object:
        return (
            f"valueFrom asks for JSON key {key!r}, but the value of secret {arn} is not a JSON object",
            f"{prefix}failed to unmarshal the secret value of {arn} as JSON for json key {key}",
            f"in {source}, drop the JSON key (use the whole value) or store a JSON object ({SECRETS_DOC})",
        )
    if key not in shape.keys:
        return (
            f"the JSON value of secret {arn} has no key {key!r} ({len(shape.keys)} top-level keys; values not read "
            "out)",
            f"{prefix}retrieved secret from Secrets Manager did not contain json key {key}",
            f"add the key {key!r} to the secret's value, or fix the JSON key in {source} ({SECRETS_DOC})",
        )
    return None


def _no_value_row(
    reference: secrets.SecretReference, metadata: Mapping[str, Any], *, kind: str, source: str, owner: str
) -> Requirement | None:
    """A warning row for a secret DescribeSecret lists no version of: created without a value (Terraform's
    aws_secretsmanager_secret without an aws_secretsmanager_secret_version). GetSecretValue would find nothing,
    but a pipeline may put the value after the infrastructure (as it pushes images), so the start is not decided
    on it: the task starts only once the value is there."""
    if metadata.get("VersionIdsToStages") or metadata.get("DeletedDate"):
        return None
    arn = str(metadata["ARN"])
    version_id, stage = reference.version_id, reference.version_stage
    wanted = f"VersionId: {version_id}" if version_id else f"staging label: {stage or 'AWSCURRENT'}"
    prefix = REGISTRY_AUTH_ERROR if kind == "registry-credentials" else ASM_ERROR
    if source.endswith(REFERENCE_SOURCE):
        prefix = SSM_ERROR
    return Requirement(
        "secret-value",
        "secretsmanager:GetSecretValue",
        arn,
        owner,
        f"{source} (the secret's value)",
        exists=False,
        fatal=False,
        missing=f"secret {arn} has no value yet (DescribeSecret lists no version): the task starts only once one "
        "is put (a pipeline may do so after the infrastructure); the JSON key, stage and version were not checked",
        fix_hint="put a value in the secret before the task starts (an aws_secretsmanager_secret_version the task "
        f"definition depends on, or your pipeline), or point {source} at a secret that has one",
        aws_error=f"{prefix}failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: Secrets "
        f"Manager can't find the specified secret value for {wanted}",
    )


def _malformed_secret(value_from: str, reason: str, *, kind: str, source: str, scope: Scope) -> Requirement:
    """A Secrets Manager reference the agent cannot use at all (not an ARN it can split)."""
    return Requirement(
        kind,
        "secretsmanager:GetSecretValue",
        value_from,
        scope.principal_account,
        source,
        exists=False,
        missing=f"valueFrom {value_from!r} is not a usable Secrets Manager reference: {reason}",
        fix_hint=f"in {source}, give arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-AbCdEf, "
        f"optionally followed by :<json-key>:<version-stage>:<version-id> ({SECRETS_DOC})",
        aws_error=f"{ASM_ERROR}{reason}",
    )


def _secret_requirements(value_from: str, *, kind: str, source: str, scope: Scope) -> list[Requirement]:
    """GetSecretValue on the secret (plus kms:Decrypt for a customer key), and the reference judged on its own."""
    try:
        reference = secrets.parse_secret_reference(value_from)
    except ValueError as error:
        return [_malformed_secret(value_from, str(error), kind=kind, source=source, scope=scope)]
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
    no_value = _no_value_row(reference, metadata, kind=kind, source=source, owner=owner)
    problem = None if no_value else _reference_problem(reference, metadata, kind=kind, source=source, scope=scope)
    if problem is None:
        found = [Requirement(kind, "secretsmanager:GetSecretValue", arn, owner, source, exists=True)]
        found += [no_value] if no_value else []
    else:
        missing, aws_error, fix = problem
        found = [
            Requirement(
                kind,
                "secretsmanager:GetSecretValue",
                arn,
                owner,
                source,
                exists=False,
                missing=missing,
                fix_hint=fix,
                aws_error=aws_error,
            )
        ]
    secret_region = arn_parts(arn)[2]
    key_id = metadata.get("KmsKeyId")
    if owner != principal_account and (not key_id or str(key_id).endswith("alias/aws/secretsmanager")):
        found.append(
            Requirement(
                "kms",
                "kms:Decrypt",
                f"arn:{scope.partition}:kms:{secret_region}:{owner}:alias/aws/secretsmanager",
                owner,
                f"{source} (secret encryption key)",
                exists=False,
                missing=f"secret {arn} in account {owner} is encrypted with the AWS managed key aws/secretsmanager, "
                f"which principals of another account ({principal_account}) cannot use",
                fix_hint=f"in account {owner}, re-encrypt the secret with a customer managed key whose key policy "
                f"allows the execution role kms:Decrypt (with kms:ViaService secretsmanager.{secret_region}"
                ".amazonaws.com)",
            )
        )
        return found
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


#: How the agent reports parameters Parameter Store did not return (the names follow).
SSM_ERROR = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
    "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
)
#: What a Secrets Manager secret name may hold (Secrets Manager API Reference, CreateSecret ``Name``).
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")


def _secret_named(name: str, facts: Facts) -> str | None:
    """The ARN of the Secrets Manager secret called ``name`` (None when there is none or it cannot be told)."""
    if not _SECRET_NAME.fullmatch(name):
        return None
    try:
        found = facts.secret(name)
    except Exception:  # a hint only: a secret that cannot be described is no finding
        return None
    return str(found.get("ARN") or name) if found else None


def parameter_location(value_from: str, *, account: str, region: str, partition: str) -> tuple[str, str, str, str]:
    """(name, account, region, partition) of an SSM ``valueFrom``: a name is in the task's account and region,
    an ARN says where it is."""
    name = ssm.parameter_name(value_from)
    if value_from.startswith("arn:"):
        partition, _service, region, account, _res = arn_parts(value_from)
    return name, account, region, partition


def is_secrets_manager_arn(value_from: str) -> bool:
    """Whether a ``valueFrom`` names a Secrets Manager secret (anything else is an SSM parameter)."""
    return value_from.startswith("arn:") and arn_parts(value_from)[1] == "secretsmanager"


def parameter_value_froms(task_definition: Mapping[str, Any]) -> list[str]:
    """Every ``valueFrom`` of ``secrets`` and ``logConfiguration.secretOptions`` that names an SSM parameter."""
    found = []
    for container in task_definition.get("containerDefinitions", []):
        options = (container.get("logConfiguration") or {}).get("secretOptions") or []
        for entry in [*(container.get("secrets") or []), *options]:
            value_from = str(entry.get("valueFrom") or "")
            if value_from and not is_secrets_manager_arn(value_from):
                found.append(value_from)
    return found


def _parameter_requirements(value_from: str, *, source: str, scope: Scope) -> list[Requirement]:
    """GetParameters on the parameter (plus kms:Decrypt for a customer-key SecureString)."""
    facts, principal_account = scope.facts, scope.principal_account
    name, account, region, partition = parameter_location(
        value_from, account=principal_account, region=scope.region, partition=scope.partition
    )
    arn = f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
    if name.startswith(SECRETS_MANAGER_REFERENCE):
        # Parameter Store reads the secret for the caller: both permissions are the caller's.
        secret_name = name.removeprefix(SECRETS_MANAGER_REFERENCE)
        found = [Requirement("parameter", "ssm:GetParameters", arn, account, source, exists=True)]
        return found + _secret_requirements(
            secret_name, kind="secret", source=f"{source}{REFERENCE_SOURCE}", scope=scope
        )
    meta = facts.parameter(name, account, region)
    if meta is None:
        secret = _secret_named(name, facts) if not value_from.startswith("arn:") else None
        if secret is not None:
            # The agent reads a valueFrom that is not a Secrets Manager ARN from Parameter Store (Amazon ECS
            # Developer Guide, "Pass sensitive data to an Amazon ECS container": secrets are given by full ARN;
            # only a Parameter Store parameter of the task's Region may be given by name).
            return [
                Requirement(
                    "parameter",
                    "ssm:GetParameters",
                    arn,
                    account,
                    source,
                    exists=False,
                    missing=f"valueFrom {value_from!r} is a name, which ECS reads from Parameter Store, where "
                    f"{account}/{region} has no such parameter; Secrets Manager secret {secret} has that name",
                    fix_hint=f"in {source}, give the secret's full ARN ({secret}) ({SECRETS_DOC})",
                    aws_error=f"{SSM_ERROR}invalid parameters: {name}",
                )
            ]
        return [
            Requirement(
                "parameter",
                "ssm:GetParameters",
                arn,
                account,
                source,
                exists=False,
                missing=f"SSM parameter {name} does not exist in {account}/{region}"
                + (
                    "; a parameter of another Region must be given by its full ARN"
                    if not value_from.startswith("arn:")
                    else ""
                ),
                aws_error=f"{SSM_ERROR}invalid parameters: {name}",
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


def _registry_of(image: str) -> str:
    """The registry host of an image reference (Docker Hub for names without one, as Docker resolves them)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


#: How registries that need no AWS permission are named in the rows that say so.
PUBLIC_REGISTRIES: Mapping[str, str] = {
    "docker.io": "Docker Hub",
    "registry-1.docker.io": "Docker Hub",
    "public.ecr.aws": "Amazon ECR Public",
    "ghcr.io": "GitHub Container Registry",
    "quay.io": "Quay",
    "gcr.io": "Google Container Registry",
    "mcr.microsoft.com": "Microsoft Container Registry",
    "registry.k8s.io": "Kubernetes registry",
}


def _unchecked_image(image: str, *, source: str, scope: Scope, credentials: str | None) -> list[Requirement]:
    """A row saying what was checked for an image outside private ECR: no IAM is involved, existence is not read."""
    if not image:
        return []
    host = _registry_of(image)
    label = PUBLIC_REGISTRIES.get(host, f"registry {host}")
    if credentials:
        note = (
            f"{label}: pulled with the credentials of repositoryCredentials ({credentials}), judged in their own "
            "row; no other IAM needed; the image's existence is not checked"
        )
    else:
        note = (
            f"{label}: no IAM needed; existence not checked (nor that the registry lets anyone pull it: a private "
            f"registry needs repositoryCredentials, {PRIVATE_AUTH_DOC})"
        )
    return [Requirement("image-unchecked", NO_IAM, image, scope.principal_account, source, principal=NOBODY, note=note)]


def _image_requirements(image: str, *, source: str, scope: Scope) -> list[Requirement]:
    """GetAuthorizationToken plus the pull actions on the repository (none for images outside ECR; what was checked
    for those is said by :func:`checked_rows`)."""
    facts, principal_account, partition = scope.facts, scope.principal_account, scope.partition
    parsed = ecr.parse_image_uri(image)
    if parsed is None:
        return []  # Docker Hub, public.ecr.aws, another registry: no ECR permission involved
    repository = ecr.repository_arn(parsed, partition=partition)
    found = [Requirement("ecr-auth", "ecr:GetAuthorizationToken", "*", principal_account, f"{source} (registry auth)")]
    if (
        AWS_PUBLIC_REGISTRIES.get(parsed.region) == parsed.account_id
        and parsed.repository_name in AWS_PUBLIC_REPOSITORIES
    ):
        # Published by AWS for anyone to pull: only the role's own policies decide (never edit their policy).
        return found + [
            Requirement("ecr-pull", action, repository, parsed.account_id, source, resource_policy_kind="public")
            for action in ECR_PULL_ACTIONS
        ]
    rule = ecr.pull_through_rule_for(parsed.repository_name, facts.pull_through_rules(parsed.account_id, parsed.region))
    exists = facts.repository_exists(parsed.repository_name, parsed.account_id, parsed.region)
    if rule is not None:
        where = f"{source} (pull through cache rule {rule.get('ecrRepositoryPrefix')})"
        found += [
            Requirement("ecr-pull", action, repository, parsed.account_id, source, exists=True if exists else None)
            for action in ECR_PULL_ACTIONS
        ]
        found.append(
            Requirement("ecr-pull-through", "ecr:BatchImportUpstreamImage", repository, parsed.account_id, where)
        )
        if not exists:  # the first pull creates the repository
            found.append(Requirement("ecr-pull-through", "ecr:CreateRepository", repository, parsed.account_id, where))
        return found
    missing = (
        "" if exists else f"repository {parsed.repository_name} does not exist in {parsed.account_id}/{parsed.region}"
    )
    found += [
        Requirement("ecr-pull", action, repository, parsed.account_id, source, exists=exists, missing=missing)
        for action in ECR_PULL_ACTIONS
    ]
    if exists and scope.images == "require":
        found += _image_pushed(image, parsed, repository, source=source, scope=scope)
    return found


def _image_pushed(image: str, parsed: ecr.EcrImage, repository: str, *, source: str, scope: Scope) -> list[Requirement]:
    """A requirement that fails when the tag (``latest`` by default) or digest is not in the repository."""
    ids = scope.facts.image_ids(parsed.repository_name, parsed.account_id, parsed.region)
    if ids is None:
        return []  # cannot tell (another account, no permission to describe): the pull decides
    tags, digests = ids
    if parsed.digest is not None:
        if parsed.digest in digests:
            return []
        what = f"no image with digest {parsed.digest}"
    else:
        tag = parsed.tag or "latest"
        if tag in tags:
            return []
        what = f"no image tagged {tag!r}"
    return [
        Requirement(
            "image",
            "ecr:BatchGetImage",
            image,
            parsed.account_id,
            source,
            exists=False,
            missing=f"repository {repository} has {what} (tags: {', '.join(sorted(tags)) or 'none'})",
            fix_hint=f"push the image {image} (or fix the tag/digest in {source})",
        )
    ]


#: The ECS documentation's sentence on ``awslogs-create-group`` (Amazon ECS Developer Guide, "Send Amazon ECS logs to
#: CloudWatch", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html).
CREATE_GROUP_SENTENCE = (
    "Your IAM policy must include the logs:CreateLogGroup permission before you attempt to use awslogs-create-group."
)
AWSLOGS_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"
#: What the awslogs driver reports when it must create the group and may not (moby daemon/logger/awslogs).
CREATE_GROUP_ERROR = (
    "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
    "failed to create Cloudwatch log group: AccessDeniedException"
)


def _log_requirements(container: Mapping[str, Any], *, source: str, scope: Scope) -> list[Requirement]:
    """Stream creation and writes for awslogs, and CreateLogGroup as the driver needs it.

    The driver (moby ``daemon/logger/awslogs``, which Fargate's shim-loggers-for-containerd runs) calls
    ``CreateLogStream`` first and ``CreateLogGroup`` only when that call says the group is missing and
    ``awslogs-create-group`` is true. So with the group present the permission is not needed to start: its
    absence is a warning (the ECS documentation asks for it whenever the option is set); with the group missing
    it is fatal. The group is looked up in ``awslogs-region`` (the driver's region), in the task's account.
    """
    facts, principal_account, partition, region = scope.facts, scope.principal_account, scope.partition, scope.region
    config = container.get("logConfiguration") or {}
    if config.get("logDriver") != "awslogs":
        return []
    options = config.get("options") or {}
    group = str(options.get("awslogs-group", ""))
    log_region = str(options.get("awslogs-region") or region)
    prefix = options.get("awslogs-stream-prefix")
    stream = f"{prefix}/{container.get('name')}/{SAMPLE_TASK_ID}" if prefix else SAMPLE_TASK_ID
    group_arn = f"arn:{partition}:logs:{log_region}:{principal_account}:log-group:{group}"
    create = str(options.get("awslogs-create-group", "")).lower() == "true"
    group_exists = facts.log_group_exists(group, principal_account, log_region)
    where = f"{principal_account}/{log_region}" + (
        f" (awslogs-region {log_region}; the task runs in {region})" if log_region != region else ""
    )
    exists = create or group_exists
    missing = "" if exists else f"log group {group} does not exist in {where}"
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
    if create and group_exists:
        found.append(
            Requirement(
                "logs-create-group",
                "logs:CreateLogGroup",
                f"{group_arn}:*",
                principal_account,
                f"{source} (awslogs-create-group; log group {group} exists)",
                fatal=False,
                aws_error=f"awslogs-create-group is true without logs:CreateLogGroup: the task starts because log "
                f"group {group} exists (the driver creates the stream first and the group only when it is "
                f'missing), but the ECS documentation says: "{CREATE_GROUP_SENTENCE}" ({AWSLOGS_DOC})',
            )
        )
    elif create:
        found.append(
            Requirement(
                "logs-create-group",
                "logs:CreateLogGroup",
                f"{group_arn}:*",
                principal_account,
                f"{source} (awslogs-create-group; log group {group} does not exist in {where})",
                aws_error=CREATE_GROUP_ERROR,
            )
        )
    return found


def _log_group_key_row(container: Mapping[str, Any], *, source: str, scope: Scope) -> list[Requirement]:
    """A row saying what applies to an awslogs group encrypted with a KMS key (nothing of the execution role)."""
    config = container.get("logConfiguration") or {}
    if config.get("logDriver") != "awslogs":
        return []
    options = config.get("options") or {}
    group = str(options.get("awslogs-group", ""))
    log_region = str(options.get("awslogs-region") or scope.region)
    key = scope.facts.log_group_kms_key(group, scope.principal_account, log_region)
    if not key:
        return []
    return [
        Requirement(
            "logs-kms",
            NO_IAM,
            key,
            scope.principal_account,
            f"{source} (log group {group} encryption key)",
            principal=NOBODY,
            note=f"log group {group} is encrypted with KMS key {key}: CloudWatch Logs uses the key itself, so "
            "the execution role needs no kms permission, but the key policy must allow the service principal "
            f"logs.{log_region}.amazonaws.com and the key must stay enabled, or writes fail; neither was checked "
            "(Amazon CloudWatch Logs User Guide, 'Encrypt log data in CloudWatch Logs using AWS KMS', "
            "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)",
        )
    ]


def checked_rows(
    task_definition: Mapping[str, Any], facts: Facts, *, principal_account: str, region: str
) -> list[Requirement]:
    """Rows that need no permission and say what was (and was not) checked: images outside private ECR (no IAM
    needed; existence not checked) and awslogs groups encrypted with a KMS key. Their principal is :data:`NOBODY`;
    :func:`fargate_harness.preflight.analysis.decide` reports them allowed, with their note as the reason."""
    scope = Scope(facts, principal_account, region, task_partition(task_definition))
    found: list[Requirement] = []
    for container in task_definition.get("containerDefinitions", []):
        name = container.get("name", "?")
        image = str(container.get("image", ""))
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if ecr.parse_image_uri(image) is None:
            found += _unchecked_image(image, source=f"container {name} image", scope=scope, credentials=credentials)
        found += _log_group_key_row(container, source=f"container {name} awslogs", scope=scope)
    return list({(r.kind, r.resource, r.source): r for r in found}.values())


def _environment_file_requirements(value: str, *, source: str, scope: Scope) -> list[Requirement]:
    """GetObject on the object and GetBucketLocation on the bucket (plus kms:Decrypt for SSE-KMS)."""
    try:
        obj = s3.parse_object_arn(value)
    except ValueError:
        return [
            Requirement(
                "environment-file",
                "s3:GetObject",
                value,
                scope.principal_account,
                source,
                exists=False,
                missing=f"{value!r} is not an S3 object ARN (arn:aws:s3:::bucket/key)",
                fix_hint=f"give the object's ARN in {source}",
            )
        ]
    facts = scope.facts
    owner = facts.bucket_owner(obj.bucket)
    if owner is None:
        return [
            Requirement(
                "environment-file",
                "s3:GetObject",
                obj.arn,
                scope.principal_account,
                source,
                exists=False,
                missing=f"bucket {obj.bucket} does not exist in any account the target can read",
            )
        ]
    metadata = facts.object_metadata(obj.bucket, obj.key)
    missing = "" if metadata is not None else f"object {obj.key} does not exist in bucket {obj.bucket}"
    found = [
        Requirement(
            "environment-file",
            "s3:GetObject",
            obj.arn,
            owner,
            source,
            resource_policy_kind="bucket",
            exists=metadata is not None,
            missing=missing,
        ),
        Requirement(
            "environment-file",
            "s3:GetBucketLocation",
            obj.bucket_arn,
            owner,
            source,
            resource_policy_kind="bucket",
            exists=True,
        ),
    ]
    if metadata is not None and metadata.get("ServerSideEncryption") == "aws:kms":
        region = str(metadata.get("BucketRegion") or scope.region)
        kms = _kms_requirement(
            str(metadata.get("SSEKMSKeyId") or "alias/aws/s3"),
            facts=facts,
            service="s3",
            region=region,
            account=owner,
            principal_account=scope.principal_account,
            source=f"{source} (SSE-KMS key)",
            encryption_context={"aws:s3:arn": obj.arn},
        )
        if kms:
            found.append(kms)
    return found


def _value_from_requirements(value_from: str, *, source: str, scope: Scope) -> list[Requirement]:
    """A ``secrets`` or ``secretOptions`` entry: a Secrets Manager secret, or an SSM parameter."""
    if is_secrets_manager_arn(value_from):
        return _secret_requirements(value_from, kind="secret", source=source, scope=scope)
    return _parameter_requirements(value_from, source=source, scope=scope)


#: FireLens output plugins (``Name``) and what they call with the task role.
FIRELENS_OUTPUTS: Mapping[str, str] = {
    "cloudwatch": "cloudwatch",
    "cloudwatch_logs": "cloudwatch",
    "firehose": "firehose",
    "kinesis_firehose": "firehose",
    "kinesis": "kinesis",
    "kinesis_streams": "kinesis",
    "s3": "s3",
}


def _firelens_requirements(container: Mapping[str, Any], *, source: str, scope: Scope) -> list[Requirement]:
    """What the log router's output for this container calls with the task role (not fatal for the start)."""
    config = container.get("logConfiguration") or {}
    if config.get("logDriver") != "awsfirelens":
        return []
    options = config.get("options") or {}
    plugin = FIRELENS_OUTPUTS.get(str(options.get("Name", "")).lower())
    if plugin is None:
        return []  # a partner or HTTP output: no AWS permission involved
    account, partition = scope.principal_account, scope.partition
    region = str(options.get("region") or scope.region)
    where = f"{source} (FireLens output {options.get('Name')})"

    def need(action: str, resource: str, **extra: Any) -> Requirement:
        return Requirement("firelens-output", action, resource, account, where, principal=TASK, fatal=False, **extra)

    if plugin == "cloudwatch":
        group = str(options.get("log_group_name", ""))
        stream = str(
            options.get("log_stream_name")
            or f"{options.get('log_stream_prefix', '')}{container.get('name')}-firelens-{SAMPLE_TASK_ID}"
        )
        group_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{group}"
        create = str(options.get("auto_create_group", "")).lower() in ("true", "on")
        exists = create or scope.facts.log_group_exists(group, account, region)
        missing = "" if exists else f"log group {group} does not exist in {account}/{region}"
        found = [
            need(action, f"{group_arn}:log-stream:{stream}", exists=exists, missing=missing)
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        ]
        found.append(need("logs:DescribeLogStreams", f"{group_arn}:*", exists=exists, missing=missing))
        if create:
            found.append(need("logs:CreateLogGroup", f"{group_arn}:*"))
        return found
    if plugin == "firehose":
        stream = options.get("delivery_stream", "")
        return [need("firehose:PutRecordBatch", f"arn:{partition}:firehose:{region}:{account}:deliverystream/{stream}")]
    if plugin == "kinesis":
        stream = options.get("stream", "")
        return [need("kinesis:PutRecords", f"arn:{partition}:kinesis:{region}:{account}:stream/{stream}")]
    bucket = options.get("bucket", "")
    key = f"fluent-bit-logs/{container.get('name')}-firelens-{SAMPLE_TASK_ID}/sample"
    return [need("s3:PutObject", f"arn:{partition}:s3:::{bucket}/{key}")]


def _efs_requirements(task_definition: Mapping[str, Any], *, scope: Scope) -> list[Requirement]:
    """ClientMount (and ClientWrite unless every mount is read-only) for EFS volumes with IAM authorization."""
    found: list[Requirement] = []
    containers = task_definition.get("containerDefinitions", [])
    for volume in task_definition.get("volumes") or []:
        config = volume.get("efsVolumeConfiguration") or {}
        auth = config.get("authorizationConfig") or {}
        if not config or str(auth.get("iam", "DISABLED")).upper() != "ENABLED":
            continue
        fs_id = str(config.get("fileSystemId", ""))
        account, region, partition = scope.principal_account, scope.region, scope.partition
        arn = f"arn:{partition}:elasticfilesystem:{region}:{account}:file-system/{fs_id}"
        where = f"volume {volume.get('name')} (EFS {fs_id}, IAM authorization)"
        context: dict[str, str | list[str]] = {"elasticfilesystem:AccessedViaMountTarget": "true"}
        if auth.get("accessPointId"):
            context["elasticfilesystem:AccessPointArn"] = (
                f"arn:{partition}:elasticfilesystem:{region}:{account}:access-point/{auth['accessPointId']}"
            )
        exists = scope.facts.file_system(fs_id, account, region) is not None
        missing = "" if exists else f"EFS file system {fs_id} does not exist in {account}/{region}"
        mounts = [
            m for c in containers for m in c.get("mountPoints") or [] if m.get("sourceVolume") == volume.get("name")
        ]
        actions = ["elasticfilesystem:ClientMount"]
        if any(not m.get("readOnly") for m in mounts):
            actions.append("elasticfilesystem:ClientWrite")
        found += [
            Requirement(
                "efs",
                action,
                arn,
                account,
                where,
                context=context,
                resource_policy_kind="efs",
                exists=exists,
                missing=missing,
                principal=TASK,
            )
            for action in actions
        ]
    return found


def task_partition(task_definition: Mapping[str, Any]) -> str:
    """The partition of the task definition's ARN (``aws`` when it has none yet)."""
    arn = str(task_definition.get("taskDefinitionArn") or "")
    return arn_parts(arn)[0] if arn.startswith("arn:") else "aws"


def derive(
    task_definition: Mapping[str, Any],
    facts: Facts,
    *,
    principal_account: str,
    region: str,
    images: str = "require",
) -> list[Requirement]:
    """Every requirement of the task definition's containers and volumes, in container order, without duplicates.

    ``images="assume-pushed"`` skips the check that each ECR image's tag or digest is in its repository
    (for pipelines that push images after the infrastructure).
    """
    if images not in ("require", "assume-pushed"):
        raise ValueError(f"images must be 'require' or 'assume-pushed', not {images!r}")
    scope = Scope(facts, principal_account, region, task_partition(task_definition), images)
    found: list[Requirement] = []
    for container in task_definition.get("containerDefinitions", []):
        name = container.get("name", "?")
        found += _image_requirements(container.get("image", ""), source=f"container {name} image", scope=scope)
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            where = f"container {name} repositoryCredentials"
            found += _secret_requirements(credentials, kind="registry-credentials", source=where, scope=scope)
        for env_file in container.get("environmentFiles") or []:
            where = f"container {name} environmentFiles {env_file.get('value')}"
            found += _environment_file_requirements(str(env_file.get("value", "")), source=where, scope=scope)
        for secret in container.get("secrets", []):
            where = f"container {name} secret {secret.get('name')}"
            found += _value_from_requirements(secret.get("valueFrom", ""), source=where, scope=scope)
        for option in (container.get("logConfiguration") or {}).get("secretOptions") or []:
            where = f"container {name} logConfiguration secretOptions {option.get('name')}"
            found += _value_from_requirements(option.get("valueFrom", ""), source=where, scope=scope)
        found += _log_requirements(container, source=f"container {name} awslogs", scope=scope)
        found += _firelens_requirements(container, source=f"container {name} awsfirelens", scope=scope)
    found += _efs_requirements(task_definition, scope=scope)
    # A reference (secret, parameter, registry credentials) is judged on its own: one row per container and
    # variable, since two references to one secret may differ in JSON key, stage or version id.
    unique: dict[tuple[str, ...], Requirement] = {}
    for requirement in found:
        per_reference = requirement.kind in REFERENCE_KINDS and requirement.action in REFERENCE_ACTIONS
        unique.setdefault((*requirement.key, requirement.source if per_reference else ""), requirement)
    return list(unique.values())


#: Requirement kinds that come from one reference of the task definition, and the calls that read them.
REFERENCE_KINDS = frozenset({"secret", "parameter", "registry-credentials"})
REFERENCE_ACTIONS = frozenset({"secretsmanager:GetSecretValue", "ssm:GetParameters"})


def source_arn(task_definition: Mapping[str, Any], *, account: str, region: str, cluster: str | None) -> str:
    """The ``aws:SourceArn`` ECS sends when it assumes a task's roles: the task's ARN in ``cluster``."""
    arn = str(task_definition.get("taskDefinitionArn") or "")
    partition = arn_parts(arn)[0] if arn.startswith("arn:") else "aws"
    return f"arn:{partition}:ecs:{region}:{account}:task/{cluster or SAMPLE_CLUSTER}/{SAMPLE_TASK_ID}"


def derive_roles(
    task_definition: Mapping[str, Any],
    *,
    principal_account: str,
    region: str,
    cluster: str | None = None,
    deployer: str | None = None,
) -> list[Requirement]:
    """ECS assuming both roles (``sts:AssumeRole`` as ``ecs-tasks.amazonaws.com``), and the deployer's calls.

    The request context is what ECS sends (Amazon ECS Developer Guide, "Amazon ECS task execution IAM role",
    confused deputy prevention): ``aws:SourceAccount`` = the task's account, ``aws:SourceArn`` = the task's
    ARN. Without ``cluster`` a sample cluster name stands in, and a trust condition pinning one cluster is
    answered conservatively (see :func:`fargate_harness.preflight.analysis.decide`).
    """
    roles: dict[str, str] = {}  # role ARN -> the first field naming it
    for field_name in ("executionRoleArn", "taskRoleArn"):
        if task_definition.get(field_name):
            roles.setdefault(str(task_definition[field_name]), field_name)
    context: dict[str, str | list[str]] = {
        "aws:SourceAccount": principal_account,
        "aws:SourceArn": source_arn(task_definition, account=principal_account, region=region, cluster=cluster),
    }
    found: list[Requirement] = []
    for role_arn, field_name in roles.items():
        found.append(
            Requirement(
                "trust",
                "sts:AssumeRole",
                role_arn,
                arn_parts(role_arn)[3],
                f"{field_name} (trust policy)",
                context=context,
                resource_policy_kind="trust",
                principal=ECS_TASKS,
            )
        )
    if deployer:
        register = Requirement(
            "deployer", "ecs:RegisterTaskDefinition", "*", principal_account, "deployer", principal=DEPLOYER
        )
        found.append(register)
        for role_arn, field_name in roles.items():
            found.append(
                Requirement(
                    "deployer",
                    "iam:PassRole",
                    role_arn,
                    arn_parts(role_arn)[3],
                    f"deployer passing {field_name}",
                    context={"iam:PassedToService": ECS_TASKS},
                    principal=DEPLOYER,
                )
            )
    return found
