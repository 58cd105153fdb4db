"""The ``fargate-harness`` command."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fargate_harness import checks, scenarios
from fargate_harness.errors import ConfigurationError, HarnessError, TargetError
from fargate_harness.nightly.account_guard import allowed_from_env
from fargate_harness.options import Options, destroy_on_sigterm, resolve_options
from fargate_harness.runner import batch, hcl, toolchain
from fargate_harness.runner.terraform import ScenarioRun
from fargate_harness.targets import TARGETS, Target, start_target
from fargate_harness.targets.localstack import unavailable

if TYPE_CHECKING:
    from fargate_harness.preflight import PreflightReport

LOG = logging.getLogger("fargate_harness")
STAGES = ("init", "apply", "plan", "checks", "destroy")
#: How ``run`` says where a registry account comes from, when a scenario needs one.
REGISTRY_HINT = " (--registry-role-arn)"
#: How ``run``'s report names the configurations applied as one root (their Terraform seconds are the batch's).
BATCH_LINE = "batch: "


@dataclass
class Outcome:
    """What ``run`` reports for one scenario."""

    name: str
    run: ScenarioRun | None = None
    results: list[checks.CheckResult] = field(default_factory=list)
    error: str = ""
    skipped: str = ""
    bad_input: bool = False  # the error is the configuration's or the toolchain's to fix (exit 2)
    batched: bool = False  # applied as a module of the batch's root (its init/apply/plan/destroy are the batch's)

    @property
    def ok(self) -> bool:
        """True when the scenario applied, passed every check and was destroyed."""
        return not self.error and all(r.passed for r in self.results)


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


def configurations(args: argparse.Namespace, options: Options) -> list[scenarios.Scenario]:
    """What ``--dir`` (any folders) and ``--scenario`` (ours) name, folders first; every reference scenario when
    neither is given. A folder whose name another configuration of the run has is labelled by its path."""
    dirs: list[str] = list(getattr(args, "dir", None) or [])
    names: list[str] = list(getattr(args, "scenario", None) or [])
    ours: list[scenarios.Scenario] = []
    if names or not dirs:
        known = scenarios.discover(options.scenarios_dir)
        names = names or list(known)
        unknown = [n for n in names if n not in known and "/" not in n]
        if unknown:
            raise ConfigurationError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
        ours = [known[n] if n in known else scenarios.get(n, options.scenarios_dir) for n in names]
    found = [scenarios.from_path(Path(d)) for d in dirs]
    labels = [s.name for s in (*found, *ours)]
    folders = [
        scenarios.Scenario(str(Path(d)) if labels.count(s.name) > 1 else s.name, s.path)
        for d, s in zip(dirs, found, strict=True)
    ]
    return folders + ours


def preflight_options(args: argparse.Namespace) -> dict[str, str]:
    """The preflight keywords ``--images`` and ``--deployer`` select."""
    options = {"images": str(getattr(args, "images", None) or "require")}
    if getattr(args, "deployer", None):
        options["deployer"] = str(args.deployer)
    return options


def print_progress(name: str, stage: str, seconds: float) -> None:
    """One line per configuration and stage as it finishes (stderr; the table goes to stdout)."""
    print(f"fargate-harness: {name}: {stage} {seconds:.1f}s", file=sys.stderr, flush=True)


def run_scenario(
    scenario: scenarios.Scenario,
    options: Options,
    tools: toolchain.Toolchain,
    target: Target,
    stop: threading.Event | None = None,
    *,
    var_files: tuple[Path, ...] = (),
    values: dict[str, str] | None = None,
    options_of_preflight: dict[str, str] | None = None,
) -> Outcome:
    """Apply one scenario, run every check, destroy. Never raises for a scenario failure.

    ``stop`` (set on SIGINT/SIGTERM) skips scenarios not started yet and the checks of one in flight; the
    destroy of anything applied always runs.
    """
    outcome = Outcome(scenario.name)
    if stop is not None and stop.is_set():
        outcome.skipped = "interrupted before it started"
        return outcome
    reason = unavailable(scenario, target, REGISTRY_HINT)
    if reason:
        outcome.skipped = reason
        return outcome
    run = scenarios.new_run(
        scenario,
        target=target,
        tools=tools,
        results_dir=options.run_dir,
        worker="cli",
        keep=options.keep,
        extra=values,
        var_files=var_files,
        progress=print_progress,
    )
    run.preflight_options = dict(options_of_preflight or {})
    outcome.run = run
    try:
        run.up()
        if stop is not None and stop.is_set():
            outcome.error = "interrupted: destroyed without running the checks"
            return outcome
        started = time.perf_counter()
        outcome.results = checks.run_all(run)
        run.timings["checks"] = time.perf_counter() - started
        print_progress(run.name, "checks", run.timings["checks"])
    except HarnessError as exc:
        outcome.error = run.masker(str(exc))
        outcome.bad_input = isinstance(exc, ConfigurationError)
    finally:
        try:
            run.down(failed=not outcome.ok)
        except HarnessError as exc:
            outcome.error = (outcome.error + "\n" if outcome.error else "") + run.masker(str(exc))
    return outcome


def batch_members(chosen: Sequence[scenarios.Scenario], target: Target) -> list[scenarios.Scenario]:
    """The configurations ``run`` applies together as one root (:mod:`fargate_harness.runner.batch`): those that can run
    here and that a batch can hold; none when fewer than two can."""
    members: list[scenarios.Scenario] = []
    for scenario in chosen:
        if unavailable(scenario, target, REGISTRY_HINT):
            continue
        reason = batch.unbatchable(scenario, target)
        if reason:
            LOG.info("%s runs alone: %s", scenario.name, reason)
            continue
        members.append(scenario)
    return members if len(members) > 1 else []


def first_error_line(text: str) -> str:
    """Terraform's first ``Error:`` line of ``text``, else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("Error:")), lines[0] if lines else "")


