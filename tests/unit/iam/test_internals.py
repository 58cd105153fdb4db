"""Unit tests for the building blocks of fargate_harness.iam: variables, matching, conditions, principals, reasons."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_harness.iam import (
    Evaluator,
    PolicyError,
    Request,
    StatementRef,
    evaluate,
    evaluate_many,
    normalize_context,
    resource_policy_kind_for,
)
from fargate_harness.iam.conditions import Condition, parse_date
from fargate_harness.iam.matching import ActionMatcher, ResourceMatcher, arn_like
from fargate_harness.iam.principals import ACCOUNT, ENTITY, SESSION, WILDCARD, PrincipalSpec, parse_caller
from fargate_harness.iam.variables import Literal, Variable, parse_resource_template, parse_template

ROLE = "arn:aws:iam::111111111111:role/exec"
SESSION_ARN = "arn:aws:sts::111111111111:assumed-role/exec/task-1"
SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf"
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALLOW_DECRYPT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}


def test_parse_template_segments() -> None:
    """Variables, escapes and defaults split into segments; 2008 policies keep the text literal."""
    template = parse_template("a/${aws:UserName}/${*}/${x, 'it''s'}*", variables=True)
    assert template.segments == (
        Literal("a/", wild=True),
        Variable("aws:username", None),
        Literal("/", wild=True),
        Literal("*", wild=False),
        Literal("/", wild=True),
        Variable("x", "it's"),
        Literal("*", wild=True),
    )
    assert parse_template("${aws:username}", variables=False).segments == (Literal("${aws:username}", wild=True),)
    assert template.resolve_text({"aws:username": ("bob",)}) == "a/bob/*/it's*"
    assert template.resolve({}) is None  # aws:username has no default
    assert template.resolve_text({"aws:username": ("bob",), "x": ("y",)}) == "a/bob/*/y*"
    assert parse_template("${aws:username}", variables=True).resolve({}) is None
    assert parse_template("${aws:username}", variables=True).resolve({"aws:username": ("a", "b")}) is None


def test_parse_resource_template_substitutes_only_after_fifth_colon() -> None:
    """IAM User Guide, "IAM policy elements: Variables and tags", "Where you can use policy variables"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html): only the resource part.

    Colons inside ``${...}`` do not count; before the fifth colon a variable is literal text, even ``${*}``.
    """
    template = parse_resource_template(
        "arn:aws:sm:${aws:RequestedRegion}:${x, 'a:b'}:secret:${aws:userid}-*", variables=True
    )
    assert template.segments == (
        Literal("arn:aws:sm:", wild=True),
        Literal("${aws:RequestedRegion}", wild=False),
        Literal(":", wild=True),
        Literal("${x, 'a:b'}", wild=False),
        Literal(":secret:", wild=True),
        Variable("aws:userid", None),
        Literal("-*", wild=True),
    )
    assert template.has_variables
    prefix_only = parse_resource_template("arn:aws:s3:${*}:${aws:username}", variables=True)
    assert not prefix_only.has_variables
    assert prefix_only.segments == (
        Literal("arn:aws:s3:", wild=True),
        Literal("${*}", wild=False),
        Literal(":", wild=True),
        Literal("${aws:username}", wild=False),
    )
    assert parse_resource_template("${aws:SourceArn}", variables=True).segments == (
        Literal("${aws:SourceArn}", wild=False),
    )
    same = "arn:aws:s3:::b/${aws:username}/${*}"
    assert parse_resource_template(same, variables=True) == parse_template(same, variables=True)
    assert parse_resource_template(same, variables=False) == parse_template(same, variables=False)
    for malformed in ("arn:aws:s3:${}:::b", "arn:aws:s3:${aws:x:::b", "arn:aws:s3:::b/${aws:username"):
        with pytest.raises(ValueError, match="policy variable"):
            parse_resource_template(malformed, variables=True)


def test_prefix_variable_is_literal_text_when_matching() -> None:
    """An unsubstituted variable matches only its own text, and a ``*`` inside it is no wildcard."""
    matcher = ResourceMatcher(
        [parse_resource_template("arn:aws:sm:us-east-1:${aws:PrincipalAccount}:s", variables=True)]
    )
    context = {"aws:principalaccount": ("111111111111",)}
    assert not matcher.matches("arn:aws:sm:us-east-1:111111111111:s", context)
    assert matcher.matches("arn:aws:sm:us-east-1:${aws:PrincipalAccount}:s", context)
    star = ResourceMatcher([parse_resource_template("arn:aws:sm:${*}:1:s", variables=True)])
    assert star.matches("arn:aws:sm:${*}:1:s", {})
    assert not star.matches("arn:aws:sm:us-east-1:1:s", {})


def test_malformed_prefix_variable_names_policy_and_statement() -> None:
    """A malformed variable before the fifth colon is still a PolicyError naming where it is."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:${}:s3:::b"}]}
    with pytest.raises(PolicyError, match=r"identity policy #0, statement #0: malformed policy variable"):
        evaluate(action="s3:GetObject", resource="arn:aws:s3:::b", principal=ROLE, identity_policies=[policy])


