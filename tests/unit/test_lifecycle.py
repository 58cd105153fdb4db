"""The one lifecycle, driven with a stand-in run (no Terraform, no emulator): what each failure comes to in the
outcome and the exit code, that a run is finished (destroyed, summary written) whatever happened, the batch's
fallback to each member alone, and interrupts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import lifecycle as lifecycle_module
from fargate_harness.configurations import Configuration
from fargate_harness.errors import ConfigurationError, InterruptedRun, StageTimeout, TerraformError
from fargate_harness.lifecycle import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TEARDOWN,
    EXIT_TIMEOUT,
    Lifecycle,
    Outcome,
    exit_code,
    run_preflight,
)
from fargate_harness.model.applied import AppliedState
from fargate_harness.runner.masking import Masker
from fargate_harness.targets.base import Target

ROLE_STATE = {
    "values": {
        "root_module": {
            "resources": [
                {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r", "values": {}}
            ]
        }
    }
}


@dataclass
class FakeRun:
    """Records the lifecycle's calls; ``fail`` names the stage that raises, and what it raises."""

    name: str
    results_dir: Path
    fail: dict[str, BaseException] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    applied: bool = False
    failed: bool = False
    keep: bool = False
    prefix: str = "fh-t-000000"
    masker: Masker = field(default_factory=Masker)
    changes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    resources: list[str] = field(default_factory=list)
    preflight_options: dict[str, Any] = field(default_factory=dict)
    deadlines_reached: list[str] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)

    @property
    def workdir(self) -> Path:
        return self.results_dir / f"{self.name}-{self.prefix}"

    def _stage(self, stage: str) -> None:
        self.calls.append(stage)
        if stage in self.fail:
            if isinstance(self.fail[stage], StageTimeout):  # as the session's command line records it
                self.deadlines_reached.append(f"terraform {stage} in {self.workdir} (10s)")
            raise self.fail[stage]

    def prepare(self) -> None:
        self._stage("prepare")

    def init(self) -> None:
        self._stage("init")

    def apply(self) -> None:
        self.applied = True
        self._stage("apply")

    def check_idempotent(self) -> None:
        self._stage("plan")

    def applied_state(self) -> AppliedState:
        return AppliedState(self.name, self.results_dir, self.prefix, self.results_dir, ROLE_STATE)

    def down(self, failed: bool = False) -> None:
        self.failed = self.failed or failed
        self._stage("destroy")


@pytest.fixture
def folder(tmp_path: Path) -> Configuration:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "main.tf").write_text('resource "aws_iam_role" "r" {}\n')
    return Configuration("cfg", tmp_path / "cfg")


@pytest.fixture(autouse=True)
def no_interrupt_left() -> Iterator[None]:
    """No interrupt before or after: another test of the worker may have left the process-wide one set."""
    _clear_interrupts()
    yield
    _clear_interrupts()


def _clear_interrupts() -> None:
    lifecycle_module.INTERRUPTS.requested.clear()
    lifecycle_module.INTERRUPTS.forced.clear()


def _lifecycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[FakeRun], **fail: BaseException
) -> Lifecycle:
    target = Target(name="embedded", region="us-east-1", endpoint_url="http://127.0.0.1:1")
    life = Lifecycle(target, None, tmp_path)  # type: ignore[arg-type]  # nothing here runs Terraform

    def new_run(configuration: Configuration, **_options: Any) -> FakeRun:
        run = FakeRun(configuration.name, tmp_path, dict(fail))
        runs.append(run)
        return run

    monkeypatch.setattr(life, "new_run", new_run)
    return life


#: ``make(runs, **fail)``: a lifecycle whose runs are :class:`FakeRun`, appended to ``runs``, failing as ``fail`` says.
Make = Callable[..., Lifecycle]


@pytest.fixture
def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Make:
    return lambda runs, **fail: _lifecycle(tmp_path, monkeypatch, runs, **fail)


def _checked(run: Any, outcome: Outcome) -> None:
    outcome.results = []
    outcome.reports = []


def test_a_clean_run_is_applied_checked_destroyed_and_summarised(
    tmp_path: Path, make: Make, folder: Configuration
) -> None:
    runs: list[FakeRun] = []
    seen: list[Any] = []
    outcome = make(runs).one(folder, lambda view, o: seen.append(view))
    assert runs[0].calls == ["prepare", "init", "apply", "plan", "destroy"], runs[0].calls
    assert seen and seen[0].resources == ["aws_iam_role.r"] and outcome.applied is seen[0]
    assert outcome.ok and exit_code([outcome]) == EXIT_OK
    (summary,) = (tmp_path / "summaries").glob("cfg-*.json")
    assert json.loads(summary.read_text())["failed"] is False


@pytest.mark.parametrize(
    ("stage", "error", "code"),
    [
        ("apply", TerraformError(["terraform", "apply"], 1, "Error: boom", ""), EXIT_FAILED),
        ("init", ConfigurationError("cfg: bad input"), EXIT_BAD_INPUT),
        ("plan", TerraformError(["terraform", "plan"], 1, "not idempotent", ""), EXIT_FAILED),
        ("apply", InterruptedRun("cfg: interrupted"), EXIT_INTERRUPTED),
    ],
)
def test_each_failure_is_finished_and_coded(
    make: Make, folder: Configuration, stage: str, error: BaseException, code: int
) -> None:
    runs: list[FakeRun] = []
    work_ran: list[bool] = []
    outcome = make(runs, **{stage: error}).one(folder, lambda v, o: work_ran.append(True))
    assert runs[0].calls[-1] == "destroy", f"{stage}: the run must be finished, calls {runs[0].calls}"
    assert runs[0].failed, f"{stage}: a failed run keeps its folder"
    assert not work_ran, f"{stage}: nothing to check after a failed start"
    assert exit_code([outcome]) == code, (stage, outcome)


