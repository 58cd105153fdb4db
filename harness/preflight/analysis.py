"""Decide every requirement, name the ECS error a denial causes and its fix, and find over-grants."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from harness.aws._policy import as_list, statements, wildcard_match
from harness.iam import Decision, Evaluator
from harness.preflight.collect import AwsFacts, RolePolicies
from harness.preflight.requirements import Requirement, arn_parts

#: The ECS error a task hits when a requirement of this kind is denied or its resource is missing.
ECS_ERRORS: dict[str, str] = {
    "ecr-auth": "ResourceInitializationError: unable to pull secrets or registry auth: "
    "execution resource retrieval failed: unable to retrieve ecr registry auth (AccessDeniedException)",
    "ecr-pull": "CannotPullContainerError: pull image manifest: access denied or repository not found",
    "registry-credentials": "ResourceInitializationError: unable to pull secrets or registry auth: "
    "unable to retrieve registry credentials from Secrets Manager",
    "secret": "ResourceInitializationError: unable to pull secrets or registry auth: "
    "execution resource retrieval failed: unable to retrieve secret from asm",
    "parameter": "ResourceInitializationError: unable to pull secrets or registry auth: "
    "execution resource retrieval failed: unable to retrieve secrets from ssm",
    "kms": "ResourceInitializationError: unable to pull secrets or registry auth: "
    "execution resource retrieval failed: kms:Decrypt denied (AccessDeniedException)",
    "logs": "ResourceInitializationError: failed to validate logger args: "
    "create stream has been retried 1 times: AccessDeniedException / ResourceNotFoundException",
    "logs-create-group": "ResourceInitializationError: failed to validate logger args: "
    "create log group: AccessDeniedException",
}
#: Services whose actions the ECS agent uses with the execution role. Anything else belongs on the task role.
EXECUTION_SERVICES = frozenset({"ecr", "logs", "secretsmanager", "ssm", "kms"})
#: What over-grant probes put in place of a resource's name: an ARN no requirement should ever need.
PROBE_NAME = "harness-overgrant-probe"
#: An identity policy allowing everything: used to isolate what a resource policy alone decides.
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
POLICY_PLACES = {
    "ecr-pull": "repository policy",
    "secret": "secret's resource policy",
    "registry-credentials": "secret's resource policy",
    "kms": "key policy",
}


@dataclass(frozen=True)
class Verdict:
    """One requirement's outcome."""

    requirement: Requirement
    allowed: bool
    reason: str
    error: str = ""
    fix: str = ""


@dataclass
class PreflightReport:
    """Everything preflight found for one task definition."""

    task_definition: str
    execution_role: str | None
    task_role: str | None
    verdicts: list[Verdict] = field(default_factory=list)
    overgrants: list[str] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    registration_error: str = ""

    @property
    def will_start(self) -> bool:
        """True when every requirement is allowed and every referenced resource exists."""
        return not self.registration_error and all(v.allowed for v in self.verdicts)

    @property
    def failures(self) -> list[Verdict]:
        """The denied requirements."""
        return [v for v in self.verdicts if not v.allowed]

    @property
    def error(self) -> str:
        """The ECS error the task would hit first (empty when it would start)."""
        if self.registration_error:
            return self.registration_error
        return self.failures[0].error if self.failures else ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``--json``)."""
        return {
            "task_definition": self.task_definition,
            "execution_role": self.execution_role,
            "task_role": self.task_role,
            "will_start": self.will_start,
            "error": self.error,
            "requirements": [
                {
                    **{k: v for k, v in asdict(item.requirement).items() if k != "context"},
                    "allowed": item.allowed,
                    "reason": item.reason,
                    "error": item.error,
                    "fix": item.fix,
                }
                for item in self.verdicts
            ],
            "overgrants": self.overgrants,
            "misplaced": self.misplaced,
            "notes": self.notes,
            "disagreements": self.disagreements,
        }

    def to_json(self) -> str:
        """``to_dict`` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def table(self) -> str:
        """A readable table, one line per requirement, then the verdict, over-grants and notes."""
        lines = [f"task definition {self.task_definition}", f"execution role  {self.execution_role or '-'}"]
        if self.task_role:
            lines.append(f"task role       {self.task_role}")
        width = max([len(v.requirement.action) for v in self.verdicts] + [6])
        for item in self.verdicts:
            mark = "allow" if item.allowed else "DENY "
            lines.append(f"  {mark}  {item.requirement.action:<{width}}  {item.requirement.resource}")
            lines.append(f"         {item.requirement.source}: {item.reason}")
            if item.fix:
                lines.append(f"         fix: {item.fix}")
        if self.will_start:
            lines.append("verdict: the task would start")
        else:
            lines.append(f"verdict: the task would NOT start: {self.error}")
        lines += [f"over-grant: {text}" for text in self.overgrants]
        lines += [f"misplaced: {text}" for text in self.misplaced]
        lines += [f"disagreement: {text}" for text in self.disagreements]
        lines += [f"note: {text}" for text in self.notes]
        return "\n".join(lines)