def run_batch(
    members: Sequence[scenarios.Scenario],
    options: Options,
    tools: toolchain.Toolchain,
    target: Target,
    stop: threading.Event,
    *,
    options_of_preflight: dict[str, str],
    jobs: int = 1,
) -> list[Outcome]:
    """Apply ``members`` as one root, check each on its own state (``jobs`` members at a time), destroy once
    (:mod:`fargate_harness.runner.batch`).

    When the batch fails before the checks it is destroyed, its folder kept, and each member runs alone
    (:func:`run_scenario`), so every error is the one the configuration gives by itself."""
    if not members:
        return []
    group = batch.Batch(
        members, target=target, tools=tools, results_dir=options.run_dir, keep=options.keep, progress=print_progress
    )
    print(f"fargate-harness: batch: {', '.join(group.names)} applied as one root", file=sys.stderr, flush=True)
    try:
        group.up()
    except HarnessError as exc:
        print(
            f"fargate-harness: batch failed ({first_error_line(group.run.masker(str(exc)))}); running each alone",
            file=sys.stderr,
            flush=True,
        )
        try:
            group.down(failed=True)
        except HarnessError as down:
            return [Outcome(m.name, error=group.run.masker(str(down))) for m in members]
        return [
            run_scenario(m, options, tools, target, stop, options_of_preflight=options_of_preflight) for m in members
        ]
    except BaseException:
        with contextlib.suppress(HarnessError):
            group.down(failed=True)
        raise
    outcomes: list[Outcome] = []
    try:
        views = group.views()
        with ThreadPoolExecutor(max_workers=min(jobs, len(views)), thread_name_prefix="member-checks") as checking:
            outcomes = list(checking.map(lambda v: _check_member(group, v, stop, options_of_preflight), views))
    finally:
        try:
            group.down(failed=len(outcomes) < len(members) or any(not o.ok for o in outcomes))
        except HarnessError as exc:
            for outcome in outcomes:
                outcome.error = (outcome.error + "\n" if outcome.error else "") + group.run.masker(str(exc))
                if outcome.run is not None:
                    outcome.run.failed = True
    for outcome in outcomes:
        if outcome.run is not None:
            outcome.run.timings["destroy"] = group.run.timings.get("destroy", 0.0)
    return outcomes


