"""preflight.places on recorded state: every fix names Terraform addresses (and file:line), not made-up ARNs.

The state is ``terraform show -json`` of ``broken/secret-not-granted`` applied on the embedded emulator (secret
versions and tags left out, the account changed to a random-looking one); the configuration's files are this
repository's ``scenarios/secrets`` and ``modules/ecs-execution-role``. The requirements are those of the task
definition's two secrets, decided by the real :func:`decide` with the role's policies from the state.

AWS documentation: Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment
variables" (the execution role needs ``secretsmanager:GetSecretValue`` on each secret),
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html, and "Amazon ECS
task execution IAM role", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import checks
from fargate_harness.model.inventory import Inventory
from fargate_harness.preflight.analysis import ECS_ERRORS, PreflightReport, Verdict, decide
from fargate_harness.preflight.collect import RolePolicies
from fargate_harness.preflight.places import Places, module_names, principals
from fargate_harness.preflight.requirements import ECS_TASKS, Requirement

ROOT = Path(__file__).resolve().parents[3]
STATE: dict[str, Any] = json.loads((ROOT / "tests/unit/data/fixes/secret_not_granted_state.json").read_text())
CONFIGURATION = ROOT / "scenarios" / "secrets"
MODULE = ROOT / "modules" / "ecs-execution-role"
ACCOUNT = "749236960810"
REGION = "us-east-1"
PREFIX = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:fh-main-7f4486-app"
API_KEY = f"{PREFIX}-api-key-kqifFE"
DB = f"{PREFIX}-db-credentials-Cmxtgh"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/fh-main-7f4486-app-execution"
TASK_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/fh-main-7f4486-app:1"
POLICY = "module.execution_role.aws_iam_role_policy.this[0]"
#: What a fix line must never hold: the target's account, a secret's random suffix, any ARN.
MADE_UP = re.compile(rf"{ACCOUNT}|kqifFE|Cmxtgh|arn:")


def line_of(path: Path, head: str) -> str:
    """``<path relative to the working directory>:<line>`` of the first line of ``path`` starting with ``head``."""
    number = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(head))
    try:
        shown = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    return f"{shown}:{number}"


class NoResourcePolicies:
    """decide()'s facts: no secret has a resource policy (as in the recorded case)."""

    def secret_policy(self, _arn: str) -> None:
        return None


def _places(state: dict[str, Any] = STATE, root: Path | None = CONFIGURATION) -> Places:
    return Places.from_inventory(Inventory.from_state(state, "secrets"), root)


def _policy_document(state: dict[str, Any]) -> dict[str, Any]:
    (policy,) = [r for r in _module(state)["resources"] if r["address"] == POLICY]
    document: dict[str, Any] = json.loads(policy["values"]["policy"])
    return document


def _module(state: dict[str, Any]) -> dict[str, Any]:
    module: dict[str, Any] = state["values"]["root_module"]["child_modules"][0]
    return module


def _role(state: dict[str, Any] = STATE) -> RolePolicies:
    name = ROLE.rsplit("/", 1)[1]
    return RolePolicies(ROLE, name, {f"{name}/execution-access": _policy_document(state)}, frozenset(), None, {})


def _secret(arn: str, variable: str) -> Requirement:
    return Requirement("secret", "secretsmanager:GetSecretValue", arn, ACCOUNT, f"container app secret {variable}")


def _report(places: Places, state: dict[str, Any] = STATE, *requirements: Requirement) -> PreflightReport:
    chosen = list(requirements) or [_secret(API_KEY, "API_KEY"), _secret(DB, "DB_PASSWORD")]
    verdicts = decide(chosen, _role(state), NoResourcePolicies(), REGION)  # type: ignore[arg-type]
    report = PreflightReport("fh-main-7f4486-app:1", ROLE, None)
    report.verdicts = places.describe(verdicts, principals(ROLE, None, None), TASK_DEFINITION)
    definition = places.by_arn[TASK_DEFINITION]
    report.terraform_address, report.terraform_location = definition.address, definition.location
    return report


