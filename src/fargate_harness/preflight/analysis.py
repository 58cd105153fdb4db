"""Decide every requirement, name the ECS error a denial causes and its fix, and find over-grants."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fargate_harness.aws._policy import as_list, statements, wildcard_match
from fargate_harness.iam import Decision, Evaluator
from fargate_harness.preflight.collect import PreflightFacts, RolePolicies
from fargate_harness.preflight.requirements import (
    DEPLOYER,
    ECS_TASKS,
    EXECUTION,
    NOBODY,
    REFERENCE_SOURCE,
    SAMPLE_CLUSTER,
    SAMPLE_TASK_ID,
    TASK,
    Requirement,
    agent_purposes,
    arn_parts,
)
from fargate_harness.preflight.sidecars import Sidecar

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
    "logs-create-group": "ResourceInitializationError: failed to validate logger args: create stream has been "
    "retried 1 times: failed to create Cloudwatch log group: AccessDeniedException",
    "secret-value": "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secret from asm: ResourceNotFoundException",
    "image-unchecked": "",
    "logs-kms": "",
    "image": "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref: "
    "not found",
    "ecr-pull-through": "CannotPullContainerError: pull image manifest: pull through cache: AccessDeniedException "
    "(ecr:BatchImportUpstreamImage / ecr:CreateRepository)",
    "environment-file": "ResourceInitializationError: failed to download env files: file download command: "
    "non empty error stream: service call has been retried 5 time(s): AccessDenied / NoSuchKey",
    "efs": "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: "
    "mount.nfs4: access denied by server",
    "firelens-output": "FireLens log router (task role): an output cannot deliver logs (AccessDeniedException); "
    "the task starts, its logs are lost",
    "trust": "ECS was unable to assume the role '{role}' that was provided for this task. Please verify that the role "
    "being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass "
    "this role.",
    "deployer": "User: {principal} is not authorized to perform: {action} on resource: {resource}",
}
#: What the execution role needs to pull through a cache rule, and where AWS says so (Amazon ECR User Guide, "IAM
#: permissions required to sync an upstream registry with an Amazon ECR private registry").
PULL_THROUGH_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
PULL_THROUGH_DOC = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html"
#: What over-grant probes put in place of a resource's name: an ARN no requirement should ever need.
PROBE_NAME = "harness-overgrant-probe"
#: An identity policy allowing everything: used to isolate what a resource policy alone decides.
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
POLICY_PLACES = {
    "ecr-pull": "repository policy",
    "ecr-pull-through": "repository policy",
    "secret": "secret's resource policy",
    "registry-credentials": "secret's resource policy",
    "kms": "key policy",
    "environment-file": "bucket policy",
    "efs": "file system policy",
    "trust": "trust policy",
}


def ecs_error(requirement: Requirement, principal: str = "") -> str:
    """The error AWS reports when ``requirement`` is denied (or its resource is missing)."""
    if requirement.aws_error:
        return requirement.aws_error
    template = ECS_ERRORS[requirement.kind]
    if requirement.kind == "secret" and requirement.source.endswith(REFERENCE_SOURCE):
        # The agent asks Parameter Store, which reads the secret with the agent's credentials: the task stops with
        # the SSM error (Systems Manager User Guide, "Referencing AWS Secrets Manager secrets from Parameter Store").
        return ECS_ERRORS["parameter"]
    if requirement.kind == "trust":
        return template.format(role=requirement.resource)
    if requirement.kind == "deployer":
        return template.format(principal=principal, action=requirement.action, resource=requirement.resource)
    return template


@dataclass(frozen=True)
class Verdict:
    """One requirement's outcome."""

    requirement: Requirement
    allowed: bool
    reason: str
    error: str = ""
    fix: str = ""
    statements: tuple[str, ...] = ()  # the statements that decided it ("policy statement 'Sid'")
    place: str = ""  # where the fix goes: role <name>, repository policy, key policy, ... or "push the image"
    #: The fix in the configuration's own terms (Terraform addresses and references instead of the ARNs the target
    #: made up), when the report was made with the state's places (:mod:`fargate_harness.preflight.places`).
    terraform_fix: str = ""
    terraform_address: str = ""  # the resource to change (a policy resource, the role, the task definition...)
    terraform_location: str = ""  # where its block is written (file:line), when known
    resource_address: str = ""  # the resource the permission is for, when the state made it

    @property
    def best_fix(self) -> str:
        """The fix in Terraform terms when known, else as preflight words it with ARNs."""
        return self.terraform_fix or self.fix

    @property
    def severity(self) -> str:
        """What a denial of this row means, one of :data:`SEVERITIES`: ``fatal`` (the task does not start),
        ``warning`` (it starts, and something it needs later fails: a secret with no value yet, a FireLens output
        that cannot deliver) or ``info`` (nobody makes the call; what was and was not checked)."""
        if self.requirement.principal == NOBODY:
            return "info"
        return "fatal" if self.requirement.fatal else "warning"

    @property
    def mark(self) -> str:
        """The row's mark in :meth:`PreflightReport.table`: ``allow``, ``DENY`` (fatal only), ``warn`` or ``info``."""
        if self.severity == "info":
            return "info"
        if self.allowed:
            return "allow"
        return "DENY" if self.severity == "fatal" else "warn"


