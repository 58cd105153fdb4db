"""fargate_harness.preflight.shared_roles on reports built offline: a role several task definitions share is judged
against the union of their needs; a role only one uses, or one that cannot be read, is left as it was.

AWS documentation: Amazon ECS Developer Guide, "Amazon ECS task execution IAM role"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
"""

from __future__ import annotations

from fargate_harness.preflight.analysis import PreflightReport, Verdict, overgrants
from fargate_harness.preflight.collect import RolePolicies
from fargate_harness.preflight.requirements import Requirement
from fargate_harness.preflight.shared_roles import judge_shared_roles

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/shared-exec"
SECRETS = {name: f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf" for name in ("a", "b", "c")}


def _role() -> RolePolicies:
    statements = [
        {"Sid": f"Read{n.upper()}", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}
        for n, arn in SECRETS.items()
    ]
    document = {"Version": "2012-10-17", "Statement": statements}
    return RolePolicies(ROLE, "shared-exec", {"shared-exec/inline": document}, frozenset(), None, {})


def _report(family: str, secret: str, role: str = ROLE) -> PreflightReport:
    need = Requirement("secret", "secretsmanager:GetSecretValue", SECRETS[secret], ACCOUNT, f"container {family}")
    report = PreflightReport(f"{family}:1", role, None, verdicts=[Verdict(need, True, "allowed")])
    report.overgrants, _ = overgrants(_role(), [need])  # as preflight() judges it alone
    return report


def test_a_shared_role_is_judged_against_the_union_and_says_who_needs_what() -> None:
    reports = [_report("orders", "a"), _report("billing", "b")]
    assert len(reports[0].overgrants) == 2, "alone, orders calls billing's grant an over-grant"

    judge_shared_roles(reports, lambda arn: _role() if arn == ROLE else None)

    unused = (
        f"shared-exec/inline statement ReadC: secretsmanager:GetSecretValue on {SECRETS['c']} is needed by no "
        "requirement of the task definitions using the role"
    )
    for report in reports:
        assert report.overgrants == [unused], report.overgrants
        assert [note for note in report.notes if " is needed by " in note] == [
            f"shared execution role shared-exec: shared-exec/inline statement ReadA: secretsmanager:GetSecretValue "
            f"on {SECRETS['a']} is needed by orders:1",
            f"shared execution role shared-exec: shared-exec/inline statement ReadB: secretsmanager:GetSecretValue "
            f"on {SECRETS['b']} is needed by billing:1",
        ], report.notes


def test_a_role_one_task_definition_uses_or_that_cannot_be_read_is_left_as_it_was() -> None:
    alone = [_report("orders", "a")]
    before = list(alone[0].overgrants)
    judge_shared_roles(alone, lambda _arn: _role())
    assert (alone[0].overgrants, alone[0].notes) == (before, [])
    unreadable = [_report("orders", "a"), _report("billing", "b")]
    judge_shared_roles(unreadable, lambda _arn: None)
    assert [len(r.overgrants) for r in unreadable] == [2, 2] and all(not r.notes for r in unreadable)
