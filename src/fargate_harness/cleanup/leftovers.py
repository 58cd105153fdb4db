"""What killed runs left in their kept folders: destroy from their state, sweep their accounts, tidy the folder.

Every run writes ``<results>/<run id>/<label>-<prefix>/run.json`` when it starts (:class:`RunRecord`).
:func:`clean_leftovers` visits each such folder whose process is gone (a folder whose ``pid`` still runs
is never touched) and:

1. when ``<tfdir>/terraform.tfstate`` lists resources, runs ``terraform destroy`` from it, with the
   folder's own ``zz_harness_override.tf`` (which points at the emulator it recorded). When the recorded
   endpoint is not the current target's, the destroy is skipped and the report says so;
2. sweeps every account the run recorded for resources tagged with, or named with, the run's prefix
   (:func:`fargate_harness.cleanup.sweep.sweep` with ``folder_prefixes``), which also finds what a run created but never
   wrote into its state (a kill between the API call and the state write);
3. removes the files a killed run cannot remove itself, which hold secret values in plain text: a stale
   ``.terraform.tfstate.lock.info``, every ``*.tfplan``, ``terraform.tfstate.backup``, and the state
   itself once it lists no resource. A state that still lists resources stays (with the reason).

The outcome per folder is written to ``sweep.json`` in the folder, so a folder already cleaned is not
swept again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.cleanup.sweep import SweepReport, SweepTarget, is_harness_prefix, sweep
from fargate_harness.errors import ConfigurationError, HarnessError, TerraformError
from fargate_harness.options import deadline_for
from fargate_harness.processes import stat_fields
from fargate_harness.runner.command import TerraformCli
from fargate_harness.runner.diagnostics import RetryPolicy
from fargate_harness.runner.masking import redact_kept_run
from fargate_harness.runner.run import TerraformRun
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.kept import listening

LOG = logging.getLogger("fargate_harness.cleanup.leftovers")

RUN_FILE = "run.json"
OUTCOME_FILE = "sweep.json"
STATE_FILE = "terraform.tfstate"
LOCK_FILE = ".terraform.tfstate.lock.info"
#: Var files the runner writes into a run folder (fargate_harness.runner.overrides.HARNESS_VAR_FILE / USER_VAR_FILE).
GENERATED_VAR_FILES = ("harness.tfvars.json", "harness-user.tfvars")
RUN_FIELDS = ("run_id", "prefix", "label", "source", "target", "endpoint", "region", "accounts", "pid", "started")


@dataclass(frozen=True)
class RunRecord:
    """The ``run.json`` a run writes into its folder when it starts."""

    folder: Path
    run_id: str
    prefix: str
    label: str
    source: str
    target: str
    endpoint: str | None
    region: str
    accounts: tuple[str, ...]
    pid: int
    started: dt.datetime
    tfdir: Path

    @classmethod
    def load(cls, folder: Path) -> RunRecord:
        """Read ``folder/run.json``; a ConfigurationError names the folder and the field that is wrong."""
        path = folder / RUN_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"{path}: cannot read the run record: {error}") from None
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{path}: expected a JSON object")
        missing = [name for name in (*RUN_FIELDS, "tfdir") if name not in data]
        if missing:
            raise ConfigurationError(f"{path}: missing {', '.join(missing)}")
        try:
            started = dt.datetime.fromisoformat(str(data["started"]).replace("Z", "+00:00"))
            pid = int(data["pid"])
        except (TypeError, ValueError) as error:
            raise ConfigurationError(f"{path}: bad pid or started time: {error}") from None
        tfdir = Path(str(data["tfdir"]))
        return cls(
            folder=folder,
            run_id=str(data["run_id"]),
            prefix=str(data["prefix"]),
            label=str(data["label"]),
            source=str(data["source"]),
            target=str(data["target"]),
            endpoint=str(data["endpoint"]) if data["endpoint"] else None,
            region=str(data["region"]),
            accounts=tuple(str(account) for account in data["accounts"] or ()),
            pid=pid,
            started=started if started.tzinfo else started.replace(tzinfo=dt.UTC),
            tfdir=tfdir if tfdir.is_absolute() else folder / tfdir,
        )


@dataclass
class FolderOutcome:
    """What :func:`clean_leftovers` did in one run folder."""

    folder: Path
    prefix: str = ""
    status: str = ""
    destroyed: bool = False
    notes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    swept: list[str] = field(default_factory=list)
    failed: bool = False

    def line(self) -> str:
        """One paragraph for the sweep's output."""
        parts = [f"{self.folder}: {self.status}"]
        if self.destroyed:
            parts.append("terraform destroy done")
        if self.swept:
            parts.append(f"swept {len(self.swept)}: {', '.join(self.swept)}")
        if self.removed:
            parts.append(f"removed {', '.join(self.removed)}")
        parts += self.notes
        return "\n  ".join(parts)


