"""Roles from a Terraform plan: their policies as the plan leaves them, unknowns named.

:class:`PlanFacts` answers what :class:`~fargate_harness.preflight.collect.PreflightFacts` asks from the planned
values (:mod:`~fargate_harness.preflight.plan_values`). Three kinds of answer:

- **known**: the plan holds the value (planned, or prior for what it leaves alone);
- **unknown**: the value is known only after apply (``after_unknown``). The fact is recorded as an
  :class:`Unknown` naming the Terraform address and attribute; what depends on it is undecided, never empty
  and never allowed;
- **outside the plan**: the resource is not managed here (a secret ARN passed as a variable, another account's
  repository, the images in a repository). Recorded as unknown with its ARN, unless ``live`` facts
  (``--read-account``: read-only calls through the standard credential chain) may read it.

Provider shapes, aws 2.x to 6.x (Terraform AWS provider documentation, registry.terraform.io/providers/hashicorp/aws):
``aws_iam_role`` with ``inline_policy`` / ``managed_policy_arns`` (3.x-5.x; exclusive when the configuration sets
them, else computed: what AWS had at refresh), ``aws_iam_role_policy``, ``aws_iam_role_policy_attachment``,
``aws_iam_policy_attachment`` (``roles``), and the exclusive ``aws_iam_role_policies_exclusive`` (``policy_names``)
and ``aws_iam_role_policy_attachments_exclusive`` (``policy_arns``) of 5.x/6.x, which remove whatever they do not
list. AWS managed policy documents come from the copy moto ships (the embedded emulator's source), offline.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fargate_harness.errors import ResourceNotFoundError
from fargate_harness.preflight.collect import AWS_MANAGED_POLICY_PREFIXES, PreflightFacts, RolePolicies, role_name
from fargate_harness.preflight.plan_values import UNKNOWN, PlannedResource, PlanValues, document_json
from fargate_harness.preflight.requirements import arn_parts

T = TypeVar("T")
#: Unknown kinds: what a value known only after apply leaves undecided.
IDENTITY, TRUST, RESOURCE = "identity", "trust", "resource"


@dataclass(frozen=True)
class Unknown:
    """A fact the plan cannot give: ``where`` (``address.attribute``, or the ARN of a resource outside the plan),
    what it leaves undecided (``aspect`` of ``subject``: a role's identity or trust, a resource), and why."""

    subject: str
    aspect: str
    where: str
    why: str

    def describe(self) -> str:
        """One line for reports."""
        return f"{self.where}: {self.why}"


@functools.cache
def _aws_managed_documents() -> dict[str, dict[str, Any]]:
    """AWS managed policy documents by ARN (partition ``aws``), from the file moto ships (the same documents the
    embedded emulator serves: ``MOTO_IAM_LOAD_MANAGED_POLICIES``); empty when moto is not installed.

    The file (one string assignment) is loaded on its own, without importing moto (about 0.9 s)."""
    spec = importlib.util.find_spec("moto")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    path = next((Path(f) / "iam" / "aws_managed_policies.py" for f in folders), None)
    if path is None or not path.is_file():  # pragma: no cover - moto is a dependency of the embedded target
        return {}
    loader = importlib.util.spec_from_file_location("_harness_aws_managed_policies", path)
    if loader is None or loader.loader is None:  # pragma: no cover
        return {}
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    documents = {}
    for name, item in json.loads(module.aws_managed_policies_data).items():
        path_part = str(item.get("Path") or "/")
        documents[f"arn:aws:iam::aws:policy{path_part}{name}"] = dict(item.get("Document") or {})
    return documents


def aws_managed_document(policy_arn: str) -> dict[str, Any] | None:
    """An AWS managed policy's default version document, offline (any partition); None when unknown."""
    partition_free = "arn:aws:" + policy_arn.split(":", 2)[2] if policy_arn.count(":") >= 2 else policy_arn
    return _aws_managed_documents().get(partition_free)


def string_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list | tuple | set) else []