#: Every severity a requirement row has (``severity`` in ``preflight --json``, docs/json.md).
SEVERITIES = ("fatal", "warning", "info")


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
    registration_errors: list[str] = field(default_factory=list)
    deployer: str | None = None
    #: What the emulator could not answer (never a finding about the configuration), where it matters to this task.
    emulator_gaps: list[str] = field(default_factory=list)
    #: The task definition's Terraform address and file:line, when the report was made with the state's places.
    terraform_address: str = ""
    terraform_location: str = ""

    @property
    def registration(self) -> list[str]:
        """The errors RegisterTaskDefinition would return (``registration_error`` alone when set by hand)."""
        return self.registration_errors or ([self.registration_error] if self.registration_error else [])

    @property
    def will_start(self) -> bool:
        """True when registration succeeds, every start-blocking requirement is allowed and its resource exists."""
        return not self.registration and all(v.allowed for v in self.verdicts if v.requirement.fatal)

    @property
    def failures(self) -> list[Verdict]:
        """The denied requirements (those that do not block the start included)."""
        return [v for v in self.verdicts if not v.allowed]

    @property
    def errors(self) -> list[str]:
        """Every distinct error class: registration errors, then the start errors in requirement order."""
        found = list(self.registration)
        found += [v.error for v in self.failures if v.requirement.fatal]
        return list(dict.fromkeys(found))

    @property
    def warnings(self) -> list[str]:
        """Distinct errors of denied requirements that do not stop the task (FireLens outputs)."""
        return list(dict.fromkeys(v.error for v in self.failures if not v.requirement.fatal))

    @property
    def error(self) -> str:
        """Every distinct error the task would hit, joined with `` | `` (empty when it would start)."""
        return " | ".join(self.errors)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``--json``)."""
        return {
            "task_definition": self.task_definition,
            "execution_role": self.execution_role,
            "task_role": self.task_role,
            "will_start": self.will_start,
            "error": self.error,
            "errors": self.errors,
            "warnings": self.warnings,
            "registration_errors": self.registration,
            "deployer": self.deployer,
            "terraform_address": self.terraform_address,
            "terraform_location": self.terraform_location,
            "requirements": [
                {
                    **{k: v for k, v in asdict(item.requirement).items() if k != "context"},
                    "allowed": item.allowed,
                    "severity": item.severity,
                    "reason": item.reason,
                    "error": item.error,
                    "fix": item.fix,
                    "statements": list(item.statements),
                    "place": item.place,
                    "terraform_fix": item.terraform_fix,
                    "terraform_address": item.terraform_address,
                    "terraform_location": item.terraform_location,
                    "resource_address": item.resource_address,
                }
                for item in self.verdicts
            ],
            "overgrants": self.overgrants,
            "misplaced": self.misplaced,
            "notes": self.notes,
            "disagreements": self.disagreements,
            "emulator_gaps": self.emulator_gaps,
        }

    def to_json(self) -> str:
        """``to_dict`` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def table(self) -> str:
        """A readable table, one line per requirement, then the verdict, over-grants and notes."""
        lines = [f"task definition {self.task_definition}", f"execution role  {self.execution_role or '-'}"]
        if self.terraform_address:
            lines.insert(1, f"terraform       {self.terraform_address}" + _at(self.terraform_location))
        if self.task_role:
            lines.append(f"task role       {self.task_role}")
        width = max([len(v.requirement.action) for v in self.verdicts] + [6])
        for item in self.verdicts:
            lines.append(f"  {item.mark:<5}  {item.requirement.action:<{width}}  {item.requirement.resource}")
            lines.append(f"         {item.requirement.source}: {item.reason}")
            if item.resource_address:
                lines.append(f"         resource: {item.resource_address}")
            if item.terraform_fix:
                lines.append(f"         fix: {item.terraform_fix}")
            elif item.fix:
                lines.append(f"         fix ({item.place}): {item.fix}" if item.place else f"         fix: {item.fix}")
        if self.will_start:
            lines.append("verdict: the task would start")
        else:
            lines.append(f"verdict: the task would NOT start: {self.error}")
            lines += [f"  error: {text}" for text in self.errors] if len(self.errors) > 1 else []
        lines += [f"warning: {text}" for text in self.warnings]
        lines += [f"over-grant: {text}" for text in self.overgrants]
        lines += [f"misplaced: {text}" for text in self.misplaced]
        lines += [f"disagreement: {text}" for text in self.disagreements]
        lines += [f"note: {text}" for text in self.notes]
        lines += [f"emulator gap: {text}" for text in self.emulator_gaps]
        return "\n".join(lines)


