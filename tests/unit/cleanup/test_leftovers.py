"""Unit tests for cleanup.leftovers: run folders of dead and live runs, against a moto server on a free port."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.cleanup.leftovers import (
    OUTCOME_FILE,
    RunRecord,
    clean_leftovers,
    pid_alive,
    run_folders,
    state_resources,
)
from fargate_harness.model.ownership import MARKER_KEY
from fargate_harness.targets.base import Target

ACCOUNT = "123456789012"
PREFIX = "fh-gw0-0a1b2c"
EMPTY_STATE = {"version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "x", "outputs": {}, "resources": []}
FULL_STATE = {
    **EMPTY_STATE,
    "resources": [
        {
            "mode": "managed",
            "type": "aws_s3_bucket",
            "name": "data",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"attributes": {"bucket": f"{PREFIX}-app-data"}}],
        }
    ],
}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto(moto_url: str) -> Iterator[Target]:
    yield Target("moto", "us-east-1", moto_url, access_key="testing", secret_key="testing")
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=10).close()


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def run_folder(
    results: Path,
    *,
    pid: int,
    endpoint: str | None,
    prefix: str = PREFIX,
    state: dict[str, Any] | None = None,
    run_id: str = "run-1",
    target: str = "embedded",
) -> Path:
    """A folder as the runner writes it: run.json, a Terraform copy, files of mode 0600."""
    folder = results / run_id / f"basic-{prefix}"
    tfdir = folder / "config" / "scenarios" / "basic"
    tfdir.mkdir(parents=True)
    record = {
        "run_id": run_id,
        "prefix": prefix,
        "label": "basic",
        "source": "scenarios/basic",
        "target": target,
        "endpoint": endpoint,
        "region": "us-east-1",
        "accounts": [ACCOUNT],
        "pid": pid,
        "started": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "tfdir": str(tfdir),
    }
    (folder / "run.json").write_text(json.dumps(record))
    files = {
        tfdir / "terraform.tfstate": json.dumps(state if state is not None else EMPTY_STATE),
        tfdir / ".terraform.tfstate.lock.info": json.dumps({"ID": "x", "Operation": "OperationTypeApply"}),
        tfdir / "idempotency.tfplan": "plan holding secret values",
        tfdir / "terraform.tfstate.backup": "backup holding secret values",
        folder / "terraform.log": "masked log\n",
    }
    for path, text in files.items():
        path.write_text(text)
        path.chmod(0o600)
    return folder


def names(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


TFDIR = "config/scenarios/basic"


def test_a_dead_runs_folder_loses_lock_plan_backup_and_empty_state_and_keeps_its_log(
    moto: Target, tmp_path: Path
) -> None:
    folder = run_folder(tmp_path, pid=dead_pid(), endpoint=moto.endpoint_url)

    report = clean_leftovers(tmp_path, moto)

    assert not report.failed, report.table()
    (outcome,) = report.folders
    assert sorted(outcome.removed) == sorted(
        f"{TFDIR}/{name}"
        for name in (
            ".terraform.tfstate.lock.info",
            "idempotency.tfplan",
            "terraform.tfstate.backup",
            "terraform.tfstate",
        )
    )
    assert names(folder) == {"run.json", "terraform.log", OUTCOME_FILE}
    assert f"removed {TFDIR}/.terraform.tfstate.lock.info" in report.table()
    again = clean_leftovers(tmp_path, moto)
    assert [item.status for item in again.folders] == ["already cleaned"]


def test_a_folder_whose_process_still_runs_is_left_untouched(moto: Target, tmp_path: Path) -> None:
    folder = run_folder(tmp_path, pid=os.getpid(), endpoint=moto.endpoint_url)
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=f"{PREFIX}-app-data")  # still being created by that live run
    before = names(folder)

    report = clean_leftovers(tmp_path, moto)

    assert names(folder) == before
    assert report.sweep is None
    assert report.folders[0].status == f"left alone: its process {os.getpid()} still runs"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [f"{PREFIX}-app-data"]


def test_an_untagged_bucket_of_a_dead_run_is_swept_in_the_account_it_recorded(moto: Target, tmp_path: Path) -> None:
    run_folder(tmp_path, pid=dead_pid(), endpoint=moto.endpoint_url)
    s3 = moto.client("s3")
    for bucket in (f"{PREFIX}-app-data", "fh-gw1-ffffff-app-data", "team-data"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket="team-data", Tagging={"TagSet": [{"Key": MARKER_KEY, "Value": "false"}]})

    report = clean_leftovers(tmp_path, moto)

    assert report.folders[0].swept == [f"s3-bucket {PREFIX}-app-data"]
    left = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    assert left == ["fh-gw1-ffffff-app-data", "team-data"], "the folder's sweep must touch only its own prefix"


def test_the_targets_own_account_is_swept_though_the_record_names_only_the_registry(
    moto: Target, tmp_path: Path
) -> None:
    """A run killed before anything asked for its account records only the registry's: make soak's kill of alb-efs
    3.9 s in left EFS mount targets in the primary account, which the folder's sweep did not look at."""
    folder = run_folder(tmp_path, pid=dead_pid(), endpoint=moto.endpoint_url)
    record = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**record, "accounts": ["210987654321"]}))
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=f"{PREFIX}-app-data")

    report = clean_leftovers(tmp_path, moto)

    assert report.folders[0].swept == [f"s3-bucket {PREFIX}-app-data"], report.table()
    assert s3.list_buckets()["Buckets"] == []


