"""What a user's test receives is a read-only value: the applied state, its inventory and the assertions, with no
way to apply, destroy or re-prepare what the lifecycle owns (a batch member is such a value over its share)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from fargate_harness import AppliedRun
from fargate_harness.checks import Reads, run_of
from fargate_harness.errors import HarnessError
from fargate_harness.model.applied import AppliedState
from fargate_harness.runner.run import TerraformRun
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.base import Target

STATE = {
    "values": {
        "root_module": {
            "resources": [
                {
                    "address": "aws_iam_role.execution",
                    "mode": "managed",
                    "type": "aws_iam_role",
                    "name": "execution",
                    "values": {"name": "fh-exec", "arn": "arn:aws:iam::123456789012:role/fh-exec"},
                }
            ]
        }
    }
}
#: What only the lifecycle may do to what it applied.
LIFECYCLE_ONLY = {"apply", "destroy", "down", "prepare", "init", "init_override", "forget", "check_idempotent"}


def _run(tmp_path: Path) -> TerraformRun:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "main.tf").write_text('variable "name_prefix" {}\n')
    tools = Toolchain(Path("/nonexistent/terraform"), "1.9.8", "test", "registry", tmp_path / "c.tfrc", tmp_path / "pc")
    target = Target(name="embedded", region="us-east-1", endpoint_url="http://127.0.0.1:1")
    return TerraformRun(folder, target=target, toolchain=tools, prefix="fh-t-1", results_dir=tmp_path / "r")


def test_the_value_a_test_receives_cannot_apply_or_destroy(tmp_path: Path) -> None:
    public = {name for name, _ in inspect.getmembers(AppliedRun) if not name.startswith("_")}
    assert not public & LIFECYCLE_ONLY, f"AppliedRun exposes lifecycle actions: {sorted(public & LIFECYCLE_ONLY)}"
    assert not issubclass(AppliedRun, TerraformRun), "AppliedRun must wrap the run, not be one"
    assert set(dir(TerraformRun)) >= LIFECYCLE_ONLY, "the list names the run's real actions"
    run = _run(tmp_path)
    view = AppliedRun(run, AppliedState("config", run.source, run.prefix, run.source, STATE))
    assert view.inventory.roles[0].name == "fh-exec" and view.resources == ["aws_iam_role.execution"]
    assert run_of(view) is run and view.is_of(run)
    with pytest.raises(AttributeError):
        view.outputs = {}  # type: ignore[misc]


def test_a_batch_member_is_a_value_over_its_share_with_its_own_verdict(tmp_path: Path) -> None:
    run = _run(tmp_path)
    run.timings["apply"] = 2.0
    member = AppliedRun(
        run, AppliedState("member", run.source, "fh-t-1-1", run.source, STATE), member_timings=dict(run.timings)
    )
    member.failed = True
    assert member.failed and not run.failed, "a member's failure is its own; the batch's run decides its folder"
    member.timings["destroy"] = 1.0
    assert "destroy" not in run.timings
    with pytest.raises(HarnessError, match="idempotency plan is the batch's"):
        member.plan_changes()


def test_each_applied_state_has_its_own_reads(tmp_path: Path) -> None:
    run = _run(tmp_path)
    state = AppliedState("config", run.source, run.prefix, run.source, STATE)
    first, second = AppliedRun(run, state), AppliedRun(run, state)
    assert isinstance(first.reads, Reads) and first.reads is not second.reads
