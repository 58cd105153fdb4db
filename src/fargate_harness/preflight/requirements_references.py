"""Per-reference requirements: secrets (``secrets``, ``secretOptions``, ``repositoryCredentials``), Parameter Store
parameters (Secrets Manager references among them) and the KMS keys that encrypt them, each judged as the agent
and the service judge it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fargate_harness.aws import secrets, ssm
from fargate_harness.preflight.requirements_model import (
    AWS_MANAGED_KEY_ALIASES,
    REFERENCE_SOURCE,
    SECRETS_MANAGER_REFERENCE,
    Facts,
    Requirement,
    Scope,
    arn_parts,
)


def kms_requirement(
    key_id: str | None,
    *,
    facts: Facts,
    service: str,
    region: str,
    account: str,
    principal_account: str,
    source: str,
    encryption_context: Mapping[str, str],
) -> Requirement | None:
    """``kms:Decrypt`` for a customer managed key; None for AWS managed keys."""
    if not key_id or key_id in AWS_MANAGED_KEY_ALIASES or key_id.endswith(AWS_MANAGED_KEY_ALIASES):
        return None
    key_arn = facts.key_arn(key_id, account, region)
    if key_arn is None:
        return Requirement(
            "kms", "kms:Decrypt", key_id, account, source, exists=False, missing=f"KMS key {key_id} does not exist"
        )
    context: dict[str, str | list[str]] = {
        "kms:ViaService": f"{service}.{region}.amazonaws.com",
        "kms:CallerAccount": principal_account,
    }
    context.update({f"kms:EncryptionContext:{k}": v for k, v in encryption_context.items()})
    return Requirement(
        "kms", "kms:Decrypt", key_arn, arn_parts(key_arn)[3], source, context=context, resource_policy_kind="kms"
    )


#: How the agent reports a secret it could not read (Amazon ECS Developer Guide, "Amazon ECS stopped task error
#: messages"); the reason follows.
ASM_ERROR = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
    "unable to retrieve secret from asm: service call has been retried 1 time(s): "
)
REGISTRY_AUTH_ERROR = (
    "ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: "
    "unable to retrieve registry credentials from Secrets Manager: "
)
#: The Secrets Manager guides this module follows, for fixes.
SECRETS_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"
PRIVATE_AUTH_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html"


def _reference_problem(
    reference: secrets.SecretReference, metadata: Mapping[str, Any], *, kind: str, source: str, scope: Scope
) -> tuple[str, str, str] | None:
    """(what is wrong, the AWS error, the fix) of a reference to an existing secret, or None when it resolves.

    Judged as the agent and Secrets Manager judge them: the version id's length (GetSecretValue's model, 32-64
    characters; the SDK refuses a shorter one before any call), the version id among the secret's versions, the
    stage attached to some version (and to the version id when both are given), the JSON key in the value.
    """
    prefix = (
        REGISTRY_AUTH_ERROR
        if kind == "registry-credentials"
        else SSM_ERROR  # Parameter Store reads the secret behind /aws/reference/secretsmanager/ for the agent
        if source.endswith(REFERENCE_SOURCE)
        else ASM_ERROR
    )
    problem = _version_problem(reference, metadata, prefix=prefix, source=source)
    if problem is not None or (reference.json_key is None and kind != "registry-credentials"):
        return problem
    arn = str(metadata["ARN"])
    shape = scope.facts.secret_value_shape(arn, reference.version_id, reference.version_stage)
    if shape is None:
        return None  # could not be read: the collector says so in a note
    if kind == "registry-credentials":
        return _credentials_problem(arn, shape, prefix=prefix)
    return _json_key_problem(arn, str(reference.json_key), shape, prefix=prefix, source=source)


def _version_problem(
    reference: secrets.SecretReference, metadata: Mapping[str, Any], *, prefix: str, source: str
) -> tuple[str, str, str] | None:
    """The secret's deletion, and the reference's version id and stage against DescribeSecret's versions."""
    arn = str(metadata["ARN"])
    versions: Mapping[str, list[str]] = metadata.get("VersionIdsToStages") or {}
    version_id, stage = reference.version_id, reference.version_stage
    if metadata.get("DeletedDate"):
        return (
            f"secret {arn} is scheduled for deletion",
            f"{prefix}failed to fetch secret {arn} from secrets manager: InvalidRequestException: You can't "
            "perform this operation on the secret because it was marked for deletion.",
            f"restore the secret (RestoreSecret) or point {source} at another one",
        )
    problem = _version_id_format_problem(arn, version_id, prefix=prefix, source=source)
    if problem is not None:
        return problem
    if not versions:
        return None  # no value yet: _no_value_row says so
    return _version_label_problem(arn, versions, version_id, stage, prefix=prefix, source=source)


