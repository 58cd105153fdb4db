"""Sweep finders and deleters for EFS: access points, mount targets and file systems.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fargate_harness.cleanup.finders.common import (
    Found,
    key_value,
    pages,
    retry_while,
)


def _file_systems(efs: Any) -> list[dict[str, Any]]:
    return [fs for page in pages(efs, "describe_file_systems") for fs in page.get("FileSystems", [])]


def _fs_names(fs: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name in (fs.get("CreationToken", ""), fs.get("Name", "")) if name)


def find_access_points(efs: Any) -> Iterator[Found]:
    """Access points; their own tags, else their file system's (tags and names)."""
    systems = {fs["FileSystemId"]: fs for fs in _file_systems(efs)}
    for fs_id, fs in systems.items():
        for point in efs.describe_access_points(FileSystemId=fs_id).get("AccessPoints", []):
            own = key_value(point.get("Tags", []))
            yield Found(
                point["AccessPointId"],
                own or key_value(fs.get("Tags", [])),
                names=(point.get("Name", ""), *_fs_names(fs)),
                arn=point.get("AccessPointArn", ""),
            )


def delete_access_point(efs: Any, access_point_id: str) -> None:
    """Delete one access point."""
    efs.delete_access_point(AccessPointId=access_point_id)


def find_mount_targets(efs: Any) -> Iterator[Found]:
    """Mount targets (not taggable): owned with their file system, whose tags and names they carry."""
    for fs in _file_systems(efs):
        for page in pages(efs, "describe_mount_targets", FileSystemId=fs["FileSystemId"]):
            for target in page.get("MountTargets", []):
                if target.get("LifeCycleState") in ("deleting", "deleted"):
                    continue
                yield Found(target["MountTargetId"], key_value(fs.get("Tags", [])), names=_fs_names(fs))


def delete_mount_target(efs: Any, mount_target_id: str) -> None:
    """Delete one mount target (AWS does it asynchronously; the file system's deleter waits)."""
    efs.delete_mount_target(MountTargetId=mount_target_id)


def find_file_systems(efs: Any) -> Iterator[Found]:
    """File systems, with their tags."""
    for fs in _file_systems(efs):
        if fs.get("LifeCycleState") in ("deleting", "deleted"):
            continue
        yield Found(
            fs["FileSystemId"],
            key_value(fs.get("Tags", [])),
            names=_fs_names(fs),
            arn=fs.get("FileSystemArn", ""),
            created=fs.get("CreationTime"),
        )


def delete_file_system(efs: Any, fs_id: str) -> None:
    """Delete a file system, waiting (bounded) while its mount targets are still being deleted."""
    retry_while(("FileSystemInUse",), lambda: efs.delete_file_system(FileSystemId=fs_id))