def _at(location: str) -> str:
    return f" ({location})" if location else ""


def _statement_json(effect: str, action: str, resource: str, principal: str | None = None) -> str:
    body: dict[str, Any] = {"Effect": effect}
    if principal:
        body["Principal"] = {"AWS": principal}
    body["Action"] = action
    if not principal:
        body["Resource"] = resource
    return json.dumps(body, sort_keys=False)


def _fix(
    requirement: Requirement, decision: Decision, role: RolePolicies, identity_ok: bool, resource_ok: bool
) -> tuple[str, str]:
    """(the missing statement in the place that lacks it, that place)."""
    if decision.explicit_deny:
        where = ", ".join(sorted({ref.policy for ref in decision.matched}))
        return f"remove or narrow {', '.join(ref.describe() for ref in decision.matched)}", where
    place = POLICY_PLACES.get(requirement.kind, "")
    cross = requirement.resource_owner != role.account
    role_place = f"role {role.name}"
    if requirement.covers and not cross:  # the grant AWS documents: every repository of the pull through cache rule
        actions = list(PULL_THROUGH_ACTIONS) if requirement.kind == "ecr-pull-through" else requirement.action
        grant = json.dumps({"Effect": "Allow", "Action": actions, "Resource": requirement.covers}, sort_keys=False)
        return f"add to role {role.name}: {grant} ({PULL_THROUGH_DOC})", role_place
    if requirement.kind == "kms" and not resource_ok:
        return (
            f"add to the key policy of {requirement.resource}: "
            f"{_statement_json('Allow', requirement.action, '*', role.arn)} "
            f"(or allow arn:{arn_parts(role.arn)[0]}:iam::{role.account}:root to let IAM policies decide)"
        ), "key policy"
    if cross and place and not resource_ok and requirement.resource_policy_kind != "public":
        return (
            f"add to the {place} in account {requirement.resource_owner}: "
            f"{_statement_json('Allow', requirement.action, requirement.resource, role.arn)}"
            + (
                ""
                if identity_ok
                else f"; and to role {role.name}: {_statement_json('Allow', requirement.action, requirement.resource)}"
            )
        ), place
    return f"add to role {role.name}: {_statement_json('Allow', requirement.action, requirement.resource)}", role_place


def _context(role: RolePolicies, requirement: Requirement, region: str) -> dict[str, Any]:
    context: dict[str, Any] = {f"aws:PrincipalTag/{k}": v for k, v in role.tags.items()}
    context["aws:RequestedRegion"] = region
    context["aws:SecureTransport"] = "true"
    context.update(requirement.context)
    return context


#: What an AWS-owned repository published for public pull allows (its policy is not ours to read or edit).
PUBLIC_PULL_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PublishedForPublicPull",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        }
    ],
}


def resource_policy_for(facts: PreflightFacts, requirement: Requirement) -> dict[str, Any] | None:
    """The resource-based policy AWS consults for this requirement (None when the service has none)."""
    if requirement.resource_policy_kind == "public":
        return PUBLIC_PULL_POLICY
    resource = requirement.resource
    readers: dict[str, Callable[[], dict[str, Any] | None]] = {
        "ecr-pull": lambda: facts.repository_policy(resource),
        "ecr-pull-through": lambda: facts.repository_policy(resource),
        "secret": lambda: facts.secret_policy(resource),
        "registry-credentials": lambda: facts.secret_policy(resource),
        "kms": lambda: facts.key_policy(resource),
        "environment-file": lambda: facts.bucket_policy(resource.split("/", 1)[0]),
        "efs": lambda: facts.file_system_policy(resource),
    }
    read = readers.get(requirement.kind)
    return read() if read else None