def test_a_state_with_resources_from_another_endpoint_is_kept_and_the_destroy_skipped(
    moto: Target, tmp_path: Path
) -> None:
    """A run made on another target (a LocalStack that is not running now): its state is what remains of its
    resources, so it is kept and the destroy waits for that target."""
    folder = run_folder(tmp_path, pid=dead_pid(), endpoint="http://127.0.0.1:1", state=FULL_STATE, target="localstack")

    report = clean_leftovers(tmp_path, moto)

    (outcome,) = report.folders
    assert outcome.failed and report.failed
    assert any("destroy skipped: the run used endpoint http://127.0.0.1:1" in note for note in outcome.notes)
    assert any("state kept: it still lists 1 resource(s)" in note for note in outcome.notes)
    assert f"{TFDIR}/terraform.tfstate" in names(folder)
    assert f"{TFDIR}/idempotency.tfplan" not in names(folder), "plans go whatever happens to the state"


def test_dry_run_touches_nothing(moto: Target, tmp_path: Path) -> None:
    folder = run_folder(tmp_path, pid=dead_pid(), endpoint=moto.endpoint_url)
    moto.client("s3").create_bucket(Bucket=f"{PREFIX}-app-data")
    before = names(folder)

    report = clean_leftovers(tmp_path, moto, dry_run=True)

    assert names(folder) == before
    assert report.folders[0].swept == [f"s3-bucket {PREFIX}-app-data (NOT deleted)"]
    assert moto.client("s3").list_buckets()["Buckets"]


def test_run_id_limits_the_folders(moto: Target, tmp_path: Path) -> None:
    run_folder(tmp_path, pid=dead_pid(), endpoint=moto.endpoint_url, run_id="run-1")
    other = run_folder(tmp_path, pid=dead_pid(), endpoint=moto.endpoint_url, run_id="run-2", prefix="fh-gw0-999999")

    report = clean_leftovers(tmp_path, moto, run_id="run-1")

    assert [outcome.prefix for outcome in report.folders] == [PREFIX]
    assert f"{TFDIR}/terraform.tfstate" in names(other)


def test_pid_alive_knows_dead_reaped_and_reused_pids() -> None:
    now = dt.datetime.now(dt.UTC)
    assert pid_alive(os.getpid(), now)
    assert not pid_alive(dead_pid(), now)
    # This process began before ``now``, so it cannot be the one a run started an hour from now recorded.
    assert not pid_alive(os.getpid(), now - dt.timedelta(hours=1))
    assert not pid_alive(0)


def test_record_and_state_readers(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, pid=1, endpoint=None, state=FULL_STATE)
    record = RunRecord.load(folder)
    assert (record.prefix, record.accounts, record.endpoint) == (PREFIX, (ACCOUNT,), None)
    assert state_resources(record.tfdir / "terraform.tfstate") == 1
    assert state_resources(tmp_path / "absent") is None
    assert run_folders(tmp_path) == [folder]
    (folder / "run.json").write_text("{}")
    with pytest.raises(Exception, match="missing run_id"):
        RunRecord.load(folder)


