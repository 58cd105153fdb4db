"""terraform test on the emulator, without Terraform: the test files Terraform would find, the provider blocks that
are refused, and what ``terraform test -json -verbose`` said, read from streams recorded here (Terraform 1.11.4,
aws 3.39.0, a role configuration with a plan run and an apply run; and a failing assert)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.runner.masking import Masker
from fargate_harness.runner.tftest import (
    FileResult,
    RunResult,
    TerraformTest,
    expected_not_to_start,
    find_test_files,
    providers_in,
    read_stream,
)
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.base import Target

DATA = Path(__file__).resolve().parents[1] / "data" / "tftest"
EMULATOR = Target(name="embedded", region="us-east-1", endpoint_url="http://127.0.0.1:1")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_test_files_are_found_where_terraform_looks(tmp_path: Path) -> None:
    _write(tmp_path / "main.tf", "")
    _write(tmp_path / "smoke.tftest.hcl", "")
    _write(tmp_path / "tests" / "role.tftest.hcl", "")
    _write(tmp_path / "tests" / "json.tftest.json", "{}")
    _write(tmp_path / "tests" / "setup" / "deep.tftest.hcl", "")  # not in the test directory itself
    _write(tmp_path / "tests" / "notes.hcl", "")
    assert find_test_files(tmp_path) == ["smoke.tftest.hcl", "tests/json.tftest.json", "tests/role.tftest.hcl"]


def test_a_provider_block_is_found_with_its_line_and_a_mock_is_not(tmp_path: Path) -> None:
    text = (
        'run "a" {\n  command = plan\n}\n\nmock_provider "aws" {\n  alias = "fake"\n}\n\n'
        'provider "aws" {\n  region = "eu-west-1"\n}\n'
    )
    path = _write(tmp_path / "tests" / "x.tftest.hcl", text)
    assert providers_in(path, {"aws"}) == [f"{path}:9"]
    assert providers_in(_write(tmp_path / "y.tftest.hcl", text.split("\nprovider", maxsplit=1)[0]), {"aws"}) == []
    other_name = _write(tmp_path / "z.tftest.hcl", 'provider "amazon" {\n  region = "x"\n}\n')
    assert providers_in(other_name, {"aws", "amazon"}) == [f"{other_name}:1"], "the local name is the provider's"


def test_a_test_file_with_an_aws_provider_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "cfg" / "main.tf", 'resource "aws_iam_role" "r" {}\n')
    _write(tmp_path / "cfg" / "tests" / "t.tftest.hcl", 'run "a" {}\n\nprovider "aws" {\n  region = "x"\n}\n')
    tools = Toolchain(Path("/nonexistent/terraform"), "1.9.8", "test", "registry", tmp_path / "c.tfrc", tmp_path / "pc")
    with pytest.raises(ConfigurationError, match=r"tests/t\.tftest\.hcl:3\) would replace the harness's emulator"):
        TerraformTest(tmp_path / "cfg", "tests/t.tftest.hcl", EMULATOR, tools, tmp_path / "results", "fh-t-1")


def test_runs_that_may_leave_tasks_that_would_not_start_are_named_in_a_comment(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.tftest.hcl", '# fargate-harness: tasks-may-not-start broken other\nrun "broken" {}\n')
    assert expected_not_to_start(path) == {"broken", "other"}
    assert expected_not_to_start(_write(tmp_path / "u.tftest.hcl", 'run "x" {}\n')) == frozenset()


def test_a_passing_stream_gives_each_run_and_the_apply_runs_state() -> None:
    lines = (DATA / "pass.jsonl").read_text().splitlines()
    result = read_stream(lines, "tests/role.tftest.hcl", Masker())
    assert result.status == "pass"
    assert [(r.name, r.status) for r in result.runs] == [("plan_it", "pass"), ("apply_it", "pass")]
    plan_run, apply_run = result.runs
    assert plan_run.state is None, "a plan run leaves no state"
    assert apply_run.state is not None
    (resource,) = apply_run.state["values"]["root_module"]["resources"]
    assert resource["address"] == "aws_iam_role.exec"


def test_a_failing_assert_is_the_runs_diagnostic_with_terraforms_message() -> None:
    masker = Masker()
    masker.add("someone-else")
    result = read_stream((DATA / "fail.jsonl").read_text().splitlines(), "tests/fail.tftest.hcl", masker)
    (run,) = result.runs
    assert run.status == "fail" and not run.passed and result.status == "fail"
    assert run.diagnostics == ["tests/fail.tftest.hcl:3: error: Test assertion failed: the role is not called ***"]


def test_a_finding_fails_a_passing_run_unless_the_file_expects_it() -> None:
    run = RunResult("t.tftest.hcl", "apply", "pass", findings=["secret: unable to retrieve secret from asm"])
    assert not run.passed
    run.expected_not_to_start = True
    assert run.passed
    result = FileResult("t.tftest.hcl", "123456789012", Path(), [run], "pass", exit_code=0)
    assert result.passed
    result.exit_code = 1
    assert not result.passed, "Terraform's own exit code counts too"
