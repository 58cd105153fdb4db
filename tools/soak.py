"""``make soak``: kill runs at random points, sweep, and count what is left, again and again.

``python -m tools.soak --kills 20 --seed 7`` starts one moto server (the embedded target), then repeatedly
starts ``fargate-harness run --scenario X`` in a child process sharing it (``HARNESS_EMBEDDED_ENDPOINT``), X
cycling through every reference scenario and one ALB + EFS configuration (``tests/data/soak/alb-efs``),
SIGKILLs the child (and its Terraform) at a seeded random point, and runs ``fargate-harness sweep
--results-dir`` against the same emulator. After each kill it lists everything moto holds for the
services the configurations use, in both accounts (not only tagged resources; moto's defaults such as
the default VPC and AWS managed policies and keys are left out explicitly), and searches every file
under the results folder for the planted secret value (``HARNESS_SECRET_VALUE``, never printed).

Every fourth kill is of ``pytest -n 2`` on two of the configurations (the plugin's fixtures, two xdist
workers), the others of the CLI; the kill points are drawn from ``--seed`` and printed. After the kills, two more
events: Ctrl-C twice under ``pytest -n 2`` (exit 130 expected) and an apply past its ``--tf-timeout`` (exit 124
expected, on a configuration whose provisioner sleeps). After each event the soak waits for the run's processes to
end (a supervisor gives Terraform 5 s to stop once the harness is gone), sweeps, and counts every process whose
working folder, output or arguments lie under the results folder.

The last line is ``soak summary: <kills> kills, <n> left after sweep, <m> files with the secret, <p> processes
left``: ``n`` counts distinct resources seen after any sweep, ``m`` distinct files, ``p`` processes still there
after the sweep (and any event that did not exit as expected). Exit 1 when any is not 0.

The runner writes ``run.json`` into each run folder right after copying the configuration; a child killed
before that leaves a folder without one, and the soak writes it from what it knows (the child's pid, the
emulator, the accounts), and says so in the summary.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fargate_harness.cleanup.leftovers import RUN_FILE
from fargate_harness.cleanup.sweep import HARNESS_PREFIX, AccountClients
from fargate_harness.runner.overrides import OVERRIDE_FILE
from fargate_harness.targets.embedded import EMBEDDED_ACCOUNT, EMBEDDED_REGISTRY_ACCOUNT, EmbeddedTarget

ROOT = Path(__file__).resolve().parents[1]
ALB_EFS = ROOT / "tests" / "data" / "soak" / "alb-efs"
ACCOUNTS = (EMBEDDED_ACCOUNT, EMBEDDED_REGISTRY_ACCOUNT)
#: Seconds after a run's folder appears between which its kill point is drawn, at first. A run of one reference
#: scenario lives about 3-5 s after its folder appears (init, apply, checks, destroy), an ALB's over a minute;
#: a run that finishes before its kill is not a kill, so the window shrinks to the shortest run seen
#: (:func:`next_window`). The earliest point still leaves the CLI time to start Terraform.
KILL_WINDOW = (0.5, 4.0)
SUMMARY = "soak summary: {kills} kills, {left} left after sweep, {files} files with the secret, {procs} processes left"
#: One kill in this many is of ``pytest -n 2`` (the others of the CLI).
PYTEST_EVERY = 4
#: Seconds the soak waits, after an event, for the run's processes to end before it sweeps.
SETTLE = 10.0
#: The configuration of the deadline event (and of the safety tests): one SSM parameter whose ``local-exec``
#: provisioner runs a shell that runs ``sleep`` (a grandchild of Terraform).
SLOW_APPLY = """\
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness sets it)."
}

variable "sleep" {
  type        = number
  default     = 120
  description = "Seconds the provisioner sleeps."
}

resource "aws_ssm_parameter" "slow" {
  name  = "/${var.name_prefix}/slow"
  type  = "String"
  value = "slow"

  provisioner "local-exec" {
    command = "sleep ${var.sleep}; echo slept"
  }
}
"""
PYTEST_FILE = """
import pytest

pytestmark = pytest.mark.scenario({name!r})


def test_applied(applied):
    assert applied.outputs is not None
"""


def summary_line(kills: int, left: int, files: int, procs: int = 0) -> str:
    """The soak's last line."""
    return SUMMARY.format(kills=kills, left=left, files=files, procs=procs)


