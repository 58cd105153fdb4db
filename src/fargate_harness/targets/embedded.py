"""The default target: moto's server, started by the harness on a free loopback port."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config

from fargate_harness.errors import TargetError
from fargate_harness.processes import die_with_parent, terminate
from fargate_harness.targets.aws import check_profile
from fargate_harness.targets.base import Target, fresh_account_id, session_client, shared_session
from fargate_harness.targets.faults import FaultProfile, FaultProxy

LOG = logging.getLogger("fargate_harness.targets")

#: moto's default account; the primary account of every embedded run.
EMBEDDED_ACCOUNT = "123456789012"
#: The registry account of cross-account scenarios. moto lets an assumed role in any account stand for it.
EMBEDDED_REGISTRY_ACCOUNT = "210987654321"
EMBEDDED_REGISTRY_ROLE = f"arn:aws:iam::{EMBEDDED_REGISTRY_ACCOUNT}:role/harness-registry"


def session_name(label: str) -> str:
    """An STS role session name for a label: 2 to 64 of ``[\\w+=,.@-]``."""
    cleaned = "".join(c if c.isalnum() or c in "+=,.@-_" else "-" for c in label)[:64]
    return cleaned if len(cleaned) >= 2 else f"fargate-harness-{cleaned}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


WARM_UP_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
#: Reads :meth:`EmbeddedTarget.start` makes in the background, one per service a Fargate stack uses.
WARM_UP_READS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("sts", "get_caller_identity", {}),
    ("iam", "get_account_summary", {}),
    ("ecs", "list_clusters", {}),
    ("ec2", "describe_vpcs", {}),
    ("logs", "describe_log_groups", {}),
    ("kms", "list_keys", {}),
    ("ssm", "describe_parameters", {}),
    ("secretsmanager", "list_secrets", {}),
    ("ecr", "describe_repositories", {}),
    ("elbv2", "describe_load_balancers", {}),
    ("efs", "describe_file_systems", {}),
    ("s3", "list_buckets", {}),
    ("application-autoscaling", "describe_scalable_targets", {"ServiceNamespace": "ecs"}),
    ("dynamodb", "list_tables", {}),
)


class EmbeddedTarget(Target):
    """moto's server in a child process, with AWS managed policies loaded (as IAM has them)."""

    def __init__(
        self,
        region: str = "us-east-1",
        log_path: Path | None = None,
        startup_timeout: float = 30.0,
        *,
        warm_up: bool = True,
        detached: bool = False,
    ):
        super().__init__(
            name="embedded",
            region=region,
            endpoint_url=None,
            access_key="testing",
            secret_key="testing",
            registry_role_arn=EMBEDDED_REGISTRY_ROLE,
        )
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        #: warm every Fargate service at start (see :meth:`_warm_services`). Worth it for a server that runs whole
        #: configurations; a short-lived server that a test drives through a few requests builds only the
        #: backends it uses without it (measured: 3.7 -> 2.5 CPU-s of moto for one run of ``secrets``, and no
        #: warm-up clients in the caller, about 1 CPU-s).
        self.warm_up = warm_up
        #: ``--keep``: the server outlives the harness (no parent-death signal, left running by :meth:`stop`) so
        #: that what a run kept can be inspected and destroyed later (:mod:`fargate_harness.targets.kept`).
        self.detached = detached
        self.outlives_run = detached  # what a run keeps there stays: its clean-up hint names the destroy command
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._external = False
        self.faults: FaultProxy | None = None
        self._spare: Future[str] | None = None
        self._spare_lock = threading.Lock()
        self._warm_up: threading.Thread | None = None

    def start(self) -> None:
        """Start moto's server and wait until it answers; retry on a port another process took first.

        With ``HARNESS_EMBEDDED_ENDPOINT`` set, an emulator that is already running is used instead (and
        left running by :meth:`stop`).
        """
        # boto3 (the harness's and moto's own) fails on a profile that does not exist, keys or not
        check_profile("embedded")
        external = os.environ.get("HARNESS_EMBEDDED_ENDPOINT")
        if external:
            self.endpoint_url = external.rstrip("/")
            self._external = True
            self.outlives_run = True  # left running by stop(): what a run leaves there stays
        else:
            self._start_server()
            if self.warm_up:
                self._warm_up = threading.Thread(
                    target=self._warm_services, args=(self.endpoint_url,), name="fargate-harness-warm-up", daemon=True
                )
                self._warm_up.start()
        self._start_faults()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait for the background warm-up :meth:`start` began (at most ``timeout`` seconds); the bench calls
        this before its first scenario. A run does not wait: its applies start while the warm-up goes on (moto
        serves a service's first request whether or not it is warm; its backends are built under a lock), and
        that measured about 1 s less per ``fargate-harness run`` of the six scenarios than waiting."""
        if self._warm_up is not None:
            self._warm_up.join(timeout)

    def _warm_services(self, url: str | None) -> None:
        """One cheap read per service of a Fargate stack, in the primary account and region, so moto imports
        each service's code and builds its backend now, while Terraform starts, instead of during the first
        apply (measured on a fresh server: ECS 1.4 s, EC2 0.5 s, STS/IAM 1.1 s, ~4 s in all). Failures are
        ignored: a read that fails here is made again by whoever needs it. The clients are its own, on the
        server's own address (never through the fault proxy, never cached for the harness's reads)."""
        reads: list[tuple[boto3.session.Session, str, str, dict[str, Any]]]
        session = self._base_session()
        reads = [(session, *read) for read in WARM_UP_READS]
        try:  # the registry account's IAM and ECR: cross-account scenarios build them on their first apply
            sts = session_client(session, "sts", endpoint_url=url, config=WARM_UP_CONFIG)
            creds = sts.assume_role(RoleArn=EMBEDDED_REGISTRY_ROLE, RoleSessionName="fargate-harness-warm-up")
            registry = self._session_of(creds["Credentials"], self.region)
            reads += [(registry, "iam", "get_account_summary", {}), (registry, "ecr", "describe_repositories", {})]
        except Exception as error:  # the server stopped: nothing to warm
            LOG.debug("embedded target: warm-up of the registry account: %s", error)
        for where, service, operation, arguments in reads:
            try:
                client = session_client(where, service, endpoint_url=url, config=WARM_UP_CONFIG)
                getattr(client, operation)(**arguments)
            except Exception as error:  # the server stopped, or the service is not there: nothing to warm
                LOG.debug("embedded target: warm-up %s.%s: %s", service, operation, error)

    def _start_faults(self) -> None:
        """With ``HARNESS_FAULTS`` set, put the fault-injecting proxy between every client and the emulator."""
        profile = FaultProfile.from_env()
        if profile is None or self.endpoint_url is None:
            return
        self.faults = FaultProxy.from_profile(self.endpoint_url, profile)
        self.endpoint_url = self.faults.start()
        LOG.warning("embedded target: injecting faults (%s)", self.faults.describe())

    def _start_server(self) -> None:
        last_error = ""
        for _attempt in range(3):
            port = free_port()
            env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
            env.pop("MOTO_ACCOUNT_ID", None)
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
            self._process = subprocess.Popen(
                [sys.executable, "-m", "fargate_harness.targets.moto_server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=self._log or subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=None if self.detached else die_with_parent,  # noqa: PLW1509 - prctl only, no locks taken
            )
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    last_error = f"moto's server exited with code {self._process.returncode}"
                    break
                try:
                    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2):
                        self.endpoint_url = url
                        return
                except (urllib.error.URLError, OSError):
                    time.sleep(0.1)
            else:
                last_error = f"moto's server did not answer on {url} within {self.startup_timeout:.0f}s"
            self.stop()
        raise TargetError(
            f"could not start the embedded emulator: {last_error}. "
            "Check that moto[server] is installed (`pip install 'moto[server]'`)"
            + (f" and read {self.log_path}" if self.log_path else "")
        )

    @property
    def pid(self) -> int | None:
        """The server's process id (None when it is not this process's child)."""
        return self._process.pid if self._process is not None else None

    @classmethod
    def attached(cls, endpoint: str, region: str = "us-east-1") -> EmbeddedTarget:
        """A target on an emulator that is already running (a kept one), left running by :meth:`stop`."""
        target = cls(region=region, warm_up=False)
        target.endpoint_url = endpoint.rstrip("/")
        target._external = True
        return target

    def isolated(self, label: str) -> Target:
        """The same moto server, as a role session in a fresh account: moto keeps every account's resources
        apart and answers requests signed with an assumed role's keys in that role's account.

        A fresh account costs moto 2-6 s (it loads every AWS managed policy into it on the first request), so
        one spare account is warmed in a background thread after each call and the next call takes it."""
        account = self._take_spare() or fresh_account_id()
        answer = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/fargate-harness", RoleSessionName=session_name(label)
        )
        creds = answer["Credentials"]
        isolated = self.derived(
            access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"]
        )
        isolated._account = account
        self._prepare_spare()
        return isolated

    def _take_spare(self) -> str | None:
        """The spare account (waiting for it if it is still being warmed), or None when there is none."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is None:
            return None
        try:
            return spare.result(timeout=60)
        except Exception as error:  # a spare that failed to warm is just not used
            LOG.info("embedded target: spare account not ready (%s); using a new one", error)
            return None

    def _prepare_spare(self) -> None:
        """Warm one fresh account in a daemon thread: a role session in it and one IAM request, which makes
        moto build that account's IAM (and its managed policies)."""
        if self.endpoint_url is None:
            return
        future: Future[str] = Future()
        with self._spare_lock:
            if self._spare is not None:
                return
            self._spare = future

        def warm() -> None:
            try:
                account = fresh_account_id()
                creds = self.client("sts").assume_role(
                    RoleArn=f"arn:aws:iam::{account}:role/fargate-harness", RoleSessionName="fargate-harness-spare"
                )["Credentials"]
                session = shared_session(
                    creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], self.region
                )
                session_client(session, "iam", endpoint_url=self.endpoint_url).get_account_summary()
                future.set_result(account)
            except Exception as error:  # the emulator stopped, or faults are injected: no spare this time
                future.set_exception(error)

        threading.Thread(target=warm, name="fargate-harness-spare-account", daemon=True).start()

    def stop(self) -> None:
        """Stop the network guard, the fault proxy and moto's server (terminate, then kill after 10 s)."""
        super().stop()
        with self._spare_lock:
            self._spare = None
        if self.faults is not None:
            LOG.warning("embedded target: faults injected: %s", self.faults.stats)
            self.faults.stop()
            self.faults = None
        if self._external:
            return
        if self.detached and self._process is not None and self._process.poll() is None:
            if self._log is not None:
                self._log.close()
                self._log = None
            return  # kept running: its record (targets.kept) says where and how to stop it
        process, self._process = self._process, None
        terminate(process, grace=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.endpoint_url = None
