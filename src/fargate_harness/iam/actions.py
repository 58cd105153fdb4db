"""IAM action names in AWS's canonical case (``kms:Decrypt``, not ``kms:decrypt``).

IAM matches actions case-insensitively, so a policy may write ``kms:decrypt``; people read the names the Service
Authorization Reference lists (https://docs.aws.amazon.com/service-authorization/latest/reference/). Most actions
are the names of the service's API operations, which botocore's service models (installed with boto3) carry in
that case; the few IAM-only actions the harness meets (``iam:PassRole``, ``s3:ListBucket``, EFS's client actions)
are listed here. No network: botocore reads its models from the installed package.
"""

from __future__ import annotations

import functools
import re

import botocore.session
from botocore.exceptions import UnknownServiceError

#: IAM prefix -> botocore service name, where they differ.
SERVICE_OF_PREFIX = {"elasticfilesystem": "efs", "states": "stepfunctions", "elasticloadbalancing": "elbv2"}
#: Actions with no API operation of the same name (Service Authorization Reference).
IAM_ONLY_ACTIONS = (
    "iam:PassRole",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetObjectVersion",
    "elasticfilesystem:ClientMount",
    "elasticfilesystem:ClientWrite",
    "elasticfilesystem:ClientRootAccess",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ecr:BatchImportUpstreamImage",
)


@functools.cache
def _names(prefix: str) -> dict[str, str]:
    """lower-case name -> canonical name of the actions of one IAM prefix."""
    found = {a.split(":", 1)[1].lower(): a.split(":", 1)[1] for a in IAM_ONLY_ACTIONS if a.startswith(f"{prefix}:")}
    try:
        model = botocore.session.get_session().get_service_model(SERVICE_OF_PREFIX.get(prefix, prefix))
    except UnknownServiceError:
        return found
    return {**{name.lower(): name for name in model.operation_names}, **found}


def canonical_action(action: str) -> str:
    """``action`` as the Service Authorization Reference writes it: the prefix in lower case, the name in the
    service's case (``KMS:decrypt`` -> ``kms:Decrypt``); a pattern's literal start in the case of a name it matches
    (``kms:generatedatakey*`` -> ``kms:GenerateDataKey*``). A name no table knows keeps its letters, its first one
    raised: IAM itself ignores the case either way."""
    prefix, sep, name = action.partition(":")
    if not sep:
        return action
    prefix = prefix.lower()
    names = _names(prefix)
    known = names.get(name.lower())
    if known is not None:
        return f"{prefix}:{known}"
    literal = re.split(r"[*?]", name, maxsplit=1)[0]
    if literal != name:  # a pattern: its literal start in the case of a name it matches (generatedatakey* -> Gen...)
        match = next((n for lower, n in sorted(names.items()) if literal and lower.startswith(literal.lower())), None)
        if match is not None:
            return f"{prefix}:{match[: len(literal)]}{name[len(literal) :]}"
    return f"{prefix}:{re.sub(r'^[a-z]', lambda m: m.group(0).upper(), name)}"
