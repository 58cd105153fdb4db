"""Read KMS key metadata and list every identifier a key may be referred to by."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fargate_harness.aws._policy import raise_if_not_found
from fargate_harness.model.arn import Arn

__all__ = ["get_key_aliases", "get_key_metadata", "key_identifiers"]

_NOT_FOUND = ("NotFoundException",)


def get_key_metadata(kms: Any, key_id: str) -> dict[str, Any]:
    """Return the ``KeyMetadata`` of a key given by id, ARN, alias name or alias ARN."""
    try:
        response = kms.describe_key(KeyId=key_id)
    except kms.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"KMS key {key_id!r}")
        raise
    return dict(response["KeyMetadata"])


def get_key_aliases(kms: Any, key_id: str) -> list[dict[str, Any]]:
    """Return the alias entries (``AliasName``, ``AliasArn``, ``TargetKeyId``) of a key, all pages."""
    aliases: list[dict[str, Any]] = []
    try:
        for page in kms.get_paginator("list_aliases").paginate(KeyId=key_id):
            aliases.extend(dict(alias) for alias in page.get("Aliases", []))
    except kms.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"KMS key {key_id!r}")
        raise
    return aliases


def _arn_prefix(key_arn: str) -> str | None:
    """Return ``arn:<partition>:kms:<region>:<account>:`` for a key ARN, or None if it is not one."""
    arn = Arn.parse(key_arn)
    if arn is None or arn.service != "kms":
        return None
    return f"arn:{arn.partition}:kms:{arn.region}:{arn.account}:"


def key_identifiers(meta: Mapping[str, Any], aliases: Iterable[Mapping[str, Any] | str] = ()) -> set[str]:
    """Return every identifier of the key: key id, key ARN, alias names and alias ARNs.

    ``aliases`` may hold ``list_aliases`` entries (those targeting another key are skipped) or alias
    names such as ``"alias/app"``; for names the alias ARN is built from the key ARN.
    """
    key_id = str(meta.get("KeyId", ""))
    key_arn = str(meta.get("Arn", ""))
    identifiers = {value for value in (key_id, key_arn) if value}
    prefix = _arn_prefix(key_arn)
    for alias in aliases:
        if isinstance(alias, str):
            name: str | None = alias if alias.startswith("alias/") else f"alias/{alias}"
            alias_arn = f"{prefix}{name}" if prefix else None
        else:
            target = alias.get("TargetKeyId")
            if target and key_id and target != key_id:
                continue
            name = alias.get("AliasName")
            alias_arn = alias.get("AliasArn") or (f"{prefix}{name}" if prefix and name else None)
        identifiers.update(value for value in (name, alias_arn) if value)
    return identifiers
