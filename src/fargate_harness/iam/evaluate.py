"""Deciding a request: AWS's documented policy evaluation logic for identity, resource and boundary policies.

Sources (IAM User Guide unless noted):

* "Policy evaluation logic": default deny; an explicit Deny in any applicable policy overrides every Allow.
* "Policy evaluation for requests within a single account": an Allow in the identity policies *or* in a
  resource-based policy that names the principal is enough. A resource policy that names only the account
  (``arn:aws:iam::<id>:root`` or the id) delegates to the account's identity policies.
* "Permissions boundaries for IAM entities", "Evaluating effective permissions with boundaries": identity-based
  allows must also be allowed by the boundary. A resource-based grant to an IAM user ARN is not limited by the
  boundary; a grant to the ARN of a role is limited by an implicit deny in the boundary; a grant to the assumed-role
  *session* ARN is not. A Deny statement with NotPrincipal always denies a principal that has a boundary.
* "Cross-account policy evaluation logic": the identity side of the caller's account (identity policies and
  boundary) and the resource-based policy must both allow.
* AWS KMS Developer Guide, "Key policies in AWS KMS"
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html): the key policy is the primary
  authority; without a key policy statement allowing the account (root) IAM policies cannot grant access;
  cross-account use needs the key policy to allow the external account or principal and an IAM policy in that
  account to allow it. Which rules apply is inferred from the resource ARN unless the caller says
  (:func:`resource_policy_kind_for`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fargate_harness.iam.errors import PolicyError, RequestError
from fargate_harness.iam.policy import BOUNDARY, IDENTITY, RESOURCE, CompiledPolicy, StatementRef, compile_policy
from fargate_harness.iam.principals import ACCOUNT, ENTITY, SERVICE, SESSION, WILDCARD, Caller, parse_caller
from fargate_harness.iam.variables import Context

ResourcePolicyKind = Literal["default", "kms"]
"""``"kms"``: the resource policy is a KMS key policy (the primary authority); ``"default"``: any other."""
PolicyDocument = Mapping[str, Any] | str
PolicyInput = Sequence[PolicyDocument] | Mapping[str, PolicyDocument]
ContextInput = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one request.

    ``matched`` holds the statements that decided it: the Deny statements for an explicit deny, or the Allow
    statements (identity, boundary, resource) the allow rests on; it is empty for an implicit deny.
    """

    allowed: bool
    reason: str
    matched: tuple[StatementRef, ...]
    explicit_deny: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """One request for :func:`evaluate_many`: action, resource and extra context keys."""

    action: str
    resource: str
    context: ContextInput | None = None


RequestInput = Request | tuple[str, str] | tuple[str, str, ContextInput | None]


_KMS_KEY_ARN = re.compile(r"^arn:[^:\s]+:kms:[^:\s]+:\d{12}:key/\S+$")


def resource_policy_kind_for(resource: str) -> ResourcePolicyKind:
    """The rules a request on ``resource`` falls under when the caller does not name them.

    A KMS key ARN (``arn:<partition>:kms:<region>:<account>:key/<key-id>``) gives ``"kms"``: AWS KMS Developer
    Guide, "Key policies in AWS KMS" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html):
    every key has a key policy, it is the primary way to control access, and IAM policies allow nothing unless the
    key policy allows the account (e.g. ``arn:aws:iam::<account>:root`` or the account id as principal). So a
    request on a key with no key policy given is denied, and one with a key policy counts IAM policies only
    through such a delegation.

    Anything else, alias ARNs (``arn:aws:kms:<region>:<account>:alias/<name>``) included, gives ``"default"``.
    An alias is not a key and has no key policy: AWS KMS Developer Guide, "Specifying KMS keys in IAM policy
    statements" (https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html) says an alias
    ARN is the resource only of alias operations (``kms:CreateAlias``, ``kms:UpdateAlias``, ``kms:DeleteAlias``),
    which IAM policies control ("Controlling access to aliases",
    https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html), and that a key cannot be named by
    its alias in a policy. A cryptographic operation called with an alias is authorized against the key it points
    to, so resolve the alias to its key ARN first (the preflight does) and evaluate the request on the key ARN;
    evaluating ``kms:Decrypt`` on an alias ARN only says what IAM policies allow on the alias.
    """
    return "kms" if _KMS_KEY_ARN.match(resource) else "default"


