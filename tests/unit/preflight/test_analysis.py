"""Unit tests for fargate_harness.preflight.analysis (decide, over-grants, the report) and the registration check."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.aws import efs, secrets
from fargate_harness.preflight import registration_errors
from fargate_harness.preflight.analysis import (
    ECS_ERRORS,
    PreflightReport,
    Verdict,
    decide,
    misplaced_on_task_role,
    overgrants,
)
from fargate_harness.preflight.collect import RolePolicies
from fargate_harness.preflight.requirements import Requirement, derive

DATA = Path(__file__).resolve().parents[1] / "data" / "preflight"
ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "us-east-1"
EXEC_ARN = f"arn:aws:iam::{ACCOUNT}:role/web-exec"
TASK_ARN = f"arn:aws:iam::{ACCOUNT}:role/web-task"
MANAGED = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
INLINE = "web-exec/web-exec"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-password-AbCdEf"
TOKEN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/api-token-GhIjKl"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111aaaa-1111-4111-8111-111111111111"
OTHER_KEY = f"arn:aws:kms:{REGION}:{OTHER}:key/4444dddd-4444-4444-8444-444444444444"
OTHER_REPO = f"arn:aws:ecr:{REGION}:{OTHER}:repository/shared/otel"
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def _td(name: str = "task_definition_web.json") -> dict[str, Any]:
    return copy.deepcopy(_load(name)["taskDefinition"])


class RecordedFacts:
    """Resource facts and resource policies from ``facts.json``: the ``Facts`` protocol plus decide()'s three."""

    def __init__(self, **overrides: dict[str, Any]) -> None:
        """Recorded facts, with whole sections replaced by ``overrides``."""
        self.data = _load("facts.json")
        self.data.update(overrides)

    def secret(self, secret_id: str) -> Mapping[str, Any] | None:
        """Recorded DescribeSecret."""
        found: Mapping[str, Any] | None = self.data["secrets"].get(secret_id)
        return found

    def parameter(self, name: str, account: str, region: str) -> Mapping[str, Any] | None:
        """Recorded DescribeParameters entry."""
        found: Mapping[str, Any] | None = self.data["parameters"].get(account, {}).get(region, {}).get(name)
        return found

    def key_arn(self, key_id: str, account: str, region: str) -> str | None:
        """Recorded key ARN."""
        found: str | None = self.data["keys"].get(key_id)
        return found

    def log_group_kms_key(self, name: str, account: str, region: str) -> str | None:
        """The recorded KMS key of a log group (none unless ``log_group_keys`` names one)."""
        found: str | None = self.data.get("log_group_keys", {}).get(name)
        return found

    def secret_value_shape(
        self, secret_arn: str, version_id: str | None, version_stage: str | None
    ) -> secrets.SecretValueShape | None:
        """The recorded shape of a secret's value (``secret_values``: ARN -> keys, or null for a non-JSON value)."""
        recorded = self.data.get("secret_values", {})
        if secret_arn not in recorded:
            return None
        keys = recorded[secret_arn]
        if keys is None:
            return secrets.SecretValueShape(False)
        return secrets.SecretValueShape(True, frozenset(keys))

    def log_group_exists(self, name: str, account: str, region: str) -> bool:
        """Whether the log group is recorded."""
        return name in self.data["log_groups"].get(account, {}).get(region, [])

    def repository_exists(self, name: str, account: str, region: str) -> bool:
        """Whether the repository is recorded."""
        return name in self.data["repositories"].get(account, {}).get(region, [])

    def repository_policy(self, repository_arn: str) -> dict[str, Any] | None:
        """Recorded repository policy."""
        found: dict[str, Any] | None = self.data["repository_policies"].get(repository_arn)
        return found

    def secret_policy(self, secret_arn: str) -> dict[str, Any] | None:
        """Recorded secret resource policy."""
        found: dict[str, Any] | None = self.data["secret_policies"].get(secret_arn)
        return found

    def key_policy(self, key_arn: str) -> dict[str, Any] | None:
        """Recorded key policy."""
        found: dict[str, Any] | None = self.data["key_policies"].get(key_arn)
        return found

    def image_ids(self, name: str, account: str, region: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """Recorded tags and digests of a repository."""
        found = self.data["images"].get(account, {}).get(region, {}).get(name)
        return None if found is None else (frozenset(found["tags"]), frozenset(found["digests"]))

    def pull_through_rules(self, account: str, region: str) -> list[dict[str, Any]]:
        """Recorded pull through cache rules."""
        rules: list[dict[str, Any]] = self.data["pull_through_rules"].get(account, {}).get(region, [])
        return rules

    def bucket_owner(self, bucket: str) -> str | None:
        """The recorded owner of a bucket."""
        owner: str | None = self.data["buckets"].get(bucket)
        return owner

    def object_metadata(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        """Recorded HeadObject."""
        found: Mapping[str, Any] | None = self.data["objects"].get(bucket, {}).get(key)
        return found

    def file_system(self, file_system_id: str, account: str, region: str) -> Mapping[str, Any] | None:
        """A recorded file system."""
        known = file_system_id in self.data["file_systems"].get(account, {}).get(region, [])
        return {"FileSystemId": file_system_id} if known else None

    def bucket_policy(self, bucket_arn: str) -> dict[str, Any] | None:
        """Recorded bucket policy."""
        found: dict[str, Any] | None = self.data["bucket_policies"].get(bucket_arn)
        return found

    def file_system_policy(self, file_system_arn: str) -> dict[str, Any] | None:
        """Recorded file system policy, EFS's default policy when none is recorded."""
        found: dict[str, Any] = self.data["file_system_policies"].get(file_system_arn, efs.DEFAULT_FILE_SYSTEM_POLICY)
        return found


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str | list[str], resource: str | list[str], sid: str = "", **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if sid:
        statement["Sid"] = sid
    return statement


def _role(
    *statements: dict[str, Any],
    arn: str = EXEC_ARN,
    policies: dict[str, dict[str, Any]] | None = None,
    aws_managed: frozenset[str] = frozenset(),
) -> RolePolicies:
    name = arn.rsplit("/", 1)[-1]
    documents = dict(policies or {})
    if statements:
        documents[f"{name}/inline"] = _doc(*statements)
    return RolePolicies(arn, name, documents, aws_managed, None, {})


def _module_role() -> RolePolicies:
    """The web-exec role as the ecs-execution-role module builds it, plus the AWS managed policy."""
    policies = _load("execution_role_policies.json")
    return RolePolicies(EXEC_ARN, "web-exec", policies, frozenset({MANAGED}), None, {})


def _module_inline_only() -> RolePolicies:
    return RolePolicies(
        EXEC_ARN, "web-exec", {INLINE: _load("execution_role_policies.json")[INLINE]}, frozenset(), None, {}
    )


def _web_requirements() -> list[Requirement]:
    return derive(_td(), RecordedFacts(), principal_account=ACCOUNT, region=REGION)


def _secret(resource: str = SECRET, **fields: Any) -> Requirement:
    return Requirement("secret", "secretsmanager:GetSecretValue", resource, ACCOUNT, "container web secret S", **fields)


def _pull(resource: str = OTHER_REPO, owner: str = OTHER) -> Requirement:
    return Requirement("ecr-pull", "ecr:BatchGetImage", resource, owner, "container otel image", exists=True)


def _kms(resource: str = KEY, owner: str = ACCOUNT) -> Requirement:
    context = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}
    return Requirement(
        "kms", "kms:Decrypt", resource, owner, "key", context=context, resource_policy_kind="kms", exists=True
    )


def _decide_one(requirement: Requirement, role: RolePolicies, facts: RecordedFacts | None = None) -> Verdict:
    (verdict,) = decide([requirement], role, facts or RecordedFacts(), REGION)  # type: ignore[arg-type]
    return verdict


def _fix_statement(fix: str, marker: str) -> dict[str, Any]:
    """The JSON statement following ``marker`` in a fix."""
    text = fix.split(marker, 1)[1]
    decoded, _end = json.JSONDecoder().raw_decode(text)
    statement: dict[str, Any] = decoded
    return statement


# -- decide -------------------------------------------------------------------------------------------


def test_decide_recorded_task_definition_with_module_role_allows_everything() -> None:
    verdicts = decide(_web_requirements(), _module_inline_only(), RecordedFacts(), REGION)  # type: ignore[arg-type]
    assert [v.requirement.kind for v in verdicts if not v.allowed] == []
    assert all(v.error == "" and v.fix == "" for v in verdicts)


def test_decide_same_account_identity_allow() -> None:
    verdict = _decide_one(_secret(exists=True), _role(_allow("secretsmanager:GetSecretValue", SECRET, "ReadSecrets")))
    assert verdict.allowed
    assert "ReadSecrets" in verdict.reason
    assert (verdict.error, verdict.fix) == ("", "")


def test_decide_denied_names_the_role_and_the_statement_to_add() -> None:
    verdict = _decide_one(_secret(exists=True), _role(_allow("s3:GetObject", "*")))
    assert not verdict.allowed
    assert verdict.error == ECS_ERRORS["secret"]
    assert verdict.fix.startswith("add to role web-exec: ")
    assert _fix_statement(verdict.fix, "add to role web-exec: ") == {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": SECRET,
    }


def test_decide_explicit_deny_fix_names_the_statement() -> None:
    role = _role(
        _allow("secretsmanager:GetSecretValue", SECRET, "ReadSecrets"),
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"},
    )
    verdict = _decide_one(_secret(exists=True), role)
    assert not verdict.allowed
    assert verdict.fix.startswith("remove or narrow ")
    assert "'NoSecrets'" in verdict.fix
    assert "web-exec/inline" in verdict.fix


def test_decide_cross_account_ecr_without_repository_policy() -> None:
    role = _role(_allow(list(PULL_ACTIONS), OTHER_REPO, "PullFromECR"))
    verdict = _decide_one(_pull(), role, RecordedFacts(repository_policies={}))
    assert not verdict.allowed
    assert verdict.error == ECS_ERRORS["ecr-pull"]
    assert f"(the repository policy in account {OTHER} is missing or unreadable)" in verdict.reason
    marker = f"add to the repository policy in account {OTHER}: "
    assert verdict.fix.startswith(marker)
    assert _fix_statement(verdict.fix, marker) == {
        "Effect": "Allow",
        "Principal": {"AWS": EXEC_ARN},
        "Action": "ecr:BatchGetImage",
    }
    assert "and to role" not in verdict.fix  # the identity side already allows it


def test_decide_cross_account_ecr_missing_both_sides() -> None:
    verdict = _decide_one(_pull(), _role(), RecordedFacts(repository_policies={}))
    assert verdict.fix.startswith(f"add to the repository policy in account {OTHER}: ")
    assert "; and to role web-exec: " in verdict.fix


def test_decide_cross_account_ecr_with_policy_naming_the_role() -> None:
    role = _role(_allow(list(PULL_ACTIONS), OTHER_REPO, "PullFromECR"))
    verdict = _decide_one(_pull(), role)
    assert verdict.allowed, verdict.reason
    assert "PullFromWebExec" in verdict.reason


def test_decide_cross_account_ecr_policy_allows_but_identity_does_not() -> None:
    verdict = _decide_one(_pull(), _role())
    assert not verdict.allowed
    assert verdict.fix.startswith("add to role web-exec: ")


def test_decide_kms_key_policy_delegating_to_root_and_identity_allow() -> None:
    condition = {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}
    verdict = _decide_one(_kms(), _role(_allow("kms:Decrypt", KEY, "DecryptSecrets", Condition=condition)))
    assert verdict.allowed, verdict.reason


def test_decide_kms_identity_condition_on_other_service_denies() -> None:
    condition = {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}}
    verdict = _decide_one(_kms(), _role(_allow("kms:Decrypt", KEY, "DecryptSecrets", Condition=condition)))
    assert not verdict.allowed
    assert verdict.error == ECS_ERRORS["kms"]
    assert verdict.fix.startswith("add to role web-exec: ")  # the key policy delegates: the role lacks it


