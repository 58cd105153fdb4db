"""What the task role does for the task: FireLens outputs of the log router, and EFS volumes with IAM
authorization."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fargate_harness.preflight.requirements_model import SAMPLE_TASK_ID, TASK, Requirement, Scope

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


def firelens_requirements(container: Mapping[str, Any], *, source: str, scope: Scope) -> list[Requirement]:
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
            # the same API call as the awslogs driver's, authorized on the same ARN (requirements_agent)
            found.append(need("logs:CreateLogGroup", f"{group_arn}:log-stream:"))
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


def efs_requirements(task_definition: Mapping[str, Any], *, scope: Scope) -> list[Requirement]:
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
