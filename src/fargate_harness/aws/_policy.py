"""IAM policy document helpers, plus small helpers shared by the ``fargate_harness.aws`` modules.

The evaluation here is deliberately simple: it answers "does some Allow statement match this action and
resource?" and nothing more. Conditions are ignored (a conditional Allow counts as granting) and Deny
statements are not subtracted, so :func:`grants` over-approximates what a principal may do. That is the
safe direction for isolation checks ("role A must not reach role B's secret"); for positive checks it
only proves that a matching Allow statement exists.

``NotAction`` and ``NotResource`` are evaluated by their documented meaning: a ``NotAction`` statement
applies to every action that none of its patterns match, a ``NotResource`` statement to every resource
that none of its patterns match. Where a caller needs a resource *pattern* (:func:`allowed_resources`),
a ``NotResource`` statement contributes ``"*"``, the conservative over-approximation.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from fargate_harness.errors import ResourceNotFoundError
from fargate_harness.iam.matching import glob

__all__ = [
    "allowed_resources",
    "as_list",
    "decode_document",
    "fail",
    "granting_statements",
    "grants",
    "raise_if_not_found",
    "statement_actions",
    "statements",
    "statements_by_sid",
    "wildcard_match",
]


def as_list(value: str | Iterable[str] | None) -> list[str]:
    """Return a policy element that may be a string, a list of strings or absent as a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def decode_document(document: str | Mapping[str, Any]) -> dict[str, Any]:
    """Decode a policy document that may be a dict, a JSON string or a URL-encoded JSON string (IAM)."""
    if isinstance(document, Mapping):
        return dict(document)
    text = document.strip()
    if not text.startswith("{"):
        text = urllib.parse.unquote(text).strip()
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"policy document is not valid JSON: {error}") from error
    if not isinstance(decoded, dict):
        raise TypeError(f"policy document must be a JSON object, got {type(decoded).__name__}")
    return decoded


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the statements of a policy document as a list (``Statement`` may be one dict or a list)."""
    raw = document.get("Statement")
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        return [dict(raw)]
    return [dict(item) for item in raw]


def statements_by_sid(documents: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Index the statements of several documents by ``Sid``.

    Statements without a Sid are skipped. If a Sid occurs more than once the first occurrence wins; use
    :func:`statements` to detect duplicates.
    """
    indexed: dict[str, dict[str, Any]] = {}
    for document in documents:
        for statement in statements(document):
            sid = statement.get("Sid")
            if isinstance(sid, str) and sid and sid not in indexed:
                indexed[sid] = statement
    return indexed


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """Match ``value`` against an IAM pattern: ``*`` is any run of characters, ``?`` exactly one.

    Every other character is literal (no regular expressions, no ``[...]`` classes). The whole value must
    match.
    """
    return glob(pattern, ignore_case=not case_sensitive).match(value) is not None


def _matches_any(patterns: Iterable[str], value: str, *, case_sensitive: bool) -> bool:
    return any(wildcard_match(pattern, value, case_sensitive=case_sensitive) for pattern in patterns)


def _is_allow(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def _action_applies(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not _matches_any(as_list(statement["NotAction"]), action, case_sensitive=False)
    return _matches_any(as_list(statement.get("Action")), action, case_sensitive=False)


def _resource_applies(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not _matches_any(as_list(statement["NotResource"]), resource, case_sensitive=True)
    return _matches_any(as_list(statement.get("Resource")), resource, case_sensitive=True)


def statement_actions(statement: Mapping[str, Any]) -> list[str]:
    """Return the ``Action`` element of a statement as a list (empty for ``NotAction`` statements)."""
    return as_list(statement.get("Action"))


def allowed_resources(documents: Iterable[Mapping[str, Any]], action: str) -> set[str]:
    """Return the resource patterns of the Allow statements that apply to ``action``.

    Actions match case-insensitively with wildcards. A ``NotResource`` statement contributes ``"*"``.
    """
    resources: set[str] = set()
    for document in documents:
        for statement in statements(document):
            if not _is_allow(statement) or not _action_applies(statement, action):
                continue
            if "NotResource" in statement:
                resources.add("*")
            else:
                resources.update(as_list(statement.get("Resource")))
    return resources


def granting_statements(documents: Iterable[Mapping[str, Any]], action: str, resource: str) -> list[dict[str, Any]]:
    """Return the Allow statements that apply to both ``action`` and ``resource`` (conditions ignored)."""
    found: list[dict[str, Any]] = []
    for document in documents:
        for statement in statements(document):
            if _is_allow(statement) and _action_applies(statement, action) and _resource_applies(statement, resource):
                found.append(statement)
    return found


def grants(documents: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    """Return whether some Allow statement applies to ``action`` on ``resource``.

    Conditions are ignored and Deny statements are not subtracted (see the module docstring).
    """
    return bool(granting_statements(documents, action, resource))


def fail(scenario: str, resource: str, expected: object, got: object) -> NoReturn:
    """Raise the harness's standard assertion message: ``<scenario>: <resource>: expected <x>, got <y>``."""
    raise AssertionError(f"{scenario}: {resource}: expected {expected}, got {got}")


def raise_if_not_found(error: Exception, codes: Iterable[str], what: str) -> None:
    """Raise :class:`ResourceNotFoundError` naming ``what`` if botocore ``error`` carries one of ``codes``.

    Returns normally otherwise, so the caller re-raises the original error. Callers catch
    ``client.exceptions.ClientError`` (the botocore class) so no botocore import is needed here.
    """
    details = getattr(error, "response", {}).get("Error", {})
    code = str(details.get("Code", ""))
    if code in set(codes):
        message = str(details.get("Message", "")).strip()
        detail = f" ({code}: {message})" if message else f" ({code})"
        raise ResourceNotFoundError(f"{what} not found{detail}") from error
