"""Offline evaluation of AWS IAM policies, following AWS's documented policy evaluation logic.

>>> from fargate_harness.iam import evaluate
>>> policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
>>> evaluate(
...     action="s3:GetObject", resource="arn:aws:s3:::b/k", principal="arn:aws:iam::111111111111:role/r",
...     identity_policies=[policy],
... ).allowed
True
"""

from __future__ import annotations

from fargate_harness.iam.errors import IamError, PolicyError, RequestError
from fargate_harness.iam.evaluate import (
    Decision,
    Evaluator,
    Request,
    allowing_statements,
    evaluate,
    evaluate_many,
    normalize_context,
    resource_policy_kind_for,
)
from fargate_harness.iam.policy import StatementRef

__all__ = [
    "Decision",
    "Evaluator",
    "IamError",
    "PolicyError",
    "Request",
    "RequestError",
    "StatementRef",
    "allowing_statements",
    "evaluate",
    "evaluate_many",
    "normalize_context",
    "resource_policy_kind_for",
]
