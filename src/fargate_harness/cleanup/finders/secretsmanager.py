"""Sweep finders and deleters for Secrets Manager: secrets.

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
)


def find_secrets(secretsmanager: Any) -> Iterator[Found]:
    """Secrets not already scheduled for deletion; ListSecrets carries their tags."""
    for page in pages(secretsmanager, "list_secrets"):
        for secret in page.get("SecretList", []):
            yield Found(
                secret["Name"],
                key_value(secret.get("Tags", [])),
                arn=secret.get("ARN", ""),
                created=secret.get("CreatedDate"),
            )


def delete_secret(secretsmanager: Any, name: str) -> None:
    """Delete a secret at once, without the recovery window."""
    secretsmanager.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