def test_decide_kms_key_policy_without_root_or_role() -> None:
    facts = RecordedFacts(
        key_policies={
            KEY: _doc({"Effect": "Allow", "Principal": {"AWS": TASK_ARN}, "Action": "kms:*", "Resource": "*"})
        }
    )
    verdict = _decide_one(_kms(), _role(_allow("kms:Decrypt", KEY, "DecryptSecrets")), facts)
    assert not verdict.allowed
    marker = f"add to the key policy of {KEY}: "
    assert verdict.fix.startswith(marker)
    assert _fix_statement(verdict.fix, marker) == {
        "Effect": "Allow",
        "Principal": {"AWS": EXEC_ARN},
        "Action": "kms:Decrypt",
    }
    assert f"(or allow arn:aws:iam::{ACCOUNT}:root to let IAM policies decide)" in verdict.fix


def test_decide_kms_key_policy_naming_the_role_needs_no_identity_grant() -> None:
    facts = RecordedFacts(
        key_policies={
            KEY: _doc({"Effect": "Allow", "Principal": {"AWS": EXEC_ARN}, "Action": "kms:Decrypt", "Resource": "*"})
        }
    )
    assert _decide_one(_kms(), _role(), facts).allowed


def test_decide_kms_without_readable_key_policy_denies() -> None:
    verdict = _decide_one(_kms(), _role(_allow("kms:Decrypt", KEY)), RecordedFacts(key_policies={}))
    assert not verdict.allowed
    assert verdict.fix.startswith(f"add to the key policy of {KEY}: ")


