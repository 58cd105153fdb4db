"""Two shards of a small subset (two reference scenario files), as two CI runners would run them: each test
runs in exactly one shard, and the merged JUnit XML and report hold both shards."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from fargate_harness import report
from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT

SUBSET = ("tests/scenarios/test_basic.py", "tests/scenarios/test_secrets.py")


def _env(results: Path, endpoint: str) -> dict[str, str]:
    """A shard's environment: its own results folder and run id, on the module's emulator (the two shards
    share one server, as two workers of one runner do; each shard's own start of one is what every other
    session of the suite does)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HARNESS_RESULTS_DIR", "HARNESS_REPORT"))
    }
    return {
        **env,
        "HARNESS_EMBEDDED_ENDPOINT": endpoint,
        "HARNESS_RESULTS_DIR": str(results),
        "HARNESS_RUN_ID": f"shards-{results.name}",
    }


def _collected() -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *SUBSET],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return [line for line in proc.stdout.splitlines() if "::" in line]


def _testcase_ids(junit: Path) -> list[str]:
    ids = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        ids.append(f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}")  # no classes here
    return ids


def test_two_shards_run_every_test_once_and_merge(tmp_path: Path, emulator: EmbeddedTarget) -> None:
    assert emulator.endpoint_url
    expected = _collected()
    assert len(expected) >= 4, expected
    shards = [tmp_path / f"shard-{group}" for group in (1, 2)]
    processes = []
    for group, folder in enumerate(shards, start=1):
        folder.mkdir()
        argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *SUBSET]
        argv += ["--splits", "2", "--group", str(group), "--durations-path", str(ROOT / ".test_durations")]
        argv += [f"--junitxml={folder / 'junit.xml'}", f"--tf-report={folder / 'report.md'}"]
        log = (folder / "pytest.log").open("w")
        processes.append(
            (
                subprocess.Popen(
                    argv, cwd=ROOT, env=_env(folder, emulator.endpoint_url), stdout=log, stderr=subprocess.STDOUT
                ),
                log,
            )
        )
    for process, log in processes:
        code = process.wait(timeout=900)
        log.close()
        assert code == 0, Path(log.name).read_text()[-3000:]

    ran = [_testcase_ids(folder / "junit.xml") for folder in shards]
    assert all(ran), f"a shard ran nothing: {ran}"
    counts = Counter(test for tests in ran for test in tests)
    assert sorted(counts) == sorted(expected)
    assert set(counts.values()) == {1}, [test for test, n in counts.items() if n != 1]

    merged = report.merge(tmp_path / "merged", shards)
    assert merged.tests == len(expected)
    assert merged.failures == 0
    assert sorted(_testcase_ids(tmp_path / "merged" / "junit.xml")) == sorted(expected)
    text = (tmp_path / "merged" / "report.md").read_text()
    scenarios_in_report = report.parse_report(text).tallies
    assert {"basic", "secrets"} <= set(scenarios_in_report)
    assert sum(t.passed + t.skipped for t in scenarios_in_report.values()) == len(expected)
    assert all(t.failed == 0 for t in scenarios_in_report.values())
    assert merged.summaries >= 2
