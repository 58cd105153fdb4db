"""``make bench``: what the harness costs on top of Terraform, and how the suite scales with workers.

In one process tree, on the embedded target: each scenario is applied through the harness
(:class:`~fargate_harness.runner.run.TerraformRun`) and through the bare Terraform CLI on an identical copy
(same provider override, same variables), stage by stage; ``fargate-harness run`` of the same
scenarios (checks included); then the scenario suite's wall time with 1, 2 and ``--workers`` xdist
workers, and the whole suite as ``make test`` runs it with ``--workers`` (wall per test file, seconds
per stage, Terraform processes, peak memory). The last line is
``bench summary: run/bare R, worst scenario R, suite S s``.
A benchmark, not a test: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fargate_harness import configurations
from fargate_harness.cli import BATCH_LINE
from fargate_harness.lifecycle import Lifecycle
from fargate_harness.options import run_id
from fargate_harness.report import STAGES
from fargate_harness.runner import toolchain
from fargate_harness.runner.overrides import OVERRIDE_FILE, provider_aliases, selected_provider_version
from fargate_harness.runner.provider_override import provider_override
from fargate_harness.runner.provider_schema import cached
from fargate_harness.runner.workspace import copy_configuration
from fargate_harness.targets import EmbeddedTarget, Target


def bare_terraform(
    scenario: configurations.Configuration, tools: toolchain.Toolchain, target: Target, variables: dict[str, str]
) -> dict[str, float]:
    """Seconds per stage for the plain CLI on a copy of the scenario (the baseline: the caller's environment,
    with the harness's CLI config for the provider source but not its Go runtime settings)."""
    env = {**os.environ, **tools.env(tuned=False), **target.terraform_env()}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix=f"bench-{scenario.name}-") as tmp:
        tfdir = copy_configuration(scenario.path, Path(tmp) / "config")
        var_file = Path(tmp) / "bench.tfvars.json"
        var_file.write_text(json.dumps(variables))
        values = f"-var-file={var_file}"
        commands = {
            "init": ["init", "-input=false", "-no-color"],
            "apply": ["apply", "-input=false", "-no-color", "-auto-approve", values],
            "plan": ["plan", "-input=false", "-no-color", "-detailed-exitcode", values],
            "destroy": ["destroy", "-input=false", "-no-color", "-auto-approve", values],
        }
        for stage, argv in commands.items():
            started = time.perf_counter()
            proc = subprocess.run(
                [str(tools.terraform), *argv], cwd=tfdir, env=env, capture_output=True, text=True, check=False
            )
            timings[stage] = time.perf_counter() - started
            if proc.returncode != 0:
                raise SystemExit(f"bare terraform {stage} of {scenario.name} exited {proc.returncode}:\n{proc.stderr}")
            if stage == "init":
                version = selected_provider_version(tfdir) or "3.39.0"

                def schema_of(folder: Path = tfdir) -> dict[str, object]:
                    answer = subprocess.run(
                        [str(tools.terraform), "providers", "schema", "-json"],
                        cwd=folder,
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    return dict(json.loads(answer.stdout))

                override = provider_override(
                    target, version, provider_aliases(tfdir), schema=cached(version, schema_of)
                )
                if override:
                    (tfdir / OVERRIDE_FILE).write_text(override)
    return timings


def harness_run(
    scenario: configurations.Configuration, tools: toolchain.Toolchain, target: Target, results: Path
) -> tuple[dict[str, float], dict[str, str]]:
    """Seconds per stage through the harness, and the variables used (reused for the bare run)."""
    with Lifecycle(target, tools, results, worker="bench").applied(scenario) as run:
        variables = {k: str(v) for k, v in run.variables.items()}
    return dict(run.timings), variables


def suite_wall_time(workers: int) -> float:
    """Wall seconds of the scenario suite under pytest-xdist with ``workers`` workers."""
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            str(workers),
            "--dist",
            "loadscope",
            "tests/scenarios",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"suite with {workers} worker(s) failed:\n{proc.stdout[-3000:]}")
    return wall