# Census: everything moto holds for the services used, defaults excluded -----------------------------------------


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _census_iam(iam: Any) -> Iterator[str]:
    for role in _pages(iam, "list_roles", "Roles"):
        if not role.get("Path", "").startswith("/aws-service-role/"):
            yield f"iam-role {role['RoleName']}"
    for policy in _pages(iam, "list_policies", "Policies", Scope="Local"):  # AWS managed policies excluded
        yield f"iam-policy {policy['PolicyName']}"
    for profile in _pages(iam, "list_instance_profiles", "InstanceProfiles"):
        yield f"instance-profile {profile['InstanceProfileName']}"


def _census_ecs(ecs: Any) -> Iterator[str]:
    clusters = list(_pages(ecs, "list_clusters", "clusterArns"))
    for cluster in ecs.describe_clusters(clusters=clusters).get("clusters", []) if clusters else []:
        if cluster.get("status") != "INACTIVE":
            yield f"ecs-cluster {cluster['clusterName']}"
    for cluster in clusters:
        arns = list(_pages(ecs, "list_services", "serviceArns", cluster=cluster))
        for start in range(0, len(arns), 10):
            for service in ecs.describe_services(cluster=cluster, services=arns[start : start + 10])["services"]:
                if service.get("status") != "INACTIVE":  # deleted: moto keeps listing it, AWS stops in time
                    yield f"ecs-service {service['serviceArn']}"
    # Only ACTIVE revisions: a deregistered (INACTIVE) one cannot run and AWS keeps it forever anyway.
    for arn in _pages(ecs, "list_task_definitions", "taskDefinitionArns", status="ACTIVE"):
        yield f"task-definition {arn.rsplit('/', 1)[-1]}"


def _census_ec2(ec2: Any) -> Iterator[str]:
    defaults = {vpc["VpcId"] for vpc in _pages(ec2, "describe_vpcs", "Vpcs") if vpc.get("IsDefault")}
    for vpc in _pages(ec2, "describe_vpcs", "Vpcs"):
        if vpc["VpcId"] not in defaults:
            yield f"vpc {vpc['VpcId']}"
    for subnet in _pages(ec2, "describe_subnets", "Subnets"):
        if subnet["VpcId"] not in defaults:
            yield f"subnet {subnet['SubnetId']}"
    for group in _pages(ec2, "describe_security_groups", "SecurityGroups"):
        if group.get("GroupName") != "default":  # each VPC's own default group goes with the VPC
            yield f"security-group {group['GroupId']} {group.get('GroupName', '')}"
    for table in _pages(ec2, "describe_route_tables", "RouteTables"):
        if not any(association.get("Main") for association in table.get("Associations", [])):
            yield f"route-table {table['RouteTableId']}"
    for gateway in _pages(ec2, "describe_internet_gateways", "InternetGateways"):
        if not {attachment.get("VpcId") for attachment in gateway.get("Attachments", [])} & defaults:
            yield f"internet-gateway {gateway['InternetGatewayId']}"
    for interface in _pages(ec2, "describe_network_interfaces", "NetworkInterfaces"):
        yield f"network-interface {interface['NetworkInterfaceId']}"


def _census_elbv2(elbv2: Any) -> Iterator[str]:
    for balancer in _pages(elbv2, "describe_load_balancers", "LoadBalancers"):
        yield f"load-balancer {balancer['LoadBalancerName']}"
    for group in _pages(elbv2, "describe_target_groups", "TargetGroups"):
        yield f"target-group {group['TargetGroupName']}"


def _census_efs(efs: Any) -> Iterator[str]:
    for fs in _pages(efs, "describe_file_systems", "FileSystems"):
        yield f"efs-file-system {fs['FileSystemId']} {fs.get('CreationToken', '')}"
        for target in efs.describe_mount_targets(FileSystemId=fs["FileSystemId"]).get("MountTargets", []):
            yield f"efs-mount-target {target['MountTargetId']}"
    for point in efs.describe_access_points().get("AccessPoints", []):
        yield f"efs-access-point {point['AccessPointId']}"


def _census_scaling(scaling: Any) -> Iterator[str]:
    for target in _pages(scaling, "describe_scalable_targets", "ScalableTargets", ServiceNamespace="ecs"):
        yield f"scalable-target {target['ResourceId']}"
    for policy in _pages(scaling, "describe_scaling_policies", "ScalingPolicies", ServiceNamespace="ecs"):
        yield f"scaling-policy {policy['PolicyName']}"


