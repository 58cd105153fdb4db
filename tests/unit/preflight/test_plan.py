"""The preflight decided from a plan: recorded ``terraform show -json`` plans of the ``secrets`` scenario (aws 3.39.0,
made on the embedded emulator) and plan documents for aws 5.x/6.x written from the provider's documentation
(tests/data/plans/README.md).

Terraform's plan format: https://developer.hashicorp.com/terraform/internals/json-format (``after_unknown``: values
known only after apply). ECS: "Pass Secrets Manager secrets through Amazon ECS environment variables",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html (the execution role
needs secretsmanager:GetSecretValue on each secret).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import cli
from fargate_harness.errors import ConfigurationError
from fargate_harness.preflight.analysis import ECS_ERRORS
from fargate_harness.preflight.plan import (
    EXIT_UNDECIDED,
    UNDECIDED,
    WILL_NOT_START,
    WILL_START,
    PlanPreflight,
    preflight_plan,
)
from fargate_harness.preflight.plan_facts import PlanFacts
from fargate_harness.preflight.plan_roles import aws_managed_document
from fargate_harness.preflight.plan_values import PlanValues

PLANS = Path(__file__).resolve().parents[2] / "data" / "plans"
RECORDED = PLANS / "aws-3.39"
TASK = "aws_ecs_task_definition.this[0]"
POLICY = "module.execution_role.aws_iam_role_policy.this[0]"
ECS_MANAGED = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((PLANS / name).read_text()))


def decide(tmp_path: Path, document: dict[str, Any], **options: Any) -> PlanPreflight:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    return preflight_plan(path, **options)


def edited(name: str, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(load(name))
    edit(document)
    return document


def change(document: dict[str, Any], address: str) -> dict[str, Any]:
    (found,) = [c for c in document["resource_changes"] if c["address"] == address]
    return found["change"]  # type: ignore[no-any-return]


def test_unchanged_stack_will_start() -> None:
    result = preflight_plan(RECORDED / "secrets-unchanged.json")
    assert [r.verdict for r in result.reports] == [WILL_START], result.table()
    assert result.exit_code() == 0
    (report,) = result.reports
    assert report.report is not None and report.report.terraform_address == TASK
    assert result.account == "123456789012" and result.region == "us-east-1"
    result.assert_tasks_start()


def test_changed_image_tag_is_decided_on_planned_values() -> None:
    """The task definition is replaced (a new revision); its planned container definitions are known."""
    result = preflight_plan(RECORDED / "secrets-image-tag-changed.json")
    (report,) = result.reports
    assert report.verdict == WILL_START, report.table()
    images = [v.requirement.resource for v in report.report.verdicts] if report.report else []
    assert "public.ecr.aws/docker/library/nginx:1.27" in images, f"{TASK}: expected the planned image, got {images}"


def test_removed_secret_statement_will_not_start_with_the_ecs_error() -> None:
    result = preflight_plan(RECORDED / "secrets-secret-not-granted.json")
    (report,) = result.reports
    assert report.verdict == WILL_NOT_START, report.table()
    assert report.errors == [ECS_ERRORS["secret"]], f"{TASK}: expected the asm error, got {report.errors}"
    denied = sorted(v.requirement.source for v in report.decided if not v.allowed)
    assert denied == ["container app secret API_KEY", "container app secret DB_PASSWORD"], report.table()
    assert result.exit_code() == 1 and result.exit_code("pass") == 1
    with pytest.raises(AssertionError, match=r"aws_ecs_task_definition\.this\[0\]: would not start"):
        result.assert_tasks_start()


def test_new_stack_is_undecided_never_empty() -> None:
    """The trap: container_definitions is unknown on a new stack; reading it as no containers would pass."""
    result = preflight_plan(RECORDED / "secrets-new-stack.json")
    (report,) = result.reports
    assert report.verdict == UNDECIDED, report.table()
    assert [u.where for u in report.unknowns] == [f"{TASK}.container_definitions"]
    assert result.verdict == UNDECIDED
    assert result.exit_code() == EXIT_UNDECIDED
    assert result.exit_code("pass") == 0 and result.exit_code("fail") == 1
    assert "fargate-harness preflight --dir" in report.table()
    body = report.to_dict()
    assert body["will_start"] is False and body["verdict"] == UNDECIDED and body["decided_from"] == "plan"
    with pytest.raises(AssertionError, match=r"container_definitions: known after apply"):
        result.assert_tasks_start()


def test_region_from_the_variable_the_provider_reads() -> None:
    values = PlanValues.from_document(load("aws-3.39/secrets-new-stack.json"))
    assert values.provider_region == "us-east-1"


def test_policy_known_after_apply_makes_its_rows_undecided(tmp_path: Path) -> None:
    def unknown_policy(document: dict[str, Any]) -> None:
        body = change(document, POLICY)
        body["actions"] = ["update"]
        body["after_unknown"] = {"policy": True}
        body["after"].pop("policy")

    result = decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", unknown_policy))
    (report,) = result.reports
    assert report.verdict == UNDECIDED, report.table()
    assert report.report is not None
    undecided = {report.report.verdicts[i].requirement.action for i in report.rows}
    assert "secretsmanager:GetSecretValue" in undecided and "logs:CreateLogStream" in undecided, report.table()
    assert {u.where for u in report.unknowns} == {f"{POLICY}.policy"}, report.table()
    assert "UNDEC" in report.table()
    rows = report.to_dict()["requirements"]
    assert any(row["undecided"] for row in rows) and not all(row["undecided"] for row in rows)


def test_secret_outside_the_plan_is_unknown_with_its_arn(tmp_path: Path) -> None:
    """A secret passed in as a variable: not in the plan, so not read; never "does not exist"."""

    def drop_secrets(document: dict[str, Any]) -> None:
        def keep(item: dict[str, Any]) -> bool:
            return not str(item["type"]).startswith("aws_secretsmanager_")

        document["resource_changes"] = [c for c in document["resource_changes"] if keep(c)]
        root = document["prior_state"]["values"]["root_module"]
        root["resources"] = [r for r in root["resources"] if keep(r)]

    result = decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", drop_secrets))
    (report,) = result.reports
    assert report.verdict == UNDECIDED, report.table()
    wheres = sorted({u.where for u in report.unknowns})
    assert len(wheres) == 2 and all(":secretsmanager:" in w and ":secret:" in w for w in wheres), wheres
    assert all("not in the plan" in u.why for u in report.unknowns)


def test_execution_role_known_after_apply_is_undecided(tmp_path: Path) -> None:
    def unknown_role(document: dict[str, Any]) -> None:
        body = change(document, TASK)
        body["actions"] = ["delete", "create"]
        body["after_unknown"] = {"execution_role_arn": True, "arn": True, "revision": True}
        body["after"].pop("execution_role_arn")

    result = decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", unknown_role))
    (report,) = result.reports
    assert report.verdict == UNDECIDED, report.table()
    assert f"{TASK}.execution_role_arn" in {u.where for u in report.unknowns}
    assert report.report is not None and not report.report.registration, "an unknown role is not a missing role"


def test_deleted_attachment_leaves_the_computed_managed_policy_arns(tmp_path: Path) -> None:
    attachment = "module.execution_role.aws_iam_role_policy_attachment.execution[0]"

    def delete_attachment(document: dict[str, Any]) -> None:
        body = change(document, attachment)
        body["actions"], body["after"] = ["delete"], None

    values = PlanValues.from_document(edited("aws-3.39/secrets-unchanged.json", delete_attachment))
    role_arn = next(r.values["arn"] for r in values.of_type("aws_iam_role"))
    facts = PlanFacts(values, account="123456789012", region="us-east-1")
    assert ECS_MANAGED not in facts.role(role_arn).policies
    unchanged = PlanFacts(PlanValues.from_document(load("aws-3.39/secrets-unchanged.json")), account="1", region="r")
    assert ECS_MANAGED in unchanged.role(role_arn).policies


def test_aws_5_exclusive_resources_keep_only_what_they_list() -> None:
    result = preflight_plan(PLANS / "aws-5.x-exclusive.json")
    (report,) = result.reports
    assert report.verdict == WILL_START, report.table()
    facts = PlanFacts(PlanValues.read(PLANS / "aws-5.x-exclusive.json"), account="111122223333", region="eu-west-1")
    policies = sorted(facts.role("arn:aws:iam::111122223333:role/orders-execution").policies)
    assert policies == [
        "arn:aws:iam::111122223333:policy/orders-logs",
        ECS_MANAGED,
        "orders-execution/read-secret",
    ], f"aws_iam_role.execution: expected the exclusive lists, got {policies}"


def test_aws_6_exclusive_inline_list_removes_the_secret_grant() -> None:
    result = preflight_plan(PLANS / "aws-6.x-exclusive.json")
    (report,) = result.reports
    assert report.verdict == WILL_NOT_START, report.table()
    assert report.errors == [ECS_ERRORS["secret"]], report.errors


def test_aws_managed_policies_come_from_the_offline_copy() -> None:
    document = aws_managed_document(ECS_MANAGED) or {}
    actions = {a for s in document.get("Statement", []) for a in s.get("Action", [])}
    assert "logs:CreateLogStream" in actions and "ecr:GetAuthorizationToken" in actions, actions
    assert aws_managed_document("arn:aws-us-gov:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
    assert aws_managed_document("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not JSON"),
        ('{"format_version": "1.0", "values": {}}', "is a Terraform state, not a plan"),
        ("[1, 2]", "is not a Terraform plan in JSON"),
    ],
)
def test_bad_plan_is_bad_input(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        preflight_plan(path)


def test_cli_json_schema_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["preflight", "--plan", str(RECORDED / "secrets-new-stack.json"), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == EXIT_UNDECIDED == document["exit_code"]
    assert document["schema_version"] == cli.PREFLIGHT_SCHEMA_VERSION == 2
    assert document["decided_from"] == "plan" and document["verdict"] == UNDECIDED and document["will_start"] is False
    (entry,) = document["task_definitions"]
    assert entry["undecided"][0]["where"] == f"{TASK}.container_definitions"
    assert cli.main(["preflight", "--plan", str(RECORDED / "secrets-new-stack.json"), "--undecided", "pass"]) == 0
    assert cli.main(["preflight", "--plan", str(RECORDED / "secrets-secret-not-granted.json")]) == 1
    assert cli.main(["preflight", "--plan", str(RECORDED / "secrets-unchanged.json")]) == 0


def test_cli_bad_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["preflight", "--plan", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["preflight", "--plan", str(RECORDED / "secrets-unchanged.json"), "--scenario", "secrets"]) == 2


def test_every_task_definition_of_a_role_with_an_unknown_is_undecided(tmp_path: Path) -> None:
    """The role is built once and cached: its unknowns must reach every task definition that uses it."""

    def two_tasks_unknown_role_of_policy(document: dict[str, Any]) -> None:
        body = change(document, POLICY)
        body["actions"], body["after_unknown"] = ["update"], {"role": True}
        body["after"].pop("role")
        (task,) = [c for c in document["resource_changes"] if c["address"] == TASK]
        second = copy.deepcopy(task)
        second["address"] = "aws_ecs_task_definition.second"
        document["resource_changes"].append(second)

    document = edited("aws-3.39/secrets-unchanged.json", two_tasks_unknown_role_of_policy)
    # the configuration sets the policy's role by a direct reference (role = aws_iam_role.this.id): decided
    assert [r.verdict for r in decide(tmp_path, document).reports] == [WILL_START, WILL_START]
    document["configuration"] = {}  # without it, whose policy it is cannot be told
    result = decide(tmp_path, document)
    assert [r.verdict for r in result.reports] == [UNDECIDED, UNDECIDED], result.table()
    for report in result.reports:
        assert f"{POLICY}.role" in {u.where for u in report.unknowns}, report.table()


def test_role_created_by_the_plan_is_found_by_its_reference() -> None:
    """trust-ec2-service: task_role_arn = aws_iam_role.extra[0].arn, a role the plan creates (ARN unknown, name
    known): the role is that resource, its trust policy is planned, so ECS's AssumeRole is decided (denied)."""
    values = PlanValues.read(BROKEN / "trust-ec2-service.json")
    role = values.referenced("aws_ecs_task_definition.this[0]", "task_role_arn", "aws_iam_role")
    assert role is not None and role.address == "aws_iam_role.extra[0]" and role.is_unknown("arn")
    assert values.referenced("aws_ecs_task_definition.this[0]", "execution_role_arn", "aws_iam_role") is None
    assert values.referenced("aws_ecs_task_definition.this[0]", "container_definitions", "aws_iam_role") is None


