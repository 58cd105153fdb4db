"""Policy variables (``${key}``) in Resource elements and string/ARN condition values.

Rules (IAM User Guide, "IAM policy elements: Variables and tags"):

* variables are only recognised in policies whose ``Version`` is ``2012-10-17``; with ``2008-10-17`` or no
  ``Version`` the text ``${aws:username}`` is literal;
* ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters ``*``, ``?`` and ``$`` (never wildcards);
* ``${key, 'default'}`` supplies a default used when the key is missing (``''`` inside the quotes is a quote);
* key names are case-insensitive;
* a key that is missing from the request context (or is multi-valued) leaves the variable unresolved: the value
  that uses it matches nothing;
* in a Resource or NotResource ARN a variable is substituted only in the resource part, after the fifth colon
  ("Where you can use policy variables": "only in the resource portion of the ARN"); in the partition, service,
  region or account part the ``${...}`` text is kept literally (:func:`parse_resource_template`). Condition
  values substitute anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

Context = Mapping[str, tuple[str, ...]]
"""A normalised request context: lower-cased key -> tuple of string values."""

_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*([^,\s][^,]*?)\s*,\s*'((?:[^']|'')*)'\s*$")


@dataclass(frozen=True, slots=True)
class Literal:
    """Text taken as written. With ``wild`` set, ``*`` and ``?`` in it are wildcards where the element allows."""

    text: str
    wild: bool


@dataclass(frozen=True, slots=True)
class Variable:
    """A ``${key}`` placeholder; ``key`` is lower-cased, ``default`` is the ``${key, 'default'}`` text if any."""

    key: str
    default: str | None


Segment = Literal | Variable


@dataclass(frozen=True, slots=True)
class Template:
    """A policy string split into literal text and variables."""

    source: str
    segments: tuple[Segment, ...]
    has_variables: bool

    def resolve(self, context: Context) -> tuple[Literal, ...] | None:
        """Substitute the variables from ``context``; ``None`` when one cannot be resolved.

        Substituted values are literal text: a ``*`` inside a tag value is not a wildcard.
        """
        if not self.has_variables:
            return cast(tuple[Literal, ...], self.segments)
        out: list[Literal] = []
        for segment in self.segments:
            if isinstance(segment, Literal):
                out.append(segment)
                continue
            values = context.get(segment.key)
            if values is not None and len(values) == 1:
                out.append(Literal(values[0], wild=False))
            elif segment.default is not None:
                out.append(Literal(segment.default, wild=False))
            else:
                return None
        return tuple(out)

    def resolve_text(self, context: Context) -> str | None:
        """The resolved string (wildcards left as characters), or ``None`` if a variable is unresolved."""
        resolved = self.resolve(context)
        if resolved is None:
            return None
        return "".join(segment.text for segment in resolved)


def parse_template(text: str, *, variables: bool) -> Template:
    """Split ``text`` into segments; with ``variables`` false the whole string is one literal.

    Raises ``ValueError`` for an unterminated ``${`` or an empty ``${}``.
    """
    if not variables or "${" not in text:
        return Template(text, (Literal(text, wild=True),), has_variables=False)
    segments: list[Segment] = []
    buffer: list[str] = []
    position = 0
    has_variables = False
    while position < len(text):
        start = text.find("${", position)
        if start < 0:
            buffer.append(text[position:])
            break
        buffer.append(text[position:start])
        end = text.find("}", start + 2)
        if end < 0:
            raise ValueError(f"unterminated policy variable in {text!r}")
        body = text[start + 2 : end]
        position = end + 1
        if body in _ESCAPES:
            if buffer:
                segments.append(Literal("".join(buffer), wild=True))
                buffer = []
            segments.append(Literal(_ESCAPES[body], wild=False))
            continue
        variable = _parse_variable(body, text)
        if buffer:
            segments.append(Literal("".join(buffer), wild=True))
            buffer = []
        segments.append(variable)
        has_variables = True
    if buffer and "".join(buffer):
        segments.append(Literal("".join(buffer), wild=True))
    merged = _merge(segments)
    return Template(text, merged, has_variables=has_variables)


ARN_PREFIX_COLONS = 5
"""How many colons end the ARN prefix (``arn:partition:service:region:account:``); the resource part follows."""


def parse_resource_template(text: str, *, variables: bool) -> Template:
    """Split a Resource/NotResource pattern, substituting variables only after the fifth colon.

    IAM User Guide, "IAM policy elements: Variables and tags", "Where you can use policy variables"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html): a variable may stand
    only in the resource part of the ARN, after the fifth colon. Colons are counted outside ``${...}`` (a key such
    as ``aws:username`` has one of its own). A ``${...}`` before that point, or in a pattern with fewer than five
    colons, is literal text: it is not substituted, and a ``*`` or ``?`` inside it is not a wildcard. Malformed
    variables raise ``ValueError`` wherever they stand, as :func:`parse_template` does.
    """
    if not variables or "${" not in text:
        return parse_template(text, variables=variables)
    cut = _resource_part_start(text)
    prefix, rest = text[:cut], text[cut:]
    segments: list[Segment] = list(_literal_prefix(prefix, text))
    tail = parse_template(rest, variables=True) if rest else Template("", (), has_variables=False)
    segments.extend(tail.segments)
    return Template(text, _merge(segments), has_variables=tail.has_variables)


def _resource_part_start(text: str) -> int:
    """The index after the fifth colon outside ``${...}``; ``len(text)`` when there are fewer than five."""
    colons = 0
    position = 0
    while position < len(text):
        if text.startswith("${", position):
            end = text.find("}", position + 2)
            if end < 0:
                raise ValueError(f"unterminated policy variable in {text!r}")
            position = end + 1
            continue
        if text[position] == ":":
            colons += 1
            if colons == ARN_PREFIX_COLONS:
                return position + 1
        position += 1
    return len(text)


def _literal_prefix(prefix: str, text: str) -> list[Literal]:
    """The ARN prefix as literals: plain text keeps its wildcards, each ``${...}`` is literal text."""
    out: list[Literal] = []
    position = 0
    while position < len(prefix):
        start = prefix.find("${", position)
        if start < 0:
            out.append(Literal(prefix[position:], wild=True))
            break
        if start > position:
            out.append(Literal(prefix[position:start], wild=True))
        end = prefix.find("}", start + 2)  # found: _resource_part_start checked every ${ is closed
        body = prefix[start + 2 : end]
        if body not in _ESCAPES:
            _parse_variable(body, text)  # same validation as a substituted variable
        out.append(Literal(prefix[start : end + 1], wild=False))
        position = end + 1
    return out


def _parse_variable(body: str, text: str) -> Variable:
    match = _DEFAULT.match(body)
    if match:
        return Variable(match.group(1).lower(), match.group(2).replace("''", "'"))
    key = body.strip()
    if not key or "," in key or "'" in key:
        raise ValueError(f"malformed policy variable ${{{body}}} in {text!r}")
    return Variable(key.lower(), None)


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    """Join adjacent literals of the same kind so matchers see as few pieces as possible."""
    out: list[Segment] = []
    for segment in segments:
        previous = out[-1] if out else None
        if isinstance(segment, Literal) and isinstance(previous, Literal) and previous.wild == segment.wild:
            out[-1] = Literal(previous.text + segment.text, segment.wild)
        elif not (isinstance(segment, Literal) and not segment.text):
            out.append(segment)
    return tuple(out)
