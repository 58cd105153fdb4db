"""Golden tests for fargate_harness.iam.evaluate: each case cites the AWS documentation rule it checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from fargate_harness.iam import Decision, evaluate

A = "111111111111"
B = "222222222222"
ROLE = f"arn:aws:iam::{A}:role/exec"
OTHER_ROLE = f"arn:aws:iam::{A}:role/other"
SESSION = f"arn:aws:sts::{A}:assumed-role/exec/task-0123"
USER = f"arn:aws:iam::{A}:user/alice"
ROLE_B = f"arn:aws:iam::{B}:role/exec"
SECRET = f"arn:aws:secretsmanager:us-east-1:{A}:secret:db-AbCdEf"
SECRET_B = f"arn:aws:secretsmanager:us-east-1:{B}:secret:db-AbCdEf"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_B = f"arn:aws:kms:us-east-1:{B}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPO_B = f"arn:aws:ecr:us-east-1:{B}:repository/app"
BUCKET = "arn:aws:s3:::assets"
GET = "secretsmanager:GetSecretValue"
DECRYPT = "kms:Decrypt"


def stmt(
    effect: str = "Allow", action: str | list[str] | None = GET, resource: Any = "*", **extra: Any
) -> dict[str, Any]:
    """A statement; pass ``resource=None`` to omit Resource, ``action=None`` to omit Action."""
    out: dict[str, Any] = {"Effect": effect}
    if action is not None:
        out["Action"] = action
    if resource is not None:
        out["Resource"] = resource
    out.update(extra)
    return out


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    """A policy document holding ``statements``."""
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out["Version"] = version
    return out


def grant(principal: Any, action: str | list[str] = GET, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    """A resource-policy statement naming ``principal`` (a string becomes {"AWS": principal})."""
    element = principal if isinstance(principal, dict) or principal == "*" else {"AWS": principal}
    key = "NotPrincipal" if extra.pop("negated", False) else "Principal"
    return stmt(effect, action, extra.pop("resource", "*"), **{key: element}, **extra)


def cond(operator: str, key: str, values: Any, action: str = GET, effect: str = "Allow") -> dict[str, Any]:
    """An identity policy allowing (or denying) ``action`` under one condition."""
    return doc(stmt(effect, action, Condition={operator: {key: values}}))


ALLOW_GET = doc(stmt(Sid="ReadSecrets"))
ALLOW_ALL = doc(stmt(action="*"))
KMS_ROOT = grant(f"arn:aws:iam::{A}:root", "kms:*", Sid="EnableIAMPolicies")
ALLOW_DECRYPT = doc(stmt(action=DECRYPT))
ALIAS = f"arn:aws:kms:us-east-1:{A}:alias/app"
KEY_CN = f"arn:aws-cn:kms:cn-north-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@dataclass(frozen=True)
class Case:
    """One golden case: request keyword arguments, expected outcome, and the documentation rule it checks."""

    id: str
    rule: str
    allowed: bool
    kwargs: dict[str, Any] = field(default_factory=dict)


def case(case_id: str, rule: str, allowed: bool, **kwargs: Any) -> Case:
    """Build a case; request defaults: GET on SECRET by ROLE."""
    return Case(case_id, rule, allowed, kwargs)


CASES = [
    # --- Policy evaluation logic -------------------------------------------------------------------------
    case("default-deny", "IAM User Guide, Policy evaluation logic: requests are implicitly denied by default", False),
    case(
        "identity-allow-same-account",
        "IAM, Single-account evaluation: an identity-based Allow suffices",
        True,
        identity_policies=[ALLOW_GET],
    ),
    case(
        "identity-deny-overrides",
        "IAM, Policy evaluation logic: an explicit deny overrides any allow",
        False,
        identity_policies=[ALLOW_GET, doc(stmt("Deny", "secretsmanager:*"))],
    ),
    case(
        "resource-deny-overrides",
        "IAM, Policy evaluation logic: an explicit deny in a resource policy wins",
        False,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant("*", effect="Deny")),
    ),
    case(
        "boundary-deny-overrides",
        "IAM, Permissions boundaries: an explicit deny in the boundary wins",
        False,
        identity_policies=[ALLOW_GET],
        boundary=doc(stmt(action="*"), stmt("Deny", GET)),
    ),
    case(
        "resource-grant-role-no-identity",
        "IAM, Single-account evaluation: a resource policy naming the role grants access without an identity policy",
        True,
        resource_policy=doc(grant(ROLE)),
    ),
    case(
        "resource-grant-root-only-same-account",
        "IAM, Principal element: naming the account root delegates to identity policies, it does not grant the role",
        False,
        resource_policy=doc(grant(f"arn:aws:iam::{A}:root")),
    ),
    case(
        "resource-grant-account-id-only",
        "IAM, Principal element: an account id is the same as its root ARN",
        False,
        resource_policy=doc(grant(A)),
    ),
    case(
        "resource-grant-account-plus-identity",
        "IAM, Single-account evaluation: account delegation + identity Allow",
        True,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant(A)),
    ),
    case(
        "resource-grant-wildcard-same-account",
        'IAM, Principal element: "*" names everyone',
        True,
        resource_policy=doc(grant("*")),
    ),
    case(
        "cross-account-identity-only",
        "IAM, Cross-account policy evaluation: the resource policy must also allow",
        False,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant(OTHER_ROLE)),
        resource=SECRET_B,
        resource_owner=B,
    ),
    case(
        "cross-account-resource-only",
        "IAM, Cross-account policy evaluation: the caller's identity policy must also allow",
        False,
        resource_policy=doc(grant(ROLE)),
        resource=SECRET_B,
        resource_owner=B,
    ),
    case(
        "cross-account-both-root",
        "IAM, Cross-account policy evaluation: identity Allow + resource grant to the account",
        True,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant(A)),
        resource=SECRET_B,
        resource_owner=B,
    ),
    case(
        "cross-account-both-role",
        "IAM, Cross-account policy evaluation: identity Allow + resource grant to the role",
        True,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant(ROLE)),
        resource=SECRET_B,
        resource_owner=B,
    ),
    case(
        "cross-account-no-resource-policy",
        "IAM, Cross-account policy evaluation: without a resource policy access is denied",
        False,
        identity_policies=[ALLOW_ALL],
        resource=SECRET_B,
        resource_owner=B,
    ),
    case(
        "cross-account-wildcard-still-needs-identity",
        'IAM, Cross-account policy evaluation: {"AWS": "*"} does not replace the caller\'s identity policy',
        False,
        resource_policy=doc(grant("*")),
        resource=SECRET_B,
        resource_owner=B,
    ),
    case(
        "cross-account-boundary-limits",
        "IAM, Permissions boundaries: the boundary limits the identity side of cross-account access",
        False,
        identity_policies=[ALLOW_GET],
        boundary=doc(stmt(action="s3:*")),
        resource_policy=doc(grant(A)),
        resource=SECRET_B,
        resource_owner=B,
    ),
    # --- Permissions boundaries --------------------------------------------------------------------------
    case(
        "boundary-limits-identity",
        "IAM, Permissions boundaries: effective permissions are the intersection of identity policy and boundary",
        False,
        identity_policies=[ALLOW_GET],
        boundary=doc(stmt(action="s3:*")),
    ),
    case(
        "boundary-allows",
        "IAM, Permissions boundaries: allowed when both identity policy and boundary allow",
        True,
        identity_policies=[ALLOW_GET],
        boundary=doc(stmt(action="secretsmanager:*")),
    ),
    case(
        "boundary-limits-resource-grant-to-role-arn",
        "IAM, Permissions boundaries (evaluating effective "
        "permissions): an implicit deny in a boundary limits a resource-policy grant to the role ARN",
        False,
        resource_policy=doc(grant(ROLE)),
        boundary=doc(stmt(action="s3:*")),
    ),
    case(
        "boundary-not-limit-session-arn-grant",
        "IAM, Permissions boundaries: a resource-policy grant to the "
        "assumed-role session ARN is not limited by the boundary",
        True,
        principal=SESSION,
        resource_policy=doc(grant(SESSION)),
        boundary=doc(stmt(action="s3:*")),
    ),
    case(
        "boundary-not-limit-user-arn-grant",
        "IAM, Permissions boundaries: a same-account resource-policy grant "
        "to an IAM user ARN is not limited by the boundary",
        True,
        principal=USER,
        resource_policy=doc(grant(USER)),
        boundary=doc(stmt(action="s3:*")),
    ),
    # --- Action / NotAction / Resource / NotResource -----------------------------------------------------
    case(
        "notaction-allows-other-actions",
        "IAM JSON reference, NotAction: Allow with NotAction allows every action not listed",
        True,
        identity_policies=[doc(stmt(action=None, NotAction="iam:*"))],
    ),
    case(
        "notaction-excludes-listed",
        "IAM JSON reference, NotAction: the listed actions are not allowed",
        False,
        identity_policies=[doc(stmt(action=None, NotAction="secretsmanager:Get*"))],
    ),
    case(
        "notresource-excludes-listed",
        "IAM JSON reference, NotResource: the listed resources are excluded",
        False,
        identity_policies=[doc(stmt(resource=None, NotResource=SECRET))],
    ),
    case(
        "notresource-allows-others",
        "IAM JSON reference, NotResource: every other resource matches",
        True,
        identity_policies=[doc(stmt(resource=None, NotResource=f"arn:aws:secretsmanager:*:{A}:secret:admin-*"))],
    ),
    case(
        "action-case-insensitive",
        "IAM JSON reference, Action: action names and prefixes are case-insensitive",
        True,
        identity_policies=[doc(stmt(action="SecretsManager:getsecretVALUE"))],
    ),
    case(
        "action-wildcard",
        "IAM JSON reference, Action: * matches any characters in the action name",
        True,
        identity_policies=[doc(stmt(action="secretsmanager:Get*"))],
    ),
    case(
        "resource-case-sensitive",
        "IAM JSON reference, Resource: ARNs are case-sensitive",
        False,
        identity_policies=[doc(stmt(resource=SECRET.upper()))],
    ),
    case(
        "resource-question-mark",
        "IAM JSON reference, Resource: ? matches exactly one character",
        True,
        identity_policies=[doc(stmt(resource=f"arn:aws:secretsmanager:us-east-1:{A}:secret:db-??????"))],
    ),
    case(
        "resource-question-mark-too-short",
        "IAM JSON reference, Resource: ? matches one character, not two",
        False,
        identity_policies=[doc(stmt(resource=f"arn:aws:secretsmanager:us-east-1:{A}:secret:db-?????"))],
    ),
    case(
        "resource-wildcard-spans-colons",
        "IAM JSON reference, Resource wildcards: a * ending a segment expands across colon boundaries",
        True,
        identity_policies=[doc(stmt(resource="arn:aws:secretsmanager:*"))],
    ),
    case(
        "resource-wildcard-spans-slashes",
        "IAM JSON reference, Resource wildcards: * also covers / separators",
        True,
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/*"))],
        action="s3:GetObject",
        resource=f"{BUCKET}/team/a/report.csv",
    ),
    case(
        "resource-wildcard-middle-segments",
        "IAM JSON reference, Resource wildcards: * per segment",
        True,
        identity_policies=[doc(stmt(resource="arn:aws:secretsmanager:*:*:secret:db-*"))],
    ),
    case(
        "statement-object-not-list",
        "IAM JSON reference, Statement: a single statement object is allowed",
        True,
        identity_policies=[{"Version": "2012-10-17", "Statement": stmt()}],
    ),
    case(
        "policy-as-json-text",
        "IAM JSON reference, grammar: a policy is a JSON document",
        True,
        identity_policies=[json.dumps(ALLOW_GET)],
        resource_policy=json.dumps(doc(grant(A))),
    ),
    # --- Principal / NotPrincipal ------------------------------------------------------------------------
    case(
        "session-matches-role-principal",
        "IAM, Principal element (role sessions): naming the role ARN covers its assumed-role sessions",
        True,
        principal=SESSION,
        resource_policy=doc(grant(ROLE)),
    ),
    case(
        "service-principal-not-role",
        "IAM, Principal element (service principals): a Service principal names the service, not a role",
        False,
        resource_policy=doc(grant({"Service": "ecs-tasks.amazonaws.com"})),
    ),
    case(
        "service-caller-granted",
        "IAM, Principal element (service principals): a resource policy can grant a service",
        True,
        principal="logs.us-east-1.amazonaws.com",
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(grant({"Service": "logs.us-east-1.amazonaws.com"}, DECRYPT)),
        resource_policy_kind="kms",
    ),
    case(
        "other-role-not-matched",
        "IAM, Principal element: a role ARN names only that role",
        False,
        resource_policy=doc(grant(OTHER_ROLE)),
    ),
    case(
        "notprincipal-deny-excludes-listed",
        "IAM, NotPrincipal: Deny with NotPrincipal spares the listed role and account",
        True,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant([ROLE, f"arn:aws:iam::{A}:root"], effect="Deny", negated=True)),
    ),
    case(
        "notprincipal-deny-hits-others",
        "IAM, NotPrincipal: Deny with NotPrincipal denies everyone not listed",
        False,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant([OTHER_ROLE, f"arn:aws:iam::{A}:root"], effect="Deny", negated=True)),
    ),
    case(
        "notprincipal-deny-session-needs-all-arns",
        "IAM, NotPrincipal: a session is spared only when the session, role and account are all listed",
        False,
        principal=SESSION,
        identity_policies=[ALLOW_GET],
        resource_policy=doc(grant([ROLE, f"arn:aws:iam::{A}:root"], effect="Deny", negated=True)),
    ),
    case(
        "notprincipal-deny-with-boundary",
        "IAM, Permissions boundaries (Important): Deny with NotPrincipal always denies a principal that has a boundary",
        False,
        identity_policies=[ALLOW_GET],
        boundary=ALLOW_ALL,
        resource_policy=doc(grant([ROLE, f"arn:aws:iam::{A}:root"], effect="Deny", negated=True)),
    ),
    case(
        "root-caller-same-account",
        "IAM, Policy evaluation logic: the account root user has full access",
        True,
        principal=A,
    ),
    # --- Condition operators -----------------------------------------------------------------------------
    case(
        "string-equals",
        "IAM JSON reference, Condition operators: StringEquals exact match",
        True,
        identity_policies=[cond("StringEquals", "aws:PrincipalTag/team", "payments")],
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "string-equals-case-sensitive-value",
        "IAM JSON reference, Condition operators: StringEquals is case-sensitive",
        False,
        identity_policies=[cond("StringEquals", "aws:PrincipalTag/team", "Payments")],
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "condition-key-case-insensitive",
        "IAM JSON reference, Condition element: condition key names are case-insensitive",
        True,
        identity_policies=[cond("StringEquals", "AWS:PRINCIPALTAG/Team", "payments")],
        context={"aws:principaltag/team": "payments"},
    ),
    case(
        "string-not-equals-nor",
        "IAM, Conditions with multiple values: a negated operator NORs its values",
        False,
        identity_policies=[cond("StringNotEquals", "aws:PrincipalTag/team", ["ops", "payments"])],
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "string-not-equals-none-match",
        "IAM, Conditions with multiple values: NOR is true when no value matches",
        True,
        identity_policies=[cond("StringNotEquals", "aws:PrincipalTag/team", ["ops", "audit"])],
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "string-equals-ignore-case",
        "IAM JSON reference, Condition operators: StringEqualsIgnoreCase",
        True,
        identity_policies=[cond("StringEqualsIgnoreCase", "aws:PrincipalTag/team", "PAYMENTS")],
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "string-not-equals-ignore-case",
        "IAM JSON reference, Condition operators: StringNotEqualsIgnoreCase",
        False,
        identity_policies=[cond("StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", "PAYMENTS")],
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "string-like",
        "IAM JSON reference, Condition operators: StringLike wildcards",
        True,
        identity_policies=[cond("StringLike", "kms:ViaService", "secretsmanager.*.amazonaws.com", DECRYPT)],
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(KMS_ROOT),
        resource_policy_kind="kms",
        context={"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"},
    ),
    case(
        "string-not-like",
        "IAM JSON reference, Condition operators: StringNotLike",
        False,
        identity_policies=[cond("StringNotLike", "aws:PrincipalTag/team", "pay*")],
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "missing-key-positive-false",
        "IAM JSON reference, Condition operators: a missing key makes the condition false",
        False,
        identity_policies=[cond("StringEquals", "aws:PrincipalTag/team", "payments")],
    ),
    case(
        "missing-key-negated-true",
        "IAM JSON reference, Condition operators: for a negated operator such as "
        "StringNotLike a missing key makes the condition true",
        True,
        identity_policies=[cond("StringNotEquals", "aws:PrincipalTag/team", "ops")],
    ),
    case(
        "if-exists-missing-key",
        "IAM JSON reference, ...IfExists: a missing key makes the condition true",
        True,
        identity_policies=[cond("StringEqualsIfExists", "aws:PrincipalTag/team", "payments")],
    ),
    case(
        "if-exists-present-mismatch",
        "IAM JSON reference, ...IfExists: a present key is compared normally",
        False,
        identity_policies=[cond("StringEqualsIfExists", "aws:PrincipalTag/team", "payments")],
        context={"aws:PrincipalTag/team": "ops"},
    ),
    case(
        "null-true-absent",
        "IAM JSON reference, Null: true means the key is absent",
        True,
        identity_policies=[cond("Null", "aws:PrincipalTag/team", "true")],
    ),
    case(
        "null-false-absent",
        "IAM JSON reference, Null: false means the key must be present",
        False,
        identity_policies=[cond("Null", "aws:PrincipalTag/team", "false")],
    ),
    case(
        "for-any-value-match",
        "IAM, Set operators: ForAnyValue holds when one request value matches",
        True,
        identity_policies=[cond("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"])],
        context={"aws:TagKeys": ["cost", "team"]},
    ),
    case(
        "for-any-value-missing",
        "IAM, Set operators: ForAnyValue with a missing key is false",
        False,
        identity_policies=[cond("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"])],
    ),
    case(
        "for-all-values-subset",
        "IAM, Set operators: ForAllValues holds when every request value matches",
        True,
        identity_policies=[cond("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"])],
        context={"aws:TagKeys": ["team"]},
    ),
    case(
        "for-all-values-not-subset",
        "IAM, Set operators: ForAllValues fails when one request value is unlisted",
        False,
        identity_policies=[cond("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"])],
        context={"aws:TagKeys": ["team", "cost"]},
    ),
    case(
        "for-all-values-missing",
        "IAM, Set operators: ForAllValues with a missing or empty key is true",
        True,
        identity_policies=[cond("ForAllValues:StringEquals", "aws:TagKeys", ["env"])],
        context={"aws:TagKeys": []},
    ),
    case(
        "operators-anded",
        "IAM, Conditions with multiple keys: several operators are ANDed",
        False,
        identity_policies=[
            doc(
                stmt(
                    Condition={
                        "StringEquals": {"aws:PrincipalTag/team": "payments"},
                        "Bool": {"aws:SecureTransport": "true"},
                    }
                )
            )
        ],
        context={"aws:PrincipalTag/team": "payments", "aws:SecureTransport": False},
    ),
    case(
        "keys-anded",
        "IAM, Conditions with multiple keys: several keys under one operator are ANDed",
        True,
        identity_policies=[
            doc(
                stmt(
                    Condition={
                        "StringEquals": {"aws:PrincipalTag/team": "payments", "aws:RequestedRegion": "us-east-1"}
                    }
                )
            )
        ],
        context={"aws:PrincipalTag/team": "payments", "aws:RequestedRegion": "us-east-1"},
    ),
    case(
        "arn-like-principal-arn",
        "IAM JSON reference, ARN operators: ArnLike with wildcards",
        True,
        resource_policy=doc(grant("*", Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/ex*"}})),
    ),
    case(
        "arn-not-equals",
        "IAM JSON reference, ARN operators: ArnNotEquals",
        False,
        resource_policy=doc(grant("*", Condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}})),
    ),
    case(
        "arn-like-per-component",
        "IAM JSON reference, ARN operators: each colon-delimited component is matched separately",
        False,
        identity_policies=[cond("ArnLike", "aws:SourceArn", "arn:aws:ecs:*:task/*")],
        context={"aws:SourceArn": f"arn:aws:ecs:us-east-1:{A}:task/c/1"},
    ),
    case(
        "numeric-less-than",
        "IAM JSON reference, Numeric operators: NumericLessThan",
        True,
        identity_policies=[cond("NumericLessThan", "s3:max-keys", "100", "s3:ListBucket")],
        action="s3:ListBucket",
        resource=BUCKET,
        context={"s3:max-keys": 10},
    ),
    case(
        "numeric-greater-than-equals-fails",
        "IAM JSON reference, Numeric operators: NumericGreaterThanEquals",
        False,
        identity_policies=[cond("NumericGreaterThanEquals", "s3:max-keys", 100, "s3:ListBucket")],
        action="s3:ListBucket",
        resource=BUCKET,
        context={"s3:max-keys": "99"},
    ),
    case(
        "numeric-not-equals",
        "IAM JSON reference, Numeric operators: NumericNotEquals",
        True,
        identity_policies=[cond("NumericNotEquals", "s3:max-keys", ["5", "6"], "s3:ListBucket")],
        action="s3:ListBucket",
        resource=BUCKET,
        context={"s3:max-keys": "7"},
    ),
    case(
        "date-less-than",
        "IAM JSON reference, Date operators: DateLessThan with ISO 8601",
        True,
        identity_policies=[cond("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z")],
        context={"aws:CurrentTime": "2026-05-01T12:00:00Z"},
    ),
    case(
        "date-greater-than-epoch",
        "IAM JSON reference, Date operators: epoch values are accepted",
        False,
        identity_policies=[cond("DateGreaterThan", "aws:EpochTime", "1893456000")],
        context={"aws:EpochTime": 1777636800},
    ),
    case(
        "date-not-equals",
        "IAM JSON reference, Date operators: DateNotEquals",
        True,
        identity_policies=[cond("DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z")],
        context={"aws:CurrentTime": "2026-05-01T12:00:00+00:00"},
    ),
    case(
        "bool-secure-transport-deny",
        "IAM JSON reference, Boolean operator: Bool (deny insecure transport)",
        False,
        identity_policies=[ALLOW_GET, cond("Bool", "aws:SecureTransport", "false", "*", "Deny")],
        context={"aws:SecureTransport": False},
    ),
    case(
        "bool-secure-transport-ok",
        "IAM JSON reference, Boolean operator: Bool does not match the other value",
        True,
        identity_policies=[ALLOW_GET, cond("Bool", "aws:SecureTransport", "false", "*", "Deny")],
        context={"aws:SecureTransport": "true"},
    ),
    case(
        "ip-address-cidr",
        "IAM JSON reference, IP address operators: IpAddress with CIDR",
        True,
        identity_policies=[cond("IpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:db8::/32"])],
        context={"aws:SourceIp": "203.0.113.77"},
    ),
    case(
        "ip-address-outside",
        "IAM JSON reference, IP address operators: IpAddress outside the range",
        False,
        identity_policies=[cond("IpAddress", "aws:SourceIp", "203.0.113.0/24")],
        context={"aws:SourceIp": "10.0.0.1"},
    ),
    case(
        "not-ip-address-ipv6",
        "IAM JSON reference, IP address operators: NotIpAddress, IPv6",
        False,
        identity_policies=[cond("NotIpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:db8::/32"])],
        context={"aws:SourceIp": "2001:db8::1"},
    ),
    # --- Policy variables --------------------------------------------------------------------------------
    case(
        "variable-username",
        "IAM, Policy variables: ${aws:username} is the user's friendly name",
        True,
        principal=USER,
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"))],
        action="s3:GetObject",
        resource=f"{BUCKET}/home/alice/notes.txt",
    ),
    case(
        "variable-username-other-folder",
        "IAM, Policy variables: the substituted value must match",
        False,
        principal=USER,
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"))],
        action="s3:GetObject",
        resource=f"{BUCKET}/home/bob/notes.txt",
    ),
    case(
        "variable-principal-tag",
        "IAM, Policy variables: tags as policy variables",
        True,
        identity_policies=[doc(stmt(resource="arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*"))],
        resource=f"arn:aws:secretsmanager:us-east-1:{A}:secret:payments-AbCdEf",
        context={"aws:PrincipalTag/team": "payments"},
    ),
    case(
        "variable-missing-key",
        "IAM, Policy variables: an unresolvable variable makes the element not match",
        False,
        principal=ROLE,
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"))],
        action="s3:GetObject",
        resource=f"{BUCKET}/home/exec/notes.txt",
    ),
    case(
        "variable-default-value",
        "IAM, Policy variables: ${key, 'default'} is used when the key is missing",
        True,
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/${{aws:PrincipalTag/team, 'shared'}}/*"))],
        action="s3:GetObject",
        resource=f"{BUCKET}/shared/logo.png",
    ),
    case(
        "variable-escape-star-literal",
        "IAM, Policy variables: ${*} is a literal asterisk, not a wildcard",
        False,
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/${{*}}"))],
        action="s3:GetObject",
        resource=f"{BUCKET}/anything",
    ),
    case(
        "variable-escape-star-matches-star",
        "IAM, Policy variables: ${*} matches a literal *",
        True,
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/${{*}}"))],
        action="s3:GetObject",
        resource=f"{BUCKET}/*",
    ),
    case(
        "variable-in-condition",
        "IAM, Policy variables: variables in string condition values",
        True,
        identity_policies=[cond("StringEquals", "aws:ResourceAccount", "${aws:PrincipalAccount}")],
    ),
    case(
        "variable-version-2008-literal",
        "IAM, Policy variables: with Version 2008-10-17 ${...} is literal text",
        True,
        principal=USER,
        action="s3:GetObject",
        resource=f"{BUCKET}/home/${{aws:username}}/a",
        identity_policies=[
            doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"), version="2008-10-17")
        ],
    ),
    case(
        "variable-no-version-literal",
        "IAM, Policy variables: without Version variables are literal strings",
        False,
        principal=USER,
        action="s3:GetObject",
        resource=f"{BUCKET}/home/alice/a",
        identity_policies=[doc(stmt("Allow", "s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"), version=None)],
    ),
    # --- Policy variables only in the resource part of a Resource ARN -------------------------------------
    # IAM User Guide, "IAM policy elements: Variables and tags", section "Where you can use policy variables":
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    # A variable in Resource/NotResource is substituted only after the fifth colon; before it (region, account,
    # service, partition) the text is literal. Condition values substitute anywhere.
    case(
        "variable-in-account-part-literal",
        "IAM, Variables and tags (Where you can use policy variables): ${aws:PrincipalAccount} in the account part "
        "of a Resource ARN is not substituted",
        False,
        identity_policies=[doc(stmt(resource="arn:aws:secretsmanager:us-east-1:${aws:PrincipalAccount}:secret:db-*"))],
    ),
    case(
        "variable-in-region-part-literal",
        "IAM, Variables and tags (Where you can use policy variables): ${aws:RequestedRegion} in the region part "
        "is not substituted, even when the resource part's variable resolves",
        False,
        identity_policies=[
            doc(stmt(resource=f"arn:aws:secretsmanager:${{aws:RequestedRegion}}:{A}:secret:${{aws:PrincipalTag/t}}-*"))
        ],
        context={"aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/t": "db"},
    ),
    case(
        "variable-in-resource-part-substituted",
        "IAM, Variables and tags (Where you can use policy variables): after the fifth colon the variable is "
        "substituted",
        True,
        identity_policies=[
            doc(stmt(resource=f"arn:aws:secretsmanager:us-east-1:{A}:secret:${{aws:PrincipalTag/t}}-*"))
        ],
        context={"aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/t": "db"},
    ),
    case(
        "variable-in-account-part-notresource-excludes-nothing",
        "IAM, Variables and tags (Where you can use policy variables): a NotResource whose account part holds a "
        "variable excludes nothing real, so the Allow covers the secret",
        True,
        identity_policies=[
            doc(stmt(resource=None, NotResource="arn:aws:secretsmanager:*:${aws:PrincipalAccount}:secret:*"))
        ],
    ),
    case(
        "variable-in-account-part-deny-does-not-apply",
        "IAM, Variables and tags (Where you can use policy variables): a Deny whose Resource account part holds "
        "a variable does not match the account's secrets",
        True,
        identity_policies=[
            ALLOW_GET,
            doc(stmt("Deny", "secretsmanager:*", "arn:aws:secretsmanager:*:${aws:PrincipalAccount}:secret:*")),
        ],
    ),
    case(
        "variable-in-condition-account-part-substituted",
        "IAM, Variables and tags: in a Condition an ARN operator substitutes a variable in any component",
        True,
        identity_policies=[cond("ArnLike", "aws:SourceArn", "arn:aws:ecs:*:${aws:PrincipalAccount}:task/*")],
        context={"aws:SourceArn": f"arn:aws:ecs:us-east-1:{A}:task/c/1"},
    ),
    # --- KMS key policies --------------------------------------------------------------------------------
    case(
        "kms-direct-grant",
        "KMS Developer Guide, Key policies: a key policy naming the role grants access by itself",
        True,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(grant(ROLE, DECRYPT)),
        resource_policy_kind="kms",
    ),
    case(
        "kms-root-delegation-with-iam",
        "KMS Developer Guide, Default key policy: allowing the account root enables IAM policies",
        True,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(KMS_ROOT),
        identity_policies=[ALLOW_DECRYPT],
        resource_policy_kind="kms",
    ),
    case(
        "kms-root-delegation-without-iam",
        "KMS Developer Guide, Default key policy: root delegation alone grants the role nothing",
        False,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(KMS_ROOT),
        resource_policy_kind="kms",
    ),
    case(
        "kms-no-delegation",
        "KMS Developer Guide, Key policies: without the root statement IAM policies cannot grant access",
        False,
        action=DECRYPT,
        resource=KEY,
        identity_policies=[ALLOW_DECRYPT],
        resource_policy=doc(grant(OTHER_ROLE, "kms:*")),
        resource_policy_kind="kms",
    ),
    case(
        "kms-delegation-other-action",
        "KMS Developer Guide, Key policies: delegation covers only the actions the root statement lists",
        False,
        action=DECRYPT,
        resource=KEY,
        identity_policies=[ALLOW_DECRYPT],
        resource_policy=doc(grant(A, "kms:Describe*")),
        resource_policy_kind="kms",
    ),
    case(
        "kms-no-key-policy",
        "KMS Developer Guide, Key policies: every key needs a key policy; IAM alone is not enough",
        False,
        action=DECRYPT,
        resource=KEY,
        identity_policies=[ALLOW_DECRYPT],
        resource_policy_kind="kms",
    ),
    case(
        "kms-via-service-condition",
        "KMS Developer Guide, kms:ViaService condition key",
        False,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(
            grant(
                ROLE, DECRYPT, Condition={"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
            )
        ),
        resource_policy_kind="kms",
        context={"kms:ViaService": "ssm.us-east-1.amazonaws.com"},
    ),
    case(
        "kms-cross-account-both",
        "KMS Developer Guide, Cross-account access: key policy allows the external account and its IAM policy allows",
        True,
        action=DECRYPT,
        resource=KEY_B,
        resource_owner=B,
        resource_policy=doc(grant(A, DECRYPT)),
        identity_policies=[ALLOW_DECRYPT],
        resource_policy_kind="kms",
    ),
    case(
        "kms-cross-account-no-iam",
        "KMS Developer Guide, Cross-account access: the external account's IAM policy must also allow",
        False,
        action=DECRYPT,
        resource=KEY_B,
        resource_owner=B,
        resource_policy=doc(grant(ROLE, DECRYPT)),
        resource_policy_kind="kms",
    ),
    case(
        "kms-cross-account-key-policy-silent",
        "KMS Developer Guide, Cross-account access: the key policy must allow the external account",
        False,
        action=DECRYPT,
        resource=KEY_B,
        resource_owner=B,
        resource_policy=doc(grant(f"arn:aws:iam::{B}:root", "kms:*")),
        identity_policies=[ALLOW_DECRYPT],
        resource_policy_kind="kms",
    ),
    # --- KMS rules inferred from a key ARN (no resource_policy_kind given) --------------------------------
    # AWS KMS Developer Guide, "Key policies in AWS KMS":
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    # "Unless the key policy explicitly allows it, you cannot use IAM policies to allow access to a KMS key";
    # an IAM policy can still deny. Same rules as resource_policy_kind="kms" above, without saying so.
    case(
        "kms-inferred-no-key-policy",
        "KMS Developer Guide, Key policies in AWS KMS: a key ARN means key-policy rules; IAM alone is not enough",
        False,
        action=DECRYPT,
        resource=KEY,
        identity_policies=[ALLOW_DECRYPT],
    ),
    case(
        "kms-inferred-root-delegation-with-iam",
        "KMS Developer Guide, Key policies in AWS KMS: a root statement enables IAM policies",
        True,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(KMS_ROOT),
        identity_policies=[ALLOW_DECRYPT],
    ),
    case(
        "kms-inferred-account-id-delegation",
        "KMS Developer Guide, Key policies in AWS KMS: the account id as principal delegates like the root ARN",
        True,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(grant(A, "kms:*")),
        identity_policies=[ALLOW_DECRYPT],
    ),
    case(
        "kms-inferred-no-delegation",
        "KMS Developer Guide, Key policies in AWS KMS: a key policy that names neither the account nor the role "
        "makes the IAM allow ineffective",
        False,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(grant(OTHER_ROLE, "kms:*")),
        identity_policies=[ALLOW_DECRYPT],
    ),
    case(
        "kms-inferred-root-delegation-without-iam",
        "KMS Developer Guide, Key policies in AWS KMS: root delegation alone grants the role nothing",
        False,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(KMS_ROOT),
    ),
    case(
        "kms-inferred-direct-grant",
        "KMS Developer Guide, Key policies in AWS KMS: a key policy naming the role grants access by itself",
        True,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(grant(ROLE, DECRYPT)),
    ),
    case(
        "kms-inferred-iam-deny-wins",
        "KMS Developer Guide, Key policies in AWS KMS: an IAM policy can deny without the key policy's leave "
        "(and IAM, Policy evaluation logic: an explicit deny overrides any allow)",
        False,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(grant(ROLE, DECRYPT)),
        identity_policies=[doc(stmt("Deny", "kms:*"))],
    ),
    case(
        "kms-inferred-other-partition",
        "KMS Developer Guide, Key policies in AWS KMS: every partition's key ARN gets key-policy rules",
        False,
        action=DECRYPT,
        resource=KEY_CN,
        identity_policies=[ALLOW_DECRYPT],
    ),
    case(
        "kms-inferred-cross-account-both",
        "KMS Developer Guide, Key policies in AWS KMS (cross-account): the key policy allows the external account "
        "and its IAM policy allows",
        True,
        action=DECRYPT,
        resource=KEY_B,
        resource_owner=B,
        resource_policy=doc(grant(A, DECRYPT)),
        identity_policies=[ALLOW_DECRYPT],
    ),
    case(
        "kms-inferred-cross-account-key-policy-silent",
        "KMS Developer Guide, Key policies in AWS KMS (cross-account): the key policy must allow the external account",
        False,
        action=DECRYPT,
        resource=KEY_B,
        resource_owner=B,
        resource_policy=doc(grant(f"arn:aws:iam::{B}:root", "kms:*")),
        identity_policies=[ALLOW_DECRYPT],
    ),
    # Aliases are not keys. AWS KMS Developer Guide, "Specifying KMS keys in IAM policy statements":
    # https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
    # and "Controlling access to aliases": https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
    case(
        "kms-alias-arn-iam-rules",
        "KMS Developer Guide, Controlling access to aliases: an alias ARN is the resource of alias operations, "
        "which IAM policies control (no key policy involved)",
        True,
        action="kms:DeleteAlias",
        resource=ALIAS,
        identity_policies=[doc(stmt(action="kms:DeleteAlias", resource=f"arn:aws:kms:us-east-1:{A}:alias/*"))],
    ),
    case(
        "kms-alias-arn-does-not-name-the-key",
        "KMS Developer Guide, Specifying KMS keys in IAM policy statements: an alias ARN in Resource does not "
        "identify the key",
        False,
        action=DECRYPT,
        resource=KEY,
        resource_policy=doc(KMS_ROOT),
        identity_policies=[doc(stmt(action=DECRYPT, resource=ALIAS))],
    ),
    # --- ECR -----------------------------------------------------------------------------------------------
    case(
        "ecr-cross-account-pull",
        "ECR User Guide, Repository policies: cross-account pull needs the repository "
        "policy (no Resource element) and an identity policy",
        True,
        action="ecr:BatchGetImage",
        resource=REPO_B,
        resource_owner=B,
        identity_policies=[doc(stmt("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]))],
        resource_policy=doc(
            stmt("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], None, Principal={"AWS": ROLE})
        ),
    ),
    case(
        "ecr-cross-account-pull-no-repo-policy",
        "ECR User Guide: without a repository policy another account cannot pull",
        False,
        action="ecr:BatchGetImage",
        resource=REPO_B,
        resource_owner=B,
        identity_policies=[ALLOW_ALL],
    ),
]


@pytest.mark.parametrize("golden", CASES, ids=lambda golden: golden.id)
def test_golden(golden: Case) -> None:
    """Each golden case decides as the AWS documentation rule says."""
    kwargs = {"action": GET, "resource": SECRET, "principal": ROLE, **golden.kwargs}
    decision = evaluate(**kwargs)
    assert isinstance(decision, Decision)
    assert decision.allowed is golden.allowed, f"{golden.rule}\n{decision.reason}"
    assert decision.reason


def test_case_ids_unique_and_enough() -> None:
    """The golden table has unique ids and at least 45 cases."""
    ids = [golden.id for golden in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 45
