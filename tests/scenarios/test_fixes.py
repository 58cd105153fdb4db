"""Fixes in the configuration's own terms, end to end: a broken case applied on the target, the pytest assertion.

``broken/secret-not-granted`` passes no secret to the execution-role module (``secret_arns = []``), so the
task cannot read its two secrets. The assertion users call (``AppliedRun.assert_tasks_start()``) must say so
with the Terraform addresses of the secrets, the module argument that feeds the role's policy and the policy
resource, and ``fix:``; never the emulator's account or the secrets' random suffixes in the fix.

AWS documentation: Amazon ECS Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment
variables" (the execution role needs ``secretsmanager:GetSecretValue`` on each secret),
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
"""

from __future__ import annotations

import json
import re

import pytest

from fargate_harness import checks
from fargate_harness.checks import AppliedRun

pytestmark = pytest.mark.scenario("broken/secret-not-granted")

SECRETS = ("aws_secretsmanager_secret.api_key", "aws_secretsmanager_secret.db_credentials")
POLICY = "module.execution_role.aws_iam_role_policy.this[0]"


def _message(applied: AppliedRun) -> str:
    with pytest.raises(AssertionError) as raised:
        applied.assert_tasks_start()
    return str(raised.value)


def test_assertion_names_the_secrets_and_the_fix_in_terraform_terms(applied: AppliedRun) -> None:
    message = _message(applied)
    header, *lines = message.splitlines()
    (definition,) = applied.inventory.task_definitions
    assert header == (
        f"{applied.name}: expected every task to start, got task definition {definition.label} not starting "
        "(2 findings below, one per line)"
    ), message
    for address, line in zip(SECRETS, sorted(lines, key=lambda text: "db_credentials" in text), strict=True):
        head = f"{applied.name}: {definition.address}: expected secretsmanager:GetSecretValue on {address} ("
        assert line.startswith(head), f"{applied.name}: {address}: expected a line starting {head!r}, got {line!r}"
        assert "; fix: " in line, f"{applied.name}: {address}: expected a fix, got {line!r}"
        fix = line.split("; fix: ", 1)[1]
        assert f"add {address}.arn (" in fix, f"{applied.name}: {address}: expected the secret's reference in {fix!r}"
        assert "to the argument secret_arns of module.execution_role (" in fix, (
            f"{applied.name}: {address}: expected the module argument feeding the policy in {fix!r}"
        )
        assert POLICY in fix and re.search(r"main\.tf:\d+\)", fix), (
            f"{applied.name}: {address}: expected {POLICY} with its file:line in {fix!r}"
        )
        assert not re.search(r"\d{12}|arn:", fix), f"{applied.name}: {address}: expected no ARN in the fix {fix!r}"


def test_cli_json_and_table_carry_the_fix(applied: AppliedRun) -> None:
    (report,) = checks.preflight_reports(applied)
    (definition,) = applied.inventory.task_definitions
    document = json.loads(report.to_json())
    assert document["terraform_address"] == definition.address
    denied = [r for r in document["requirements"] if not r["allowed"]]
    assert sorted(r["resource_address"] for r in denied) == sorted(SECRETS)
    assert {r["terraform_address"] for r in denied} == {POLICY}
    assert all(r["fix"] and r["terraform_fix"] for r in denied), denied
    table = report.table()
    fixes = [line.strip() for line in table.splitlines() if line.strip().startswith("fix:")]
    assert len(fixes) == 2 and all(POLICY in line for line in fixes), table
    assert not any(re.search(r"\d{12}", line) for line in fixes), table
