"""An execution role three task definitions share, judged against what all of them need, on the real emulator.

No Terraform: the test makes, with boto3 in a fresh emulator account, three Parameter Store parameters, one
execution role allowed ``ssm:GetParameters`` on each of them (one statement per parameter, the last one needed by
no task definition) and three Fargate task definitions: ``orders`` reads parameter a, ``billing`` reads b,
``reports`` reads a and b. Preflighted together, no task definition's report may call a grant another one needs
an over-grant, and each report says which task definition needs which grant.

AWS documentation: Amazon ECS Developer Guide, "Amazon ECS task execution IAM role"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html: "You can have multiple
task execution roles for different purposes"; one role may serve several task definitions), and "Pass Systems
Manager parameters to Amazon ECS containers"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html: the execution role
needs ssm:GetParameters on each parameter).
"""

from __future__ import annotations

import json
import uuid

import pytest

from fargate_harness.preflight import AwsFacts, preflight_many
from fargate_harness.targets.base import Target

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture(scope="module")
def account(harness_target: Target) -> Target:
    """A fresh emulator account (nothing to clean: no other test reads it)."""
    missing = harness_target.missing_services(["ecs", "iam", "ssm"])
    if missing:
        pytest.skip(f"target {harness_target.name} lacks {', '.join(missing)}")
    return harness_target.isolated("shared-roles")


def _shared_role(target: Target, prefix: str) -> tuple[str, dict[str, str]]:
    """The role's ARN, and parameter name -> its ARN for a, b and unused (a statement each)."""
    account, region = target.account_id(), target.region
    arns = {name: f"arn:aws:ssm:{region}:{account}:parameter/{prefix}/{name}" for name in ("a", "b", "unused")}
    for name in ("a", "b"):
        target.client("ssm").put_parameter(Name=f"/{prefix}/{name}", Value="not-a-secret-value", Type="String")
    iam = target.client("iam")
    role = iam.create_role(RoleName=f"{prefix}-exec", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    statements = [
        {"Sid": f"Read{name.capitalize()}", "Effect": "Allow", "Action": "ssm:GetParameters", "Resource": arn}
        for name, arn in arns.items()
    ]
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="parameters", PolicyDocument=json.dumps(policy))
    return str(role["Arn"]), arns


def _task_definition(target: Target, family: str, role_arn: str, names: list[str], prefix: str) -> str:
    container = {
        "name": "app",
        "image": "public.ecr.aws/nginx/nginx:1.27",
        "essential": True,
        "secrets": [{"name": name.upper(), "valueFrom": f"/{prefix}/{name}"} for name in names],
    }
    answer = target.client("ecs").register_task_definition(
        family=family,
        containerDefinitions=[container],
        executionRoleArn=role_arn,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )
    return str(answer["taskDefinition"]["taskDefinitionArn"])


def test_a_shared_execution_role_is_judged_against_what_all_its_task_definitions_need(account: Target) -> None:
    prefix = f"shared-{uuid.uuid4().hex[:8]}"
    role_arn, arns = _shared_role(account, prefix)
    uses = {"orders": ["a"], "billing": ["b"], "reports": ["a", "b"]}
    names = [
        _task_definition(account, f"{prefix}-{family}", role_arn, wanted, prefix) for family, wanted in uses.items()
    ]
    facts = AwsFacts(account)

    reports = preflight_many([(account, name, facts) for name in names])

    policy = f"{prefix}-exec/parameters"
    unused = (
        f"{policy} statement ReadUnused: ssm:GetParameters on {arns['unused']} is needed by no requirement of the task "
        "definitions using the role"
    )
    for report in reports:
        assert report.will_start, f"{report.task_definition}: {report.error}"
        assert report.overgrants == [unused], (
            f"{report.task_definition}: expected only the grant no task definition needs, got {report.overgrants}"
        )
        orders, billing, shared = (f"{prefix}-{family}:1" for family in uses)
        users = [note for note in report.notes if note.startswith(f"shared execution role {prefix}-exec: {policy}")]
        assert users == [
            f"shared execution role {prefix}-exec: {policy} statement ReadA: ssm:GetParameters on {arns['a']} is "
            f"needed by {orders}, {shared}",
            f"shared execution role {prefix}-exec: {policy} statement ReadB: ssm:GetParameters on {arns['b']} is "
            f"needed by {billing}, {shared}",
        ], f"{report.task_definition}: which task definition needs which grant: {report.notes}"
