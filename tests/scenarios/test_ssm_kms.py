"""Configuration ssm-kms: SecureString parameters under a customer KMS key."""

from __future__ import annotations

import pytest

from fargate_harness import checks
from fargate_harness.checks import AppliedRun
from tests.scenarios._support import reference, run_check

pytestmark = pytest.mark.scenario("ssm-kms")

CHECKS = (
    *reference.COMMON_CHECKS,
    reference.secret_references,
    reference.secure_parameters,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_check(applied: AppliedRun, check: checks.Check) -> None:
    run_check(applied, check)


def test_role_may_decrypt_with_the_scenario_key(applied: AppliedRun) -> None:
    (service,) = reference.services(applied)
    assert service.declared("kms_key_arns") == [applied.outputs["kms_key_arn"]], (
        f"ssm-kms: role {service['execution_role_name']}: expected kms:Decrypt on "
        f"{applied.outputs['kms_key_arn']}, got {service.declared('kms_key_arns')}"
    )
