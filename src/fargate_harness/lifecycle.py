"""The one lifecycle of an applied configuration, for every entry point: the CLI, the pytest plugin, the bench and
the upgrade check.

    start:  copy, init, apply, plan (idempotency)        -> the applied run
    work:   checks or preflight on the applied state      -> the verdict
    finish: destroy (unless kept), the folder kept on any failure, a summary written

The verdict and the teardown are apart: a destroy that fails is reported as ``destroy_error`` and its own exit
code (:data:`EXIT_TEARDOWN`), never as a task that would not start. Configurations that can be are applied as
modules of one root (:mod:`fargate_harness.runner.batch`: one init, apply, plan and destroy for all); when that
batch fails before its checks it is destroyed and each member runs alone, so every error is the one the
configuration gives by itself.

Interrupts (SIGINT, and SIGTERM turned into one by :func:`fargate_harness.options.destroy_on_sigterm`): the first
lets every running Terraform command write its state (:data:`~fargate_harness.processes.INTERRUPTS`),
skips what has not started and the checks of what has, and destroys what was applied; the second stops at once
and names the folders whose state is kept, for ``fargate-harness sweep``.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fargate_harness import checks, configurations
from fargate_harness.checks import AppliedRun, CheckResult
from fargate_harness.configurations import unavailable
from fargate_harness.errors import ConfigurationError, HarnessError, InterruptedRun, TeardownError
from fargate_harness.model.ownership import ownership_tags
from fargate_harness.options import run_id, validate_arn_option
from fargate_harness.processes import INTERRUPTS
from fargate_harness.report import write_summary
from fargate_harness.runner import batch, tftest
from fargate_harness.runner.masking import Masker, secret_forms
from fargate_harness.runner.run import SENSITIVE_VARIABLES, Progress, TerraformRun
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.base import Target

if TYPE_CHECKING:
    from fargate_harness.preflight import PreflightReport

#: Exit codes every command shares (the README's table).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_TEARDOWN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: A stage reached its ``--tf-timeout`` deadline (as timeout(1) exits).
EXIT_TIMEOUT = 124


@dataclass
class Outcome:
    """What one configuration came to: its verdict, and apart from it, its teardown."""

    name: str
    configuration: str = ""
    #: The run (None when it could not be made: bad input).
    run: TerraformRun | None = None
    #: What the checks read: the applied state (None when nothing was applied).
    applied: AppliedRun | None = None
    results: list[CheckResult] = field(default_factory=list)
    reports: list[PreflightReport] = field(default_factory=list)
    #: The apply, idempotency or work error (masked): part of the verdict.
    error: str = ""
    #: The destroy's error (masked): reported on its own, never part of the verdict.
    destroy_error: str = ""
    #: Set when the work found nothing to check (a check that cannot fail is a defect).
    nothing: str = ""
    skipped: str = ""
    bad_input: bool = False
    batched: bool = False
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """Applied, idempotent, every check passed and every task would start (the teardown aside)."""
        if self.error or self.nothing or self.interrupted:
            return False
        return all(r.passed for r in self.results) and all(r.will_start for r in self.reports)


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """The command's exit code: 130 interrupted, 124 a deadline reached, 2 bad input, 1 a verdict failed, 3 only a
    teardown failed."""
    if any(o.interrupted for o in outcomes) or INTERRUPTS.requested.is_set():
        return EXIT_INTERRUPTED
    if any(o.run is not None and o.run.deadlines_reached for o in outcomes):  # stopped, destroyed, named in its error
        return EXIT_TIMEOUT
    if any(o.bad_input for o in outcomes):
        return EXIT_BAD_INPUT
    if not all(o.ok for o in outcomes if not o.skipped):
        return EXIT_FAILED
    return EXIT_TEARDOWN if any(o.destroy_error for o in outcomes) else EXIT_OK


#: Sweeps one run's own resources: (what was deleted, what could not be), each as ``"<kind> <id>"``.
AfterKill = Callable[[TerraformRun], tuple[list[str], list[str]]]

#: What a lifecycle does with an applied run: fill the outcome (results, reports, nothing).
Work = Callable[[AppliedRun, Outcome], None]


def run_checks(reference: checks.Reference | None) -> Work:
    """The work of ``fargate-harness run``: every check (and ``reference``'s, where they apply)."""

    def work(run: AppliedRun, outcome: Outcome) -> None:
        outcome.results = checks.run_all(run, reference)

    return work


def run_preflight(run: AppliedRun, outcome: Outcome) -> None:
    """The work of ``fargate-harness preflight``: a report per task definition of the state."""
    found = run.inventory.task_definitions
    outcome.reports = checks.preflight_reports(run) if found else []
    if not found:
        outcome.nothing = (
            f"{run.name}: no aws_ecs_task_definition in the state of {run.source} (the state holds "
            f"{run.inventory.summary()}); nothing to preflight"
        )


class Lifecycle:
    """Runs configurations on one target with one toolchain, into one results folder."""

    def __init__(
        self,
        target: Target,
        tools: Toolchain,
        results_dir: Path,
        *,
        keep: bool = False,
        worker: str = "cli",
        progress: Progress | None = None,
        registry_hint: str = "",
        account_id: str | None = None,
        say: Callable[[str], None] | None = None,
        after_kill: AfterKill | None = None,
    ) -> None:
        self.target = target
        self.tools = tools
        self.results_dir = results_dir
        self.keep = keep
        self.worker = worker
        self.progress = progress
        self.registry_hint = registry_hint
        #: ``--account-id`` / the marker's ``account_id``: the account to deploy into on an emulator.
        self.account_id = account_id
        #: Told one line of news at a time (the batch, what the harness changed about a deployment).
        self.say = say
        #: Sweeps a run's own resources after one of its commands was killed at the end of its deadline's grace
        #: (:func:`fargate_harness.cleanup.leftovers.sweep_killed_run`: the clean-up layer, above this one).
        self.after_kill = after_kill

    # -- one run ---------------------------------------------------------------------------------------
    def new_run(
        self,
        configuration: configurations.Configuration,
        *,
        values: dict[str, Any] | None = None,
        var_files: tuple[Path, ...] = (),
        preflight: dict[str, Any] | None = None,
        account_id: str | None = None,
    ) -> TerraformRun:
        """A run of ``configuration`` (not started), in ``account_id`` (else :attr:`account_id`) when one is given.
        The preflight options are checked here, before anything is applied."""
        if (preflight or {}).get("deployer") is not None:
            validate_arn_option("deployer", (preflight or {})["deployer"])
        run = configurations.new_run(
            configuration,
            target=self.target,
            tools=self.tools,
            results_dir=self.results_dir,
            worker=self.worker,
            keep=self.keep,
            extra=values,
            var_files=var_files,
            progress=self.progress,
            account_id=account_id or self.account_id,
        )
        run.preflight_options = dict(preflight or {})
        return run

    def start(
        self,
        run: TerraformRun,
        *,
        partial: bool = False,
        idempotent: bool = True,
        before_init: Callable[[TerraformRun], None] | None = None,
    ) -> HarnessError | None:
        """Copy, init, apply and plan for idempotency.

        With ``partial`` (the preflight), an apply that fails part-way is returned instead of raised, so what
        exists can still be examined, and no idempotency plan is made (the question is whether tasks start).
        ``idempotent`` False skips that plan too (an upgrade's old side: the switch's plan is the question);
        ``before_init`` changes the copy before ``init`` (an upgrade pins the side's provider version)."""
        try:
            run.prepare()
            if before_init is not None:
                before_init(run)
            run.init()
            try:
                run.apply()
            except HarnessError as exc:
                if not partial:
                    raise
                run.failed = True
                return exc
            if idempotent and not partial:
                run.check_idempotent()
            self._tell_changes(run)
        except BaseException:
            run.failed = True
            raise
        return None

    def _tell_changes(self, run: TerraformRun) -> None:
        """What the harness changed about the deployment (region, account, tags, backend, endpoints), once per run,
        where progress goes."""
        for change in run.changes:
            self._say(f"{run.name}: as deployed: {change}")

    def finish(
        self, run: TerraformRun, *, failed: bool = False, error: str = "", applied: AppliedRun | None = None
    ) -> str:
        """Destroy (unless kept) and write the run's summary (with the preflight verdicts ``applied``'s checks
        reached); the folder is kept on any failure. Returns the teardown's error (masked), or "". Never raises for
        a teardown failure: the caller reports it apart."""
        problem = self._down(run, lambda: run.down(failed=failed))
        interrupted = INTERRUPTS.requested.is_set()
        reports = applied.reads.all_reports() if applied is not None else []
        text = "\n".join(p for p in (error, problem) if p)
        write_summary(run, self.results_dir, text, interrupted=interrupted, reports=reports)
        return problem

    def _down(self, run: TerraformRun, down: Callable[[], None]) -> str:
        """``down`` (a run's or a batch's destroy), then the sweep after a killed command: what went wrong, or ""."""
        return "\n".join(problem for problem in (_teardown(run, down), self._swept(run)) if problem)

    def _swept(self, run: TerraformRun) -> str:
        """After a command of ``run`` was killed at the end of its grace, Terraform had no time to write into the
        state what it had created: the run's own resources (its prefix, its accounts) are swept, and what was found
        is told. Returns what could not be deleted ("" when nothing). Not after a second interrupt (stop at once),
        nor for a kept run."""
        if not run.killed or run.keep or INTERRUPTS.forced.is_set() or self.after_kill is None:
            return ""
        try:
            swept, failed = self.after_kill(run)
        except Exception as exc:  # a teardown failure is reported apart, never raised (see finish)
            swept, failed = [], [f"the sweep itself failed: {run.masker(str(exc))}"]
        if swept and self.say is not None:
            self.say(f"{run.name}: swept what the killed command had created outside its state: {', '.join(swept)}")
        if failed:
            run.failed = True
            return f"{run.name}: after the killed command, these could not be swept: {'; '.join(failed)}"
        return ""

    @contextlib.contextmanager
    def applied(
        self,
        configuration: configurations.Configuration,
        *,
        values: dict[str, Any] | None = None,
        var_files: tuple[Path, ...] = (),
        preflight: dict[str, Any] | None = None,
    ) -> Iterator[AppliedRun]:
        """``with lifecycle.applied(configuration) as run:`` for scripts: started on entry, finished on exit (the
        folder kept when the body raised); :class:`TeardownError` when the destroy fails."""
        run = self.new_run(configuration, values=values, var_files=var_files, preflight=preflight)
        view: AppliedRun | None = None
        try:
            self.start(run)
            view = AppliedRun.of(run)
            yield view
        except BaseException:
            run.failed = True
            raise
        finally:
            problem = self.finish(run, failed=run.failed, applied=view)
            if problem and sys.exc_info()[0] is None:
                raise TeardownError(problem)

    def one(
        self,
        configuration: configurations.Configuration,
        work: Work,
        *,
        values: dict[str, Any] | None = None,
        var_files: tuple[Path, ...] = (),
        preflight: dict[str, Any] | None = None,
        partial: bool = False,
    ) -> Outcome:
        """Start, work, finish one configuration. Never raises for the configuration's own failures."""
        outcome = Outcome(configuration.name, str(configuration.path))
        if INTERRUPTS.requested.is_set():
            outcome.skipped = "interrupted before it started"
            return outcome
        reason = unavailable(configuration, self.target, self.registry_hint)
        if reason:
            outcome.skipped = reason
            return outcome
        try:
            run = self.new_run(configuration, values=values, var_files=var_files, preflight=preflight)
        except ConfigurationError as exc:
            outcome.error, outcome.bad_input = str(exc), True
            return outcome
        outcome.run = run
        try:
            failure = self.start(run, partial=partial)
            if failure is not None:
                outcome.error = run.masker(str(failure))
                outcome.bad_input = isinstance(failure, ConfigurationError)
            if run.applied:
                outcome.applied = AppliedRun.of(run)
                self._work(outcome.applied, outcome, work)
        except InterruptedRun as exc:
            outcome.interrupted, outcome.error = True, run.masker(str(exc))
        except HarnessError as exc:
            outcome.error = run.masker(str(exc))
            outcome.bad_input = isinstance(exc, ConfigurationError)
        except KeyboardInterrupt:
            INTERRUPTS.requested.set()
            outcome.interrupted = True
            outcome.error = "interrupted: destroyed without running the checks"
        finally:
            outcome.destroy_error = self.finish(
                run, failed=not outcome.ok, error=outcome.error, applied=outcome.applied
            )
        return outcome

    def _work(self, run: AppliedRun, outcome: Outcome, work: Work) -> None:
        if INTERRUPTS.requested.is_set():
            outcome.interrupted = True
            outcome.error = "interrupted: destroyed without running the checks"
            return
        stage = "checks"
        if self.progress is not None:
            self.progress(run.name, stage, None)
        started = time.perf_counter()
        work(run, outcome)
        run.timings[stage] = time.perf_counter() - started
        if self.progress is not None:
            self.progress(run.name, stage, run.timings[stage])

    # -- many: the batch where it can be, each alone otherwise -------------------------------------------
    def batchable(self, chosen: Sequence[configurations.Configuration]) -> list[configurations.Configuration]:
        """The configurations that can be applied together as one root here; none when fewer than two can."""
        members = []
        for configuration in chosen:
            if unavailable(configuration, self.target, self.registry_hint):
                continue
            if batch.unbatchable(configuration, self.target) is None:
                members.append(configuration)
        return members if len(members) > 1 else []

    def start_batch(self, members: Sequence[configurations.Configuration]) -> batch.Batch | None:
        """Apply ``members`` as one root. When that fails it is destroyed at once (folder kept) and None is
        returned: the members are then run alone, each giving its own error."""
        group = batch.Batch(members, results_dir=self.results_dir, new_run=self._batch_run)
        self._say(f"batch: {', '.join(group.names)} applied as one root")
        try:
            group.up()
        except HarnessError as exc:
            first = first_error_line(group.run.masker(str(exc)))
            self._say(f"batch failed ({first}); running each alone")
            with contextlib.suppress(HarnessError):
                group.down(failed=True)
            return None
        except BaseException:
            with contextlib.suppress(HarnessError, KeyboardInterrupt):
                group.down(failed=True)
            raise
        return group

    def member_views(self, group: batch.Batch, preflight: dict[str, Any] | None = None) -> list[AppliedRun]:
        """Each member of an applied batch as the value its checks read: its share of the batch's state, the
        batch's target and work folder, the batch's stage seconds."""
        return [
            AppliedRun(group.run, state, dict(preflight or {}), member_timings=dict(group.run.timings))
            for state in group.member_states()
        ]

    def _batch_run(self, source: Path) -> TerraformRun:
        """The run of a batch's generated root."""
        return configurations.new_run(
            configurations.Configuration("batch", source),
            target=self.target,
            tools=self.tools,
            results_dir=self.results_dir,
            worker=self.worker,
            keep=self.keep,
            progress=self.progress,
        )

    def finish_batch(self, group: batch.Batch, views: Iterable[AppliedRun], *, failed: bool) -> str:
        """Destroy the batch once (folder kept when ``failed``), a summary per member; the teardown's error."""
        problem = self._down(group.run, lambda: group.down(failed=failed))
        for view in views:
            view.failed = view.failed or failed or bool(problem)
            write_summary(
                view,
                self.results_dir,
                problem,
                interrupted=INTERRUPTS.requested.is_set(),
                reports=view.reads.all_reports(),
            )
        return problem

    def many(
        self,
        chosen: Sequence[configurations.Configuration],
        work: Work,
        *,
        jobs: int = 1,
        together: bool = True,
        values: dict[str, Any] | None = None,
        var_files: tuple[Path, ...] = (),
        preflight: dict[str, Any] | None = None,
    ) -> list[Outcome]:
        """Every configuration's outcome, in order: the batch first (the largest job), the rest ``jobs`` at a
        time. Waits for everything to be destroyed, also on an interrupt (the second stops at once)."""
        members = self.batchable(chosen) if together and not values and not var_files else []
        pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="lifecycle")
        try:
            batched = pool.submit(self._batch_outcomes, members, work, max(1, jobs), preflight)
            alone = {
                index: pool.submit(self.one, c, work, values=values, var_files=var_files, preflight=preflight)
                for index, c in enumerate(chosen)
                if c not in members
            }
            from_batch = iter(wait_through_interrupts(batched))
            return [wait_through_interrupts(alone[i]) if i in alone else next(from_batch) for i in range(len(chosen))]
        finally:
            pool.shutdown(wait=not INTERRUPTS.forced.is_set(), cancel_futures=True)

    def _batch_outcomes(
        self, members: Sequence[configurations.Configuration], work: Work, jobs: int, preflight: dict[str, Any] | None
    ) -> list[Outcome]:
        if not members:
            return []
        group = self.start_batch(members)
        if group is None:
            return [self.one(m, work, preflight=preflight) for m in members]
        outcomes: list[Outcome] = []
        views = self.member_views(group, preflight)
        try:
            with ThreadPoolExecutor(max_workers=min(jobs, len(views)), thread_name_prefix="member") as checking:
                outcomes = list(checking.map(lambda v: self._member(group, v, work), views))
        finally:
            failed = len(outcomes) < len(members) or any(not o.ok for o in outcomes)
            problem = self.finish_batch(group, views, failed=failed)
        for outcome in outcomes:
            outcome.destroy_error = problem
            if outcome.applied is not None:
                outcome.applied.timings["destroy"] = group.run.timings.get("destroy", 0.0)
        return outcomes

    def _member(self, group: batch.Batch, view: AppliedRun, work: Work) -> Outcome:
        outcome = Outcome(view.name, str(view.source), run=group.run, applied=view, batched=True)
        problem = group.idempotency_error(view.name)
        if problem is not None:
            outcome.error = view.masker(str(problem))
        else:
            try:
                self._work(view, outcome, work)
            except HarnessError as exc:
                outcome.error = view.masker(str(exc))
        view.failed = not outcome.ok
        return outcome

    # -- the configuration's own terraform test files -------------------------------------------------
    def terraform_tests(
        self,
        configuration: configurations.Configuration,
        files: Sequence[str] = (),
        *,
        judge: tftest.Judge | None = None,
    ) -> list[tftest.FileResult]:
        """Run the configuration's ``terraform test`` files (``files``, else all of them), one after the other, each
        in a fresh account (:class:`~fargate_harness.runner.tftest.TerraformTest`); a passing file's folder is
        removed unless kept. ConfigurationError when there is no test file, or one is refused."""
        chosen = list(files) or tftest.find_test_files(configuration.path)
        if not chosen:
            raise ConfigurationError(
                f"{configuration.path}: no terraform test files (*.tftest.hcl beside the root module or in "
                f"{tftest.TEST_DIRECTORY}/); write one, or give the configuration's folder"
            )
        results = []
        for file in chosen:
            if INTERRUPTS.requested.is_set():
                break
            prefix = configurations.unique_prefix(self.worker)
            variables = configurations.run_variables(configuration, prefix, self.target.scenario_variables())
            masker = Masker()
            for name in SENSITIVE_VARIABLES:
                if name in variables:
                    masker.add(*secret_forms(variables[name]))
            judge = judge if judge is not None else state_judge(configuration)
            test = tftest.TerraformTest(
                configuration.path,
                file,
                target=self.target,
                toolchain=self.tools,
                results_dir=self.results_dir,
                prefix=prefix,
                variables=variables,
                tags=ownership_tags(run_id(), configuration.name, prefix),
                masker=masker,
                sensitive=SENSITIVE_VARIABLES,
                judge=judge,
            )
            self._say(f"{test.name}: terraform test in a fresh account")
            result = test.run()
            results.append(result)
            if result.passed and not self.keep:
                shutil.rmtree(result.workdir, ignore_errors=True)
        return results

    def _say(self, text: str) -> None:
        if self.say is not None:
            self.say(text)