@dataclass
class _RoleParts:
    """What the plan says of one role, gathered from every resource shape that touches it."""

    resource: PlannedResource
    inline: dict[str, tuple[Any, str]] = field(default_factory=dict)  # name -> (document | UNKNOWN, where)
    attached: dict[str, str] = field(default_factory=dict)  # policy ARN -> where
    unknown: list[Unknown] = field(default_factory=list)


class PlanReader:
    """The bookkeeping of facts from a plan: the planned resources by type, the ``live`` facts for what lies
    outside it (when given), and :attr:`asked`, the unknowns met since :meth:`begin`."""

    def __init__(
        self, plan: PlanValues, *, account: str, region: str, partition: str = "aws", live: PreflightFacts | None = None
    ) -> None:
        self.plan, self.account, self.region, self.partition, self.live = plan, account, region, partition, live
        self.unreadable: list[str] = []
        self.emulator_gaps: list[str] = []
        self.asked: list[Unknown] = []
        #: Stand-in ids of resources the plan creates, named by a task definition through a direct reference.
        self.placeholders: dict[str, PlannedResource] = {}
        self._roles: dict[str, RolePolicies] = {}
        self._role_unknowns: dict[str, list[Unknown]] = {}
        self._by_type: dict[str, list[PlannedResource]] = {}
        for resource in plan.resources.values():
            self._by_type.setdefault(resource.type, []).append(resource)

    # -- bookkeeping ------------------------------------------------------------------------------
    def begin(self) -> None:
        """Start a task definition: forget the unknowns met so far."""
        self.asked = []

    def _unknown(self, subject: str, aspect: str, where: str, why: str) -> None:
        item = Unknown(subject, aspect, where, why)
        if item not in self.asked:
            self.asked.append(item)

    def _outside(self, subject: str, what: str) -> None:
        self._unknown(
            subject,
            RESOURCE,
            subject,
            f"{what} is not in the plan: not read (--read-account reads it with read-only calls)",
        )

    def _reaches(self, arn_or_account: str) -> bool:
        if self.live is None:
            return False
        account = arn_parts(arn_or_account)[3] if arn_or_account.startswith("arn:") else arn_or_account
        reaches = getattr(self.live, "reaches", None)
        return bool(reaches(account)) if callable(reaches) else True

    def _of(self, *types: str) -> list[PlannedResource]:
        return [r for t in types for r in self._by_type.get(t, [])]

    def _find(self, types: tuple[str, ...], attribute: str, value: str) -> PlannedResource | None:
        for resource in self._of(*types):
            if resource.known(attribute) == value:
                return resource
        return None

    def deleted(self, types: tuple[str, ...], attribute: str, value: str) -> bool:
        """True when the plan deletes a resource of ``types`` whose ``attribute`` is ``value`` (and keeps none):
        after apply it does not exist."""
        gone = any(r.type in types and r.values.get(attribute) == value for r in self.plan.deleted.values())
        return gone and self._find(types, attribute, value) is None

    def primary_account(self) -> str:
        """The account the plan deploys into."""
        return self.account

    def read_parameters(self, task_definition: Mapping[str, Any], account: str, region: str, partition: str) -> None:
        """Nothing to read ahead: the plan is in memory."""

    def gaps_for(self, resources: set[str], *, pull_through: bool) -> list[str]:
        """Emulator gaps of the live facts (none from a plan)."""
        return self.live.gaps_for(resources, pull_through=pull_through) if self.live is not None else []

    def _arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{region or self.region}:{account or self.account}:{resource}"

    def _live_or_outside(self, subject: str, what: str, read: Callable[[PreflightFacts], T]) -> T | None:
        """``read`` on the live facts when they reach ``subject``'s account; else recorded outside the plan."""
        if self._reaches(subject) and self.live is not None:
            return read(self.live)
        self._outside(subject, f"{what} {subject}")
        return None