def preflight_throughput(tools: toolchain.Toolchain, target: Target, results: Path, count: int = 100) -> None:
    """Permission checks per second, and preflight of ``count`` task definitions on the embedded target."""
    from fargate_harness.iam import Evaluator
    from fargate_harness.preflight import AwsFacts, derive, preflight_many

    with Lifecycle(target, tools, results, worker="bench").applied(configurations.get("ssm-kms")) as run:
        (service,) = run.outputs["services"].values()
        ecs = target.client("ecs")
        td = ecs.describe_task_definition(taskDefinition=service["task_definition_arn"])["taskDefinition"]
        keep = (
            "family",
            "containerDefinitions",
            "executionRoleArn",
            "networkMode",
            "requiresCompatibilities",
            "cpu",
            "memory",
        )
        arns = [
            ecs.register_task_definition(**{k: td[k] for k in keep if k in td})["taskDefinition"]["taskDefinitionArn"]
            for _ in range(count)
        ]
        facts = AwsFacts(target)
        role = facts.role(service["execution_role_arn"])
        requirements = derive(td, facts, principal_account=target.account_id(), region=target.region)
        evaluator = Evaluator(principal=role.arn, identity_policies=role.policies, boundary=role.boundary)
        checks, started = 0, time.perf_counter()
        while time.perf_counter() - started < 2.0:
            for requirement in requirements:
                evaluator.evaluate(requirement.action, requirement.resource, dict(requirement.context))
                checks += 1
        per_second = checks / (time.perf_counter() - started)
        print(f"permission checks (identity side, compiled policies): {per_second:,.0f} per second")
        for label, shared in (("fresh reads per task definition", False), ("shared reads (one AwsFacts)", True)):
            started = time.perf_counter()
            reusable = AwsFacts(target)
            reports = preflight_many([(target, arn, reusable if shared else AwsFacts(target)) for arn in arns])
            wall = time.perf_counter() - started
            assert all(r.will_start for r in reports), "bench: a reference task definition failed preflight"
            print(f"preflight of {count} task definitions, {label}: {wall:.2f}s ({count / wall:.1f} per second)")


#: A configuration of 7 resources with a terraform test file of one plan run and one apply run.
TFTEST_CONFIG = Path(__file__).resolve().parents[1] / "tests" / "data" / "configs" / "tftest-service"
TFTEST_FILE = "tests/service.tftest.hcl"


def terraform_test_row(tools: toolchain.Toolchain, target: Target, results: Path) -> tuple[float, float]:
    """Seconds of ``fargate-harness test`` (init, override, ``terraform test``, in a fresh account) and of bare
    ``terraform init`` + ``terraform test`` of the same file against the same running emulator."""
    started = time.perf_counter()
    lifecycle = Lifecycle(target, tools, results, worker="bench")
    (result,) = lifecycle.terraform_tests(configurations.from_path(TFTEST_CONFIG), [TFTEST_FILE])
    harness = time.perf_counter() - started
    if not result.passed:
        raise RuntimeError(f"bench: {TFTEST_FILE} failed through the harness: {result}")
    env = {**os.environ, **tools.env(tuned=False), **target.terraform_env()}
    with tempfile.TemporaryDirectory(prefix="bench-tftest-") as tmp:
        tfdir = copy_configuration(TFTEST_CONFIG, Path(tmp) / "config", with_tests=True)
        started = time.perf_counter()
        subprocess.run([str(tools.terraform), "init", "-input=false", "-no-color"], cwd=tfdir, env=env, check=True)
        version = selected_provider_version(tfdir) or "3.39.0"
        (tfdir / OVERRIDE_FILE).write_text(provider_override(target, version, []) or "")
        answer = subprocess.run(
            [str(tools.terraform), "test", f"-filter={TFTEST_FILE}", "-no-color"], cwd=tfdir, env=env, check=False
        )
        bare = time.perf_counter() - started
    if answer.returncode != 0:
        raise RuntimeError(f"bench: bare terraform test of {TFTEST_FILE} exited {answer.returncode}")
    return harness, bare


