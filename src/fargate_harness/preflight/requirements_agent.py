"""What the ECS agent and the Fargate platform do with the execution role besides reading references: pull
images (ECR, pull through cache), create and write awslogs streams, download environment files from S3; and the
rows that need no IAM (images outside private ECR, KMS-encrypted log groups)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fargate_harness.aws import ecr, s3
from fargate_harness.aws._policy import wildcard_match
from fargate_harness.preflight.requirements_model import (
    AWS_PUBLIC_REGISTRIES,
    AWS_PUBLIC_REPOSITORIES,
    ECR_PULL_ACTIONS,
    NO_IAM,
    NOBODY,
    SAMPLE_TASK_ID,
    Facts,
    Requirement,
    Scope,
    task_partition,
)
from fargate_harness.preflight.requirements_references import PRIVATE_AUTH_DOC, SECRETS_DOC, kms_requirement


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


def image_requirements(image: str, *, source: str, scope: Scope) -> list[Requirement]:
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
    if rule is None:  # the target could not list it (an emulator cannot hold rules): the configuration's own
        configured = [
            dict(r) for r in scope.configured_rules if str(r.get("registryId") or "") in ("", parsed.account_id)
        ]
        rule = ecr.pull_through_rule_for(parsed.repository_name, configured)
    exists = facts.repository_exists(parsed.repository_name, parsed.account_id, parsed.region)
    if rule is not None:
        prefix = str(rule.get("ecrRepositoryPrefix"))
        declared = f", {rule['terraformAddress']}" if rule.get("terraformAddress") else ""
        where = f"{source} (pull through cache rule {prefix}{declared})"
        covers = repository.rsplit(":repository/", 1)[0] + f":repository/{prefix}/*"
        found += [
            Requirement(
                "ecr-pull",
                action,
                repository,
                parsed.account_id,
                source,
                exists=True if exists else None,
                covers=covers,
            )
            for action in ECR_PULL_ACTIONS
        ]
        # Amazon ECR User Guide, "IAM permissions required to sync an upstream registry with an Amazon ECR private
        # registry": BatchImportUpstreamImage to import, CreateRepository while the cache repository does not exist
        found.append(
            Requirement(
                "ecr-pull-through",
                "ecr:BatchImportUpstreamImage",
                repository,
                parsed.account_id,
                where,
                covers=covers,
            )
        )
        if not exists:  # the first pull creates the repository
            found.append(
                Requirement(
                    "ecr-pull-through", "ecr:CreateRepository", repository, parsed.account_id, where, covers=covers
                )
            )
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


#: What ``logs:CreateLogGroup`` is authorized on, after the group's ARN: an empty stream name. Fargate's AccessDenied
#: for the driver's call names ``arn:aws:logs:<region>:<account>:log-group:<name>:log-stream:``; the service
#: authorization reference files CreateLogGroup under the ``log-group`` resource type
#: (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html) and the
#: CloudWatch Logs user guide has IAM policies name a group as ``log-group:<name>:*`` for such actions
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html). Both a
#: ``<name>:*`` and a ``<name>:log-stream:*`` grant match it; the bare group ARN does not (the conservative reading
#: of the two documents, and the one the observed message shows).
CREATE_GROUP_RESOURCE = ":log-stream:"


def log_requirements(container: Mapping[str, Any], *, source: str, scope: Scope) -> list[Requirement]:
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
                f"{group_arn}{CREATE_GROUP_RESOURCE}",
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
                f"{group_arn}{CREATE_GROUP_RESOURCE}",
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


def environment_file_requirements(value: str, *, source: str, scope: Scope) -> list[Requirement]:
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
        kms = kms_requirement(
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


#: The documents the agent's actions come from.
_EXECUTION_ROLE_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"
_PULL_THROUGH_DOC = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html"
_ENV_FILES_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html"
#: Every action the ECS agent or the Fargate platform performs with the execution role, and what for (Amazon ECS
#: Developer Guide, "Amazon ECS task execution IAM role", and the pages it points to). An Allow of any other action
#: on an execution role is misplaced (the agent never calls it); one of these that no task definition needs is an
#: unused grant.
AGENT_ACTIONS: Mapping[str, str] = {
    **dict.fromkeys(
        ("ecr:GetAuthorizationToken", *ECR_PULL_ACTIONS), f"pulling images from Amazon ECR ({_EXECUTION_ROLE_DOC})"
    ),
    **dict.fromkeys(
        ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:TagResource"),
        f"pulling through an ECR pull through cache rule ({_PULL_THROUGH_DOC})",
    ),
    **dict.fromkeys(
        ("logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogGroup"),
        f"the awslogs log driver ({AWSLOGS_DOC})",
    ),
    "secretsmanager:GetSecretValue": f"secrets and repositoryCredentials in Secrets Manager ({SECRETS_DOC})",
    "ssm:GetParameters": f"secrets in Parameter Store ({SECRETS_DOC})",
    "kms:Decrypt": f"secrets, parameters and environment files encrypted with a customer managed key ({SECRETS_DOC})",
    **dict.fromkeys(("s3:GetObject", "s3:GetBucketLocation"), f"environmentFiles in Amazon S3 ({_ENV_FILES_DOC})"),
}


def agent_purposes(action: str) -> list[str]:
    """What the agent performs the actions an Allow's ``action`` (a pattern such as ``s3:Get*``) covers for, in
    :data:`AGENT_ACTIONS` order; empty when it covers none (the agent never calls it)."""
    found = [why for name, why in AGENT_ACTIONS.items() if wildcard_match(action, name, case_sensitive=False)]
    return list(dict.fromkeys(found))
