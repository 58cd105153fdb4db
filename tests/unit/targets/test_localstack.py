"""Unit tests for the LocalStack target's decisions: which scenarios run, with which variables, which checks skip.

The health answer is the one LocalStack 4.14.0 (free, no token) gave on this project's machines; the
decisions are taken on the real scenario folders. No LocalStack, emulator or Terraform is started.
"""

from __future__ import annotations

import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import checks
from fargate_harness.configurations import (
    Configuration,
    get,
    missing_for,
    optional_services,
    run_variables,
    skip_reason,
)
from fargate_harness.targets import EmbeddedTarget, LocalStackTarget, Target
from fargate_harness.targets.localstack import TASK_DEFINITION_VARIABLE
from tests.scenarios._support import reference

PROJECT = Path(__file__).resolve().parents[3]
SCENARIOS = PROJECT / "scenarios"
REFERENCE = ("basic", "cross-account-ecr", "module-reuse", "secrets", "ssm-kms", "task-role")
BROKEN = (
    "broken/cross-account-policy-missing",
    "broken/ecr-pull-denied",
    "broken/key-policy-untrusted",
    "broken/kms-decrypt-missing",
    "broken/log-group-missing",
    "broken/logs-actions-missing",
    "broken/parameter-not-granted",
    "broken/secret-not-granted",
)

#: ``GET /_localstack/health`` of localstack-core 4.14.0 started by tools.localstack_runtime (no token).
FREE_4_14_HEALTH: dict[str, Any] = {
    "services": {
        name: "available"
        for name in [
            "acm",
            "apigateway",
            "cloudformation",
            "cloudwatch",
            "config",
            "dynamodb",
            "dynamodbstreams",
            "ec2",
            "es",
            "events",
            "firehose",
            "iam",
            "kinesis",
            "kms",
            "lambda",
            "logs",
            "opensearch",
            "redshift",
            "resource-groups",
            "resourcegroupstaggingapi",
            "route53",
            "route53resolver",
            "s3",
            "s3control",
            "scheduler",
            "secretsmanager",
            "ses",
            "sns",
            "sqs",
            "ssm",
            "stepfunctions",
            "sts",
            "support",
            "swf",
            "transcribe",
        ]
    },
    "edition": "unknown",
    "version": "4.14.0",
}


class _Answer(io.BytesIO):
    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _started(
    monkeypatch: pytest.MonkeyPatch, health: dict[str, Any], engines: dict[str, str | None] | None = None
) -> LocalStackTarget:
    """A target that read ``health``; engine probes answer from ``engines`` (default: every engine works)."""
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: _Answer(json.dumps(health).encode()))
    monkeypatch.setattr(LocalStackTarget, "probe_engine", lambda self, service: (engines or {}).get(service))
    target = LocalStackTarget(endpoint="http://127.0.0.1:4599")
    target.start()
    return target


@pytest.fixture
def free(monkeypatch: pytest.MonkeyPatch) -> LocalStackTarget:
    """A LocalStackTarget that probed a free 4.14.0."""
    return _started(monkeypatch, FREE_4_14_HEALTH)


@pytest.fixture
def paid(monkeypatch: pytest.MonkeyPatch) -> LocalStackTarget:
    """A LocalStackTarget that probed a LocalStack listing ECS and ECR too."""
    health = {"services": {**FREE_4_14_HEALTH["services"], "ecs": "available", "ecr": "running"}}
    return _started(monkeypatch, health)


# -- the declaration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFERENCE)
def test_every_reference_scenario_declares_ecs_optional(name: str) -> None:
    """Each reference scenario declares create_task_definition (bool, default true) and so treats ecs as optional."""
    scenario = get(name, SCENARIOS)
    assert TASK_DEFINITION_VARIABLE in scenario.variables
    expected = {"ecs"} | ({"ecr"} if name == "basic" else set()) | ({"dynamodb"} if name == "task-role" else set())
    assert optional_services(scenario) == expected
    assert "ecs" in scenario.needed_services
    text = (scenario.path / "variables.tf").read_text()
    block = text[text.index(f'variable "{TASK_DEFINITION_VARIABLE}"') :]
    block = block[: block.index("\n}\n")]
    for line in ("type        = bool", "default     = true", "nullable    = false"):
        assert line in block, f"{name}: variable {TASK_DEFINITION_VARIABLE}: expected {line!r}"


