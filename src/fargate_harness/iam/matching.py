"""Wildcard matching of actions, resources and ARNs.

* Actions (IAM JSON reference, "Action"): ``*`` and ``?`` wildcards, case-insensitive in both the service
  prefix and the action name.
* Resources (IAM JSON reference, "Resource", "Using wildcards in resource ARNs"): case-sensitive; ``*`` matches
  any run of characters, including ``/`` and, when it ends a segment, ``:`` (so ``arn:aws:s3:::b/*`` and
  ``arn:aws:ec2:*:*:instance/*`` work as AWS documents); ``?`` matches one character.
* ARN condition operators (IAM JSON reference, "Condition operators", ARN): each of the six colon-delimited
  components is matched separately, each with ``*``/``?`` wildcards, case-sensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from fargate_harness.iam.variables import Context, Literal, Template


def literals_to_regex(segments: Iterable[Literal], *, wildcards: bool = True) -> str:
    """The regular-expression source that matches ``segments`` (wildcards only in ``wild`` literals)."""
    parts: list[str] = []
    for segment in segments:
        if not (wildcards and segment.wild):
            parts.append(re.escape(segment.text))
            continue
        for char in segment.text:
            if char == "*":
                parts.append(".*")
            elif char == "?":
                parts.append(".")
            else:
                parts.append(re.escape(char))
    return "".join(parts)


@lru_cache(maxsize=8192)
def compiled(source: str, ignore_case: bool) -> re.Pattern[str]:
    """Compile (and cache) a full-match pattern."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(f"(?:{source})\\Z", flags)


def glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """A compiled matcher for a plain ``*``/``?`` pattern without variables."""
    return compiled(literals_to_regex([Literal(pattern, wild=True)]), ignore_case)


class ActionMatcher:
    """Matches action names against a list of action patterns (case-insensitive)."""

    __slots__ = ("_all", "_exact", "_regex")

    def __init__(self, patterns: Sequence[str]) -> None:
        """Compile ``patterns``; ``*`` alone matches every action."""
        lowered = [pattern.lower() for pattern in patterns]
        self._all = "*" in lowered
        self._exact = frozenset(p for p in lowered if "*" not in p and "?" not in p)
        wild = [literals_to_regex([Literal(p, wild=True)]) for p in lowered if "*" in p or "?" in p]
        self._regex = compiled("|".join(wild), False) if wild else None

    def matches(self, action_lower: str) -> bool:
        """Whether the lower-cased action matches any pattern."""
        if self._all or action_lower in self._exact:
            return True
        return self._regex is not None and self._regex.match(action_lower) is not None


class ResourceMatcher:
    """Matches a resource ARN against Resource patterns, which may hold policy variables."""

    __slots__ = ("_all", "_dynamic", "_static")

    def __init__(self, templates: Sequence[Template]) -> None:
        """Compile the variable-free patterns into one expression; keep the others for per-request resolution."""
        self._all = any(not t.has_variables and t.source == "*" for t in templates)
        static = [literals_to_regex(t.resolve({}) or ()) for t in templates if not t.has_variables]
        self._static = compiled("|".join(static), False) if static else None
        self._dynamic = tuple(t for t in templates if t.has_variables)

    def matches(self, resource: str, context: Context) -> bool:
        """Whether ``resource`` matches any pattern; a pattern with an unresolved variable matches nothing."""
        if self._all:
            return True
        if self._static is not None and self._static.match(resource) is not None:
            return True
        for template in self._dynamic:
            resolved = template.resolve(context)
            if resolved is not None and compiled(literals_to_regex(resolved), False).match(resource):
                return True
        return False


def _split_components(segments: Sequence[Literal]) -> list[list[Literal]]:
    """Split resolved segments at the colons of wildcard-capable literal text into at most six components."""
    components: list[list[Literal]] = [[]]
    for segment in segments:
        if not segment.wild or ":" not in segment.text or len(components) == 6:
            components[-1].append(segment)
            continue
        pieces = segment.text.split(":")
        for index, piece in enumerate(pieces):
            if index and len(components) < 6:
                components.append([])
            elif index:
                components[-1].append(Literal(":", wild=False))
            if piece:
                components[-1].append(Literal(piece, wild=True))
    return components


def arn_like(value: str, pattern: Sequence[Literal]) -> bool:
    """``ArnLike``/``ArnEquals``: match the six components separately (wildcards stay within a component).

    The resource component (the sixth) keeps any further colons. A pattern without colons (e.g. ``*``) is
    matched against the whole value; a pattern with two to five components cannot match an ARN.
    """
    components = _split_components(pattern)
    if len(components) == 1:
        return compiled(literals_to_regex(pattern), False).match(value) is not None
    if len(components) < 6:
        return False
    parts = value.split(":", 5)
    if len(parts) != 6:
        return False
    return all(
        compiled(literals_to_regex(component), False).match(part) is not None
        for component, part in zip(components, parts, strict=True)
    )
