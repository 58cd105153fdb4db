"""Scenarios pass with heavy faults injected between Terraform/boto3 and the emulator; every layer's retries
are counted and reported: the proxy's injected faults, boto3's retries, and the harness's Terraform retries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import configurations
from fargate_harness.checks import load_reference
from fargate_harness.lifecycle import Lifecycle, run_checks
from fargate_harness.options import resolve_options
from fargate_harness.runner import toolchain
from fargate_harness.targets import EmbeddedTarget
from fargate_harness.targets.faults import count_retries, retry_report
from tests.safety.conftest import ROOT

#: Two scenarios that between them touch every service of the reference set and both accounts.
SCENARIOS = ("secrets", "cross-account-ecr")


def test_scenarios_pass_under_heavy_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: Callable[[str, object], None]
) -> None:
    monkeypatch.setenv("HARNESS_FAULTS", "heavy,seed=11")
    monkeypatch.delenv("HARNESS_EMBEDDED_ENDPOINT", raising=False)
    options = resolve_options(lambda _dest: None, keep=False)
    tools = toolchain.prepare(options.tf_binary, options.provider_source)
    target = EmbeddedTarget(log_path=tmp_path / "moto.log", warm_up=False)
    target.start()
    assert target.faults is not None, "HARNESS_FAULTS=heavy: expected the fault proxy in front of the emulator"
    counter = count_retries()
    own_client = target.client

    def counted_client(service: str, account: str = "primary", region: str | None = None, **options: Any) -> Any:
        return counter.attach(own_client(service, account=account, region=region, **options))

    monkeypatch.setattr(target, "client", counted_client)
    try:
        lifecycle = Lifecycle(target, tools, options.run_dir)
        work = run_checks(load_reference(ROOT / "scenarios" / "reference_checks.py"))
        # side by side, each alone (no batch): under faults most of a run is the retries' back-off, and two runs
        # wait in parallel for the time of one
        chosen = [configurations.get(name, ROOT / "scenarios") for name in SCENARIOS]
        outcomes = lifecycle.many(chosen, work, jobs=len(chosen), together=False)
        stats = target.faults.stats
    finally:
        target.stop()

    harness_retries = sum(int(getattr(outcome.run, "retries", 0)) for outcome in outcomes)
    line = retry_report(stats, counter.retries, harness_retries)
    record_property("retries", line)
    print(line)
    failures = {
        outcome.name: outcome.error or [f"{r.name}: {r.message}" for r in outcome.results if not r.passed]
        for outcome in outcomes
        if not outcome.ok
    }
    assert not failures, f"under heavy faults: expected every scenario to pass, got {failures}\n{line}"
    injected = stats["throttled"] + stats["errored"] + stats["dropped"]
    assert injected > 0, f"fault proxy: expected injected faults, got {stats}"
    assert counter.retries > 0, f"boto3: expected retries through the proxy's faults, got none ({line})"