def _resource_label(kind: str) -> str:
    return "key policy" if kind == "kms" else "resource policy"


def normalize_context(context: ContextInput | None) -> dict[str, tuple[str, ...]]:
    """Lower-case the keys and turn every value into a tuple of strings (lists are multi-valued keys).

    ``None`` values are dropped (the key is absent); booleans become ``"true"``/``"false"``; datetimes ISO 8601.
    """
    out: dict[str, tuple[str, ...]] = {}
    if not context:
        return out
    for key, value in context.items():
        if not isinstance(key, str):
            raise RequestError(f"context key {key!r} is not a string")
        if value is None:
            continue
        items = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        out[key.lower()] = tuple(_context_text(key, item) for item in items)
    return out


def _context_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise RequestError(f"context key {key!r}: unsupported value {value!r}")


def _policies(policies: PolicyInput | None, source: str) -> tuple[CompiledPolicy, ...]:
    if policies is None:
        return ()
    if isinstance(policies, (str, bytes)):
        raise PolicyError("identity_policies must be a list of policy documents (or a mapping name -> document)")
    if isinstance(policies, Mapping):
        if "Statement" in policies:
            raise PolicyError("identity_policies is a single policy document: pass a list of documents")
        return tuple(compile_policy(doc, f"{source} policy {name!r}", source) for name, doc in policies.items())
    return tuple(compile_policy(doc, f"{source} policy #{index}", source) for index, doc in enumerate(policies))


def _refs(refs: Iterable[StatementRef]) -> str:
    return ", ".join(ref.describe() for ref in refs)


