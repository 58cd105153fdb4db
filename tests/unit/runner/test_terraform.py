"""Unit tests for the run (runner/run.py) and its pieces: retry reasons, module copying, lock/provider parsing.

Terraform itself never runs: TerraformRun's command line (runner.command) is replaced by a scripted fake where a stage
needs a command's answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.errors import ConfigurationError, InterruptedRun, NotIdempotentError, TerraformError
from fargate_harness.runner import hcl
from fargate_harness.runner.command import CommandOutput
from fargate_harness.runner.diagnostics import RETRYABLE_ERRORS, RetryPolicy, empty_lookups, fatal
from fargate_harness.runner.overrides import (
    OVERRIDE_FILE,
    provider_aliases,
    selected_provider_version,
    user_var_file_text,
)
from fargate_harness.runner.run import TerraformRun
from fargate_harness.runner.session import logged_commands
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.runner.workspace import copy_configuration, local_module_dirs
from fargate_harness.targets.aws import AwsTarget
from fargate_harness.targets.base import Target

DATA = Path(__file__).resolve().parents[1] / "data" / "core"
PROJECT = Path(__file__).resolve().parents[3]
SECRET = "s3cr3t-Value-That-Must-Not-Leak"
#: A provider schema as ``terraform providers schema -json`` prints it, cut to what the override reads.
SCHEMA = {
    "provider_schemas": {
        "registry.terraform.io/hashicorp/aws": {
            "provider": {
                "block": {
                    "attributes": {
                        name: {"type": "string"}
                        for name in ("region", "profile", "s3_use_path_style", "skip_region_validation")
                    },
                    "block_types": {
                        "endpoints": {"block": {"attributes": {"elbv2": {}, "logs": {}, "sts": {}, "iam": {}}}}
                    },
                }
            }
        }
    }
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Provider schemas are cached per version: never write a test's fake schema into the real cache."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tree_digest(root: Path) -> str:
    """A hash of every path, file content and symlink under ``root`` (to prove it was not written to)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_symlink():
            digest.update(str(path.readlink()).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small scenario tree: a root module using a shared module, which uses another, plus a local one."""
    root = tmp_path / "project"
    _write(
        root / "scenarios" / "demo" / "main.tf",
        'module "role" {\n  source = "../../modules/role"\n}\n\n'
        'module "local" {\n  source = "./local"\n}\n\n'
        'module "registry" {\n  source  = "terraform-aws-modules/iam/aws"\n  version = "5.0.0"\n}\n\n'
        'module "git" {\n  source = "git::https://example.com/modules.git//iam"\n}\n',
    )
    _write(root / "scenarios" / "demo" / "variables.tf", 'variable "name_prefix" {\n  type = string\n}\n')
    _write(root / "scenarios" / "demo" / "local" / "main.tf", 'resource "aws_ecs_cluster" "this" {}\n')
    _write(root / "modules" / "role" / "main.tf", 'module "policy" {\n  source = "../policy"\n}\n')
    _write(root / "modules" / "policy" / "main.tf", 'resource "aws_iam_policy" "this" {}\n')
    _write(root / "modules" / "unused" / "main.tf", 'resource "aws_s3_bucket" "this" {}\n')
    return root


def _toolchain(tmp_path: Path) -> Toolchain:
    return Toolchain(
        terraform=Path("/nonexistent/terraform"),
        version="1.9.8",
        origin="test",
        provider_source="registry",
        cli_config=tmp_path / "terraform-registry.tfrc",
        plugin_cache=tmp_path / "plugin-cache",
    )


def _emulator() -> Target:
    return Target(
        name="embedded",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:4599",
        access_key="testing",
        secret_key="testing",
    )


def _run(tmp_path: Path, source: Path, target: Target | None = None, **kwargs: Any) -> TerraformRun:
    return TerraformRun(
        source,
        target=target or _emulator(),
        toolchain=_toolchain(tmp_path),
        prefix="fh-test-abc123",
        results_dir=tmp_path / "results",
        **kwargs,
    )


# -- RetryPolicy -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Error: creating IAM Role: ThrottlingException: Rate exceeded", "AWS API throttling"),
        ("operation error ECS: RegisterTaskDefinition, TooManyRequestsException", "AWS API throttling"),
        ("RequestLimitExceeded: Request limit exceeded.", "AWS API throttling"),
        ("RequestError: send request failed\ncaused by: Post https://iam.amazonaws.com/", "transient network error"),
        ("read tcp 10.0.0.1:443: read: connection reset by peer", "transient network error"),
        ("dial tcp 127.0.0.1:4566: connect: connection refused", "transient network error"),
        ("dial tcp: lookup sts.amazonaws.com: i/o timeout", "transient network error"),
        ("net/http: TLS handshake timeout", "connection dropped"),
        ("Post https://ecs.us-east-1.amazonaws.com/: unexpected EOF", "connection dropped"),
        ("Error: reading response: EOF\n", "connection dropped"),
        ("ServiceUnavailable: Service is unavailable", "AWS server error (5xx)"),
        ("InternalFailure: An internal error occurred", "AWS server error (5xx)"),
        ("api error InternalError: We encountered an internal error", "AWS server error (5xx)"),
        ("https response error StatusCode: 503, RequestID: abc", "AWS server error (5xx)"),
        ("status code: 502, request id: abc", "AWS server error (5xx)"),
        ("Error: Provider produced inconsistent result after apply", "eventual consistency: inconsistent result"),
        (
            "User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: sts:AssumeRole",
            "IAM propagation delay",
        ),
        (
            "InvalidParameterException: ECS was unable to assume the role 'arn:aws:iam::1:role/x'",
            "IAM propagation delay",
        ),
        ("MalformedPolicyDocument: Invalid principal in policy", "IAM propagation delay"),
        ("Role arn:aws:iam::1:role/x does not exist or is not assumable", "IAM propagation delay"),
        (
            "Error: error deleting security group: DependencyViolation: resource sg-0a1b has a dependent object",
            "a dependent object is still being deleted",
        ),
    ],
)
def test_retry_reason_names_each_retryable_family(text: str, reason: str) -> None:
    """Every family of transient errors is recognised and named for the retry log."""
    assert RetryPolicy().reason(text) == reason


def test_every_retry_family_is_covered() -> None:
    """The table above exercises every pattern of RETRYABLE_ERRORS (keep them in step)."""
    assert set(RETRYABLE_ERRORS.values()) == {
        "AWS API throttling",
        "transient network error",
        "connection dropped",
        "AWS server error (5xx)",
        "eventual consistency: inconsistent result",
        "IAM propagation delay",
        "a dependent object is still being deleted",
    }


@pytest.mark.parametrize(
    "text",
    [
        "AccessDenied",
        "AccessDeniedException: User is not authorized to perform: iam:CreateRole",
        "Error: Reference to undeclared input variable",
        "EntityAlreadyExists: Role with name fh-x-execution already exists.",
        "ValidationError: 1 validation error detected",
        "",
    ],
)
def test_retry_reason_is_none_for_plain_errors(text: str) -> None:
    """Permanent errors are not retried."""
    assert RetryPolicy().reason(text) is None


# -- local_module_dirs / copy_configuration ----------------------------------------------------------


def test_local_module_dirs_follows_relative_and_nested_sources(project: Path) -> None:
    """The root first, then every module reachable through ``./`` and ``../`` sources (only those)."""
    root = project / "scenarios" / "demo"
    found = local_module_dirs(root)
    assert found[0] == root.resolve()
    assert set(found) == {
        root.resolve(),
        (root / "local").resolve(),
        (project / "modules" / "role").resolve(),
        (project / "modules" / "policy").resolve(),
    }
    assert len(found) == len(set(found))


def test_local_module_dirs_survives_cycles(tmp_path: Path) -> None:
    """Modules sourcing each other do not loop forever."""
    _write(tmp_path / "a" / "main.tf", 'module "b" {\n  source = "../b"\n}\n')
    _write(tmp_path / "b" / "main.tf", 'module "a" {\n  source = "../a"\n}\n')
    assert set(local_module_dirs(tmp_path / "a")) == {(tmp_path / "a").resolve(), (tmp_path / "b").resolve()}


def test_local_module_dirs_reports_a_missing_module(tmp_path: Path) -> None:
    """A local source pointing nowhere is a ConfigurationError naming the folder."""
    _write(tmp_path / "scenarios" / "root" / "main.tf", 'module "gone" {\n  source = "../../modules/gone"\n}\n')
    with pytest.raises(ConfigurationError) as caught:
        local_module_dirs(tmp_path / "scenarios" / "root")
    assert str((tmp_path / "modules" / "gone").resolve()) in str(caught.value)


def test_local_module_dirs_ignores_file_sources_of_resources(tmp_path: Path) -> None:
    """``source`` of an aws_s3_object names a file, not a module; Terraform accepts it, so must the harness."""
    root = tmp_path / "root"
    _write(root / "files" / "app.zip", "zip")
    _write(
        root / "main.tf",
        'resource "aws_s3_object" "app" {\n  bucket = "b"\n  key    = "app.zip"\n  source = "./files/app.zip"\n}\n',
    )
    assert local_module_dirs(root) == [root.resolve()]


def test_local_module_dirs_ignores_commented_out_sources(tmp_path: Path) -> None:
    """A commented-out source is not part of the configuration."""
    root = tmp_path / "root"
    _write(root / "main.tf", 'module "m" {\n  # source = "../old-module"\n  source = "./current"\n}\n')
    _write(root / "current" / "main.tf", "")
    assert set(local_module_dirs(root)) == {root.resolve(), (root / "current").resolve()}


def test_copy_configuration_keeps_layout_and_skips_state(project: Path, tmp_path: Path) -> None:
    """Root and modules keep their relative layout; .terraform and state files are not copied."""
    root = project / "scenarios" / "demo"
    _write(root / ".terraform" / "providers" / "big-binary", "x")
    _write(root / "terraform.tfstate", '{"secret": "state"}')
    _write(root / "terraform.tfstate.backup", "{}")
    _write(root / ".terraform.tfstate.lock.info", "{}")
    _write(root / ".terraform.lock.hcl", (DATA / "lock_terraform.hcl").read_text())
    _write(project / "modules" / "role" / ".terraform" / "modules.json", "{}")
    before = _tree_digest(project)

    destination = tmp_path / "work" / "config"
    copied_root = copy_configuration(root, destination)

    assert copied_root == destination / "scenarios" / "demo"
    assert (copied_root / "main.tf").read_text() == (root / "main.tf").read_text()
    assert (copied_root / "local" / "main.tf").is_file()
    assert (copied_root / ".terraform.lock.hcl").is_file()
    assert (destination / "modules" / "role" / "main.tf").is_file()
    assert (destination / "modules" / "policy" / "main.tf").is_file()
    assert not (destination / "modules" / "unused").exists()
    copied = {p.name for p in destination.rglob("*")}
    assert ".terraform" not in copied
    assert not {"terraform.tfstate", "terraform.tfstate.backup", ".terraform.tfstate.lock.info"} & copied
    # The copy still resolves: every local source of the copy exists inside the destination.
    assert {d.relative_to(destination) for d in local_module_dirs(copied_root)} == {
        Path("scenarios/demo"),
        Path("scenarios/demo/local"),
        Path("modules/role"),
        Path("modules/policy"),
    }
    assert _tree_digest(project) == before, "the source tree was modified"


def test_copy_configuration_of_a_self_contained_module(tmp_path: Path) -> None:
    """A root without shared modules is copied straight into the destination."""
    _write(tmp_path / "solo" / "main.tf", 'resource "aws_iam_role" "r" {}\n')
    copied = copy_configuration(tmp_path / "solo", tmp_path / "dest")
    assert copied == tmp_path / "dest"
    assert (copied / "main.tf").is_file()


def test_copy_configuration_of_the_real_cross_account_scenario(tmp_path: Path) -> None:
    """The project's own scenario copies with both modules it uses, and the project is left untouched."""
    scenario = PROJECT / "scenarios" / "cross-account-ecr"
    before = _tree_digest(scenario)
    copied = copy_configuration(scenario, tmp_path / "config")
    assert copied == tmp_path / "config" / "scenarios" / "cross-account-ecr"
    assert (tmp_path / "config" / "modules" / "ecs-execution-role" / "main.tf").is_file()
    assert (tmp_path / "config" / "modules" / "ecr-cross-account-pull" / "main.tf").is_file()
    assert _tree_digest(scenario) == before


# -- provider_aliases / selected_provider_version / tf_var_env ---------------------------------------


def test_provider_aliases_finds_aws_aliases_only(tmp_path: Path) -> None:
    """Aliased aws blocks (nested blocks included) are found; other providers' aliases are not."""
    shutil.copy(DATA / "providers_aliases.tf", tmp_path / "providers.tf")
    assert provider_aliases(tmp_path) == ["registry", "replica"]


def test_provider_aliases_reads_every_tf_file_but_not_modules(tmp_path: Path) -> None:
    """Aliases come from all of the root's .tf files, not from sub-folders."""
    _write(tmp_path / "a.tf", 'provider "aws" {\n  alias = "first"\n}\n')
    _write(tmp_path / "b.tf", 'provider  "aws"  {\n  alias   =   "second"\n  region = "eu-west-1"\n}\n')
    _write(tmp_path / "modules" / "m" / "main.tf", 'provider "aws" {\n  alias = "nested"\n}\n')
    _write(tmp_path / "notes.md", 'provider "aws" {\n  alias = "docs"\n}\n')
    assert provider_aliases(tmp_path) == ["first", "second"]


def test_provider_aliases_of_real_scenarios() -> None:
    """cross-account-ecr has the ``registry`` alias; basic has none."""
    assert provider_aliases(PROJECT / "scenarios" / "cross-account-ecr") == ["registry"]
    assert provider_aliases(PROJECT / "scenarios" / "basic") == []


@pytest.mark.parametrize(
    ("lock", "version"),
    [("lock_terraform.hcl", "5.31.0"), ("lock_opentofu.hcl", "3.39.0"), ("lock_no_aws.hcl", None)],
)
def test_selected_provider_version_reads_the_lock_file(tmp_path: Path, lock: str, version: str | None) -> None:
    """Terraform and OpenTofu lock files give the AWS version; other providers are ignored."""
    shutil.copy(DATA / lock, tmp_path / ".terraform.lock.hcl")
    assert selected_provider_version(tmp_path) == version


def test_selected_provider_version_without_lock_file(tmp_path: Path) -> None:
    """No lock file (init not run yet) gives None."""
    assert selected_provider_version(tmp_path) is None


def test_user_var_file_takes_primitive_strings_literally_and_collections_as_hcl() -> None:
    """``-var`` semantics: a string for a string/number/bool/untyped variable is literal (template sequences
    escaped); for collection types it is an HCL expression; other Python values are JSON."""
    declared = {
        "name": hcl.Variable("name", False, "string", False),
        "count": hcl.Variable("count", True, "number", False),
        "loose": hcl.Variable("loose", True, None, False),
        "ids": hcl.Variable("ids", True, "${list(string)}", False),
        "tags": hcl.Variable("tags", True, "${map(string)}", False),
    }
    text = user_var_file_text(
        {"name": 'x"${y}%{z}', "count": "3", "loose": "a b", "ids": '["a", "b"]', "tags": {"Owner": "team"}},
        declared,
    )
    assert text.splitlines() == [
        'name = "x\\"$${y}%%{z}"',
        'count = "3"',
        'loose = "a b"',
        'ids = ["a", "b"]',
        'tags = {"Owner": "team"}',
    ]


def test_scenario_run_refuses_a_folder_without_tf_files(tmp_path: Path) -> None:
    """A folder with no .tf files is not a root module."""
    folder = tmp_path / "empty"
    _write(folder / "README.md", "# nothing here")
    with pytest.raises(ConfigurationError, match=r"not a Terraform root module \(no \.tf or \.tf\.json files\)"):
        _run(tmp_path, folder)


def test_scenario_run_refuses_a_missing_folder(tmp_path: Path) -> None:
    """A folder that does not exist is refused the same way."""
    with pytest.raises(ConfigurationError, match="not a Terraform root module"):
        _run(tmp_path, tmp_path / "missing")


def test_scenario_run_never_shows_a_sensitive_value(project: Path, tmp_path: Path) -> None:
    """Neither repr nor str carries the secret; the masker knows it; workdir is <results>/<name>-<prefix>."""
    run = _run(
        tmp_path,
        project / "scenarios" / "demo",
        variables={"name_prefix": "fh-test-abc123", "secret_value": SECRET},
        sensitive=("secret_value", "not_given"),
    )
    assert SECRET not in repr(run)
    assert SECRET not in str(run)
    assert run.masker(f"value={SECRET}") == "value=***"
    assert run.name == "demo"
    assert run.workdir == tmp_path / "results" / "demo-fh-test-abc123"
    # the emulator stops with the run: nothing to destroy later (tests/unit/test_deployed_as_written.py has the rest)
    assert "nothing to clean up" in run.cleanup_hint()


# -- TerraformRun stages against a scripted Terraform---------------------------------------------------


class FakeTf:
    """Stands in for runner.command.TerraformCli: answers each command from a script, records the calls."""

    def __init__(self, answers: dict[str, list[CommandOutput | Exception]]) -> None:
        self.answers = answers
        self.answers.setdefault("providers", [_out(0, out=json.dumps(SCHEMA))])
        # apply on an emulator plans first (the resource limit); tests that script plans script that one too
        self.answers.setdefault("plan", [_out(0, out="Plan: 1 to add, 0 to change, 0 to destroy.")])
        self.calls: list[tuple[str, ...]] = []
        self.on_call: dict[str, Callable[[], object]] = {}
        self.env: dict[str, str] = {}

    def execute_command(self, cmd: str, *args: str, **_deadline: float | None) -> CommandOutput:
        self.calls.append((cmd, *args))
        if cmd in self.on_call:
            self.on_call[cmd]()
        queue = self.answers[cmd]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _out(code: int = 0, out: str = "", err: str = "") -> CommandOutput:
    return CommandOutput(code, out, err)


def _prepared(tmp_path: Path, project: Path, target: Target | None = None, **kwargs: Any) -> TerraformRun:
    run = _run(
        tmp_path,
        project / "scenarios" / "demo",
        target,
        variables={"name_prefix": "fh-test-abc123", "secret_value": SECRET},
        sensitive=("secret_value",),
        retry=RetryPolicy(attempts=3, pause_seconds=0),
        **kwargs,
    )
    run.prepare()
    return run


def test_prepare_copies_into_the_workdir_and_never_into_the_source(project: Path, tmp_path: Path) -> None:
    """prepare() copies the configuration under workdir/config and leaves the scenario untouched."""
    before = _tree_digest(project)
    run = _prepared(tmp_path, project)
    assert run.tfdir == run.workdir / "config" / "scenarios" / "demo"
    assert (run.tfdir / "main.tf").is_file()
    assert _tree_digest(project) == before


def test_prepare_refuses_an_existing_workdir(project: Path, tmp_path: Path) -> None:
    """Two runs with the same prefix would share state: the second prepare() is refused."""
    _prepared(tmp_path, project)
    with pytest.raises(ConfigurationError, match="prefixes must be unique"):
        _prepared(tmp_path, project)


def test_prepare_refuses_a_scenario_with_its_own_override_file(project: Path, tmp_path: Path) -> None:
    """The harness owns its override file (OVERRIDE_FILE); a scenario shipping one is refused."""
    _write(project / "scenarios" / "demo" / OVERRIDE_FILE, "# mine\n")
    with pytest.raises(ConfigurationError, match=OVERRIDE_FILE):
        _prepared(tmp_path, project)


def test_command_retries_a_transient_error_then_succeeds(project: Path, tmp_path: Path) -> None:
    """A throttled apply is retried and the retry is logged with its attempt number."""
    run = _prepared(tmp_path, project)
    fake = FakeTf({"apply": [_out(1, err="ThrottlingException: Rate exceeded"), _out(0, out="Apply complete!")]})
    run.session.cli = fake
    result = run._command("apply", "-auto-approve")
    assert result.out == "Apply complete!"
    assert len(fake.calls) == 2
    log = run.log_path.read_text()
    assert "(attempt 1)" in log and "(attempt 2)" in log


def test_command_gives_up_after_the_policy_attempts(project: Path, tmp_path: Path) -> None:
    """A transient error that persists raises after exactly ``attempts`` tries."""
    run = _prepared(tmp_path, project)
    fake = FakeTf({"apply": [_out(1, err="connection reset by peer")]})
    run.session.cli = fake
    with pytest.raises(TerraformError) as caught:
        run._command("apply")
    assert len(fake.calls) == 3
    assert caught.value.exit_code == 1


def test_command_does_not_retry_and_masks_a_permanent_error(project: Path, tmp_path: Path) -> None:
    """A permanent error raises at once; the secret is masked in the error and in the log."""
    run = _prepared(tmp_path, project)
    fake = FakeTf({"apply": [_out(1, out=f"value {SECRET}", err=f"AccessDenied for {SECRET}")]})
    run.session.cli = fake
    with pytest.raises(TerraformError) as caught:
        run._command("apply")
    assert len(fake.calls) == 1
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.stderr and SECRET not in caught.value.stdout
    assert SECRET not in run.log_path.read_text()
    assert "***" in caught.value.stderr


def test_command_turns_a_failed_exit_into_terraform_error(project: Path, tmp_path: Path) -> None:
    """Exit code 1 with Terraform's diagnostic on stderr becomes a TerraformError carrying it."""
    run = _prepared(tmp_path, project)
    run.session.cli = FakeTf({"plan": [_out(1, err="Error: Invalid reference")]})
    with pytest.raises(TerraformError, match="Invalid reference"):
        run._command("plan", retry=False)


def test_an_interrupted_command_is_not_retried(project: Path, tmp_path: Path) -> None:
    """A command that exited because the harness forwarded SIGINT to it fails at once as InterruptedRun, even
    when its output matches the retry table (an interrupted apply often ends on a transient-looking error)."""
    run = _prepared(tmp_path, project)
    fake = FakeTf({"apply": [CommandOutput(1, "", "Error: connection reset by peer", interrupted=True)]})
    run.session.cli = fake
    with pytest.raises(InterruptedRun, match="interrupted"):
        run._command("apply")
    assert fake.calls == [("apply",)], f"expected one attempt, got {fake.calls}"


# What Terraform 1.11 and aws 3.39 printed for data sources that found nothing on moto, and for two errors that
# are not lookups (a resource's own error; a data source refused, not empty).
LOOKUPS_FAILED = """
Error: no matching VPC found

  with data.aws_vpc.shared,
  on main.tf line 7, in data "aws_vpc" "shared":
   7: data "aws_vpc" "shared" {


Error: ECR Repository (platform/billing) not found

  with module.app["billing"].data.aws_ecr_repository.app,
  on modules/app/main.tf line 13, in data "aws_ecr_repository" "app":
  13: data "aws_ecr_repository" "app" {


Error: reading Secret (prod/db): ResourceNotFoundException: Secrets Manager can't find the specified secret.

  with data.aws_secretsmanager_secret.db[0],
  on secrets.tf line 2, in data "aws_secretsmanager_secret" "db":
   2: data "aws_secretsmanager_secret" "db" {


Error: error creating IAM Role (app): EntityAlreadyExists: Role with name app already exists.

  with aws_iam_role.app,
  on main.tf line 20, in resource "aws_iam_role" "app":
  20: resource "aws_iam_role" "app" {


Error: error reading SSM Parameter (/app/tag): AccessDeniedException: not authorized

  with data.aws_ssm_parameter.tag,
  on main.tf line 30, in data "aws_ssm_parameter" "tag":
  30: data "aws_ssm_parameter" "tag" {
"""


def test_empty_lookups_names_each_data_source_that_found_nothing_once() -> None:
    """Root, module instance and counted data sources; a resource's error and a refusal are not lookups; a
    diagnostic printed on both streams counts once."""
    assert empty_lookups(LOOKUPS_FAILED + LOOKUPS_FAILED) == [
        ("data.aws_vpc.shared", "main.tf line 7", "no matching VPC found"),
        (
            'module.app["billing"].data.aws_ecr_repository.app',
            "modules/app/main.tf line 13",
            "ECR Repository (platform/billing) not found",
        ),
        (
            "data.aws_secretsmanager_secret.db[0]",
            "secrets.tf line 2",
            "reading Secret (prod/db): ResourceNotFoundException: Secrets Manager can't find the specified secret.",
        ),
    ]


@pytest.mark.parametrize("on_aws", [False, True])
def test_an_empty_lookup_is_bad_input_on_an_emulator_only(project: Path, tmp_path: Path, on_aws: bool) -> None:
    """On an emulator the data sources that found nothing are named with what to do (exit 2 in the CLI); in a
    sandbox account the same error stays Terraform's own: the object should exist there."""
    run = _prepared(tmp_path, project, AwsTarget(region="eu-west-1") if on_aws else None)
    run.session.cli = FakeTf({"apply": [_out(1, err=LOOKUPS_FAILED)]})
    with pytest.raises(TerraformError if on_aws else ConfigurationError) as caught:
        run._command("apply")
    if not on_aws:
        message = str(caught.value)
        assert "3 data source(s) found nothing on the emulator (embedded)" in message, message
        assert "\n  data.aws_vpc.shared (main.tf line 7): no matching VPC found\n" in message, message
        assert "--target aws" in message and "depends_on" in message, message


# Terraform 1.11's words for a root variable without a value, and for a value a validation rule refuses (the
# value printed as Terraform prints a sensitive one).
UNSET_VARIABLES = """
Error: No value for required variable

  on main.tf line 1:
   1: variable "env" {

The root module input variable "env" is not set, and has no default value.
Use a -var or -var-file command line argument to provide a value for this
variable.

Error: No value for required variable

  on main.tf line 9:
   9: variable "image_tag" {

The root module input variable "image_tag" is not set, and has no default value.
Use a -var or -var-file command line argument to provide a value for this
variable.
"""
INVALID_VARIABLE = """
Error: Invalid value for variable

  on harness.tfvars.json line 3:
   3:   "secret_value": "x"
    ├────────────────
    │ var.secret_value is (sensitive value)

The secret must be at least
32 characters long.

This was checked by the validation rule at variables.tf:7,3-13.
"""


def _configuration_error(tmp_path: Path, project: Path, terraform_says: str) -> str:
    """The message of the ConfigurationError an apply that printed ``terraform_says`` (and exited 1) raises."""
    run = _prepared(tmp_path, project)
    run.session.cli = FakeTf({"apply": [_out(1, err=terraform_says)]})
    with pytest.raises(ConfigurationError) as caught:
        run._command("apply")
    return str(caught.value)


def test_variables_without_a_value_are_named_with_how_to_give_them(project: Path, tmp_path: Path) -> None:
    message = _configuration_error(tmp_path, project, UNSET_VARIABLES + UNSET_VARIABLES)
    assert "variable(s) env, image_tag of " in message and "have no value and no default" in message, message
    assert "--var NAME=VALUE" in message and "vars= / var_files= of the terraform marker" in message, message


def test_a_refused_harness_value_is_named_but_a_sensitive_one_is_not_shown(project: Path, tmp_path: Path) -> None:
    """The harness set secret_value (sensitive): the message says the harness set it, never its value."""
    message = _configuration_error(tmp_path, project, INVALID_VARIABLE)
    assert (
        "variable secret_value fails its validation rule (variables.tf line 7): 'The secret must be at least 32 "
        "characters long.'. The harness set it to *** (give your own with --var secret_value=VALUE"
    ) in message, message
    assert SECRET not in message


def _init_with_lock(run: TerraformRun, lock: str | None) -> None:
    fake = FakeTf({"init": [_out(0, out="Terraform has been successfully initialized!")]})
    if lock is not None:
        fake.on_call["init"] = lambda: shutil.copy(DATA / lock, run.tfdir / ".terraform.lock.hcl")
    run.session.cli = fake
    run.init()


def test_init_writes_the_override_for_the_selected_provider(project: Path, tmp_path: Path) -> None:
    """After init on an emulator, the override matches the locked provider major and the root's aliases."""
    _write(project / "scenarios" / "demo" / "providers.tf", (DATA / "providers_aliases.tf").read_text())
    run = _prepared(tmp_path, project)
    _init_with_lock(run, "lock_terraform.hcl")
    assert run.provider_version == "5.31.0"
    override = (run.tfdir / OVERRIDE_FILE).read_text()
    assert "s3_use_path_style" in override
    assert re.search(r'alias += "registry"', override) and re.search(r'alias += "replica"', override)
    assert "init" in run.timings
    assert not (project / "scenarios" / "demo" / OVERRIDE_FILE).exists()


def test_init_refuses_an_unreadable_lock_file_on_an_emulator(project: Path, tmp_path: Path) -> None:
    """A lock file naming hashicorp/aws without a version must not fall through to real AWS."""
    run = _prepared(tmp_path, project)
    fake = FakeTf({"init": [_out(0)]})
    fake.on_call["init"] = lambda: _write(
        run.tfdir / ".terraform.lock.hcl",
        'provider "registry.terraform.io/hashicorp/aws" {\n  constraints = ">= 3.0"\n}\n',
    )
    run.session.cli = fake
    with pytest.raises(ConfigurationError, match="would call real AWS"):
        run.init()
    assert not (run.tfdir / OVERRIDE_FILE).exists()


def test_init_writes_no_override_for_real_aws(project: Path, tmp_path: Path) -> None:
    """Real AWS gets no override even though the provider version is known."""
    run = _prepared(tmp_path, project, AwsTarget(region="eu-west-1"))
    _init_with_lock(run, "lock_terraform.hcl")
    assert run.provider_version == "5.31.0"
    assert not (run.tfdir / OVERRIDE_FILE).exists()


def test_read_outputs_masks_sensitive_values(project: Path, tmp_path: Path) -> None:
    """Sensitive outputs are usable in memory, masked in outputs.json and masked from then on."""
    run = _prepared(tmp_path, project)
    raw = {
        "role_arn": {"sensitive": False, "value": "arn:aws:iam::123456789012:role/x"},
        "token": {"sensitive": True, "value": {"inner": ["tok-abcdef-1"]}},
    }
    values = run.read_outputs(raw)
    assert values["token"] == {"inner": ["tok-abcdef-1"]}
    written = json.loads((run.workdir / "outputs.json").read_text())
    assert written == {"role_arn": "arn:aws:iam::123456789012:role/x", "token": "***"}
    assert run.masker("got tok-abcdef-1") == "got ***"


def test_plan_changes_lists_only_real_changes(project: Path, tmp_path: Path) -> None:
    """Exit 2 plus ``show -json``: no-op and read entries are ignored, others listed with actions."""
    run = _prepared(tmp_path, project)
    shown = {
        "resource_changes": [
            {"address": "aws_iam_role.this", "change": {"actions": ["update"]}},
            {"address": "aws_iam_policy.p", "change": {"actions": ["no-op"]}},
            {"address": "data.aws_caller_identity.me", "change": {"actions": ["read"]}},
            {"address": "aws_ecs_task_definition.t", "change": {"actions": ["delete", "create"]}},
        ],
        "output_changes": {"arn": {"actions": ["update"]}, "same": {"actions": ["no-op"]}},
    }
    run.session.cli = FakeTf({"plan": [_out(2)], "show": [_out(0, out=json.dumps(shown))]})
    assert run.plan_changes() == [
        "aws_iam_role.this: update",
        "aws_ecs_task_definition.t: delete/create",
        "output.arn: update",
    ]
    with pytest.raises(NotIdempotentError, match="not idempotent"):
        run.check_idempotent()


def test_plan_changes_empty_when_plan_exits_zero(project: Path, tmp_path: Path) -> None:
    """An idempotent configuration gives no changes and no ``show`` call."""
    run = _prepared(tmp_path, project)
    fake = FakeTf({"plan": [_out(0)]})
    run.session.cli = fake
    run.check_idempotent()
    assert [c[0] for c in fake.calls] == ["plan"]


@pytest.mark.parametrize(("failed", "kept"), [(False, False), (True, True)])
def test_down_removes_the_workdir_only_after_success(project: Path, tmp_path: Path, failed: bool, kept: bool) -> None:
    """A clean destroy removes the work folder; any failure keeps it for inspection."""
    run = _prepared(tmp_path, project)
    run.applied = True
    run.session.cli = FakeTf({"destroy": [_out(0)]})
    run.down(failed=failed)
    assert run.workdir.exists() is kept
    assert run.applied is False


def _destroy_refreshes(fake: FakeTf) -> list[bool]:
    return ["-refresh=false" not in call for call in fake.calls if call[0] == "destroy"]


@pytest.mark.parametrize("on_aws", [False, True])
def test_destroy_after_a_clean_plan_skips_the_refresh_on_an_emulator_only(
    project: Path, tmp_path: Path, on_aws: bool
) -> None:
    """After the idempotency plan refreshed everything and wanted nothing, an emulator's destroy does not read
    every object again; on real AWS it always does (another actor may change the account in between)."""
    run = _prepared(tmp_path, project, AwsTarget(region="eu-west-1") if on_aws else None)
    run.applied = True
    fake = FakeTf({"plan": [_out(0)], "destroy": [_out(0)]})
    run.session.cli = fake
    run.check_idempotent()
    run.destroy()
    assert _destroy_refreshes(fake) == [on_aws]


def test_destroy_refreshes_on_a_retry_and_without_a_clean_plan(project: Path, tmp_path: Path) -> None:
    """A failed first attempt (an object a test removed behind Terraform's back) is retried with a refresh;
    a destroy with no clean plan since the last apply refreshes from the start."""
    run = _prepared(tmp_path, project)
    run.applied = True
    fake = FakeTf({"plan": [_out(0)], "destroy": [_out(1, err="NoSuchEntity: role not found"), _out(0)]})
    run.session.cli = fake
    run.check_idempotent()
    run.destroy()
    assert _destroy_refreshes(fake) == [False, True]

    changed = {"resource_changes": [{"address": "aws_iam_role.this", "change": {"actions": ["update"]}}]}
    fake = FakeTf({"plan": [_out(2)], "show": [_out(0, out=json.dumps(changed))], "destroy": [_out(0)]})
    run.session.cli, run.applied = fake, True
    assert run.plan_changes()
    run.destroy()
    assert _destroy_refreshes(fake) == [True]


@pytest.mark.parametrize("on_aws", [False, True])
def test_a_destroy_whose_refresh_finds_a_data_source_empty_retries_without_it(
    project: Path, tmp_path: Path, on_aws: bool
) -> None:
    """A data source read after its dependencies were created (an image digest) fails the refresh of every
    destroy the same way: the next attempt skips the refresh, at once, and destroys the state's resources."""
    run = _prepared(tmp_path, project, AwsTarget(region="eu-west-1") if on_aws else None)
    run.applied, run.retry = True, RetryPolicy(attempts=3, pause_seconds=60)
    fake = FakeTf({"destroy": [_out(1, err=LOOKUPS_FAILED), _out(0)]})
    run.session.cli = fake
    started = time.perf_counter()
    run.destroy()
    assert _destroy_refreshes(fake) == [True, False]
    assert time.perf_counter() - started < 30, "a retry that cannot be helped by waiting waited"


def test_down_with_keep_destroys_nothing(project: Path, tmp_path: Path) -> None:
    """--tf-keep: no destroy command, work folder kept."""
    run = _prepared(tmp_path, project, keep=True)
    run.applied = True
    fake = FakeTf({"destroy": [_out(0)]})
    run.session.cli = fake
    run.down()
    assert fake.calls == []
    assert run.workdir.exists()


def test_down_failed_destroy_says_how_to_clean_up(project: Path, tmp_path: Path) -> None:
    """A failed destroy keeps the state and its error carries the clean-up command (an emulator that outlives the
    run; for one that stops with it see tests/unit/test_deployed_as_written.py)."""
    run = _prepared(tmp_path, project)
    run.target.outlives_run = True
    run.applied = True
    run.session.cli = FakeTf({"destroy": [_out(1, err="DeleteConflict: cannot delete entity")]})
    with pytest.raises(TerraformError) as caught:
        run.down()
    assert "may remain" in caught.value.stderr
    assert run.cleanup_hint() in caught.value.stderr
    assert run.failed and run.workdir.exists()


def test_apply_reads_state_and_outputs(project: Path, tmp_path: Path) -> None:
    """apply() records managed resources (data sources excluded) and the outputs."""
    run = _prepared(tmp_path, project)
    state = {
        "values": {
            "outputs": {"role_arn": {"sensitive": False, "value": "arn:aws:iam::123456789012:role/x"}},
            "root_module": {
                "resources": [
                    {"address": "data.aws_iam_policy_document.trust", "mode": "data"},
                    {"address": "aws_iam_role.this", "mode": "managed"},
                ],
                "child_modules": [
                    {
                        "address": "module.role",
                        "resources": [
                            {"address": "module.role.data.aws_partition.p", "mode": "data"},
                            {"address": "module.role.x", "mode": "managed"},
                        ],
                    }
                ],
            },
        }
    }
    run.session.cli = FakeTf({"apply": [_out(0)], "show": [_out(0, out=json.dumps(state))]})
    run.apply()
    assert run.resources == ["aws_iam_role.this", "module.role.x"]
    assert run.outputs == {"role_arn": "arn:aws:iam::123456789012:role/x"}
    assert run.state == state  # read once, by the apply
    assert run.applied


def test_state_and_plan_values_never_reach_the_log(project: Path, tmp_path: Path) -> None:
    """``show -json`` prints every sensitive attribute in plain text (a generated password the harness never
    saw, so the masker cannot know it): the log records the command and the size of its output, not the
    values. The state file itself is what a kept run holds, as Terraform always keeps it."""
    generated = "gen-Pa55word-7f3e"  # a stand-in for a value only the state holds
    state = {
        "values": {
            "root_module": {
                "resources": [{"address": "random_password.db", "mode": "managed", "values": {"result": generated}}]
            }
        }
    }
    changed = {
        "resource_changes": [
            {"address": "random_password.db", "change": {"actions": ["update"], "before": {"result": generated}}}
        ]
    }
    run = _prepared(tmp_path, project)
    run.session.cli = FakeTf(
        {
            "apply": [_out(0)],
            "plan": [_out(0, out="Plan: 1 to add, 0 to change, 0 to destroy."), _out(2)],
            "show": [_out(0, out=json.dumps(state)), _out(0, out=json.dumps(changed))],
        }
    )
    run.apply()
    assert run.plan_changes() == ["random_password.db: update"]
    log = run.log_path.read_text()
    assert generated not in log, "terraform.log holds a value from show -json"
    assert [argv[1] for argv in logged_commands(log)] == ["plan", "apply", "show", "plan", "show"]
    assert "characters of state or plan values, not logged" in log


# -- any configuration: var files, backend, overlays, isolation, errors that are the user's to fix ----


def test_var_files_in_order_harness_first_user_values_last(project: Path, tmp_path: Path) -> None:
    """The harness's values beat terraform.tfvars/*.auto.tfvars (they are a -var-file); the user's files come in
    the order given, and values given by name last. Only declared variables are written."""
    user_file = _write(tmp_path / "team.tfvars", 'name_prefix = "team"\n')
    run = _prepared(tmp_path, project, var_files=(user_file,), user_variables={"name_prefix": "mine"})
    _init_with_lock(run, "lock_terraform.hcl")
    assert run._var_args() == [
        f"-var-file={run.workdir / 'harness.tfvars.json'}",
        f"-var-file={user_file.resolve()}",
        f"-var-file={run.workdir / 'harness-user.tfvars'}",
    ]
    harness_values = json.loads((run.workdir / "harness.tfvars.json").read_text())
    assert harness_values == {"name_prefix": "fh-test-abc123"}, "secret_value is not declared by demo"
    assert (run.workdir / "harness-user.tfvars").read_text() == 'name_prefix = "mine"\n'
    assert (run.workdir / "harness.tfvars.json").stat().st_mode & 0o077 == 0


def test_undeclared_named_values_are_refused(project: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="variable\\(s\\) colour are not declared"):
        _run(tmp_path, project / "scenarios" / "demo", user_variables={"colour": "blue"})


def test_a_configured_backend_is_replaced_by_a_local_one(project: Path, tmp_path: Path) -> None:
    _write(project / "scenarios" / "demo" / "backend.tf", 'terraform {\n  backend "s3" {\n    bucket = "b"\n  }\n}\n')
    run = _prepared(tmp_path, project)
    assert 'backend "local" {}' in (run.tfdir / "harness_backend_override.tf").read_text()
    assert not (project / "scenarios" / "demo" / "harness_backend_override.tf").exists()


def test_overlays_are_copied_into_the_root_of_the_copy(project: Path, tmp_path: Path) -> None:
    overlay = _write(tmp_path / "case" / "break_override.tf", 'variable "name_prefix" {\n  default = "x"\n}\n')
    run = _prepared(tmp_path, project, overlays=(overlay,))
    assert (run.tfdir / "break_override.tf").read_text() == overlay.read_text()


def test_a_run_records_what_it_is_as_soon_as_it_starts(project: Path, tmp_path: Path) -> None:
    run = _prepared(tmp_path, project)
    manifest = json.loads((run.workdir / "run.json").read_text())
    assert manifest["prefix"] == "fh-test-abc123" and manifest["tfdir"] == str(run.tfdir)
    assert manifest["pid"] > 0 and manifest["endpoint"] == "http://127.0.0.1:4599"


def test_only_configurations_without_name_prefix_are_isolated(project: Path, tmp_path: Path) -> None:
    assert _run(tmp_path, project / "scenarios" / "demo").isolate is False
    fixed = _write(tmp_path / "fixed" / "main.tf", 'resource "aws_iam_role" "r" {}\n').parent
    assert _run(tmp_path, fixed).isolate is True


@pytest.mark.parametrize(
    "text",
    [
        'Error: creating ELBv2: RequestError: send request failed\ncaused by: Post "https://elasticloadbalancing.'
        'us-east-1.amazonaws.com/": dial tcp: lookup elasticloadbalancing.us-east-1.amazonaws.com on 127.0.0.53:53:'
        " no such host",
    ],
)
def test_dns_failure_of_a_real_aws_endpoint_is_never_retried(text: str) -> None:
    """An endpoint the override missed is not transient (NOTES: offline, the lookup fails at once)."""
    assert RetryPolicy().reason(text) is None
    assert "elasticloadbalancing" in (fatal(text) or "")


def test_a_fatal_error_fails_at_once_naming_the_service(project: Path, tmp_path: Path) -> None:
    run = _prepared(tmp_path, project)
    error = "dial tcp: lookup efs.us-east-1.amazonaws.com on 127.0.0.53:53: no such host"
    run.session.cli = FakeTf({"apply": [_out(1, err=error)], "show": [_out(1)]})
    with pytest.raises(ConfigurationError, match=r"failed at once, not retried.*efs"):
        run.apply()
    assert [c[0] for c in run.session.cli.calls].count("apply") == 1


def test_init_offline_without_a_matching_provider_names_the_mirror(project: Path, tmp_path: Path) -> None:
    _write(
        project / "scenarios" / "demo" / "versions.tf",
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "~> 5.0" }\n  }\n}\n',
    )
    run = _prepared(tmp_path, project)
    run.toolchain = Toolchain(
        terraform=Path("/nonexistent/terraform"),
        version="1.9.8",
        origin="test",
        provider_source="mirror",
        cli_config=tmp_path / "m.tfrc",
        plugin_cache=tmp_path / "plugin-cache",
        mirror=tmp_path / "mirror",
        mirror_versions=("2.70.0", "3.39.0"),
    )
    run.session.cli = FakeTf(
        {
            "init": [
                _out(
                    1,
                    err="Error: Failed to query available provider packages\n no available "
                    "releases match the given constraints ~> 5.0",
                )
            ]
        }
    )
    with pytest.raises(ConfigurationError) as caught:
        run.init()
    message = str(caught.value)
    assert "~> 5.0" in message and "2.70.0, 3.39.0" in message and "--tf-provider-source registry" in message