@pytest.mark.parametrize("name", REFERENCE)
def test_task_definition_is_switched_by_the_variable_and_outputs_survive(name: str) -> None:
    """count (for_each filtered in module-reuse) on the task definition; outputs read it through try()."""
    scenario = get(name, SCENARIOS)
    main = (scenario.path / "main.tf").read_text()
    if name == "module-reuse":
        assert "for_each = var.create_task_definition ? local.services : {}" in main
    else:
        assert "count = var.create_task_definition ? 1 : 0" in main
    outputs = (scenario.path / "outputs.tf").read_text()
    assert "try(aws_ecs_task_definition.this[" in outputs
    assert "aws_ecs_task_definition.this.arn" not in outputs
    readme = (scenario.path / "README.md").read_text()
    assert f"| `{TASK_DEFINITION_VARIABLE}` |" in readme


@pytest.mark.parametrize("name", BROKEN)
def test_broken_scenarios_need_ecs(name: str) -> None:
    """The broken variants exist to be preflighted: without the variable, ecs stays required."""
    scenario = get(name, SCENARIOS)
    assert optional_services(scenario) == frozenset()


# -- the decision on a free LocalStack ---------------------------------------------------------------


def test_free_localstack_decides_every_scenario_before_any_apply(free: LocalStackTarget) -> None:
    """From the health answer alone: cross-account ECR is skipped whole, the others run without ECS
    (and basic without its repository)."""
    decisions = {name: missing_for(get(name, SCENARIOS), free) for name in (*REFERENCE, *BROKEN)}
    assert decisions["basic"] == ([], ["ecr", "ecs"])
    assert decisions["cross-account-ecr"] == (["ecr"], ["ecs"])
    for name in ("module-reuse", "secrets", "ssm-kms", "task-role"):
        assert decisions[name] == ([], ["ecs"]), name
    for name in BROKEN:
        required, optional = decisions[name]
        assert "ecs" in required and optional == [], name
    assert skip_reason(get("cross-account-ecr", SCENARIOS), free) == "target localstack lacks ecr"
    assert skip_reason(get("broken/secret-not-granted", SCENARIOS), free) == "target localstack lacks ecs"
    assert skip_reason(get("secrets", SCENARIOS), free) is None


def test_free_localstack_switches_task_definitions_off(free: LocalStackTarget) -> None:
    """create_task_definition=false goes to scenarios that declare it, and only to those."""
    assert free.scenario_variables()[TASK_DEFINITION_VARIABLE] == "false"
    secrets_run = run_variables(get("secrets", SCENARIOS), "fh-x-000000", free.scenario_variables())
    assert secrets_run[TASK_DEFINITION_VARIABLE] == "false"
    # a case inherits its base's switch, but it exists to be preflighted: it is skipped rather than switched off
    assert skip_reason(get("broken/secret-not-granted", SCENARIOS), free) == "target localstack lacks ecs"


def test_paid_localstack_runs_everything_with_task_definitions(paid: LocalStackTarget) -> None:
    """ECS and ECR listed: nothing missing, nothing switched off."""
    for name in (*REFERENCE, *BROKEN):
        assert missing_for(get(name, SCENARIOS), paid) == ([], []), name
    assert TASK_DEFINITION_VARIABLE not in paid.scenario_variables()


def test_unprobed_and_other_targets_never_skip() -> None:
    """Before start, and on targets without a service list, nothing is missing and nothing switched off."""
    for target in (LocalStackTarget(endpoint="http://ls:4566"), EmbeddedTarget()):
        assert TASK_DEFINITION_VARIABLE not in target.scenario_variables()
        for name in REFERENCE:
            assert missing_for(get(name, SCENARIOS), target) == ([], [])


def test_missing_required_is_reported_alongside_optional(tmp_path: Path) -> None:
    """A scenario with the switch still needs the rest: missing ecr is required, missing ecs optional."""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "main.tf").write_text(
        'resource "aws_ecr_repository" "r" {}\nresource "aws_ecs_task_definition" "t" {}\n'
        'resource "aws_dynamodb_table" "d" {}\n'
    )
    (folder / "variables.tf").write_text(f'variable "{TASK_DEFINITION_VARIABLE}" {{\n  type = bool\n}}\n')
    target = Target(name="t", region="us-east-1", endpoint_url="http://x", available_services=frozenset({"iam", "sts"}))
    assert missing_for(Configuration("s", folder), target) == (["dynamodb", "ecr"], ["ecs"])


# -- which checks skip -------------------------------------------------------------------------------


ALL_CHECKS = (*checks.INVENTORY_CHECKS, *reference.CHECKS)