class Evaluator:
    """Policies compiled once for one principal and resource, evaluated against many requests.

    ``resource_policy_kind`` defaults to ``"default"`` here (ordinary resource-policy rules for every request, as
    before inference existed: the preflight relies on it to ask what the identity side alone allows); pass
    ``None`` to infer it per request from the resource ARN, as :func:`evaluate` and :func:`evaluate_many` do.
    """

    def __init__(
        self,
        *,
        principal: str,
        identity_policies: PolicyInput | None = None,
        resource_policy: PolicyDocument | None = None,
        resource_owner: str | None = None,
        boundary: PolicyDocument | None = None,
        context: ContextInput | None = None,
        resource_policy_kind: ResourcePolicyKind | None = "default",
    ) -> None:
        """Parse the principal and compile the policies (raising :class:`PolicyError` if one is malformed)."""
        try:
            self._caller: Caller = parse_caller(principal)
        except ValueError as error:
            raise RequestError(str(error)) from None
        if resource_policy_kind not in (None, "default", "kms"):
            raise RequestError(
                f"resource_policy_kind must be 'default', 'kms' or None (infer), not {resource_policy_kind!r}"
            )
        self._kind: ResourcePolicyKind | None = resource_policy_kind
        self._identity = _policies(identity_policies, IDENTITY)
        self._resource_document = resource_policy
        self._resource_policies: dict[str, CompiledPolicy | None] = {}
        # Compiled now, so that a malformed policy fails here; a request that infers the other kind compiles it
        # once more, under that kind's label.
        self._resource_policy(resource_policy_kind or "default")
        self._boundary = None if boundary is None else compile_policy(boundary, "permissions boundary", BOUNDARY)
        if resource_owner is not None and not (len(resource_owner) == 12 and resource_owner.isdigit()):
            raise RequestError(f"resource_owner must be a 12-digit account id, not {resource_owner!r}")
        self._owner = resource_owner or self._caller.account
        base: dict[str, Any] = {}
        caller = self._caller
        if caller.entity_arn is not None:
            base["aws:PrincipalArn"] = caller.entity_arn
        if caller.account is not None:
            base["aws:PrincipalAccount"] = caller.account
        base["aws:PrincipalType"] = caller.principal_type
        if caller.kind == "user" and caller.name:
            base["aws:username"] = caller.name
        if self._owner is not None:
            base["aws:ResourceAccount"] = self._owner
        self._base = normalize_context(base)
        self._base.update(normalize_context(context))

    def evaluate(self, action: str, resource: str, context: ContextInput | None = None) -> Decision:
        """Decide one request: ``context`` adds to (and overrides) the evaluator's context."""
        if not isinstance(action, str) or action.count(":") != 1 or action.startswith(":") or action.endswith(":"):
            raise RequestError(f"action {action!r} must look like 'service:Action'")
        if not isinstance(resource, str) or not resource:
            raise RequestError(f"resource {resource!r} must be a non-empty string")
        request_context = dict(self._base)
        if context:
            request_context.update(normalize_context(context))
        kind = self._kind or resource_policy_kind_for(resource)
        found = _Found(kind=kind, policy=self._resource_policy(kind), inferred=self._kind is None)
        self._collect(found, action.lower(), resource, request_context)
        found.what = f"{action} on {resource}"
        if found.denies:
            refs = tuple(found.denies)
            return Decision(False, f"Denied: explicit Deny in {_refs(refs)} for {found.what}", refs, True)
        if self._caller.kind == "service":
            return self._decide_service(found)
        if found.kind == "kms" and found.policy is None:
            because = " (a KMS key ARN: key-policy rules apply)" if found.inferred else ""
            return _deny(
                f"no key policy was given for {found.what}{because}; IAM policies alone cannot grant access to a "
                "KMS key"
            )
        if self._caller.account != self._owner:
            return self._decide_cross_account(found)
        return self._decide_same_account(found)

    def _resource_policy(self, kind: str) -> CompiledPolicy | None:
        """The resource policy compiled under the label of ``kind`` ("key policy" or "resource policy")."""
        if kind not in self._resource_policies:
            document = self._resource_document
            label = _resource_label(kind)
            self._resource_policies[kind] = None if document is None else compile_policy(document, label, RESOURCE)
        return self._resource_policies[kind]

    def _collect(self, found: _Found, action_lower: str, resource: str, context: Context) -> None:
        """Sort every statement that applies to the request into denies, identity/boundary allows and grants."""
        for policy in self._identity:
            for statement in policy.statements:
                if statement.matches(action_lower, resource, context):
                    (found.identity if statement.allow else found.denies).append(statement.ref)
        if self._boundary is not None:
            for statement in self._boundary.statements:
                if statement.matches(action_lower, resource, context):
                    (found.boundary if statement.allow else found.denies).append(statement.ref)
        if found.policy is not None:
            for statement in found.policy.statements:
                level = statement.principal_level(self._caller)
                if not statement.allow and statement.not_principal and self._boundary is not None:
                    level = WILDCARD  # documented: Deny + NotPrincipal always denies a principal with a boundary
                if level is None or not statement.matches(action_lower, resource, context):
                    continue
                if statement.allow:
                    found.grants.append((statement.ref, level))
                else:
                    found.denies.append(statement.ref)

    def _decide_service(self, found: _Found) -> Decision:
        service = tuple(ref for ref, level in found.grants if level == SERVICE)
        if service:
            return Decision(True, f"Allowed: {_refs(service)} grants {self._caller.service} {found.what}", service)
        return _deny(f"no {_resource_label(found.kind)} statement grants {self._caller.service} {found.what}")

    def _identity_side(self, found: _Found) -> bool:
        """Identity policies (or root) allow, and the boundary, if any, allows too."""
        identity_ok = bool(found.identity) or self._caller.kind == "root"
        return identity_ok and (self._boundary is None or bool(found.boundary))

    def _decide_cross_account(self, found: _Found) -> Decision:
        caller = self._caller
        accounts = f"({caller.account} -> {self._owner})"
        identity_text = self._identity_text(found)
        if found.policy is None:
            return _deny(
                f"cross-account request {accounts} and there is no {_resource_label(found.kind)}; {identity_text}"
            )
        grants = tuple(ref for ref, level in found.grants if level != SERVICE)
        identity_side = self._identity_side(found)
        if identity_side and grants:
            return Decision(
                True,
                f"Allowed cross-account {accounts}: {identity_text}, and {_refs(grants)} grants the principal "
                f"{found.what}",
                tuple(found.identity) + tuple(found.boundary) + grants,
            )
        missing = [] if identity_side else [identity_text]
        if not grants:
            missing.append(
                f"no {_resource_label(found.kind)} statement grants {caller.arn} or account {caller.account}"
            )
        return _deny(f"cross-account request {accounts} needs both sides to allow {found.what}: " + "; ".join(missing))

    def _decide_same_account(self, found: _Found) -> Decision:
        caller = self._caller
        boundary_ok = self._boundary is None or bool(found.boundary)
        identity_side = self._identity_side(found)
        # A grant to the exact session ARN, or to an IAM user ARN, is not limited by the boundary.
        unbounded = tuple(
            ref for ref, level in found.grants if level == SESSION or (level == ENTITY and caller.kind == "user")
        )
        bounded = tuple(ref for ref, level in found.grants if level in (ENTITY, WILDCARD) and ref not in unbounded)
        account = tuple(ref for ref, level in found.grants if level == ACCOUNT)
        if found.kind == "default" and identity_side:
            if caller.kind == "root" and not found.identity:
                return Decision(
                    True, f"Allowed: the account root user has full access in its own account ({found.what})", ()
                )
            return Decision(
                True, f"Allowed: {self._identity_text(found)} ({found.what})", (*found.identity, *found.boundary)
            )
        if unbounded:
            return Decision(
                True,
                f"Allowed: {_refs(unbounded)} grants {caller.arn} {found.what} directly (a grant to a session or user "
                "ARN is not limited by a permissions boundary)",
                unbounded,
            )
        if bounded and boundary_ok:
            within = f" within {_refs(found.boundary)}" if found.boundary else ""
            return Decision(
                True,
                f"Allowed: {_refs(bounded)} grants the principal {found.what}{within}",
                bounded + tuple(found.boundary),
            )
        if found.kind == "kms" and account and identity_side:
            return Decision(
                True,
                f"Allowed: {_refs(account)} lets IAM policies of account {self._owner} grant access, and "
                f"{self._identity_text(found)} ({found.what})",
                account + tuple(found.identity) + tuple(found.boundary),
            )
        return _deny(f"{self._same_account_gap(found, bounded, account, identity_side)} ({found.what})")

    def _identity_text(self, found: _Found) -> str:
        if self._caller.kind == "root":
            text = "the account root user is allowed by its account"
        elif found.identity:
            text = f"{_refs(found.identity)} allows it"
        else:
            text = "no identity policy statement allows it"
        if self._boundary is not None:
            if found.boundary:
                text += f" and {_refs(found.boundary)} allows it"
            else:
                text += " but the permissions boundary does not allow it"
        return text

    def _same_account_gap(
        self, found: _Found, bounded: tuple[StatementRef, ...], account: tuple[StatementRef, ...], identity_side: bool
    ) -> str:
        """Why a same-account request is not allowed, in words."""
        parts = [self._identity_text(found)]
        if bounded:
            parts.append(f"{_refs(bounded)} grants the role, but the permissions boundary does not allow it")
        elif account and found.kind == "kms":
            parts.append(f"{_refs(account)} delegates to IAM policies, which do not allow it")
        elif account:
            parts.append(f"{_refs(account)} names only the account, which delegates to identity policies")
        elif found.kind == "kms" and identity_side:
            parts.append(
                "the key policy neither grants the principal nor allows the account root, so IAM policies "
                "cannot grant access"
            )
        elif found.policy is not None:
            parts.append(f"no {_resource_label(found.kind)} statement grants the principal")
        return "; ".join(parts)


