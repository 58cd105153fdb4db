"""Sweep finders and deleters for IAM: roles and customer managed policies.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fargate_harness.cleanup.finders.common import (
    Found,
    key_value,
    pages,
    read_tags,
)


def find_roles(iam: Any) -> Iterator[Found]:
    """Roles other than service-linked ones, with their tags (ListRoles does not return tags)."""
    for page in pages(iam, "list_roles"):
        for role in page.get("Roles", []):
            if role.get("Path", "").startswith("/aws-service-role/"):
                continue

            def read(name: str = role["RoleName"]) -> dict[str, str]:
                tags: dict[str, str] = {}
                for tag_page in pages(iam, "list_role_tags", RoleName=name):
                    tags.update(key_value(tag_page.get("Tags", [])))
                return tags

            found = read_tags(role["RoleName"], read, ("NoSuchEntity",))
            if found:
                yield Found(found.identifier, found.tags, found.error, created=role.get("CreateDate"))


def delete_role(iam: Any, name: str) -> None:
    """Detach managed policies, delete inline ones, remove the role from instance profiles, then delete it."""
    for page in pages(iam, "list_attached_role_policies", RoleName=name):
        for policy in page.get("AttachedPolicies", []):
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for page in pages(iam, "list_role_policies", RoleName=name):
        for policy_name in page.get("PolicyNames", []):
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    for page in pages(iam, "list_instance_profiles_for_role", RoleName=name):
        for profile in page.get("InstanceProfiles", []):
            iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    iam.delete_role(RoleName=name)


def find_policies(iam: Any) -> Iterator[Found]:
    """Customer managed policies (AWS managed ones are never listed), with their tags."""
    for page in pages(iam, "list_policies", Scope="Local"):
        for policy in page.get("Policies", []):

            def read(arn: str = policy["Arn"]) -> dict[str, str]:
                return key_value(iam.list_policy_tags(PolicyArn=arn).get("Tags", []))

            found = read_tags(
                policy["Arn"],
                read,
                ("NoSuchEntity",),
                names=(policy["PolicyName"],),
                arn=policy["Arn"],
                created=policy.get("CreateDate"),
            )
            if found:
                yield found


def delete_policy(iam: Any, arn: str) -> None:
    """Detach the policy from every role, user and group, delete its other versions, then delete it."""
    for page in pages(iam, "list_entities_for_policy", PolicyArn=arn):
        for role in page.get("PolicyRoles", []):
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        for user in page.get("PolicyUsers", []):
            iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        for group in page.get("PolicyGroups", []):
            iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for page in pages(iam, "list_policy_versions", PolicyArn=arn):
        for version in page.get("Versions", []):
            if not version.get("IsDefaultVersion"):
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)
