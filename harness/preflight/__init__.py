"""Predict whether an ECS task will start: every call the agent makes with the execution role, decided offline.

>>> report = preflight(target, "my-service:3")
>>> report.will_start, report.error
"""

from __future__ import annotations

from typing import Any

from harness.aws import ecs
from harness.errors import ConfigurationError, ResourceNotFoundError
from harness.preflight.analysis import (
    ECS_ERRORS,
    PreflightReport,
    Verdict,
    decide,
    misplaced_on_task_role,
    overgrants,
)
from harness.preflight.collect import AwsFacts
from harness.preflight.requirements import Requirement, derive
from harness.targets.base import Target

__all__ = ["ECS_ERRORS", "AwsFacts", "PreflightReport", "Requirement", "Verdict", "derive", "preflight"]


def _registration_error(td: dict[str, Any], requirements: list[Requirement]) -> str:
    """Fargate refuses a task definition that needs an execution role and has none."""
    if td.get("executionRoleArn") or not requirements:
        return ""
    needs = sorted({r.kind for r in requirements})
    return (
        "ClientException: Fargate requires an execution role ARN for task definitions that use "
        f"{', '.join(needs)}; set executionRoleArn"
    )


def preflight(target: Target, task_definition: str, facts: AwsFacts | None = None) -> PreflightReport:
    """Read the task definition and everything it references on ``target``, and decide every requirement.

    Pass one ``facts`` to several calls to reuse what was read (roles, managed and resource policies).
    """
    facts = facts or AwsFacts(target)
    try:
        td = ecs.get_task_definition(target.client("ecs"), task_definition)
    except ResourceNotFoundError as exc:
        raise ConfigurationError(
            f"task definition {task_definition!r} not found on target {target.name}: give FAMILY, FAMILY:REVISION "
            "or its ARN"
        ) from exc
    account = facts._primary()
    requirements = derive(td, facts, principal_account=account, region=target.region)
    report = PreflightReport(ecs.task_definition_label(td), td.get("executionRoleArn"), td.get("taskRoleArn"))
    report.registration_error = _registration_error(td, requirements)
    if report.execution_role:
        role = facts.role(report.execution_role)
        report.verdicts = decide(requirements, role, facts, target.region)
        report.overgrants, report.misplaced = overgrants(role, requirements)
        if target.name == "aws":
            report.disagreements = simulate_identity(target, role.arn, report.verdicts)
    if report.task_role and report.task_role != report.execution_role:
        report.misplaced += misplaced_on_task_role(facts.role(report.task_role), requirements)
    report.notes = list(facts.unreadable)
    return report


def simulate_identity(target: Target, role_arn: str, verdicts: list[Verdict]) -> list[str]:
    """On real AWS, ask ``iam:SimulatePrincipalPolicy`` about the identity side and report disagreements.

    Only same-account requirements without a resource policy are compared: the simulator cannot take an
    ECR repository policy or a KMS key policy for a role.
    """
    client = target.client("iam")
    found = []
    for verdict in verdicts:
        requirement = verdict.requirement
        if requirement.kind in ("ecr-pull", "kms") or requirement.exists is False:
            continue
        request: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": [requirement.action]}
        if requirement.resource != "*":
            request["ResourceArns"] = [requirement.resource]
        answer = client.simulate_principal_policy(**request)["EvaluationResults"][0]["EvalDecision"]
        simulated = answer == "allowed"
        if simulated != verdict.allowed:
            found.append(
                f"{requirement.action} on {requirement.resource}: preflight says "
                f"{'allowed' if verdict.allowed else 'denied'}, SimulatePrincipalPolicy says {answer}"
            )
    return found