def _check_member(
    group: batch.Batch, view: ScenarioRun, stop: threading.Event, options_of_preflight: dict[str, str]
) -> Outcome:
    """One batch member's outcome: its idempotency verdict, then every check on its own state."""
    view.preflight_options = dict(options_of_preflight)
    outcome = Outcome(view.name, run=view, batched=True)
    problem = group.idempotency_error(view.name)
    if problem is not None:
        outcome.error = view.masker(str(problem))
    elif stop.is_set():
        outcome.error = "interrupted: destroyed without running the checks"
    else:
        started = time.perf_counter()
        outcome.results = checks.run_all(view)
        view.timings["checks"] = time.perf_counter() - started
        print_progress(view.name, "checks", view.timings["checks"])
    view.failed = not outcome.ok
    return outcome


def format_report(outcomes: Sequence[Outcome], target: Target, wall: float) -> str:
    """The table ``run`` prints: per scenario resources, checks passed, seconds per stage."""
    header = f"{'scenario':<20} {'result':<7} {'resources':>9} {'checks':>7} " + " ".join(f"{s:>7}" for s in STAGES)
    lines = [f"target: {target.name} ({target.endpoint_url or target.region})", header, "-" * len(header)]
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
        verdict = "ok" if outcome.ok else "FAIL"
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
        for result in outcome.results:
            if not result.passed:
                lines.append(f"  FAIL {result.name}: {result.message}")
            lines += [f"  note {result.name}: {note}" for note in result.notes]
        if outcome.error:
            lines.append(f"  ERROR: {outcome.error}")
        if outcome.run and outcome.run.failed:
            lines.append(f"  kept for inspection: {outcome.run.workdir}")
    ok = sum(1 for o in outcomes if o.ok and not o.skipped)
    failed = sum(1 for o in outcomes if not o.ok)
    skipped = sum(1 for o in outcomes if o.skipped)
    lines.append(f"{ok} passed, {failed} failed, {skipped} skipped in {wall:.1f}s")
    return "\n".join(lines)


def command_run(args: argparse.Namespace) -> int:
    """Apply scenarios on a target, check them, destroy them, print the report."""
    options = options_from_args(args)
    chosen = configurations(args, options)
    values = parse_vars(args.var)
    files = var_files_of(args.var_file)
    tools = toolchain.prepare(options.tf_binary, options.provider_source)
    started = time.perf_counter()
    hcl.prefetch([c.path for c in chosen])  # parsed while the emulator starts
    target = start_target(options, options.run_dir / "emulator-cli")
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
    together = [] if args.no_batch or values or files else batch_members(chosen, target)
    try:
        # the batch first: it is the largest job; outcomes are matched back by position (names may repeat)
        batched = pool.submit(
            run_batch,
            together,
            options,
            tools,
            target,
            stop,
            options_of_preflight=preflight_options(args),
            jobs=max(1, args.jobs),
        )
        alone = {
            index: pool.submit(
                run_scenario,
                c,
                options,
                tools,
                target,
                stop,
                var_files=files,
                values=values,
                options_of_preflight=preflight_options(args),
            )
            for index, c in enumerate(chosen)
            if c not in together
        }
        from_batch = iter(batched.result())
        outcomes = [alone[i].result() if i in alone else next(from_batch) for i in range(len(chosen))]
    except KeyboardInterrupt:
        stop.set()
        print("fargate-harness: interrupted; destroying what was applied...", file=sys.stderr)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        target.stop()
    print(format_report(outcomes, target, time.perf_counter() - started))
    if any(o.bad_input for o in outcomes):
        return 2
    return 0 if all(o.ok for o in outcomes) else 1


@dataclass
class PreflightAnswer:
    """The preflight of one applied configuration: a report per task definition, and what went wrong."""

    name: str
    configuration: str
    reports: list[PreflightReport] = field(default_factory=list)
    apply_error: str = ""
    destroy_error: str = ""
    nothing: str = ""
    bad_input: bool = False

    @property
    def problems(self) -> list[str]:
        """The apply/destroy errors and the "nothing to check" message, when there are any."""
        return [text for text in (self.apply_error, self.destroy_error, self.nothing) if text]

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "name": self.name,
            "configuration": self.configuration,
            "apply_error": self.apply_error,
            "destroy_error": self.destroy_error,
            "nothing_to_check": self.nothing,
            "reports": [r.to_dict() for r in self.reports],
        }


