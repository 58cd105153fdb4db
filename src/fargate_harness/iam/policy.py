"""Parsing and compiling policy documents (IAM JSON policy reference: grammar and elements)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fargate_harness.iam.conditions import Condition, compile_block
from fargate_harness.iam.errors import PolicyError
from fargate_harness.iam.matching import ActionMatcher, ResourceMatcher
from fargate_harness.iam.principals import Caller, PrincipalSpec
from fargate_harness.iam.variables import Context, parse_resource_template

VERSIONS = ("2012-10-17", "2008-10-17")
_POLICY_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

IDENTITY = "identity"
RESOURCE = "resource"
BOUNDARY = "boundary"


@dataclass(frozen=True, slots=True)
class StatementRef:
    """A statement and where it came from: the policy's label, its index and Sid, and the statement itself."""

    policy: str
    index: int
    sid: str | None
    effect: str
    source: str
    statement: Mapping[str, Any] = field(compare=False, hash=False, repr=False)

    def describe(self) -> str:
        """E.g. ``identity policy #0 statement 'ReadSecrets'`` or ``key policy statement #2``."""
        name = f"{self.sid!r}" if self.sid else f"#{self.index}"
        return f"{self.policy} statement {name}"


class CompiledStatement:
    """A statement ready to be matched against requests."""

    __slots__ = ("_actions", "_conditions", "_not_action", "_not_resource", "_resources", "allow", "principal", "ref")

    def __init__(self, ref: StatementRef, raw: Mapping[str, Any], *, source: str, variables: bool) -> None:
        """Validate and compile ``raw``; raises ``ValueError`` describing the first problem."""
        self.ref = ref
        unknown = sorted(set(raw) - _STATEMENT_KEYS)
        if unknown:
            raise ValueError(f"unknown element(s) {', '.join(map(repr, unknown))}")
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f'Effect must be "Allow" or "Deny", not {effect!r}')
        self.allow = effect == "Allow"
        self._not_action, actions = _either(raw, "Action", "NotAction", required=True)
        for action in actions:
            if action != "*" and ":" not in action:
                raise ValueError(f"action {action!r} must be 'service:Action' or '*'")
        self._actions = ActionMatcher(actions)
        self._not_resource, resources = _either(raw, "Resource", "NotResource", required=source != RESOURCE)
        # A resource policy may omit Resource (ECR repository policies do): it applies to the resource it is on.
        if not resources and "Resource" not in raw and "NotResource" not in raw:
            resources = ["*"]
        self._resources = ResourceMatcher([parse_resource_template(r, variables=variables) for r in resources])
        has_principal = "Principal" in raw or "NotPrincipal" in raw
        if source == RESOURCE:
            if "Principal" in raw and "NotPrincipal" in raw:
                raise ValueError("has both Principal and NotPrincipal")
            if not has_principal:
                raise ValueError("a resource-based policy statement needs Principal or NotPrincipal")
            negated = "NotPrincipal" in raw
            self.principal: PrincipalSpec | None = PrincipalSpec(
                raw["NotPrincipal" if negated else "Principal"], negated=negated
            )
        else:
            if has_principal:
                raise ValueError(f"Principal/NotPrincipal are not allowed in an {source} policy")
            self.principal = None
        self._conditions: tuple[Condition, ...] = (
            compile_block(raw["Condition"], variables=variables) if "Condition" in raw else ()
        )

    def matches(self, action_lower: str, resource: str, context: Context) -> bool:
        """Action, resource and conditions all match (the principal is checked separately)."""
        if self._actions.matches(action_lower) == self._not_action:
            return False
        if self._resources.matches(resource, context) == self._not_resource:
            return False
        return all(test.evaluate(context) for test in self._conditions)

    def applies_to(self, action_lower: str, resource: str) -> bool:
        """Action and resource match, whatever the conditions say (an over-approximation of :meth:`matches`)."""
        if self._actions.matches(action_lower) == self._not_action:
            return False
        return self._resources.matches(resource, {}) != self._not_resource

    def principal_level(self, caller: Caller) -> str | None:
        """How the statement's Principal names ``caller`` (``None``: it does not)."""
        return None if self.principal is None else self.principal.level(caller)

    @property
    def not_principal(self) -> bool:
        """Whether the statement uses NotPrincipal."""
        return self.principal is not None and self.principal.negated


def _either(raw: Mapping[str, Any], name: str, negated_name: str, *, required: bool) -> tuple[bool, list[str]]:
    """Read ``Action``/``NotAction`` (or the Resource pair): exactly one of them, a string or list of strings."""
    if name in raw and negated_name in raw:
        raise ValueError(f"has both {name} and {negated_name}")
    key = negated_name if negated_name in raw else name
    if key not in raw:
        if required:
            raise ValueError(f"needs {name} or {negated_name}")
        return False, []
    value = raw[key]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{key} must be a non-empty string or a non-empty list of non-empty strings")
    return key == negated_name, list(items)


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy document's statements, compiled."""

    label: str
    source: str
    version: str | None
    statements: tuple[CompiledStatement, ...]


def load_document(document: Any, label: str) -> Mapping[str, Any]:
    """A policy document as a mapping: ``document`` itself, or parsed from JSON text."""
    if isinstance(document, (str, bytes)):
        try:
            parsed = json.loads(document)
        except ValueError as error:
            raise PolicyError(f"{label}: not valid JSON: {error}") from None
        document = parsed
    if not isinstance(document, Mapping):
        raise PolicyError(f"{label}: a policy document must be a JSON object, not {type(document).__name__}")
    return document


def compile_policy(document: Any, label: str, source: str) -> CompiledPolicy:
    """Validate and compile a policy document (dict or JSON text), caching by content.

    Raises :class:`PolicyError` naming ``label`` and the statement for anything malformed.
    """
    mapping = load_document(document, label)
    try:
        key = json.dumps(mapping, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise PolicyError(f"{label}: not JSON-serialisable: {error}") from None
    return _compile_text(key, label, source)


@lru_cache(maxsize=1024)
def _compile_text(text: str, label: str, source: str) -> CompiledPolicy:
    document: Mapping[str, Any] = json.loads(text)
    unknown = sorted(set(document) - _POLICY_KEYS)
    if unknown:
        raise PolicyError(f"{label}: unknown top-level element(s) {', '.join(map(repr, unknown))}")
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise PolicyError(f"{label}: Version must be one of {', '.join(VERSIONS)}, not {version!r}")
    if "Statement" not in document:
        raise PolicyError(f"{label}: has no Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyError(f"{label}: Statement must be an object or a list of objects")
    variables = version == "2012-10-17"
    compiled: list[CompiledStatement] = []
    for index, raw in enumerate(raw_statements):
        if not isinstance(raw, Mapping):
            raise PolicyError(f"{label}, statement #{index}: must be an object, not {type(raw).__name__}")
        sid = raw.get("Sid")
        where = f"{label}, statement {sid!r} (#{index})" if sid else f"{label}, statement #{index}"
        if sid is not None and not isinstance(sid, str):
            raise PolicyError(f"{where}: Sid must be a string")
        effect = raw.get("Effect")
        ref = StatementRef(label, index, sid or None, str(effect), source, raw)
        try:
            compiled.append(CompiledStatement(ref, raw, source=source, variables=variables))
        except ValueError as error:
            raise PolicyError(f"{where}: {error}") from None
    return CompiledPolicy(label, source, version, tuple(compiled))