def test_log_group_the_plan_deletes_is_missing_not_unknown(tmp_path: Path) -> None:
    """A resource the plan deletes does not exist after apply: decided missing, never "outside the plan"."""

    def delete_group(document: dict[str, Any]) -> None:
        body = change(document, "aws_cloudwatch_log_group.this")
        body["actions"], body["after"] = ["delete"], None

    result = decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", delete_group))
    (report,) = result.reports
    assert report.verdict == WILL_NOT_START, report.table()
    assert report.unknowns == [], report.table()
    missing = [v for v in report.decided if v.requirement.exists is False]
    assert {v.requirement.kind for v in missing} == {"logs"}, report.table()


BROKEN = RECORDED / "broken"
#: Cases a plan cannot decide, and the unknown it names: what lies outside any plan (which image tags a repository
#: holds, a log group or role the configuration names but does not manage). Never "will start". A role or EFS file
#: system the plan creates is decided (trust-ec2-service, deployer-cannot-pass-role, efs-mount-denied): the task
#: definition names it by a direct reference.
UNDECIDED_FROM_A_PLAN = {
    "image-not-pushed": ":repository/",
    "create-group-denied": ":log-group:",
    "log-group-missing": ":log-group:",
    "execution-role-missing": ":role/",
}


def broken_cases() -> list[str]:
    return sorted(p.name.removesuffix(".expected.json") for p in BROKEN.glob("*.expected.json"))