def _version_id_format_problem(
    arn: str, version_id: str | None, *, prefix: str, source: str
) -> tuple[str, str, str] | None:
    """GetSecretValue's VersionId is 32-64 characters; the agent's SDK refuses a shorter one before the call."""
    low, high = secrets.VERSION_ID_LENGTH
    if version_id is not None and not low <= len(version_id) <= high:
        bound = f"minimum field size of {low}" if len(version_id) < low else f"maximum field size of {high}"
        return (
            f"the version id field of valueFrom is {len(version_id)} character(s) long; GetSecretValue takes "
            f"{low}-{high} (a stray character after the last ':' is read as a version id)",
            f"{prefix}failed to fetch secret {arn} from secrets manager: InvalidParameter: 1 validation error(s) "
            f"found. - {bound}, GetSecretValueInput.VersionId.",
            f"in {source}, end valueFrom with '<json-key>::' (empty stage and version id), or give a version id "
            f"of the secret ({SECRETS_DOC})",
        )
    return None


def _version_label_problem(
    arn: str,
    versions: Mapping[str, list[str]],
    version_id: str | None,
    stage: str | None,
    *,
    prefix: str,
    source: str,
) -> tuple[str, str, str] | None:
    """The version id among the secret's versions, the stage attached to one (to the version id when both)."""
    if version_id is not None and version_id not in versions:
        return (
            f"secret {arn} has no version {version_id!r}",
            f"{prefix}failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: Secrets "
            f"Manager can't find the specified secret value for VersionId: {version_id}",
            f"in {source}, leave the version id empty or name an existing version ({SECRETS_DOC})",
        )
    attached = {label for labels in versions.values() for label in labels}
    if stage is not None and stage not in attached:
        return (
            f"no version of secret {arn} carries the staging label {stage!r} (labels: "
            f"{', '.join(sorted(attached)) or 'none'})",
            f"{prefix}failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: Secrets "
            f"Manager can't find the specified secret value for staging label: {stage}",
            f"in {source}, leave the version stage empty (AWSCURRENT) or name an attached label ({SECRETS_DOC})",
        )
    if stage is not None and version_id is not None and stage not in (versions.get(version_id) or [stage]):
        return (
            f"version {version_id} of secret {arn} does not carry the staging label {stage!r}; GetSecretValue "
            "needs both to name the same version",
            f"{prefix}failed to fetch secret {arn} from secrets manager: InvalidRequestException: the version "
            f"stage {stage} and version id {version_id} do not name the same version",
            f"in {source}, give either the version stage or the version id ({SECRETS_DOC})",
        )
    return None