def state_judge(configuration: configurations.Configuration) -> tftest.Judge:
    """What a ``terraform test`` apply run's state is judged by: the preflight, decided offline from that state (the
    plan preflight's facts, :func:`fargate_harness.preflight.plan.preflight_state`), images assumed pushed (a test
    file applies the infrastructure; CI pushes images after it). A task definition that would not start is a
    finding, with the preflight's reasons and fixes; one the state cannot decide is not."""
    from fargate_harness.preflight.plan import WILL_NOT_START, preflight_state

    def judge(file: str, run: str, state: Mapping[str, Any]) -> list[str]:
        decided = preflight_state(
            state, source=f"{file}, run {run!r}", directory=configuration.path, images="assume-pushed"
        )
        found: list[str] = []
        for report in decided.reports:
            if report.verdict != WILL_NOT_START or report.report is None:
                continue
            subject = report.address
            found += [f"{subject}: would not start: {error}" for error in report.errors]
            found += checks.fatal_findings(subject, report.decided)
        return found

    return judge


def wait_through_interrupts(future: Any) -> Any:
    """``future.result()``, in the main thread, through interrupts: the first is forwarded to every running
    Terraform (which then writes its state; the workers destroy what was applied); the second stops at once."""
    while True:
        try:
            return future.result()
        except KeyboardInterrupt:
            if INTERRUPTS.interrupt():
                print(
                    "fargate-harness: stopped at once; the state of what was applied is kept under its run folder: "
                    "run `fargate-harness sweep` to destroy it",
                    file=sys.stderr,
                    flush=True,
                )
                raise
            print(
                "fargate-harness: interrupted; letting Terraform finish its step, then destroying what was applied "
                "(interrupt again to stop at once)",
                file=sys.stderr,
                flush=True,
            )


def _teardown(run: TerraformRun, down: Callable[[], None]) -> str:
    """Run ``down`` (a run's or a batch's destroy); its error (masked) as text, "" when it went well. The second
    interrupt, arriving during the destroy, stops it at once: the run's state is kept and the line says so."""
    try:
        down()
    except HarnessError as exc:
        return run.masker(str(exc))
    except KeyboardInterrupt:
        run.failed = True
        problem = stopped_at_once(run)
        print(f"fargate-harness: {problem}", file=sys.stderr, flush=True)
        return problem
    return ""


def stopped_at_once(run: TerraformRun) -> str:
    """The one line after a second interrupt: what is kept, and what finishes the clean-up."""
    return (
        f"{run.name}: stopped at once (second interrupt): its state is kept in {run.workdir}; resources it created "
        f"may remain: run `fargate-harness sweep --results-dir {run.results_dir}` to destroy them"
    )


def first_error_line(text: str) -> str:
    """Terraform's first ``Error:`` line of ``text``, else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("Error:")), lines[0] if lines else "")
