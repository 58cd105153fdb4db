"""Sweep finders and deleters for SSM: parameters.

Each finder lists every resource of its kind with its tags and names (:class:`~.common.Found`); each deleter
removes one (or a batch). The order they run in is :data:`fargate_harness.cleanup.kinds.KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.cleanup.finders.common import (
    Found,
    describe_error,
    key_value,
    pages,
    read_tags,
)


def find_parameters(ssm: Any) -> Iterator[Found]:
    """Parameters, with their tags."""
    for page in pages(ssm, "describe_parameters"):
        for parameter in page.get("Parameters", []):

            def read(name: str = parameter["Name"]) -> dict[str, str]:
                answer = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
                return key_value(answer.get("TagList", []))

            found = read_tags(parameter["Name"], read, ("InvalidResourceId", "ParameterNotFound"))
            if found:
                yield found


def delete_parameters(ssm: Any, names: Sequence[str]) -> dict[str, str]:
    """Delete parameters ten at a time (the API's limit); return name -> error for those that failed."""
    failed: dict[str, str] = {}
    for start in range(0, len(names), 10):
        batch = list(names[start : start + 10])
        try:
            answer = ssm.delete_parameters(Names=batch)
        except (ClientError, BotoCoreError) as error:
            failed.update(dict.fromkeys(batch, describe_error(error)))
            continue
        for name in answer.get("InvalidParameters", []):
            failed[name] = "ParameterNotFound: the parameter was not deleted"
    return failed