def _credentials_problem(arn: str, shape: secrets.SecretValueShape, *, prefix: str) -> tuple[str, str, str] | None:
    """Registry credentials: a JSON object with non-empty ``username`` and ``password`` (the agent's asm package)."""
    fix = f'store {{"username": ..., "password": ...}} in the secret ({PRIVATE_AUTH_DOC})'
    if not shape.is_json_object:
        return (
            f"the value of secret {arn} is not a JSON object with username and password",
            f"{prefix}asm fetching authorization data: unable to unmarshal secret value, invalid schema",
            fix,
        )
    for field_name in ("username", "password"):
        if field_name not in shape.keys or field_name in shape.empty_keys:
            return (
                f"the value of secret {arn} has no non-empty {field_name!r} key",
                f"{prefix}asm fetching {field_name}: AuthorizationData is malformed, empty field",
                fix,
            )
    return None


def _json_key_problem(
    arn: str, key: str, shape: secrets.SecretValueShape, *, prefix: str, source: str
) -> tuple[str, str, str] | None:
    """The JSON key of a reference against the value's keys (the agent unmarshals the value and looks the key up)."""
    if not shape.is_json_object:
        return (
            f"valueFrom asks for JSON key {key!r}, but the value of secret {arn} is not a JSON object",
            f"{prefix}failed to unmarshal the secret value of {arn} as JSON for json key {key}",
            f"in {source}, drop the JSON key (use the whole value) or store a JSON object ({SECRETS_DOC})",
        )
    if key not in shape.keys:
        return (
            f"the JSON value of secret {arn} has no key {key!r} ({len(shape.keys)} top-level keys; values not read "
            "out)",
            f"{prefix}retrieved secret from Secrets Manager did not contain json key {key}",
            f"add the key {key!r} to the secret's value, or fix the JSON key in {source} ({SECRETS_DOC})",
        )
    return None


def _no_value_row(
    reference: secrets.SecretReference, metadata: Mapping[str, Any], *, kind: str, source: str, owner: str
) -> Requirement | None:
    """A warning row for a secret DescribeSecret lists no version of: created without a value (Terraform's
    aws_secretsmanager_secret without an aws_secretsmanager_secret_version). GetSecretValue would find nothing,
    but a pipeline may put the value after the infrastructure (as it pushes images), so the start is not decided
    on it: the task starts only once the value is there."""
    if metadata.get("VersionIdsToStages") or metadata.get("DeletedDate"):
        return None
    arn = str(metadata["ARN"])
    version_id, stage = reference.version_id, reference.version_stage
    wanted = f"VersionId: {version_id}" if version_id else f"staging label: {stage or 'AWSCURRENT'}"
    prefix = REGISTRY_AUTH_ERROR if kind == "registry-credentials" else ASM_ERROR
    if source.endswith(REFERENCE_SOURCE):
        prefix = SSM_ERROR
    return Requirement(
        "secret-value",
        "secretsmanager:GetSecretValue",
        arn,
        owner,
        f"{source} (the secret's value)",
        exists=False,
        fatal=False,
        missing=f"secret {arn} has no value yet (DescribeSecret lists no version): the task starts only once one "
        "is put (a pipeline may do so after the infrastructure); the JSON key, stage and version were not checked",
        fix_hint="put a value in the secret before the task starts (an aws_secretsmanager_secret_version the task "
        f"definition depends on, or your pipeline), or point {source} at a secret that has one",
        aws_error=f"{prefix}failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: Secrets "
        f"Manager can't find the specified secret value for {wanted}",
    )


def _malformed_secret(value_from: str, reason: str, *, kind: str, source: str, scope: Scope) -> Requirement:
    """A Secrets Manager reference the agent cannot use at all (not an ARN it can split)."""
    return Requirement(
        kind,
        "secretsmanager:GetSecretValue",
        value_from,
        scope.principal_account,
        source,
        exists=False,
        missing=f"valueFrom {value_from!r} is not a usable Secrets Manager reference: {reason}",
        fix_hint=f"in {source}, give arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-AbCdEf, "
        f"optionally followed by :<json-key>:<version-stage>:<version-id> ({SECRETS_DOC})",
        aws_error=f"{ASM_ERROR}{reason}",
    )


