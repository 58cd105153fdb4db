"""Unit tests for fargate_harness.cli (exit codes, options, report), fargate_harness.options, checks helpers and errors.

``main`` is only driven down paths that fail or finish before any Terraform or emulator would start;
the toolchain and target factories are replaced by tripwires to prove it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import cli
from fargate_harness import options as config
from fargate_harness.checks import CheckResult
from fargate_harness.cli import REGISTRY_HINT, format_report, main, options_from_args
from fargate_harness.configurations import discover
from fargate_harness.errors import ConfigurationError, TerraformError
from fargate_harness.lifecycle import Lifecycle, Outcome, run_checks
from fargate_harness.options import Options
from fargate_harness.runner import toolchain
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.base import Target
from tests.scenarios._support import reference

PROJECT = Path(__file__).resolve().parents[2]
REAL_SCENARIOS = PROJECT / "scenarios"
KNOWN = ("basic", "secrets", "ssm-kms", "cross-account-ecr", "module-reuse", "task-role")
ENV = (
    "HARNESS_TARGET",
    "TERRAFORM_BINARY",
    "HARNESS_PROVIDER_SOURCE",
    "HARNESS_RESULTS_DIR",
    "HARNESS_SCENARIOS_DIR",
    "HARNESS_LOCALSTACK_ENDPOINT",
    "HARNESS_REGISTRY_ROLE_ARN",
    "HARNESS_AWS_REGION",
    "HARNESS_RUN_ID",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No harness settings from the developer's shell; caches go to tmp_path."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))


CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if main() gets as far as preparing Terraform or building a target."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        pytest.fail("main() went past validation: it prepared Terraform or built a target")

    monkeypatch.setattr(toolchain, "prepare", boom)
    monkeypatch.setattr(cli, "start_target", boom)


def _target(endpoint: str | None = "http://127.0.0.1:4599", region: str = "us-east-1", **kwargs: Any) -> Target:
    return Target(name="embedded", region=region, endpoint_url=endpoint, **kwargs)


def _toolchain(tmp_path: Path) -> Toolchain:
    return Toolchain(Path("/nonexistent/terraform"), "1.9.8", "test", "registry", tmp_path / "c.tfrc", tmp_path / "pc")


# -- main: exit codes --------------------------------------------------------------------------------


@pytest.mark.usefixtures("tripwires")
def test_run_unknown_scenario_exits_2_listing_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in --scenario fails validation (exit 2) before any Terraform or emulator starts."""
    code = main(["run", "--scenario", "nope", "--tf-scenarios-dir", str(REAL_SCENARIOS)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("fargate-harness: unknown scenario(s) nope; known: ")
    for name in KNOWN:
        assert name in captured.err


@pytest.mark.usefixtures("tripwires")
def test_run_reports_every_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    """Several unknown names are all reported; known ones in the same call do not start anything."""
    code = main(
        [
            "run",
            "--scenario",
            "basic",
            "--scenario",
            "nope",
            "--scenario",
            "nada",
            "--tf-scenarios-dir",
            str(REAL_SCENARIOS),
        ]
    )
    assert code == 2
    assert "unknown scenario(s) nope, nada" in capsys.readouterr().err


@pytest.mark.usefixtures("tripwires")
def test_run_with_a_missing_scenarios_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenarios folder that does not exist is bad input, with the fix in the message."""
    assert main(["run", "--tf-scenarios-dir", str(tmp_path / "nowhere")]) == 2
    assert "--tf-scenarios-dir / HARNESS_SCENARIOS_DIR" in capsys.readouterr().err


@pytest.mark.usefixtures("tripwires")
def test_run_reads_the_scenarios_dir_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HARNESS_SCENARIOS_DIR is used when the option is absent."""
    monkeypatch.setenv("HARNESS_SCENARIOS_DIR", str(tmp_path / "from-env"))
    assert main(["run"]) == 2
    assert "from-env" in capsys.readouterr().err


def test_dir_and_scenario_are_both_run_folders_first(tmp_path: Path) -> None:
    """``--dir`` and ``--scenario`` together name every configuration: none is dropped. A folder whose name is a
    scenario's is labelled by its path; ``--dir`` alone runs no reference scenario."""
    own = tmp_path / "secrets"
    own.mkdir()
    (own / "main.tf").write_text('resource "aws_iam_role" "this" {}\n')
    options = Options(scenarios_dir=REAL_SCENARIOS)
    both = cli.chosen_configurations(argparse.Namespace(dir=[str(own)], scenario=["secrets", "basic"]), options)
    assert [(s.name, s.path) for s in both] == [
        (str(own), own),
        ("secrets", REAL_SCENARIOS / "secrets"),
        ("basic", REAL_SCENARIOS / "basic"),
    ]
    alone = cli.chosen_configurations(argparse.Namespace(dir=[str(own)], scenario=None), options)
    assert [(s.name, s.path) for s in alone] == [("secrets", own)]


def test_scenarios_command_lists_services_and_registry_need(capsys: pytest.CaptureFixture[str]) -> None:
    """``scenarios`` prints one line per scenario; only cross-account-ecr needs a registry account."""
    assert main(["scenarios", "--tf-scenarios-dir", str(REAL_SCENARIOS)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(KNOWN) <= set(lines)
    assert lines["cross-account-ecr"].endswith("+ registry account")
    assert "registry account" not in lines["basic"]
    assert "iam" in lines["basic"] and "ecs" in lines["basic"]


def test_toolchain_command_with_a_bad_tf_binary_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A non-executable --tf-binary is bad input (exit 2) and the message quotes it."""
    bad = tmp_path / "terraform.txt"
    bad.write_text("not a program")
    assert main(["toolchain", "--tf-binary", str(bad)]) == 2
    assert repr(str(bad)) in capsys.readouterr().err


def test_toolchain_command_with_an_old_terraform_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A too-old Terraform is a toolchain failure (exit 1), not bad input."""
    old = tmp_path / "terraform"
    old.write_text("#!/bin/sh\nprintf '%s\\n' '{\"terraform_version\": \"1.2.0\"}'\n")
    old.chmod(0o755)
    assert main(["toolchain", "--tf-binary", str(old), "--tf-provider-source", "registry"]) == 1
    assert "needs >= 1.3" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["run", "--target", "moto"], ["run", "--tf-provider-source", "ftp"], [], ["deploy"]],
)
def test_argparse_rejects_bad_choices_with_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Invalid choices and a missing sub-command exit 2 through argparse."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


# -- options_from_args -------------------------------------------------------------------------------


def test_options_command_line_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each setting: option first, then its environment variable, then the default."""
    parser = cli.build_parser()
    defaults = options_from_args(parser.parse_args(["run", "--tf-scenarios-dir", str(REAL_SCENARIOS)]))
    assert defaults.target == "embedded"
    assert defaults.results_dir == Path("results")
    assert defaults.tf_binary is None and defaults.region is None and not defaults.keep

    monkeypatch.setenv("HARNESS_TARGET", "localstack")
    monkeypatch.setenv("HARNESS_AWS_REGION", "eu-west-1")
    monkeypatch.setenv("HARNESS_RESULTS_DIR", "/tmp/r")
    monkeypatch.setenv("HARNESS_SCENARIOS_DIR", str(REAL_SCENARIOS))
    from_env = options_from_args(parser.parse_args(["run"]))
    assert (from_env.target, from_env.region, from_env.results_dir) == ("localstack", "eu-west-1", Path("/tmp/r"))
    assert from_env.scenarios_dir == REAL_SCENARIOS

    from_args = options_from_args(
        parser.parse_args(["run", "--target", "aws", "--aws-region", "us-west-2", "--keep", "--tf-results-dir", "out"])
    )
    assert (from_args.target, from_args.region, from_args.keep) == ("aws", "us-west-2", True)
    assert from_args.results_dir == Path("out")


def test_options_scenarios_dir_is_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative scenarios folder is resolved against the working directory."""
    monkeypatch.chdir(PROJECT)
    options = options_from_args(cli.build_parser().parse_args(["scenarios", "--tf-scenarios-dir", "scenarios"]))
    assert options.scenarios_dir == REAL_SCENARIOS
    assert options.scenarios_dir.is_absolute()


# -- Lifecycle.one skips (no Terraform) --------------------------------------------------------------


def test_lifecycle_skips_when_the_target_lacks_services(tmp_path: Path) -> None:
    """A target without s3 skips task-role and names what is missing (dynamodb is optional there)."""
    scenario = discover(REAL_SCENARIOS)["task-role"]
    target = _target(available_services=frozenset({"iam", "sts", "ecs", "logs", "secretsmanager"}))
    outcome = Lifecycle(target, _toolchain(tmp_path), tmp_path, registry_hint=REGISTRY_HINT).one(
        scenario, run_checks(None)
    )
    assert outcome.skipped == "target embedded lacks s3"
    assert outcome.run is None and outcome.ok
    assert not list(tmp_path.rglob("*.tf"))


def test_lifecycle_skips_cross_account_without_a_registry_role(tmp_path: Path) -> None:
    """A cross-account scenario on a target with no registry role is skipped, not failed."""
    scenario = discover(REAL_SCENARIOS)["cross-account-ecr"]
    outcome = Lifecycle(_target(), _toolchain(tmp_path), tmp_path, registry_hint=REGISTRY_HINT).one(
        scenario, run_checks(None)
    )
    assert outcome.skipped == "needs a registry account (--registry-role-arn)"
    assert outcome.run is None


# -- format_report -----------------------------------------------------------------------------------


def test_format_report_summarises_passed_failed_and_skipped() -> None:
    """One line per scenario, the failures spelled out, and the N passed, N failed, N skipped summary."""
    outcomes = [
        Outcome("basic", results=[CheckResult("trust_policies", True, 2), CheckResult("kms", True, 0)]),
        Outcome(
            "secrets",
            results=[
                CheckResult("trust_policies", True, 1),
                CheckResult("least_privilege", False, 0, "secrets: role: expected 1 secret, got *"),
            ],
        ),
        Outcome("task-role", skipped="target localstack lacks dynamodb"),
    ]
    report = format_report(outcomes, _target(), 12.34)
    lines = report.splitlines()
    assert lines[0] == "target: embedded at http://127.0.0.1:4599 (us-east-1)"
    assert lines[1].split()[:4] == ["configuration", "result", "resources", "checks"]
    rows = {line.split()[0]: line.split() for line in lines[3:6]}
    assert rows["basic"][1:4] == ["ok", "0", "1/1"]
    assert rows["secrets"][1:4] == ["FAIL", "0", "1/2"]
    assert rows["task-role"][1] == "skip"
    assert "task-role            skip    target localstack lacks dynamodb" in lines
    assert "  FAIL least_privilege: secrets: role: expected 1 secret, got *" in lines
    assert lines[-1] == "1 passed, 1 failed, 1 skipped in 12.3s"


def test_format_report_shows_errors_and_uses_the_region_for_real_aws() -> None:
    """A scenario that errored is failed with its message; real AWS shows the region."""
    report = format_report([Outcome("basic", error="apply exited 1")], _target(endpoint=None, region="eu-west-1"), 1.0)
    assert report.splitlines()[0] == "target: embedded (eu-west-1)"
    assert "  ERROR: apply exited 1" in report
    assert report.endswith("0 passed, 1 failed, 0 skipped in 1.0s")


def test_the_header_names_where_the_configuration_was_deployed_and_notes_print_once() -> None:
    """A configuration deployed in eu-west-1 in its own account (``allowed_account_ids``) on a target started in
    us-east-1: the header names eu-west-1 and the account, not the target's default region; a note two checks (or
    two containers) share prints once; the column says "configuration" (a user's folder is not a scenario)."""
    from types import SimpleNamespace

    deployed = _target(region="eu-west-1", _account="111122223333")
    run = SimpleNamespace(target=deployed, resources=["aws_ecs_task_definition.app"], timings={}, failed=False)
    note = "log group /ecs/web: retention 30 days"
    outcome = Outcome(
        "platform",
        run=run,  # type: ignore[arg-type]
        results=[CheckResult("awslogs_groups_exist", True, 2, notes=(note, note)), CheckResult("kms", True, 1)],
    )
    report = format_report([outcome], _target(), 1.0)
    lines = report.splitlines()
    assert lines[0] == "target: embedded at http://127.0.0.1:4599; deployed in eu-west-1, account 111122223333", report
    assert report.count(note) == 1, report
    assert lines[1].startswith("configuration "), report


def test_outcome_ok() -> None:
    """ok needs no error and every check passed; n/a checks (passed, no subjects) do not fail it."""
    assert Outcome("a").ok
    assert Outcome("a", results=[CheckResult("c", True, 0)]).ok
    assert not Outcome("a", results=[CheckResult("c", False)]).ok
    assert not Outcome("a", error="boom").ok


# -- checks helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "verdict"),
    [
        (CheckResult("c", True, 3), "pass"),
        (CheckResult("c", True, 0), "n/a"),
        (CheckResult("c", False, 0, "m"), "FAIL"),
    ],
)
def test_check_result_verdict(result: CheckResult, verdict: str) -> None:
    """pass with subjects, n/a without, FAIL whenever it did not pass."""
    assert result.verdict == verdict


def test_service_helpers() -> None:
    """Facts are indexable; declared lists default to empty when absent or null."""
    service = reference.Service(
        "api",
        {
            "execution_role_name": "fh-api-exec",
            "declared": {"secret_arns": ["arn:a"], "kms_key_arns": None},
            "task_declared": {"s3_bucket_arns": ["arn:aws:s3:::b"]},
        },
    )
    assert service["execution_role_name"] == "fh-api-exec"
    assert service.declared("secret_arns") == ["arn:a"]
    assert service.declared("kms_key_arns") == []
    assert service.declared("ssm_parameter_arns") == []
    assert service.task_declared("s3_bucket_arns") == ["arn:aws:s3:::b"]
    assert reference.Service("w", {"declared": None}).declared("secret_arns") == []
    assert reference.Service("w", {}).task_declared("dynamodb_table_arns") == []
    with pytest.raises(KeyError):
        service["missing"]


# -- config ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False), ("", False), ("no", False)],
)
def test_env_flag(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    """1/true/yes/on in any case are true, anything else false."""
    monkeypatch.setenv("HARNESS_TEST_FLAG", value)
    assert config.env_flag("HARNESS_TEST_FLAG") is expected
    assert config.env_flag("HARNESS_TEST_FLAG_UNSET") is False


def test_run_id_is_set_once_per_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The first call sets HARNESS_RUN_ID; later calls and run_dir reuse it."""
    monkeypatch.setenv("HARNESS_RUN_ID", "")  # empty counts as unset; monkeypatch removes the generated id after
    first = config.run_id()
    assert first and os.environ["HARNESS_RUN_ID"] == first
    assert first == config.run_id()
    assert Options(results_dir=tmp_path).run_dir == tmp_path.resolve() / first
    monkeypatch.setenv("HARNESS_RUN_ID", "given")
    assert config.run_id() == "given"


def test_options_validate(tmp_path: Path) -> None:
    """validate() passes an existing scenarios folder and refuses a missing one with the fix."""
    assert Options(scenarios_dir=tmp_path).validate().scenarios_dir == tmp_path
    with pytest.raises(ConfigurationError, match="HARNESS_SCENARIOS_DIR"):
        Options(scenarios_dir=tmp_path / "missing").validate()


# -- errors ------------------------------------------------------------------------------------------


def test_terraform_error_message_prefers_stderr() -> None:
    """The message has the command, exit code and stderr; the parts are kept as attributes."""
    error = TerraformError(["terraform", "apply"], 1, "Error: boom\n", "lots of output")
    assert str(error) == "`terraform apply` exited 1:\nError: boom"
    assert (error.command, error.exit_code, error.stdout) == (["terraform", "apply"], 1, "lots of output")


def test_terraform_error_falls_back_to_the_tail_of_stdout() -> None:
    """Without stderr, the last 2000 characters of stdout explain the failure."""
    stdout = "x" * 5000 + "Error: at the end"
    message = str(TerraformError(["terraform", "plan"], 1, "", stdout))
    assert message.endswith("Error: at the end")
    assert len(message.split("\n", 1)[1]) == 2000


@pytest.mark.usefixtures("tripwires")
@pytest.mark.parametrize("command", ["run", "preflight"])
@pytest.mark.parametrize("deployer", ["notanarn", "arn:aws:s3:::bucket", "arn:aws:iam::1234:role/short"])
def test_a_deployer_that_is_not_a_principal_arn_exits_2_before_any_apply(
    command: str, deployer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--deployer is checked before Terraform is prepared or a target built (the tripwires), naming the option,
    the value and the form expected; before, a bad value ran the whole apply and crashed three checks."""
    folder = PROJECT / "tests" / "data" / "configs" / "tutorial-web"
    assert main([command, "--dir", str(folder), "--deployer", deployer]) == 2
    err = capsys.readouterr().err
    assert "--deployer" in err and repr(deployer) in err, err


@pytest.mark.usefixtures("tripwires")
def test_a_bare_run_outside_this_repository_says_to_give_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a user's repository there is no scenarios folder: the message points at --dir, not at our scenarios."""
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "no --dir was given" in err and "fargate-harness run --dir infra" in err, err


def test_run_json_and_junit_carry_each_check_and_the_teardown_apart() -> None:
    """``run --json`` and ``run --junitxml``: a verdict per check, the teardown reported on its own."""
    from xml.etree import ElementTree as ET

    from fargate_harness.cli import junit_xml, outcomes_json

    outcomes = [
        Outcome("web", results=[CheckResult("tasks_start", False, 0, "web: task x: expected to start, got denied")]),
        Outcome("db", results=[CheckResult("tasks_start", True, 1)], destroy_error="db: cannot be deleted"),
        Outcome("q", skipped="target localstack lacks ecs"),
    ]
    document = outcomes_json(outcomes, _target())
    assert document["schema_version"] == 1 and document["ok"] is False and document["exit_code"] == 1
    web, db, _q = document["configurations"]  # type: ignore[misc]
    assert web["checks"][0]["verdict"] == "FAIL" and db["ok"] is True and db["destroy_error"]
    suite = ET.fromstring(junit_xml(outcomes, 1.0).split("\n", 1)[1])
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "4",
        "1",
        "1",
        "1",
    )
    failed = [c for c in suite if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [("web", "tasks_start")]


def test_an_interrupted_configuration_says_interrupted_and_junit_keeps_notes_apart() -> None:
    """Ctrl-C: the table says interrupted (not FAIL) and counts it apart; a check's notes (the preflight's warnings)
    go to the JUnit case's system-out, never into its failure message."""
    from xml.etree import ElementTree as ET

    from fargate_harness.cli import junit_xml

    warning = "warning: aws_ecs_task_definition.app: expected secret x to exist, got no value yet"
    outcomes = [
        Outcome("web", interrupted=True, error="interrupted: destroyed without running the checks"),
        Outcome("db", results=[CheckResult("tasks_start", False, 0, "db: denied", notes=(warning,))]),
    ]
    report = format_report(outcomes, _target(), 2.0)
    (row,) = [line for line in report.splitlines() if line.startswith("web ")]
    assert row.split()[1] == "interrupted", report
    assert report.splitlines()[-1] == "0 passed, 1 failed, 0 skipped, 1 interrupted in 2.0s", report
    suite = ET.fromstring(junit_xml(outcomes, 1.0).split("\n", 1)[1])
    (case,) = [c for c in suite if c.get("classname") == "db"]
    failure = case.find("failure")
    assert failure is not None and warning not in (failure.text or "") + (failure.get("message") or "")
    assert case.findtext("system-out") == warning, ET.tostring(case, encoding="unicode")


def test_clean_removes_finished_runs_and_names_those_with_resources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose process is gone and whose state lists nothing goes; one whose state lists resources stays, named
    with what to do (sweep)."""
    import json as _json

    def run(run_id: str, resources: list[dict[str, Any]]) -> Path:
        folder = tmp_path / run_id / "web-fh-cli-000001"
        tfdir = folder / "config"
        tfdir.mkdir(parents=True)
        record = {
            "run_id": run_id,
            "prefix": "fh-cli-000001",
            "label": "web",
            "source": "infra",
            "target": "embedded",
            "endpoint": None,
            "region": "us-east-1",
            "accounts": [],
            "pid": 999999999,
            "started": "2026-12-07T00:00:00Z",
            "tfdir": str(tfdir),
        }
        (folder / "run.json").write_text(_json.dumps(record))
        (tfdir / "terraform.tfstate").write_text(_json.dumps({"resources": resources}))
        config.mark_run_dir(folder.parent)
        return folder.parent

    finished = run("run-1", [])
    holding = run("run-2", [{"type": "aws_iam_role", "instances": [{}]}])
    assert main(["clean", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert not finished.exists() and holding.exists(), out
    assert "its state still lists resources (fargate-harness sweep destroys them)" in out, out


def test_clean_leaves_folders_it_did_not_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``results/nightly/`` (a user's JUnit and report, where docs/nightly.md sends them) and ``results/shards/`` hold
    no run of the harness and no marker: ``clean`` leaves them, and says so; ``--dry-run`` says "would remove"."""
    nightly = tmp_path / "nightly"
    nightly.mkdir()
    (nightly / "junit.xml").write_text("<testsuite/>")
    shards = tmp_path / "shards" / "shard-1"
    shards.mkdir(parents=True)
    ours = config.Options(results_dir=tmp_path).run_dir  # asked for by a run: created with its marker
    (ours / "summaries").mkdir()
    assert main(["clean", "--results-dir", str(tmp_path), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert f"would remove {ours}" in dry and "removed" not in dry, dry
    assert main(["clean", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (nightly / "junit.xml").is_file() and shards.is_dir(), out
    assert not ours.exists(), out
    assert f"not run folders of fargate-harness, no {config.RUN_MARKER} file" in out, out


def test_sweep_ends_with_the_total_of_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last line of ``sweep`` is the whole run's count (kept emulators and the target together), and a dry run
    says nothing was removed: it never contradicts the lines above it."""
    monkeypatch.delenv("HARNESS_EMBEDDED_ENDPOINT", raising=False)
    code = main(["sweep", "--dry-run", "--results-dir", str(tmp_path), "--tf-results-dir", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0, lines
    assert lines[0] == "on target embedded:", lines
    assert lines[-1] == (
        "in all: 0 run folder(s), 0 destroyed; 0 resource(s) found, 0 deleted, 0 failed (dry run: nothing was removed)"
    ), lines


@pytest.mark.usefixtures("tripwires")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--dir", "/nonexistent/infra"], "no such folder"),
        (["run", "--dir", str(CONFIGS / "tutorial-web"), "--var", "app_name"], "expected NAME=VALUE"),
        (["preflight", "--dir", str(CONFIGS / "tutorial-web"), "--var-file", "/nonexistent.tfvars"], "no such file"),
    ],
)
def test_bad_dir_input_exits_2_with_the_fix_before_anything_starts(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused while the arguments are read, before Terraform or a target is prepared (the tripwires)."""
    assert main(argv) == 2
    assert message in capsys.readouterr().err
