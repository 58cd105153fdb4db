"""The bench's aggregation, over outputs recorded from real runs (no emulator, no Terraform)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tools import bench

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0"
failures="0" skipped="1" tests="5" time="31.2"><testcase classname="tests.scenarios.test_basic"
name="test_outputs" time="9.500" /><testcase classname="tests.scenarios.test_basic" name="test_preflight"
time="0.250" /><testcase classname="tests.scenarios.test_broken.TestMissingSecret" name="test_fails"
time="6.125" /><testcase classname="tests.unit.test_core_masking" name="test_masker" time="0.002" />
<testcase classname="tests.scenarios.test_secrets" name="test_skipped" time="0.000"><skipped message="x" />
</testcase></testsuite></testsuites>"""

DURATIONS = """============================= slowest durations ==============================
9.12s setup    tests/scenarios/test_basic.py::test_outputs
0.31s call     tests/scenarios/test_basic.py::test_outputs
0.20s call     tests/scenarios/test_broken.py::TestMissingSecret::test_fails
0.05s call     tests/unit/test_core_masking.py::test_masker
3.90s teardown tests/scenarios/test_basic.py::test_preflight
(12 durations < 0.005s hidden.  Use -vv to show these durations.)
"""

RUN_TABLE = """target: embedded (http://127.0.0.1:40111)
scenario             result  resources  checks    init   apply    plan  checks destroy
---------------------------------------------------------------------------------------
basic                ok              6     9/9     0.4     3.1     1.0     0.6     1.9
secrets              ok              7     8/8     0.3     2.9     1.1     0.4     2.0
ssm-kms              FAIL            0     0/1     0.3       -       -     0.1       -

basic: aws_iam_role.execution, aws_ecs_task_definition.this
2 passed, 1 failed, 0 skipped in 14.2s
"""


def test_file_of_a_classname_stops_at_the_class() -> None:
    assert bench.file_of_classname("tests.scenarios.test_basic") == "tests/scenarios/test_basic.py"
    assert bench.file_of_classname("tests.scenarios.test_broken.TestMissingSecret") == "tests/scenarios/test_broken.py"


def test_seconds_per_file_sums_testcases_and_sorts_slowest_first() -> None:
    per_file = bench.seconds_per_file(JUNIT)
    assert per_file == {
        "tests/scenarios/test_basic.py": 9.75,
        "tests/scenarios/test_broken.py": 6.125,
        "tests/unit/test_core_masking.py": 0.002,
        "tests/scenarios/test_secrets.py": 0.0,
    }
    assert next(iter(per_file)) == "tests/scenarios/test_basic.py"


def test_call_seconds_counts_only_the_call_phase_under_the_folder() -> None:
    assert abs(bench.call_seconds(DURATIONS) - 0.51) < 1e-9
    assert abs(bench.call_seconds(DURATIONS, under="tests/unit/") - 0.05) < 1e-9


def test_stage_sums_over_summaries_with_checks() -> None:
    summaries = [
        {"scenario": "basic", "timings": {"init": 0.5, "apply": 3.0, "plan": 1.0, "destroy": 2.0}},
        {"scenario": "secrets", "timings": {"init": 0.25, "apply": 2.0, "plan": 1.0}},  # destroy never ran
        {"scenario": "odd", "timings": {"custom": 9.0}},
    ]
    assert bench.stage_sums(summaries, checks=1.5) == {
        "init": 0.75,
        "apply": 5.0,
        "plan": 2.0,
        "destroy": 2.0,
        "checks": 1.5,
    }


def test_run_table_stages_reads_only_scenario_rows() -> None:
    sums = bench.run_table_stages(RUN_TABLE, ["basic", "secrets", "ssm-kms"])
    expected = {"init": 1.0, "apply": 6.0, "plan": 2.1, "destroy": 3.9, "checks": 1.1}
    assert sums.keys() == expected.keys()
    assert all(abs(sums[stage] - seconds) < 1e-9 for stage, seconds in expected.items())
    assert bench.run_table_stages(RUN_TABLE, ["basic"])["apply"] == 3.1


