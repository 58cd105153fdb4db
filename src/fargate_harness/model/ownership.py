"""The tags every resource a harness run creates carries, and how to recognise them.

Applied through the AWS provider's ``default_tags`` (provider >= 3.38) in the override file the harness
writes into its copy of a scenario, and also passed as the scenario's ``tags`` variable, so resources
are marked with providers that predate ``default_tags`` too. ``fargate-harness sweep`` removes only
resources that carry :data:`MARKER_KEY` = :data:`MARKER_VALUE`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

MARKER_KEY = "fargate-harness:managed"
MARKER_VALUE = "true"
RUN_ID_KEY = "fargate-harness:run-id"
SCENARIO_KEY = "fargate-harness:scenario"
CREATED_KEY = "fargate-harness:created"
PREFIX_KEY = "fargate-harness:prefix"


def now_utc() -> dt.datetime:
    """The current time, timezone-aware UTC, whole seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def ownership_tags(run_id: str, scenario: str, prefix: str, created: dt.datetime | None = None) -> dict[str, str]:
    """The tags for one scenario run."""
    return {
        MARKER_KEY: MARKER_VALUE,
        RUN_ID_KEY: run_id,
        SCENARIO_KEY: scenario,
        PREFIX_KEY: prefix,
        CREATED_KEY: (created or now_utc()).isoformat().replace("+00:00", "Z"),
    }


def is_owned(tags: Mapping[str, str]) -> bool:
    """True when ``tags`` carry the harness marker."""
    return tags.get(MARKER_KEY) == MARKER_VALUE


def created_at(tags: Mapping[str, str]) -> dt.datetime | None:
    """The creation time recorded in the tags, or None when absent or unreadable."""
    text = tags.get(CREATED_KEY)
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