@pytest.mark.parametrize("kind", ["secret", "parameter", "ecr-pull", "logs", "kms"])
def test_decide_missing_resource(kind: str) -> None:
    requirement = Requirement(
        kind,
        "x:Y",
        "arn:aws:x:us-east-1:111122223333:thing/gone",
        ACCOUNT,
        "container web thing",
        exists=False,
        missing="thing gone does not exist",
    )
    verdict = _decide_one(requirement, _role(_allow("*", "*")))
    assert not verdict.allowed
    assert verdict.reason == "thing gone does not exist"
    assert verdict.error == ECS_ERRORS[kind]
    assert verdict.fix == "create it, or fix the reference in container web thing"


def test_decide_cross_account_kms_key_policy_delegating_to_its_own_root() -> None:
    root_only = _doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "kms:*", "Resource": "*"}
    )
    facts = RecordedFacts(key_policies={OTHER_KEY: root_only})
    verdict = _decide_one(_kms(OTHER_KEY, OTHER), _role(_allow("kms:Decrypt", OTHER_KEY, "DecryptSecrets")), facts)
    assert not verdict.allowed
    assert verdict.fix.startswith(f"add to the key policy of {OTHER_KEY}: ")


def test_decide_cross_account_repository_policy_granting_the_account_fix_is_the_role_only() -> None:
    account_grant = _doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": list(PULL_ACTIONS)}
    )
    verdict = _decide_one(_pull(), _role(), RecordedFacts(repository_policies={OTHER_REPO: account_grant}))
    assert not verdict.allowed
    assert verdict.fix.startswith("add to role web-exec: ")