def _statement_json(effect: str, action: str, resource: str, principal: str | None = None) -> str:
    body: dict[str, Any] = {"Effect": effect}
    if principal:
        body["Principal"] = {"AWS": principal}
    body["Action"] = action
    if not principal:
        body["Resource"] = resource
    return json.dumps(body, sort_keys=False)


def _fix(requirement: Requirement, decision: Decision, role: RolePolicies, identity_ok: bool, resource_ok: bool) -> str:
    """The missing statement, in the place that lacks it."""
    if decision.explicit_deny:
        return f"remove or narrow {', '.join(ref.describe() for ref in decision.matched)}"
    place = POLICY_PLACES.get(requirement.kind, "")
    cross = requirement.resource_owner != role.account
    if requirement.kind == "kms" and not resource_ok:
        return (
            f"add to the key policy of {requirement.resource}: "
            f"{_statement_json('Allow', requirement.action, '*', role.arn)} "
            f"(or allow arn:{arn_parts(role.arn)[0]}:iam::{role.account}:root to let IAM policies decide)"
        )
    if cross and place and not resource_ok:
        return (
            f"add to the {place} in account {requirement.resource_owner}: "
            f"{_statement_json('Allow', requirement.action, requirement.resource, role.arn)}"
            + (
                ""
                if identity_ok
                else f"; and to role {role.name}: {_statement_json('Allow', requirement.action, requirement.resource)}"
            )
        )
    return f"add to role {role.name}: {_statement_json('Allow', requirement.action, requirement.resource)}"


def _context(role: RolePolicies, requirement: Requirement, region: str) -> dict[str, Any]:
    context: dict[str, Any] = {f"aws:PrincipalTag/{k}": v for k, v in role.tags.items()}
    context["aws:RequestedRegion"] = region
    context["aws:SecureTransport"] = "true"
    context.update(requirement.context)
    return context


def resource_policy_for(facts: AwsFacts, requirement: Requirement) -> dict[str, Any] | None:
    """The resource-based policy AWS consults for this requirement (None when the service has none)."""
    if requirement.kind == "ecr-pull":
        return facts.repository_policy(requirement.resource)
    if requirement.kind in ("secret", "registry-credentials"):
        return facts.secret_policy(requirement.resource)
    if requirement.kind == "kms":
        return facts.key_policy(requirement.resource)
    return None


def decide(requirements: Sequence[Requirement], role: RolePolicies, facts: AwsFacts, region: str) -> list[Verdict]:
    """Evaluate each requirement with the role's policies and the resource's policy."""
    identity_only = Evaluator(principal=role.arn, identity_policies=role.policies, boundary=role.boundary)
    verdicts = []
    for requirement in requirements:
        context = _context(role, requirement, region)
        if requirement.exists is False:
            verdicts.append(
                Verdict(
                    requirement,
                    False,
                    f"{requirement.missing}",
                    ECS_ERRORS[requirement.kind],
                    f"create it, or fix the reference in {requirement.source}",
                )
            )
            continue
        resource_policy = resource_policy_for(facts, requirement)
        kind: Literal["default", "kms"] = "kms" if requirement.resource_policy_kind == "kms" else "default"
        decision = Evaluator(
            principal=role.arn,
            identity_policies=role.policies,
            resource_policy=resource_policy,
            resource_owner=requirement.resource_owner,
            boundary=role.boundary,
            resource_policy_kind=kind,
        ).evaluate(requirement.action, requirement.resource, context)
        if decision.allowed:
            verdicts.append(Verdict(requirement, True, decision.reason))
            continue
        identity_ok = identity_only.evaluate(requirement.action, requirement.resource, context).allowed
        # The resource side alone: the same request with an identity policy that allows everything.
        resource_ok = (
            resource_policy is not None
            and Evaluator(
                principal=role.arn,
                identity_policies=[ALLOW_ALL],
                resource_policy=resource_policy,
                resource_owner=requirement.resource_owner,
                resource_policy_kind=kind,
            )
            .evaluate(requirement.action, requirement.resource, context)
            .allowed
        )
        reason = decision.reason
        place = POLICY_PLACES.get(requirement.kind)
        if resource_policy is None and place and requirement.resource_owner != role.account:
            reason += f" (the {place} in account {requirement.resource_owner} is missing or unreadable)"
        verdicts.append(
            Verdict(
                requirement,
                False,
                reason,
                ECS_ERRORS[requirement.kind],
                _fix(requirement, decision, role, identity_ok, resource_ok),
            )
        )
    return verdicts