def test_the_fix_names_the_secret_the_module_argument_and_the_policy_resource() -> None:
    report = _report(_places())
    api_key, db = report.failures
    secret_at = line_of(CONFIGURATION / "main.tf", 'resource "aws_secretsmanager_secret" "api_key"')
    call_at = line_of(CONFIGURATION / "main.tf", 'module "execution_role"')
    policy_at = line_of(MODULE / "main.tf", 'resource "aws_iam_role_policy" "this"')
    assert api_key.terraform_fix == (
        f"add aws_secretsmanager_secret.api_key.arn ({secret_at}) to the argument secret_arns of "
        f"module.execution_role ({call_at}), so that {POLICY} ({policy_at}) allows secretsmanager:GetSecretValue on it"
    )
    assert (api_key.terraform_address, api_key.terraform_location) == (POLICY, policy_at)
    assert (api_key.resource_address, db.resource_address) == (
        "aws_secretsmanager_secret.api_key",
        "aws_secretsmanager_secret.db_credentials",
    )
    assert "aws_secretsmanager_secret.db_credentials.arn (" in db.terraform_fix
    for verdict in report.failures:
        assert not MADE_UP.search(verdict.terraform_fix), verdict.terraform_fix
        assert verdict.requirement.resource in verdict.fix  # the ARN-form fix is kept as it was


def test_a_statement_that_allows_the_action_gets_the_resource_added() -> None:
    """The secret in the role's own module and a statement already allowing the action: add to its Resource."""
    state = copy.deepcopy(STATE)
    module = _module(state)
    root = state["values"]["root_module"]
    (moved,) = [r for r in root["resources"] if r["address"] == "aws_secretsmanager_secret.api_key"]
    root["resources"].remove(moved)
    module["resources"].append({**moved, "address": "module.execution_role.aws_secretsmanager_secret.api_key"})
    document = _policy_document(state)
    document["Statement"].append(
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": DB}
    )
    (policy,) = [r for r in module["resources"] if r["type"] == "aws_iam_role_policy"]
    policy["values"]["policy"] = json.dumps(document)
    report = _report(_places(state), state)
    (denied,) = report.failures  # DB is allowed now
    assert denied.terraform_fix.startswith(
        "add aws_secretsmanager_secret.api_key.arn to the Resource of statement 'ReadSecrets' (which allows "
        f"secretsmanager:GetSecretValue) of {POLICY} ("
    ), denied.terraform_fix


def test_a_role_without_a_policy_resource_gets_a_statement_in_the_role() -> None:
    """No ``aws_iam_role_policy``: the fix goes to the role itself, with the secret's address outside the module."""
    state = copy.deepcopy(STATE)
    module = _module(state)
    module["resources"] = [r for r in module["resources"] if r["type"] != "aws_iam_role_policy"]
    report = _report(_places(state, root=None))  # the role's policies as decided: still no secret statement
    api_key = report.failures[0]
    assert api_key.terraform_address == "module.execution_role.aws_iam_role.this"
    assert api_key.terraform_location == ""  # the configuration's files were not read
    assert api_key.terraform_fix == (
        "add a statement allowing secretsmanager:GetSecretValue on aws_secretsmanager_secret.api_key.arn to "
        "module.execution_role.aws_iam_role.this (pass aws_secretsmanager_secret.api_key.arn into "
        "module.execution_role)"
    )


def test_a_resource_the_state_did_not_make_keeps_its_arn() -> None:
    elsewhere = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shared/token-AbCdEf"
    report = _report(_places(), STATE, _secret(elsewhere, "TOKEN"))
    (denied,) = report.failures
    assert denied.resource_address == ""
    assert denied.terraform_fix.startswith(f"add a statement allowing secretsmanager:GetSecretValue on {elsewhere} to ")
    assert denied.terraform_address == POLICY


