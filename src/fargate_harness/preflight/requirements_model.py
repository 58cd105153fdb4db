"""The requirement model of the preflight: one permission a task needs to start, who needs it, and the facts it
is derived from (see :mod:`fargate_harness.preflight.requirements` for what the agent does at task start)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fargate_harness.aws import secrets

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
    #: A resource pattern AWS documents granting this call on, wider than ``resource`` (the repositories of a pull
    #: through cache rule: ``repository/<prefix>/*``): the fix names it, and a grant within it is no over-grant.
    covers: str = ""

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
    #: Pull through cache rules the configuration declares (``aws_ecr_pull_through_cache_rule``), in
    #: DescribePullThroughCacheRules' shape: used when the target cannot hold or list them (an emulator).
    configured_rules: tuple[Mapping[str, Any], ...] = ()


def arn_parts(arn: str) -> tuple[str, str, str, str, str]:
    """(partition, service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"{arn!r} is not an ARN")
    return parts[1], parts[2], parts[3], parts[4], parts[5]


def task_partition(task_definition: Mapping[str, Any]) -> str:
    """The partition of the task definition's ARN (``aws`` when it has none yet)."""
    arn = str(task_definition.get("taskDefinitionArn") or "")
    return arn_parts(arn)[0] if arn.startswith("arn:") else "aws"