def localstack_side_by_side(tools: toolchain.Toolchain, embedded: Target, results: Path) -> None:
    """The scenarios both targets can run, on both, with the LocalStack/embedded ratio."""
    from fargate_harness.configurations import skip_reason
    from fargate_harness.targets import LocalStackTarget
    from tools import localstack_runtime

    with localstack_runtime.running() as runtime:
        localstack = LocalStackTarget(endpoint=runtime.endpoint)
        localstack.start()
        print(f"{'scenario':<20} {'embedded s':>10} {'localstack s':>12} {'ratio':>6}")
        for name, scenario in configurations.discover().items():
            if skip_reason(scenario, localstack):
                print(f"{name:<20} {'':>10} {'skipped':>12}   ({skip_reason(scenario, localstack)})")
                continue
            extra = {"create_task_definition": "false"} if "create_task_definition" in scenario.variables else {}
            seconds = []
            for target in (embedded, localstack):
                with Lifecycle(target, tools, results, worker="bench").applied(scenario, values=extra) as run:
                    pass
                seconds.append(sum(run.timings.values()))
            print(f"{name:<20} {seconds[0]:>10.2f} {seconds[1]:>12.2f} {seconds[1] / seconds[0]:>6.2f}")


# -- aggregation (pure functions over recorded outputs; unit-tested) ---------------------------------------
#: Stages summed over scenario runs: Terraform's four, and the checks (``fargate-harness run``'s column; in
#: the pytest suite, the call phase of the scenario tests).
BREAKDOWN_STAGES = ("init", "apply", "plan", "destroy", "checks")


def file_of_classname(classname: str) -> str:
    """The test file of a JUnit ``classname``: its dotted parts up to the first class name (capitalised), so
    ``tests.scenarios.test_basic.TestX`` gives ``tests/scenarios/test_basic.py``."""
    parts = classname.split(".")
    module = []
    for part in parts:
        if part[:1].isupper():
            break
        module.append(part)
    return "/".join(module or parts) + ".py"


def seconds_per_file(junit_xml: str) -> dict[str, float]:
    """Wall seconds per test file from a pytest JUnit XML (each testcase's time: setup + call + teardown)."""
    root = ET.fromstring(junit_xml)
    totals: dict[str, float] = defaultdict(float)
    for case in root.iter("testcase"):
        totals[file_of_classname(case.get("classname", ""))] += float(case.get("time") or 0.0)
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def call_seconds(durations_output: str, under: str = "tests/scenarios/") -> float:
    """Sum of the ``call`` phases that ``pytest --durations=0`` printed for tests under ``under``."""
    total = 0.0
    for line in durations_output.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0].endswith("s") and fields[1] == "call" and fields[2].startswith(under):
            try:
                total += float(fields[0][:-1])
            except ValueError:
                continue
    return total


def stage_sums(summaries: Iterable[Mapping[str, Any]], checks: float | None = None) -> dict[str, float]:
    """Seconds per stage summed over the scenario runs' summaries (``fargate_harness.report.write_summary``)."""
    sums = dict.fromkeys(BREAKDOWN_STAGES, 0.0)
    for summary in summaries:
        for stage, seconds in (summary.get("timings") or {}).items():
            if stage in sums:
                sums[stage] += float(seconds)
    if checks is not None:
        sums["checks"] += checks
    return sums