@pytest.mark.parametrize(
    ("resource", "kind"),
    [
        (KEY, "kms"),
        ("arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab", "kms"),
        ("arn:aws:kms:us-east-1:111111111111:alias/app", "default"),
        ("arn:aws:kms:us-east-1:111111111111:key/", "default"),
        ("arn:aws:kms:us-east-1:aws:key/1234", "default"),
        ("arn:aws:kms:::key/1234", "default"),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", "default"),
        ("*", "default"),
        (SECRET, "default"),
    ],
)
def test_resource_policy_kind_for(resource: str, kind: str) -> None:
    """KMS Developer Guide, "Key policies in AWS KMS": only a key ARN names a key (aliases and ids do not)."""
    assert resource_policy_kind_for(resource) == kind


def test_kms_inference_explicit_kind_wins_and_reason_says_why() -> None:
    """Inference applies only when no kind is given; the reason and statement labels say key policy."""
    inferred = evaluate(action="kms:Decrypt", resource=KEY, principal=ROLE, identity_policies=[ALLOW_DECRYPT])
    assert not inferred.allowed
    assert "(a KMS key ARN: key-policy rules apply)" in inferred.reason
    explicit = evaluate(
        action="kms:Decrypt",
        resource=KEY,
        principal=ROLE,
        identity_policies=[ALLOW_DECRYPT],
        resource_policy_kind="default",
    )
    assert explicit.allowed
    said = evaluate(
        action="kms:Decrypt",
        resource=KEY,
        principal=ROLE,
        identity_policies=[ALLOW_DECRYPT],
        resource_policy_kind="kms",
    )
    assert not said.allowed
    assert "key-policy rules apply" not in said.reason
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Exec", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}
        ],
    }
    granted = evaluate(action="kms:Decrypt", resource=KEY, principal=ROLE, resource_policy=key_policy)
    assert granted.allowed
    assert [ref.policy for ref in granted.matched] == ["key policy"]


def test_evaluator_default_kind_and_per_request_inference() -> None:
    """Evaluator keeps "default" unless told None; evaluate_many infers per request, like evaluate."""
    assert Evaluator(principal=ROLE, identity_policies=[ALLOW_DECRYPT]).evaluate("kms:Decrypt", KEY).allowed
    inferring = Evaluator(principal=ROLE, identity_policies=[ALLOW_DECRYPT], resource_policy_kind=None)
    assert not inferring.evaluate("kms:Decrypt", KEY).allowed
    alias = "arn:aws:kms:us-east-1:111111111111:alias/app"
    assert [
        d.allowed
        for d in evaluate_many(
            [("kms:Decrypt", KEY), ("kms:Decrypt", alias)], principal=ROLE, identity_policies=[ALLOW_DECRYPT]
        )
    ] == [False, True]
    resource_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*"}]}
    both = Evaluator(principal=ROLE, resource_policy=resource_policy, resource_policy_kind=None)
    assert both.evaluate("kms:Decrypt", KEY).matched[0].policy == "key policy"
    assert both.evaluate("kms:Decrypt", alias).matched[0].policy == "resource policy"


