"""Read SSM Parameter Store metadata (never values) and check SecureString encryption."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from fargate_harness.aws._policy import fail, raise_if_not_found
from fargate_harness.errors import ResourceNotFoundError
from fargate_harness.model.arn import Arn

__all__ = ["assert_secure_string", "get_parameter_metadata", "get_parameters_metadata", "parameter_name"]


def parameter_name(value_from: str) -> str:
    """Return the parameter name of an ECS ``valueFrom`` that is an SSM parameter ARN or a name.

    ``arn:aws:ssm:r:a:parameter/a/b`` gives ``/a/b`` (hierarchical names keep their leading slash),
    ``arn:aws:ssm:r:a:parameter/name`` gives ``name``; anything that is not an ARN is returned unchanged.
    """
    if not value_from.startswith("arn:"):
        return value_from
    arn = Arn.parse(value_from)
    if arn is None or arn.service != "ssm" or not arn.resource.startswith("parameter/"):
        raise ValueError(f"not an SSM parameter ARN: {value_from!r}")
    path = arn.resource[len("parameter") :]
    if not path.strip("/"):
        raise ValueError(f"SSM parameter ARN without a name: {value_from!r}")
    if path.count("/") == 1:
        return path[1:]
    return path


def get_parameter_metadata(ssm: Any, name: str) -> dict[str, Any]:
    """Return the ``describe_parameters`` entry of parameter ``name`` (metadata only, never the value)."""
    filters = [{"Key": "Name", "Option": "Equals", "Values": [name]}]
    try:
        for page in ssm.get_paginator("describe_parameters").paginate(ParameterFilters=filters):
            for parameter in page.get("Parameters", []):
                if parameter.get("Name") == name:
                    return dict(parameter)
    except ssm.exceptions.ClientError as error:
        raise_if_not_found(error, ("ParameterNotFound",), f"SSM parameter {name!r}")
        raise
    raise ResourceNotFoundError(f"SSM parameter {name!r} not found")


#: DescribeParameters takes at most 50 values in one ``ParameterStringFilter``.
NAMES_PER_FILTER = 50


def get_parameters_metadata(ssm: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The ``describe_parameters`` entries of several parameters (metadata only), one filter per 50 names;
    names that do not exist are absent from the answer."""
    wanted = list(dict.fromkeys(names))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), NAMES_PER_FILTER):
        chunk = wanted[start : start + NAMES_PER_FILTER]
        filters = [{"Key": "Name", "Option": "Equals", "Values": chunk}]
        for page in ssm.get_paginator("describe_parameters").paginate(ParameterFilters=filters):
            for parameter in page.get("Parameters", []):
                if parameter.get("Name") in chunk:
                    found[str(parameter["Name"])] = dict(parameter)
    return found


def assert_secure_string(
    meta: Mapping[str, Any], *, key_arn: str, key_id_aliases: Collection[str], scenario: str
) -> None:
    """Check the parameter is a SecureString encrypted with the expected key.

    ``KeyId`` may come back as the key id, the key ARN or an alias, so it must equal ``key_arn`` or one
    of ``key_id_aliases`` (see :func:`fargate_harness.aws.kms.key_identifiers`).
    """
    resource = f"SSM parameter {meta.get('Name')}"
    actual_type = meta.get("Type")
    if actual_type != "SecureString":
        fail(scenario, resource, "Type 'SecureString'", repr(actual_type))
    accepted = {key_arn, *key_id_aliases}
    actual_key = meta.get("KeyId")
    if actual_key not in accepted:
        fail(scenario, resource, f"KeyId one of {sorted(accepted)}", repr(actual_key))