def run_table_stages(output: str, names: Iterable[str]) -> dict[str, float]:
    """Seconds per stage summed over the rows of ``fargate-harness run``'s table (``-`` is a stage not run).

    A row reads ``<scenario> <ok|FAIL> <resources> <passed/applicable> init apply plan checks destroy``. The rows
    of a batch (the ``batch: a, b, ...`` line names them) show the batch's Terraform seconds: counted once."""
    wanted = set(names)
    order = ("init", "apply", "plan", "checks", "destroy")
    batched: set[str] = set()
    for line in output.splitlines():
        if line.startswith(BATCH_LINE):
            batched |= {n.strip() for n in line[len(BATCH_LINE) :].split(" applied as one root")[0].split(",")}
    sums = dict.fromkeys(BREAKDOWN_STAGES, 0.0)
    batch_counted = False
    for line in output.splitlines():
        fields = line.split()
        if len(fields) != 4 + len(order) or fields[0] not in wanted or fields[1] not in ("ok", "FAIL"):
            continue
        shared = fields[0] in batched and batch_counted
        batch_counted = batch_counted or fields[0] in batched
        for stage, cell in zip(order, fields[4:], strict=True):
            if cell != "-" and not (shared and stage != "checks"):
                sums[stage] += float(cell)
    return sums


def terraform_commands(lines: Iterable[str]) -> Counter[str]:
    """Terraform processes per sub-command, from the lines a PATH shim recorded (the first argument of each)."""
    return Counter(line.strip() or "(none)" for line in lines)


def summary_line(run_wall: float | None, bare_serial: float, ratios: Iterable[float], suite: float | None) -> str:
    """The one line a reader (or a script) takes from the bench."""
    run_bare = f"{run_wall / bare_serial:.2f}" if run_wall is not None and bare_serial > 0 else "n/a"
    worst = max(ratios, default=None)
    worst_text = f"{worst:.2f}" if worst is not None else "n/a"
    suite_text = f"{suite:.1f} s" if suite is not None else "skipped"
    return f"bench summary: run/bare {run_bare}, worst scenario {worst_text}, suite {suite_text}"


# -- the measured runs ------------------------------------------------------------------------------------
def cli_run_wall(names: list[str], results: Path) -> tuple[float, str]:
    """Wall seconds and output of ``fargate-harness run`` of ``names`` (its own emulator, checks included)."""
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(results / "cli-run")}
    argv = [sys.executable, "-m", "fargate_harness.cli", "run", *[a for n in names for a in ("--scenario", n)]]
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(
            f"fargate-harness run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
        )
    return wall, proc.stdout


@dataclass
class SuiteRun:
    """The whole suite as ``make test`` runs it, with what the bench reads from it."""

    wall: float
    per_file: dict[str, float] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    terraform: Counter[str] = field(default_factory=Counter)


def terraform_shim(folder: Path, real: Path, record: Path) -> Path:
    """A ``terraform`` on PATH that records its first argument in ``record``, then runs the real one."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "terraform"
    shim.write_text(
        f'#!/bin/sh\nprintf \'%s\\n\' "${{1:-}}" >> {shlex.quote(str(record))}\nexec {shlex.quote(str(real))} "$@"\n'
    )
    shim.chmod(0o755)
    return folder


def full_suite(tools: toolchain.Toolchain, results: Path, workers: int) -> SuiteRun:
    """``pytest -n WORKERS --dist loadscope`` over every test (``make test``), with JUnit XML, ``--durations=0``,
    its own results folder and a Terraform shim on PATH counting processes."""
    folder = results / "suite"
    record = folder / "terraform-commands.txt"
    shim_dir = terraform_shim(folder / "bin", tools.terraform, record)
    junit = folder / "junit.xml"
    env = {
        **os.environ,
        "PATH": f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HARNESS_RESULTS_DIR": str(folder / "results"),
    }
    env.pop("TERRAFORM_BINARY", None)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers), "--dist", "loadscope"]
    argv += [f"--junitxml={junit}", "--durations=0", "--durations-min=0"]
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the suite (make test) failed:\n{proc.stdout[-3000:]}")
    summaries = [json.loads(p.read_text()) for p in sorted((folder / "results").glob("*/summaries/*.json"))]
    return SuiteRun(
        wall=wall,
        per_file=seconds_per_file(junit.read_text()) if junit.is_file() else {},
        stages=stage_sums(summaries, checks=call_seconds(proc.stdout)),
        terraform=terraform_commands(record.read_text().splitlines() if record.is_file() else []),
    )


def emulator_peak_mib(target: EmbeddedTarget) -> float | None:
    """The embedded emulator's peak RSS (VmHWM) in MiB, read while it runs (None when not known)."""
    process = getattr(target, "_process", None)
    if process is None:
        return None
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def print_stage_sums(label: str, sums: Mapping[str, float]) -> None:
    """One row of seconds per stage."""
    cells = "  ".join(f"{stage} {sums.get(stage, 0.0):.1f}" for stage in BREAKDOWN_STAGES)
    print(f"stage sums, {label}: {cells}  (total {sum(sums.values()):.1f} s)")


