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
  ``logs:CreateLogGroup`` when ``awslogs-create-group`` is ``true``;
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
    # logs-create-group | environment-file | firelens-output | efs | trust | deployer
    kind: str
    action: str
    resource: str
    resource_owner: str
    source: str  # where in the task definition it comes from, for people
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    resource_policy_kind: str = "default"  # default | kms | public | trust | efs | bucket
    exists: bool | None = None  # False when the referenced resource was looked up and is missing
    missing: str = ""  # what is missing, in words
    principal: str = EXECUTION  # EXECUTION | TASK | DEPLOYER | ECS_TASKS: who makes the call
    fatal: bool = True  # False: the task starts anyway (a FireLens output that cannot deliver)
    fix_hint: str = ""  # the fix when the resource is missing or unusable (instead of "create it")

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
    unique: dict[tuple[str, str, str, str], Requirement] = {}
    for requirement in found:
        unique.setdefault(requirement.key, requirement)
    return list(unique.values())


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