def _census_kms(kms: Any) -> Iterator[str]:
    for key in _pages(kms, "list_keys", "Keys"):
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        # AWS managed keys are moto's/AWS's; a key pending deletion is gone as far as AWS lets it be (7 days).
        if metadata.get("KeyManager") != "AWS" and metadata.get("KeyState") != "PendingDeletion":
            yield f"kms-key {key['KeyId']}"
    for alias in _pages(kms, "list_aliases", "Aliases"):
        if not alias["AliasName"].startswith("alias/aws/"):
            yield f"kms-alias {alias['AliasName']}"


def _census_rest(clients: Callable[[str], Any]) -> Iterator[str]:
    for repository in _pages(clients("ecr"), "describe_repositories", "repositories"):
        yield f"ecr-repository {repository['repositoryName']}"
    for group in _pages(clients("logs"), "describe_log_groups", "logGroups"):
        yield f"log-group {group['logGroupName']}"
    for secret in _pages(clients("secretsmanager"), "list_secrets", "SecretList"):
        yield f"secret {secret['Name']}"
    for parameter in _pages(clients("ssm"), "describe_parameters", "Parameters"):
        yield f"ssm-parameter {parameter['Name']}"
    for bucket in clients("s3").list_buckets().get("Buckets", []):
        yield f"s3-bucket {bucket['Name']}"
    for table in _pages(clients("dynamodb"), "list_tables", "TableNames"):
        yield f"dynamodb-table {table}"
    for alarm in _pages(clients("cloudwatch"), "describe_alarms", "MetricAlarms"):
        yield f"alarm {alarm['AlarmName']}"
    discovery = clients("servicediscovery")
    for namespace in _pages(discovery, "list_namespaces", "Namespaces"):
        yield f"namespace {namespace['Name']}"
    for service in _pages(discovery, "list_services", "Services"):
        yield f"discovery-service {service['Name']}"


def census(target: Any, accounts: Sequence[str] = ACCOUNTS, reach: AccountClients | None = None) -> list[str]:
    """``"<account> <kind> <identifier>"`` for every resource moto holds in those services and accounts."""
    reach = reach or AccountClients(target)
    found: list[str] = []
    for account in accounts:

        def client(service: str, account: str = account) -> Any:
            return reach.client(service, account)

        for lines in (
            _census_iam(client("iam")),
            _census_ecs(client("ecs")),
            _census_ec2(client("ec2")),
            _census_elbv2(client("elbv2")),
            _census_efs(client("efs")),
            _census_scaling(client("application-autoscaling")),
            _census_kms(client("kms")),
            _census_rest(client),
        ):
            found += [f"{account} {line}" for line in lines]
    return found


def files_with(secret: str, folder: Path) -> list[Path]:
    """Every file under ``folder`` whose bytes contain ``secret``."""
    needle = secret.encode()
    hits = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                if needle in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits


# The loop ---------------------------------------------------------------------------------------------------------


def prepare_scenarios(workdir: Path, endpoint: str) -> list[str]:
    """Copy the reference scenarios (with the modules they source) and the ALB + EFS configuration under
    ``workdir``; return their names. (The harness's override redirects every endpoint the provider knows,
    ELBv2, EFS and Application Auto Scaling included.)"""
    from fargate_harness.configurations import discover

    shutil.copytree(ROOT / "modules", workdir / "modules")
    names = []
    for name, scenario in discover(ROOT / "scenarios").items():
        shutil.copytree(scenario.path, workdir / "scenarios" / name)
        names.append(name)
    destination = workdir / "scenarios" / "alb-efs"
    shutil.copytree(ALB_EFS, destination)
    names.append("alb-efs")
    (workdir / "slow-apply").mkdir()
    (workdir / "slow-apply" / "main.tf").write_text(SLOW_APPLY)
    return names