def suite_breakdown(tools: toolchain.Toolchain, results: Path, workers: int) -> SuiteRun:
    """The scenario suite with 1, 2 and ``workers`` workers, then the whole suite as ``make test`` runs it
    (``workers`` workers), printed."""
    print()
    counts = sorted({1, 2, workers})
    walls = {count: suite_wall_time(count) for count in counts}
    cells = ", ".join(f"{count} worker{'s' if count > 1 else ''} {walls[count]:.1f}s" for count in counts)
    print(f"scenario suite wall time: {cells} (speed-up over 1: {walls[1] / walls[counts[-1]]:.2f}x)")
    suite = full_suite(tools, results, workers)
    print(f"whole suite (make test: -n {workers} --dist loadscope): {suite.wall:.1f}s wall")
    print("wall seconds per test file (JUnit testcase times: setup + call + teardown):")
    for path, seconds in suite.per_file.items():
        print(f"  {seconds:>7.1f}  {path}")
    print_stage_sums("scenario runs of the suite (checks: call phase of tests/scenarios)", suite.stages)
    commands = ", ".join(f"{cmd} {n}" for cmd, n in suite.terraform.most_common())
    print(f"terraform processes started by the suite: {sum(suite.terraform.values())} ({commands})")
    return suite


def warmed_emulator(results: Path) -> tuple[EmbeddedTarget, float]:
    """The bench's emulator, started and warmed, and the seconds that took: reported on their own, so the
    first scenario's per-stage ratio compares like with like (its bare twin runs on the warm emulator)."""
    target = EmbeddedTarget(log_path=results / "moto.log")
    started = time.perf_counter()
    target.start()
    target.wait_ready()
    return target, time.perf_counter() - started


#: A real plan (aws 3.39.0) of the secrets scenario against its applied stack (tests/data/plans/README.md).
PLAN_SOURCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "plans" / "aws-3.39" / "secrets-unchanged.json"


def plan_with_task_definitions(document: Mapping[str, Any], count: int) -> dict[str, Any]:
    """``document`` (a ``terraform show -json`` plan) with its first task definition planned ``count`` times, as
    ``aws_ecs_task_definition.bench[0..count-1]`` (each a new revision of its own family)."""
    plan = json.loads(json.dumps(document))
    changes = plan["resource_changes"]
    template = next(c for c in changes if c["type"] == "aws_ecs_task_definition")
    plan["resource_changes"] = [c for c in changes if c["type"] != "aws_ecs_task_definition"]
    root = plan["prior_state"]["values"]["root_module"]
    root["resources"] = [r for r in root.get("resources", []) if r["type"] != "aws_ecs_task_definition"]
    for index in range(count):
        copied = json.loads(json.dumps(template))
        copied["address"], copied["name"], copied["index"] = f"aws_ecs_task_definition.bench[{index}]", "bench", index
        after = copied["change"]["after"]
        after["family"] = f"{after['family']}-{index}"
        after["arn"] = str(after["arn"]).replace(":task-definition/", ":task-definition/bench-").rsplit(":", 1)[0]
        after["arn"] = f"{after['arn']}-{index}:1"
        plan["resource_changes"].append(copied)
    return dict(plan)


