"""What a Terraform plan says the resources will be: ``terraform show -json PLANFILE`` read once.

Terraform's plan format (`JSON Output Format`, https://developer.hashicorp.com/terraform/internals/json-format):
``resource_changes[].change.after`` holds each resource's planned values and ``after_unknown`` marks those known
only after apply; ``prior_state`` holds what exists today. A resource the plan deletes is gone; one it leaves alone
keeps its prior values (Terraform lists it as ``no-op`` with ``after`` equal to its state; a resource the plan
does not list at all, with ``-target``, is read from ``prior_state``).

Unknown is never empty: :meth:`PlannedResource.known` answers :data:`UNKNOWN` for a value known only after apply,
and the caller decides what that makes undecided. Resource shapes differ by provider major (see
:mod:`fargate_harness.preflight.plan_facts`); this module knows only Terraform's format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError

#: A resource address: its module path (``module.a.module.b[0].``) and the resource (``aws_x.name``, key dropped).
_RESOURCE_ADDRESS = re.compile(
    r"(?P<modules>(?:module\.[^.\[]+(?:\[[^\]]*\])?\.)*)(?P<resource>[a-z0-9_]+\.[^.\[]+)(?:\[[^\]]*\])?"
)
#: A reference to a managed resource, its instance or an attribute of it: ``aws_x.name``, ``aws_x.name[0].arn``.
_REFERENCE = re.compile(r"(?P<target>[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?)(?:\.[A-Za-z0-9_]+)?")


class _Unknown:
    """A value Terraform knows only after apply."""

    def __repr__(self) -> str:
        return "(known after apply)"


#: What :meth:`PlannedResource.known` answers for a value known only after apply.
UNKNOWN: Any = _Unknown()


def any_unknown(marks: Any) -> bool:
    """True when an ``after_unknown`` element (``true``, or a list/object holding ``true``) marks anything."""
    if marks is True:
        return True
    if isinstance(marks, Mapping):
        return any(any_unknown(value) for value in marks.values())
    if isinstance(marks, list):
        return any(any_unknown(value) for value in marks)
    return False


@dataclass(frozen=True)
class PlannedResource:
    """One managed resource as it will be after apply: its values, and which of them are known only then."""

    address: str
    type: str
    values: Mapping[str, Any]
    unknown: Mapping[str, Any] = field(default_factory=dict)
    action: str = "no-op"  # create | update | replace | no-op | prior (not in resource_changes)

    def is_unknown(self, attribute: str) -> bool:
        """True when ``attribute`` (or anything inside it) is known only after apply."""
        return any_unknown(self.unknown.get(attribute))

    def known(self, attribute: str) -> Any:
        """The attribute's planned value, :data:`UNKNOWN` when known only after apply (None when unset)."""
        if self.is_unknown(attribute):
            return UNKNOWN
        return self.values.get(attribute)

    def where(self, attribute: str) -> str:
        """``address.attribute``: how reports name an unknown."""
        return f"{self.address}.{attribute}"


def _module_resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources") or []
    for child in module.get("child_modules") or []:
        yield from _module_resources(child)


def _action(actions: list[str]) -> str:
    if actions in (["delete", "create"], ["create", "delete"]):
        return "replace"
    return actions[0] if len(actions) == 1 else "/".join(actions)


