"""What an apply left, as a read-only value: the state (``terraform show -json``), the outputs, the managed
resources' addresses and the inventory read from the state. A run's own, or one batch member's share of its
batch's state; checks and assertions read this, never the run that made it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fargate_harness.model.inventory import Inventory, managed_resources


@dataclass(frozen=True, eq=False)
class AppliedState:
    """One configuration's applied state. ``name`` is the configuration's label, ``source`` its folder, ``prefix``
    and ``variables`` what the harness gave it, ``tfdir`` where its copy is. Holds secret values in plain text, as
    Terraform's state always does: never print :attr:`state`."""

    name: str
    source: Path
    prefix: str
    tfdir: Path
    state: Mapping[str, Any] = field(repr=False)
    outputs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    variables: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def resources(self) -> list[str]:
        """The managed resources' addresses, sorted."""
        return sorted(r.address for r in managed_resources(dict(self.state)))

    @cached_property
    def inventory(self) -> Inventory:
        """What the configuration built, read from the state: see :mod:`fargate_harness.model.inventory`."""
        return Inventory.from_state(dict(self.state), source=str(self.source))
