"""Sidecars AWS documents for Fargate tasks, and what they call with the task role.

A task role that allows ``logs:CreateLogStream`` looks like a misplaced execution-role permission, unless a
container of the task is a sidecar that calls CloudWatch Logs itself with the task role. Which sidecar a
container is, is decided from the task definition alone: the image's repository name (wherever it is pulled
from: Docker Hub, Amazon ECR Public, a private mirror) and FireLens's ``firelensConfiguration``.

Sources (the actions each guide puts on the task role):

- CloudWatch agent: ``CloudWatchAgentServerPolicy`` (Amazon CloudWatch User Guide, "Deploy the CloudWatch agent to
  collect EC2 instance-level metrics on Amazon ECS" and "Set up the CloudWatch agent ... on Amazon ECS clusters",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights-Prometheus-install-ECS.html);
- FireLens log routers (``aws-for-fluent-bit``, any ``firelensConfiguration``): the outputs use the task role (Amazon
  ECS Developer Guide, "Send Amazon ECS logs to an AWS service or AWS Partner",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html); with a custom configuration
  file the outputs (CloudWatch Logs, S3, Kinesis Data Firehose, Kinesis Data Streams, KMS for encrypted
  destinations) are in a file the harness cannot read;
- AWS X-Ray daemon: ``AWSXRayDaemonWriteAccess`` (AWS X-Ray Developer Guide, "Running the X-Ray daemon on Amazon
  ECS", https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon-ecs.html);
- AWS Distro for OpenTelemetry collector (Amazon ECS Developer Guide, "Required IAM permissions for AWS Distro for
  OpenTelemetry integration with AWS X-Ray / Amazon CloudWatch",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/trace-data.html);
- AWS App Mesh Envoy: ``appmesh:StreamAggregatedResources`` (AWS App Mesh User Guide, "Proxy authorization",
  https://docs.aws.amazon.com/app-mesh/latest/userguide/proxy-authorization.html), plus ACM for TLS and X-Ray
  when tracing is on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fargate_harness.aws._policy import wildcard_match

__all__ = ["SIDECARS", "Sidecar", "SidecarKind", "expected_by", "find_sidecars", "image_repository"]

_XRAY = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
)
_LOGS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
    "logs:DescribeLogGroups",
    "logs:PutRetentionPolicy",
)


@dataclass(frozen=True)
class SidecarKind:
    """One sidecar AWS documents: how its image is recognised, what it calls with the task role, where that is
    written down, and what decides its outputs."""

    label: str
    repositories: tuple[str, ...]  # the last part(s) of the image repository name
    actions: tuple[str, ...]  # action patterns it may call with the task role
    doc: str
    configured_by: str  # what decides which resources it uses


SIDECARS: tuple[SidecarKind, ...] = (
    SidecarKind(
        "CloudWatch agent",
        ("cloudwatch-agent",),
        ("cloudwatch:PutMetricData", "ec2:DescribeVolumes", "ec2:DescribeTags", *_LOGS, *_XRAY, "ssm:GetParameter"),
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights-Prometheus-install-ECS.html",
        "its JSON configuration (CW_CONFIG_CONTENT, or an SSM parameter), which names the log groups and metrics",
    ),
    SidecarKind(
        "X-Ray daemon",
        ("aws-xray-daemon", "xray-daemon"),
        _XRAY,
        "https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon-ecs.html",
        "the traces the application sends it",
    ),
    SidecarKind(
        "AWS Distro for OpenTelemetry collector",
        ("aws-otel-collector", "adot-collector"),
        (*_LOGS, "cloudwatch:PutMetricData", *_XRAY, "ssm:GetParameters", "aps:RemoteWrite"),
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/trace-data.html",
        "its collector configuration (AOT_CONFIG_CONTENT, --config, or an SSM parameter), which names the exporters",
    ),
    SidecarKind(
        "App Mesh Envoy",
        ("aws-appmesh-envoy",),
        (
            "appmesh:StreamAggregatedResources",
            "acm:ExportCertificate",
            "acm-pca:GetCertificateAuthorityCertificate",
            *_XRAY,
        ),
        "https://docs.aws.amazon.com/app-mesh/latest/userguide/proxy-authorization.html",
        "the mesh's virtual node configuration (APPMESH_RESOURCE_ARN)",
    ),
)
#: A FireLens log router's outputs (Fluent Bit's cloudwatch_logs, s3, kinesis_firehose, kinesis_streams and their
#: older Go plugins), and KMS for destinations encrypted with a customer managed key.
FIRELENS = SidecarKind(
    "FireLens log router",
    ("aws-for-fluent-bit",),
    (
        *_LOGS,
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetBucketLocation",
        "firehose:PutRecordBatch",
        "kinesis:PutRecords",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ),
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html",
    "its custom configuration file",
)


@dataclass(frozen=True)
class Sidecar:
    """A sidecar found in a task definition: its container, kind, image, and a note when a file the harness cannot
    read decides what it calls."""

    container: str
    kind: SidecarKind
    image: str
    note: str = ""

    def uses(self, action: str) -> bool:
        """Whether this sidecar may call ``action`` with the task role. A FireLens router without a custom
        configuration calls only the outputs of its containers' ``awsfirelens`` options, which preflight derives
        and judges as task-role requirements: it expects nothing more."""
        if self.kind is FIRELENS and not self.note:
            return False
        return any(wildcard_match(pattern, action, case_sensitive=False) for pattern in self.kind.actions)


def image_repository(image: str) -> str:
    """The repository path of an image reference, without registry host, tag or digest (``amazon/cloudwatch-agent``
    for ``public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest`` gives ``cloudwatch-agent/cloudwatch-agent``)."""
    name = image.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rfind(":")]
    return name.lower()


def _matches(repository: str, names: Iterable[str]) -> bool:
    """Whether the repository's last path part is one of ``names`` (``acme/cloudwatch-agent-exporter`` is not the
    CloudWatch agent)."""
    return repository.rsplit("/", 1)[-1] in set(names)


def find_sidecars(task_definition: Mapping[str, Any]) -> list[Sidecar]:
    """The documented sidecars among the task definition's containers (recognised by image repository name and
    ``firelensConfiguration``), in container order."""
    found: list[Sidecar] = []
    for container in task_definition.get("containerDefinitions") or []:
        name = str(container.get("name", "?"))
        image = str(container.get("image", ""))
        repository = image_repository(image)
        firelens = container.get("firelensConfiguration") or {}
        if firelens or _matches(repository, FIRELENS.repositories):
            options = firelens.get("options") or {}
            config = options.get("config-file-value")
            environment = {str(e.get("name")): str(e.get("value")) for e in container.get("environment") or []}
            init = any(key.startswith("aws_fluent_bit_init_") for key in environment)
            note = ""
            if config or init:
                where = f"{options.get('config-file-type', 'file')} {config}" if config else "its init S3 files"
                note = (
                    f"container {name} (FireLens log router, image {image}) reads a custom configuration ({where}) "
                    "the harness cannot read: its outputs (CloudWatch Logs, S3, Kinesis Data Firehose, Kinesis Data "
                    "Streams, KMS) use the task role and were not checked; the task role's permissions for them are "
                    f"expected, not misplaced ({FIRELENS.doc})"
                )
            found.append(Sidecar(name, FIRELENS, image, note))
            continue
        for kind in SIDECARS:
            if _matches(repository, kind.repositories):
                note = (
                    f"container {name} ({kind.label}, image {image}) calls AWS with the task role; which resources "
                    f"is decided by {kind.configured_by}, which the harness does not read: its task-role permissions "
                    f"are expected, not misplaced, and were not checked ({kind.doc})"
                )
                found.append(Sidecar(name, kind, image, note))
                break
    return found


def expected_by(action: str, sidecars: Sequence[Sidecar]) -> Sidecar | None:
    """The first sidecar that may call ``action`` with the task role (None when no sidecar does)."""
    return next((sidecar for sidecar in sidecars if sidecar.uses(action)), None)
