"""Sweep finders and deleters for ECR: repositories.

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


def find_repositories(ecr: Any) -> Iterator[Found]:
    """Repositories of the caller's registry, with their tags."""
    for page in pages(ecr, "describe_repositories"):
        for repository in page.get("repositories", []):

            def read(arn: str = repository["repositoryArn"]) -> dict[str, str]:
                return key_value(ecr.list_tags_for_resource(resourceArn=arn).get("tags", []))

            found = read_tags(
                repository["repositoryName"],
                read,
                ("RepositoryNotFoundException",),
                arn=repository["repositoryArn"],
                created=repository.get("createdAt"),
            )
            if found:
                yield found


def delete_repository(ecr: Any, name: str) -> None:
    """Delete a repository with its images; its repository policy goes with it."""
    ecr.delete_repository(repositoryName=name, force=True)
