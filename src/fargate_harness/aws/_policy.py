"""IAM policy document helpers (decoding, statements by Sid, wildcard matching), plus small helpers shared by
the ``fargate_harness.aws`` modules. No decision is made here: :mod:`fargate_harness.iam` is the one evaluator.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from fargate_harness.errors import ResourceNotFoundError
from fargate_harness.iam.matching import glob

__all__ = [
    "as_list",
    "decode_document",
    "fail",
    "raise_if_not_found",
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
