"""An image pulled through an ECR pull through cache rule the configuration declares, on the real emulator.

The emulator cannot hold the rule (moto answers DescribePullThroughCacheRules with HTTP 500, and provider 3.39
predates ``aws_ecr_pull_through_cache_rule``), so the rule comes from the configuration's state: a
``terraform show -json`` holding one ``aws_ecr_pull_through_cache_rule`` (prefix ``hub-cache``, Docker Hub upstream),
read into :class:`Places`. The task definition, role and image reference are made with boto3 in a fresh emulator
account; the cached repository does not exist yet (the first pull creates it).

AWS documentation: Amazon ECR User Guide, "IAM permissions required to sync an upstream registry with an Amazon
ECR private registry" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html):
``ecr:BatchImportUpstreamImage`` to import the upstream image, ``ecr:CreateRepository`` while the cache repository
does not exist.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from fargate_harness.model.inventory import Inventory
from fargate_harness.preflight import AwsFacts, preflight
from fargate_harness.preflight.places import Places
from fargate_harness.targets.base import Target

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
#: family -> the role made for it (ARN, name, policy), for the state
ROLES: dict[str, dict[str, Any]] = {}
PULL = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]


@pytest.fixture(scope="module")
def account(harness_target: Target) -> Target:
    """A fresh emulator account (nothing to clean: no other test reads it)."""
    if not harness_target.is_emulator:
        pytest.skip("on AWS the registry's own rules are read")
    missing = harness_target.missing_services(["ecs", "iam", "ecr"])
    if missing:
        pytest.skip(f"target {harness_target.name} lacks {', '.join(missing)}")
    return harness_target.isolated("pull-through")


def _state(prefix: str, account_id: str, role: dict[str, Any] | None = None) -> dict[str, Any]:
    """The configuration's state: the rule, and (``role``: the role and its policy as made) the role's resources."""
    resources: list[dict[str, Any]] = []
    if role is not None:
        resources += [
            {
                "address": "aws_iam_role.execution",
                "mode": "managed",
                "type": "aws_iam_role",
                "name": "execution",
                "values": {"arn": role["Arn"], "name": role["RoleName"], "id": role["RoleName"]},
            },
            {
                "address": "aws_iam_role_policy.pull",
                "mode": "managed",
                "type": "aws_iam_role_policy",
                "name": "pull",
                "values": {"role": role["RoleName"], "name": "pull", "policy": json.dumps(role["Policy"])},
            },
        ]
    rule = {
        "address": "aws_ecr_pull_through_cache_rule.hub",
        "mode": "managed",
        "type": "aws_ecr_pull_through_cache_rule",
        "name": "hub",
        "values": {
            "id": prefix,
            "ecr_repository_prefix": prefix,
            "upstream_registry_url": "registry-1.docker.io",
            "registry_id": account_id,
        },
    }
    return {"format_version": "1.0", "values": {"root_module": {"resources": [rule, *resources]}}}


def _task_definition(target: Target, family: str, image: str, statements: list[dict[str, Any]]) -> str:
    iam = target.client("iam")
    role = iam.create_role(RoleName=f"{family}-exec", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="pull", PolicyDocument=json.dumps(policy))
    ROLES[family] = {**role, "Policy": policy}
    answer = target.client("ecs").register_task_definition(
        family=family,
        containerDefinitions=[{"name": "web", "image": image, "essential": True}],
        executionRoleArn=role["Arn"],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )
    return str(answer["taskDefinition"]["taskDefinitionArn"])


def test_an_image_under_a_configured_rule_gets_the_fix_aws_documents(account: Target) -> None:
    prefix = f"hub-cache-{uuid.uuid4().hex[:6]}"
    account_id, region = account.account_id(), account.region
    cached = f"arn:aws:ecr:{region}:{account_id}:repository/{prefix}/*"
    image = f"{account_id}.dkr.ecr.{region}.amazonaws.com/{prefix}/library/nginx:1.27"
    statements = [
        {"Sid": "Auth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullCached", "Effect": "Allow", "Action": PULL, "Resource": cached},
    ]
    td_arn = _task_definition(account, prefix, image, statements)
    places = Places.from_inventory(Inventory.from_state(_state(prefix, account_id, ROLES[prefix]), "pull-through"))

    report = preflight(account, td_arn, AwsFacts(account), places=places)

    assert not [v for v in report.verdicts if v.requirement.exists is False], (
        f"{report.task_definition}: the cached repository is created by the first pull, not missing: "
        f"{[(v.requirement.resource, v.reason) for v in report.failures]}"
    )
    denied = {v.requirement.action: v for v in report.failures}
    assert set(denied) == {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}, set(denied)
    grant = json.dumps(
        {"Effect": "Allow", "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"], "Resource": cached}
    )
    for verdict in denied.values():
        assert verdict.fix == (
            f"add to role {prefix}-exec: {grant} "
            "(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html)"
        ), verdict.fix
        assert "aws_ecr_pull_through_cache_rule.hub" in verdict.requirement.source, verdict.requirement.source
        assert verdict.terraform_fix == (
            "add a statement allowing ecr:BatchImportUpstreamImage and ecr:CreateRepository on "
            f'"arn:aws:ecr:{region}:${{aws_ecr_pull_through_cache_rule.hub.registry_id}}:repository/'
            '${aws_ecr_pull_through_cache_rule.hub.ecr_repository_prefix}/*" to aws_iam_role_policy.pull '
            "(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html)"
        ), verdict.terraform_fix
    gaps = [gap for gap in report.emulator_gaps if "DescribePullThroughCacheRules" in gap]
    assert len(gaps) == 1 and len(report.emulator_gaps) == 1, report.emulator_gaps


def test_the_documented_grant_on_the_rules_repositories_starts_the_task_with_no_over_grant(account: Target) -> None:
    prefix = f"hub-cache-{uuid.uuid4().hex[:6]}"
    account_id, region = account.account_id(), account.region
    cached = f"arn:aws:ecr:{region}:{account_id}:repository/{prefix}/*"
    image = f"{account_id}.dkr.ecr.{region}.amazonaws.com/{prefix}/library/nginx:1.27"
    statements = [
        {"Sid": "Auth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullCached", "Effect": "Allow", "Action": PULL, "Resource": cached},
        {
            "Sid": "PullThroughCache",
            "Effect": "Allow",
            "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            "Resource": cached,
        },
    ]
    td_arn = _task_definition(account, prefix, image, statements)
    places = Places.from_inventory(Inventory.from_state(_state(prefix, account_id), "pull-through"))

    report = preflight(account, td_arn, AwsFacts(account), places=places)

    assert report.will_start, f"{report.task_definition}: {report.error}"
    assert report.overgrants == [] and report.misplaced == [], (report.overgrants, report.misplaced)