def test_a_deadline_reached_is_124_for_its_own_run_only(make: Make, folder: Configuration) -> None:
    """The deadline belongs to the run whose stage reached it: a later lifecycle in the same process (a pytest
    worker, or the CLI's next configuration) is judged on its own."""
    runs: list[FakeRun] = []
    timed_out = make(runs, apply=StageTimeout("cfg: `terraform apply` reached its deadline", "apply"))
    outcome = timed_out.one(folder, _checked)
    assert exit_code([outcome]) == EXIT_TIMEOUT and runs[0].calls[-1] == "destroy", runs[0].calls
    later = make(runs).one(folder, _checked)
    assert exit_code([later]) == EXIT_OK, "a deadline of an earlier run must not make this one's exit code"
    assert exit_code([outcome, later]) == EXIT_TIMEOUT


def test_a_command_killed_after_its_grace_has_the_runs_own_swept_after_the_destroy(
    make: Make, folder: Configuration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed at the end of its grace, Terraform wrote nothing more into its state: the destroy from it can leave
    what the command had created, so the run's own resources are swept after it (docs/security.md, deadlines)."""
    runs: list[FakeRun] = []
    life = make(runs, apply=StageTimeout("cfg: `terraform apply` reached its deadline", "apply"))
    swept: list[tuple[str, list[str]]] = []
    news: list[str] = []

    def after_kill(run: Any) -> tuple[list[str], list[str]]:
        swept.append((run.name, list(run.calls)))
        return ["ssm-parameter /fh-t-000000/slow"], []

    life.after_kill, life.say = after_kill, news.append
    original = FakeRun._stage

    def killed_apply(run: FakeRun, stage: str) -> None:
        if stage == "apply":
            run.killed.append(f"terraform apply in {run.workdir}")
        original(run, stage)

    monkeypatch.setattr(FakeRun, "_stage", killed_apply)
    outcome = life.one(folder, _checked)
    monkeypatch.undo()
    assert swept == [(folder.name, runs[0].calls)] and runs[0].calls[-1] == "destroy", (swept, runs[0].calls)
    assert any("ssm-parameter /fh-t-000000/slow" in line for line in news), news
    assert exit_code([outcome]) == EXIT_TIMEOUT and not outcome.destroy_error
    untouched = make([])
    untouched.after_kill = after_kill
    untouched.one(folder, _checked)
    assert len(swept) == 1, "a run whose commands were not killed is not swept"


def test_a_failed_destroy_is_its_own_code_and_not_the_verdict(
    tmp_path: Path, make: Make, folder: Configuration
) -> None:
    runs: list[FakeRun] = []
    failure = TerraformError(["terraform", "destroy"], 1, "Error: DeleteConflict", "")
    outcome = make(runs, destroy=failure).one(folder, _checked)
    assert outcome.ok and "DeleteConflict" in outcome.destroy_error
    assert exit_code([outcome]) == EXIT_TEARDOWN


def test_the_preflight_may_examine_a_partial_apply(tmp_path: Path, make: Make, folder: Configuration) -> None:
    runs: list[FakeRun] = []
    failure = TerraformError(["terraform", "apply"], 1, "Error: half", "")
    examined: list[Any] = []
    outcome = make(runs, apply=failure).one(folder, lambda v, o: examined.append(v), partial=True)
    assert examined, "the partial state must be examined"
    assert "plan" not in runs[0].calls and "Error: half" in outcome.error
    assert exit_code([outcome]) == EXIT_FAILED


def test_nothing_to_preflight_is_a_failure_that_says_what_it_looked_for(
    tmp_path: Path, make: Make, folder: Configuration
) -> None:
    outcome = make([]).one(folder, run_preflight)
    assert "no aws_ecs_task_definition" in outcome.nothing and exit_code([outcome]) == EXIT_FAILED


def test_ctrl_c_during_the_work_still_destroys_and_exits_130(tmp_path: Path, make: Make, folder: Configuration) -> None:
    runs: list[FakeRun] = []

    def interrupted(view: Any, outcome: Outcome) -> None:
        raise KeyboardInterrupt

    outcome = make(runs).one(folder, interrupted)
    assert outcome.interrupted and runs[0].calls[-1] == "destroy"
    assert exit_code([outcome]) == EXIT_INTERRUPTED
    later = make(runs).one(folder, _checked)
    assert later.skipped == "interrupted before it started", "what has not started is skipped after an interrupt"


def test_a_batch_that_fails_runs_each_member_alone(tmp_path: Path, make: Make, folder: Configuration) -> None:
    runs: list[FakeRun] = []
    life = make(runs)
    second = Configuration("other", folder.path)
    life.batchable = list  # type: ignore[method-assign]
    life.start_batch = lambda members: None  # type: ignore[method-assign]  # the batch failed and was destroyed
    outcomes = life.many([folder, second], _checked, jobs=2)
    assert [o.name for o in outcomes] == ["cfg", "other"] and all(o.ok and not o.batched for o in outcomes)
    assert sorted(r.name for r in runs) == ["cfg", "other"], "each member is applied alone"
