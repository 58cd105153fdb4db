"""Judging an upgrade's permission diff again with other accepted widenings (no AWS: the diff is given)."""

from __future__ import annotations

from fargate_harness.upgrade import RoleDiff, UpgradeReport

STAR = ("secretsmanager:getsecretvalue", "*")
SCOPED = ("secretsmanager:getsecretvalue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-*")


def _report(allowed: tuple[str, ...] = ()) -> UpgradeReport:
    role = RoleDiff("module.role.aws_iam_role.this", ("app", "app"), added={STAR}, removed={SCOPED}, held={SCOPED})
    report = UpgradeReport("secrets", "old", "new", roles=[role], failures=["output services would change (update)"])
    return report.accepting(allowed)  # as upgrade() judges its diff


def test_accepting_the_addition_clears_only_the_widening_failure() -> None:
    report = _report()
    assert any("permissions widen: secretsmanager:getsecretvalue on *" in f for f in report.failures), report.text()
    accepted = report.accepting(["secretsmanager:GetSecretValue=*"])
    assert accepted.failures == ["output services would change (update)"], accepted.text()
    assert accepted.accepted == ("secretsmanager:GetSecretValue=*",)
    assert report.failures != accepted.failures, "accepting must return a new report, not change the stored one"


def test_accepting_nothing_again_restores_the_widening_failure() -> None:
    accepted = _report(("secretsmanager:GetSecretValue",))
    assert accepted.ok is False and len(accepted.failures) == 1, accepted.text()
    again = accepted.accepting(())
    assert again.failures == _report().failures, again.text()


def test_an_unrelated_acceptance_leaves_the_star_failing() -> None:
    other = _report().accepting(["ssm:GetParameters=*"])
    assert sum("permissions widen" in f for f in other.failures) == 1, other.text()


def test_an_addition_covered_by_what_was_held_is_no_widening() -> None:
    role = RoleDiff("r", ("a", "a"), added={SCOPED}, held={STAR})
    assert role.widened(()) == [], "a scoped ARN after '*' before narrows, it does not widen"
