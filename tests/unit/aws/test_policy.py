"""Unit tests for fargate_harness.aws._policy: wildcard matching and statement helpers (decisions: iam/)."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.aws import _policy
from fargate_harness.aws._policy import (
    as_list,
    decode_document,
    statements,
    statements_by_sid,
    wildcard_match,
)
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-password-AbCdEf"
OTHER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/db-password-ZyXwVu"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _inline_documents() -> list[dict[str, Any]]:
    return list(_load("iam_execution_inline_policies.json").values())


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), ("a", ["a"]), (["a", "b"], ["a", "b"]), ([], []), (("x",), ["x"])],
)
def test_as_list(value: Any, expected: list[str]) -> None:
    assert as_list(value) == expected


def test_statements_accepts_dict_list_and_missing() -> None:
    single = {"Statement": {"Sid": "A", "Effect": "Allow"}}
    several = {"Statement": [{"Sid": "A"}, {"Sid": "B"}]}
    assert statements(single) == [{"Sid": "A", "Effect": "Allow"}]
    assert [s["Sid"] for s in statements(several)] == ["A", "B"]
    assert statements({"Version": "2012-10-17"}) == []


def test_statements_by_sid_skips_unnamed_and_keeps_first_duplicate() -> None:
    docs: list[dict[str, Any]] = [
        {"Statement": [{"Sid": "A", "Effect": "Allow"}, {"Effect": "Deny"}]},
        {"Statement": {"Sid": "A", "Effect": "Deny"}},
        {"Statement": [{"Sid": "B", "Effect": "Allow"}, {"Sid": "", "Effect": "Allow"}]},
    ]
    indexed = statements_by_sid(docs)
    assert sorted(indexed) == ["A", "B"]
    assert indexed["A"]["Effect"] == "Allow"


def test_statements_by_sid_on_recorded_inline_policies() -> None:
    indexed = statements_by_sid(_inline_documents())
    assert sorted(indexed) == ["DecryptSecrets", "ReadParameters", "ReadSecrets", "WriteLogs"]


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "", True),
        ("*", "anything:at/all", True),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:Get*", "s3:Get", True),
        ("ecr:BatchGet?mage", "ecr:BatchGetImage", True),
        ("ecr:BatchGet?mage", "ecr:BatchGetmage", False),
        ("ecr:BatchGet?mage", "ecr:BatchGetIImage", False),
        ("a?c", "a\nc", True),
        ("app.log", "app.log", True),
        ("app.log", "appXlog", False),
        ("a+b", "a+b", True),
        ("a+b", "aab", False),
        ("(x)|y", "(x)|y", True),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("a\\*", "a\\anything", True),
        ("arn:aws:ssm:*:*:parameter/app/*", "arn:aws:ssm:us-east-1:1:parameter/app/a/b", True),
        ("arn:aws:ssm:*:*:parameter/app/*", "arn:aws:ssm:us-east-1:1:parameter/other", False),
        ("*secret:app/*-??????", SECRET, True),
        ("*secret:app/*-??????", SECRET + "x", False),
        ("abc", "abcd", False),
        ("abc", "xabc", False),
    ],
)
def test_wildcard_match(pattern: str, value: str, expected: bool) -> None:
    assert wildcard_match(pattern, value) is expected


def test_wildcard_match_case_sensitivity() -> None:
    assert not wildcard_match("S3:GetObject", "s3:getobject")
    assert wildcard_match("S3:GetObject", "s3:getobject", case_sensitive=False)
    assert wildcard_match("SecretsManager:Get*", "secretsmanager:GETSECRETVALUE", case_sensitive=False)
    assert not wildcard_match("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/key")


def test_decode_document_variants() -> None:
    document = {"Version": "2012-10-17", "Statement": []}
    text = json.dumps(document)
    assert decode_document(document) == document
    assert decode_document(text) == document
    assert decode_document(urllib.parse.quote(text)) == document
    assert decode_document("  " + text + "\n") == document


def test_decode_document_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        decode_document("{not json")
    with pytest.raises(TypeError, match="JSON object"):
        decode_document("[1, 2]")


def test_fail_message_format() -> None:
    with pytest.raises(AssertionError) as info:
        _policy.fail("basic", "IAM role x", "a", "b")
    assert str(info.value) == "basic: IAM role x: expected a, got b"


class _FakeClientError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": message}}


def test_raise_if_not_found_maps_listed_codes_only() -> None:
    with pytest.raises(ResourceNotFoundError, match=r"IAM role 'x' not found \(NoSuchEntity: gone\)"):
        _policy.raise_if_not_found(_FakeClientError("NoSuchEntity", "gone"), ("NoSuchEntity",), "IAM role 'x'")
    _policy.raise_if_not_found(_FakeClientError("AccessDenied"), ("NoSuchEntity",), "IAM role 'x'")
    _policy.raise_if_not_found(ValueError("no response"), ("NoSuchEntity",), "IAM role 'x'")
