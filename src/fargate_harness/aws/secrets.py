"""Parse ECS references to Secrets Manager secrets and read secret metadata (never secret values)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from fargate_harness.aws._policy import fail, raise_if_not_found

__all__ = [
    "VERSION_ID_LENGTH",
    "SecretReference",
    "SecretValueShape",
    "assert_secret_matches",
    "get_secret_metadata",
    "get_secret_value_shape",
    "parse_secret_reference",
]

#: GetSecretValue's ``VersionId`` is 32 to 64 characters (Secrets Manager API Reference, GetSecretValue).
VERSION_ID_LENGTH = (32, 64)

# arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[:<json-key>:<stage>:<version-id>]
_ARN_FIELDS = 7
_MAX_FIELDS = _ARN_FIELDS + 3
# Secrets Manager appends "-" and six random characters to a secret's name to form its ARN.
_SUFFIX_LENGTH = 7


@dataclass(frozen=True)
class SecretReference:
    """A parsed ECS ``valueFrom`` pointing at Secrets Manager.

    ``secret_id`` is the secret's ARN without the trailing json-key/stage/version fields, or the bare
    name; the optional fields are None when absent or empty.
    """

    secret_id: str
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None

    @property
    def is_arn(self) -> bool:
        """Whether ``secret_id`` is an ARN rather than a secret name."""
        return self.secret_id.startswith("arn:")


def parse_secret_reference(value_from: str) -> SecretReference:
    """Parse an ECS ``valueFrom`` for Secrets Manager.

    Accepts ``arn:aws:secretsmanager:region:acct:secret:name-AbCdEf`` optionally followed by
    ``:json-key:version-stage:version-id`` (any of them may be empty), and plain secret names.
    Raises ValueError for other ARNs and malformed values.
    """
    if not value_from:
        raise ValueError("empty secret reference")
    if not value_from.startswith("arn:"):
        if ":" in value_from:
            raise ValueError(f"secret reference is neither a name nor an ARN: {value_from!r}")
        return SecretReference(secret_id=value_from)
    fields = value_from.split(":")
    if len(fields) < _ARN_FIELDS or fields[2] != "secretsmanager" or fields[5] != "secret":
        raise ValueError(f"not a Secrets Manager secret ARN: {value_from!r}")
    if len(fields) > _MAX_FIELDS:
        raise ValueError(f"too many fields in secret reference: {value_from!r}")
    if not fields[6]:
        raise ValueError(f"secret ARN without a name: {value_from!r}")
    extra = fields[_ARN_FIELDS:] + [""] * (_MAX_FIELDS - len(fields))
    json_key, stage, version = (part or None for part in extra)
    return SecretReference(
        secret_id=":".join(fields[:_ARN_FIELDS]),
        json_key=json_key,
        version_stage=stage,
        version_id=version,
    )


def get_secret_metadata(sm: Any, secret_id: str) -> dict[str, Any]:
    """Return ``describe_secret`` for ``secret_id`` (name or ARN) without the response metadata."""
    try:
        response = sm.describe_secret(SecretId=secret_id)
    except sm.exceptions.ClientError as error:
        raise_if_not_found(error, ("ResourceNotFoundException",), f"Secrets Manager secret {secret_id!r}")
        raise
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def _refers_to(reference: SecretReference, metadata: Mapping[str, Any]) -> bool:
    if not reference.is_arn:
        return bool(reference.secret_id == metadata.get("Name") or reference.secret_id == metadata.get("ARN"))
    arn = str(metadata.get("ARN", ""))
    if reference.secret_id == arn:
        return True
    # A partial ARN (without the random suffix) also identifies the secret.
    return len(arn) - len(reference.secret_id) == _SUFFIX_LENGTH and arn.startswith(reference.secret_id + "-")


def assert_secret_matches(
    reference: SecretReference | str,
    metadata: Mapping[str, Any],
    *,
    scenario: str,
    kms_key_ids: Collection[str] | None = None,
) -> None:
    """Check an ECS secret reference resolves to the described secret and that the secret is usable.

    Checks that the reference names this secret (full ARN, partial ARN or name), the secret is not
    scheduled for deletion, the referenced version stage / version id exist, and, when ``kms_key_ids``
    is given, the secret's ``KmsKeyId`` is one of them (a secret without ``KmsKeyId`` uses the AWS
    managed key ``alias/aws/secretsmanager``).
    """
    parsed = parse_secret_reference(reference) if isinstance(reference, str) else reference
    resource = f"Secrets Manager secret {metadata.get('ARN') or metadata.get('Name')}"
    if not _refers_to(parsed, metadata):
        fail(scenario, resource, f"to be the secret referenced as {parsed.secret_id!r}", "a different secret")
    if metadata.get("DeletedDate"):
        fail(scenario, resource, "not scheduled for deletion", f"DeletedDate {metadata['DeletedDate']}")
    versions: Mapping[str, list[str]] = metadata.get("VersionIdsToStages") or {}
    if parsed.version_id is not None and parsed.version_id not in versions:
        fail(scenario, resource, f"version id {parsed.version_id!r}", f"versions {sorted(versions)}")
    if parsed.version_stage is not None:
        stages = sorted({stage for stage_list in versions.values() for stage in stage_list})
        if parsed.version_stage not in stages:
            fail(scenario, resource, f"version stage {parsed.version_stage!r}", f"stages {stages}")
    if kms_key_ids is not None:
        actual_key = metadata.get("KmsKeyId") or "alias/aws/secretsmanager"
        if actual_key not in kms_key_ids:
            fail(scenario, resource, f"KmsKeyId one of {sorted(kms_key_ids)}", repr(actual_key))


@dataclass(frozen=True)
class SecretValueShape:
    """What preflight may know about a secret version's value: whether it is a JSON object, and its top-level keys
    (with ``empty_keys``, those whose value is an empty string or null). Never the value itself."""

    is_json_object: bool
    keys: frozenset[str] = frozenset()
    empty_keys: frozenset[str] = frozenset()


def get_secret_value_shape(
    sm: Any, secret_id: str, *, version_id: str | None = None, version_stage: str | None = None
) -> SecretValueShape:
    """Read one version of a secret (GetSecretValue) and return only its shape: JSON object or not, and its keys.

    The value stays in this function's locals: it is never returned, logged or put in an error. Raises
    :class:`~fargate_harness.errors.ResourceNotFoundError` when the secret or the version does not exist; other
    client errors (access denied, decryption failure) propagate.
    """
    request: dict[str, str] = {"SecretId": secret_id}
    if version_id:
        request["VersionId"] = version_id
    if version_stage:
        request["VersionStage"] = version_stage
    try:
        response = sm.get_secret_value(**request)
    except sm.exceptions.ClientError as error:
        raise_if_not_found(error, ("ResourceNotFoundException",), f"Secrets Manager secret {secret_id!r} version")
        raise
    text = response.get("SecretString")
    del response
    if not isinstance(text, str):
        return SecretValueShape(False)
    try:
        decoded = json.loads(text)
    except ValueError:
        return SecretValueShape(False)
    finally:
        del text
    if not isinstance(decoded, dict):
        return SecretValueShape(False)
    keys = frozenset(str(key) for key in decoded)
    empty = frozenset(str(key) for key, value in decoded.items() if value is None or value == "")
    return SecretValueShape(True, keys, empty)
