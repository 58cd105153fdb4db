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
        """The recorded process still answers on its endpoint."""
        return listening(self.endpoint)

    def inspect_hint(self) -> str:
        """An AWS CLI command line that reads from it."""
        return (
            f"AWS_ENDPOINT_URL={self.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            f"AWS_DEFAULT_REGION={self.region} aws ecs list-task-definitions"
        )

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


def run_accounts(results_dir: Path, endpoint: str) -> list[str]:
    """The accounts the runs recorded under ``results_dir`` on ``endpoint`` built in."""
    found: list[str] = []
    for manifest in results_dir.glob("*/*/run.json"):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(manifest.read_text())
            if str(data.get("endpoint") or "").rstrip("/") == endpoint.rstrip("/"):
                found += [str(a) for a in data.get("accounts") or [] if a not in found]
    return found


def kept_message(kept: KeptEmulator, results_dir: Path) -> str:
    """What a user is told when a run ends with its emulator kept."""
    results_dir = results_dir.resolve()
    accounts = run_accounts(results_dir, kept.endpoint)
    other = [a for a in accounts if a != DEFAULT_ACCOUNT]
    roles = (
        f"\n  the runs also used account(s) {', '.join(other)}: read one through a role session there, e.g. "
        f"aws sts assume-role --role-arn arn:aws:iam::{other[0]}:role/inspect --role-session-name inspect "
        "(the emulator accepts any role)"
        if other
        else ""
    )
    return (
        f"emulator kept at {kept.endpoint} (pid {kept.pid}); what the kept runs built is still there.\n"
        f"  inspect: {kept.inspect_hint()}{roles}\n"
        f"  destroy and stop it: fargate-harness sweep --results-dir {results_dir}\n"
        f"  list kept emulators: fargate-harness emulators --results-dir {results_dir}"
    )