@pytest.mark.parametrize("case", broken_cases())
def test_broken_case_plan_decides_as_the_emulator_apply(case: str) -> None:
    """Each case of scenarios/broken planned against its applied base (real plans, aws 3.39.0), decided from the plan
    as the emulator's preflight decided it after applying the case (recorded beside it: will_start, the fatal kinds
    denied, the errors), or undecided naming what the plan cannot give. The emulator run pushed a placeholder
    ``latest`` to the case's own ECR repositories, so plans are decided with images assumed pushed, except where the
    case turns on the pushed tags."""
    expected = json.loads((BROKEN / f"{case}.expected.json").read_text())
    plan = BROKEN / f"{case}.json"
    images = "require" if case == "image-not-pushed" else "assume-pushed"
    result = preflight_plan(plan, images=images, deployer=expected["deployer"])
    reports = [r for r in result.reports if expected["service"] in r.address]
    if case in UNDECIDED_FROM_A_PLAN:
        assert [r.verdict for r in reports if r.verdict != WILL_START] == [UNDECIDED], result.table()
        wheres = [u.where for r in reports for u in r.unknowns]
        assert any(UNDECIDED_FROM_A_PLAN[case] in where for where in wheres), f"{case}: unknowns {wheres}"
        return
    verdict = WILL_START if expected["will_start"] else WILL_NOT_START
    (report,) = [r for r in reports if r.verdict == verdict] if verdict == WILL_NOT_START else reports[:1]
    assert report.verdict == verdict, report.table()
    denied = sorted({v.requirement.kind for v in report.decided if not v.allowed and v.requirement.fatal})
    assert denied == expected["denied"], f"{case}: {report.address}: denied {denied}, the emulator {expected['denied']}"
    assert report.errors == expected["errors"], f"{case}: {report.address}: {report.errors} != {expected['errors']}"