def _refs(decision: Decision) -> tuple[str, ...]:
    return tuple(ref.describe() for ref in decision.matched)


def _missing_verdict(requirement: Requirement) -> Verdict:
    fix = requirement.fix_hint or f"create it, or fix the reference in {requirement.source}"
    place = "push the image" if requirement.kind == "image" else "create the resource"
    if requirement.fix_hint and requirement.kind != "image":
        place = "the resource"
    return Verdict(requirement, False, requirement.missing, ecs_error(requirement), fix, (), place)


def _without_role(requirement: Requirement) -> Verdict:
    """A task-role requirement of a task definition that has no task role."""
    statement = _statement_json("Allow", requirement.action, requirement.resource)
    return Verdict(
        requirement,
        False,
        f"the task definition has no taskRoleArn: nothing can call {requirement.action} for {requirement.source}",
        ecs_error(requirement),
        f"set taskRoleArn to a role that allows {statement}",
        (),
        "task definition",
    )


def _trust_candidates(trust: Mapping[str, Any], sample: str) -> list[str]:
    """The task ARNs of the clusters a trust policy pins in ``aws:SourceArn`` (one sample task each)."""
    found = []
    for statement in statements(trust):
        for operator in (statement.get("Condition") or {}).values():
            for key, values in operator.items():
                if key.lower() != "aws:sourcearn":
                    continue
                for value in as_list(values):
                    if ":task/" not in value:
                        continue
                    head, tail = value.split(":task/", 1)
                    cluster = tail.split("/", 1)[0]
                    if cluster and not any(c in cluster for c in "*?$"):
                        found.append(f"{head.replace('*', 'x')}:task/{cluster}/{SAMPLE_TASK_ID}")
    return [candidate for candidate in dict.fromkeys(found) if candidate != sample]