class PlanRoles(PlanReader):
    """The identity side from a plan: a role's inline, attached, boundary and trust policies."""

    # -- identity side ----------------------------------------------------------------------------
    def role(self, role_arn: str) -> RolePolicies:
        """The role's policies as the plan leaves them; unknown parts recorded (see :class:`Unknown`)."""
        if role_arn not in self._roles:
            self._roles[role_arn] = self._build_role(role_arn)
        for item in self._role_unknowns.get(role_arn, []):
            self._unknown(item.subject, item.aspect, item.where, item.why)
        return self._roles[role_arn]

    def principal(self, arn: str) -> RolePolicies:
        """A role by ARN (a deployer); an assumed-role session as its role; a user outside the plan unknown."""
        partition, service, _r, account, resource = arn_parts(arn)
        if service == "sts" and resource.startswith("assumed-role/"):
            return self.role(f"arn:{partition}:iam::{account}:role/{resource.split('/')[1]}")
        if resource.startswith("role/"):
            return self.role(arn)
        if self._reaches(arn) and self.live is not None:
            return self.live.principal(arn)
        self._outside(arn, f"principal {arn}")
        self._unknown(arn, IDENTITY, arn, "its policies are not in the plan")
        return RolePolicies(arn, resource.split("/")[-1], {}, frozenset(), None, {})

    def _role_resource(self, role_arn: str) -> PlannedResource | None:
        found = self._find(("aws_iam_role",), "arn", role_arn)
        if found is not None:
            return found
        name = role_name(role_arn)
        for resource in self._of("aws_iam_role"):
            if resource.known("name") == name and resource.is_unknown("arn"):
                return resource
        return None

    def _build_role(self, role_arn: str) -> RolePolicies:
        resource = self._role_resource(role_arn)
        name = role_name(role_arn)
        unknowns: list[Unknown] = []
        self._role_unknowns[role_arn] = unknowns
        if resource is None and self.deleted(("aws_iam_role",), "arn", role_arn):
            raise ResourceNotFoundError(f"role {role_arn} is deleted by the plan")
        if resource is None:
            return self._role_outside(role_arn, name, unknowns)
        asked = len(self.asked)
        parts = self._role_parts(resource, name, role_arn)
        unknowns += parts.unknown + self.asked[asked:]  # kept with the role: asked again for every task definition
        policies: dict[str, dict[str, Any]] = {}
        for policy_name, (document, where) in sorted(parts.inline.items()):
            if document is UNKNOWN or document is None:
                unknowns.append(Unknown(role_arn, IDENTITY, where, f"inline policy {policy_name!r} known after apply"))
            else:
                policies[f"{name}/{policy_name}"] = document
        managed = set()
        for policy_arn, where in sorted(parts.attached.items()):
            document = self._managed_document(policy_arn, where, role_arn, unknowns)
            if document is not None:
                policies[policy_arn] = document
                if policy_arn.startswith(AWS_MANAGED_POLICY_PREFIXES):
                    managed.add(policy_arn)
        boundary = None
        boundary_arn = resource.known("permissions_boundary")
        if boundary_arn is UNKNOWN:
            unknowns.append(Unknown(role_arn, IDENTITY, resource.where("permissions_boundary"), "known after apply"))
        elif boundary_arn:
            boundary = self._managed_document(
                str(boundary_arn), resource.where("permissions_boundary"), role_arn, unknowns
            )
        trust = resource.known("assume_role_policy")
        if trust is UNKNOWN:
            unknowns.append(Unknown(role_arn, TRUST, resource.where("assume_role_policy"), "known after apply"))
            trust = None
        tags = resource.known("tags_all")
        if tags is UNKNOWN and resource.is_unknown("tags"):  # aws:PrincipalTag conditions cannot be judged
            unknowns.append(Unknown(role_arn, IDENTITY, resource.where("tags_all"), "known after apply"))
        tags = tags if isinstance(tags, Mapping) else resource.values.get("tags") or {}
        return RolePolicies(
            role_arn, name, policies, frozenset(managed), boundary, dict(tags), document_json(trust) if trust else None
        )

    def _role_outside(self, role_arn: str, name: str, unknowns: list[Unknown]) -> RolePolicies:
        """A role the plan does not manage: read live when allowed, else unknown (identity and trust)."""
        if self._reaches(role_arn) and self.live is not None:
            try:
                return self.live.role(role_arn)
            except ResourceNotFoundError:
                pass
        why = "the role is not in the plan: its policies and trust policy were not read"
        unknowns += [Unknown(role_arn, IDENTITY, role_arn, why), Unknown(role_arn, TRUST, role_arn, why)]
        return RolePolicies(role_arn, name, {}, frozenset(), None, {}, None)

    def _managed_document(
        self, policy_arn: str, where: str, role_arn: str, unknowns: list[Unknown]
    ) -> dict[str, Any] | None:
        if policy_arn.startswith(AWS_MANAGED_POLICY_PREFIXES):
            document = aws_managed_document(policy_arn)
            if document is None:
                unknowns.append(Unknown(role_arn, IDENTITY, where, f"AWS managed policy {policy_arn} is not known"))
            return document
        policy = self._find(("aws_iam_policy",), "arn", policy_arn)
        if policy is None:
            reader = getattr(self.live, "policy_document", None)
            if callable(reader) and self._reaches(policy_arn):
                try:
                    return dict(reader(policy_arn))
                except ResourceNotFoundError:
                    pass
            unknowns.append(Unknown(role_arn, IDENTITY, policy_arn, "managed policy not in the plan: not read"))
            return None
        text = policy.known("policy")
        if text is UNKNOWN:
            unknowns.append(Unknown(role_arn, IDENTITY, policy.where("policy"), "known after apply"))
            return None
        return document_json(text)

    def _role_parts(self, role: PlannedResource, name: str, role_arn: str) -> _RoleParts:
        """Inline policies and attachments of ``role`` from every shape (see the module docstring)."""
        parts = _RoleParts(role)
        separate_inline = {
            str(r.values.get("name")) for r in self._separate("aws_iam_role_policy", "role", name, role_arn)
        }
        separate_arns = {
            str(r.values.get("policy_arn"))
            for r in self._separate("aws_iam_role_policy_attachment", "role", name, role_arn)
        }
        self._own_attributes(parts, role, name, role_arn, separate_inline=separate_inline, separate_arns=separate_arns)
        for resource in self._separate("aws_iam_role_policy", "role", name, role_arn, planned=role):
            policy_name = resource.known("name")
            if policy_name is UNKNOWN:
                parts.unknown.append(Unknown(role_arn, IDENTITY, resource.where("name"), "known after apply"))
                continue
            parts.inline[str(policy_name)] = (
                UNKNOWN if resource.is_unknown("policy") else document_json(resource.values.get("policy")),
                resource.where("policy"),
            )
        for resource in self._separate("aws_iam_role_policy_attachment", "role", name, role_arn, planned=role):
            self._attach(parts, resource, "policy_arn", role_arn)
        for resource in self._of("aws_iam_policy_attachment"):
            roles = resource.known("roles")
            if roles is UNKNOWN:
                parts.unknown.append(Unknown(role_arn, IDENTITY, resource.where("roles"), "known after apply"))
            elif name in string_list(roles):
                self._attach(parts, resource, "policy_arn", role_arn)
        self._apply_exclusive(parts, role, name, role_arn)
        return parts

    def _own_attributes(
        self,
        parts: _RoleParts,
        role: PlannedResource,
        name: str,
        role_arn: str,
        *,
        separate_inline: set[str],
        separate_arns: set[str],
    ) -> None:
        """The role's own attributes: its inline_policy blocks and managed_policy_arns (exclusive when written,
        else computed from what AWS had); policies managed by separate resources are taken from those."""
        inline = role.known("inline_policy")
        if inline is UNKNOWN and self._only_computed(role, "inline_policy"):
            inline = []
        if inline is UNKNOWN:
            parts.unknown.append(Unknown(role_arn, IDENTITY, role.where("inline_policy"), "known after apply"))
        for block in inline if isinstance(inline, list) else []:  # known() answered UNKNOWN if any part is
            policy_name = str(block.get("name") or "")
            if policy_name and policy_name not in separate_inline:
                parts.inline[policy_name] = (document_json(block.get("policy")) or UNKNOWN, role.where("inline_policy"))
        arns = role.known("managed_policy_arns")
        if arns is UNKNOWN and self._only_computed(role, "managed_policy_arns"):
            arns = []
        if arns is UNKNOWN and not self._exclusive_attachments(role, name):
            parts.unknown.append(Unknown(role_arn, IDENTITY, role.where("managed_policy_arns"), "known after apply"))
        for policy_arn in string_list(arns):
            if policy_arn not in separate_arns:
                parts.attached[policy_arn] = role.where("managed_policy_arns")

    def _attach(self, parts: _RoleParts, resource: PlannedResource, attribute: str, role_arn: str) -> None:
        value = resource.known(attribute)
        if value is UNKNOWN:
            parts.unknown.append(Unknown(role_arn, IDENTITY, resource.where(attribute), "known after apply"))
        elif value:
            parts.attached[str(value)] = resource.where(attribute)

    def _separate(
        self, kind: str, attribute: str, name: str, role_arn: str, *, planned: PlannedResource | None = None
    ) -> list[PlannedResource]:
        """Resources of ``kind`` whose ``attribute`` names the role (by name, id or ARN); with ``planned`` (the
        role's resource) those the plan keeps, else also those it deletes (their policies leave the role's computed
        attributes). A value known only after apply (a new role's id) names the role when the configuration sets it
        by a direct reference to the role's resource (``role = aws_iam_role.app.id``); else it is unknown."""
        deleted = [r for r in self.plan.deleted.values() if r.type == kind]
        found = []
        for resource in list(self._of(kind)) + ([] if planned else deleted):
            value = resource.values.get(attribute)
            if value in (name, role_arn):
                found.append(resource)
            elif planned is not None and resource.is_unknown(attribute):
                referenced = self.plan.referenced(resource.address, attribute, "aws_iam_role")
                if referenced is planned:
                    found.append(resource)
                elif referenced is None:  # it may belong to any role of the plan
                    self._unknown(role_arn, IDENTITY, resource.where(attribute), "known after apply")
        return found

    def _only_computed(self, role: PlannedResource, attribute: str) -> bool:
        """True when ``attribute`` of a role the plan creates is computed only (the configuration does not set it):
        a new role holds only what this plan attaches through separate resources."""
        return role.action == "create" and self.plan.sets(role.address, attribute) is False

    def _exclusive_attachments(self, role: PlannedResource, name: str) -> bool:
        return any(r.values.get("role_name") == name for r in self._of("aws_iam_role_policy_attachments_exclusive"))

    def _apply_exclusive(self, parts: _RoleParts, role: PlannedResource, name: str, role_arn: str) -> None:
        """The 5.x/6.x exclusive resources: the role keeps exactly what they list."""
        for resource in self._of("aws_iam_role_policies_exclusive"):
            if resource.values.get("role_name") != name:
                continue
            names = resource.known("policy_names")
            if names is UNKNOWN:
                parts.unknown.append(Unknown(role_arn, IDENTITY, resource.where("policy_names"), "known after apply"))
                continue
            keep = set(string_list(names))
            parts.inline = {k: v for k, v in parts.inline.items() if k in keep}
            for missing in sorted(keep - set(parts.inline)):
                why = f"inline policy {missing!r} is listed but its document is not in the plan"
                parts.unknown.append(Unknown(role_arn, IDENTITY, resource.where("policy_names"), why))
        for resource in self._of("aws_iam_role_policy_attachments_exclusive"):
            if resource.values.get("role_name") != name:
                continue
            arns = resource.known("policy_arns")
            if arns is UNKNOWN:
                parts.unknown.append(Unknown(role_arn, IDENTITY, resource.where("policy_arns"), "known after apply"))
                continue
            parts.attached = {arn: resource.where("policy_arns") for arn in string_list(arns)}