@pytest.mark.parametrize(("name", "verdict"), [("unchanged", WILL_START), ("secret-not-granted", WILL_NOT_START)])
def test_aws_2_70_role_without_inline_policy_attributes(name: str, verdict: str) -> None:
    """Provider 2.x has no inline_policy/managed_policy_arns on aws_iam_role: the policy comes from
    aws_iam_role_policy alone (real plans, tests/data/plans/aws-2.70/config)."""
    (report,) = preflight_plan(PLANS / "aws-2.70" / f"{name}.json").reports
    assert report.verdict == verdict, report.table()
    if verdict == WILL_NOT_START:
        assert report.errors == [ECS_ERRORS["secret"]], report.errors


UNCHANGED = RECORDED / "unchanged"


@pytest.mark.parametrize(
    "base", sorted(p.name.removesuffix(".expected.json") for p in UNCHANGED.glob("*.expected.json"))
)
def test_unchanged_reference_scenario_plan_will_start(base: str) -> None:
    """Each reference scenario (secrets apart: secrets-unchanged.json) planned unchanged against its applied stack:
    every task definition will start, as the emulator's preflight decided after the apply (recorded beside it).
    Images assumed pushed, as the emulator run pushed a placeholder ``latest``."""
    expected = json.loads((UNCHANGED / f"{base}.expected.json").read_text())
    assert expected["will_start"] is True
    result = preflight_plan(UNCHANGED / f"{base}.json", images="assume-pushed")
    assert result.reports and {r.verdict for r in result.reports} == {WILL_START}, result.table()