def test_a_key_policy_fix_refers_to_the_key_and_the_role_by_address() -> None:
    """A resource-based policy (here a key policy) is changed in the resource that writes it."""
    state = copy.deepcopy(STATE)
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111aaaa-1111-4111-8111-111111111111"
    state["values"]["root_module"]["resources"].append(
        {"address": "aws_kms_key.secrets", "mode": "managed", "type": "aws_kms_key", "name": "secrets",
         "values": {"arn": key, "key_id": key.rsplit("/", 1)[1]}}
    )  # fmt: skip
    requirement = Requirement(
        "kms", "kms:Decrypt", key, ACCOUNT, "secret API_KEY's key", resource_policy_kind="kms", exists=True
    )
    fix = f'add to the key policy of {key}: {{"Effect": "Allow", "Principal": {{"AWS": "{ROLE}"}}}}'
    verdict = Verdict(requirement, False, "Denied implicitly", ECS_ERRORS["kms"], fix, (), "key policy")
    (described,) = _places(state).describe([verdict], principals(ROLE, None, None), TASK_DEFINITION)
    assert described.terraform_address == "aws_kms_key.secrets"
    assert described.terraform_fix == (
        'add to the key policy of aws_kms_key.secrets: {"Effect": "Allow", "Principal": {"AWS": '
        '"module.execution_role.aws_iam_role.this.arn"}} (in aws_kms_key.secrets)'
    )


def test_a_missing_resource_is_fixed_in_the_task_definition() -> None:
    gone = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    requirement = Requirement(
        "secret", "secretsmanager:GetSecretValue", gone, ACCOUNT, "container app secret GONE", exists=False
    )
    verdict = Verdict(requirement, False, "missing", ECS_ERRORS["secret"], "create it, or fix the reference", ())
    (described,) = _places().describe([verdict], principals(ROLE, None, None), TASK_DEFINITION)
    at = line_of(CONFIGURATION / "main.tf", 'resource "aws_ecs_task_definition" "this"')
    assert (described.terraform_address, described.terraform_location) == ("aws_ecs_task_definition.this[0]", at)
    assert described.terraform_fix.endswith(f"(in aws_ecs_task_definition.this[0] ({at}))")


def test_the_table_and_json_carry_the_fix_and_keep_the_arn() -> None:
    report = _report(_places())
    document = json.loads(report.to_json())
    assert document["terraform_address"] == "aws_ecs_task_definition.this[0]"
    denied = [r for r in document["requirements"] if not r["allowed"]]
    assert [r["resource"] for r in denied] == [API_KEY, DB]  # existing fields unchanged
    assert [r["resource_address"] for r in denied] == [
        "aws_secretsmanager_secret.api_key",
        "aws_secretsmanager_secret.db_credentials",
    ]
    assert {r["terraform_address"] for r in denied} == {POLICY}
    assert all(r["fix"] and r["terraform_fix"] and r["terraform_location"] for r in denied)
    lines = report.table().splitlines()
    assert lines[1].startswith("terraform       aws_ecs_task_definition.this[0] (")
    fixes = [line.strip() for line in lines if line.strip().startswith("fix")]
    assert len(fixes) == 2 and all(not MADE_UP.search(line) for line in fixes), fixes
    assert any(API_KEY in line for line in lines if "DENY" in line)  # the ARN stays on the requirement's row


def test_the_assertion_lines_read_address_expected_got_fix() -> None:
    report = _report(_places())
    first, second = checks.denied_findings(report)
    assert first.startswith(
        "aws_ecs_task_definition.this[0]: expected secretsmanager:GetSecretValue on aws_secretsmanager_secret.api_key "
        f"({API_KEY}) to be allowed for container app secret API_KEY, got Denied implicitly"
    ), first
    assert "unable to retrieve secret from asm); fix: add aws_secretsmanager_secret.api_key.arn (" in first
    assert not MADE_UP.search(first.split("; fix: ", 1)[1])
    assert "aws_secretsmanager_secret.db_credentials" in second
    assert "fix: add aws_secretsmanager_secret.api_key.arn" in checks.denied_actions(report)