def test_a_batch_s_terraform_seconds_count_once() -> None:
    table = RUN_TABLE.replace(
        "ssm-kms              FAIL            0     0/1     0.3       -       -     0.1       -\n",
        "ssm-kms              ok              7     8/8     0.4     3.1     1.0     0.2     1.9\n"
        "batch: basic, ssm-kms applied as one root; each row shows the batch's init, apply, plan and destroy seconds\n",
    )
    sums = bench.run_table_stages(table, ["basic", "secrets", "ssm-kms"])
    expected = {"init": 0.7, "apply": 6.0, "plan": 2.1, "destroy": 3.9, "checks": 1.2}
    assert all(abs(sums[stage] - seconds) < 1e-9 for stage, seconds in expected.items()), sums


def test_terraform_counts_from_the_shim() -> None:
    assert bench.terraform_commands(["version", "init", "apply", "plan", "apply", ""]) == Counter(
        {"apply": 2, "version": 1, "init": 1, "plan": 1, "(none)": 1}
    )


def test_summary_line_has_the_fixed_shape() -> None:
    assert (
        bench.summary_line(60.0, 40.0, [1.1, 1.45, 0.9], 123.44)
        == "bench summary: run/bare 1.50, worst scenario 1.45, suite 123.4 s"
    )
    assert bench.summary_line(None, 0.0, [], None) == "bench summary: run/bare n/a, worst scenario n/a, suite skipped"


def test_terraform_shim_records_then_runs_the_real_binary(tmp_path: Path) -> None:
    import subprocess

    real = tmp_path / "real"
    real.write_text('#!/bin/sh\necho "real $*"\n')
    real.chmod(0o755)
    record = tmp_path / "record.txt"
    folder = bench.terraform_shim(tmp_path / "bin", real, record)
    out = subprocess.run([str(folder / "terraform"), "plan", "-no-color"], capture_output=True, text=True, check=True)
    assert out.stdout == "real plan -no-color\n"
    subprocess.run([str(folder / "terraform")], capture_output=True, check=True)
    assert record.read_text().splitlines() == ["plan", ""]


def test_workers_default_to_two_per_core_and_refuse_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """`make bench` times the suite with the Makefile's WORKERS (2 per core); fewer than one is bad input."""
    assert bench._arguments([]).workers == 2 * len(os.sched_getaffinity(0))
    assert bench._arguments(["--workers", "3"]).workers == 3
    with pytest.raises(SystemExit) as exited:
        bench._arguments(["--workers", "0"])
    assert exited.value.code == 2
    assert "--workers 0: give at least 1" in capsys.readouterr().err


def test_plan_with_task_definitions_plans_each_once() -> None:
    import json

    document = json.loads(bench.PLAN_SOURCE.read_text())
    before = json.dumps(document, sort_keys=True)
    plan = bench.plan_with_task_definitions(document, 3)
    addresses = [c["address"] for c in plan["resource_changes"] if c["type"] == "aws_ecs_task_definition"]
    assert addresses == [f"aws_ecs_task_definition.bench[{i}]" for i in range(3)]
    families = {c["change"]["after"]["family"] for c in plan["resource_changes"] if c["address"] in addresses}
    assert len(families) == 3, families
    assert not [
        r for r in plan["prior_state"]["values"]["root_module"]["resources"] if r["type"].endswith("definition")
    ]
    assert json.dumps(document, sort_keys=True) == before, "the source document must not change"


def test_plan_preflight_throughput_decides_every_task_definition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seconds = bench.plan_preflight_throughput(tmp_path, count=5)
    assert seconds > 0
    assert "plan preflight of 5 task definitions from one plan JSON" in capsys.readouterr().out
