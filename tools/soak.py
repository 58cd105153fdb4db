"""``make soak``: kill runs at random points, sweep, and count what is left, again and again.

``python -m tools.soak --kills 20 --seed 7`` starts one moto server (the embedded target), then repeatedly
starts ``fargate-harness run --scenario X`` in a child process sharing it (``HARNESS_EMBEDDED_ENDPOINT``), X
cycling through every reference scenario and one ALB + EFS configuration (``tests/data/soak/alb-efs``),
SIGKILLs the child (and its Terraform) at a seeded random point, and runs ``fargate-harness sweep
--results-dir`` against the same emulator. After each kill it lists everything moto holds for the
services the configurations use, in both accounts (not only tagged resources; moto's defaults such as
the default VPC and AWS managed policies and keys are left out explicitly), and searches every file
under the results folder for the planted secret value (``HARNESS_SECRET_VALUE``, never printed).

The last line is ``soak summary: <kills> kills, <n> left after sweep, <m> files with the secret``: ``n``
counts distinct resources seen after any sweep, ``m`` distinct files. Exit 1 when either is not 0.

The runner writes ``run.json`` into each run folder right after copying the configuration; a child killed
before that leaves a folder without one, and the soak writes it from what it knows (the child's pid, the
emulator, the accounts), and says so in the summary.
"""

from __future__ import annotations

import argparse
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

from fargate_harness.nightly.leftovers import RUN_FILE
from fargate_harness.nightly.sweep import HARNESS_PREFIX, AccountClients
from fargate_harness.runner.terraform import OVERRIDE_FILE
from fargate_harness.targets.embedded import EMBEDDED_ACCOUNT, EMBEDDED_REGISTRY_ACCOUNT, EmbeddedTarget

ROOT = Path(__file__).resolve().parents[1]
ALB_EFS = ROOT / "tests" / "data" / "soak" / "alb-efs"
ACCOUNTS = (EMBEDDED_ACCOUNT, EMBEDDED_REGISTRY_ACCOUNT)
#: Seconds after a run's folder appears between which its kill point is drawn, at first. A run of one reference
#: scenario lives about 3-5 s after its folder appears (init, apply, checks, destroy), an ALB's over a minute;
#: a run that finishes before its kill is not a kill, so the window shrinks to the shortest run seen
#: (:func:`next_window`). The earliest point still leaves the CLI time to start Terraform.
KILL_WINDOW = (0.5, 4.0)
SUMMARY = "soak summary: {kills} kills, {left} left after sweep, {files} files with the secret"


def summary_line(kills: int, left: int, files: int) -> str:
    """The soak's last line."""
    return SUMMARY.format(kills=kills, left=left, files=files)


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
) -> tuple[float | None, float, int]:
    """Start one run, SIGKILL it at a random point between ``KILL_WINDOW[0]`` and ``latest`` seconds after its
    folder appears; return (seconds to the kill or None, seconds it lived after its folder appeared, recorded)."""
    run_id = f"soak-{index:03d}"
    child_env = {**env, "HARNESS_RUN_ID": run_id}
    run_dir = workdir / "results" / run_id
    started = time.monotonic()
    child = subprocess.Popen(
        _cli("run", "--jobs", "1", "--scenario", scenario, "--tf-scenarios-dir", str(workdir / "scenarios")),
        cwd=workdir,
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
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
            os.killpg(child.pid, signal.SIGKILL)  # the CLI and its Terraform, with no chance to clean up
        child.wait()
    return killed_after, lived, _record_missing_runs(run_dir, child.pid, endpoint, region)


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


def soak(
    kills: int, seed: int, workdir: Path, out: Callable[[str], None] = print, *, own_emulator: bool = False
) -> tuple[int, int, int]:
    """Run the soak; return (kills, distinct resources left after a sweep, distinct files with the secret).

    ``own_emulator``: each run starts the harness's own emulator, as by default (no shared endpoint). What it
    held dies with it, so what is counted as left is any process of a killed run still running (the emulator,
    Terraform, the provider) and any sweep that did not exit 0."""
    rng = random.Random(seed)
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
        env = {
            **base_env,
            "HARNESS_EMBEDDED_ENDPOINT": target.endpoint_url,
            "HARNESS_RESULTS_DIR": str(workdir / "results"),
            "HARNESS_SECRET_VALUE": secret,
        }
        if own_emulator:
            del env["HARNESS_EMBEDDED_ENDPOINT"]
        sweep_env = {**env, "HARNESS_RESULTS_DIR": str(workdir / "sweep-results")}
        reach = AccountClients(target)
        left: set[str] = set()
        leaked: set[Path] = set()
        done = attempts = 0
        latest = KILL_WINDOW[1]
        while done < kills and attempts < kills * 3:
            scenario = names[attempts % len(names)]
            after, lived, recorded = run_once(
                attempts,
                scenario,
                rng,
                workdir=workdir,
                endpoint="" if own_emulator else target.endpoint_url,
                region=target.region,
                env=env,
                latest=latest,
            )
            latest = next_window(latest, lived if after is None else None)
            attempts += 1
            swept = subprocess.run(
                _cli(
                    "sweep",
                    "--results-dir",
                    str(workdir / "results"),
                    "--tf-scenarios-dir",
                    str(workdir / "scenarios"),
                ),
                cwd=workdir,
                env=sweep_env,
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            (workdir / "sweeps.log").open("a").write(
                f"--- after run {attempts} ({scenario})\n{swept.stdout}{swept.stderr}"
            )
            if own_emulator:
                time.sleep(1.0)  # the parent-death signal reaches the run's children at once; their exit takes a moment
                remaining = processes_under(workdir / "results") + (
                    [f"sweep exit {swept.returncode}"] if swept.returncode else []
                )
            else:
                remaining = census(target, reach=reach)
            hits = files_with(secret, workdir / "results")
            left.update(remaining)
            leaked.update(hits)
            if after is None:
                what = f"run {attempts}: {scenario} finished before the kill"
            else:
                done += 1
                what = f"kill {done}/{kills}: {scenario} at {after:.1f}s"
            note = f", run.json written by the soak for {recorded} folder(s)" if recorded else ""
            out(
                f"{what}: sweep exit {swept.returncode}, {len(remaining)} left, {len(hits)} files with the secret{note}"
            )
            for line in remaining:
                out(f"  left: {line}")
            for path in hits:
                out(f"  secret in: {path.relative_to(workdir)}")
        return done, len(left), len(leaked)
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
    args = parser.parse_args(list(argv) if argv is not None else None)
    started = time.monotonic()
    if args.workdir:
        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        kills, left, files = soak(args.kills, args.seed, workdir, own_emulator=args.own_emulator)
    else:
        with tempfile.TemporaryDirectory(prefix="fh-soak-") as tmp:
            kills, left, files = soak(args.kills, args.seed, Path(tmp), own_emulator=args.own_emulator)
    print(f"wall time {time.monotonic() - started:.0f}s")
    print(summary_line(kills, left, files))
    return 1 if left or files else 0


if __name__ == "__main__":
    sys.exit(main())
