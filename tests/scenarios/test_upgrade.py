"""Upgrade checks: switching module or provider versions must not replace live roles, change outputs, or
widen permissions silently. Each class runs one upgrade (two applies, a plan and a destroy); the tests of one
module that ask for the same upgrade share it.

``TestRootConfigurationUpgrade`` is the user's case: a team repository in git whose root configuration's task
role is widened to ``s3:*`` in the working tree, compared with ``HEAD`` by ``fargate-harness upgrade --dir infra
--from HEAD``. Accepting a widening, and a narrowing, change the verdict only: tests/unit/test_upgrade.py judges
those on a given diff.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.targets import Target
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
        assert any("permissions widen: secretsmanager:GetSecretValue on *" in f for f in report.failures), _explain(
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
        assert any("permissions widen: secretsmanager:GetSecretValue on *" in f for f in report.failures), _explain(
            report
        )


class TestProviderUpgrade:
    """Offline the mirror carries aws 2.70.0 and 3.39.0. The reference modules declare >= 3.39, so the
    provider flow is exercised on a fixture written for >= 2.70 (see modules/ecs-execution-role/README.md)."""

    def test_2_70_to_3_39_plans_no_replacement(self, upgrade_check: Upgrade) -> None:
        kwargs: dict[str, Any] = {"source_provider": "2.70.0", "destination_provider": "3.39.0"}
        report = upgrade_check(FIXTURES / "provider-2x", **kwargs)
        assert report.ok, _explain(report)
        assert not report.replaced and not report.destroyed, _explain(report)


#: ``fargate-harness upgrade`` as the user runs it from the repository's top level.
UPGRADE_ARGS = ("--dir", "infra", "--from", "HEAD", "--var", "reports_bucket=ledger")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        capture_output=True,
        check=True,
    )


@pytest.fixture(scope="module")
def widened_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with ``infra/`` (task role: ``s3:GetObject`` on one bucket's objects) committed, then
    widened to ``s3:*`` in the working tree, uncommitted."""
    repo = tmp_path_factory.mktemp("team") / "repo"
    shutil.copytree(FIXTURES / "widen-root", repo)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "v1")
    main = repo / "infra" / "main.tf"
    main.write_text(main.read_text().replace('["s3:GetObject"]', '["s3:*"]'))
    return repo


class TestRootConfigurationUpgrade:
    """IAM policy Action element, wildcards: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"""

    def test_the_cli_from_head_exits_1_naming_the_widening(
        self, widened_repo: Path, harness_target: Target, tmp_path: Path
    ) -> None:
        if not harness_target.is_emulator or harness_target.name != "embedded":
            pytest.skip("the CLI test uses the session's embedded emulator")
        assert harness_target.endpoint_url, "the session's emulator has no address"
        env = {k: v for k, v in os.environ.items() if k != "HARNESS_RUN_ID"}
        env.update(HARNESS_EMBEDDED_ENDPOINT=harness_target.endpoint_url, HARNESS_RESULTS_DIR=str(tmp_path))
        answer = subprocess.run(
            [sys.executable, "-m", "fargate_harness.cli", "upgrade", *UPGRADE_ARGS],
            cwd=widened_repo,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        assert answer.returncode == 1, f"expected exit 1 (a widening), got {answer.returncode}: {answer.stderr}"
        assert "permissions widen: s3:* on arn:aws:s3:::" in answer.stdout, answer.stdout
        # --var reached both sides: the permission removed (old side) names the same bucket as the one added
        assert re.search(r"\+ s3:\* on arn:aws:s3:::fh-\S+-ledger/\*", answer.stdout), answer.stdout
        assert re.search(r"- s3:GetObject on arn:aws:s3:::fh-\S+-ledger/\*", answer.stdout), answer.stdout
        # the one role, its one policy updated in place, nothing replaced and no provider change
        assert "permissions of module.task_role.aws_iam_role.this (" in answer.stdout, answer.stdout
        updated = "updated in place: 1\n  aws_iam_role_policy.reports (aws_iam_role_policy)\n"
        assert updated in answer.stdout, answer.stdout
        assert "replaced: 0\n" in answer.stdout and "provider changes: 0\n" in answer.stdout, answer.stdout
        assert "upgrade: reading infra at HEAD" in answer.stderr, answer.stderr
        assert "infra.to: plan" in answer.stderr, "expected a progress line per stage on stderr"