def plan_preflight_throughput(results: Path, count: int = 100) -> float:
    """``preflight --plan`` of one plan JSON holding ``count`` task definitions (no emulator): the seconds, the
    first plan of the process (the AWS managed policy documents are parsed in it)."""
    from fargate_harness.preflight.plan import WILL_START, preflight_plan

    path = results / "bench-plan.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan_with_task_definitions(json.loads(PLAN_SOURCE.read_text()), count)))
    started = time.perf_counter()
    result = preflight_plan(path)
    wall = time.perf_counter() - started
    assert len(result.reports) == count and all(r.verdict == WILL_START for r in result.reports), result.table()
    print(f"plan preflight of {count} task definitions from one plan JSON: {wall:.2f}s ({count / wall:.0f} per second)")
    return wall


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--scenario", action="append", help="limit to these scenarios")
    parser.add_argument("--skip-suite", action="store_true", help="skip the suite timings")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * len(os.sched_getaffinity(0)),
        help="xdist workers of make test (default: 2 per core, as the Makefile's WORKERS)",
    )
    parser.add_argument("--skip-localstack", action="store_true", help="skip the LocalStack side-by-side timings")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers {args.workers}: give at least 1 xdist worker")
    return args


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark tables."""
    args = _arguments(argv)
    tools = toolchain.prepare()
    found = configurations.discover()
    names = args.scenario or list(found)
    results = Path("results").resolve() / run_id() / "bench"
    target, warm_seconds = warmed_emulator(results)
    print(f"terraform {tools.version} ({tools.origin}), provider source {tools.provider_source}, target embedded")
    print(f"embedded emulator started, its services warmed, in {warm_seconds:.1f}s")
    header = f"{'scenario':<20} {'path':<8} " + " ".join(f"{s:>8}" for s in STAGES) + f" {'total':>8} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    ratios: list[float] = []
    bare_serial = 0.0
    run_wall: float | None = None
    emulator_mib: float | None = None
    try:
        for name in names:
            scenario = found[name]
            through_harness, variables = harness_run(scenario, tools, target, results)
            bare = bare_terraform(scenario, tools, target, {**variables, "name_prefix": variables["name_prefix"] + "b"})
            h_total = sum(through_harness.get(s, 0.0) for s in STAGES)
            b_total = sum(bare.values())
            ratios.append(h_total / b_total)
            bare_serial += b_total
            for label, timings, ratio in (
                ("harness", through_harness, f"{h_total / b_total:>6.2f}"),
                ("bare", bare, ""),
            ):
                cells = " ".join(f"{timings.get(s, 0.0):>8.2f}" for s in STAGES)
                total = sum(timings.get(s, 0.0) for s in STAGES)
                print(f"{name if label == 'harness' else '':<20} {label:<8} {cells} {total:>8.2f} {ratio:>6}")
        print()
        harness_test, bare_test = terraform_test_row(tools, target, results)
        print(
            f"terraform test of {TFTEST_FILE} (a plan run and an apply run, 7 resources): fargate-harness test "
            f"{harness_test:.2f}s, bare terraform test {bare_test:.2f}s, ratio {harness_test / bare_test:.2f}"
        )
        print()
        preflight_throughput(tools, target, results)
        plan_preflight_throughput(results)
        if not args.skip_localstack:
            print()
            localstack_side_by_side(tools, target, results)
        emulator_mib = emulator_peak_mib(target)
    finally:
        target.stop()
    print()
    run_wall, run_output = cli_run_wall(names, results)
    print(
        f"fargate-harness run of {len(names)} scenarios (checks included): {run_wall:.1f}s wall; bare Terraform, "
        f"the same lifecycles one after another: {bare_serial:.1f}s"
    )
    print_stage_sums("fargate-harness run", run_table_stages(run_output, names))
    suite = None if args.skip_suite else suite_breakdown(tools, results, args.workers)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest child process (peak RSS): {peak_mb:.0f} MiB")
    if emulator_mib is not None:
        print(f"bench emulator (moto server) peak RSS: {emulator_mib:.0f} MiB")
    print(summary_line(run_wall, bare_serial, ratios, suite.wall if suite else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
