"""Broken scenarios: each reproduces one Fargate start-up failure, and preflight must name it.

Each class applies one case of ``scenarios/broken/`` (once, on one xdist worker with ``--dist loadscope``)
and checks that preflight predicts the task would not start, which requirements are denied, the ECS
error, and where the fix goes. Nothing else may be reported denied.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from harness import checks
from harness.preflight import AwsFacts, PreflightReport, preflight
from harness.terraform import ScenarioRun


def report_of(applied: ScenarioRun) -> PreflightReport:
    (service,) = checks.services(applied)
    return preflight(applied.target, service["task_definition_arn"], AwsFacts(applied.target))


class BrokenCase:
    """One case: the denied requirement kinds, a fragment of the ECS error, a fragment of the fix."""

    kinds: ClassVar[set[str]]
    error: ClassVar[str]
    fix: ClassVar[str]

    def test_preflight_names_the_failure(self, applied_class: ScenarioRun) -> None:
        report = report_of(applied_class)
        case = applied_class.outputs["expected_failure"]
        denied = {v.requirement.kind for v in report.failures}
        assert not report.will_start, f"broken/{case}: preflight: expected the task not to start, got will_start"
        assert denied == self.kinds, (
            f"broken/{case}: preflight: expected denied {sorted(self.kinds)}, got {sorted(denied)}"
        )
        assert self.error in report.error, (
            f"broken/{case}: preflight: expected error with {self.error!r}, got {report.error!r}"
        )
        fixes = " | ".join(v.fix for v in report.failures)
        assert self.fix in fixes, f"broken/{case}: preflight: expected a fix with {self.fix!r}, got {fixes!r}"

    def test_json_report_says_it_would_not_start(self, applied_class: ScenarioRun) -> None:
        document = report_of(applied_class).to_dict()
        assert document["will_start"] is False
        assert {r["kind"] for r in document["requirements"] if not r["allowed"]} == self.kinds


@pytest.mark.scenario("broken/ecr-pull-denied")
class TestEcrPullDenied(BrokenCase):
    kinds: ClassVar[set[str]] = {"ecr-auth", "ecr-pull"}
    error = "unable to retrieve ecr registry auth"
    fix = '"Action": "ecr:GetAuthorizationToken"'


@pytest.mark.scenario("broken/cross-account-policy-missing")
class TestCrossAccountPolicyMissing(BrokenCase):
    kinds: ClassVar[set[str]] = {"ecr-pull"}
    error = "CannotPullContainerError"
    fix = "repository policy in account"


@pytest.mark.scenario("broken/secret-not-granted")
class TestSecretNotGranted(BrokenCase):
    kinds: ClassVar[set[str]] = {"secret"}
    error = "unable to retrieve secret from asm"
    fix = '"Action": "secretsmanager:GetSecretValue"'


@pytest.mark.scenario("broken/parameter-not-granted")
class TestParameterNotGranted(BrokenCase):
    kinds: ClassVar[set[str]] = {"parameter"}
    error = "unable to retrieve secrets from ssm"
    fix = '"Action": "ssm:GetParameters"'


@pytest.mark.scenario("broken/kms-decrypt-missing")
class TestKmsDecryptMissing(BrokenCase):
    kinds: ClassVar[set[str]] = {"kms"}
    error = "kms:Decrypt denied"
    fix = '"Action": "kms:Decrypt"'


@pytest.mark.scenario("broken/key-policy-untrusted")
class TestKeyPolicyUntrusted(BrokenCase):
    kinds: ClassVar[set[str]] = {"kms"}
    error = "kms:Decrypt denied"
    fix = "add to the key policy of"


@pytest.mark.scenario("broken/log-group-missing")
class TestLogGroupMissing(BrokenCase):
    kinds: ClassVar[set[str]] = {"logs"}
    error = "failed to validate logger args"
    fix = "create it, or fix the reference in container app awslogs"


@pytest.mark.scenario("broken/logs-actions-missing")
class TestLogsActionsMissing(BrokenCase):
    kinds: ClassVar[set[str]] = {"logs"}
    error = "failed to validate logger args"
    fix = '"Action": "logs:CreateLogStream"'