def _record_missing_runs(run_dir: Path, pid: int, endpoint: str, region: str) -> int:
    """Write run.json into folders of ``run_dir`` that lack one: the runner writes it right after copying the
    configuration, so a kill before that leaves a folder without one (counted in the summary)."""
    written = 0
    if not run_dir.is_dir():
        return written
    for folder in sorted(run_dir.iterdir()):
        match = re.search(rf"-({HARNESS_PREFIX.pattern})$", folder.name)
        if not folder.is_dir() or (folder / RUN_FILE).exists() or not match:
            continue
        label = folder.name[: match.start()]
        states = sorted(folder.glob("config/**/terraform.tfstate"))
        overrides = sorted(folder.glob(f"config/**/{OVERRIDE_FILE}"))
        candidates = [path.parent for path in (*states, *overrides)]
        tfdir = candidates[0] if candidates else (folder / "config" / "scenarios" / label)
        record = {
            "run_id": run_dir.name,
            "prefix": match.group(1),
            "label": label,
            "source": f"scenarios/{label}",
            "target": "embedded",
            "endpoint": endpoint,
            "region": region,
            "accounts": list(ACCOUNTS),
            "pid": pid,
            "started": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "tfdir": str(tfdir),
            "written_by": "tools.soak (killed before the runner wrote run.json)",
        }
        (folder / RUN_FILE).write_text(json.dumps(record, indent=2) + "\n")
        written += 1
    return written


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "fargate_harness.cli", *args]


def _pytest(workdir: Path, run_id: str, names: Sequence[str]) -> list[str]:
    """``pytest -n 2`` on a test file per configuration of ``names`` (one per worker: the plugin distributes by
    file), in a repository of its own under ``workdir``."""
    repo = workdir / "pytest" / run_id
    (repo / "tests").mkdir(parents=True)
    for index, name in enumerate(names):
        (repo / "tests" / f"test_{index}.py").write_text(PYTEST_FILE.format(name=name))
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2", str(repo / "tests")]


def run_once(
    index: int,
    scenario: str,
    rng: random.Random,
    *,
    workdir: Path,
    endpoint: str,
    region: str,
    env: dict[str, str],
    latest: float = KILL_WINDOW[1],
    kind: str = "cli",
    other: str = "",
) -> tuple[float | None, float, int]:
    """Start one run (``kind``: the CLI on ``scenario``, or ``pytest`` -n 2 on ``scenario`` and ``other``), SIGKILL
    it at a random point between ``KILL_WINDOW[0]`` and ``latest`` seconds after its folder appears; return (seconds
    to the kill or None, seconds it lived after its folder appeared, run.json files the soak wrote)."""
    run_id = f"soak-{index:03d}"
    child_env = {**env, "HARNESS_RUN_ID": run_id}
    run_dir = workdir / "results" / run_id
    if kind == "pytest":
        argv = _pytest(workdir, run_id, [scenario, other])
    else:
        argv = _cli("run", "--jobs", "1", "--scenario", scenario, "--tf-scenarios-dir", str(workdir / "scenarios"))
    started = time.monotonic()
    child = subprocess.Popen(
        argv,
        cwd=workdir,
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while child.poll() is None and time.monotonic() < deadline and not any(run_dir.glob("*/config")):
            time.sleep(0.05)
        appeared = time.monotonic()
        pause = rng.uniform(KILL_WINDOW[0], max(KILL_WINDOW[0], latest))
        try:
            child.wait(timeout=pause)
            killed_after: float | None = None
        except subprocess.TimeoutExpired:
            killed_after = time.monotonic() - started
        lived = time.monotonic() - appeared
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)  # the harness (and its workers), with no chance to clean up
        child.wait()
    return killed_after, lived, _record_missing_runs(run_dir, child.pid, endpoint, region)


def interrupted_twice(
    index: int, scenarios: Sequence[str], rng: random.Random, workdir: Path, env: dict[str, str]
) -> str:
    """Ctrl-C twice, 2 s apart, under ``pytest -n 2``, at a random point after its first run folder appears; ""
    when pytest exited 130 without a traceback, else what it did."""
    run_id = f"soak-{index:03d}"
    argv = ["env", "--default-signal=INT", *_pytest(workdir, run_id, scenarios)]
    child = subprocess.Popen(
        argv,
        cwd=workdir,
        env={**env, "HARNESS_RUN_ID": run_id},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while child.poll() is None and time.monotonic() < deadline:
            if any((workdir / "results" / run_id).glob("*/config")):
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(*KILL_WINDOW))
        os.killpg(child.pid, signal.SIGINT)
        time.sleep(2)
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGINT)
        output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    if child.returncode != 130 or "Traceback" in output:
        return f"Ctrl-C twice: exit {child.returncode}{', a traceback' if 'Traceback' in output else ''}"
    return ""


