"""What every sweep finder shares: the :class:`Found` record a finder yields, and the helpers that page, read tags
and retry. One module per service in this package holds that service's finders and deleters."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Found:
    """A resource a finder listed: its identifier for the deleter, its tags (or why they are unreadable),
    the names its prefix may show in (besides the identifier), its ARN and its creation time if known."""

    identifier: str
    tags: Mapping[str, str]
    error: str = ""
    names: tuple[str, ...] = ()
    arn: str = ""
    created: dt.datetime | None = None


def describe_error(error: Exception) -> str:
    """``"<code>: <message>"`` for an AWS error, ``"<class>: <text>"`` for anything else botocore raises."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
    return f"{type(error).__name__}: {error}"


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ("" when it has none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a paginated operation."""
    yield from client.get_paginator(operation).paginate(**kwargs)


def key_value(tags: Iterable[Mapping[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` (or another spelling of those keys) as ``{k: v}``."""
    return {tag[key]: tag.get(value, "") for tag in tags}


def read_tags(
    identifier: str,
    read: Callable[[], Mapping[str, str]],
    gone: Iterable[str],
    **extra: Any,
) -> Found | None:
    """Read one resource's tags: None when the resource vanished meanwhile, an error ``Found`` when unreadable."""
    try:
        return Found(identifier, read(), **extra)
    except ClientError as error:
        if error_code(error) in set(gone):
            return None
        return Found(identifier, {}, describe_error(error), **extra)


def retry_while(codes: Iterable[str], action: Callable[[], object], attempts: int = 6, pause: float = 5.0) -> None:
    """Run ``action``; while it fails with one of ``codes`` (a dependency still going away), wait and retry."""
    wanted = set(codes)
    for attempt in range(1, attempts + 1):
        try:
            action()
            return
        except ClientError as error:
            if error_code(error) not in wanted or attempt == attempts:
                raise
            time.sleep(pause)


def name_tag(tags: Iterable[Mapping[str, str]] | None) -> tuple[str, ...]:
    """The value of an EC2 ``Name`` tag, as the names a prefix may show in."""
    return tuple(tag["Value"] for tag in tags or [] if tag.get("Key") == "Name")