@dataclass(slots=True)
class _Found:
    """The statements that apply to one request, and which resource-policy rules it falls under."""

    kind: str
    policy: CompiledPolicy | None
    inferred: bool = False
    what: str = ""
    denies: list[StatementRef] = field(default_factory=list)
    identity: list[StatementRef] = field(default_factory=list)
    boundary: list[StatementRef] = field(default_factory=list)
    grants: list[tuple[StatementRef, str]] = field(default_factory=list)


def _deny(why: str) -> Decision:
    return Decision(False, f"Denied implicitly: {why}", ())


def evaluate(
    action: str,
    resource: str,
    principal: str,
    *,
    identity_policies: PolicyInput | None = None,
    resource_policy: PolicyDocument | None = None,
    resource_owner: str | None = None,
    boundary: PolicyDocument | None = None,
    context: ContextInput | None = None,
    resource_policy_kind: ResourcePolicyKind | None = None,
) -> Decision:
    """Decide whether ``principal`` may perform ``action`` on ``resource`` under the given policies.

    Policy documents may be dicts or JSON text; ``identity_policies`` a list, or a mapping name -> document
    (the name then appears in reasons). Compiled policies are cached by content, so repeated calls are cheap.

    ``resource_policy_kind`` says which rules the resource policy follows: ``"kms"`` for a KMS key policy (the
    primary authority; IAM policies count only through a delegation to the account), ``"default"`` for any
    other resource policy. Left out (``None``), it is inferred from ``resource``: a KMS key ARN
    (``arn:<partition>:kms:<region>:<account>:key/<id>``) gets key-policy rules, anything else, an alias ARN
    included, the default rules (see :func:`resource_policy_kind_for` for why). Given explicitly, it wins.
    """
    evaluator = Evaluator(
        principal=principal,
        identity_policies=identity_policies,
        resource_policy=resource_policy,
        resource_owner=resource_owner,
        boundary=boundary,
        resource_policy_kind=resource_policy_kind,
    )
    return evaluator.evaluate(action, resource, context)


