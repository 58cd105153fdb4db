"""Nothing Terraform starts outlives the command: a ``local-exec`` provisioner's child after a forwarded Ctrl-C, and
a stage that reaches its ``--tf-timeout`` (stopped like a first Ctrl-C, destroyed, its stage named, exit 124).

The configuration is the smallest that shows it: one ``aws_ssm_parameter`` whose ``local-exec`` provisioner runs a
shell that runs ``sleep`` (a grandchild of Terraform: Terraform cancels a provisioner by ending the shell it started,
https://developer.hashicorp.com/terraform/language/resources/provisioners/local-exec, and the shell's own children
are not Terraform's to end). Every process is started with SIGINT at its default action (``env
--default-signal=INT``): a background job of a script starts with it ignored, and the test would prove nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT
from tools.soak import SLOW_APPLY, processes_under


def slow_configuration(folder: Path) -> Path:
    """Write :data:`tools.soak.SLOW_APPLY` into ``folder`` (one SSM parameter whose provisioner sleeps); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(SLOW_APPLY)
    return folder


def sleepers(results: Path) -> list[int]:
    """``sleep`` processes whose working folder is under ``results`` (the provisioner runs in the run's copy)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() == "sleep" and os.readlink(proc / "cwd").startswith(str(results)):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def parameters(emulator: EmbeddedTarget, results: Path) -> list[str]:
    """SSM parameters of every account the runs under ``results`` deployed into."""
    names: list[str] = []
    accounts = {emulator.account_id()}
    for manifest in results.glob("*/*/run.json"):
        accounts.update(str(a) for a in json.loads(manifest.read_text()).get("accounts") or [])
    for account in sorted(accounts):
        ssm = emulator.in_account(account).client("ssm")
        names += [p["Name"] for p in ssm.describe_parameters().get("Parameters", [])]
    return names


def _start_cli(config: Path, results: Path, emulator: EmbeddedTarget, *extra: str) -> subprocess.Popen[str]:
    assert emulator.endpoint_url
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(results), "HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url}
    return subprocess.Popen(
        [
            "env",
            "--default-signal=INT",
            sys.executable,
            "-m",
            "fargate_harness.cli",
            "run",
            "--dir",
            str(config),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_sleeper(run: subprocess.Popen[str], results: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not sleepers(results):
        assert run.poll() is None, f"the run ended before its provisioner slept:\n{run.communicate()[1][-3000:]}"
        assert time.monotonic() < deadline, f"no provisioner `sleep` under {results} within {seconds:.0f} s"
        time.sleep(0.1)


def _ended(run: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    try:
        return run.communicate(timeout=timeout)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()


def test_a_provisioners_child_does_not_outlive_a_forwarded_ctrl_c(tmp_path: Path, emulator: EmbeddedTarget) -> None:
    """Ctrl-C during the provisioner: Terraform writes its state and exits, the run destroys, and the provisioner's
    ``sleep`` (left in the command's process group once Terraform exits) is ended with the command."""
    results = tmp_path / "results"
    config = slow_configuration(tmp_path / "slow")
    run = _start_cli(config, results, emulator)
    _wait_for_sleeper(run, results)
    left_sleeping = sleepers(results)
    os.kill(run.pid, signal.SIGINT)  # the harness only: it forwards the interrupt to Terraform
    _out, err = _ended(run, 180)
    assert run.returncode == 130, f"expected exit 130 (interrupted), got {run.returncode}:\n{err[-3000:]}"
    time.sleep(1)
    alive = [pid for pid in left_sleeping if Path(f"/proc/{pid}").exists()]
    assert alive == [], f"the provisioner's sleep {alive} outlived the interrupted command:\n{err[-2000:]}"
    assert processes_under(results) == [], "processes of the run outlived it"
    left = [name for name in parameters(emulator, results) if name.endswith("/slow")]
    assert left == [], f"the interrupted run left {left} behind:\n{err[-3000:]}"


def test_an_apply_past_its_deadline_is_stopped_destroyed_and_named(tmp_path: Path, emulator: EmbeddedTarget) -> None:
    """``--tf-timeout apply=10s`` on an apply whose provisioner sleeps 120 s: Terraform is stopped as on a first
    Ctrl-C (state written), the run destroys, the stage is named, the exit code is 124, and nothing is left."""
    results = tmp_path / "results"
    config = slow_configuration(tmp_path / "slow")
    started = time.monotonic()
    run = _start_cli(config, results, emulator, "--tf-timeout", "apply=10s,grace=30s")
    out, err = _ended(run, 240)
    took = time.monotonic() - started
    assert run.returncode == 124, f"expected exit 124 (a deadline reached), got {run.returncode}:\n{err[-3000:]}"
    assert "`terraform apply` reached its deadline (apply=10s" in out + err, (out + err)[-3000:]
    assert took < 100, f"the run took {took:.0f} s: the deadline did not stop the 120 s provisioner"
    time.sleep(1)
    assert processes_under(results) == [], "processes of the run outlived it"
    left = [name for name in parameters(emulator, results) if name.endswith("/slow")]
    assert left == [], f"the run that timed out left {left} behind:\n{err[-3000:]}"


CLUSTER_WAIT = ROOT / "tests" / "data" / "configs" / "cluster-wait"


def test_what_an_apply_killed_after_its_grace_created_is_swept_by_the_run(
    tmp_path: Path, emulator: EmbeddedTarget
) -> None:
    """``--tf-timeout apply=6s,grace=1s`` on ``cluster-wait``: at the deadline provider 3.39 is inside its 10 s wait
    after CreateCluster, Terraform waits for it past the grace and is killed before it writes the cluster into its
    state. The destroy from the state cannot see the cluster: the run sweeps its own resources (the cluster carries
    its ownership tags) and says so, and nothing is left."""
    results = tmp_path / "results"
    run = _start_cli(CLUSTER_WAIT, results, emulator, "--tf-timeout", "apply=6s,grace=1s")
    out, err = _ended(run, 240)
    assert run.returncode == 124, f"expected exit 124 (a deadline reached), got {run.returncode}:\n{err[-3000:]}"
    assert "swept what the killed command had created outside its state: ecs-cluster " in out + err, (out + err)[-3000:]
    time.sleep(1)
    assert processes_under(results) == [], "processes of the run outlived it"
    (manifest,) = results.glob("*/*/run.json")
    account = str(json.loads(manifest.read_text())["accounts"][0])
    ecs = emulator.in_account(account).client("ecs")
    listed = ecs.list_clusters()["clusterArns"]  # a deleted cluster stays listed, INACTIVE, as on AWS
    left = [c["clusterArn"] for c in ecs.describe_clusters(clusters=listed)["clusters"] if c["status"] != "INACTIVE"]
    assert left == [], f"cluster-wait: the killed apply's cluster was left behind in {account}: {left}"


def test_a_bad_timeout_is_refused_with_exit_2(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "fargate_harness.cli", "run", "--dir", str(tmp_path), "--tf-timeout", "apply=soon"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "'apply=soon' is not stage=duration" in run.stderr and "Traceback" not in run.stderr, run.stderr