def test_fix_is_in_the_configuration_s_terms() -> None:
    """The places come from the planned values, the role's computed inline_policy left out (it is what AWS had at
    refresh, with the statement the plan removes): the fix names the policy resource the plan changes."""
    (report,) = preflight_plan(RECORDED / "secrets-secret-not-granted.json").reports
    fixes = [v.terraform_fix for v in report.decided if not v.allowed]
    assert fixes and all(f"to {POLICY}" in fix for fix in fixes), fixes
    assert any("aws_secretsmanager_secret.api_key.arn" in fix for fix in fixes), fixes


def _set_in_configuration(document: dict[str, Any], address: str, attribute: str, written: bool) -> None:
    (block,) = [b for b in document["configuration"]["root_module"]["resources"] if b["address"] == address]
    if written:
        block["expressions"][attribute] = {"references": ["data.aws_iam_policy_document.extra.json"]}
    else:
        block["expressions"].pop(attribute, None)


@pytest.mark.parametrize("written", [True, False])
def test_key_policy_known_after_apply(tmp_path: Path, written: bool) -> None:
    """A key the plan creates: its policy, when written, is known only after apply (undecided); when not written,
    AWS gives it the default key policy, which lets IAM decide (AWS KMS Developer Guide, "Default key policy",
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)."""

    def new_key_policy(document: dict[str, Any]) -> None:
        body = change(document, "aws_kms_key.this")
        body["actions"], body["after_unknown"] = ["update"], {"policy": True}
        body["after"].pop("policy")
        _set_in_configuration(document, "aws_kms_key.this", "policy", written)

    document = edited("aws-3.39/unchanged/ssm-kms.json", new_key_policy)
    (report,) = decide(tmp_path, document, images="assume-pushed").reports
    if written:
        assert report.verdict == UNDECIDED, report.table()
        assert "aws_kms_key.this.policy" in {u.where for u in report.unknowns}, report.table()
    else:
        assert report.verdict == WILL_START, report.table()


