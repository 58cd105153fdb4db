"""``fargate-harness sweep``, ``clean`` and ``emulators``: what runs leave behind (resources, kept emulators, run
folders), found and finished. The parsers are :mod:`fargate_harness.cli`'s; ``options`` are its resolved options."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from fargate_harness.errors import ConfigurationError
from fargate_harness.options import RUN_MARKER, Options
from fargate_harness.runner import toolchain
from fargate_harness.targets import EmbeddedTarget, kept, start_target


def command_sweep(args: argparse.Namespace, options: Options) -> int:
    """Destroy and tidy what killed runs left in their folders, then remove (or list, with --dry-run) every
    harness-owned resource the target reaches."""
    from fargate_harness.cleanup.leftovers import LeftoversReport, clean_leftovers, run_folders
    from fargate_harness.cleanup.sweep import SweepReport, parse_duration, sweep

    older = parse_duration(args.older_than) if args.older_than else None
    results = Path(args.results_dir) if args.results_dir else options.results_dir
    tools = toolchain.prepare(options.tf_binary, options.provider_source) if run_folders(results) else None
    finished = []
    totals = {"folders": 0, "destroyed": 0, "found": 0, "deleted": 0, "failed": 0}

    def count(leftovers: LeftoversReport, swept: SweepReport) -> None:
        totals["folders"] += len(leftovers.folders)
        totals["destroyed"] += sum(1 for folder in leftovers.folders if folder.destroyed)
        totals["found"] += len(swept.items)
        totals["deleted"] += len(swept.deleted)
        totals["failed"] += len(swept.errors) + sum(1 for folder in leftovers.folders if folder.failed)

    for emulator in kept.kept_emulators(results):
        # a kept emulator holds what its runs built: destroy it there, then stop it (a dead one held nothing)
        if emulator.alive and not args.dry_run:
            attached = EmbeddedTarget.attached(emulator.endpoint, emulator.region)
            done = clean_leftovers(results, attached, tools, run_id=args.run_id, kept=True)
            count(done, sweep(attached, older_than=older, run_id=args.run_id))
            finished.append(f"kept emulator {emulator.endpoint} (pid {emulator.pid}): {done.summary()}; stopped")
        elif not emulator.alive:
            finished.append(f"kept emulator {emulator.endpoint} (pid {emulator.pid}): no longer running")
        if not args.dry_run:
            emulator.stop()
    target = start_target(options, options.run_dir / "emulator-sweep")
    try:
        leftovers = clean_leftovers(results, target, tools, dry_run=args.dry_run, run_id=args.run_id)
        report = sweep(target, older_than=older, dry_run=args.dry_run, run_id=args.run_id)
    finally:
        target.stop()
    count(leftovers, report)
    total = (
        f"in all: {totals['folders']} run folder(s), {totals['destroyed']} destroyed; {totals['found']} resource(s) "
        f"found, {totals['deleted']} deleted, {totals['failed']} failed"
        + (" (dry run: nothing was removed)" if args.dry_run else "")
    )
    text = "\n".join([*finished, f"on target {target.name}:", f"{leftovers.table()}\n\n{report.table()}", total])
    print(text)
    if args.report:
        title = "Leaked resources (final sweep, dry run)" if args.dry_run else "Leaked resources (final sweep)"
        with open(args.report, "a", encoding="utf-8") as handle:
            handle.write(f"\n## {title}\n\n```\n{text}\n```\n")
    return 1 if report.errors or leftovers.failed else 0


def _busy_runs(folder: Path) -> list[str]:
    """Why the runs of a run folder keep it: a run still running, a state that still lists resources."""
    from fargate_harness.cleanup.leftovers import RUN_FILE, RunRecord, pid_alive, state_resources

    busy = []
    for manifest in folder.glob(f"*/{RUN_FILE}"):
        try:
            record = RunRecord.load(manifest.parent)
        except ConfigurationError as exc:
            busy.append(f"{manifest.parent}: {exc}")
            continue
        if pid_alive(record.pid, record.started):
            busy.append(f"{manifest.parent}: its process {record.pid} still runs")
        elif state_resources(record.tfdir / "terraform.tfstate"):
            busy.append(f"{manifest.parent}: its state still lists resources (fargate-harness sweep destroys them)")
    return busy


def command_clean(args: argparse.Namespace, options: Options) -> int:
    """Remove the folders of finished runs under the results folder: every ``<run id>/`` folder the harness created
    (it holds :data:`~fargate_harness.options.RUN_MARKER`) none of whose runs still runs or still holds resources
    (their state lists none); any other folder is left alone. Folders with resources are named: ``sweep``
    destroys them first."""
    results = Path(args.results_dir) if args.results_dir else options.results_dir
    removed: list[str] = []
    staying: list[str] = []
    others: list[str] = []
    for folder in sorted(p for p in results.iterdir() if p.is_dir()) if results.is_dir() else []:
        if folder.name == kept.FOLDER:  # kept emulators' records: sweep finishes them
            continue
        if not (folder / RUN_MARKER).is_file():  # not made by a run: a user's reports, a CI job's shards
            others.append(str(folder))
            continue
        busy = _busy_runs(folder)
        if busy:
            staying += busy
        else:
            if not args.dry_run:
                shutil.rmtree(folder)
            removed.append(str(folder))
    for line in removed:
        print(f"{'would remove' if args.dry_run else 'removed'} {line}")
    for line in staying:
        print(f"kept {line}")
    if others:
        print(f"left alone (not run folders of fargate-harness, no {RUN_MARKER} file): {', '.join(others)}")
    if not removed and not staying:
        print(f"nothing to clean under {results}")
    return 0


def command_emulators(args: argparse.Namespace, options: Options) -> int:
    """List the emulators kept with --keep (and whether each still runs)."""
    results = Path(args.results_dir) if args.results_dir else options.results_dir
    found = kept.kept_emulators(results)
    for emulator in found:
        state = "running" if emulator.alive else "gone"
        print(f"{emulator.endpoint}  pid {emulator.pid}  {state}  since {emulator.started}  log {emulator.log or '-'}")
    if not found:
        print(f"no kept emulator under {results}")
    return 0