def _conditions_denying(requirement: Requirement, trust: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
    """The Allow statements of a trust policy that would let ECS assume the role but for their Condition."""
    found = []
    for index, statement in enumerate(statements(trust)):
        if statement.get("Effect") != "Allow" or not statement.get("Condition"):
            continue
        bare = {key: value for key, value in statement.items() if key != "Condition"}
        probe = Evaluator(
            principal=ECS_TASKS,
            resource_policy={"Version": "2012-10-17", "Statement": [bare]},
            resource_owner=requirement.resource_owner,
        )
        if probe.evaluate(requirement.action, requirement.resource, dict(context)).allowed:
            sid = statement.get("Sid")
            found.append(f"statement {sid!r}" if sid else f"statement #{index}")
    return found


def _decide_trust(requirement: Requirement, role: RolePolicies | None, cluster: str | None) -> Verdict:
    """ECS (``ecs-tasks.amazonaws.com``) assuming the role, with the trust policy as the resource policy."""
    error = ecs_error(requirement)
    if role is None or role.trust is None:
        return Verdict(
            requirement,
            False,
            "the role does not exist or its trust policy could not be read",
            error,
            "",
            (),
            "trust policy",
        )
    evaluator = Evaluator(principal=ECS_TASKS, resource_policy=role.trust, resource_owner=requirement.resource_owner)
    context = {"aws:SecureTransport": "true", **requirement.context}
    decision = evaluator.evaluate(requirement.action, requirement.resource, context)
    if decision.allowed:
        return Verdict(requirement, True, decision.reason, statements=_refs(decision))
    grant = json.dumps(
        {"Effect": "Allow", "Principal": {"Service": ECS_TASKS}, "Action": "sts:AssumeRole"}, sort_keys=False
    )
    fix = f"add to the trust policy of role {role.name}: {grant}"
    conditional = _conditions_denying(requirement, role.trust, context)
    if conditional:
        sent = ", ".join(f"{key} = {requirement.context[key]}" for key in ("aws:SourceAccount", "aws:SourceArn"))
        fix = (
            f"in the trust policy of role {role.name}, make the Condition of {', '.join(conditional)} match what ECS "
            f"sends for this task ({sent}): it allows {ECS_TASKS} only under that Condition"
        )
    if decision.explicit_deny:
        fix = f"remove or narrow {', '.join(_refs(decision))}"
    if cluster is None:
        sample = str(requirement.context.get("aws:SourceArn", ""))
        for candidate in _trust_candidates(role.trust, sample):
            if evaluator.evaluate(
                requirement.action, requirement.resource, {**context, "aws:SourceArn": candidate}
            ).allowed:
                pinned = candidate.split(":task/", 1)[1].split("/", 1)[0]
                return Verdict(
                    requirement,
                    False,
                    f"depends on the cluster: the trust policy lets ECS assume the role only for tasks in cluster "
                    f"{pinned!r} (aws:SourceArn), and preflight does not know the cluster that runs the task "
                    f"(sample {SAMPLE_CLUSTER!r}); answered conservatively",
                    error,
                    f"run the task in cluster {pinned!r} (tell preflight with cluster={pinned!r}), or widen "
                    "aws:SourceArn in the trust policy",
                    (),
                    "trust policy",
                )
    return Verdict(requirement, False, decision.reason, error, fix, _refs(decision), "trust policy")


def decide(
    requirements: Sequence[Requirement],
    role: RolePolicies | None,
    facts: PreflightFacts,
    region: str,
    *,
    task_role: RolePolicies | None = None,
    deployer: RolePolicies | None = None,
    cluster: str | None = None,
) -> list[Verdict]:
    """Evaluate each requirement with the calling principal's policies and the resource's policy.

    ``role`` is the execution role (its requirements are skipped when it is None: registration fails first),
    ``task_role`` the task role, ``deployer`` the principal registering the task definition. Trust
    requirements are decided with the trust policy of the role they name (``role`` or ``task_role``).
    """
    roles = {r.arn: r for r in (role, task_role) if r is not None}
    verdicts = []
    for requirement in requirements:
        if requirement.principal == ECS_TASKS:
            verdicts.append(_decide_trust(requirement, roles.get(requirement.resource), cluster))
            continue
        if requirement.principal == NOBODY:
            verdicts.append(Verdict(requirement, True, requirement.note or "no IAM needed"))
            continue
        caller = {EXECUTION: role, TASK: task_role, DEPLOYER: deployer}.get(requirement.principal)
        if requirement.exists is False:
            verdicts.append(_missing_verdict(requirement))
            continue
        if caller is None:
            if requirement.principal == TASK:
                verdicts.append(_without_role(requirement))
            continue
        verdicts.append(_decide_one(requirement, caller, facts, region))
    return verdicts


def _decide_one(requirement: Requirement, role: RolePolicies, facts: PreflightFacts, region: str) -> Verdict:
    context = _context(role, requirement, region)
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
        return Verdict(requirement, True, decision.reason, statements=_refs(decision))
    identity_only = Evaluator(principal=role.arn, identity_policies=role.policies, boundary=role.boundary)
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
    fix, where = _fix(requirement, decision, role, identity_ok, resource_ok)
    return Verdict(requirement, False, reason, ecs_error(requirement, role.arn), fix, _refs(decision), where)


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


def own_allows(role: RolePolicies) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """(``<policy> statement <Sid or #index>``, statement) of each Allow of the role's own policies (AWS managed
    policies excepted)."""
    for label, document in role.policies.items():
        if label in role.aws_managed:
            continue
        for index, statement in enumerate(statements(document)):
            if statement.get("Effect") == "Allow":
                yield f"{label} statement {statement.get('Sid') or '#' + str(index)}", statement


def overgrants(
    role: RolePolicies, requirements: Iterable[Requirement], *, subject: str = "the task definition"
) -> tuple[list[str], list[str]]:
    """(over-grants, misplaced) of the execution role's own policies (AWS managed policies excepted).

    An Allow's action/resource pair is an over-grant when no requirement needs it, or when it also
    allows a resource no requirement names (probed by swapping the resource name), or an action pattern
    wider than the actions needed. An action the agent never performs with the execution role (none of
    :data:`~fargate_harness.preflight.requirements.AGENT_ACTIONS`) is misplaced: it belongs on the task role; an
    agent action no requirement needs is an unused grant (an over-grant). ``subject`` names whose requirements
    they are (the task definitions sharing the role, :mod:`fargate_harness.preflight.shared_roles`).
    """
    needs = [r for r in requirements if r.principal == EXECUTION]
    found: list[str] = []
    misplaced: list[str] = []
    for where, statement in own_allows(role):
        for element in ("NotAction", "NotResource"):
            if element in statement:
                found.append(f"{where}: {element} allows everything it does not list")
        for action in as_list(statement.get("Action")):
            if action != "*" and not agent_purposes(action):
                misplaced.append(
                    f"{where}: {action} is never called by the ECS agent or Fargate with the execution role; "
                    "if the application needs it, it belongs on the task role"
                )
                continue
            for resource in as_list(statement.get("Resource")):
                found += _pair_overgrants(where, action, resource, needs, subject)
    return list(dict.fromkeys(found)), list(dict.fromkeys(misplaced))


def _pair_overgrants(
    where: str, action: str, resource: str, needs: Sequence[Requirement], subject: str = "the task definition"
) -> list[str]:
    matched = [
        r
        for r in needs
        if wildcard_match(action, r.action, case_sensitive=False) and wildcard_match(resource, r.resource)
    ]
    if not matched:
        unused = f"{where}: {action} on {resource} is needed by no requirement of {subject}"
        if action != "*" and not any(wildcard_match(action, r.action, case_sensitive=False) for r in needs):
            unused += f" (an unused grant: the agent calls it for {'; '.join(agent_purposes(action))})"
        return [unused]
    problems = []
    needed_actions = {r.action.lower() for r in matched}
    if any(c in action for c in "*?") and action.lower() not in needed_actions:
        problems.append(f"{where}: action {action} is wider than the needed {sorted({r.action for r in matched})}")
    probes = [
        probe
        for requirement in matched
        for probe in _probes(requirement.resource)
        if not (requirement.covers and wildcard_match(requirement.covers, probe))  # the rule's repositories
    ]
    wider = next((probe for probe in probes if wildcard_match(resource, probe)), None)
    if wider:
        problems.append(f"{where}: resource {resource} also allows resources no requirement names (e.g. {wider})")
    return problems


def _same_log_group(one: str, other: str) -> bool:
    return one.split(":log-stream:", 1)[0] == other.split(":log-stream:", 1)[0]


def review_task_role(
    task_role: RolePolicies, requirements: Iterable[Requirement], sidecars: Sequence[Sidecar] = ()
) -> tuple[list[str], list[str]]:
    """(misplaced, expected): execution-role permissions the task role also holds, split into those the application
    should not need and those a documented sidecar of the task (or a FireLens output) uses with the task role."""
    requirements = list(requirements)
    evaluator = Evaluator(principal=task_role.arn, identity_policies=task_role.policies, boundary=task_role.boundary)
    task_needs = [r for r in requirements if r.principal == TASK]
    found: list[str] = []
    expected: dict[str, dict[str, set[str]]] = {}  # who uses them -> action -> resources
    for requirement in requirements:
        if requirement.principal != EXECUTION or requirement.resource == "*" or requirement.exists is False:
            continue
        if not evaluator.evaluate(requirement.action, requirement.resource).allowed:
            continue
        users = [sidecar for sidecar in sidecars if sidecar.uses(requirement.action)]
        output = next(
            (
                r
                for r in task_needs
                if r.action.lower() == requirement.action.lower() and _same_log_group(r.resource, requirement.resource)
            ),
            None,
        )
        if users:
            names = [f"{sidecar.kind.label} (container {sidecar.container})" for sidecar in users]
            who = f"the sidecar{'s' if len(names) > 1 else ''} {' and '.join(names)}"
        elif output is not None:
            who = f"{output.source}, which writes there"
        else:
            found.append(
                f"task role {task_role.name} allows {requirement.action} on {requirement.resource}, an execution-role "
                "permission the application should not need"
            )
            continue
        where = requirement.resource.split(":log-stream:", 1)[0].removesuffix(":*")  # a group's streams: the group
        expected.setdefault(who, {}).setdefault(requirement.action, set()).add(where)
    notes = [
        f"task role {task_role.name} allows {', '.join(actions)} on "
        f"{', '.join(sorted({r for resources in actions.values() for r in resources}))}, which the execution role "
        f"also needs: expected on the task role, used by {who}"
        for who, actions in expected.items()
    ]
    return list(dict.fromkeys(found)), notes


def misplaced_on_task_role(
    task_role: RolePolicies, requirements: Iterable[Requirement], sidecars: Sequence[Sidecar] = ()
) -> list[str]:
    """Execution-role permissions the task role also holds (the agent never uses the task role for them), except
    those a documented sidecar of the task uses with the task role (see :mod:`fargate_harness.preflight.sidecars`)."""
    return review_task_role(task_role, requirements, sidecars)[0]
