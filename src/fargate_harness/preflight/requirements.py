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

from collections.abc import Mapping, Sequence
from typing import Any

from fargate_harness.preflight.requirements_agent import (
    AGENT_ACTIONS,
    AWSLOGS_DOC,
    CREATE_GROUP_ERROR,
    CREATE_GROUP_SENTENCE,
    PUBLIC_REGISTRIES,
    agent_purposes,
    checked_rows,
    environment_file_requirements,
    image_requirements,
    log_requirements,
)
from fargate_harness.preflight.requirements_model import (
    AWS_MANAGED_KEY_ALIASES,
    AWS_PUBLIC_REGISTRIES,
    AWS_PUBLIC_REPOSITORIES,
    DEPLOYER,
    ECR_PULL_ACTIONS,
    ECS_TASKS,
    EXECUTION,
    NO_IAM,
    NOBODY,
    REFERENCE_SOURCE,
    SAMPLE_CLUSTER,
    SAMPLE_TASK_ID,
    SECRETS_MANAGER_REFERENCE,
    TASK,
    Facts,
    Requirement,
    Scope,
    arn_parts,
    task_partition,
)
from fargate_harness.preflight.requirements_references import (
    ASM_ERROR,
    PRIVATE_AUTH_DOC,
    REGISTRY_AUTH_ERROR,
    SECRETS_DOC,
    SSM_ERROR,
    is_secrets_manager_arn,
    parameter_location,
    parameter_value_froms,
    secret_requirements,
    value_from_requirements,
)
from fargate_harness.preflight.requirements_task_role import (
    FIRELENS_OUTPUTS,
    efs_requirements,
    firelens_requirements,
)

__all__ = [
    "AGENT_ACTIONS",
    "ASM_ERROR",
    "AWSLOGS_DOC",
    "AWS_MANAGED_KEY_ALIASES",
    "AWS_PUBLIC_REGISTRIES",
    "AWS_PUBLIC_REPOSITORIES",
    "CREATE_GROUP_ERROR",
    "CREATE_GROUP_SENTENCE",
    "DEPLOYER",
    "ECR_PULL_ACTIONS",
    "ECS_TASKS",
    "EXECUTION",
    "FIRELENS_OUTPUTS",
    "NOBODY",
    "NO_IAM",
    "PRIVATE_AUTH_DOC",
    "PUBLIC_REGISTRIES",
    "REFERENCE_ACTIONS",
    "REFERENCE_KINDS",
    "REFERENCE_SOURCE",
    "REGISTRY_AUTH_ERROR",
    "SAMPLE_CLUSTER",
    "SAMPLE_TASK_ID",
    "SECRETS_DOC",
    "SECRETS_MANAGER_REFERENCE",
    "SSM_ERROR",
    "TASK",
    "Facts",
    "Requirement",
    "Scope",
    "agent_purposes",
    "arn_parts",
    "checked_rows",
    "derive",
    "derive_roles",
    "is_secrets_manager_arn",
    "parameter_location",
    "parameter_value_froms",
    "source_arn",
    "task_partition",
]


def derive(
    task_definition: Mapping[str, Any],
    facts: Facts,
    *,
    principal_account: str,
    region: str,
    images: str = "require",
    pull_through_rules: Sequence[Mapping[str, Any]] = (),
) -> list[Requirement]:
    """Every requirement of the task definition's containers and volumes, in container order, without duplicates.

    ``images="assume-pushed"`` skips the check that each ECR image's tag or digest is in its repository
    (for pipelines that push images after the infrastructure). ``pull_through_rules`` are the configuration's
    own (:attr:`fargate_harness.preflight.places.Places.pull_through_rules`), used for a registry whose rules the
    target cannot list.
    """
    if images not in ("require", "assume-pushed"):
        raise ValueError(f"images must be 'require' or 'assume-pushed', not {images!r}")
    scope = Scope(facts, principal_account, region, task_partition(task_definition), images, tuple(pull_through_rules))
    found: list[Requirement] = []
    for container in task_definition.get("containerDefinitions", []):
        name = container.get("name", "?")
        found += image_requirements(container.get("image", ""), source=f"container {name} image", scope=scope)
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            where = f"container {name} repositoryCredentials"
            found += secret_requirements(credentials, kind="registry-credentials", source=where, scope=scope)
        for env_file in container.get("environmentFiles") or []:
            where = f"container {name} environmentFiles {env_file.get('value')}"
            found += environment_file_requirements(str(env_file.get("value", "")), source=where, scope=scope)
        for secret in container.get("secrets", []):
            where = f"container {name} secret {secret.get('name')}"
            found += value_from_requirements(secret.get("valueFrom", ""), source=where, scope=scope)
        for option in (container.get("logConfiguration") or {}).get("secretOptions") or []:
            where = f"container {name} logConfiguration secretOptions {option.get('name')}"
            found += value_from_requirements(option.get("valueFrom", ""), source=where, scope=scope)
        found += log_requirements(container, source=f"container {name} awslogs", scope=scope)
        found += firelens_requirements(container, source=f"container {name} awsfirelens", scope=scope)
    found += efs_requirements(task_definition, scope=scope)
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
