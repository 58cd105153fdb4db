"""``make bench``: what the harness costs on top of Terraform, and how the suite scales with workers.

In one process tree, on the embedded target: each scenario is applied through the harness
(:class:`~harness.terraform.ScenarioRun`) and through the bare Terraform CLI on an identical copy
(same provider override, same variables), stage by stage; then the scenario suite's wall time with 1
and 2 xdist workers. A benchmark, not a test: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import scenarios, toolchain
from harness.config import run_id
from harness.provider_schema import cached
from harness.report import STAGES
from harness.targets import EmbeddedTarget, Target
from harness.terraform import (
    OVERRIDE_FILE,
    copy_configuration,
    provider_aliases,
    selected_provider_version,
)


def bare_terraform(
    scenario: scenarios.Scenario, tools: toolchain.Toolchain, target: Target, variables: dict[str, str]
) -> dict[str, float]:
    """Seconds per stage for the plain CLI on a copy of the scenario (the baseline)."""
    env = {**os.environ, **tools.env(), **target.terraform_env()}
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

                override = target.provider_override(version, provider_aliases(tfdir), schema=cached(version, schema_of))
                if override:
                    (tfdir / OVERRIDE_FILE).write_text(override)
    return timings


def harness_run(
    scenario: scenarios.Scenario, tools: toolchain.Toolchain, target: Target, results: Path
) -> tuple[dict[str, float], dict[str, str]]:
    """Seconds per stage through the harness, and the variables used (reused for the bare run)."""
    run = scenarios.new_run(scenario, target=target, tools=tools, results_dir=results, worker="bench")
    variables = run.variables
    try:
        run.up()
    finally:
        run.down()
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
    from harness.iam import Evaluator
    from harness.preflight import AwsFacts, derive, preflight

    scenario = scenarios.get("ssm-kms")
    run = scenarios.new_run(scenario, target=target, tools=tools, results_dir=results, worker="bench")
    try:
        run.up()
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
            reports = [preflight(target, arn, reusable if shared else AwsFacts(target)) for arn in arns]
            wall = time.perf_counter() - started
            assert all(r.will_start for r in reports), "bench: a reference task definition failed preflight"
            print(f"preflight of {count} task definitions, {label}: {wall:.2f}s ({count / wall:.1f} per second)")
    finally:
        run.down()


def localstack_side_by_side(tools: toolchain.Toolchain, embedded: Target, results: Path) -> None:
    """The scenarios both targets can run, on both, with the LocalStack/embedded ratio."""
    from harness import localstack_runtime
    from harness.targets import LocalStackTarget
    from harness.targets.localstack import skip_reason

    with localstack_runtime.running() as runtime:
        localstack = LocalStackTarget(endpoint=runtime.endpoint)
        localstack.start()
        print(f"{'scenario':<20} {'embedded s':>10} {'localstack s':>12} {'ratio':>6}")
        for name, scenario in scenarios.discover().items():
            if skip_reason(scenario, localstack):
                print(f"{name:<20} {'':>10} {'skipped':>12}   ({skip_reason(scenario, localstack)})")
                continue
            extra = {"create_task_definition": "false"} if "create_task_definition" in scenario.variables else {}
            seconds = []
            for target in (embedded, localstack):
                run = scenarios.new_run(
                    scenario, target=target, tools=tools, results_dir=results, worker="bench", extra=extra
                )
                try:
                    run.up()
                finally:
                    run.down()
                seconds.append(sum(run.timings.values()))
            print(f"{name:<20} {seconds[0]:>10.2f} {seconds[1]:>12.2f} {seconds[1] / seconds[0]:>6.2f}")


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark tables."""
    parser = argparse.ArgumentParser(prog="python -m harness.bench", description=__doc__)
    parser.add_argument("--scenario", action="append", help="limit to these scenarios")
    parser.add_argument("--skip-suite", action="store_true", help="skip the 1- and 2-worker suite timings")
    parser.add_argument("--skip-localstack", action="store_true", help="skip the LocalStack side-by-side timings")
    args = parser.parse_args(argv)
    tools = toolchain.prepare()
    found = scenarios.discover()
    names = args.scenario or list(found)
    results = Path("results").resolve() / run_id() / "bench"
    target = EmbeddedTarget(log_path=results / "moto.log")
    target.start()
    print(f"terraform {tools.version} ({tools.origin}), provider source {tools.provider_source}, target embedded")
    header = f"{'scenario':<20} {'path':<8} " + " ".join(f"{s:>8}" for s in STAGES) + f" {'total':>8} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    try:
        for name in names:
            scenario = found[name]
            through_harness, variables = harness_run(scenario, tools, target, results)
            bare = bare_terraform(scenario, tools, target, {**variables, "name_prefix": variables["name_prefix"] + "b"})
            h_total = sum(through_harness.get(s, 0.0) for s in STAGES)
            b_total = sum(bare.values())
            for label, timings, ratio in (
                ("harness", through_harness, f"{h_total / b_total:>6.2f}"),
                ("bare", bare, ""),
            ):
                cells = " ".join(f"{timings.get(s, 0.0):>8.2f}" for s in STAGES)
                total = sum(timings.get(s, 0.0) for s in STAGES)
                print(f"{name if label == 'harness' else '':<20} {label:<8} {cells} {total:>8.2f} {ratio:>6}")
        print()
        preflight_throughput(tools, target, results)
        if not args.skip_localstack:
            print()
            localstack_side_by_side(tools, target, results)
    finally:
        target.stop()
    if not args.skip_suite:
        print()
        one, two = suite_wall_time(1), suite_wall_time(2)
        print(f"scenario suite wall time: 1 worker {one:.1f}s, 2 workers {two:.1f}s (speed-up {one / two:.2f}x)")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest child process (peak RSS): {peak_mb:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