# -- over-grants ------------------------------------------------------------------------------------


def _inline_with(sid: str, **changes: Any) -> RolePolicies:
    """The module's inline policy with statement ``sid`` changed."""
    document = _load("execution_role_policies.json")[INLINE]
    for statement in document["Statement"]:
        if statement["Sid"] == sid:
            statement.update(changes)
    return RolePolicies(EXEC_ARN, "web-exec", {INLINE: document}, frozenset(), None, {})


def test_module_policy_has_no_overgrants() -> None:
    assert overgrants(_module_role(), _web_requirements()) == ([], [])


def test_aws_managed_policy_is_ignored() -> None:
    """The managed policy grants ECR and logs on "*", but only the role's own policies are judged."""
    role = _module_role()
    assert MANAGED in role.policies
    assert overgrants(role, _web_requirements()) == ([], [])
    unmarked = RolePolicies(EXEC_ARN, "web-exec", role.policies, frozenset(), None, {})
    found, _misplaced = overgrants(unmarked, _web_requirements())
    assert found and all(text.startswith(f"{MANAGED} statement #0") for text in found)


def test_resource_star_on_read_secrets() -> None:
    found, misplaced = overgrants(_inline_with("ReadSecrets", Resource="*"), _web_requirements())
    assert misplaced == []
    assert len(found) == 1
    assert found[0].startswith(f"{INLINE} statement ReadSecrets: resource * also allows resources no requirement")
    assert "harness-overgrant-probe" in found[0]