def test_secret_policy_written_but_unknown_is_undecided(tmp_path: Path) -> None:
    def unknown_secret_policy(document: dict[str, Any]) -> None:
        body = change(document, "aws_secretsmanager_secret.api_key")
        body["actions"], body["after_unknown"] = ["update"], {"policy": True}
        body["after"].pop("policy", None)
        _set_in_configuration(document, "aws_secretsmanager_secret.api_key", "policy", True)

    (report,) = decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", unknown_secret_policy)).reports
    assert report.verdict == UNDECIDED, report.table()
    assert {u.where for u in report.unknowns} == {"aws_secretsmanager_secret.api_key.policy"}, report.table()


def test_policy_resource_whose_target_is_unknown_may_apply(tmp_path: Path) -> None:
    def new_secret_policy(document: dict[str, Any]) -> None:
        document["resource_changes"].append(
            {
                "address": "aws_secretsmanager_secret_policy.new",
                "mode": "managed",
                "type": "aws_secretsmanager_secret_policy",
                "name": "new",
                "change": {"actions": ["create"], "after": {"policy": "{}"}, "after_unknown": {"secret_arn": True}},
            }
        )

    (report,) = decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", new_secret_policy)).reports
    assert report.verdict == UNDECIDED, report.table()
    assert {u.where for u in report.unknowns} == {"aws_secretsmanager_secret_policy.new.secret_arn"}, report.table()


@pytest.mark.parametrize(
    "document",
    [
        {"format_version": "1.2", "resource_changes": "not a list"},
        {"format_version": "1.2", "resource_changes": [{"address": "x", "change": "oops"}]},
        {
            "format_version": "1.2",
            "resource_changes": [],
            "prior_state": {"values": {"root_module": {"resources": [1]}}},
        },
    ],
    ids=["changes-not-a-list", "change-not-an-object", "state-resource-not-an-object"],
)
def test_malformed_plan_is_bad_input_never_a_traceback(tmp_path: Path, document: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="not a well-formed Terraform plan"):
        decide(tmp_path, document)


def test_container_definitions_of_another_shape_is_bad_input(tmp_path: Path) -> None:
    def odd_containers(document: dict[str, Any]) -> None:
        change(document, TASK)["after"]["container_definitions"] = '["app"]'

    with pytest.raises(ConfigurationError, match=r"aws_ecs_task_definition\.this\[0\]: container_definitions is not"):
        decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", odd_containers))


def test_planned_values_of_another_type_is_bad_input(tmp_path: Path) -> None:
    def after_is_a_string(document: dict[str, Any]) -> None:
        change(document, TASK)["after"] = "oops"

    with pytest.raises(ConfigurationError, match=r"aws_ecs_task_definition\.this\[0\]: after is a str"):
        decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", after_is_a_string))


def test_partly_unknown_volume_is_not_judged_by_its_known_part(tmp_path: Path) -> None:
    """A volume whose file system id and transit encryption are known only after apply: a missing
    transitEncryption must not read as DISABLED (a registration error AWS would not give)."""
    document = json.loads((BROKEN / "efs-mount-denied.json").read_text())
    body = change(document, TASK)
    body["after"]["volume"][0]["efs_volume_configuration"][0].pop("transit_encryption")
    body["after_unknown"]["volume"][0]["efs_volume_configuration"][0]["transit_encryption"] = True
    (report,) = decide(tmp_path, document, images="assume-pushed").reports
    assert report.verdict == UNDECIDED, report.table()
    assert report.report is not None and not report.report.registration, report.report.registration


def test_role_tags_known_after_apply_leave_its_rows_undecided(tmp_path: Path) -> None:
    role = "module.execution_role.aws_iam_role.this"

    def unknown_tags(document: dict[str, Any]) -> None:
        body = change(document, role)
        body["actions"], body["after_unknown"] = ["update"], {"tags": True, "tags_all": True}
        body["after"].pop("tags"), body["after"].pop("tags_all")

    (report,) = decide(tmp_path, edited("aws-3.39/secrets-unchanged.json", unknown_tags)).reports
    assert report.verdict == UNDECIDED, report.table()
    assert {u.where for u in report.unknowns} == {f"{role}.tags_all"}, report.table()
