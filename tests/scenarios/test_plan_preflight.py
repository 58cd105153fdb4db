"""Decide from a plan against an applied stack: the ``secrets`` scenario applied once on the target, then real plans.

- unchanged: the plan decides what the emulator's own preflight decides on the applied stack (will start, the same
  rows allowed);
- one permission removed (``scenarios/broken/secret-not-granted``'s override): will not start, for the reasons the
  emulator apply's preflight gives for that case in test_broken.py (kind ``secret`` denied, the asm error, the
  GetSecretValue fix);
- a new stack (an empty state): undecided, naming the unknown ``container_definitions``; the CLI exits 4;
- secrets outside the plan: unknown with their ARN, decided with ``--read-account`` reads on the emulator (which
  the apply seeded with them).

Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import AppliedRun, cli
from fargate_harness.checks import run_of
from fargate_harness.preflight import AwsFacts, preflight
from fargate_harness.preflight.plan import EXIT_UNDECIDED, UNDECIDED, WILL_NOT_START, WILL_START, preflight_plan
from fargate_harness.runner import toolchain
from tests.scenarios._support import need, reference

pytestmark = pytest.mark.scenario("secrets")

BROKEN = Path(__file__).resolve().parents[2] / "scenarios" / "broken" / "secret-not-granted"
TASK = "aws_ecs_task_definition.this[0]"


def plan_file(applied: AppliedRun, name: str, override: Path | None = None) -> Path:
    """``terraform plan -out NAME`` in the applied run's copy (through the run's command path), with ``override``
    copied beside the configuration for this plan only."""
    placed = Path(applied.tfdir) / f"zz_{name}_override.tf"
    if override is not None:
        shutil.copy(override, placed)
    run = run_of(applied)  # the applied value cannot plan; the run behind it can
    try:
        run.plan(f"{name}.tfplan")
    finally:
        placed.unlink(missing_ok=True)
    return Path(applied.tfdir) / f"{name}.tfplan"


def shown(applied: AppliedRun, plan: Path, terraform: Path) -> dict[str, Any]:
    from fargate_harness.preflight.plan import show_plan

    return show_plan(plan, Path(applied.tfdir), terraform)


@pytest.fixture(scope="module")
def terraform(harness_toolchain: toolchain.Toolchain) -> Path:
    return Path(harness_toolchain.terraform)


@pytest.fixture(scope="module")
def unchanged(applied: AppliedRun) -> Path:
    """The binary plan of the applied stack, unchanged (made once for the module)."""
    need(applied, {"ecs"}, "task definition preflight")
    return plan_file(applied, "unchanged")


def test_unchanged_plan_decides_as_the_emulator(applied: AppliedRun, unchanged: Path, terraform: Path) -> None:
    result = preflight_plan(unchanged, directory=applied.tfdir, terraform=terraform)
    (report,) = result.reports
    assert report.verdict == WILL_START, report.table()
    (service,) = reference.services(applied)
    live = preflight(applied.target, service["task_definition_arn"], AwsFacts(applied.target))
    assert live.will_start, live.table()
    assert report.report is not None
    decided = sorted((v.requirement.action, v.requirement.resource, v.allowed) for v in report.report.verdicts)
    emulator = sorted((v.requirement.action, v.requirement.resource, v.allowed) for v in live.verdicts)
    assert decided == emulator, f"secrets: {TASK}: the plan decided {decided}, the emulator {emulator}"
    # the CLI shows the binary plan itself (--plan PLANFILE --dir FOLDER)
    assert cli.main(["preflight", "--plan", str(unchanged), "--dir", str(applied.tfdir)]) == 0


def test_removed_permission_will_not_start(applied: AppliedRun, terraform: Path) -> None:
    need(applied, {"ecs"}, "task definition preflight")
    plan = plan_file(applied, "removed", BROKEN / "execution_role_override.tf")
    result = preflight_plan(plan, directory=applied.tfdir, terraform=terraform)
    (report,) = result.reports
    assert report.verdict == WILL_NOT_START, report.table()
    assert report.report is not None
    denied = {v.requirement.kind for v in report.decided if not v.allowed}
    assert denied == {"secret"}, f"secrets: {TASK}: expected kind secret denied, got {sorted(denied)}"
    assert any("unable to retrieve secret from asm" in e for e in report.errors), report.errors
    fixes = " | ".join(v.fix for v in report.decided if not v.allowed)
    assert '"Action": "secretsmanager:GetSecretValue"' in fixes, fixes


def test_new_resources_are_undecided(applied: AppliedRun, terraform: Path, tmp_path: Path) -> None:
    """Every resource renamed, so the plan creates each anew (as for a new stack; the recorded
    tests/data/plans/aws-3.39/secrets-new-stack.json is planned on an empty state): the containers are unknown."""
    need(applied, {"ecs"}, "task definition preflight")
    renamed = tmp_path / "renamed_override.tf"
    renamed.write_text('locals {\n  name = "${var.name_prefix}-fresh"\n}\n')
    document = shown(applied, plan_file(applied, "renamed", renamed), terraform)
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(document))
    result = preflight_plan(path)
    (report,) = result.reports
    assert report.verdict == UNDECIDED, report.table()
    assert f"{TASK}.container_definitions" in {u.where for u in report.unknowns}, report.table()
    assert cli.main(["preflight", "--plan", str(path)]) == EXIT_UNDECIDED


def test_secrets_outside_the_plan_read_with_read_account(
    applied: AppliedRun, unchanged: Path, terraform: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The secrets dropped from the plan (as if passed in as variables): unknown with their ARN; read on the
    emulator with read-only calls when asked."""
    document = shown(applied, unchanged, terraform)

    def keep(item: dict[str, Any]) -> bool:
        return not str(item["type"]).startswith("aws_secretsmanager_")

    document["resource_changes"] = [c for c in document["resource_changes"] if keep(c)]
    root = document["prior_state"]["values"]["root_module"]
    root["resources"] = [r for r in root["resources"] if keep(r)]
    path = tmp_path / "outside.json"
    path.write_text(json.dumps(document))
    alone = preflight_plan(path)
    (report,) = alone.reports
    assert report.verdict == UNDECIDED, report.table()
    assert all(":secret:" in u.where for u in report.unknowns), [u.where for u in report.unknowns]
    read = preflight_plan(path, live=AwsFacts(applied.target))
    (decided,) = read.reports
    # read-only calls decide the permissions and that both secrets exist; a secret's value is never read, so the
    # JSON key of DB_PASSWORD (db-credentials:password) stays undecided
    assert decided.verdict == UNDECIDED, decided.table()
    assert [u.why for u in decided.unknowns if "db-credentials" in u.where] and all(
        "db-credentials" in u.where and "never read" in u.why for u in decided.unknowns
    ), decided.table()
    assert decided.report is not None and all(v.allowed for v in decided.decided), decided.table()
    # the CLI's --read-account starts a target of its own (a fresh emulator: the secrets are not there), and
    # decides: not undecided (4), but will not start (1)
    capsys.readouterr()
    assert cli.main(["preflight", "--plan", str(path), "--read-account", "--target", "embedded"]) == 1
    printed = capsys.readouterr().out
    assert "does not exist" in printed and "plan verdict: will not start" in printed, printed[-3000:]
