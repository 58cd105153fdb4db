"""Read EFS file systems and file system policies, and build their ARNs.

Amazon EFS User Guide, "Using IAM to control file system data access": without a file system policy the
default policy lets every client that connects through a mount target mount, write and be root
(:data:`DEFAULT_FILE_SYSTEM_POLICY`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fargate_harness.aws._policy import decode_document, fail, raise_if_not_found
from fargate_harness.errors import ResourceNotFoundError

__all__ = [
    "DEFAULT_FILE_SYSTEM_POLICY",
    "assert_file_system_exists",
    "file_system_arn",
    "get_file_system",
    "get_file_system_policy",
]

_NOT_FOUND = ("FileSystemNotFound", "PolicyNotFound")

#: What EFS applies when a file system has no policy (EFS User Guide, "Default EFS file system policy").
DEFAULT_FILE_SYSTEM_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DefaultFileSystemPolicy",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "elasticfilesystem:ClientRootAccess",
                "elasticfilesystem:ClientWrite",
                "elasticfilesystem:ClientMount",
            ],
            "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
        }
    ],
}


def file_system_arn(file_system_id: str, *, region: str, account: str, partition: str = "aws") -> str:
    """``arn:<partition>:elasticfilesystem:<region>:<account>:file-system/<id>``."""
    return f"arn:{partition}:elasticfilesystem:{region}:{account}:file-system/{file_system_id}"


def get_file_system(efs: Any, file_system_id: str) -> dict[str, Any]:
    """Return the ``describe_file_systems`` entry of the file system."""
    try:
        response = efs.describe_file_systems(FileSystemId=file_system_id)
    except efs.exceptions.ClientError as error:
        raise_if_not_found(error, _NOT_FOUND, f"EFS file system {file_system_id!r}")
        raise
    systems = response.get("FileSystems") or []
    if not systems:
        raise ResourceNotFoundError(f"EFS file system {file_system_id!r} not found")
    return dict(systems[0])


def get_file_system_policy(efs: Any, file_system_id: str) -> dict[str, Any] | None:
    """Return the file system policy decoded to a dict, or None when the file system has none."""
    try:
        response = efs.describe_file_system_policy(FileSystemId=file_system_id)
    except efs.exceptions.ClientError as error:
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        if code == "PolicyNotFound":
            return None
        raise_if_not_found(error, _NOT_FOUND, f"EFS file system {file_system_id!r}")
        raise
    text = response.get("Policy")
    return decode_document(text) if text else None


def assert_file_system_exists(file_system_id: str, found: Mapping[str, Any] | None, *, scenario: str) -> None:
    """Check that the file system was found (``found`` is None when it was not)."""
    if found is None:
        fail(scenario, f"EFS file system {file_system_id}", "the file system to exist", "no such file system")