@dataclass
class PlanValues:
    """The managed resources of a plan as they will be after apply, by address."""

    resources: dict[str, PlannedResource]
    deleted: dict[str, PlannedResource]
    terraform_version: str = ""
    provider_region: str | None = None
    #: The account of data.aws_caller_identity, when the plan read it.
    caller_account: str | None = None
    #: The plan's ``configuration`` section (expressions and their references), when it has one.
    configuration: Mapping[str, Any] = field(default_factory=dict)
    #: The plan's ``planned_values`` (the state after apply, values known only then left out).
    planned_values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any], source: str = "the plan") -> PlanValues:
        """Read a ``terraform show -json PLANFILE`` document; ConfigurationError when it is not one."""
        try:
            return cls._from_document(document, source)
        except (AttributeError, TypeError, KeyError, ValueError) as exc:  # a document of another shape
            raise ConfigurationError(
                f"{source} is not a well-formed Terraform plan ({type(exc).__name__}: {exc}): give the unedited "
                "output of `terraform show -json PLANFILE`"
            ) from exc

    @classmethod
    def _from_document(cls, document: Mapping[str, Any], source: str) -> PlanValues:
        if not isinstance(document, Mapping) or "format_version" not in document:
            raise ConfigurationError(
                f"{source} is not a Terraform plan in JSON: expected the output of `terraform show -json PLANFILE` "
                "(an object with format_version and resource_changes)"
            )
        if "resource_changes" not in document and "planned_values" not in document:
            raise ConfigurationError(
                f"{source} is a Terraform state, not a plan: give `terraform show -json PLANFILE` of "
                "`terraform plan -out PLANFILE`"
            )
        prior: dict[str, PlannedResource] = {}
        caller = None
        state = (document.get("prior_state") or {}).get("values") or {}
        for item in _module_resources(state.get("root_module") or {}):
            values = _object(item.get("values") or {}, f"{item.get('address')}: values")
            if item.get("mode") == "data" and item.get("type") == "aws_caller_identity":
                caller = str(values.get("account_id") or "") or None
            if item.get("mode", "managed") == "managed":
                address = str(item["address"])
                prior[address] = PlannedResource(address, str(item["type"]), values, {}, "prior")
        resources = dict(prior)
        deleted: dict[str, PlannedResource] = {}
        for change in document.get("resource_changes") or []:
            address = str(change.get("address"))
            body = change.get("change") or {}
            actions = list(body.get("actions") or ["no-op"])
            if change.get("mode", "managed") != "managed":
                continue
            if actions == ["delete"] or body.get("after") is None:
                gone = resources.pop(address, None)
                if gone is not None:
                    deleted[address] = gone
                continue
            unknown = _object(body.get("after_unknown") or {}, f"{address}: after_unknown")
            _object(body.get("after"), f"{address}: after")
            resources[address] = PlannedResource(
                address, str(change.get("type")), body.get("after") or {}, unknown, _action(actions)
            )
        return cls(
            resources,
            deleted,
            str(document.get("terraform_version") or ""),
            _region(document),
            caller,
            dict(document.get("configuration") or {}),
            dict(document.get("planned_values") or {}),
        )

    @classmethod
    def read(cls, path: Path) -> PlanValues:
        """Read a plan JSON file (see :meth:`from_document`)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read the plan {path}: {exc}") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"{path} is not JSON ({exc.msg} at line {exc.lineno}): give the output of `terraform show -json "
                "PLANFILE`, or the binary plan file with --dir FOLDER (the folder it was planned in)"
            ) from exc
        return cls.from_document(document, str(path))

    def _block(self, address: str) -> Mapping[str, Any] | None:
        """The configuration's block of the resource at ``address`` (its module's, the instance key dropped)."""
        module: Mapping[str, Any] = self.configuration.get("root_module") or {}
        parts = _RESOURCE_ADDRESS.fullmatch(address)
        if parts is None:
            return None
        for name in re.findall(r"module\.([^.\[]+)(?:\[[^\]]*\])?\.", parts["modules"] or ""):
            module = ((module.get("module_calls") or {}).get(name) or {}).get("module") or {}
        for block in module.get("resources") or []:
            if block.get("address") == parts["resource"] and block.get("mode", "managed") == "managed":
                return dict(block)
        return None

    def expressions(self, address: str) -> Mapping[str, Any]:
        """The configuration's expressions of the resource at ``address`` (empty when the plan has none)."""
        return dict((self._block(address) or {}).get("expressions") or {})

    def sets(self, address: str, attribute: str) -> bool | None:
        """Whether the configuration sets ``attribute`` of the resource at ``address``; None when the plan has no
        configuration for it."""
        block = self._block(address)
        return None if block is None else attribute in (block.get("expressions") or {})

    def references(self, address: str, attribute: str) -> list[str]:
        """The references of the expression that sets ``attribute`` of the resource at ``address`` in the
        configuration; empty when it is not set by an expression or the plan has no configuration."""
        expression = ((self._block(address) or {}).get("expressions") or {}).get(attribute) or {}
        return [str(r) for r in expression.get("references") or []] if isinstance(expression, Mapping) else []

    def referenced(self, address: str, attribute: str, kind: str) -> PlannedResource | None:
        """The resource of type ``kind`` that ``attribute`` of ``address`` is set to by a direct reference
        (``aws_iam_role.app.arn``, ``aws_iam_role.app[0].arn``) in the same module; None for anything else (a
        variable, a module output, a conditional between two resources, a function of several values)."""
        return self.resolve(address, self.references(address, attribute), kind)

    def resolve(self, address: str, references: list[str], kind: str) -> PlannedResource | None:
        """The resource of type ``kind`` that ``references`` (of an expression in the module of ``address``) name
        when they are one direct reference to it; None otherwise (see :meth:`referenced`)."""
        targets = {m["target"] for m in map(_REFERENCE.fullmatch, references) if m is not None}
        direct = [r for r in references if _REFERENCE.fullmatch(r)]
        fullest = max(targets, key=len, default="")
        if not references or len(direct) != len(references) or not fullest.startswith(f"{kind}."):
            return None
        if any(not fullest.startswith(target) for target in targets):
            return None  # two different resources
        modules = (_RESOURCE_ADDRESS.fullmatch(address) or {"modules": ""})["modules"] or ""
        return self.resources.get(f"{modules}{fullest}")

    def of_type(self, *types: str) -> list[PlannedResource]:
        """The resources of these types, in address order."""
        return [self.resources[a] for a in sorted(self.resources) if self.resources[a].type in types]


def _object(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object; ValueError naming ``what`` otherwise."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is a {type(value).__name__}, not an object")
    return value


def _region(document: Mapping[str, Any]) -> str | None:
    """The default ``aws`` provider's region when the configuration writes it as a constant."""
    providers = (document.get("configuration") or {}).get("provider_config") or {}
    for key, provider in providers.items():
        if key != "aws" and not str(provider.get("full_name", "")).endswith("hashicorp/aws"):
            continue
        if provider.get("alias"):
            continue
        expression = (provider.get("expressions") or {}).get("region") or {}
        region = expression.get("constant_value")
        references = [r for r in expression.get("references") or [] if str(r).startswith("var.")]
        if region is None and references:  # region = var.region: the plan holds the variable's value
            variable = (document.get("variables") or {}).get(str(references[0])[4:]) or {}
            region = variable.get("value")
        if isinstance(region, str) and region:
            return region
    return None


def document_json(text: Any) -> dict[str, Any] | None:
    """A policy document attribute (a JSON string) as a dict; None when empty or not a JSON object."""
    if isinstance(text, Mapping):
        return dict(text)
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
