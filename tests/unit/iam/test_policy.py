"""Malformed policies and requests raise fargate_harness.iam errors that name the policy and statement."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_harness.errors import HarnessError
from fargate_harness.iam import PolicyError, RequestError, evaluate

ROLE = "arn:aws:iam::111111111111:role/exec"
SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf"
GOOD = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def _doc(*statements: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        pytest.param(
            _doc(GOOD, {**GOOD, "Sid": "Bad", "Effect": "Permit"}), "statement 'Bad' (#1): Effect", id="effect"
        ),
        pytest.param(_doc({**GOOD, "NotAction": "s3:Put*"}), "both Action and NotAction", id="action-and-notaction"),
        pytest.param(_doc({"Effect": "Allow", "Resource": "*"}), "needs Action or NotAction", id="no-action"),
        pytest.param(_doc({**GOOD, "NotResource": "x"}), "both Resource and NotResource", id="resource-both"),
        pytest.param(_doc({"Effect": "Allow", "Action": "s3:*"}), "needs Resource or NotResource", id="no-resource"),
        pytest.param(_doc("not-a-statement"), "statement #0: must be an object", id="non-dict-statement"),
        pytest.param(_doc({**GOOD, "Condition": {"StringEqualz": {"k": "v"}}}), "unknown condition operator", id="op"),
        pytest.param(_doc({**GOOD, "Condition": {"ForSomeValues:StringEquals": {"k": "v"}}}), "set operator", id="set"),
        pytest.param(_doc({**GOOD, "Condition": {"NumericEquals": {"k": "ten"}}}), "statement #0", id="numeric-value"),
        pytest.param(_doc({**GOOD, "Condition": {"DateEquals": {"k": "yesterday"}}}), "statement #0", id="date"),
        pytest.param(_doc({**GOOD, "Condition": {"IpAddress": {"k": "10.0.0.300/8"}}}), "statement #0", id="ip"),
        pytest.param(_doc({**GOOD, "Condition": {"Bool": {"k": "yes"}}}), "true or false", id="bool"),
        pytest.param(_doc({**GOOD, "Condition": {"NullIfExists": {"k": "true"}}}), "unknown condition", id="null-ifx"),
        pytest.param(_doc({**GOOD, "Condition": "x"}), "Condition must be an object", id="condition-type"),
        pytest.param(_doc({**GOOD, "Action": "GetObject"}), "'service:Action'", id="action-prefix"),
        pytest.param(_doc({**GOOD, "Actions": "s3:*"}), "unknown element", id="typo-element"),
        pytest.param(_doc({**GOOD, "Principal": "*"}), "not allowed in an identity policy", id="principal"),
        pytest.param(_doc({**GOOD, "Resource": "arn:aws:s3:::b/${aws:username"}), "unterminated", id="variable"),
        pytest.param({"Version": "2012-10-17"}, "has no Statement", id="no-statement"),
        pytest.param({"Version": "2020-01-01", "Statement": [GOOD]}, "Version must be", id="version"),
        pytest.param({"Statement": [GOOD], "Extra": 1}, "unknown top-level", id="top-level"),
        pytest.param("{not json", "not valid JSON", id="json"),
        pytest.param(["x"], "must be a JSON object", id="not-object"),
    ],
)
def test_malformed_identity_policy(policy: Any, fragment: str) -> None:
    """IAM JSON policy grammar: malformed documents are rejected with the policy and statement named."""
    with pytest.raises(PolicyError) as raised:
        evaluate(
            action="s3:GetObject", resource=SECRET, principal=ROLE, identity_policies=[{"Statement": GOOD}, policy]
        )
    assert fragment in str(raised.value)
    assert "identity policy #1" in str(raised.value)
    assert isinstance(raised.value, HarnessError)


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        pytest.param(GOOD, "needs Principal or NotPrincipal", id="no-principal"),
        pytest.param({**GOOD, "Principal": "*", "NotPrincipal": "*"}, "both Principal and NotPrincipal", id="both"),
        pytest.param({**GOOD, "Principal": {"Group": "x"}}, "unknown Principal type", id="principal-type"),
        pytest.param({**GOOD, "Principal": {"AWS": "arn:aws:s3:::bucket"}}, "not an account id", id="aws-value"),
        pytest.param({**GOOD, "Principal": ["*"]}, "Principal must be", id="principal-list"),
    ],
)
def test_malformed_resource_policy(statement: dict[str, Any], fragment: str) -> None:
    """IAM JSON reference, Principal: resource-based policy statements must name a valid principal."""
    with pytest.raises(PolicyError, match="resource policy, statement #0") as raised:
        evaluate(action="s3:GetObject", resource=SECRET, principal=ROLE, resource_policy=_doc(statement))
    assert fragment in str(raised.value)


def test_key_policy_label_and_named_identity_policies() -> None:
    """Errors name KMS key policies as such, and identity policies by the name given in a mapping."""
    with pytest.raises(PolicyError, match="key policy"):
        evaluate(
            action="kms:Decrypt", resource="k", principal=ROLE, resource_policy=_doc(GOOD), resource_policy_kind="kms"
        )
    with pytest.raises(PolicyError, match="identity policy 'exec-inline'"):
        evaluate(action="s3:GetObject", resource="r", principal=ROLE, identity_policies={"exec-inline": _doc("x")})
    with pytest.raises(PolicyError, match="single policy document"):
        evaluate(action="s3:GetObject", resource="r", principal=ROLE, identity_policies=_doc(GOOD))


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"action": "GetObject"}, id="action-without-prefix"),
        pytest.param({"principal": "exec"}, id="principal"),
        pytest.param({"principal": "arn:aws:iam::111111111111:group/devs"}, id="group-principal"),
        pytest.param({"resource_owner": "acct-2"}, id="owner"),
        pytest.param({"resource_policy_kind": "s3"}, id="kind"),
        pytest.param({"context": {"k": object()}}, id="context-value"),
        pytest.param({"resource": ""}, id="resource"),
    ],
)
def test_bad_request(kwargs: dict[str, Any]) -> None:
    """A malformed request raises RequestError (a HarnessError), not a crash."""
    arguments: dict[str, Any] = {"action": "s3:GetObject", "resource": SECRET, "principal": ROLE, **kwargs}
    with pytest.raises(RequestError):
        evaluate(**arguments)