def _preflight_configuration(
    scenario: scenarios.Scenario,
    options: Options,
    tools: toolchain.Toolchain,
    target: Target,
    *,
    var_files: tuple[Path, ...],
    values: dict[str, str],
    options_of_preflight: dict[str, str],
) -> PreflightAnswer:
    """Apply one configuration, preflight every task definition its state holds (after a partial apply too),
    destroy it. The apply error, if any, is part of the answer."""
    run = scenarios.new_run(
        scenario,
        target=target,
        tools=tools,
        results_dir=options.run_dir,
        worker="pre",
        extra=values,
        var_files=var_files,
        progress=print_progress,
    )
    run.preflight_options = dict(options_of_preflight)
    answer = PreflightAnswer(scenario.name, str(scenario.path))
    try:
        run.prepare()
        run.init()
        try:
            run.apply()
        except HarnessError as exc:
            answer.apply_error = run.masker(str(exc))
            answer.bad_input = isinstance(exc, ConfigurationError)
            run.failed = True
        if run.applied:
            found = run.inventory.task_definitions
            answer.reports = checks.preflight_reports(run) if found else []
            if not found:
                answer.nothing = (
                    f"{scenario.name}: no aws_ecs_task_definition in the state of {scenario.path} (the state holds "
                    f"{run.inventory.summary()}); nothing to preflight"
                )
    except HarnessError as exc:
        answer.apply_error = answer.apply_error or run.masker(str(exc))
        answer.bad_input = answer.bad_input or isinstance(exc, ConfigurationError)
        run.failed = True
    finally:
        try:
            run.down()
        except HarnessError as exc:
            answer.destroy_error = run.masker(str(exc))
    return answer


def command_preflight(args: argparse.Namespace) -> int:
    """Predict whether task definitions would start; exit 0 when all would, 1 when one would not (or nothing
    was found to check, or an apply failed)."""
    from fargate_harness.preflight import AwsFacts, preflight_many

    options = options_from_args(args)
    if not args.task_definition and not args.scenario and not args.dir:
        raise ConfigurationError(
            "give --dir PATH (apply a configuration and preflight every task definition it creates), "
            "--scenario NAME, or --task-definition FAMILY[:REVISION] (already registered)"
        )
    chosen = configurations(args, options) if (args.scenario or args.dir) else []
    values = parse_vars(args.var)
    files = var_files_of(args.var_file)
    tools = toolchain.prepare(options.tf_binary, options.provider_source) if chosen else None
    target = start_target(options, options.run_dir / "emulator-preflight")
    answers: list[PreflightAnswer] = []
    direct: list[PreflightReport] = []
    try:
        for scenario in chosen:
            assert tools is not None
            answers.append(
                _preflight_configuration(
                    scenario,
                    options,
                    tools,
                    target,
                    var_files=files,
                    values=values,
                    options_of_preflight=preflight_options(args),
                )
            )
        if args.task_definition:
            facts = AwsFacts(target)
            jobs = [(target, name, facts) for name in args.task_definition]
            direct = preflight_many(jobs, preflight_options(args))
    finally:
        target.stop()
    return print_preflight(args.json, answers, direct)


def print_preflight(as_json: bool, answers: list[PreflightAnswer], direct: list[PreflightReport]) -> int:
    """Print the answers (table or JSON); 0 only when something was checked and every task would start."""
    reports = [r for a in answers for r in a.reports] + direct
    problems = [p for a in answers for p in a.problems]
    ok = bool(reports) and not problems and all(r.will_start for r in reports)
    if as_json:
        document: object = [r.to_dict() for r in direct]
        if answers:
            document = {
                "will_start": ok,
                "configurations": [a.to_dict() for a in answers],
                "task_definitions": [r.to_dict() for r in direct],
            }
        print(json.dumps(document, indent=2, sort_keys=True))
    else:
        for answer in answers:
            print(f"== {answer.name} ({answer.configuration})")
            for problem in answer.problems:
                print(problem)
            print("\n\n".join(r.table() for r in answer.reports))
        if direct:
            print("\n\n".join(r.table() for r in direct))
    for problem in problems:
        print(f"fargate-harness: {problem.splitlines()[0]}", file=sys.stderr)
    if any(a.bad_input for a in answers):
        return 2
    return 0 if ok else 1


