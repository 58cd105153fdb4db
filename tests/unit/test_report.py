"""Merging the results folders of a suite split across runners (recorded shard outputs, no emulator)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from fargate_harness import report
from fargate_harness.report import Collector, Tally

JUNIT_1 = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0"
failures="1" skipped="0" tests="2" time="20.5"><testcase classname="tests.scenarios.test_basic" name="test_outputs"
time="12.0" /><testcase classname="tests.scenarios.test_basic" name="test_preflight" time="8.5"><failure
message="boom">boom</failure></testcase></testsuite></testsuites>"""

JUNIT_2 = """<?xml version="1.0" encoding="utf-8"?><testsuite name="pytest" errors="1" failures="0" skipped="1"
tests="3" time="11.25"><testcase classname="tests.scenarios.test_secrets" name="test_secret" time="9.0" />
<testcase classname="tests.scenarios.test_secrets" name="test_skip" time="0.0"><skipped message="x" /></testcase>
<testcase classname="tests.unit.test_x" name="test_y" time="2.25"><error message="e">e</error></testcase>
</testsuite>"""


def summary(scenario: str, prefix: str, failed: bool = False, error: str = "") -> dict[str, object]:
    return {
        "scenario": scenario,
        "prefix": prefix,
        "timings": {"init": 1.0, "apply": 3.0, "plan": 1.5, "destroy": 2.0},
        "resources": 6,
        "failed": failed,
        "kept": "/results/kept" if failed else "",
        "error": error,
    }


def shard(root: Path, name: str, junit: str, collector: Collector, summaries: list[dict[str, object]]) -> Path:
    folder = root / name
    run_dir = folder / "nightly-1"
    (run_dir / "summaries").mkdir(parents=True)
    for item in summaries:
        (run_dir / "summaries" / f"{item['scenario']}-{item['prefix']}.json").write_text(json.dumps(item))
    (folder / "junit.xml").write_text(junit)
    (folder / "report.md").write_text(report.render("nightly-1", "aws", collector, summaries))
    return folder


def test_parse_report_reads_back_what_render_wrote() -> None:
    collector = Collector()
    collector.add("basic", "tests/scenarios/test_basic.py::test_outputs", "passed", "call")
    collector.add("basic", "tests/scenarios/test_basic.py::test_preflight", "failed", "call")
    text = report.render("run-7", "embedded", collector, [summary("basic", "fh-a")])
    text += "\n## Leaked resources (final sweep)\n\n```\nnothing left\n```\n"
    parsed = report.parse_report(text)
    assert parsed.run_id == "run-7"
    assert parsed.target == "embedded"
    assert parsed.tallies == {
        "basic": Tally(1, 1, 0, "FAIL", ["tests/scenarios/test_basic.py::test_preflight"]),
    }
    assert parsed.extra.startswith("## Leaked resources (final sweep)")


def test_parse_report_without_the_comment_falls_back_to_the_table() -> None:
    text = (
        "# fargate-harness run old\n\nTarget: `aws`\n\n| scenario | verdict | tests passed/failed/skipped | preflight |"
        " resources | init s | apply s | plan s | destroy s |\n|---|---|---|---|---|---|---|---|---|\n"
        "| basic | FAIL | 3/1/0 | pass | 6 | 1.0 | 2.0 | 1.0 | 2.0 |\n| secrets | skip | 0/0/2 | - | 0 | 0.0 | 0.0 |"
        " 0.0 | 0.0 |\n\n## Failures\n\n- `tests/scenarios/test_basic.py::test_x`\n"
    )
    parsed = report.parse_report(text)
    assert parsed.tallies["basic"] == Tally(3, 1, 0, "pass", ["tests/scenarios/test_basic.py::test_x"])
    assert parsed.tallies["secrets"] == Tally(0, 0, 2, "")