def secret_requirements(value_from: str, *, kind: str, source: str, scope: Scope) -> list[Requirement]:
    """GetSecretValue on the secret (plus kms:Decrypt for a customer key), and the reference judged on its own."""
    try:
        reference = secrets.parse_secret_reference(value_from)
    except ValueError as error:
        return [_malformed_secret(value_from, str(error), kind=kind, source=source, scope=scope)]
    facts, principal_account = scope.facts, scope.principal_account
    owner = arn_parts(reference.secret_id)[3] if reference.is_arn else principal_account
    metadata = facts.secret(reference.secret_id)
    if metadata is None:
        return [
            Requirement(
                kind,
                "secretsmanager:GetSecretValue",
                reference.secret_id,
                owner,
                source,
                exists=False,
                missing=f"secret {reference.secret_id} does not exist",
            )
        ]
    arn = str(metadata["ARN"])
    no_value = _no_value_row(reference, metadata, kind=kind, source=source, owner=owner)
    problem = None if no_value else _reference_problem(reference, metadata, kind=kind, source=source, scope=scope)
    if problem is None:
        found = [Requirement(kind, "secretsmanager:GetSecretValue", arn, owner, source, exists=True)]
        found += [no_value] if no_value else []
    else:
        missing, aws_error, fix = problem
        found = [
            Requirement(
                kind,
                "secretsmanager:GetSecretValue",
                arn,
                owner,
                source,
                exists=False,
                missing=missing,
                fix_hint=fix,
                aws_error=aws_error,
            )
        ]
    secret_region = arn_parts(arn)[2]
    key_id = metadata.get("KmsKeyId")
    if owner != principal_account and (not key_id or str(key_id).endswith("alias/aws/secretsmanager")):
        found.append(
            Requirement(
                "kms",
                "kms:Decrypt",
                f"arn:{scope.partition}:kms:{secret_region}:{owner}:alias/aws/secretsmanager",
                owner,
                f"{source} (secret encryption key)",
                exists=False,
                missing=f"secret {arn} in account {owner} is encrypted with the AWS managed key aws/secretsmanager, "
                f"which principals of another account ({principal_account}) cannot use",
                fix_hint=f"in account {owner}, re-encrypt the secret with a customer managed key whose key policy "
                f"allows the execution role kms:Decrypt (with kms:ViaService secretsmanager.{secret_region}"
                ".amazonaws.com)",
            )
        )
        return found
    kms = kms_requirement(
        metadata.get("KmsKeyId"),
        facts=facts,
        service="secretsmanager",
        region=secret_region,
        account=owner,
        principal_account=principal_account,
        source=f"{source} (secret encryption key)",
        encryption_context={"SecretARN": arn},
    )
    return found + ([kms] if kms else [])


#: How the agent reports parameters Parameter Store did not return (the names follow).
SSM_ERROR = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
    "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
)
#: What a Secrets Manager secret name may hold (Secrets Manager API Reference, CreateSecret ``Name``).
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")


def _secret_named(name: str, facts: Facts) -> str | None:
    """The ARN of the Secrets Manager secret called ``name`` (None when there is none or it cannot be told)."""
    if not _SECRET_NAME.fullmatch(name):
        return None
    try:
        found = facts.secret(name)
    except Exception:  # a hint only: a secret that cannot be described is no finding
        return None
    return str(found.get("ARN") or name) if found else None


def parameter_location(value_from: str, *, account: str, region: str, partition: str) -> tuple[str, str, str, str]:
    """(name, account, region, partition) of an SSM ``valueFrom``: a name is in the task's account and region,
    an ARN says where it is."""
    name = ssm.parameter_name(value_from)
    if value_from.startswith("arn:"):
        partition, _service, region, account, _res = arn_parts(value_from)
    return name, account, region, partition


