"""The network guard: a configuration that tries to reach real AWS from an emulator target fails at once,
naming the host and the provider block or service responsible.

Two ways out are tried, on real Terraform and the real provider: a provider block in a child module that the
override does not cover, and a service whose endpoint the override does not redirect.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fargate_harness import configurations
from fargate_harness.checks import AppliedRun
from fargate_harness.runner import provider_schema
from fargate_harness.runner.overrides import OVERRIDE_FILE
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets import Target
from fargate_harness.targets.netguard import NetworkGuardError

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"


@pytest.fixture
def guarded(harness_target: Target, harness_toolchain: Toolchain, tmp_path: Path) -> AppliedRun:
    if not harness_target.is_emulator or harness_target.guard is None:
        pytest.skip("the network guard runs on emulator targets")
    run = configurations.new_run(
        configurations.from_path(CONFIGS / "child-provider"),
        target=harness_target,
        tools=harness_toolchain,
        results_dir=tmp_path,
        worker="guard",
    )
    yield run
    run.down()


def test_child_module_provider_without_override_is_stopped_at_once(guarded: AppliedRun) -> None:
    guarded.prepare()
    guarded.init()
    child = guarded.tfdir / "modules" / "queue" / OVERRIDE_FILE
    assert child.is_file(), "expected the harness to redirect the child module's provider block"
    child.unlink()  # as if the harness could not reach it
    started = time.monotonic()
    with pytest.raises(NetworkGuardError) as caught:
        guarded.apply()
    message = str(caught.value)
    assert "amazonaws.com" in message, message
    assert 'provider "aws" (aws) in' in message and "modules/queue/main.tf" in message, message
    assert time.monotonic() - started < 30, "expected the guard to stop the provider's retries at once"


def test_unredirected_service_names_the_host(guarded: AppliedRun, monkeypatch: pytest.MonkeyPatch) -> None:
    real = provider_schema.cached

    def without_logs(version: str, read: object, cache: Path | None = None) -> provider_schema.ProviderSchema:
        schema = real(version, read, cache)
        endpoints = tuple(e for e in schema.endpoints if e not in ("cloudwatchlogs", "logs"))
        return provider_schema.ProviderSchema(schema.version, endpoints, schema.arguments)

    monkeypatch.setattr(provider_schema, "cached", without_logs)
    guarded.prepare()
    guarded.init()
    with pytest.raises(NetworkGuardError) as caught:
        guarded.apply()
    message = str(caught.value)
    assert "logs.us-east-1.amazonaws.com" in message, message
    assert "logs:" in message, message
