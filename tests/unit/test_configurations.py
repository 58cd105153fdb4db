"""Unit tests for fargate_harness.configurations: discovery, needed services, prefixes and run variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fargate_harness import configurations
from fargate_harness.configurations import Configuration, discover, run_variables, unique_prefix
from fargate_harness.errors import ConfigurationError

PROJECT = Path(__file__).resolve().parents[2]
REAL_SCENARIOS = PROJECT / "scenarios"
KNOWN = ("basic", "secrets", "ssm-kms", "cross-account-ecr", "module-reuse", "task-role")
PREFIX = re.compile(r"^fh-[a-z0-9]+-[0-9a-f]{6}$")
ROLE = "arn:aws:iam::210987654321:role/harness-registry"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Scenarios folder with two real scenarios, a docs folder, a loose .tf file and a shared module."""
    root = tmp_path / "scenarios"
    _write(
        root / "web" / "main.tf",
        'resource "aws_ecs_task_definition" "t" {}\n'
        '  resource "aws_cloudwatch_log_group" "lg" {}\n'
        'data "aws_kms_key" "not_a_resource" {}\n'
        '# resource "aws_dynamodb_table" "commented" {}\n'
        'module "role" {\n  source = "../../modules/role"\n}\n',
    )
    _write(
        root / "web" / "variables.tf",
        'variable "name_prefix" {\n  type = string\n}\nvariable "secret_value" {\n  sensitive = true\n}\n'
        'variable "region" {}\n',
    )
    _write(root / "web" / "README.md", 'resource "aws_s3_bucket" "docs_only" {}\n')
    _write(root / "xacct" / "main.tf", 'resource "aws_ecr_repository" "r" {}\n')
    _write(root / "xacct" / "variables.tf", 'variable "registry_role_arn" {}\nvariable "name_prefix" {}\n')
    _write(root / "docs" / "README.md", "no terraform here\n")
    _write(root / "loose.tf", "# not a folder\n")
    _write(
        tmp_path / "modules" / "role" / "main.tf",
        'resource "aws_iam_role" "r" {}\nresource "aws_ssm_parameter" "p" {}\n',
    )
    return root


# -- discover / get ----------------------------------------------------------------------------------


def test_discover_lists_folders_with_tf_files(tree: Path) -> None:
    """Only sub-folders holding .tf files are scenarios, sorted by name."""
    found = discover(tree)
    assert list(found) == ["web", "xacct"]
    assert found["web"] == Configuration("web", tree / "web", reference=True)