def test_action_matcher() -> None:
    """Actions match case-insensitively with * and ?."""
    matcher = ActionMatcher(["S3:Get*", "kms:Decrypt", "ecr:?atchGetImage"])
    assert matcher.matches("s3:getobject")
    assert matcher.matches("kms:decrypt")
    assert matcher.matches("ecr:batchgetimage")
    assert not matcher.matches("kms:encrypt")
    assert ActionMatcher(["*"]).matches("anything:at-all")


def test_resource_matcher_variables_are_literal() -> None:
    """A substituted value is literal text: a * in a tag value is not a wildcard."""
    matcher = ResourceMatcher([parse_template("arn:aws:s3:::b/${aws:PrincipalTag/p}", variables=True)])
    assert matcher.matches("arn:aws:s3:::b/*", {"aws:principaltag/p": ("*",)})
    assert not matcher.matches("arn:aws:s3:::b/x", {"aws:principaltag/p": ("*",)})


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        (ROLE, "arn:aws:iam::*:role/*", True),
        (ROLE, "arn:aws:iam::111111111111:role/ex?c", True),
        (ROLE, "arn:aws:iam::*", False),
        (ROLE, "*", True),
        ("arn:aws:ecs:us-east-1:111111111111:task/c:1", "arn:aws:ecs:*:*:task/*", True),
        (ROLE, "arn:aws:*:role/exec", False),
    ],
)
def test_arn_like(value: str, pattern: str, expected: bool) -> None:
    """ARN operators match the six components separately."""
    resolved = parse_template(pattern, variables=True).resolve({})
    assert resolved is not None
    assert arn_like(value, resolved) is expected


def _holds(operator: str, values: Any, context: dict[str, Any]) -> bool:
    return Condition(operator, "k", values, variables=True).evaluate(normalize_context(context))


def test_condition_truth_table() -> None:
    """Missing keys, IfExists, set operators and negation behave as documented."""
    assert not _holds("StringEquals", "a", {})
    assert _holds("StringNotEquals", "a", {})
    assert _holds("StringLikeIfExists", "a*", {})
    assert _holds("ForAllValues:StringEquals", ["a"], {})
    assert not _holds("ForAnyValue:StringEquals", ["a"], {})
    assert _holds("ForAnyValue:StringNotEquals", ["a"], {"k": ["a", "b"]})
    assert not _holds("ForAllValues:StringNotEquals", ["a"], {"k": ["a", "b"]})
    assert _holds("ForAllValues:StringNotEquals", ["c"], {"k": ["a", "b"]})
    assert _holds("StringEquals", "b", {"k": ["a", "b"]})
    assert not _holds("StringNotEquals", "b", {"k": ["a", "b"]})
    assert _holds("Null", "false", {"k": "x"})
    assert _holds("Null", ["true", "false"], {})
    assert _holds("NumericLessThanEquals", 5, {"k": 5})
    assert not _holds("NumericEquals", 5, {"k": "five"})
    assert _holds("DateGreaterThanEquals", "2024-01-01", {"k": "2024-01-01T00:00:00Z"})
    assert _holds("BoolIfExists", True, {"k": True})
    assert not _holds("Bool", "true", {"k": "maybe"})
    assert _holds("IpAddress", "10.0.0.0/8", {"k": "10.1.2.3"})
    assert not _holds("IpAddress", "10.0.0.0/8", {"k": "not-an-ip"})
    assert _holds("BinaryEquals", "QmluYXJ5", {"k": "QmluYXJ5"})
    assert _holds("StringNotEquals", "${missing}", {"k": "x"})  # an unresolved variable equals nothing


