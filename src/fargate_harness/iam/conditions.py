"""Condition operators (IAM JSON reference, "IAM JSON policy elements: Condition operators").

Evaluation rules implemented here:

* several operators in a Condition block, and several keys under one operator, are ANDed; several values for
  one key are ORed; for a negated operator (``StringNotEquals``, ``ArnNotLike``, ``NotIpAddress`` ...) the
  values are NORed: the condition holds when none of the values matches ("Conditions with multiple context
  keys or values");
* a key missing from the request context makes the condition false, except for negated operators, where it is
  true ("Condition operators": "If the key that you specify in a policy condition is not present in the
  request context, the values do not match and the condition is false. If the policy condition requires that
  the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition
  is true."), for ``...IfExists`` (true) and for ``Null``;
* ``ForAnyValue:`` holds when at least one request value matches (false for a missing or empty key);
  ``ForAllValues:`` holds when every request value matches (true for a missing or empty key) - "Set operators
  for multivalued context keys";
* condition key names are case-insensitive; values are case-sensitive unless the operator says IgnoreCase;
* policy variables are substituted in String and ARN operators only ("Variables and tags: Condition element").
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fargate_harness.iam.matching import arn_like, compiled, literals_to_regex
from fargate_harness.iam.variables import Context, Template, parse_template

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class _Family:
    """How one base operator compares: value kind, comparison and whether it is negated."""

    kind: str
    compare: str
    negated: bool


def _families() -> dict[str, _Family]:
    table: dict[str, _Family] = {
        "StringEquals": _Family("string", "eq", False),
        "StringNotEquals": _Family("string", "eq", True),
        "StringEqualsIgnoreCase": _Family("string", "eq_ci", False),
        "StringNotEqualsIgnoreCase": _Family("string", "eq_ci", True),
        "StringLike": _Family("string", "like", False),
        "StringNotLike": _Family("string", "like", True),
        "ArnEquals": _Family("arn", "like", False),
        "ArnLike": _Family("arn", "like", False),
        "ArnNotEquals": _Family("arn", "like", True),
        "ArnNotLike": _Family("arn", "like", True),
        "Bool": _Family("bool", "eq", False),
        "BinaryEquals": _Family("binary", "eq", False),
        "IpAddress": _Family("ip", "in", False),
        "NotIpAddress": _Family("ip", "in", True),
        "Null": _Family("null", "eq", False),
    }
    for kind, prefix in (("numeric", "Numeric"), ("date", "Date")):
        table[f"{prefix}Equals"] = _Family(kind, "eq", False)
        table[f"{prefix}NotEquals"] = _Family(kind, "eq", True)
        table[f"{prefix}LessThan"] = _Family(kind, "lt", False)
        table[f"{prefix}LessThanEquals"] = _Family(kind, "le", False)
        table[f"{prefix}GreaterThan"] = _Family(kind, "gt", False)
        table[f"{prefix}GreaterThanEquals"] = _Family(kind, "ge", False)
    return table


FAMILIES: Mapping[str, _Family] = _families()
"""Base operator name -> how it compares. ``...IfExists`` and ``ForAnyValue:``/``ForAllValues:`` wrap these."""

_ORDER: Mapping[str, Callable[[float, float], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def parse_date(text: str) -> float:
    """An ISO 8601 date/time (``Z`` or offset; naive means UTC) or epoch seconds, as epoch seconds."""
    value = text.strip()
    if _EPOCH.match(value):
        return float(value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _parse_number(text: str) -> float:
    number = float(text)
    if math.isnan(number):
        raise ValueError(f"{text!r} is not a number")
    return number


def _scalar(value: Any, operator: str) -> str:
    """A policy value as text (numbers and booleans are allowed unquoted in JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(f"{operator} values must be strings, numbers or booleans, not {type(value).__name__}")


class Condition:
    """One (operator, key, values) test of a Condition block, compiled."""

    __slots__ = ("_family", "_ip", "_numbers", "_templates", "_truths", "if_exists", "key", "operator", "qualifier")

    def __init__(self, operator: str, key: str, raw_values: Any, *, variables: bool) -> None:
        """Parse ``operator`` (with qualifier and IfExists) and compile the values.

        Raises ``ValueError`` with a message for an unknown operator or a value that does not parse.
        """
        self.operator = operator
        self.key = key.lower()
        qualifier, _, base = operator.rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise ValueError(f"unknown set operator {qualifier!r} in {operator!r} (use ForAnyValue or ForAllValues)")
        self.qualifier = qualifier
        self.if_exists = base.endswith("IfExists") and base != "IfExists"
        if self.if_exists:
            base = base[: -len("IfExists")]
        family = FAMILIES.get(base)
        if family is None or (family.kind == "null" and (self.if_exists or qualifier)):
            raise ValueError(f"unknown condition operator {operator!r}")
        self._family = family
        values = raw_values if isinstance(raw_values, list) else [raw_values]
        texts = [_scalar(value, operator) for value in values]
        self._templates: tuple[Template, ...] = ()
        self._numbers: tuple[float, ...] = ()
        self._ip: tuple[IpNetwork, ...] = ()
        self._truths: tuple[bool, ...] = ()
        kind = family.kind
        if kind in ("string", "arn"):
            self._templates = tuple(parse_template(text, variables=variables) for text in texts)
        elif kind == "numeric":
            self._numbers = tuple(_parse_number(text) for text in texts)
        elif kind == "date":
            self._numbers = tuple(parse_date(text) for text in texts)
        elif kind == "ip":
            self._ip = tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts)
        elif kind in ("bool", "null"):
            lowered = [text.lower() for text in texts]
            bad = [text for text in lowered if text not in ("true", "false")]
            if bad:
                raise ValueError(f"{operator} values must be true or false, not {bad[0]!r}")
            self._truths = tuple(text == "true" for text in lowered)
        else:
            self._templates = tuple(parse_template(text, variables=False) for text in texts)

    def evaluate(self, context: Context) -> bool:
        """Whether this test holds for ``context``."""
        family = self._family
        values = context.get(self.key)
        if family.kind == "null":
            return (not values) in self._truths
        if not values:
            return self._when_missing()
        matcher = self._matcher(context)
        hits = (matcher(value) for value in values)
        if self.qualifier == "ForAllValues" and not family.negated:
            return all(hits)
        if self.qualifier == "ForAnyValue" and family.negated:
            return not all(hits)
        # Plain and ForAnyValue: any request value matches; negated plain and ForAllValues: none matches.
        return any(hits) != family.negated

    def _when_missing(self) -> bool:
        """The result for a key that is absent from the request (or an empty list)."""
        if self.if_exists or self.qualifier == "ForAllValues":
            return True
        if self.qualifier == "ForAnyValue":
            return False
        return self._family.negated

    def _matcher(self, context: Context) -> Callable[[str], bool]:
        """A predicate: does one request value match any policy value (the positive form of the operator)?"""
        builders: dict[str, Callable[[Context], Callable[[str], bool]]] = {
            "numeric": self._ordered_matcher,
            "date": self._ordered_matcher,
            "ip": self._ip_matcher,
            "bool": self._bool_matcher,
            "arn": self._arn_matcher,
        }
        return builders.get(self._family.kind, self._string_matcher)(context)

    def _bool_matcher(self, context: Context) -> Callable[[str], bool]:
        truths = self._truths
        return lambda value: value.lower() in ("true", "false") and (value.lower() == "true") in truths

    def _arn_matcher(self, context: Context) -> Callable[[str], bool]:
        resolved = [pattern for t in self._templates if (pattern := t.resolve(context)) is not None]
        return lambda value: any(arn_like(value, pattern) for pattern in resolved)

    def _string_matcher(self, context: Context) -> Callable[[str], bool]:
        compare = self._family.compare
        if compare == "like":
            sources = [literals_to_regex(p) for t in self._templates if (p := t.resolve(context)) is not None]
            regex = compiled("|".join(sources), False) if sources else None
            return lambda value: regex is not None and regex.match(value) is not None
        texts = [text for t in self._templates if (text := t.resolve_text(context)) is not None]
        if compare == "eq_ci":
            folded = frozenset(text.casefold() for text in texts)
            return lambda value: value.casefold() in folded
        exact = frozenset(texts)
        return lambda value: value in exact

    def _ordered_matcher(self, context: Context) -> Callable[[str], bool]:
        kind = self._family.kind
        order = _ORDER[self._family.compare]
        numbers = self._numbers
        parse = _parse_number if kind == "numeric" else parse_date

        def match(value: str) -> bool:
            try:
                number = parse(value)
            except ValueError:
                return False
            return any(order(number, policy) for policy in numbers)

        return match

    def _ip_matcher(self, context: Context) -> Callable[[str], bool]:
        networks = self._ip

        def match(value: str) -> bool:
            try:
                address = ipaddress.ip_address(value.strip().split("/", 1)[0])
            except ValueError:
                return False
            return any(address.version == network.version and address in network for network in networks)

        return match


def compile_block(block: Any, *, variables: bool) -> tuple[Condition, ...]:
    """Compile a statement's Condition element. Raises ``ValueError`` describing what is malformed."""
    if not isinstance(block, Mapping):
        raise ValueError(f"Condition must be an object, not {type(block).__name__}")
    tests: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(keys, Mapping) or not keys:
            raise ValueError(f"Condition operator {operator!r} must map condition keys to values")
        for key, values in keys.items():
            if isinstance(values, list) and any(isinstance(value, (list, dict)) for value in values):
                raise ValueError(f"Condition {operator!r} key {key!r}: values must be scalars")
            if isinstance(values, dict):
                raise ValueError(f"Condition {operator!r} key {key!r}: values must be scalars or a list")
            tests.append(Condition(str(operator), str(key), values, variables=variables))
    return tuple(tests)