def test_wider_action() -> None:
    found, _ = overgrants(_inline_with("ReadSecrets", Action="secretsmanager:*"), _web_requirements())
    # One finding per (action, resource) pair of the statement: the same text for each of its 3 secrets.
    assert set(found) == {
        f"{INLINE} statement ReadSecrets: action secretsmanager:* is wider than the needed "
        "['secretsmanager:GetSecretValue']"
    }


def test_unneeded_secret() -> None:
    unneeded = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/unused-PpQqRr"
    role = _inline_with("ReadSecrets", Resource=[SECRET, TOKEN, unneeded])
    found, _ = overgrants(role, _web_requirements())
    assert found == [
        f"{INLINE} statement ReadSecrets: secretsmanager:GetSecretValue on {unneeded} is needed by no requirement "
        "of the task definition"
    ]


def test_s3_write_on_execution_role_is_misplaced() -> None:
    role = _role(_allow("s3:PutObject", "arn:aws:s3:::bucket/*", "WriteBucket"))
    found, misplaced = overgrants(role, _web_requirements())
    assert found == []
    assert misplaced == [
        "web-exec/inline statement WriteBucket: s3:PutObject is never called by the ECS agent or Fargate with the "
        "execution role; if the application needs it, it belongs on the task role"
    ]


#: Actions the agent or Fargate performs with the execution role for a feature the web task definition does not use:
#: environment files in S3 (Amazon ECS Developer Guide, "Pass an individual environment variable to an Amazon ECS
#: container", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html) and pull
#: through cache (Amazon ECR User Guide, "IAM permissions required to sync an upstream registry",
#: https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).
UNUSED_AGENT_GRANTS = [
    ("s3:GetBucketLocation", "arn:aws:s3:::env-files"),
    ("s3:GetObject", "arn:aws:s3:::env-files/web.env"),
    ("ecr:BatchImportUpstreamImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/docker-hub/*"),
    ("ecr:CreateRepository", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/docker-hub/*"),
]


@pytest.mark.parametrize(("action", "resource"), UNUSED_AGENT_GRANTS)
def test_an_agent_action_no_task_definition_uses_is_an_unused_grant_not_misplaced(action: str, resource: str) -> None:
    """The agent performs it with the execution role (so it is never "misplaced"), but nothing here needs it."""
    role = _role(_allow(action, resource, "Unused"))
    found, misplaced = overgrants(role, _web_requirements())
    assert misplaced == [], f"{action} is an agent action, reported misplaced: {misplaced}"
    assert len(found) == 1, found
    assert found[0].startswith(
        f"web-exec/inline statement Unused: {action} on {resource} is needed by no requirement of the task definition"
    ), found[0]
    assert "unused grant" in found[0], found[0]


def test_not_action_is_an_overgrant() -> None:
    role = _role({"Sid": "Everything", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    found, _ = overgrants(role, _web_requirements())
    assert found == ["web-exec/inline statement Everything: NotAction allows everything it does not list"]


def test_statement_without_sid_is_named_by_index() -> None:
    role = _role(_allow("secretsmanager:GetSecretValue", SECRET), _allow("secretsmanager:GetSecretValue", "*"))
    found, _ = overgrants(role, _web_requirements())
    assert len(found) == 1
    assert found[0].startswith("web-exec/inline statement #1: ")


def test_secret_suffix_wildcard_is_not_an_overgrant() -> None:
    role = _inline_with(
        "ReadSecrets",
        Resource=[
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-password-??????",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/api-token-??????",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:registry/ghcr-??????",
        ],
    )
    assert overgrants(role, _web_requirements()) == ([], [])


def test_deny_statements_are_not_judged() -> None:
    role = _role({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert overgrants(role, _web_requirements()) == ([], [])


def test_hierarchical_parameter_wildcard_is_an_overgrant() -> None:
    role = _inline_with("ReadParameters", Resource=[f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/*"])
    found, _ = overgrants(role, [r for r in _web_requirements() if not r.resource.endswith("feature-flag")])
    assert any("ReadParameters" in text for text in found)


# -- task role --------------------------------------------------------------------------------------


def test_task_role_with_execution_permission_is_reported() -> None:
    task_role = _role(_allow("secretsmanager:GetSecretValue", SECRET, "AppSecrets"), arn=TASK_ARN)
    found = misplaced_on_task_role(task_role, _web_requirements())
    assert found == [
        f"task role web-task allows secretsmanager:GetSecretValue on {SECRET}, an execution-role permission the "
        "application should not need"
    ]


def test_task_role_with_s3_only_is_not_reported() -> None:
    task_role = _role(_allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::app-data/*"), arn=TASK_ARN)
    assert misplaced_on_task_role(task_role, _web_requirements()) == []


def test_task_role_skips_star_resources_and_missing_resources() -> None:
    requirements = [
        Requirement("ecr-auth", "ecr:GetAuthorizationToken", "*", ACCOUNT, "auth"),
        _secret(TOKEN, exists=False, missing="gone"),
        _secret(exists=True),
    ]
    found = misplaced_on_task_role(_role(_allow("*", "*"), arn=TASK_ARN), requirements)
    assert len(found) == 1
    assert SECRET in found[0]


# -- report ---------------------------------------------------------------------------------------


def _verdict(allowed: bool, kind: str = "secret", resource: str = SECRET) -> Verdict:
    requirement = Requirement(kind, "secretsmanager:GetSecretValue", resource, ACCOUNT, "container web secret S")
    if allowed:
        return Verdict(requirement, True, "Allowed: ok")
    return Verdict(requirement, False, "Denied implicitly", ECS_ERRORS[kind], "add to role web-exec: {}")


def _report(*verdicts: Verdict, registration_error: str = "") -> PreflightReport:
    return PreflightReport("web:12", EXEC_ARN, TASK_ARN, verdicts=list(verdicts), registration_error=registration_error)


def test_report_will_start() -> None:
    report = _report(_verdict(True), _verdict(True, resource=TOKEN))
    assert report.will_start
    assert (report.error, report.failures) == ("", [])
    assert "verdict: the task would start" in report.table()


def test_report_errors_lists_every_distinct_error_class() -> None:
    first, second = _verdict(False, "registry-credentials"), _verdict(False, "secret", TOKEN)
    report = _report(_verdict(True), first, second)
    assert not report.will_start
    assert report.failures == [first, second]
    assert report.errors == [ECS_ERRORS["registry-credentials"], ECS_ERRORS["secret"]]
    assert report.error == f"{ECS_ERRORS['registry-credentials']} | {ECS_ERRORS['secret']}"
    table = report.table()
    assert f"verdict: the task would NOT start: {ECS_ERRORS['registry-credentials']}" in table
    assert "DENY " in table
    assert "fix: add to role web-exec" in table


def test_report_registration_error_comes_first() -> None:
    assert not _report(registration_error="ClientException: x").will_start
    report = _report(_verdict(False), registration_error="ClientException: x")
    assert report.errors == ["ClientException: x", ECS_ERRORS["secret"]]
    assert report.error.startswith("ClientException: x | ")
    assert "would NOT start: ClientException: x" in report.table()


def test_report_table_lists_findings() -> None:
    report = _report(_verdict(True))
    report.overgrants, report.misplaced = ["o1"], ["m1"]
    report.notes, report.disagreements = ["n1"], ["d1"]
    lines = report.table().splitlines()
    assert lines[:3] == ["task definition web:12", f"execution role  {EXEC_ARN}", f"task role       {TASK_ARN}"]
    assert lines[-4:] == ["over-grant: o1", "misplaced: m1", "disagreement: d1", "note: n1"]


def test_report_table_without_roles_or_verdicts() -> None:
    report = PreflightReport("public:3", None, None)
    assert report.table().splitlines() == [
        "task definition public:3",
        "execution role  -",
        "verdict: the task would start",
    ]


def test_report_json_round_trip() -> None:
    verdicts = decide(_web_requirements(), _role(), RecordedFacts(), REGION)  # type: ignore[arg-type]
    report = PreflightReport("web:12", EXEC_ARN, TASK_ARN, verdicts=verdicts, overgrants=["o"], notes=["n"])
    as_dict = report.to_dict()
    assert json.loads(report.to_json()) == as_dict
    assert as_dict["will_start"] is False
    assert as_dict["error"] == report.error
    assert len(as_dict["requirements"]) == len(verdicts)
    first = as_dict["requirements"][0]
    assert "context" not in first
    assert {"kind", "action", "resource", "resource_owner", "exists", "allowed", "reason", "error", "fix"} <= set(first)
    assert [item["action"] for item in as_dict["requirements"]] == [v.requirement.action for v in verdicts]
    assert (as_dict["overgrants"], as_dict["notes"], as_dict["misplaced"]) == (["o"], ["n"], [])


def test_recorded_task_definition_end_to_end() -> None:
    """derive, decide and over-grants on the recorded task definition and module-shaped role: it would start."""
    requirements = _web_requirements()
    role = _module_role()
    report = PreflightReport("web:12", EXEC_ARN, TASK_ARN)
    report.verdicts = decide(requirements, role, RecordedFacts(), REGION)  # type: ignore[arg-type]
    report.overgrants, report.misplaced = overgrants(role, requirements)
    report.misplaced += misplaced_on_task_role(_role(arn=TASK_ARN), requirements)
    assert report.will_start, report.table()
    assert (report.overgrants, report.misplaced) == ([], [])


# -- registration ------------------------------------------------------------------------------------


def test_registration_errors_without_execution_role() -> None:
    """AWS's RegisterTaskDefinition wording: "When you are specifying container secrets, you must also specify a
    value for 'executionRoleArn'." (github.com/fabfuel/ecs-deploy/issues/87), "Fargate requires task definition to
    have execution role ARN to support ECR images." (hashicorp/terraform-provider-aws#3051) and "... to support log
    driver awslogs." (virtual-kubelet/virtual-kubelet#193); Amazon ECS Developer Guide, "Amazon ECS task execution
    IAM role", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    """
    td = _td("task_definition_no_execution_role.json")
    assert registration_errors(td) == [
        "ClientException: When you are specifying container secrets, you must also specify a value for "
        "'executionRoleArn'.",
        "ClientException: Fargate requires task definition to have execution role ARN to support ECR images.",
        "ClientException: Fargate requires task definition to have execution role ARN to support log driver awslogs.",
    ]


def test_registration_error_with_execution_role() -> None:
    td = _td("task_definition_no_execution_role.json")
    td["executionRoleArn"] = EXEC_ARN
    assert registration_errors(td) == []


def test_registration_error_not_needed_without_requirements() -> None:
    td = _td("task_definition_public_only.json")
    assert "executionRoleArn" not in td
    assert registration_errors(td) == []


def test_same_key_for_secret_and_secure_string_is_decided_for_both_services() -> None:
    td = _td()
    td["containerDefinitions"][0]["secrets"].append({"name": "SAME_KEY", "valueFrom": "/app/same-key"})
    requirements = derive(td, RecordedFacts(), principal_account=ACCOUNT, region=REGION)
    via = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    inline = _load("execution_role_policies.json")[INLINE]
    param_key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/3333cccc-3333-4333-8333-333333333333"
    inline["Statement"].append(_allow("kms:Decrypt", param_key, "DecryptParameters"))
    for statement in inline["Statement"]:
        if statement["Sid"] == "DecryptSecrets":  # the secrets' key, only through Secrets Manager
            statement.update(Resource=KEY, Condition={"StringEquals": via})
        if statement["Sid"] == "ReadParameters":
            statement["Resource"].append(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/same-key")
    role = RolePolicies(EXEC_ARN, "web-exec", {INLINE: inline}, frozenset(), None, {})
    verdicts = decide(requirements, role, RecordedFacts(), REGION)  # type: ignore[arg-type]
    assert not PreflightReport("web:12", EXEC_ARN, None, verdicts=verdicts).will_start