def past_deadline(index: int, workdir: Path, env: dict[str, str]) -> str:
    """An apply past ``--tf-timeout apply=5s`` (its provisioner sleeps 120 s); "" when the CLI exited 124 naming
    the stage, else what it did."""
    run_id = f"soak-{index:03d}"
    argv = _cli("run", "--jobs", "1", "--dir", str(workdir / "slow-apply"), "--tf-timeout", "apply=5s,grace=20s")
    done = subprocess.run(
        argv,
        cwd=workdir,
        env={**env, "HARNESS_RUN_ID": run_id},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 124 or "`terraform apply` reached its deadline" not in done.stdout + done.stderr:
        return f"deadline: exit {done.returncode}"
    return ""


def next_window(latest: float, finished_after: float | None) -> float:
    """The latest kill point for the next run: ``latest``, or 0.9 of the seconds a run that finished before its
    kill lived after its folder appeared, whichever is earlier (never before ``KILL_WINDOW[0]``)."""
    if finished_after is None:
        return latest
    return max(KILL_WINDOW[0], min(latest, 0.9 * finished_after))


def processes_under(folder: Path) -> list[str]:
    """Processes whose working folder, standard output or error, or any argument lies under ``folder``: what a run
    left running (Terraform and its plugins work in the run's copy, the emulator logs there, a provisioner runs
    there). Zombies are not counted: they have ended, and wait only for their parent to read their status."""
    found = []
    prefix = str(folder)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            places = [os.readlink(proc / link) for link in ("cwd", "fd/1", "fd/2") if os.path.lexists(proc / link)]
            places += (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            name = (proc / "comm").read_text().strip()
        except OSError:
            continue
        if any(place.startswith(prefix) or f"={prefix}" in place for place in places):
            found.append(f"process {proc.name} ({name})")
    return found


def settle(results: Path, seconds: float = SETTLE) -> None:
    """Wait up to ``seconds`` for the processes of the runs under ``results`` to end."""
    deadline = time.monotonic() + seconds
    while processes_under(results) and time.monotonic() < deadline:
        time.sleep(0.2)


class Tally:
    """What the soak found after every event: resources after the sweep, files with the secret, processes left."""

    def __init__(
        self,
        workdir: Path,
        secret: str,
        sweep_env: dict[str, str],
        out: Callable[[str], None],
        shared: tuple[Any, AccountClients] | None,
    ) -> None:
        self.workdir, self.secret, self.sweep_env, self.out, self.shared = workdir, secret, sweep_env, out, shared
        self.results = workdir / "results"
        self.left: set[str] = set()
        self.leaked: set[Path] = set()
        self.stray: set[str] = set()

    def check(self, what: str, problem: str = "") -> None:
        """Wait for the runs' processes, sweep, count; ``problem``: the event did not end as expected."""
        settle(self.results)
        swept = subprocess.run(
            _cli("sweep", "--results-dir", str(self.results), "--tf-scenarios-dir", str(self.workdir / "scenarios")),
            cwd=self.workdir,
            env=self.sweep_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        with (self.workdir / "sweeps.log").open("a") as log:
            log.write(f"--- after {what}\n{swept.stdout}{swept.stderr}")
        remaining = census(self.shared[0], reach=self.shared[1]) if self.shared else []
        if swept.returncode:
            remaining.append(f"sweep exit {swept.returncode} after {what}")
        time.sleep(1.0)
        procs = [f"{line} after {what}" for line in processes_under(self.results)]
        procs += [f"{problem} ({what})"] if problem else []
        hits = files_with(self.secret, self.results)
        self.left.update(remaining)
        self.leaked.update(hits)
        self.stray.update(procs)
        self.out(
            f"{what}: sweep exit {swept.returncode}, {len(remaining)} left, {len(hits)} files with the secret, "
            f"{len(procs)} processes left"
        )
        for line in [*remaining, *procs]:
            self.out(f"  left: {line}")
        for path in hits:
            self.out(f"  secret in: {path.relative_to(self.workdir)}")


def soak(
    kills: int,
    seed: int,
    workdir: Path,
    out: Callable[[str], None] = print,
    *,
    own_emulator: bool = False,
    events: bool = True,
) -> tuple[int, int, int, int]:
    """Run the soak; return (kills, distinct resources left after a sweep, distinct files with the secret,
    processes left after a sweep or events that did not end as expected).

    ``own_emulator``: each run starts the harness's own emulator, as by default (no shared endpoint). What it
    held dies with it, so what is counted as left is any process of a killed run still running (the emulator,
    Terraform, the provider) and any sweep that did not exit 0. ``events``: Ctrl-C twice and a deadline after the
    kills."""
    rng = random.Random(seed)
    out(f"soak: seed {seed}, {kills} kills, {'own emulator per run' if own_emulator else 'one shared emulator'}")
    secret = "soak-" + secrets.token_hex(16)
    base_env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_FAULTS", "HARNESS_EMBEDDED_ENDPOINT")}
    saved = {name: os.environ.pop(name, None) for name in ("HARNESS_FAULTS", "HARNESS_EMBEDDED_ENDPOINT")}
    target = EmbeddedTarget(log_path=workdir / "moto.log")
    try:
        target.start()
    finally:
        os.environ.update({name: value for name, value in saved.items() if value is not None})
    assert target.endpoint_url is not None
    try:
        names = prepare_scenarios(workdir, target.endpoint_url)
        quick = [name for name in names if name not in ("alb-efs", "broken")]  # pytest: two applies of seconds
        env = {
            **base_env,
            "HARNESS_EMBEDDED_ENDPOINT": target.endpoint_url,
            "HARNESS_RESULTS_DIR": str(workdir / "results"),
            "HARNESS_SCENARIOS_DIR": str(workdir / "scenarios"),
            "HARNESS_SECRET_VALUE": secret,
        }
        if own_emulator:
            del env["HARNESS_EMBEDDED_ENDPOINT"]
        sweep_env = {**env, "HARNESS_RESULTS_DIR": str(workdir / "sweep-results")}
        tally = Tally(workdir, secret, sweep_env, out, None if own_emulator else (target, AccountClients(target)))
        done = attempts = 0
        latest = KILL_WINDOW[1]
        while done < kills and attempts < kills * 3:
            kind = "pytest" if done % PYTEST_EVERY == PYTEST_EVERY - 1 else "cli"
            scenario = (quick if kind == "pytest" else names)[attempts % len(quick if kind == "pytest" else names)]
            other = quick[(attempts + 1) % len(quick)]
            after, lived, recorded = run_once(
                attempts,
                scenario,
                rng,
                workdir=workdir,
                endpoint="" if own_emulator else target.endpoint_url,
                region=target.region,
                env=env,
                latest=latest + (3.0 if kind == "pytest" else 0.0),
                kind=kind,
                other=other,
            )
            if kind == "cli":
                latest = next_window(latest, lived if after is None else None)
            attempts += 1
            label = f"{scenario} + {other} under pytest -n 2" if kind == "pytest" else scenario
            note = f", run.json written by the soak for {recorded} folder(s)" if recorded else ""
            if after is None:
                what = f"run {attempts}: {label} finished before the kill{note}"
            else:
                done += 1
                what = f"kill {done}/{kills}: {label} at {after:.1f}s{note}"
            tally.check(what)
        if not events:
            return done, len(tally.left), len(tally.leaked), len(tally.stray)
        attempts += 1
        pair = [name for name in ("cross-account-ecr", "secrets") if name in quick] or quick[:2]
        tally.check(
            f"Ctrl-C twice under pytest -n 2 ({' + '.join(pair)})", interrupted_twice(attempts, pair, rng, workdir, env)
        )
        attempts += 1
        tally.check("apply past --tf-timeout apply=5s", past_deadline(attempts, workdir, env))
        return done, len(tally.left), len(tally.leaked), len(tally.stray)
    finally:
        target.stop()


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m tools.soak --kills N --seed S [--workdir DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="runs to kill (default 20)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the kill points (default 7)")
    parser.add_argument("--workdir", help="keep the results here (default: a temporary folder, removed)")
    parser.add_argument(
        "--own-emulator",
        action="store_true",
        help="each run on the harness's own emulator (the default target) instead of one shared server",
    )
    parser.add_argument(
        "--no-events", action="store_true", help="kills only: no Ctrl-C twice, no deadline reached after them"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    started = time.monotonic()
    if args.workdir:
        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        kills, left, files, procs = soak(
            args.kills, args.seed, workdir, own_emulator=args.own_emulator, events=not args.no_events
        )
    else:
        with tempfile.TemporaryDirectory(prefix="fh-soak-") as tmp:
            kills, left, files, procs = soak(
                args.kills, args.seed, Path(tmp), own_emulator=args.own_emulator, events=not args.no_events
            )
    print(f"wall time {time.monotonic() - started:.0f}s")
    print(summary_line(kills, left, files, procs))
    return 1 if left or files or procs else 0


if __name__ == "__main__":
    sys.exit(main())
