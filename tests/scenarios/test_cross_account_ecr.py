"""Configuration cross-account-ecr: an image in a second (registry) account, pulled through its repository policy."""

from __future__ import annotations

import pytest

from fargate_harness import checks
from fargate_harness.checks import AppliedRun
from tests.scenarios._support import reference, run_check

pytestmark = pytest.mark.scenario("cross-account-ecr")

CHECKS = (
    *reference.COMMON_CHECKS,
    reference.cross_account_repository,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: AppliedRun, check: checks.Check) -> None:
    run_check(applied, check)


def test_registry_is_another_account(applied: AppliedRun) -> None:
    primary = applied.target.account_id()
    registry = str(applied.outputs["registry_account_id"])
    assert registry != primary, (
        f"cross-account-ecr: repository: expected an account other than {primary}, got {registry}"
    )


def test_two_provider_configurations_are_not_attached_to_one_process(applied: AppliedRun) -> None:
    # one debug-mode provider keeps only the last ConfigureProvider: the registry account's configuration
    # would replace the primary's, so each command starts its own providers as Terraform does by itself
    assert applied.provider_pid is None, (
        f"cross-account-ecr: two AWS provider configurations share provider process {applied.provider_pid}"
    )