def _probes(resource: str) -> list[str]:
    """The same ARN with its resource name, or any trailing part of a hierarchical name, replaced.

    ``arn:...:parameter/app/db`` gives ``parameter/harness-overgrant-probe`` and
    ``parameter/app/harness-overgrant-probe``; a log stream keeps its ``:log-stream:...`` tail, since the
    streams of a required group are legitimately covered by ``<group>:*``. Empty for ``*`` or a non-ARN.
    """
    if not resource.startswith("arn:"):
        return []
    partition, service, region, account, rest = arn_parts(resource)
    cut = min((i for i in (rest.find("/"), rest.find(":")) if i >= 0), default=-1)
    kind, name = rest[: cut + 1], rest[cut + 1 :]
    tail = ""
    if ":log-stream:" in name:
        name, tail = name.split(":log-stream:", 1)
        tail = ":log-stream:" + tail
    heads = [""] + [name[: i + 1] for i, char in enumerate(name) if char == "/" and i < len(name) - 1]
    return [f"arn:{partition}:{service}:{region}:{account}:{kind}{head}{PROBE_NAME}{tail}" for head in heads]


def overgrants(role: RolePolicies, requirements: Iterable[Requirement]) -> tuple[list[str], list[str]]:
    """(over-grants, misplaced) of the execution role's own policies (AWS managed policies excepted).

    An Allow's action/resource pair is an over-grant when no requirement needs it, or when it also
    allows a resource no requirement names (probed by swapping the resource name), or an action pattern
    wider than the actions needed. Actions of services the agent never calls belong on the task role.
    """
    needs = list(requirements)
    found: list[str] = []
    misplaced: list[str] = []
    for label, document in role.policies.items():
        if label in role.aws_managed:
            continue
        for index, statement in enumerate(statements(document)):
            if statement.get("Effect") != "Allow":
                continue
            where = f"{label} statement {statement.get('Sid') or '#' + str(index)}"
            for element in ("NotAction", "NotResource"):
                if element in statement:
                    found.append(f"{where}: {element} allows everything it does not list")
            for action in as_list(statement.get("Action")):
                service = action.split(":")[0].lower()
                if service != "*" and service not in EXECUTION_SERVICES:
                    misplaced.append(f"{where}: {action} is not used by the ECS agent; it belongs on the task role")
                    continue
                for resource in as_list(statement.get("Resource")):
                    found += _pair_overgrants(where, action, resource, needs)
    return list(dict.fromkeys(found)), list(dict.fromkeys(misplaced))


def _pair_overgrants(where: str, action: str, resource: str, needs: Sequence[Requirement]) -> list[str]:
    matched = [
        r
        for r in needs
        if wildcard_match(action, r.action, case_sensitive=False) and wildcard_match(resource, r.resource)
    ]
    if not matched:
        return [f"{where}: {action} on {resource} is needed by no requirement of the task definition"]
    problems = []
    needed_actions = {r.action.lower() for r in matched}
    if any(c in action for c in "*?") and action.lower() not in needed_actions:
        problems.append(f"{where}: action {action} is wider than the needed {sorted({r.action for r in matched})}")
    probes = [probe for requirement in matched for probe in _probes(requirement.resource)]
    wider = next((probe for probe in probes if wildcard_match(resource, probe)), None)
    if wider:
        problems.append(f"{where}: resource {resource} also allows resources no requirement names (e.g. {wider})")
    return problems


def misplaced_on_task_role(task_role: RolePolicies, requirements: Iterable[Requirement]) -> list[str]:
    """Execution-role permissions the task role also holds (the agent never uses the task role for them)."""
    evaluator = Evaluator(principal=task_role.arn, identity_policies=task_role.policies, boundary=task_role.boundary)
    found = []
    for requirement in requirements:
        if requirement.resource == "*" or requirement.exists is False:
            continue
        if evaluator.evaluate(requirement.action, requirement.resource).allowed:
            found.append(
                f"task role {task_role.name} allows {requirement.action} on {requirement.resource}, an execution-role "
                "permission the application should not need"
            )
    return found