def test_parse_date_forms() -> None:
    """ISO 8601 with Z, offsets, naive (UTC) and epoch seconds all parse to the same instant."""
    expected = 1704067200.0
    for text in ("2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", "2024-01-01", "1704067200"):
        assert parse_date(text) == expected


def test_principal_levels() -> None:
    """Principal elements name callers at session, entity, account or wildcard level."""
    session = parse_caller(SESSION_ARN)
    role = parse_caller(ROLE)
    assert session.entity_arn == ROLE
    assert PrincipalSpec({"AWS": SESSION_ARN}, negated=False).level(session) == SESSION
    assert PrincipalSpec({"AWS": [ROLE]}, negated=False).level(session) == ENTITY
    assert PrincipalSpec({"AWS": "arn:aws:iam::111111111111:role/svc/exec"}, negated=False).level(role) == ENTITY
    assert PrincipalSpec({"AWS": "111111111111"}, negated=False).level(role) == ACCOUNT
    assert PrincipalSpec({"AWS": "*"}, negated=False).level(role) == WILDCARD
    assert PrincipalSpec({"AWS": SESSION_ARN}, negated=False).level(role) is None
    assert PrincipalSpec({"Federated": "cognito-identity.amazonaws.com"}, negated=False).level(role) is None
    excluded = PrincipalSpec({"AWS": [ROLE, "111111111111"]}, negated=True)
    assert excluded.level(role) is None
    assert excluded.level(session) == WILDCARD


def test_decision_reason_and_matched() -> None:
    """Reasons name the deciding policy and Sid; matched carries the statements and where they came from."""
    identity = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*"}]}
    allowed = evaluate(
        action="secretsmanager:GetSecretValue", resource=SECRET, principal=ROLE, identity_policies=[identity]
    )
    assert "identity policy #0 statement 'Read'" in allowed.reason
    assert allowed.matched[0] == StatementRef("identity policy #0", 0, "Read", "Allow", "identity", {})
    assert allowed.matched[0].statement["Sid"] == "Read"
    denied = evaluate(
        action="secretsmanager:GetSecretValue",
        resource=SECRET,
        principal=ROLE,
        identity_policies=[identity],
        resource_policy=deny,
    )
    assert denied.explicit_deny
    assert denied.reason.startswith("Denied: explicit Deny in resource policy statement #0")
    assert [ref.source for ref in denied.matched] == ["resource"]


def test_evaluate_many_shares_compiled_policies() -> None:
    """evaluate_many evaluates tuples and Request objects against one compiled set, layering contexts."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/app}/*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            }
        ],
    }
    parameter = "arn:aws:ssm:us-east-1:111111111111:parameter/web/db-url"
    decisions = evaluate_many(
        [
            ("ssm:GetParameters", parameter),
            ("ssm:GetParameters", parameter, {"aws:RequestedRegion": "eu-west-1"}),
            Request("ssm:GetParameter", parameter),
        ],
        principal=ROLE,
        identity_policies=[policy],
        context={"aws:PrincipalTag/app": "web", "aws:RequestedRegion": "us-east-1"},
    )
    assert [decision.allowed for decision in decisions] == [True, False, False]
    evaluator = Evaluator(principal=ROLE, identity_policies=[policy], context={"aws:PrincipalTag/app": "api"})
    assert not evaluator.evaluate("ssm:GetParameters", parameter, {"aws:RequestedRegion": "us-east-1"}).allowed


def test_context_overrides_derived_keys() -> None:
    """aws:PrincipalArn etc. are derived from the principal unless the context supplies them."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalType": "AssumedRole"}},
            }
        ],
    }
    assert evaluate(
        action="s3:ListBucket", resource="arn:aws:s3:::b", principal=SESSION_ARN, identity_policies=[policy]
    ).allowed
    assert not evaluate(
        action="s3:ListBucket",
        resource="arn:aws:s3:::b",
        principal=ROLE,
        identity_policies=[policy],
        context={"aws:PrincipalType": "User"},
    ).allowed
