"""``fargate-harness run`` applies the configurations it can as modules of one root (runner/batch.py), and
each still gets its own verdict: the checks on its own state, and when the batch fails, a run of its own.

The CLI tests run it in a child process, as a user does, on the session's emulator; the last test checks the
``scenario_batch`` fixture, the same rule for pytest."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from fargate_harness import configurations
from fargate_harness.configurations import Configuration
from fargate_harness.errors import ConfigurationError
from fargate_harness.plugin import Together
from fargate_harness.runner.session import logged_commands
from fargate_harness.targets import Target
from tests.safety.conftest import ROOT, cli


@pytest.fixture(autouse=True)
def _embedded_only(harness_target: Target) -> None:
    if harness_target.name != "embedded":
        pytest.skip("the CLI shares the embedded emulator of the session (HARNESS_EMBEDDED_ENDPOINT)")


def run(target: Target, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert target.endpoint_url
    env = {"HARNESS_EMBEDDED_ENDPOINT": target.endpoint_url, "HARNESS_RESULTS_DIR": str(tmp_path / "results")}
    return cli("run", *args, env=env)


def row(stdout: str, name: str) -> str:
    found = [line for line in stdout.splitlines() if line.startswith(f"{name} ")]
    assert len(found) == 1, f"expected one table row for {name}, got {found} in:\n{stdout}"
    return found[0]


def left_behind(target: Target, prefix: str) -> list[str]:
    logs = target.client("logs").describe_log_groups(logGroupNamePrefix=f"/ecs/{prefix}")["logGroups"]
    roles = target.client("iam").list_roles()["Roles"]
    return [g["logGroupName"] for g in logs] + [r["RoleName"] for r in roles if r["RoleName"].startswith(prefix)]


def test_a_batch_gives_each_member_its_own_verdict_and_destroys_once(harness_target: Target, tmp_path: Path) -> None:
    answer = run(harness_target, tmp_path, "--scenario", "secrets", "--scenario", "broken/log-group-missing")
    shown = answer.stdout + answer.stderr
    assert answer.returncode == 1, (
        f"expected exit 1 (the broken case fails its checks), got {answer.returncode}:\n{shown}"
    )
    assert "batch: secrets, broken/log-group-missing applied as one root" in answer.stderr, answer.stderr
    assert " ok " in row(answer.stdout, "secrets"), f"secrets: expected ok in a batch, got:\n{shown}"
    assert " FAIL " in row(answer.stdout, "broken/log-group-missing"), shown
    kept = re.search(r"kept for inspection: (\S+/batch-(fh-cli-[0-9a-f]{6}))$", answer.stdout, re.MULTILINE)
    assert kept, f"expected the batch's folder kept (a member failed), got:\n{answer.stdout}"
    folder, prefix = Path(kept.group(1)), kept.group(2)
    # the broken case is the batch's second member: its names carry <batch prefix>-2 (runner/batch.py)
    assert "FAIL tasks_start: broken/log-group-missing: expected every task to start" in answer.stdout
    assert f"log group /ecs/{prefix}-2-app-missing does not exist" in answer.stdout, answer.stdout

    commands = [argv[1] for argv in logged_commands((folder / "terraform.log").read_text())]
    assert commands.count("apply") == 1 and commands.count("destroy") == 1, f"batch: ran {commands}"
    assert not left_behind(harness_target, prefix), f"batch {prefix}: left {left_behind(harness_target, prefix)}"


def bad_retention_case(tree: Path) -> Path:
    """A case of basic whose log group asks for a retention CloudWatch Logs refuses (the CloudWatch Logs API
    Reference, PutRetentionPolicy, lists the accepted periods): its plan fails."""
    case = tree / "cases" / "bad-retention"
    case.mkdir(parents=True)
    (case / "case.json").write_text('{"base": "basic"}\n')
    overlay = case / "retention_override.tf"
    overlay.write_text('resource "aws_cloudwatch_log_group" "this" {\n  retention_in_days = 8\n}\n')
    return overlay


def test_a_failed_batch_runs_each_member_alone(harness_target: Target, tmp_path: Path) -> None:
    """A member whose plan fails fails the batch; each member then runs alone, so the error Terraform reports
    is the configuration's own (its own addresses), and the one that works still passes."""
    tree = tmp_path / "scenarios"
    bad_retention_case(tree)
    for name in ("secrets", "basic"):
        (tree / name).symlink_to(ROOT / "scenarios" / name)

    answer = run(
        harness_target,
        tmp_path,
        "--tf-scenarios-dir",
        str(tree),
        "--scenario",
        "secrets",
        "--scenario",
        "cases/bad-retention",
    )
    shown = answer.stdout + answer.stderr
    # a value the provider version refuses is bad input (exit 2), named in the member's own addresses
    assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}:\n{shown}"
    assert re.search(r"batch failed \(.*expected retention_in_days", answer.stderr), answer.stderr
    assert "running each alone" in answer.stderr
    assert " ok " in row(answer.stdout, "secrets"), f"secrets: expected ok when run alone, got:\n{shown}"
    assert " FAIL " in row(answer.stdout, "cases/bad-retention"), shown
    assert "(in aws_cloudwatch_log_group.this;" in shown, f"expected the case's own address, got:\n{shown}"
    batches = list((tmp_path / "results").glob("*/batch-fh-cli-*"))
    assert batches, "expected the failed batch's folder kept for inspection"


def test_the_batch_fixture_applies_each_member_alone_when_the_batch_fails(
    scenario_batch: Callable[..., Together], tmp_path: Path
) -> None:
    """The pytest side of the same rule (``scenario_batch``): the failing case raises Terraform's own error in
    its own addresses for the test that asks for it; the other member is applied alone and usable."""
    bad = Configuration("cases/bad-retention", ROOT / "scenarios" / "basic", (bad_retention_case(tmp_path),))
    together = scenario_batch([configurations.get("secrets", ROOT / "scenarios"), bad])

    secrets = together.run("secrets")
    assert re.fullmatch(r"fh-\w+-[0-9a-f]{6}", secrets.prefix), (
        f"secrets: expected a run of its own, got {secrets.prefix}"
    )
    assert secrets.inventory.task_definitions, f"secrets: expected its task definition, got {secrets.resources}"
    with pytest.raises(ConfigurationError) as caught:
        together.run("cases/bad-retention")
    assert "(in aws_cloudwatch_log_group.this;" in str(caught.value), str(caught.value)