def test_an_argument_the_provider_does_not_know_names_the_file_and_version(project: Path, tmp_path: Path) -> None:
    run = _prepared(tmp_path, project)
    run.provider_version = "3.39.0"
    error = (
        'Error: Unsupported block type\n\n  on main.tf line 12, in resource "aws_ecs_task_definition" "t":\n'
        '  12:   runtime_platform {\n\nBlocks of type "runtime_platform" are not expected here.\n'
    )
    run.session.cli = FakeTf({"apply": [_out(1, err=error)], "show": [_out(1)]})
    with pytest.raises(
        ConfigurationError, match=r"main.tf line 12: `runtime_platform` is not known to hashicorp/aws 3.39.0"
    ):
        run.apply()


def test_a_kept_folder_holds_no_secret_in_its_var_files(project: Path, tmp_path: Path) -> None:
    """After down(), the generated var files carry ``***`` instead of sensitive values (kept or not)."""
    _write(project / "scenarios" / "demo" / "secret.tf", 'variable "secret_value" {\n  sensitive = true\n}\n')
    run = _prepared(tmp_path, project)
    _init_with_lock(run, "lock_terraform.hcl")
    assert SECRET in (run.workdir / "harness.tfvars.json").read_text()
    run.down(failed=True)
    kept = (run.workdir / "harness.tfvars.json").read_text()
    assert SECRET not in kept and '"secret_value": "***"' in kept


