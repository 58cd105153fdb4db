"""An execution role several task definitions share: its over-grants judged against what all of them need.

Judged one task definition at a time, a role serving five reads, on each, as over-granting what the other four
need. :func:`judge_shared_roles` takes the reports of one preflight (:func:`fargate_harness.preflight.preflight_many`),
groups them by execution role, judges each shared role's own policies against the union of the requirements of the
task definitions that use it, and says, per grant, which task definitions need it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from fargate_harness.aws._policy import as_list, wildcard_match
from fargate_harness.preflight.analysis import PreflightReport, overgrants, own_allows
from fargate_harness.preflight.collect import RolePolicies
from fargate_harness.preflight.requirements import EXECUTION, Requirement

#: What the over-grants of a shared role are judged against.
SHARED_SUBJECT = "the task definitions using the role"


def execution_needs(report: PreflightReport) -> list[Requirement]:
    """The requirements of the report's task definition that the execution role makes."""
    return [v.requirement for v in report.verdicts if v.requirement.principal == EXECUTION]


def grant_users(role: RolePolicies, needs: Mapping[str, Sequence[Requirement]]) -> list[str]:
    """One line per action/resource pair of the role's own Allow statements that some task definition needs:
    ``<policy> statement <Sid>: <action> on <resource> is needed by <task definitions>``."""
    lines: list[str] = []
    for where, statement in own_allows(role):
        for action in as_list(statement.get("Action")):
            for resource in as_list(statement.get("Resource")):
                users = [
                    name
                    for name, wanted in needs.items()
                    if any(
                        wildcard_match(action, r.action, case_sensitive=False) and wildcard_match(resource, r.resource)
                        for r in wanted
                    )
                ]
                if users:
                    lines.append(f"{where}: {action} on {resource} is needed by {', '.join(users)}")
    return list(dict.fromkeys(lines))


def judge_shared_roles(reports: Sequence[PreflightReport], role_of: Callable[[str], RolePolicies | None]) -> None:
    """Rewrite the over-grants of every report whose execution role other reports' task definitions use too,
    judged against the union of their requirements, and add to each a note per grant naming the task definitions
    that need it. ``role_of`` reads a role's policies (None when it cannot be read: the reports stay as they are)."""
    groups: dict[str, list[PreflightReport]] = {}
    for report in reports:
        if report.execution_role:
            groups.setdefault(report.execution_role, []).append(report)
    for arn, group in groups.items():
        needs: dict[str, list[Requirement]] = {}
        for report in group:
            needs.setdefault(report.task_definition, []).extend(execution_needs(report))
        if len(needs) < 2:
            continue
        role = role_of(arn)
        if role is None:
            continue
        found, _misplaced = overgrants(role, [r for wanted in needs.values() for r in wanted], subject=SHARED_SUBJECT)
        header = (
            f"shared execution role {role.name}: used by {len(needs)} task definitions ({', '.join(needs)}); its "
            "over-grants are judged against what all of them need"
        )
        users = [f"shared execution role {role.name}: {line}" for line in grant_users(role, needs)]
        for report in group:
            report.overgrants = found
            report.notes += [note for note in (header, *users) if note not in report.notes]
