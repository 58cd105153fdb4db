"""Unit tests for fargate_harness.targets.capabilities: what a target can serve, asked with plain data (no
configuration is read; ``tests/unit/targets/test_localstack.py`` asks through configurations)."""

from __future__ import annotations

from fargate_harness.targets import capabilities
from fargate_harness.targets.base import Target

ROLE = "arn:aws:iam::000000000002:role/harness-registry"


def _free_localstack(registry_role_arn: str | None = None) -> Target:
    """A target whose health listed IAM, STS, logs and DynamoDB, and whose DynamoDB did not answer a probe."""
    target = Target(
        name="localstack",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:4566",
        available_services=frozenset({"iam", "sts", "logs"}),
        registry_role_arn=registry_role_arn,
    )
    target.unusable = {"dynamodb": "list_tables answered 500"}  # what LocalStackTarget.start records
    return target


def test_missing_services_splits_required_from_optional() -> None:
    target = _free_localstack()
    assert capabilities.missing_services(target, {"iam", "ecs", "ecr", "logs"}, {"ecs"}) == (["ecr"], ["ecs"])
    assert capabilities.missing_services(target, {"iam", "logs"}) == ([], [])


def test_a_target_that_cannot_tell_lacks_nothing() -> None:
    """Embedded and real AWS list no services: nothing is called missing there."""
    aws = Target(name="aws", region="eu-west-1", endpoint_url=None)
    assert capabilities.missing_services(aws, {"ecs", "ecr"}) == ([], [])
    assert capabilities.unavailable(aws, {"ecs"}, needs_registry_account=False) is None


def test_lacks_names_the_services_and_what_the_target_said_of_them() -> None:
    target = _free_localstack()
    assert capabilities.lacks(target, {"iam", "ecs"}, {"ecs"}) is None
    assert capabilities.lacks(target, {"dynamodb", "ecr"}) == (
        "target localstack lacks dynamodb, ecr (dynamodb: list_tables answered 500)"
    )


def test_unavailable_asks_for_a_registry_account_only_where_one_is_needed_and_missing() -> None:
    without = _free_localstack()
    assert capabilities.unavailable(without, {"iam"}, needs_registry_account=True, registry_hint=" (set it)") == (
        "needs a registry account (set it)"
    )
    assert capabilities.unavailable(without, {"iam"}, needs_registry_account=False) is None
    with_role = _free_localstack(registry_role_arn=ROLE)
    assert capabilities.unavailable(with_role, {"iam"}, needs_registry_account=True) is None
    # a missing service is named before the registry account
    assert capabilities.unavailable(without, {"ecr"}, needs_registry_account=True) == "target localstack lacks ecr"