def evaluate_many(
    requests: Iterable[RequestInput],
    *,
    principal: str,
    identity_policies: PolicyInput | None = None,
    resource_policy: PolicyDocument | None = None,
    resource_owner: str | None = None,
    boundary: PolicyDocument | None = None,
    context: ContextInput | None = None,
    resource_policy_kind: ResourcePolicyKind | None = None,
) -> list[Decision]:
    """Decide many requests against the same policies, compiling them once.

    ``resource_policy_kind`` works as in :func:`evaluate`: left out, it is inferred for each request's resource.

    Each request is a :class:`Request` or a tuple ``(action, resource)`` / ``(action, resource, context)``;
    a request's context is laid over the shared ``context``.
    """
    evaluator = Evaluator(
        principal=principal,
        identity_policies=identity_policies,
        resource_policy=resource_policy,
        resource_owner=resource_owner,
        boundary=boundary,
        context=context,
        resource_policy_kind=resource_policy_kind,
    )
    decisions: list[Decision] = []
    for item in requests:
        if isinstance(item, Request):
            decisions.append(evaluator.evaluate(item.action, item.resource, item.context))
        elif isinstance(item, tuple) and len(item) in (2, 3):
            extra = item[2] if len(item) == 3 else None
            decisions.append(evaluator.evaluate(item[0], item[1], extra))
        else:
            raise RequestError(f"request {item!r} must be a Request or an (action, resource[, context]) tuple")
    return decisions


def allowing_statements(identity_policies: PolicyInput, action: str, resource: str) -> list[StatementRef]:
    """The Allow statements of identity policies that apply to ``action`` on ``resource`` with their conditions
    set aside and Deny statements not subtracted: an over-approximation of what the policies may allow, the safe
    direction for isolation checks ("role A must never reach role B's secret"). :func:`evaluate` decides."""
    action_lower = action.lower()
    return [
        statement.ref
        for policy in _policies(identity_policies, IDENTITY)
        for statement in policy.statements
        if statement.allow and statement.applies_to(action_lower, resource)
    ]
