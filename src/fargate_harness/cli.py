"""The ``fargate-harness`` command."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fargate_harness import __version__, checks, configurations
from fargate_harness import cli_maintenance as maintenance
from fargate_harness.cleanup.leftovers import sweep_killed_run
from fargate_harness.errors import ConfigurationError, HarnessError, TargetError
from fargate_harness.lifecycle import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TEARDOWN,
    Lifecycle,
    Outcome,
    exit_code,
    run_checks,
    run_preflight,
)
from fargate_harness.options import TIMEOUT_HELP, Options, destroy_on_sigterm, resolve_options, validate_arn_option
from fargate_harness.preflight import plan_command
from fargate_harness.processes import INTERRUPTS
from fargate_harness.runner import hcl, toolchain
from fargate_harness.runner.diagnostics import reason_line
from fargate_harness.runner.isolation import isolate_run
from fargate_harness.targets import TARGETS, Target, start_target, stop_target
from fargate_harness.targets.account_guard import allowed_from_env

if TYPE_CHECKING:
    from fargate_harness.preflight import PreflightReport
    from fargate_harness.runner.tftest import FileResult

LOG = logging.getLogger("fargate_harness")
STAGES = ("init", "apply", "plan", "checks", "destroy")
#: How ``run`` says where a registry account comes from, when a scenario needs one.
REGISTRY_HINT = " (--registry-role-arn)"
#: The file beside the scenarios that holds their reference checks (:class:`fargate_harness.checks.Reference`).
REFERENCE_FILE = "reference_checks.py"
#: The version of ``preflight --json``'s document (docs/json.md); raised when a field changes meaning or goes.
PREFLIGHT_SCHEMA_VERSION = 2
#: How ``run``'s report names the configurations applied as one root (their Terraform seconds are the batch's).
BATCH_LINE = "batch: "
#: The CLI's lifecycles: each sweeps a run's own resources after one of its commands was killed at its grace.
_lifecycle = functools.partial(Lifecycle, after_kill=sweep_killed_run)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=TARGETS, default=None, help="default: HARNESS_TARGET or embedded")
    parser.add_argument("--tf-binary", default=None, help="Terraform executable (default: PATH, then bundled)")
    parser.add_argument("--tf-provider-source", choices=toolchain.PROVIDER_SOURCES, default=None)
    parser.add_argument("--tf-results-dir", default=None, help="default: HARNESS_RESULTS_DIR or ./results")
    parser.add_argument("--tf-scenarios-dir", default=None, help="default: HARNESS_SCENARIOS_DIR or ./scenarios")
    parser.add_argument("--localstack-endpoint", default=None)
    parser.add_argument("--registry-role-arn", default=None)
    parser.add_argument("--aws-region", default=None)
    parser.add_argument(
        "--allowed-accounts", default=None, help="account ids the run may touch (env HARNESS_ALLOWED_ACCOUNTS)"
    )
    parser.add_argument("--tf-timeout", default=None, help="deadline per Terraform stage: " + TIMEOUT_HELP)


def _add_configuration_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", action="append", help="any Terraform root folder to apply, check and destroy (repeatable)"
    )
    parser.add_argument(
        "--var-file", action="append", help="a .tfvars/.tfvars.json file, in order, after the harness's (repeatable)"
    )
    parser.add_argument("--var", action="append", help="NAME=VALUE for a declared variable; wins over var files")
    parser.add_argument(
        "--images",
        choices=("require", "assume-pushed"),
        default="require",
        help="ECR images must exist (default, as AWS decides), or are pushed later by a pipeline",
    )
    parser.add_argument("--deployer", help="principal ARN that registers the task definitions (iam:PassRole check)")
    parser.add_argument(
        "--account-id",
        help="on an emulator, deploy into this 12-digit account (default: the account the configuration names, "
        "else a fresh one for fixed names)",
    )


def options_from_args(args: argparse.Namespace) -> Options:
    """Command-line values first, then the same environment variables the pytest plugin reads."""
    keep = bool(getattr(args, "keep", False))
    command = getattr(args, "command", "")
    needs_scenarios = command in ("run", "scenarios", "upgrade") or bool(getattr(args, "scenario", None))
    if getattr(args, "dir", None) or (command == "upgrade" and Path(str(getattr(args, "scenario", ""))).is_dir()):
        needs_scenarios = False
    return resolve_options(lambda dest: getattr(args, dest, None), keep).validate(needs_scenarios)


def parse_vars(items: Sequence[str] | None) -> dict[str, str]:
    """``--var NAME=VALUE`` items as a mapping; ConfigurationError for an item without ``=``."""
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--var {item!r}: expected NAME=VALUE (for example --var environment=test)")
        values[name.strip()] = value
    return values


def var_files_of(items: Sequence[str] | None) -> tuple[Path, ...]:
    """``--var-file`` paths (relative to the current folder, as Terraform's own -var-file); must exist."""
    files = tuple(Path(item).expanduser().resolve() for item in items or [])
    for path in files:
        if not path.is_file():
            raise ConfigurationError(f"--var-file {path}: no such file")
    return files


def chosen_configurations(args: argparse.Namespace, options: Options) -> list[configurations.Configuration]:
    """What ``--dir`` (any folders) and ``--scenario`` (ours) name, folders first; every reference scenario when
    neither is given. A folder whose name another configuration of the run has is labelled by its path."""
    dirs: list[str] = list(getattr(args, "dir", None) or [])
    names: list[str] = list(getattr(args, "scenario", None) or [])
    ours: list[configurations.Configuration] = []
    if names or not dirs:
        known = configurations.discover(options.scenarios_dir)
        names = names or list(known)
        unknown = [n for n in names if n not in known and "/" not in n]
        if unknown:
            raise ConfigurationError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
        ours = [known[n] if n in known else configurations.get(n, options.scenarios_dir) for n in names]
    found = [configurations.from_path(Path(d)) for d in dirs]
    labels = [s.name for s in (*found, *ours)]
    folders = [
        configurations.Configuration(str(Path(d)) if labels.count(s.name) > 1 else s.name, s.path)
        for d, s in zip(dirs, found, strict=True)
    ]
    return folders + ours


def preflight_options(args: argparse.Namespace) -> dict[str, str]:
    """The preflight keywords ``--images`` and ``--deployer`` select."""
    options = {"images": str(getattr(args, "images", None) or "require")}
    if getattr(args, "deployer", None):
        options["deployer"] = validate_arn_option("--deployer", args.deployer)
    return options


def isolate(options: Options) -> None:
    """Once the input is known to be good and before any thread starts (the toolchain, the emulator): into a
    network namespace with only loopback where the platform allows (:mod:`fargate_harness.runner.isolation`);
    the line saying which applies is printed once."""
    status = isolate_run(options.target, options.provider_source, keep=options.keep)
    print(f"fargate-harness: {status.describe()}", file=sys.stderr, flush=True)


def print_progress(name: str, stage: str, seconds: float | None) -> None:
    """One line per configuration and stage when it starts and when it ends (stderr; the table goes to stdout)."""
    if seconds is None:
        print(f"fargate-harness: {name}: {stage} ...", file=sys.stderr, flush=True)
    else:
        print(f"fargate-harness: {name}: {stage} {seconds:.1f}s", file=sys.stderr, flush=True)


def say(line: str) -> None:
    """One line of news on stderr (the batch, what the harness changed about a deployment)."""
    print(f"fargate-harness: {line}", file=sys.stderr, flush=True)


def say_kept(note: str) -> None:
    """The kept emulator's message (how to inspect, destroy and stop it), when there is one."""
    if note:
        say(note)


def reference_of(options: Options) -> checks.Reference | None:
    """The reference checks beside the scenarios folder (``scenarios/reference_checks.py``), if there are any."""
    return checks.load_reference(options.scenarios_dir / REFERENCE_FILE)


#: The version of ``run --json``'s document (docs/json.md).
RUN_SCHEMA_VERSION = 1


def outcomes_json(outcomes: Sequence[Outcome], target: Target) -> dict[str, object]:
    """``run --json``: one entry per configuration, its checks, and its teardown apart from its verdict."""
    return {
        "schema_version": RUN_SCHEMA_VERSION,
        "target": target.name,
        "ok": all(o.ok for o in outcomes if not o.skipped),
        "exit_code": exit_code(outcomes),
        "configurations": [
            {
                "name": o.name,
                "configuration": o.configuration,
                "ok": o.ok,
                "skipped": o.skipped,
                "error": o.error,
                "destroy_error": o.destroy_error,
                "interrupted": o.interrupted,
                "batched": o.batched,
                "resources": list(o.run.resources) if o.run else [],
                "timings": dict(o.run.timings) if o.run else {},
                "kept": str(o.run.workdir) if o.run and (o.run.failed or o.run.keep) else "",
                "changes": list(o.run.changes) if o.run else [],
                "checks": [
                    {
                        "name": r.name,
                        "verdict": r.verdict,
                        "subjects": r.subjects,
                        "message": r.message,
                        "notes": list(r.notes),
                    }
                    for r in o.results
                ],
            }
            for o in outcomes
        ],
    }


def junit_xml(outcomes: Sequence[Outcome], wall: float) -> str:
    """``run --junitxml``: a test suite per run, a test case per configuration and check (messages are masked)."""
    from xml.etree import ElementTree as ET

    suite = ET.Element("testsuite", name="fargate-harness", time=f"{wall:.2f}")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for outcome in outcomes:
        cases: list[tuple[str, str, str]] = [(r.name, r.verdict, r.message) for r in outcome.results]
        if outcome.skipped:
            cases = [("configuration", "skip", outcome.skipped)]
        elif outcome.error:
            cases.insert(0, ("apply", "ERROR", outcome.error))
        if outcome.destroy_error:
            cases.append(("destroy", "ERROR", outcome.destroy_error))
        notes = {r.name: r.notes for r in outcome.results}
        for name, verdict, message in cases:
            case = ET.SubElement(suite, "testcase", classname=outcome.name, name=name)
            if notes.get(name):  # warnings and notes apart from the failure's text
                ET.SubElement(case, "system-out").text = "\n".join(dict.fromkeys(notes[name]))
            counts["tests"] += 1
            if verdict == "FAIL":
                ET.SubElement(case, "failure", message=message.splitlines()[0] if message else "").text = message
                counts["failures"] += 1
            elif verdict == "ERROR":
                ET.SubElement(case, "error", message=message.splitlines()[0] if message else "").text = message
                counts["errors"] += 1
            elif verdict in ("skip", "n/a") and message:
                ET.SubElement(case, "skipped", message=message)
                counts["skipped"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def deployed_in(outcome: Outcome) -> str:
    """Where an outcome's configuration was deployed: ``<region>, account <id>`` (the account once it is known)."""
    if outcome.run is None:
        return ""
    where = outcome.run.target
    return where.region + (f", account {where.known_account_id}" if where.known_account_id else "")


def target_line(outcomes: Sequence[Outcome], target: Target) -> str:
    """The report's first line: the target, then where the configurations were deployed (each configuration's own
    region and account, which need not be the target's defaults)."""
    line = f"target: {target.name}" + (f" at {target.endpoint_url}" if target.endpoint_url else "")
    places = {o.name: deployed_in(o) for o in outcomes if deployed_in(o)}
    if not places:
        return f"{line} ({target.region})"
    if len(set(places.values())) == 1:
        return f"{line}; deployed in {next(iter(places.values()))}"
    return f"{line}; deployed in " + "; ".join(f"{name}: {where}" for name, where in places.items())


def format_report(outcomes: Sequence[Outcome], target: Target, wall: float) -> str:
    """The table ``run`` prints: per configuration resources, checks passed, seconds per stage."""
    header = f"{'configuration':<20} {'result':<7} {'resources':>9} {'checks':>7} " + " ".join(
        f"{s:>7}" for s in STAGES
    )
    lines = [target_line(outcomes, target), header, "-" * len(header)]
    for outcome in outcomes:
        if outcome.skipped:
            lines.append(f"{outcome.name:<20} {'skip':<7} {outcome.skipped}")
            continue
        run = outcome.run
        passed = sum(1 for r in outcome.results if r.passed and r.subjects)
        applicable = sum(1 for r in outcome.results if r.subjects or not r.passed)
        timings = run.timings if run else {}
        cells = " ".join(f"{timings[s]:>7.1f}" if s in timings else f"{'-':>7}" for s in STAGES)
        resources = len(run.resources) if run else 0
        verdict = "ok" if outcome.ok else "interrupted" if outcome.interrupted else "FAIL"
        lines.append(f"{outcome.name:<20} {verdict:<7} {resources:>9} {f'{passed}/{applicable}':>7} {cells}")
    together = [o.name for o in outcomes if o.batched]
    if together:
        lines.append(
            f"{BATCH_LINE}{', '.join(together)} applied as one root; each row shows the batch's init, apply, plan "
            "and destroy seconds"
        )
    lines.append("")
    for outcome in outcomes:
        if outcome.run and outcome.run.resources:
            lines.append(f"{outcome.name}: {', '.join(outcome.run.resources)}")
        told: set[str] = set()
        for result in outcome.results:
            if not result.passed:
                lines.append(f"  FAIL {result.name}: {result.message}")
            lines += [f"  note {result.name}: {note}" for note in dict.fromkeys(result.notes) if note not in told]
            told.update(result.notes)
        if outcome.error:
            lines.append(f"  ERROR: {outcome.error}")
        if outcome.run and outcome.run.failed:
            lines.append(f"  kept for inspection: {outcome.run.workdir}")
    ok = sum(1 for o in outcomes if o.ok and not o.skipped)
    failed = sum(1 for o in outcomes if not o.ok and not o.interrupted)
    skipped = sum(1 for o in outcomes if o.skipped)
    interrupted = sum(1 for o in outcomes if o.interrupted)
    lines.append(
        f"{ok} passed, {failed} failed, {skipped} skipped"
        + (f", {interrupted} interrupted" if interrupted else "")
        + f" in {wall:.1f}s"
    )
    return "\n".join(lines)


def command_run(args: argparse.Namespace) -> int:
    """Apply configurations on a target, check them, destroy them, print the report."""
    options = options_from_args(args)
    chosen = chosen_configurations(args, options)
    values = parse_vars(args.var)
    files = var_files_of(args.var_file)
    preflight = preflight_options(args)  # validated before anything is applied
    isolate(options)
    tools = toolchain.prepare(options.tf_binary, options.provider_source)
    started = time.perf_counter()
    hcl.prefetch([c.path for c in chosen])  # parsed while the emulator starts
    target = start_target(options, options.run_dir / "emulator-cli")
    try:
        lifecycle = _lifecycle(
            target,
            tools,
            options.run_dir,
            keep=options.keep,
            progress=print_progress,
            registry_hint=REGISTRY_HINT,
            account_id=args.account_id,
            say=say,
        )
        outcomes = lifecycle.many(
            chosen,
            run_checks(reference_of(options)),
            jobs=max(1, args.jobs),
            together=not args.no_batch,
            values=values,
            var_files=files,
            preflight=preflight,
        )
    finally:
        kept = stop_target(target, options)
    wall = time.perf_counter() - started
    print(
        json.dumps(outcomes_json(outcomes, target), indent=2, sort_keys=True)
        if args.json
        else format_report(outcomes, target, wall)
    )
    if args.junitxml:
        Path(args.junitxml).parent.mkdir(parents=True, exist_ok=True)
        Path(args.junitxml).write_text(junit_xml(outcomes, wall))
    if kept:
        print(f"fargate-harness: {kept}", file=sys.stderr)
    code = exit_code(outcomes)
    if code == EXIT_OK and not options.keep:
        # a passing run leaves only its summaries under the results folder (its work folders are gone already)
        shutil.rmtree(options.run_dir / "emulator-cli", ignore_errors=True)
    for outcome in outcomes:
        if outcome.bad_input:
            print(f"fargate-harness: {outcome.error}", file=sys.stderr)
        if outcome.destroy_error:  # the reason on stderr whatever the output format (--json too)
            print(f"fargate-harness: teardown: {reason_line(outcome.destroy_error)}", file=sys.stderr)
    return code


def command_preflight(args: argparse.Namespace) -> int:
    """Predict whether task definitions would start; exit 0 when all would, 1 when one would not (or nothing
    was found to check, or an apply failed)."""
    from fargate_harness.preflight import AwsFacts, preflight_many

    if args.plan:  # decide from a plan, nothing applied (docs/plan.md)
        return plan_command.run(args, options_from_args(args), preflight_options(args), PREFLIGHT_SCHEMA_VERSION)
    options = options_from_args(args)
    if not args.task_definition and not args.scenario and not args.dir:
        raise ConfigurationError(
            "give --dir PATH (apply a configuration and preflight every task definition it creates), "
            "--scenario NAME, or --task-definition FAMILY[:REVISION] (already registered)"
        )
    chosen = chosen_configurations(args, options) if (args.scenario or args.dir) else []
    values = parse_vars(args.var)
    files = var_files_of(args.var_file)
    preflight = preflight_options(args)  # validated before anything is applied
    if chosen:
        isolate(options)
    tools = toolchain.prepare(options.tf_binary, options.provider_source) if chosen else None
    target = start_target(options, options.run_dir / "emulator-preflight")
    answers: list[Outcome] = []
    direct: list[PreflightReport] = []
    try:
        if chosen:
            assert tools is not None
            lifecycle = _lifecycle(
                target,
                tools,
                options.run_dir,
                worker="pre",
                progress=print_progress,
                account_id=args.account_id,
                say=say,
            )
            for configuration in chosen:
                answers.append(
                    lifecycle.one(
                        configuration,
                        run_preflight,
                        values=values,
                        var_files=files,
                        preflight=preflight,
                        partial=True,
                    )
                )
                if INTERRUPTS.requested.is_set():
                    break
        if args.task_definition:
            facts = AwsFacts(target)
            jobs = [(target, name, facts) for name in args.task_definition]
            direct = preflight_many(jobs, preflight)
    finally:
        target.stop()
    return print_preflight(args.json, answers, direct)


def _answer(outcome: Outcome) -> dict[str, object]:
    return {
        "name": outcome.name,
        "configuration": outcome.configuration,
        "apply_error": outcome.error,
        "destroy_error": outcome.destroy_error,
        "nothing_to_check": outcome.nothing,
        "skipped": outcome.skipped,
        "interrupted": outcome.interrupted,
        "will_start": outcome.ok,
        "reports": [r.to_dict() for r in outcome.reports],
    }


def print_preflight(as_json: bool, answers: list[Outcome], direct: list[PreflightReport]) -> int:
    """Print the answers (table or JSON; the JSON form is documented in docs/json.md); the exit code: 0 only
    when something was checked and every task would start."""
    reports = [r for a in answers for r in a.reports] + direct
    verdict = bool(reports) and all(a.ok for a in answers) and all(r.will_start for r in direct)
    if as_json:
        document = {
            "schema_version": PREFLIGHT_SCHEMA_VERSION,
            "decided_from": "apply" if answers else "target",
            "will_start": verdict,
            "configurations": [_answer(a) for a in answers],
            "task_definitions": [r.to_dict() for r in direct],
        }
        print(json.dumps(document, indent=2, sort_keys=True))
    else:
        for answer in answers:
            print(f"== {answer.name} ({answer.configuration})")
            for problem in (answer.error, answer.nothing, answer.skipped):
                if problem:
                    print(problem)
            print("\n\n".join(r.table() for r in answer.reports))
            if answer.destroy_error:
                print(f"teardown (not part of the verdict): {answer.destroy_error}")
        if direct:
            print("\n\n".join(r.table() for r in direct))
    for answer in answers:
        for problem in (answer.error, answer.nothing, answer.destroy_error):
            if problem:
                print(f"fargate-harness: {reason_line(problem)}", file=sys.stderr)
    if not answers:
        return EXIT_OK if verdict else EXIT_FAILED
    code = exit_code(answers)
    if code in (EXIT_OK, EXIT_TEARDOWN) and not verdict:
        return EXIT_FAILED
    return code


def command_upgrade(args: argparse.Namespace) -> int:
    """Check that switching to a new version of a configuration (``--dir``: any root configuration between two
    git revisions or folders) or of a scenario's modules (``--scenario``) replaces nothing protected, changes no
    output and widens no permission that was not accepted. Exit 1 when it does."""
    from fargate_harness.upgrade import check_upgrade, configuration_sides, upgrade_sides

    if bool(args.dir) == bool(args.scenario):
        raise ConfigurationError(
            "upgrade: give --dir PATH (any Terraform root configuration) or --scenario NAME (a reference scenario)"
        )
    options = options_from_args(args)

    if args.dir:
        var_files, values = var_files_of(args.var_file), parse_vars(args.var)
        with configuration_sides(
            Path(args.dir),
            source=args.source,
            destination=args.destination,
            source_provider=args.from_provider,
            destination_provider=args.to_provider,
            progress=say,
        ) as (old, new):
            isolate(options)
            tools = toolchain.prepare(options.tf_binary, options.provider_source)
            target = start_target(options, options.run_dir / "emulator-upgrade")
            lifecycle = _lifecycle(
                target, tools, options.run_dir, keep=options.keep, worker="upg", progress=print_progress, say=say
            )
            try:
                report = upgrade_sides(
                    Path(args.dir).expanduser().resolve().name,
                    old,
                    new,
                    lifecycle=lifecycle,
                    allow_widening=args.allow_widening or (),
                    var_files=var_files,
                    variables=values,
                    progress=say,
                )
            finally:
                say_kept(stop_target(target, options))
    else:
        if args.var_file or args.var:
            raise ConfigurationError("upgrade --scenario takes no --var/--var-file; use --dir for your configuration")
        path = Path(args.scenario)
        if not path.is_dir():
            path = configurations.get(args.scenario, options.scenarios_dir).path
        isolate(options)
        tools = toolchain.prepare(options.tf_binary, options.provider_source)
        target = start_target(options, options.run_dir / "emulator-upgrade")
        lifecycle = _lifecycle(target, tools, options.run_dir, keep=options.keep, worker="upg", say=say)
        try:
            report = check_upgrade(
                path,
                name=args.scenario,
                lifecycle=lifecycle,
                repo=options.scenarios_dir.parent,
                source=args.source,
                destination=args.destination,
                source_provider=args.from_provider,
                destination_provider=args.to_provider,
                allow_widening=args.allow_widening or (),
            )
        finally:
            say_kept(stop_target(target, options))
    say(f"upgrade: verdict {'ok' if report.ok else 'FAIL'}")
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


def command_test(args: argparse.Namespace) -> int:
    """Run the configuration's own ``terraform test`` files on the target, each in a fresh account; exit 0 when every
    run block passed (and every task definition an apply run left would start), 1 when one did not."""
    from fargate_harness.runner.tftest import summary

    options = options_from_args(args)
    configuration = configurations.from_path(Path(args.dir).expanduser().resolve())
    isolate(options)
    tools = toolchain.prepare(options.tf_binary, options.provider_source)
    target = start_target(options, options.run_dir / "emulator-test")
    try:
        lifecycle = _lifecycle(target, tools, options.run_dir, keep=options.keep, worker="tst", say=say)
        results = lifecycle.terraform_tests(configuration, args.filter or ())
    finally:
        say_kept(stop_target(target, options))
    if args.json:
        print(json.dumps([_test_json(r) for r in results], indent=2))
    else:
        print(summary(results))
    if INTERRUPTS.requested.is_set():
        return EXIT_INTERRUPTED
    return EXIT_OK if results and all(r.passed for r in results) else 1


def _test_json(result: FileResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "account": result.account,
        "passed": result.passed,
        "status": result.status,
        "diagnostics": result.diagnostics,
        "kept": "" if result.passed else str(result.workdir),
        "runs": [
            {
                "run": run.name,
                "status": run.status,
                "passed": run.passed,
                "diagnostics": run.diagnostics,
                "findings": run.findings,
                "tasks_may_not_start": run.expected_not_to_start,
            }
            for run in result.runs
        ],
    }


def command_check_target(args: argparse.Namespace) -> int:
    """Start (or reach) the target, apply the account guard, print what was found. For CI pre-flight."""
    options = options_from_args(args)
    target = start_target(options, options.run_dir / "emulator-check")
    try:
        accounts = [target.account_id()]
        if target.registry_role_arn:
            accounts.append(str(target.client("sts", account="registry").get_caller_identity()["Account"]))
    finally:
        target.stop()
    guard = "allowed" if allowed_from_env(options.allowed_accounts) else "reachable (no allow-list given)"
    print(f"target {target.name} ({target.region}): accounts {', '.join(accounts)} {guard}")
    return 0


def command_toolchain(args: argparse.Namespace) -> int:
    """Prepare Terraform and the provider source; print what was found."""
    tools = toolchain.prepare(args.tf_binary, args.tf_provider_source)
    print(tools.terraform if args.terraform_path else tools.describe())
    return 0


def command_scenarios(args: argparse.Namespace) -> int:
    """List scenarios and the AWS services each needs."""
    options = options_from_args(args)
    for name, scenario in configurations.discover(options.scenarios_dir).items():
        extra = " + registry account" if scenario.needs_registry_account else ""
        print(f"{name:<20} {', '.join(sorted(scenario.needed_services))}{extra}")
    return 0


def _add_maintenance_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``sweep``, ``emulators`` and ``upgrade``."""
    sw = sub.add_parser("sweep", help="remove resources carrying the harness marker, in dependency order")
    _add_target_options(sw)
    sw.add_argument("--older-than", help="only resources created longer ago than this (90s, 30m, 2h, 1d, 1h30m)")
    sw.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    sw.add_argument("--run-id", help="only the resources of this run (its fargate-harness:run-id tag)")
    sw.add_argument("--report", help="append the result to this Markdown report")
    sw.add_argument(
        "--results-dir",
        default=None,
        help="destroy and tidy the run folders kept here first (default: where runs write them, "
        "--tf-results-dir, HARNESS_RESULTS_DIR or ./results)",
    )
    sw.set_defaults(func=lambda args: maintenance.command_sweep(args, options_from_args(args)))
    cl = sub.add_parser("clean", help="remove the folders of finished runs (nothing running, no resources left)")
    _add_target_options(cl)
    cl.add_argument("--results-dir", default=None, help="where runs write (default: --tf-results-dir or ./results)")
    cl.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    cl.set_defaults(func=lambda args: maintenance.command_clean(args, options_from_args(args)))
    em = sub.add_parser("emulators", help="list the embedded emulators kept with --keep")
    _add_target_options(em)
    em.add_argument("--results-dir", default=None, help="where runs write (default: --tf-results-dir or ./results)")
    em.set_defaults(func=lambda args: maintenance.command_emulators(args, options_from_args(args)))
    _add_upgrade_parser(sub)


def _add_upgrade_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``fargate-harness upgrade``: ``--dir PATH --from REF_OR_PATH`` (any configuration) or ``--scenario``."""
    up = sub.add_parser(
        "upgrade",
        help="apply the old version of a configuration, switch to the new one on the same state, report the change",
        description="fargate-harness upgrade --dir PATH --from REF_OR_PATH [--to REF_OR_PATH] [--var-file F] "
        "[--var N=V]: PATH's configuration (and every local module it uses) as it is at --from (a git revision of "
        "the repository holding PATH, same relative path, or a folder) is applied, then switched to --to (default: "
        "the working tree). Reports replacements, widened role permissions, changed outputs and provider changes; "
        "exit 1 on a widening not accepted (--allow-widening), a protected resource replaced or an output changed.",
    )
    _add_target_options(up)
    where = up.add_mutually_exclusive_group(required=True)
    where.add_argument("--dir", help="the Terraform root configuration to compare (any folder)")
    where.add_argument("--scenario", help="a reference scenario: only its modules/ folder is swapped")
    up.add_argument(
        "--from", dest="source", help="git revision (tag, branch, commit) of PATH's repository, or a folder (old side)"
    )
    up.add_argument("--to", dest="destination", help="git revision or folder: the new side (default: the working tree)")
    up.add_argument(
        "--var-file", action="append", help="a .tfvars/.tfvars.json file for both sides, in order (repeatable)"
    )
    up.add_argument("--var", action="append", help="NAME=VALUE for a declared variable, both sides (repeatable)")
    up.add_argument("--from-provider", help="AWS provider version to apply with first (e.g. 2.70.0)")
    up.add_argument("--to-provider", help="AWS provider version to switch to (e.g. 3.39.0)")
    up.add_argument(
        "--allow-widening",
        action="append",
        help="accept an added permission: ACTION, or ACTION=RESOURCE with the resource's Terraform address or ARN "
        "(kms:Decrypt=aws_kms_key.logs), wildcards allowed (repeatable)",
    )
    up.add_argument(
        "--keep",
        "--tf-keep",
        dest="keep",
        action="store_true",
        help="keep the new side's resources for debugging (no destroy)",
    )
    up.add_argument("--json", action="store_true", help="print JSON instead of text")
    up.set_defaults(func=command_upgrade)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="fargate-harness", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries and stages")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="apply scenarios on a target, check and destroy them")
    _add_target_options(run)
    run.add_argument(
        "--scenario",
        action="append",
        help="reference scenario to run (repeatable; run after the --dir folders; default: all, unless --dir)",
    )
    _add_configuration_options(run)
    run.add_argument(
        "--keep",
        "--tf-keep",
        dest="keep",
        action="store_true",
        help="keep resources (and on the embedded target the emulator) for debugging: no destroy",
    )
    run.add_argument("--json", action="store_true", help="print the outcomes as JSON (docs/json.md) instead of a table")
    run.add_argument("--junitxml", metavar="PATH", help="also write a JUnit XML file: one test case per check")
    run.add_argument("--jobs", type=int, default=2, help="scenarios applied in parallel (default 2)")
    run.add_argument(
        "--no-batch",
        action="store_true",
        help="apply every configuration alone (by default, on emulators, those that can be are applied as modules "
        "of one root: one init, apply, plan and destroy)",
    )
    run.set_defaults(func=command_run)
    pf = sub.add_parser("preflight", help="predict whether task definitions would start, and find over-grants")
    _add_target_options(pf)
    pf.add_argument("--task-definition", action="append", help="FAMILY, FAMILY:REVISION or ARN (repeatable)")
    pf.add_argument(
        "--scenario", action="append", help="apply this scenario first, preflight its task definitions, then destroy it"
    )
    _add_configuration_options(pf)
    plan_command.add_arguments(pf)
    pf.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pf.set_defaults(func=command_preflight)
    _add_maintenance_commands(sub)
    ts = sub.add_parser("test", help="run the configuration's terraform test files on the target, a fresh account each")
    _add_target_options(ts)
    ts.add_argument("--dir", required=True, help="the configuration's root folder (its *.tftest.hcl and tests/)")
    ts.add_argument("--filter", action="append", help="a test file, relative to --dir (repeatable); default: all")
    ts.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ts.set_defaults(func=command_test)
    ct = sub.add_parser("check-target", help="reach the target and apply the account guard (exit 2 if refused)")
    _add_target_options(ct)
    ct.set_defaults(func=command_check_target)
    tc = sub.add_parser("toolchain", help="find Terraform, prepare the provider mirror, print both")
    tc.add_argument("--tf-binary", default=None)
    tc.add_argument("--tf-provider-source", choices=toolchain.PROVIDER_SOURCES, default=None)
    tc.add_argument("--terraform-path", action="store_true", help="print only the Terraform executable's path")
    tc.set_defaults(func=command_toolchain)
    sc = sub.add_parser("scenarios", help="list scenarios and the services they need")
    _add_target_options(sc)
    sc.set_defaults(func=command_scenarios)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 on success, 1 when a scenario failed, 2 on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    destroy_on_sigterm()
    try:
        return int(args.func(args))
    except (ConfigurationError, TargetError) as exc:
        print(f"fargate-harness: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"fargate-harness: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "fargate-harness: interrupted; folders of runs that were not destroyed are kept under the results "
            "folder: `fargate-harness sweep` destroys what they hold",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