def test_without_places_the_assertion_keeps_the_arn_fix() -> None:
    verdicts = decide([_secret(API_KEY, "API_KEY")], _role(), NoResourcePolicies(), REGION)  # type: ignore[arg-type]
    report = PreflightReport("fh-main-7f4486-app:1", ROLE, None, verdicts=verdicts)
    (line,) = checks.denied_findings(report)
    assert line.startswith("task definition fh-main-7f4486-app:1: expected secretsmanager:GetSecretValue on arn:")
    assert f'"Resource": "{API_KEY}"' in line.split("; fix: ", 1)[1]


def test_secret_values_are_never_read() -> None:
    """A secret version's value in the state reaches no place, fix or report."""
    state = copy.deepcopy(STATE)
    state["values"]["root_module"]["resources"].append(
        {"address": "aws_secretsmanager_secret_version.api_key", "mode": "managed",
         "type": "aws_secretsmanager_secret_version", "name": "api_key",
         "values": {"arn": API_KEY, "secret_id": API_KEY, "secret_string": "PLANTED-SECRET-VALUE"}}
    )  # fmt: skip
    places = _places(state)
    report = _report(places, state)
    assert places.by_arn[API_KEY].address == "aws_secretsmanager_secret.api_key"  # the secret, not its version
    assert "PLANTED-SECRET-VALUE" not in repr(places) + report.to_json() + report.table()
    assert "PLANTED-SECRET-VALUE" not in "\n".join(checks.denied_findings(report))


@pytest.mark.parametrize(
    ("address", "names"),
    [
        ("", ()),
        ("module.a", ("a",)),
        ('module.a[0].module.b["x.y"]', ("a", "b")),
        ('module.svc["orders"].module.role', ("svc", "role")),
    ],
)
def test_module_names(address: str, names: tuple[str, ...]) -> None:
    assert module_names(address) == names