def test_a_relative_results_folder_and_the_generated_var_files(
    moto: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--results-dir results`` (relative, the default) works like an absolute one, and the runner's generated
    var files, which hold the run's secret values, go with the resources."""
    folder = run_folder(tmp_path / "results", pid=dead_pid(), endpoint=moto.endpoint_url)
    for generated in ("harness.tfvars.json", "harness-user.tfvars"):
        (folder / generated).write_text('{"secret_value": "s3cr3t"}')
    monkeypatch.chdir(tmp_path)

    report = clean_leftovers(Path("results"), moto)

    assert not report.failed, report.table()
    assert {"harness.tfvars.json", "harness-user.tfvars"} <= set(report.folders[0].removed)
    assert names(folder) == {"run.json", "terraform.log", OUTCOME_FILE}


def test_a_state_from_the_harness_own_emulator_that_is_gone_holds_nothing(moto: Target, tmp_path: Path) -> None:
    """The embedded emulator dies with its run (kill -9: parent-death signal) and held everything in memory:
    nothing remains to destroy, the sweep says so, keeps the state aside and does not fail."""
    folder = run_folder(tmp_path, pid=dead_pid(), endpoint="http://127.0.0.1:1", state=FULL_STATE)

    report = clean_leftovers(tmp_path, moto)

    (outcome,) = report.folders
    assert not outcome.failed and not report.failed, outcome.notes
    assert any("is gone, and what it held with it" in note for note in outcome.notes), outcome.notes
    assert f"{TFDIR}/terraform.tfstate" not in names(folder)
    assert f"{TFDIR}/terraform.tfstate.emulator-gone" in names(folder)


def test_a_state_kept_aside_holds_no_secret(moto: Target, tmp_path: Path) -> None:
    """The state of a run whose emulator died is kept aside, with the run's sensitive values masked (the soak found
    the planted secret in it); the generated var file that named the value is removed with the resources."""
    planted = "planted-Value-4343"
    state = json.loads(json.dumps(FULL_STATE))
    state["outputs"] = {"kept": {"value": planted, "type": "string", "sensitive": True}}
    folder = run_folder(tmp_path, pid=dead_pid(), endpoint="http://127.0.0.1:1", state=state)
    (folder / TFDIR / "variables.tf").write_text('variable "secret_value" {\n  sensitive = true\n}\n')
    (folder / "harness.tfvars.json").write_text(json.dumps({"secret_value": planted}))

    clean_leftovers(tmp_path, moto)

    kept = (folder / TFDIR / "terraform.tfstate.emulator-gone").read_text()
    assert planted not in kept, "the state kept aside still holds the run's secret value"
    assert "harness.tfvars.json" not in names(folder)


def test_a_killed_runs_sensitive_values_are_redacted_by_the_sweep(moto: Target, tmp_path: Path) -> None:
    """kill -9 gives the harness no chance to redact the var files of its copy (a user's secrets.auto.tfvars); the
    sweep does it, after the destroy (the generated var files it removes)."""
    folder = run_folder(tmp_path, pid=dead_pid(), endpoint=moto.endpoint_url)
    tfdir = folder / TFDIR
    (tfdir / "variables.tf").write_text('variable "db_password" {\n  sensitive = true\n}\n')
    planted = "planted-Value-4242"
    copied = tfdir / "secrets.auto.tfvars"
    copied.write_text(f'db_password = "{planted}"\n')

    report = clean_leftovers(tmp_path, moto)

    (outcome,) = report.folders
    still_there = planted in copied.read_text()  # a bool: pytest must not print the file's text on failure
    assert not still_there, "the killed run's sensitive value is still in its copied var file"
    assert any("secret values redacted in secrets.auto.tfvars" in note for note in outcome.notes), outcome.notes


def test_a_destroy_that_hangs_is_stopped_at_its_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep's Terraform commands keep the stage deadlines of a run (``--tf-timeout`` / HARNESS_TF_TIMEOUT): a
    destroy that never ends is stopped as on Ctrl-C, then killed after the grace, and reported; before, a sweep
    waited on it for ever."""
    from fargate_harness.cleanup.leftovers import _terraform
    from fargate_harness.errors import TerraformError
    from fargate_harness.runner.toolchain import Toolchain

    hanging = tmp_path / "terraform"
    hanging.write_text("#!/bin/sh\ntrap '' INT\nsleep 60\n")  # deaf to Ctrl-C: only the grace's kill ends it
    hanging.chmod(0o755)
    tools = Toolchain(hanging, "1.11.4", "test", "mirror", tmp_path / "rc", tmp_path / "cache")
    monkeypatch.setenv("HARNESS_TF_TIMEOUT", "destroy=1s,grace=1s")
    started = time.monotonic()
    with pytest.raises(TerraformError, match=r"reached its deadline \(destroy=1s"):
        _terraform(tools, tmp_path, dict(os.environ), "destroy", "-auto-approve")
    assert time.monotonic() - started < 20, "the destroy must end at its deadline plus the grace"