@dataclass
class LeftoversReport:
    """The outcome of :func:`clean_leftovers`: one :class:`FolderOutcome` per run folder, and the sweep."""

    folders: list[FolderOutcome] = field(default_factory=list)
    sweep: SweepReport | None = None

    @property
    def failed(self) -> bool:
        """True when a destroy, a deletion or a folder could not be finished."""
        return any(folder.failed for folder in self.folders) or bool(self.sweep and self.sweep.errors)

    def summary(self) -> str:
        """One line: how many folders were destroyed, and how many failed."""
        destroyed = sum(1 for folder in self.folders if folder.destroyed)
        failed = sum(1 for folder in self.folders if folder.failed)
        return f"{len(self.folders)} run folder(s), {destroyed} destroyed, {failed} failed"

    def table(self) -> str:
        """Human-readable text, one paragraph per folder."""
        if not self.folders:
            return "run folders: none found"
        return "run folders:\n" + "\n".join(folder.line() for folder in self.folders)


def run_folders(results_dir: Path) -> list[Path]:
    """Every ``<results>/<run id>/<label>-<prefix>`` folder holding a ``run.json``, oldest first."""
    if not results_dir.is_dir():
        return []
    return sorted((path.parent for path in results_dir.resolve().glob(f"*/*/{RUN_FILE}")), key=str)


