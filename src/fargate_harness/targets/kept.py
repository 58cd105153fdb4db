"""Kept emulators: with ``--keep`` on the embedded target, moto's server outlives the run so that what it holds
can be inspected (with the AWS CLI) and destroyed later. A record in ``<results>/emulators/`` says where it
listens and which process it is; ``fargate-harness emulators`` lists the records, ``fargate-harness sweep``
destroys what the kept runs left through each live one and then stops it.

The emulator's keys are moto's placeholders (any key is accepted), never AWS credentials.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from fargate_harness.processes import running
from fargate_harness.targets.embedded import EmbeddedTarget

FOLDER = "emulators"
#: The account moto answers in for its placeholder keys.
DEFAULT_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class KeptEmulator:
    """One kept emulator's record."""

    path: Path
    pid: int
    endpoint: str
    region: str
    log: str
    started: str

    @property
    def alive(self) -> bool:
        """The recorded process is still the emulator serving the endpoint: its pid runs the harness's moto server on
        the endpoint's port (a port is soon another process's once free, and a pid too: neither alone is proof, and
        :meth:`stop` must never signal a stranger)."""
        return _serves(self.pid, self.endpoint) and listening(self.endpoint)

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove the record."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGTERM)
                deadline = time.monotonic() + grace
                while self.alive and time.monotonic() < deadline:
                    time.sleep(0.1)
                if self.alive:
                    os.kill(self.pid, signal.SIGKILL)
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".aws-config").unlink(missing_ok=True)


def _serves(pid: int, endpoint: str) -> bool:
    """Whether process ``pid`` is a living moto server of the harness started for ``endpoint``'s port."""
    if not running(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    port = str(urllib.parse.urlsplit(endpoint).port or "").encode()
    return any(b"moto_server" in part for part in argv) and port in argv


def listening(endpoint: str | None) -> bool:
    """Whether something accepts connections at ``endpoint``; only ever asked of loopback addresses (any other
    endpoint is reported as not listening without a connection being made)."""
    if not endpoint:
        return False
    parts = urllib.parse.urlsplit(endpoint)
    host = parts.hostname or ""
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    if not loopback or parts.port is None:
        return False
    try:
        with socket.create_connection((host, parts.port), timeout=0.5):
            return True
    except OSError:
        return False


def record(target: EmbeddedTarget, results_dir: Path) -> KeptEmulator:
    """Write the record of a detached emulator that is left running."""
    assert target.endpoint_url is not None and target.pid is not None
    folder = results_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{target.pid}.json"
    data = {
        "pid": target.pid,
        "endpoint": target.endpoint_url,
        "region": target.region,
        "log": str(target.log_path or ""),
        "started": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    return read(path)


def read(path: Path) -> KeptEmulator:
    data = json.loads(path.read_text())
    return KeptEmulator(
        path, int(data["pid"]), str(data["endpoint"]), str(data["region"]), str(data["log"]), str(data["started"])
    )


def kept_emulators(results_dir: Path) -> list[KeptEmulator]:
    """Every record under ``results_dir`` (unreadable ones are skipped)."""
    found = []
    for path in sorted((results_dir / FOLDER).glob("*.json")) if (results_dir / FOLDER).is_dir() else []:
        with contextlib.suppress(OSError, ValueError, KeyError):
            found.append(read(path))
    return found


def run_places(results_dir: Path, endpoint: str) -> list[tuple[str, str]]:
    """The (region, account) pairs the runs recorded under ``results_dir`` on ``endpoint`` deployed in, in the order
    they were recorded (each run's ``run.json``: its region and the accounts it built in)."""
    found: list[tuple[str, str]] = []
    for manifest in sorted(results_dir.glob("*/*/run.json")):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(manifest.read_text())
            if str(data.get("endpoint") or "").rstrip("/") != endpoint.rstrip("/"):
                continue
            region = str(data.get("region") or "")
            for account in data.get("accounts") or []:
                if region and (region, str(account)) not in found:
                    found.append((region, str(account)))
    return found


def run_accounts(results_dir: Path, endpoint: str) -> list[str]:
    """The accounts the runs recorded under ``results_dir`` on ``endpoint`` built in."""
    return list(dict.fromkeys(account for _region, account in run_places(results_dir, endpoint)))


#: The role a kept emulator's inspect profiles assume in a run's account (the emulator honours any role).
INSPECT_ROLE = "fargate-harness-inspect"


def profile_name(region: str, account: str) -> str:
    """The AWS CLI profile that reads ``account`` in ``region`` on a kept emulator."""
    return f"fh-{account}-{region}"


def inspect_profiles(endpoint: str, places: list[tuple[str, str]]) -> str:
    """An AWS config file (``AWS_CONFIG_FILE``) with one profile per (region, account): the emulator's endpoint, the
    region, and, for an account other than the one moto answers for its placeholder keys, a role session there
    (``role_arn`` with ``source_profile``: the AWS CLI assumes the role through the same endpoint). The keys are
    moto's placeholders, never AWS credentials."""
    lines = [
        "# written by fargate-harness for a kept emulator: moto's placeholder keys, never AWS credentials",
        "[profile fh-emulator]",
        f"endpoint_url = {endpoint}",
        "aws_access_key_id = testing",
        "aws_secret_access_key = testing",
        "region = us-east-1",
    ]
    for region, account in places:
        lines += ["", f"[profile {profile_name(region, account)}]", f"endpoint_url = {endpoint}", f"region = {region}"]
        if account == DEFAULT_ACCOUNT:
            lines += ["aws_access_key_id = testing", "aws_secret_access_key = testing"]
        else:
            lines += [
                f"role_arn = arn:aws:iam::{account}:role/{INSPECT_ROLE}",
                "role_session_name = inspect",
                "source_profile = fh-emulator",
            ]
    return "\n".join(lines) + "\n"


def inspect_command(config_file: Path, region: str, account: str, command: str = "ecs list-task-definitions") -> str:
    """The AWS CLI command line that reads ``account`` in ``region`` on a kept emulator, as printed: the profile
    file of :func:`inspect_profiles` and nothing from the user's own AWS configuration."""
    return (
        f"AWS_CONFIG_FILE={config_file} AWS_SHARED_CREDENTIALS_FILE=/dev/null "
        f"aws --profile {profile_name(region, account)} {command}"
    )


def kept_message(kept: KeptEmulator, results_dir: Path) -> str:
    """What a user is told when a run ends with its emulator kept: per region and account the runs deployed in, the
    command that reads it (through a profile file written beside the emulator's record), then how to destroy."""
    results_dir = results_dir.resolve()
    places = run_places(results_dir, kept.endpoint) or [(kept.region, DEFAULT_ACCOUNT)]
    config_file = kept.path.with_suffix(".aws-config")
    config_file.write_text(inspect_profiles(kept.endpoint, places))
    inspect = [f"  inspect {acct} in {region}: {inspect_command(config_file, region, acct)}" for region, acct in places]
    return "\n".join(
        [
            f"emulator kept at {kept.endpoint} (pid {kept.pid}); what the kept runs built is still there.",
            *inspect,
            f"  destroy and stop it: fargate-harness sweep --results-dir {results_dir}",
            f"  list kept emulators: fargate-harness emulators --results-dir {results_dir}",
        ]
    )