def test_provider_reattach_is_on_by_default_and_off_with_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "cfg"
    source.mkdir()
    (source / "main.tf").write_text('resource "aws_iam_role" "r" {}\n')
    monkeypatch.delenv("HARNESS_PROVIDER_REATTACH", raising=False)
    assert _run(tmp_path, source).reattach
    monkeypatch.setenv("HARNESS_PROVIDER_REATTACH", "0")
    run = _run(tmp_path, source)
    assert not run.reattach
    run.prepare()
    assert run.session is not None and not run.session.reattach
    run.session.start_provider("3.39.0", [run.tfdir])
    assert run.provider_pid is None


TERRAFORM_LOG = """
$ /usr/local/bin/terraform init -input=false -no-color  (attempt 1)
Terraform has been successfully initialized!
[exit 0]

$ /usr/local/bin/terraform apply -input=false -no-color -auto-approve  (attempt 1)
[exit 1]

$ /usr/local/bin/terraform apply -input=false -no-color -auto-approve  (attempt 2)
$ echo a shell line that is not Terraform
  $ /usr/local/bin/terraform plan (indented: output, not a command line)
"""


def test_logged_commands_reads_the_command_lines_a_run_writes() -> None:
    commands = logged_commands(TERRAFORM_LOG)
    assert Counter(argv[1] for argv in commands) == Counter({"apply": 2, "init": 1})
    assert commands[0] == ["/usr/local/bin/terraform", "init", "-input=false", "-no-color"]


def test_an_emulator_apply_over_the_resource_limit_creates_nothing(project: Path, tmp_path: Path) -> None:
    run = _prepared(tmp_path, project)
    fake = FakeTf(
        {"plan": [_out(0, out="Plan: 1001 to add, 0 to change, 0 to destroy.")], "apply": [_out(0)], "show": [_out(0)]}
    )
    run.session.cli = fake
    with pytest.raises(ConfigurationError, match="the plan creates 1,001 resources; expected at most 1,000"):
        run.apply()
    assert [call[0] for call in fake.calls] == ["plan", "show"], "refused after the plan, before any apply"
    assert run.applied is False, "nothing to destroy"
    fake.answers["plan"] = [_out(0, out="Plan: 2 to add, 0 to change, 0 to destroy.")]
    fake.calls.clear()
    run.apply()
    assert [call[:2] for call in fake.calls if call[0] == "apply"] == [("apply", "-input=false")]
    assert next(call for call in fake.calls if call[0] == "apply")[-1] == "apply.tfplan", "the saved plan is applied"