def test_an_unreadable_configuration_gives_addresses_without_locations(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "x" {\n')  # not HCL
    places = _places(root=tmp_path)
    assert places.by_arn[API_KEY].address == "aws_secretsmanager_secret.api_key"
    assert places.by_arn[API_KEY].location == "" and places.calls == {}


def test_a_secret_in_the_state_without_a_value_is_fixed_in_the_secret() -> None:
    """The resource exists in the state but cannot be used as referenced: the fix names the resource itself."""
    requirement = Requirement(
        "secret-value", "secretsmanager:GetSecretValue", API_KEY, ACCOUNT, "container app secret API_KEY", exists=False
    )
    fix = f"put a value in the secret {API_KEY} before the task starts"
    verdict = Verdict(requirement, False, "no value", ECS_ERRORS["secret-value"], fix, (), "the resource")
    (described,) = _places().describe([verdict], principals(ROLE, None, None), TASK_DEFINITION)
    at = line_of(CONFIGURATION / "main.tf", 'resource "aws_secretsmanager_secret" "api_key"')
    assert described.terraform_address == "aws_secretsmanager_secret.api_key"
    assert described.terraform_fix == (
        "put a value in the secret aws_secretsmanager_secret.api_key.arn before the task starts "
        f"(in aws_secretsmanager_secret.api_key ({at}))"
    )


def test_an_explicit_deny_is_narrowed_where_it_is_written() -> None:
    """The Deny lives in a second policy resource of the role: that one is named, not the first."""
    state = copy.deepcopy(STATE)
    module = _module(state)
    (policy,) = [r for r in module["resources"] if r["type"] == "aws_iam_role_policy"]
    deny = {"Version": "2012-10-17", "Statement": [{"Sid": "NoSecrets", "Effect": "Deny", "Action": "secretsmanager:*",
                                                    "Resource": "*"}]}  # fmt: skip
    module["resources"].append(
        {**policy, "address": "module.execution_role.aws_iam_role_policy.deny", "name": "deny",
         "values": {**policy["values"], "name": "deny", "policy": json.dumps(deny)}}
    )  # fmt: skip
    role = _role(state)
    role.policies[f"{role.name}/deny"] = deny
    verdicts = decide([_secret(API_KEY, "API_KEY")], role, NoResourcePolicies(), REGION)  # type: ignore[arg-type]
    (denied,) = _places(state).describe(verdicts, principals(ROLE, None, None), TASK_DEFINITION)
    assert denied.fix.startswith("remove or narrow"), denied.fix
    assert denied.terraform_address == "module.execution_role.aws_iam_role_policy.deny", denied.terraform_fix
    assert denied.terraform_fix.startswith("remove or narrow ")
    assert denied.terraform_fix.endswith("(in module.execution_role.aws_iam_role_policy.deny)"), denied.terraform_fix


def test_a_trust_fix_goes_to_the_roles_assume_role_policy() -> None:
    requirement = Requirement(
        "trust", "sts:AssumeRole", ROLE, ACCOUNT, "executionRoleArn", resource_policy_kind="trust", principal=ECS_TASKS
    )
    fix = 'add to the trust policy of role fh-main-7f4486-app-execution: {"Effect": "Allow"}'
    verdict = Verdict(requirement, False, "Denied", "", fix, (), "trust policy")
    (described,) = _places().describe([verdict], principals(ROLE, None, None), TASK_DEFINITION)
    at = line_of(MODULE / "main.tf", 'resource "aws_iam_role" "this"')
    assert described.terraform_address == "module.execution_role.aws_iam_role.this"
    assert described.terraform_fix.startswith(
        f"in assume_role_policy of module.execution_role.aws_iam_role.this ({at}):"
    )


def test_a_log_stream_is_granted_through_its_group() -> None:
    """The awslogs driver writes to ``<group ARN>:log-stream:<prefix>/<container>/<task id>``: the module takes
    the group's ARN; a statement grants every task's streams (Amazon ECS Developer Guide, "Using the awslogs log
    driver", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html)."""
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/fh-main-7f4486-app"
    stream = f"{group}:log-stream:app/app/0123456789abcdef0123456789abcdef"
    places = _places()
    requirement = Requirement("logs", "logs:PutLogEvents", stream, ACCOUNT, "container app awslogs")
    verdict = Verdict(requirement, False, "Denied", ECS_ERRORS["logs"], f"add to role x: {stream}", (), "role x")
    (described,) = places.describe([verdict], principals(ROLE, None, None), TASK_DEFINITION)
    assert described.resource_address == "aws_cloudwatch_log_group.this"
    at = line_of(CONFIGURATION / "main.tf", 'resource "aws_cloudwatch_log_group" "this"')
    assert described.terraform_fix.startswith(f"add aws_cloudwatch_log_group.this.arn ({at}) "), described.terraform_fix
    assert "to the argument log_group_arns of module.execution_role" in described.terraform_fix
    assert places.expression(stream) == '"${aws_cloudwatch_log_group.this.arn}:log-stream:app/app/*"'


def test_an_image_is_named_by_its_repository_url() -> None:
    state = copy.deepcopy(STATE)
    url = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fh-main-7f4486-app"
    state["values"]["root_module"]["resources"].append(
        {"address": "aws_ecr_repository.app", "mode": "managed", "type": "aws_ecr_repository", "name": "app",
         "values": {"arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/fh-main-7f4486-app", "repository_url": url}}
    )  # fmt: skip
    requirement = Requirement(
        "image", "ecr:BatchGetImage", f"{url}:latest", ACCOUNT, "container app image", exists=False
    )
    verdict = Verdict(requirement, False, "not pushed", ECS_ERRORS["image"], f"push the image {url}:latest", ())
    (described,) = _places(state).describe([verdict], principals(ROLE, None, None), TASK_DEFINITION)
    assert described.resource_address == "aws_ecr_repository.app"
    assert described.terraform_fix.startswith(
        'push the image "${aws_ecr_repository.app.repository_url}:latest" (in aws_ecr_repository.app'
    ), described.terraform_fix
    assert not MADE_UP.search(described.terraform_fix)