def test_discover_refuses_a_missing_folder(tmp_path: Path) -> None:
    """A missing scenarios folder is a ConfigurationError naming it and the setting to change."""
    with pytest.raises(ConfigurationError) as caught:
        discover(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(caught.value)
    assert "--tf-scenarios-dir / HARNESS_SCENARIOS_DIR" in str(caught.value)


def test_discover_defaults_to_harness_scenarios_dir(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an argument the folder comes from HARNESS_SCENARIOS_DIR."""
    monkeypatch.setenv("HARNESS_SCENARIOS_DIR", str(tree))
    assert configurations.default_scenarios_dir() == tree.resolve()
    assert list(discover()) == ["web", "xacct"]


def test_default_scenarios_dir_is_the_working_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Unset (or empty) HARNESS_SCENARIOS_DIR means ./scenarios."""
    monkeypatch.setenv("HARNESS_SCENARIOS_DIR", "")
    monkeypatch.chdir(tmp_path)
    assert configurations.default_scenarios_dir() == tmp_path.resolve() / "scenarios"


def test_get_unknown_scenario_lists_the_known_ones(tree: Path) -> None:
    """A typo gets the list of real names."""
    assert configurations.get("web", tree).name == "web"
    with pytest.raises(ConfigurationError, match=r"no scenario 'wbe'; known scenarios: web, xacct"):
        configurations.get("wbe", tree)


def test_get_in_an_empty_folder_says_none(tmp_path: Path) -> None:
    """An empty scenarios folder says there are none."""
    with pytest.raises(ConfigurationError, match="known scenarios: none"):
        configurations.get("basic", tmp_path)


# -- needed_services / variables ---------------------------------------------------------------------


def test_needed_services_come_from_resources_and_local_modules(tree: Path) -> None:
    """Resources of the root and its local modules count; data sources, comments and docs do not."""
    web = discover(tree)["web"]
    assert web.needed_services == frozenset({"iam", "sts", "ecs", "logs", "ssm"})
    assert "kms" not in web.needed_services
    assert "dynamodb" not in web.needed_services
    assert "s3" not in web.needed_services


def test_needed_services_always_include_iam_and_sts(tmp_path: Path) -> None:
    """Even a scenario without AWS resources needs IAM and STS."""
    _write(tmp_path / "s" / "main.tf", 'resource "random_id" "x" {}\n')
    assert Configuration("s", tmp_path / "s").needed_services == frozenset({"iam", "sts"})


def test_variables_and_registry_account(tree: Path) -> None:
    """Declared variables are read; registry_role_arn means a second account is needed."""
    found = discover(tree)
    assert found["web"].variables == frozenset({"name_prefix", "secret_value", "region"})
    assert not found["web"].needs_registry_account
    assert found["xacct"].needs_registry_account


# -- unique_prefix -----------------------------------------------------------------------------------


def test_unique_prefix_format_and_uniqueness() -> None:
    """``fh-<worker>-<6 hex>``, different on every call."""
    prefixes = [unique_prefix() for _ in range(20)] + [unique_prefix("gw3") for _ in range(20)]
    assert all(PREFIX.match(p) for p in prefixes), prefixes
    assert len(set(prefixes)) == len(prefixes)
    assert unique_prefix().startswith("fh-main-")


@pytest.mark.parametrize(
    ("worker", "expected"),
    [("gw0", "gw0"), ("GW-12", "gw12"), ("controller", "contro"), ("", "main"), ("!!!", "main"), ("cli", "cli")],
)
def test_unique_prefix_sanitises_the_worker(worker: str, expected: str) -> None:
    """Worker ids are lower-cased, stripped to [a-z0-9] and cut to 6 characters."""
    assert unique_prefix(worker).rsplit("-", 1)[0] == f"fh-{expected}"


def _name_prefix_rules() -> dict[str, re.Pattern[str]]:
    """Each known scenario's name_prefix validation regex, read from its variables.tf."""
    rules = {}
    for name in KNOWN:
        text = (REAL_SCENARIOS / name / "variables.tf").read_text()
        block = re.search(r'variable\s+"name_prefix"\s*\{(.*?)\n\}', text, re.DOTALL)
        assert block, f"{name}: no name_prefix variable"
        match = re.search(r'regex\("([^"]+)",\s*var\.name_prefix\)', block.group(1))
        assert match, f"{name}: name_prefix has no regex validation"
        rules[name] = re.compile(match.group(1))
    return rules


@pytest.mark.parametrize("worker", ["main", "gw0", "gw15", "controller", "cli", "Weird_Worker-99"])
def test_unique_prefix_passes_every_scenarios_validation(worker: str) -> None:
    """The generated prefix satisfies ^[a-z0-9][a-z0-9-]{0,30}$ as declared by every scenario."""
    rules = _name_prefix_rules()
    assert {rule.pattern for rule in rules.values()} == {"^[a-z0-9][a-z0-9-]{0,30}$"}
    prefix = unique_prefix(worker)
    for name, rule in rules.items():
        assert rule.fullmatch(prefix), f"{prefix!r} fails the name_prefix validation of {name}"


# -- run_variables -----------------------------------------------------------------------------------


def test_run_variables_passes_only_declared_variables(tree: Path) -> None:
    """Undeclared values (here registry_role_arn for web, secret_value for xacct) are not passed."""
    found = discover(tree)
    target_vars = {"region": "eu-west-1", "registry_role_arn": ROLE}
    web = run_variables(found["web"], "fh-main-abc123", target_vars)
    assert set(web) == {"name_prefix", "secret_value", "region"}
    assert web["name_prefix"] == "fh-main-abc123"
    assert web["region"] == "eu-west-1"
    assert run_variables(found["xacct"], "fh-main-abc123", target_vars) == {
        "name_prefix": "fh-main-abc123",
        "registry_role_arn": ROLE,
    }


def test_run_variables_generates_a_fresh_secret_each_call(tree: Path) -> None:
    """Every run gets a new, long, URL-safe secret value."""
    web = discover(tree)["web"]
    values = {run_variables(web, "fh-main-abc123", {})["secret_value"] for _ in range(5)}
    assert len(values) == 5
    assert all(len(v) >= 24 and re.fullmatch(r"[A-Za-z0-9_-]+", v) for v in values)
    assert "secret_value" in configurations.SENSITIVE_VARIABLES


# -- the project's own scenarios ---------------------------------------------------------------------


def test_real_scenarios_are_all_discovered() -> None:
    """The six scenarios shipped with the project are found (modules/ is not a scenarios folder)."""
    found = discover(REAL_SCENARIOS)
    for name in KNOWN:
        assert name in found, f"scenario {name} not discovered"
        assert found[name].path == REAL_SCENARIOS / name


def test_only_cross_account_ecr_needs_the_registry_account() -> None:
    """cross-account-ecr reaches a registry account; the others stay in one account."""
    found = discover(REAL_SCENARIOS)
    assert found["cross-account-ecr"].needs_registry_account
    assert not [n for n in KNOWN if n != "cross-account-ecr" and found[n].needs_registry_account]


@pytest.mark.parametrize(
    ("name", "services"),
    [
        ("basic", {"iam", "sts", "ecs", "ecr", "logs"}),
        ("cross-account-ecr", {"iam", "sts", "ecs", "ecr", "logs"}),
        ("secrets", {"iam", "sts", "ecs", "secretsmanager", "logs"}),
        ("ssm-kms", {"iam", "sts", "ecs", "ssm", "kms", "logs"}),
        ("task-role", {"iam", "sts", "ecs", "s3", "dynamodb", "secretsmanager", "logs"}),
    ],
)
def test_real_scenarios_need_their_services(name: str, services: set[str]) -> None:
    """Services derived from each real scenario include what its resources obviously use."""
    assert services <= discover(REAL_SCENARIOS)[name].needed_services


def test_real_run_variables_only_give_secrets_to_scenarios_that_declare_them() -> None:
    """basic declares no secret_value, secrets does; both get the prefix and region."""
    found = discover(REAL_SCENARIOS)
    basic = run_variables(found["basic"], "fh-main-abc123", {"region": "us-east-1"})
    secrets_vars = run_variables(found["secrets"], "fh-main-abc123", {"region": "us-east-1"})
    assert "secret_value" not in basic
    assert "secret_value" in secrets_vars
    assert basic["name_prefix"] == secrets_vars["name_prefix"] == "fh-main-abc123"