def test_every_check_declares_what_it_needs() -> None:
    """Every check, generic or reference, declares the services it reads on itself (@check(...))."""
    undeclared = [c.__name__ for c in ALL_CHECKS if not checks.needs_of(c)]
    assert undeclared == [], f"checks without @check(services): {undeclared}"
    assert set(reference.COMMON_CHECKS) <= set(reference.CHECKS)


def test_without_ecs_only_task_definition_checks_skip(free: LocalStackTarget) -> None:
    """The checks reading task definitions skip; log groups, roles and statements still run."""
    skipped = {c.__name__ for c in ALL_CHECKS if checks.unavailable(c, free)}
    assert skipped == {
        "task_definitions",
        "awslogs",
        "secret_references",
        "startup_preflight",
        "cross_account_repository",
        # the checks that need no contract start from task definitions (none exist without ECS)
        "tasks_start",
        "roles_trust_ecs_tasks",
        "execution_roles_least_privilege",
        "execution_roles_hold_no_app_permissions",
        "awslogs_groups_exist",
        "value_from_resolves",
    }
    assert checks.unavailable(reference.cross_account_repository, free) == ["ecr", "ecs"]
    assert checks.unavailable(reference.log_groups, free) == []


def test_run_all_reports_skipped_checks_as_not_applicable(free: LocalStackTarget) -> None:
    """``fargate-harness run`` gets n/a with the reason instead of a failure for a check the target cannot run."""

    class FakeRun:
        name = "secrets"
        target = free
        outputs: dict[str, Any] = {"services": {"app": {}}}  # noqa: RUF012 (declares services, misses the rest)
        reads = checks.Reads()

        @staticmethod
        def masker(text: str) -> str:
            return text

    results = checks.run_all(FakeRun(), checks.load_reference(SCENARIOS / "reference_checks.py"))  # type: ignore[arg-type]
    by_name = {r.name: r for r in results}
    assert by_name["task_definitions"].verdict == "n/a"
    assert by_name["task_definitions"].message == "skipped: target localstack lacks ecs"
    assert by_name["startup_preflight"].passed
    assert by_name["tasks_start"].verdict == "n/a"
    # checks that need no missing service did run (and failed here, since FakeRun's services are empty)
    assert not by_name["trust_policies"].passed


# -- engine-backed services --------------------------------------------------------------------------


def test_an_engine_that_cannot_start_is_missing_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Offline, DynamoDB is listed but cannot start: it counts as missing, with the reason; task-role then
    runs without its table (create_table = false), a scenario that needs DynamoDB is skipped saying why."""
    why = "list_tables answered 500: DynamoDB Local could not be installed"
    target = _started(monkeypatch, FREE_4_14_HEALTH, engines={"dynamodb": why})
    assert "dynamodb" not in (target.available_services or set())
    assert target.unusable == {"dynamodb": why}
    assert skip_reason(get("task-role", SCENARIOS), target) is None
    assert target.scenario_variables()["create_table"] == "false"
    folder = tmp_path / "needs-table"
    folder.mkdir()
    (folder / "main.tf").write_text('resource "aws_dynamodb_table" "t" {\n  name = "t"\n}\n')
    reason = skip_reason(Configuration("needs-table", folder), target)
    assert reason == f"target localstack lacks dynamodb (dynamodb: {why})"
    assert skip_reason(get("secrets", SCENARIOS), target) is None


class _Status(BaseHTTPRequestHandler):
    status = 500

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"__type": "InternalError", "message": "engine down"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "usable"), [(500, False), (400, True)])
def test_probe_engine_tells_a_broken_engine_from_a_refusal(status: int, usable: bool) -> None:
    """5xx: unusable, with the status; 4xx: the engine answered, so it is usable."""
    handler = type("Handler", (_Status,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = LocalStackTarget(endpoint=f"http://127.0.0.1:{server.server_address[1]}")
        problem = target.probe_engine("dynamodb")
    finally:
        server.shutdown()
    assert (problem is None) is usable
    if not usable:
        assert problem is not None and "500" in problem


def test_probe_engine_reports_an_unreachable_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening: unusable, naming the timeout setting."""
    monkeypatch.setenv("HARNESS_LOCALSTACK_PROBE_TIMEOUT", "2")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    problem = LocalStackTarget(endpoint=f"http://127.0.0.1:{port}").probe_engine("dynamodb")
    assert problem is not None and "HARNESS_LOCALSTACK_PROBE_TIMEOUT=2s" in problem
