"""Read IAM roles and their policies, and check them.

The ``get_*`` readers take a boto3 IAM client; the ``assert_*`` checks take values the readers returned
(or recorded JSON) and raise :class:`AssertionError` with ``<scenario>: <resource>: expected <x>, got <y>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fargate_harness.aws._policy import (
    as_list,
    decode_document,
    fail,
    raise_if_not_found,
    statements,
)
from fargate_harness.iam import allowing_statements

__all__ = [
    "assert_granted",
    "assert_managed_policy_attached",
    "assert_no_statement",
    "assert_not_granted",
    "assert_statement",
    "assert_trusts_only_service",
    "get_attached_policy_arns",
    "get_inline_policies",
    "get_managed_policy_document",
    "get_role",
    "get_user_policies",
]

_NOT_FOUND = ("NoSuchEntity",)
_ASSUME_ROLE = "sts:assumerole"

Documents = Mapping[str, Mapping[str, Any]] | list[dict[str, Any]]


def get_role(iam: Any, name: str) -> dict[str, Any]:
    """Return the ``Role`` dict of role ``name`` with ``AssumeRolePolicyDocument`` decoded to a dict."""
    try:
        response = iam.get_role(RoleName=name)
    except iam.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"IAM role {name!r}")
        raise
    role: dict[str, Any] = dict(response["Role"])
    if "AssumeRolePolicyDocument" in role:
        role["AssumeRolePolicyDocument"] = decode_document(role["AssumeRolePolicyDocument"])
    return role


def get_attached_policy_arns(iam: Any, role_name: str) -> list[str]:
    """Return the ARNs of the managed policies attached to ``role_name``, in the order IAM lists them."""
    arns: list[str] = []
    try:
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            arns.extend(item["PolicyArn"] for item in page.get("AttachedPolicies", []))
    except iam.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"IAM role {role_name!r}")
        raise
    return arns


def get_inline_policies(iam: Any, role_name: str) -> dict[str, dict[str, Any]]:
    """Return the inline policies of ``role_name`` as policy name -> decoded document."""
    names: list[str] = []
    try:
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            names.extend(page.get("PolicyNames", []))
    except iam.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"IAM role {role_name!r}")
        raise
    policies: dict[str, dict[str, Any]] = {}
    for policy_name in names:
        try:
            response = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)
        except iam.exceptions.ClientError as error:
            raise_if_not_found(error, _NOT_FOUND, f"inline policy {policy_name!r} of IAM role {role_name!r}")
            raise
        policies[policy_name] = decode_document(response["PolicyDocument"])
    return policies


def get_managed_policy_document(iam: Any, policy_arn: str) -> dict[str, Any]:
    """Return the decoded document of the default version of managed policy ``policy_arn``."""
    try:
        policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"])
    except iam.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"IAM managed policy {policy_arn!r}")
        raise
    return decode_document(version["PolicyVersion"]["Document"])


def get_user_policies(iam: Any, user_name: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Return (attached managed policy ARNs, inline documents by label) of a user, its groups' included.

    Labels read ``user/<user>/<policy>`` and ``group/<group>/<policy>``; group managed policies are listed
    with the user's own (IAM User Guide, "Policy evaluation": a user's identity policies include its groups').
    """
    arns: list[str] = []
    inline: dict[str, dict[str, Any]] = {}
    try:
        for page in iam.get_paginator("list_attached_user_policies").paginate(UserName=user_name):
            arns.extend(item["PolicyArn"] for item in page.get("AttachedPolicies", []))
        for page in iam.get_paginator("list_user_policies").paginate(UserName=user_name):
            for name in page.get("PolicyNames", []):
                document = iam.get_user_policy(UserName=user_name, PolicyName=name)["PolicyDocument"]
                inline[f"user/{user_name}/{name}"] = decode_document(document)
        groups = [
            g["GroupName"]
            for p in iam.get_paginator("list_groups_for_user").paginate(UserName=user_name)
            for g in p.get("Groups", [])
        ]
        for group in groups:
            for page in iam.get_paginator("list_attached_group_policies").paginate(GroupName=group):
                arns.extend(item["PolicyArn"] for item in page.get("AttachedPolicies", []))
            for page in iam.get_paginator("list_group_policies").paginate(GroupName=group):
                for name in page.get("PolicyNames", []):
                    document = iam.get_group_policy(GroupName=group, PolicyName=name)["PolicyDocument"]
                    inline[f"group/{group}/{name}"] = decode_document(document)
    except iam.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"IAM user {user_name!r}")
        raise
    return list(dict.fromkeys(arns)), inline


def _documents(documents: Documents) -> list[Mapping[str, Any]]:
    """Normalise name -> document mappings, lists of documents and a lone document to a list."""
    if isinstance(documents, Mapping):
        raw_statement = documents.get("Statement")
        if isinstance(raw_statement, list) or (isinstance(raw_statement, Mapping) and "Effect" in raw_statement):
            return [documents]
        return list(documents.values())
    return list(documents)


def _role_label(role_name: str) -> str:
    return f"IAM role {role_name}"


def _difference(actual: set[str], expected: set[str]) -> str:
    missing = sorted(expected - actual)
    extra = sorted(actual - expected)
    parts = []
    if missing:
        parts.append(f"missing {missing}")
    if extra:
        parts.append(f"extra {extra}")
    return ", ".join(parts)


