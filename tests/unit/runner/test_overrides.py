"""The run's manifest (``run.json``), which the sweep of a killed run reads to know where to look."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from fargate_harness.errors import TargetError
from fargate_harness.runner import overrides
from fargate_harness.targets.base import Target


class _Target:
    """What ``write_manifest`` reads of a target: its account only when asked."""

    name = "embedded"
    endpoint_url = "http://127.0.0.1:4566"
    region = "eu-west-1"
    registry_account_id: str | None = "210987654321"

    def __init__(self, account: str | None) -> None:
        self._account = account
        self.known_account_id: str | None = None

    def account_id(self) -> str:
        if self._account is None:
            raise TargetError("the emulator does not answer")
        self.known_account_id = self._account
        return self._account


def _manifest(tmp_path: Path, target: _Target) -> dict[str, object]:
    overrides.write_manifest(
        tmp_path,
        prefix="fh-gw0-abc123",
        label="alb-efs",
        source=tmp_path,
        target=cast(Target, target),
        tfdir=tmp_path / "config",
        var_files=(),
        changes=(),
    )
    return cast(dict[str, object], json.loads((tmp_path / overrides.MANIFEST_FILE).read_text()))


def test_the_manifest_names_the_runs_account_though_nobody_asked_for_it_yet(tmp_path: Path) -> None:
    # a kill mid-apply of a run that never read its account left a manifest naming only the registry account:
    # the sweep of its folder then looked there and missed the EFS mount targets in the primary one
    assert _manifest(tmp_path, _Target("123456789012"))["accounts"] == ["123456789012", "210987654321"]


def test_an_unreachable_target_leaves_the_registry_account_only(tmp_path: Path) -> None:
    assert _manifest(tmp_path, _Target(None))["accounts"] == ["210987654321"]