def test_merge_junit_keeps_every_testcase_and_sums_the_totals() -> None:
    merged = ET.fromstring(report.merge_junit([("shard-1", JUNIT_1), ("shard-2", JUNIT_2)]))
    assert [s.get("name") for s in merged.iter("testsuite")] == ["pytest (shard-1)", "pytest (shard-2)"]
    assert len(list(merged.iter("testcase"))) == 5
    assert (merged.get("tests"), merged.get("failures"), merged.get("errors"), merged.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    assert merged.get("time") == "31.750"


def test_merge_writes_one_junit_one_report_and_every_summary(tmp_path: Path) -> None:
    one = Collector()
    one.add("basic", "tests/scenarios/test_basic.py::test_outputs", "passed", "call")
    one.add("basic", "tests/scenarios/test_basic.py::test_preflight", "failed", "call")
    two = Collector()
    two.add("secrets", "tests/scenarios/test_secrets.py::test_secret", "passed", "call")
    two.add("secrets", "tests/scenarios/test_secrets.py::test_skip", "skipped", "setup")
    two.add("basic", "tests/scenarios/test_basic.py::test_split_here", "passed", "call")  # a module split in two
    first = shard(tmp_path, "shard-1", JUNIT_1, one, [summary("basic", "fh-a", failed=True, error="apply failed")])
    second = shard(tmp_path, "shard-2", JUNIT_2, two, [summary("secrets", "fh-b"), summary("basic", "fh-c")])
    with (second / "report.md").open("a") as handle:
        handle.write("\n## Leaked resources (final sweep)\n\n```\n0 left\n```\n")

    result = report.merge(tmp_path / "merged", [first, second])

    assert result.tests == 5
    assert result.failures == 2
    assert result.summaries == 3
    assert sorted(p.name for p in (tmp_path / "merged" / "summaries").iterdir()) == [
        "shard-1-basic-fh-a.json",
        "shard-2-basic-fh-c.json",
        "shard-2-secrets-fh-b.json",
    ]
    junit = ET.parse(tmp_path / "merged" / "junit.xml").getroot()
    names = {f"{c.get('classname')}::{c.get('name')}" for c in junit.iter("testcase")}
    assert "tests.scenarios.test_basic::test_outputs" in names
    assert "tests.scenarios.test_secrets::test_secret" in names
    text = (tmp_path / "merged" / "report.md").read_text()
    assert text.startswith("# fargate-harness run nightly-1\n")
    assert "Merged from 2 shard(s)" in text
    tallies_table, applied_table = text.split("## Applied runs", 1)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in tallies_table.splitlines() if line.startswith("| ")}
    applied = [line for line in applied_table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert applied == [
        "| basic | fh-a | FAIL | - | 6 | 1.0 | 3.0 | 1.5 | 2.0 |",
        "| basic | fh-c | pass | - | 6 | 1.0 | 3.0 | 1.5 | 2.0 |",
        "| secrets | fh-b | pass | - | 6 | 1.0 | 3.0 | 1.5 | 2.0 |",
    ], "one row per applied run, with its own verdict"
    assert rows["basic"].startswith("| basic | FAIL | 2/1/0 | FAIL | 12 | 2.0 | 6.0 | 3.0 | 4.0 |")
    assert rows["secrets"].startswith("| secrets | pass | 1/0/1 | - | 6 |")
    assert "- `tests/scenarios/test_basic.py::test_preflight`" in text
    assert "apply failed" in text
    assert "## From shard shard-2\n\n## Leaked resources (final sweep)" in text
    assert report.parse_report(text).tallies["basic"].passed == 2


def test_merge_command_line(tmp_path: Path, capsys: object) -> None:
    first = shard(tmp_path, "s1", JUNIT_1, Collector(), [])
    second = shard(tmp_path, "s2", JUNIT_2, Collector(), [])
    assert report.main(["merge", str(tmp_path / "out"), str(first), str(second)]) == 0
    assert (tmp_path / "out" / "junit.xml").is_file()
    assert (tmp_path / "out" / "report.md").is_file()


FINDING = (
    "prod: aws_ecs_task_definition.app: expected secretsmanager:GetSecretValue on aws_secretsmanager_secret.token "
    "to be allowed for container app secret TOKEN, got Denied implicitly (ResourceInitializationError: unable to "
    "pull secrets or registry auth); fix: add aws_secretsmanager_secret.token.arn to the Resource of statement "
    "'Secrets' in aws_iam_role_policy.execution (modules/ecs-service/iam.tf:12)"
)
WARNING = (
    "aws_ecs_task_definition.app: expected ... to exist, got no value yet (ResourceNotFoundException); fix: put a "
    "value in the secret"
)


def test_the_report_carries_each_failure_s_message_its_fixes_and_the_warnings_apart() -> None:
    """A reviewer reads the reason in the report: the failed test's finding, its fix on a line of its own, and the
    preflight's warnings in their own section (never inside the failure)."""
    collector = Collector()
    nodeid = "tests/infra/test_prod.py::test_tasks_start"
    message = f"prod: expected every task to start, got task definition app:1 not starting (1 finding below)\n{FINDING}"
    collector.add("prod", nodeid, "failed", "call", message)
    run = {**summary("prod", "fh-a", failed=True), "preflight": "fail", "warnings": [WARNING]}
    text = report.render("run-8", "embedded", collector, [run])
    failures = text.split("## Failures", 1)[1].split("## Warnings", 1)[0]
    assert f"- `{nodeid}`" in failures, text
    assert "  - " + FINDING.split("; fix: ", maxsplit=1)[0] in failures, text
    assert "    - fix: add aws_secretsmanager_secret.token.arn to the Resource" in failures, text
    assert "no value yet" not in failures, text
    warnings = text.split("## Warnings", 1)[1]
    what, fix = WARNING.split("; fix: ")
    assert f"- prod run fh-a: {what}\n  - fix: {fix}" in warnings, text
    rows = [line for line in text.splitlines() if line.startswith("| prod |")]
    assert rows and all("| FAIL |" in row and "| -" not in row for row in rows), rows  # one vocabulary, both tables


def test_an_interrupted_run_says_interrupted_everywhere() -> None:
    """Ctrl-C before any test finished: no ``FAIL 0/0/0``, no "tests failed"."""
    run = {**summary("prod", "fh-a", failed=True), "interrupted": True}
    text = report.render("run-9", "embedded", Collector(), [run], interrupted=True)
    assert "**Interrupted**" in text, text
    (top, applied) = [line for line in text.splitlines() if line.startswith("| prod |")]
    assert top.startswith("| prod | interrupted | 0/0/0 |"), top
    assert "| interrupted |" in applied, applied
    assert "FAIL" not in text and "tests failed" not in text, text
    assert "- prod run fh-a (kept in `/results/kept`): interrupted" in text, text


def test_parse_report_reads_the_messages_back() -> None:
    collector = Collector()
    collector.add("prod", "t.py::test_x", "failed", "call", FINDING)
    parsed = report.parse_report(report.render("run-1", "aws", collector, []))
    assert parsed.tallies["prod"].messages == {"t.py::test_x": FINDING}


def test_a_message_that_holds_the_comment_end_still_reads_back() -> None:
    collector = Collector()
    collector.add("prod", "t.py::test_x", "failed", "call", "expected a --> b")
    text = report.render("run-1", "aws", collector, [])
    comment = text.rsplit("<!--", 1)[1]
    assert comment.count("-->") == 1, f"the message ends the HTML comment early: {comment}"
    assert report.parse_report(text).tallies["prod"].messages == {"t.py::test_x": "expected a --> b"}