def _principal_summary(statement: Mapping[str, Any]) -> str:
    if "NotPrincipal" in statement:
        return f"NotPrincipal {statement['NotPrincipal']!r}"
    return f"Principal {statement.get('Principal')!r}"


def assert_trusts_only_service(
    role: Mapping[str, Any], service: str = "ecs-tasks.amazonaws.com", *, scenario: str
) -> None:
    """Check the role's trust policy lets only ``service`` assume it, and only with ``sts:AssumeRole``.

    Every statement must be an Allow whose ``Principal`` is exactly ``{"Service": service}`` (a string or
    a one-element list) and whose ``Action`` is exactly ``sts:AssumeRole``. Conditions are allowed.
    """
    name = str(role.get("RoleName") or role.get("Arn") or "<unnamed role>")
    resource = f"{_role_label(name)} trust policy"
    expected = f"only Service {service!r} allowed sts:AssumeRole"
    document = role.get("AssumeRolePolicyDocument")
    if document is None:
        fail(scenario, resource, expected, "no AssumeRolePolicyDocument")
    found = statements(decode_document(document))
    if not found:
        fail(scenario, resource, expected, "no statements")
    problems: list[str] = []
    for index, statement in enumerate(found):
        label = f"statement {statement.get('Sid') or index}"
        effect = statement.get("Effect")
        principal = statement.get("Principal")
        actions = as_list(statement.get("Action"))
        ok_principal = (
            "NotPrincipal" not in statement
            and isinstance(principal, Mapping)
            and set(principal) == {"Service"}
            and as_list(principal["Service"]) == [service]
        )
        ok_action = "NotAction" not in statement and [a.lower() for a in actions] == [_ASSUME_ROLE]
        if effect != "Allow" or not ok_principal or not ok_action:
            action_text = f"NotAction {statement['NotAction']!r}" if "NotAction" in statement else actions
            problems.append(f"{label}: Effect {effect!r}, {_principal_summary(statement)}, Action {action_text!r}")
    if problems:
        fail(scenario, resource, expected, "; ".join(problems))


def assert_managed_policy_attached(role_name: str, attached: list[str], policy_arn: str, *, scenario: str) -> None:
    """Check that managed policy ``policy_arn`` is among the ``attached`` policy ARNs of the role."""
    if policy_arn not in attached:
        fail(scenario, _role_label(role_name), f"managed policy {policy_arn} attached", f"attached {attached}")


def assert_statement(
    role_name: str,
    documents: Documents,
    sid: str,
    *,
    actions: set[str],
    resources: set[str],
    scenario: str,
) -> None:
    """Check the statement with ``sid`` exists once, is Allow and has exactly these actions and resources.

    Actions compare case-insensitively (IAM action names are case-insensitive); resources exactly.
    """
    resource = f"{_role_label(role_name)} statement {sid!r}"
    matching = [s for doc in _documents(documents) for s in statements(doc) if s.get("Sid") == sid]
    if not matching:
        fail(scenario, resource, "the statement to exist", "no statement with that Sid")
    if len(matching) > 1:
        fail(scenario, resource, "exactly one statement with that Sid", f"{len(matching)} statements")
    statement = matching[0]
    if statement.get("Effect") != "Allow":
        fail(scenario, resource, "Effect 'Allow'", f"Effect {statement.get('Effect')!r}")
    for element in ("NotAction", "NotResource"):
        if element in statement:
            fail(scenario, resource, f"no {element}", f"{element} {statement[element]!r}")
    actual_actions = {a.lower() for a in as_list(statement.get("Action"))}
    expected_actions = {a.lower() for a in actions}
    if actual_actions != expected_actions:
        fail(
            scenario,
            resource,
            f"actions {sorted(expected_actions)}",
            f"{sorted(actual_actions)} ({_difference(actual_actions, expected_actions)})",
        )
    actual_resources = set(as_list(statement.get("Resource")))
    if actual_resources != set(resources):
        fail(
            scenario,
            resource,
            f"resources {sorted(resources)}",
            f"{sorted(actual_resources)} ({_difference(actual_resources, set(resources))})",
        )


def assert_no_statement(role_name: str, documents: Documents, sid: str, *, scenario: str) -> None:
    """Check that no statement has ``sid`` (for example when the module was given no secrets)."""
    matching = [s for doc in _documents(documents) for s in statements(doc) if s.get("Sid") == sid]
    if matching:
        fail(scenario, f"{_role_label(role_name)} statement {sid!r}", "no statement with that Sid", matching)


def _sids(found: list[Mapping[str, Any]]) -> list[str]:
    return [str(statement.get("Sid") or "<no Sid>") for statement in found]


def assert_not_granted(role_name: str, documents: Documents, action: str, resource: str, *, scenario: str) -> None:
    """Check that no Allow statement of the role applies to ``action`` on ``resource``.

    Conditions are set aside, so a conditional Allow also fails this check
    (:func:`fargate_harness.iam.allowing_statements`).
    """
    found = [ref.statement for ref in allowing_statements(_documents(documents), action, resource)]
    if found:
        fail(
            scenario,
            _role_label(role_name),
            f"no Allow for {action} on {resource}",
            f"granted by statements {_sids(found)}",
        )


def assert_granted(role_name: str, documents: Documents, action: str, resource: str, *, scenario: str) -> None:
    """Check that some Allow statement of the role applies to ``action`` on ``resource``."""
    if not allowing_statements(_documents(documents), action, resource):
        fail(scenario, _role_label(role_name), f"an Allow for {action} on {resource}", "none")