def pid_alive(pid: int, started: dt.datetime | None = None) -> bool:
    """Whether process ``pid`` still runs (a zombie does not; a process started after ``started`` is
    another one that reused the number)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = stat_fields(pid)
        began = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return True  # no /proc to ask: the process exists
    if fields[0] in ("Z", "X"):
        return False
    return started is None or began <= started.timestamp() + 5


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def state_resources(state: Path) -> int | None:
    """How many resources a state file lists; None when it is absent or empty, -1 when unreadable."""
    try:
        text = state.read_text(encoding="utf-8")
    except OSError:
        return None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return -1
    return sum(len(resource.get("instances", [])) or 1 for resource in data.get("resources", []))


def _same_endpoint(recorded: str | None, current: str | None) -> bool:
    return (recorded or "").rstrip("/") == (current or "").rstrip("/")


def destroy_from_state(record: RunRecord, target: Any, tools: Toolchain) -> None:
    """``terraform init`` + ``destroy`` in the run's Terraform copy; raises TerraformError on failure.

    Variables: the run's prefix and region, the target's registry role, and a throw-away value for a
    ``secret_value`` (a destroy reads no variable of a resource it deletes, but Terraform wants every
    variable without a default set). Output is kept out of files and logs: only the exit and the last
    lines of stderr are reported.
    """
    env = {**os.environ, **tools.env(), **target.terraform_env()}
    env.pop("TF_LOG", None)
    variables = {"name_prefix": record.prefix, "region": record.region, "secret_value": secrets.token_urlsafe(16)}
    if getattr(target, "registry_role_arn", None):
        variables["registry_role_arn"] = target.registry_role_arn
    env.update({f"TF_VAR_{name}": value for name, value in variables.items()})
    # the run's own var files, in its order, when it wrote them (they beat the TF_VAR_ fallbacks above)
    var_files = [f"-var-file={path}" for path in _recorded_var_files(record) if Path(path).is_file()]
    with tools.init_lock():
        _terraform(tools, record.tfdir, env, "init", "-input=false", "-no-color", target=target)
    _terraform(
        tools, record.tfdir, env, "destroy", "-input=false", "-no-color", "-auto-approve", *var_files, target=target
    )


def _recorded_var_files(record: RunRecord) -> list[str]:
    try:
        data = json.loads((record.folder / RUN_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [str(p) for p in data.get("var_files") or []]


def _terraform(tools: Toolchain, tfdir: Path, env: Mapping[str, str], *args: str, target: Any = None) -> None:
    """One Terraform command in a run's copy through the runner's command line (its own session, dies with the
    harness, interrupts forwarded), retried as the runner retries (:data:`~fargate_harness.runner.run.
    RETRYABLE_ERRORS`), and through the target's network guard on emulators (never for ``init``). Its stage's
    ``--tf-timeout`` deadline applies as in a run: a destroy that hangs is stopped and reported, never waited on."""
    command, rest = args[0], args[1:]
    guard = getattr(target, "guard", None)
    cli = TerraformCli(
        tfdir, tools.terraform, {**env, **(guard.env() if guard is not None and command != "init" else {})}
    )
    policy = RetryPolicy()
    deadline, grace = deadline_for(command)
    for attempt in range(1, policy.attempts + 1):
        result = cli.execute_command(command, *rest, deadline=deadline, grace=grace)
        if result.retcode == 0 and not result.timed_out:
            return
        why = policy.reason(result.err + result.out)
        if why and attempt < policy.attempts and not result.interrupted and not result.timed_out:
            LOG.warning("sweep: retrying `terraform %s` in %s (%s)", command, tfdir, why)
            time.sleep(policy.pause_seconds)
            continue
        argv = [str(tools.terraform), *args]
        tail = "\n".join(result.err.strip().splitlines()[-15:])
        if result.timed_out:
            tail = (
                f"reached its deadline ({command}={deadline:g}s, --tf-timeout / HARNESS_TF_TIMEOUT) and was stopped "
                f"as on Ctrl-C; the state is kept for the next sweep\n{tail}"
            )
        raise TerraformError(argv, result.retcode, tail, "")


def _redact(record: RunRecord, outcome: FolderOutcome) -> None:
    """A run whose harness died (kill -9) could not redact its var files: done now, after the destroy used them."""
    redacted = redact_kept_run(record.folder)
    if redacted:
        outcome.notes.append(f"secret values redacted in {', '.join(p.name for p in redacted)}")


def _remove(path: Path, folder: Path, outcome: FolderOutcome) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as error:
        outcome.notes.append(f"could not remove {path.relative_to(folder)}: {error}")
        outcome.failed = True
        return
    outcome.removed.append(str(path.relative_to(folder)))


def _tidy(record: RunRecord, outcome: FolderOutcome) -> None:
    """Remove the lock, plans and backup; the state too when it lists no resource."""
    folder = record.folder
    for lock in folder.rglob(LOCK_FILE):
        _remove(lock, folder, outcome)
    for plan in folder.rglob("*.tfplan"):
        _remove(plan, folder, outcome)
    for backup in folder.rglob(f"{STATE_FILE}*.backup"):
        _remove(backup, folder, outcome)
    state = record.tfdir / STATE_FILE
    count = state_resources(state)
    if not count:
        # the harness's generated var files hold the run's secret values: gone with the resources
        for generated in GENERATED_VAR_FILES:
            _remove(folder / generated, folder, outcome)
    if state.exists() and not count:
        _remove(state, folder, outcome)
    elif count:
        outcome.notes.append(
            f"state kept: it still lists {count if count > 0 else 'unreadable'} resource(s) "
            f"({state.relative_to(folder) if state.is_relative_to(folder) else state})"
        )
        outcome.failed = True


def clean_leftovers(
    results_dir: Path,
    target: SweepTarget,
    tools: Toolchain | None = None,
    *,
    dry_run: bool = False,
    accounts: Sequence[str] = (),
    run_id: str | None = None,
    kept: bool = False,
) -> LeftoversReport:
    """Destroy, sweep and tidy every run folder under ``results_dir`` whose process is gone.

    ``tools`` runs the destroys (without it, none is attempted and states with resources are kept).
    ``accounts`` are swept besides each folder's own. ``dry_run`` destroys, deletes and removes nothing.
    ``run_id`` limits the work to that run's folders; ``kept``, to the runs made on ``target``'s endpoint (a
    kept emulator's runs).
    """
    report = LeftoversReport()
    dead: list[tuple[RunRecord, FolderOutcome]] = []
    for folder in run_folders(results_dir):
        outcome = FolderOutcome(folder)
        report.folders.append(outcome)
        try:
            record = RunRecord.load(folder)
        except ConfigurationError as error:
            outcome.status, outcome.failed = f"left alone: {error}", True
            continue
        outcome.prefix = record.prefix
        if (run_id is not None and record.run_id != run_id) or (
            kept and not _same_endpoint(record.endpoint, getattr(target, "endpoint_url", None))
        ):
            report.folders.remove(outcome)
            continue
        if pid_alive(record.pid, record.started):
            outcome.status = f"left alone: its process {record.pid} still runs"
            continue
        state = record.tfdir / STATE_FILE
        if (folder / OUTCOME_FILE).is_file() and not state.exists() and not _debris(folder):
            outcome.status = "already cleaned"
            continue
        outcome.status = f"process {record.pid} is gone" + (" (dry run)" if dry_run else "")
        dead.append((record, outcome))
        if not dry_run and state_resources(state):
            _destroy(record, outcome, target, tools)
    if not dead:
        return report
    # the target's own account always: a run that never asked for its account (killed early in its apply) recorded
    # only the registry's, and what it created outside its state is in the primary one
    recorded = [a for record, _ in dead for a in record.accounts]
    wanted = list(dict.fromkeys([*accounts, *recorded, _primary_account(target)]))
    report.sweep = sweep(
        target,
        dry_run=dry_run,
        accounts=wanted,
        folder_prefixes=[record.prefix for record, _ in dead],
    )
    for record, outcome in dead:
        mine = [item for item in report.sweep.items if item.prefix == record.prefix]
        outcome.swept = [f"{item.kind} {item.identifier}" + ("" if item.deleted else " (NOT deleted)") for item in mine]
        if dry_run:
            continue
        if outcome.failed and not outcome.destroyed and state_resources(record.tfdir / STATE_FILE):
            # A kill between an API call and the state write leaves dependents the state does not list (EFS
            # mount targets of a listed file system): the sweep removed them, so a second destroy can finish.
            outcome.failed = False
            _destroy(record, outcome, target, tools)
            if outcome.destroyed:
                outcome.notes.append("terraform destroy succeeded on a second pass, after the sweep")
        if any(item.error for item in mine):
            outcome.failed = True
        _tidy(record, outcome)
        _redact(record, outcome)
        _write_outcome(record, outcome)
    return report


def _primary_account(target: SweepTarget) -> str:
    """The target's own account id (``"primary"`` when it cannot be asked)."""
    try:
        return str(target.client("sts").get_caller_identity()["Account"])
    except (BotoCoreError, ClientError):
        return "primary"


def _destroy(record: RunRecord, outcome: FolderOutcome, target: SweepTarget, tools: Toolchain | None) -> None:
    """Destroy from the run's state, unless it was made against another endpoint or Terraform is missing."""
    current = getattr(target, "endpoint_url", None)
    if not _same_endpoint(record.endpoint, current) and record.target == "embedded" and not listening(record.endpoint):
        # the harness's own emulator died with its run (it holds everything in memory): nothing remains
        state = record.tfdir / STATE_FILE
        state.replace(state.with_name(STATE_FILE + ".emulator-gone"))
        redact_kept_run(record.folder)  # the state kept aside holds secrets; the var files still say which
        outcome.notes.append(
            f"the embedded emulator the run used ({record.endpoint}) is gone, and what it held with it: "
            f"nothing to destroy; its state is kept as {STATE_FILE}.emulator-gone"
        )
        return
    if not _same_endpoint(record.endpoint, current):
        outcome.notes.append(
            f"destroy skipped: the run used endpoint {record.endpoint or 'AWS'}, the current target is "
            f"{current or 'AWS'}; run the sweep against that target"
        )
        return
    if tools is None:
        outcome.notes.append("destroy skipped: no Terraform toolchain given")
        return
    (record.tfdir / LOCK_FILE).unlink(missing_ok=True)  # its writer is dead; Terraform would refuse
    try:
        destroy_from_state(record, target, tools)
        outcome.destroyed = True
    except (HarnessError, OSError) as error:
        outcome.notes.append(f"terraform destroy failed: {error}")
        outcome.failed = True


def sweep_killed_run(run: TerraformRun) -> tuple[list[str], list[str]]:
    """Sweep ``run``'s own resources (tagged with, or named with, its prefix) in its accounts: what one of its
    commands, killed at the end of its deadline's grace, created but never wrote into the state. The lifecycle calls
    it after the destroy (:attr:`fargate_harness.lifecycle.Lifecycle.after_kill`). Returns (deleted, not deleted),
    each ``"<kind> <id>"`` (with the error for the second)."""
    target = run.target
    try:
        accounts = [target.account_id(), *([target.registry_account_id] if target.registry_account_id else [])]
    except (HarnessError, BotoCoreError, ClientError):
        accounts = ["primary", "registry"]
    harness_shaped = is_harness_prefix(run.prefix)
    report = sweep(
        target,
        accounts=accounts,
        prefixes=[run.prefix] if harness_shaped else [],
        folder_prefixes=[] if harness_shaped else [run.prefix],
    )
    deleted = [f"{item.kind} {item.identifier}" for item in report.items if item.deleted]
    failed = [f"{item.kind} {item.identifier}: {item.error}" for item in report.items if item.error]
    return deleted, failed


def _debris(folder: Path) -> bool:
    return any(True for pattern in (LOCK_FILE, "*.tfplan", f"{STATE_FILE}*.backup") for _path in folder.rglob(pattern))


def _write_outcome(record: RunRecord, outcome: FolderOutcome) -> None:
    data = {
        "swept_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "destroyed": outcome.destroyed,
        "removed": outcome.removed,
        "swept": outcome.swept,
        "notes": outcome.notes,
        "failed": outcome.failed,
    }
    path = record.folder / OUTCOME_FILE
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