def is_secrets_manager_arn(value_from: str) -> bool:
    """Whether a ``valueFrom`` names a Secrets Manager secret (anything else is an SSM parameter)."""
    return value_from.startswith("arn:") and arn_parts(value_from)[1] == "secretsmanager"


def parameter_value_froms(task_definition: Mapping[str, Any]) -> list[str]:
    """Every ``valueFrom`` of ``secrets`` and ``logConfiguration.secretOptions`` that names an SSM parameter."""
    found = []
    for container in task_definition.get("containerDefinitions", []):
        options = (container.get("logConfiguration") or {}).get("secretOptions") or []
        for entry in [*(container.get("secrets") or []), *options]:
            value_from = str(entry.get("valueFrom") or "")
            if value_from and not is_secrets_manager_arn(value_from):
                found.append(value_from)
    return found


def _parameter_requirements(value_from: str, *, source: str, scope: Scope) -> list[Requirement]:
    """GetParameters on the parameter (plus kms:Decrypt for a customer-key SecureString)."""
    facts, principal_account = scope.facts, scope.principal_account
    name, account, region, partition = parameter_location(
        value_from, account=principal_account, region=scope.region, partition=scope.partition
    )
    arn = f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
    if name.startswith(SECRETS_MANAGER_REFERENCE):
        # Parameter Store reads the secret for the caller: both permissions are the caller's.
        secret_name = name.removeprefix(SECRETS_MANAGER_REFERENCE)
        found = [Requirement("parameter", "ssm:GetParameters", arn, account, source, exists=True)]
        return found + secret_requirements(
            secret_name, kind="secret", source=f"{source}{REFERENCE_SOURCE}", scope=scope
        )
    meta = facts.parameter(name, account, region)
    if meta is None:
        secret = _secret_named(name, facts) if not value_from.startswith("arn:") else None
        if secret is not None:
            # The agent reads a valueFrom that is not a Secrets Manager ARN from Parameter Store (Amazon ECS
            # Developer Guide, "Pass sensitive data to an Amazon ECS container": secrets are given by full ARN;
            # only a Parameter Store parameter of the task's Region may be given by name).
            return [
                Requirement(
                    "parameter",
                    "ssm:GetParameters",
                    arn,
                    account,
                    source,
                    exists=False,
                    missing=f"valueFrom {value_from!r} is a name, which ECS reads from Parameter Store, where "
                    f"{account}/{region} has no such parameter; Secrets Manager secret {secret} has that name",
                    fix_hint=f"in {source}, give the secret's full ARN ({secret}) ({SECRETS_DOC})",
                    aws_error=f"{SSM_ERROR}invalid parameters: {name}",
                )
            ]
        return [
            Requirement(
                "parameter",
                "ssm:GetParameters",
                arn,
                account,
                source,
                exists=False,
                missing=f"SSM parameter {name} does not exist in {account}/{region}"
                + (
                    "; a parameter of another Region must be given by its full ARN"
                    if not value_from.startswith("arn:")
                    else ""
                ),
                aws_error=f"{SSM_ERROR}invalid parameters: {name}",
            )
        ]
    found = [Requirement("parameter", "ssm:GetParameters", arn, account, source, exists=True)]
    if meta.get("Type") == "SecureString":
        kms = kms_requirement(
            meta.get("KeyId") or "alias/aws/ssm",
            facts=facts,
            service="ssm",
            region=region,
            account=account,
            principal_account=principal_account,
            source=f"{source} (SecureString key)",
            encryption_context={"PARAMETER_ARN": arn},
        )
        if kms:
            found.append(kms)
    return found


def value_from_requirements(value_from: str, *, source: str, scope: Scope) -> list[Requirement]:
    """A ``secrets`` or ``secretOptions`` entry: a Secrets Manager secret, or an SSM parameter."""
    if is_secrets_manager_arn(value_from):
        return secret_requirements(value_from, kind="secret", source=source, scope=scope)
    return _parameter_requirements(value_from, source=source, scope=scope)
