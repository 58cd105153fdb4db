"""What preflight reads, against the real emulator over HTTP: parameters in the region their ARN names, one
DescribeParameters per account and region, and several task definitions preflighted at once.

No Terraform: the test makes a role, three SSM parameters (one in another region) and a task definition with
boto3 in a fresh emulator account, then preflights it.

AWS documentation: Amazon ECS Developer Guide, "Pass Systems Manager parameters to Amazon ECS containers"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html): "If the
parameter exists in a different Region than the task you're launching, then you must use the full ARN";
AWS Systems Manager API Reference, ParameterStringFilter (up to 50 values per filter).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.preflight import AwsFacts, preflight, preflight_many
from fargate_harness.targets.base import Target

OTHER_REGION = "eu-west-1"
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
    return harness_target.isolated("preflight-reads")


def _parameters(target: Target, prefix: str) -> dict[str, str]:
    """Two String parameters in the target's region and one in OTHER_REGION: secret name -> valueFrom."""
    here, there = target.client("ssm"), target.client("ssm", region=OTHER_REGION)
    for client, name in ((here, f"/{prefix}/a"), (here, f"/{prefix}/b"), (there, f"/{prefix}/c")):
        client.put_parameter(Name=name, Value="not-a-secret-value", Type="String")
    account = target.account_id()
    return {
        "A": f"/{prefix}/a",
        "B": f"arn:aws:ssm:{target.region}:{account}:parameter/{prefix}/b",
        "C": f"arn:aws:ssm:{OTHER_REGION}:{account}:parameter/{prefix}/c",
    }


def _task_definition(
    target: Target, prefix: str, value_froms: dict[str, str], image: str = "public.ecr.aws/nginx/nginx:1.27"
) -> str:
    """A role allowed ssm:GetParameters on the three parameters, and a Fargate task definition using them."""
    iam = target.client("iam")
    role = iam.create_role(RoleName=f"{prefix}-exec", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    account = target.account_id()
    resources = [f"arn:aws:ssm:{region}:{account}:parameter/{prefix}/*" for region in (target.region, OTHER_REGION)]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": resources}],
    }
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="parameters", PolicyDocument=json.dumps(policy))
    container = {
        "name": "app",
        "image": image,
        "essential": True,
        "secrets": [{"name": name, "valueFrom": value_from} for name, value_from in value_froms.items()],
    }
    answer = target.client("ecs").register_task_definition(
        family=prefix,
        containerDefinitions=[container],
        executionRoleArn=role["Arn"],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )
    return str(answer["taskDefinition"]["taskDefinitionArn"])


def _count_describe_parameters(target: Target) -> Counter[str]:
    """DescribeParameters requests per region, from now on, on the clients preflight uses."""
    calls: Counter[str] = Counter()
    for region in (target.region, OTHER_REGION):

        def count(region: str = region, **_kwargs: Any) -> None:
            calls[region] += 1

        target.client("ssm", region=region).meta.events.register("before-call.ssm.DescribeParameters", count)
    return calls


def test_parameters_are_read_where_their_arn_says_once_per_region(account: Target) -> None:
    prefix = f"reads-{uuid.uuid4().hex[:8]}"
    td_arn = _task_definition(account, prefix, _parameters(account, prefix))
    calls = _count_describe_parameters(account)

    report = preflight(account, td_arn)

    assert report.will_start, f"{report.task_definition}: {report.error} ({[v.reason for v in report.failures]})"
    assert dict(calls) == {account.region: 1, OTHER_REGION: 1}, f"DescribeParameters per region: {dict(calls)}"


def test_a_parameter_missing_in_its_own_region_is_named_with_that_region(account: Target) -> None:
    prefix = f"reads-{uuid.uuid4().hex[:8]}"
    value_froms = _parameters(account, prefix)
    account.client("ssm", region=OTHER_REGION).delete_parameter(Name=f"/{prefix}/c")
    report = preflight(account, _task_definition(account, prefix, value_froms))

    assert not report.will_start
    missing = [v.reason for v in report.failures]
    assert missing == [f"SSM parameter /{prefix}/c does not exist in {account.account_id()}/{OTHER_REGION}"], missing


def test_preflight_many_answers_in_order_as_one_at_a_time(account: Target) -> None:
    prefix = f"reads-{uuid.uuid4().hex[:8]}"
    value_froms = _parameters(account, prefix)
    good = _task_definition(account, prefix, value_froms)
    bad_prefix = f"{prefix}-gone"
    bad = _task_definition(account, bad_prefix, {"X": f"/{bad_prefix}/never-created"})
    names = [good, bad, good, bad]

    together = preflight_many([(account, name, AwsFacts(account)) for name in names])
    one_by_one = [preflight(account, name, AwsFacts(account)) for name in names]

    assert [(r.task_definition, r.will_start, r.error) for r in together] == [
        (r.task_definition, r.will_start, r.error) for r in one_by_one
    ]
    assert [r.will_start for r in together] == [True, False, True, False]
    with pytest.raises(ConfigurationError, match="not found"):
        preflight_many([(account, good, None), (account, f"{prefix}-no-such-family:1", None)])


def test_an_emulator_without_pull_through_cache_rules_is_asked_once(account: Target) -> None:
    """moto answers DescribePullThroughCacheRules with a server error; botocore would retry it 8 times (10 s)
    in every preflight of an ECR image. One request per emulator endpoint, none after. It is an emulator gap, not a
    note on every task: reports carry it only where a rule could decide (a missing repository)."""
    if not account.is_emulator:
        pytest.skip("the emulator path only")
    prefix = f"reads-{uuid.uuid4().hex[:8]}"
    account.client("ecr").create_repository(repositoryName=prefix)
    image = f"{account.account_id()}.dkr.ecr.{account.region}.amazonaws.com/{prefix}:1.0"
    td_arn = _task_definition(account, prefix, {}, image=image)
    sends: list[str] = []
    account.client("ecr", retries=0).meta.events.register(
        "before-send.ecr.DescribePullThroughCacheRules", lambda **_: sends.append("sent")
    )

    facts = [AwsFacts(account) for _ in range(2)]
    reports = [preflight(account, td_arn, one) for one in facts]

    assert len(sends) <= 1, f"DescribePullThroughCacheRules sent {len(sends)} times"
    assert not any("pull through cache" in note for r in reports for note in r.notes), reports[1].notes
    assert reports[1].emulator_gaps == [], "the repository exists: no rule could decide, no gap to show"
    assert any("emulator" in gap and "DescribePullThroughCacheRules" in gap for gap in facts[1].emulator_gaps)
