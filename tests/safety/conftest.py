"""Fixtures for the nightly-safety tests: an emulator of their own, and a way to run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fargate_harness.targets import EmbeddedTarget

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTarget]:
    """A moto server for one test module (separate from the session target, so tests can kill runs on it),
    without the warm-up: each module runs a few configurations, so moto builds only the backends they use."""
    target = EmbeddedTarget(log_path=tmp_path_factory.mktemp("moto") / "moto.log", warm_up=False)
    target.start()
    try:
        yield target
    finally:
        target.stop()


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``fargate-harness`` in a child process from the project root."""
    return subprocess.run(
        [sys.executable, "-m", "fargate_harness.cli", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