def command_sweep(args: argparse.Namespace) -> int:
    """Destroy and tidy what killed runs left in their folders, then remove (or list, with --dry-run) every
    harness-owned resource the target reaches."""
    from fargate_harness.nightly.leftovers import clean_leftovers, run_folders
    from fargate_harness.nightly.sweep import parse_duration, sweep

    options = options_from_args(args)
    older = parse_duration(args.older_than) if args.older_than else None
    results = Path(args.results_dir) if args.results_dir else options.results_dir
    tools = toolchain.prepare(options.tf_binary, options.provider_source) if run_folders(results) else None
    target = start_target(options, options.run_dir / "emulator-sweep")
    try:
        leftovers = clean_leftovers(results, target, tools, dry_run=args.dry_run, run_id=args.run_id)
        report = sweep(target, older_than=older, dry_run=args.dry_run, run_id=args.run_id)
    finally:
        target.stop()
    text = f"{leftovers.table()}\n\n{report.table()}"
    print(text)
    if args.report:
        title = "Leaked resources (final sweep, dry run)" if args.dry_run else "Leaked resources (final sweep)"
        with open(args.report, "a", encoding="utf-8") as handle:
            handle.write(f"\n## {title}\n\n```\n{text}\n```\n")
    return 1 if report.errors or leftovers.failed else 0


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

    def say(line: str) -> None:
        print(f"fargate-harness: {line}", file=sys.stderr, flush=True)

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
            tools = toolchain.prepare(options.tf_binary, options.provider_source)
            target = start_target(options, options.run_dir / "emulator-upgrade")
            try:
                report = upgrade_sides(
                    Path(args.dir).expanduser().resolve().name,
                    old,
                    new,
                    target=target,
                    tools=tools,
                    results_dir=options.run_dir,
                    allow_widening=args.allow_widening or (),
                    var_files=var_files,
                    variables=values,
                    keep=options.keep,
                    progress=say,
                    stage_progress=print_progress,
                )
            finally:
                target.stop()
    else:
        if args.var_file or args.var:
            raise ConfigurationError("upgrade --scenario takes no --var/--var-file; use --dir for your configuration")
        path = Path(args.scenario)
        if not path.is_dir():
            path = scenarios.get(args.scenario, options.scenarios_dir).path
        tools = toolchain.prepare(options.tf_binary, options.provider_source)
        target = start_target(options, options.run_dir / "emulator-upgrade")
        try:
            report = check_upgrade(
                path,
                name=args.scenario,
                target=target,
                tools=tools,
                results_dir=options.run_dir,
                repo=options.scenarios_dir.parent,
                source=args.source,
                destination=args.destination,
                source_provider=args.from_provider,
                destination_provider=args.to_provider,
                allow_widening=args.allow_widening or (),
            )
        finally:
            target.stop()
    say(f"upgrade: verdict {'ok' if report.ok else 'FAIL'}")
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


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
    for name, scenario in scenarios.discover(options.scenarios_dir).items():
        extra = " + registry account" if scenario.needs_registry_account else ""
        print(f"{name:<20} {', '.join(sorted(scenario.needed_services))}{extra}")
    return 0


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
        help="accept an added permission: ACTION or ACTION=RESOURCE, wildcards allowed (repeatable)",
    )
    up.add_argument("--keep", action="store_true", help="keep the new side's resources for debugging (no destroy)")
    up.add_argument("--json", action="store_true", help="print JSON instead of text")
    up.set_defaults(func=command_upgrade)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="fargate-harness", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries and stages")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="apply scenarios on a target, check and destroy them")
    _add_target_options(run)
    run.add_argument(
        "--scenario",
        action="append",
        help="reference scenario to run (repeatable; run after the --dir folders; default: all, unless --dir)",
    )
    _add_configuration_options(run)
    run.add_argument("--keep", action="store_true", help="keep resources for debugging (no destroy)")
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
    pf.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pf.set_defaults(func=command_preflight)
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
    sw.set_defaults(func=command_sweep)
    _add_upgrade_parser(sub)
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
        print("fargate-harness: interrupted; in-flight scenarios were destroyed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
