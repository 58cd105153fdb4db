"""Judging an upgrade's permission diff again with other accepted widenings (no AWS: the diff is given), and the
two sides of ``upgrade --dir PATH --from REF_OR_PATH``: git revisions of a temporary repository and folders."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fargate_harness import cli, upgrade
from fargate_harness.errors import ConfigurationError
from fargate_harness.runner import hcl
from fargate_harness.upgrade import RoleDiff, UpgradeReport

STAR = ("secretsmanager:getsecretvalue", "*")
SCOPED = ("secretsmanager:getsecretvalue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-*")


def _report(allowed: tuple[str, ...] = ()) -> UpgradeReport:
    role = RoleDiff("module.role.aws_iam_role.this", ("app", "app"), added={STAR}, removed={SCOPED}, held={SCOPED})
    report = UpgradeReport("secrets", "old", "new", roles=[role], failures=["output services would change (update)"])
    return report.accepting(allowed)  # as upgrade() judges its diff


def test_accepting_the_addition_clears_only_the_widening_failure() -> None:
    report = _report()
    assert any("permissions widen: secretsmanager:GetSecretValue on *" in f for f in report.failures), report.text()
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


def test_a_narrowing_from_star_to_exact_arns_passes() -> None:
    """``secrets`` upgraded from ``star-secrets`` (GetSecretValue on "*" before, on the scenario's ARNs after): the
    star is removed and nothing widens (tests/scenarios/test_upgrade.py proves the diff is read from real plans)."""
    role = RoleDiff("module.role.aws_iam_role.this", ("app", "app"), added={SCOPED}, removed={STAR}, held={STAR})
    report = UpgradeReport("secrets", "star-secrets", "secrets", roles=[role]).accepting(())
    assert report.ok and report.failures == [], report.text()
    assert "  - secretsmanager:GetSecretValue on *" in report.text(), report.text()


# -- the sides of ``upgrade --dir PATH --from REF_OR_PATH`` (git and folders; no AWS) ---------------------------

WIDEN_ROOT = Path(__file__).resolve().parents[1] / "data" / "upgrade" / "widen-root"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _user_repo(tmp_path: Path) -> Path:
    """A team repository: ``infra/`` using ``modules/task-role``, an unrelated ``docs/``, one commit."""
    repo = tmp_path / "team"
    shutil.copytree(WIDEN_ROOT, repo)
    (repo / "docs").mkdir()
    (repo / "docs" / "big.md").write_text("not configuration\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "v1")
    return repo


def test_a_revision_is_read_with_only_the_folders_the_configuration_uses(tmp_path: Path) -> None:
    repo = _user_repo(tmp_path)
    (repo / "infra" / "main.tf").write_text((repo / "infra" / "main.tf").read_text().replace("s3:GetObject", "s3:*"))
    status = _git(repo, "status", "--porcelain")

    root = upgrade.extract_revision(repo, "HEAD", Path("infra"), tmp_path / "old")

    assert root == tmp_path / "old" / "infra"
    assert '"s3:GetObject"' in (root / "main.tf").read_text(), "the revision, not the working tree, was read"
    assert (tmp_path / "old" / "modules" / "task-role" / "main.tf").is_file()
    assert not (tmp_path / "old" / "docs").exists(), "folders the configuration does not use were extracted"
    assert hcl.module_bound(root) == (tmp_path / "old").resolve(), "the extracted tree is its own bound"
    assert _git(repo, "status", "--porcelain") == status and "worktree" not in _git(repo, "worktree", "list")


def test_a_path_missing_at_the_revision_is_exit_2_naming_it(tmp_path: Path) -> None:
    repo = _user_repo(tmp_path)
    with pytest.raises(ConfigurationError, match=r"HEAD: platform/ does not exist at that revision"):
        upgrade.extract_revision(repo, "HEAD", Path("platform"), tmp_path / "old")
    with pytest.raises(ConfigurationError, match=r"'v1' is neither a folder nor a git revision"):
        upgrade.extract_revision(repo, "v1", Path("infra"), tmp_path / "old")


def test_a_module_leaving_the_repository_at_the_revision_is_refused(tmp_path: Path) -> None:
    repo = _user_repo(tmp_path)
    main = repo / "infra" / "main.tf"
    main.write_text(main.read_text().replace('"../modules/task-role"', '"../../../outside"'))
    _git(repo, "commit", "-qam", "outside")
    with pytest.raises(ConfigurationError, match=r"infra/main\.tf:\d+: module\.task_role: .*leaves the repository"):
        upgrade.extract_revision(repo, "HEAD", Path("infra"), tmp_path / "old")


def test_sides_are_revisions_folders_or_checkouts(tmp_path: Path) -> None:
    repo = _user_repo(tmp_path)
    lines: list[str] = []
    infra = (repo / "infra").resolve()
    checkout = tmp_path / "checkout"
    shutil.copytree(repo, checkout, ignore=shutil.ignore_patterns(".git"))

    assert upgrade.resolve_side(None, infra, repo, tmp_path, lines.append) == ("working tree", infra)
    assert upgrade.resolve_side(str(checkout), infra, repo, tmp_path, lines.append)[1] == checkout / "infra"
    config_only = upgrade.resolve_side(str(checkout / "infra"), infra, repo, tmp_path, lines.append)
    assert config_only[1] == checkout / "infra"
    label, root = upgrade.resolve_side("HEAD", infra, repo, tmp_path, lines.append)
    assert label.startswith("HEAD (") and root.name == "infra" and root.is_relative_to(tmp_path)
    assert lines and "reading infra at HEAD" in lines[0], lines
    with pytest.raises(ConfigurationError, match=r"no \.tf or \.tf\.json files and no infra/ holding them"):
        upgrade.resolve_side(str(repo / "docs"), infra, repo, tmp_path, lines.append)
    with pytest.raises(ConfigurationError, match=r"not in a git repository"):
        upgrade.resolve_side("HEAD", infra, None, tmp_path, lines.append)


def test_upgrade_without_a_from_is_exit_2(tmp_path: Path) -> None:
    repo = _user_repo(tmp_path)
    with (
        pytest.raises(ConfigurationError, match=r"upgrade needs --from REF_OR_PATH"),
        upgrade.configuration_sides(repo / "infra", source=None),
    ):
        pass


def test_the_scratch_trees_are_removed_after_the_upgrade(tmp_path: Path) -> None:
    repo = _user_repo(tmp_path)
    with upgrade.configuration_sides(repo / "infra", source="HEAD") as (old, new):
        assert old.root.is_dir() and new.root == (repo / "infra").resolve()
        assert old.label.startswith("HEAD (") and new.label == "working tree"
    assert not old.root.exists()


def test_bad_upgrade_input_exits_2_naming_the_cause(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _user_repo(tmp_path)
    assert cli.main(["upgrade", "--dir", str(repo / "infra"), "--from", "no-such-tag"]) == 2
    assert "'no-such-tag' is neither a folder nor a git revision" in capsys.readouterr().err
    assert cli.main(["upgrade", "--dir", str(repo / "infra"), "--from", "HEAD", "--var", "novalue"]) == 2
    with pytest.raises(SystemExit) as parsed:
        cli.main(["upgrade", "--dir", str(repo / "infra"), "--scenario", "basic"])
    assert parsed.value.code == 2


def test_provider_changes_name_versions_and_constraints() -> None:
    def side(version: str | None, constraint: str) -> Any:
        module = hcl.ModuleConfig(
            Path("m"), required_providers={"aws": {"source": "hashicorp/aws", "version": constraint}}
        )
        return SimpleNamespace(provider_version=version, modules=[module])

    assert upgrade.provider_changes(side("3.39.0", ">= 3.39"), side("3.39.0", ">= 3.39")) == []
    assert upgrade.provider_changes(side("2.70.0", ">= 2.70"), side("3.39.0", ">= 3.39")) == [
        "hashicorp/aws: 2.70.0 -> 3.39.0 (selected)",
        "hashicorp/aws: version >= 2.70 -> >= 3.39",
    ]


def test_the_report_lists_provider_changes() -> None:
    report = UpgradeReport("infra", "HEAD", "working tree", providers=["hashicorp/aws: 2.70.0 -> 3.39.0 (selected)"])
    assert "provider changes: 1\n  hashicorp/aws: 2.70.0 -> 3.39.0 (selected)" in report.text()
    assert report.to_dict()["providers"] == ["hashicorp/aws: 2.70.0 -> 3.39.0 (selected)"]


KEY = "arn:aws:kms:eu-west-1:222222222222:key/155720dc-8a3b-4d5e-9f10-2b3c4d5e6f70"


def _decrypt_added(allowed: tuple[str, ...] = ()) -> UpgradeReport:
    role = RoleDiff(
        "aws_iam_role.execution",
        ("web-exec", "web-exec"),
        added={("kms:decrypt", KEY)},
        places={KEY: "module.logs.aws_kms_key.this"},
    )
    return UpgradeReport("web", "v1", "v2", roles=[role]).accepting(allowed)


def test_a_widening_reads_in_terraform_terms() -> None:
    """The resource by its Terraform address with the ARN beside it, the action in AWS's case (the Service
    Authorization Reference writes kms:Decrypt: https://docs.aws.amazon.com/service-authorization/latest/reference/
    list_awskeymanagementservice.html), and the --allow-widening item to paste."""
    report = _decrypt_added()
    expected = f"+ kms:Decrypt on module.logs.aws_kms_key.this ({KEY})"
    assert expected in report.text(), report.text()
    (failure,) = report.failures
    assert "kms:decrypt" not in failure and "--allow-widening kms:Decrypt=module.logs.aws_kms_key.this" in failure
    added = report.to_dict()["roles"][0]
    assert added["added"] == [["kms:Decrypt", KEY]] and added["addresses"] == {KEY: "module.logs.aws_kms_key.this"}


def test_allow_widening_takes_a_terraform_address() -> None:
    assert _decrypt_added(("kms:Decrypt=module.logs.aws_kms_key.this",)).ok
    assert _decrypt_added(("kms:Decrypt=module.logs.*",)).ok
    assert not _decrypt_added(("kms:Decrypt=module.other.aws_kms_key.this",)).ok


def test_actions_are_named_in_aws_case() -> None:
    from fargate_harness.iam.actions import canonical_action

    cases = {
        "kms:decrypt": "kms:Decrypt",
        "ECR:batchgetimage": "ecr:BatchGetImage",
        "iam:passrole": "iam:PassRole",
        "kms:generatedatakey*": "kms:GenerateDataKey*",
        "elasticfilesystem:clientmount": "elasticfilesystem:ClientMount",
        "logs:*": "logs:*",
        "*": "*",
    }
    assert {action: canonical_action(action) for action in cases} == cases
