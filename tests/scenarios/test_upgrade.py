"""Upgrade checks: switching module or provider versions must not replace live roles, change outputs, or
widen permissions silently. Each class runs one upgrade (two applies, a plan and a destroy) on its own
xdist worker under ``--dist loadscope``; the tests of one class that ask for the same upgrade share it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fargate_harness.upgrade import UpgradeReport

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "upgrade"
Upgrade = Callable[..., UpgradeReport]


def _explain(report: UpgradeReport) -> str:
    return f"\n{report.text()}"


class TestNoOpUpgrade:
    def test_from_the_last_commit_changes_nothing(self, upgrade_check: Upgrade) -> None:
        report = upgrade_check("module-reuse", source="HEAD")
        assert report.ok, _explain(report)
        assert not report.replaced and not report.destroyed and not report.outputs, _explain(report)
        assert len(report.roles) == 3 and all(not r.added and not r.removed for r in report.roles), _explain(report)


class TestReplacedRole:
    def test_renamed_role_fails_naming_the_replacement(self, upgrade_check: Upgrade) -> None:
        report = upgrade_check("basic", source=str(FIXTURES / "renamed-role"))
        assert not report.ok, _explain(report)
        assert "module.execution_role.aws_iam_role.this (aws_iam_role)" in report.replaced, _explain(report)
        assert any("aws_iam_role would be replaced" in f for f in report.failures), _explain(report)
        assert any(f.startswith("output services would change") for f in report.failures), _explain(report)


def _secrets_to_star(upgrade_check: Upgrade, *accepted: str) -> UpgradeReport:
    """``secrets`` from this tree's modules to ``star-secrets`` (GetSecretValue on "*"), accepting ``accepted``."""
    return upgrade_check(
        "secrets", source=str(ROOT), destination=str(FIXTURES / "star-secrets"), allow_widening=list(accepted)
    )


class TestWidenedPermissions:
    """One upgrade serves the three tests: accepting a widening changes the verdict, not what Terraform does."""

    def test_star_on_secrets_fails_naming_the_addition(self, upgrade_check: Upgrade) -> None:
        report = _secrets_to_star(upgrade_check)
        assert not report.ok, _explain(report)
        (role,) = report.roles
        assert role.added == {("secretsmanager:getsecretvalue", "*")}, _explain(report)
        assert len(role.removed) == 2, _explain(report)
        assert any("permissions widen: secretsmanager:getsecretvalue on *" in f for f in report.failures), _explain(
            report
        )
        assert not report.replaced, _explain(report)

    def test_named_addition_is_accepted(self, upgrade_check: Upgrade) -> None:
        report = _secrets_to_star(upgrade_check, "secretsmanager:GetSecretValue=*")
        assert report.ok, _explain(report)
        assert report.accepted == ("secretsmanager:GetSecretValue=*",), _explain(report)

    def test_another_addition_accepted_leaves_the_star_failing(self, upgrade_check: Upgrade) -> None:
        report = _secrets_to_star(upgrade_check, "ssm:GetParameters=*")
        assert not report.ok, _explain(report)
        assert any("permissions widen: secretsmanager:getsecretvalue on *" in f for f in report.failures), _explain(
            report
        )


class TestNarrowingUpgrade:
    def test_from_star_to_exact_arns_passes(self, upgrade_check: Upgrade) -> None:
        report = upgrade_check("secrets", source=str(FIXTURES / "star-secrets"))
        assert report.ok, _explain(report)
        (role,) = report.roles
        assert ("secretsmanager:getsecretvalue", "*") in role.removed, _explain(report)


class TestProviderUpgrade:
    """Offline the mirror carries aws 2.70.0 and 3.39.0. The reference modules declare >= 3.39, so the
    provider flow is exercised on a fixture written for >= 2.70 (see modules/ecs-execution-role/README.md)."""

    def test_2_70_to_3_39_plans_no_replacement(self, upgrade_check: Upgrade) -> None:
        kwargs: dict[str, Any] = {"source_provider": "2.70.0", "destination_provider": "3.39.0"}
        report = upgrade_check(FIXTURES / "provider-2x", **kwargs)
        assert report.ok, _explain(report)
        assert not report.replaced and not report.destroyed, _explain(report)
