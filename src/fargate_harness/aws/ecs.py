"""Read ECS task definitions and check their roles, secrets and log configuration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fargate_harness.aws._policy import fail, raise_if_not_found

__all__ = [
    "assert_awslogs",
    "assert_task_definition",
    "awslogs_options",
    "get_task_definition",
    "secret_references",
    "task_definition_label",
]

# ECS answers ClientException ("Unable to describe task definition.") for a missing task definition.
_NOT_FOUND = ("ClientException", "ResourceNotFoundException")


def get_task_definition(ecs: Any, arn_or_family: str) -> dict[str, Any]:
    """Return the ``taskDefinition`` dict for an ARN, ``family`` (latest ACTIVE) or ``family:revision``."""
    try:
        response = ecs.describe_task_definition(taskDefinition=arn_or_family)
    except ecs.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"ECS task definition {arn_or_family!r}")
        raise
    return dict(response["taskDefinition"])


def task_definition_label(td: Mapping[str, Any]) -> str:
    """Return ``family:revision`` for a task definition."""
    return f"{td.get('family', '<no family>')}:{td.get('revision', '<no revision>')}"


def _containers(td: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(td.get("containerDefinitions") or [])


def assert_task_definition(
    td: Mapping[str, Any],
    *,
    scenario: str,
    execution_role_arn: str,
    task_role_arn: str | None,
    compatibilities: Sequence[str] = ("FARGATE",),
    network_mode: str = "awsvpc",
) -> None:
    """Check the roles, launch-type compatibilities, network mode and task-level cpu/memory.

    ``task_role_arn=None`` means the task definition must have no task role.
    """
    resource = f"ECS task definition {task_definition_label(td)}"
    actual_execution = td.get("executionRoleArn")
    if actual_execution != execution_role_arn:
        fail(scenario, resource, f"executionRoleArn {execution_role_arn!r}", repr(actual_execution))
    actual_task_role = td.get("taskRoleArn") or None
    if actual_task_role != task_role_arn:
        expected_task = "no taskRoleArn" if task_role_arn is None else f"taskRoleArn {task_role_arn!r}"
        fail(scenario, resource, expected_task, repr(actual_task_role))
    actual_compat = sorted(td.get("requiresCompatibilities") or [])
    if actual_compat != sorted(compatibilities):
        fail(scenario, resource, f"requiresCompatibilities {sorted(compatibilities)}", actual_compat)
    actual_mode = td.get("networkMode")
    if actual_mode != network_mode:
        fail(scenario, resource, f"networkMode {network_mode!r}", repr(actual_mode))
    for field in ("cpu", "memory"):
        if not td.get(field):
            fail(scenario, resource, f"task-level {field} set", repr(td.get(field)))


def secret_references(td: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return ``(container name, environment variable name, valueFrom)`` for every container secret."""
    found: list[tuple[str, str, str]] = []
    for container in _containers(td):
        for secret in container.get("secrets") or []:
            found.append((str(container.get("name")), str(secret["name"]), str(secret["valueFrom"])))
    return found


def awslogs_options(td: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Return container name -> log options for the containers that use the ``awslogs`` log driver."""
    found: dict[str, dict[str, str]] = {}
    for container in _containers(td):
        config = container.get("logConfiguration") or {}
        if config.get("logDriver") == "awslogs":
            found[str(container.get("name"))] = {str(k): str(v) for k, v in (config.get("options") or {}).items()}
    return found


def assert_awslogs(td: Mapping[str, Any], *, scenario: str, log_group_name: str, region: str) -> None:
    """Check each container logs via ``awslogs`` to ``log_group_name`` in ``region`` with a stream prefix."""
    label = f"ECS task definition {task_definition_label(td)}"
    containers = _containers(td)
    if not containers:
        fail(scenario, label, "at least one container", "no containerDefinitions")
    for container in containers:
        resource = f"{label} container {container.get('name')}"
        config = container.get("logConfiguration") or {}
        driver = config.get("logDriver")
        if driver != "awslogs":
            fail(scenario, resource, "logDriver 'awslogs'", repr(driver))
        options = config.get("options") or {}
        group = options.get("awslogs-group")
        if group != log_group_name:
            fail(scenario, resource, f"awslogs-group {log_group_name!r}", repr(group))
        actual_region = options.get("awslogs-region")
        if actual_region != region:
            fail(scenario, resource, f"awslogs-region {region!r}", repr(actual_region))
        prefix = options.get("awslogs-stream-prefix")
        if not prefix:
            fail(scenario, resource, "a non-empty awslogs-stream-prefix", repr(prefix))
