"""iam.allowing_statements: the Allow statements that may apply, conditions set aside and Deny not subtracted (the
over-approximation isolation checks rely on). Moved from aws._policy.grants, the second evaluator the harness had;
the cases are the same. Policy elements: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fargate_harness.iam import allowing_statements

DATA = Path(__file__).resolve().parents[1] / "data"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-password-AbCdEf"
OTHER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/db-password-ZyXwVu"


def grants(documents: Any, action: str, resource: str) -> bool:
    return bool(allowing_statements(documents, action, resource))


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _inline_documents() -> list[dict[str, Any]]:
    return list(_load("iam_execution_inline_policies.json").values())


def test_grants_on_recorded_policies() -> None:
    docs = _inline_documents()
    assert grants(docs, "secretsmanager:GetSecretValue", SECRET)
    assert not grants(docs, "secretsmanager:GetSecretValue", OTHER_SECRET)
    assert not grants(docs, "secretsmanager:PutSecretValue", SECRET)
    assert grants(docs, "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:*")
    assert grants(
        docs,
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:log-stream:app/app/abc",
    )
    assert not grants(
        docs, "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/other:log-stream:x"
    )


def test_grants_ignores_conditions_and_deny() -> None:
    docs = [
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:ResourceTag/app": "web"}},
                },
                {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": OTHER_SECRET},
            ]
        }
    ]
    assert grants(docs, "secretsmanager:GetSecretValue", OTHER_SECRET)


def test_grants_notaction_and_notresource_semantics() -> None:
    not_action = [{"Statement": {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}}]
    assert grants(not_action, "secretsmanager:GetSecretValue", SECRET)
    assert not grants(not_action, "IAM:PassRole", "arn:aws:iam::1:role/x")
    not_resource = [{"Statement": {"Effect": "Allow", "Action": "secretsmanager:*", "NotResource": SECRET}}]
    assert grants(not_resource, "secretsmanager:GetSecretValue", OTHER_SECRET)
    assert not grants(not_resource, "secretsmanager:GetSecretValue", SECRET)


def test_grants_resource_match_is_case_sensitive() -> None:
    docs = [{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::Bucket/*"}}]
    assert grants(docs, "s3:GetObject", "arn:aws:s3:::Bucket/key")
    assert not grants(docs, "s3:GetObject", "arn:aws:s3:::bucket/key")
