"""The Markdown run report (``--tf-report``): per scenario verdict, stage timings, preflight verdict.

xdist workers each write one JSON summary per scenario run into ``<run dir>/summaries/``; the controller
tallies test outcomes per scenario and, at the end of the session, joins both into Markdown. The final
sweep appends its own section (``fargate-harness sweep --report FILE``).

A suite split across CI runners (pytest-split, one results folder per shard) is joined again by
``python -m fargate_harness.report merge OUT_DIR SHARD_DIR...``: one JUnit XML, one report, the summaries of all.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fargate_harness.runner.masking import Masker


class Summarised(Protocol):
    """What a run summary reads of a run (a :class:`~fargate_harness.runner.run.TerraformRun`, or an applied
    batch member, :class:`~fargate_harness.checks.AppliedRun`)."""

    @property
    def name(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def timings(self) -> dict[str, float]: ...
    @property
    def resources(self) -> list[str]: ...
    @property
    def failed(self) -> bool: ...
    @property
    def keep(self) -> bool: ...
    @property
    def workdir(self) -> Path: ...
    @property
    def masker(self) -> Masker: ...


class Judged(Protocol):
    """A preflight report, as far as the summary reads it."""

    @property
    def will_start(self) -> bool: ...


STAGES = ("init", "apply", "plan", "destroy")


def write_summary(
    run: Summarised,
    run_dir: Path,
    error: str = "",
    *,
    interrupted: bool = False,
    reports: Sequence[Judged] = (),
) -> Path:
    """Record one scenario run's facts (no secret values: names, counts, seconds) for the report."""
    folder = run_dir / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.name.replace('/', '_')}-{run.prefix}.json"
    summary = {
        "scenario": run.name,
        "prefix": run.prefix,
        "timings": run.timings,
        "resources": len(run.resources),
        "failed": run.failed or interrupted,
        "interrupted": interrupted,
        "kept": str(run.workdir) if run.failed or run.keep else "",
        "error": run.masker(error),
        "preflight": preflight_verdict(reports),
        "warnings": [run.masker(line) for line in preflight_warnings(reports)],
    }
    path.write_text(json.dumps(summary, indent=2, sort_keys=True))
    return path


#: The words of the report's verdict column (both tables), and of its preflight column.
VERDICTS = ("pass", "FAIL", "skip", "interrupted")
PREFLIGHT_VERDICTS = ("pass", "FAIL", "-")


def preflight_verdict(reports: Sequence[Judged]) -> str:
    """``pass`` when every task definition the run's checks preflighted would start, ``FAIL`` when one would not,
    "" when none was preflighted."""
    if not reports:
        return ""
    return "pass" if all(r.will_start for r in reports) else "FAIL"


def preflight_warnings(reports: Sequence[Any]) -> list[str]:
    """The preflight's warnings (rows of severity ``warning``: the task starts, something it needs later fails), one
    line each in the words of a failure's finding, whichever way the run's tests went."""
    from fargate_harness.checks import warning_findings

    lines: list[str] = []
    for found in reports:
        lines += [line for line in warning_findings(found) if line not in lines]
    return lines


def failure_message(longrepr: Any) -> str:
    """What a failed test said, without its traceback: the exception's message (an assertion's whole text, a
    fixture's error), or the text pytest gave (``pytest.fail(..., pytrace=False)``, a collection error)."""
    crash = getattr(longrepr, "reprcrash", None)
    text = str(getattr(crash, "message", "") or "") if crash is not None else str(longrepr or "")
    for prefix in ("AssertionError: ", "Failed: ", "fargate_harness.errors.TeardownError: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.strip()


def split_fix(line: str) -> tuple[str, list[str]]:
    """A finding line ``<what>; fix: <a>; fix: <b>`` as (``<what>``, [``<a>``, ``<b>``])."""
    what, *fixes = line.split("; fix: ")
    return what, [fix.strip() for fix in fixes]


@dataclass
class Tally:
    """Test outcomes of one scenario."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    preflight: str = ""
    failures: list[str] = field(default_factory=list)
    #: nodeid -> what the failed test said (its message, fix lines included), for the report's Failures section.
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL`` or ``skip``."""
        if self.failed:
            return "FAIL"
        return "pass" if self.passed else "skip"


@dataclass
class Collector:
    """Collects per-scenario test outcomes on the pytest controller."""

    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def add(self, scenario: str, nodeid: str, outcome: str, when: str, message: str = "") -> None:
        """Count one test report (setup failures and errors count as failures), keeping a failure's message."""
        tally = self.tallies[scenario]
        if outcome == "failed":
            tally.failed += 1
            tally.failures.append(nodeid)
            if message:
                tally.messages[nodeid] = message
        elif outcome == "skipped" and when != "teardown":
            tally.skipped += 1
        elif outcome == "passed" and when == "call":
            tally.passed += 1
        if "preflight" in nodeid and when == "call" and outcome in ("passed", "failed"):
            tally.preflight = "FAIL" if outcome == "failed" or tally.preflight == "FAIL" else "pass"


def load_summaries(run_dir: Path) -> list[dict[str, Any]]:
    """Every summary the workers wrote for this run."""
    folder = run_dir / "summaries"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def render(
    run_id: str,
    target: str,
    collector: Collector,
    summaries: Iterable[dict[str, Any]],
    *,
    interrupted: bool = False,
    stopped: str = "",
) -> str:
    """The Markdown report: a row per configuration, a row per applied run, then each failure's message with its
    ``fix:`` lines apart, each run's problem, and the preflight's warnings apart from the failures.

    One vocabulary in both tables (:data:`VERDICTS`, :data:`PREFLIGHT_VERDICTS`). ``interrupted``: the session
    was stopped (Ctrl-C) and says so at the top and in every row it cut short. ``stopped``: why the session
    stopped before its tests ran (a target it could not use), said at the top."""
    by_scenario: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for summary in summaries:
        by_scenario[summary["scenario"]].append(summary)
    names = sorted(set(by_scenario) | set(collector.tallies))
    lines = [f"# fargate-harness run {run_id}", "", f"Target: `{target}`", ""]
    if stopped:
        lines += [f"**Stopped before the tests ran**: {stopped}", ""]
    if interrupted:
        lines += ["**Interrupted**: the session was stopped before it finished; the counts are what ran before.", ""]
    lines += [
        "| configuration | verdict | tests passed/failed/skipped | preflight | resources | "
        + " | ".join(f"{s} s" for s in STAGES)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(STAGES),
    ]
    for name in names:
        tally = collector.tallies.get(name, Tally())
        runs = by_scenario.get(name, [])
        timings = {s: sum(r["timings"].get(s, 0.0) for r in runs) for s in STAGES}
        resources = sum(r["resources"] for r in runs)
        cells = " | ".join(f"{timings[s]:.1f}" for s in STAGES)
        lines.append(
            f"| {name} | {_verdict(tally, runs, interrupted)} | {tally.passed}/{tally.failed}/{tally.skipped} | "
            f"{_preflight(tally, runs)} | {resources} | {cells} |"
        )
    runs = sorted((s for found in by_scenario.values() for s in found), key=lambda s: (s["scenario"], s["prefix"]))
    if runs:
        lines += [
            "",
            "## Applied runs",
            "",
            "| configuration | run | verdict | preflight | resources | " + " | ".join(f"{s} s" for s in STAGES) + " |",
            "|---|---|---|---|---|" + "---|" * len(STAGES),
        ]
        for run in runs:
            verdict = "interrupted" if run.get("interrupted") else "FAIL" if run["failed"] else "pass"
            cells = " | ".join(f"{run['timings'].get(s, 0.0):.1f}" for s in STAGES)
            lines.append(
                f"| {run['scenario']} | {run['prefix']} | {verdict} | {_preflight_word(run.get('preflight'))} | "
                f"{run['resources']} | {cells} |"
            )
    lines += _failures(names, collector, by_scenario)
    warnings = [(r["scenario"], r["prefix"], w) for r in runs for w in r.get("warnings") or []]
    if warnings:
        lines += ["", "## Warnings", "", "Do not stop the tasks from starting; told apart from the failures.", ""]
        for name, prefix, text in warnings:
            what, fixes = split_fix(text)
            lines.append(f"- {name} run {prefix}: {what}")
            lines += [f"  - fix: {fix}" for fix in fixes]
    tallies = {name: asdict(tally) for name, tally in sorted(collector.tallies.items())}
    carried = json.dumps(tallies, sort_keys=True).replace("-->", "--\\u003e")  # a message must not end the comment
    lines += ["", f"<!-- {TALLIES_MARK} {carried} -->"]
    return "\n".join(lines) + "\n"


def _verdict(tally: Tally, runs: list[dict[str, Any]], interrupted: bool) -> str:
    if tally.failed:
        return "FAIL"
    if any(r.get("interrupted") for r in runs) or (interrupted and not tally.passed and not tally.skipped):
        return "interrupted"
    return "FAIL" if any(r["failed"] for r in runs) else tally.verdict


def _preflight_word(value: object) -> str:
    """A preflight verdict in the report's words (older summaries and reports wrote ``fail``)."""
    text = str(value or "")
    return "FAIL" if text.lower() == "fail" else text or "-"


def _preflight(tally: Tally, runs: list[dict[str, Any]]) -> str:
    """One preflight verdict for a configuration: its runs' (what the checks decided), else its tests'."""
    words = {_preflight_word(r.get("preflight")) for r in runs} - {"-"}
    if words:
        return "FAIL" if "FAIL" in words else "pass"
    return _preflight_word(tally.preflight)


def _failures(names: list[str], collector: Collector, by_scenario: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The Failures section: each failed test with its message, one finding per item and its fixes under it; then
    each run's own problem (an apply error; an interruption)."""
    failures = [(name, nodeid) for name in names for nodeid in collector.tallies.get(name, Tally()).failures]
    problems = [(name, r) for name in names for r in by_scenario.get(name, []) if r["failed"] or r.get("error")]
    if not failures and not problems:
        return []
    lines = ["", "## Failures", ""]
    for name, nodeid in failures:
        lines.append(f"- `{nodeid}`")
        for text in collector.tallies[name].messages.get(nodeid, "").splitlines():
            if not text.strip():
                continue
            what, fixes = split_fix(text.strip())
            lines.append(f"  - {what}")
            lines += [f"    - fix: {fix}" for fix in fixes]
    for name, summary in problems:
        kept = f" (kept in `{summary['kept']}`)" if summary.get("kept") else ""
        default = "interrupted" if summary.get("interrupted") else "its tests failed (above)"
        what, fixes = split_fix(str(summary.get("error") or default))
        lines.append(f"- {name} run {summary['prefix']}{kept}: {what}")
        lines += [f"  - fix: {fix}" for fix in fixes]
    return lines


# -- merging the shards of a split suite -----------------------------------------------------------------
#: The HTML comment (invisible in rendered Markdown) that carries the tallies, so shards' reports can be merged.
TALLIES_MARK = "fargate-harness tallies"
_TALLIES = re.compile(r"^<!-- " + re.escape(TALLIES_MARK) + r" (\{.*\}) -->$", re.MULTILINE)
_HEADER = re.compile(r"^# fargate-harness run (.+)$", re.MULTILINE)
_TARGET = re.compile(r"^Target: `([^`]*)`$", re.MULTILINE)
_ROW = re.compile(
    r"^\| (?P<name>[^|]+?) \| (?:pass|FAIL|skip|interrupted) \| (?P<p>\d+)/(?P<f>\d+)/(?P<s>\d+) \| (?P<pre>[^|]+?) \|"
)
_FAILED_TEST = re.compile(r"^- `(?P<nodeid>[^`]+)`$")


@dataclass
class ShardReport:
    """What a shard's Markdown report says: run id, target, tallies, and sections appended after it (sweep)."""

    run_id: str = ""
    target: str = ""
    tallies: dict[str, Tally] = field(default_factory=dict)
    extra: str = ""


def parse_report(text: str) -> ShardReport:
    """Read a report written by :func:`render` (tallies from its comment; from the table in older reports),
    with whatever was appended after it (``fargate-harness sweep --report``)."""
    found = ShardReport()
    if match := _HEADER.search(text):
        found.run_id = match.group(1).strip()
    if match := _TARGET.search(text):
        found.target = match.group(1)
    extra = ""
    if match := _TALLIES.search(text):
        extra = text[match.end() :]
        for name, values in json.loads(match.group(1)).items():
            found.tallies[name] = Tally(**values)
            found.tallies[name].preflight = _preflight_word(values.get("preflight")).strip("-")
    else:
        failures = [m.group("nodeid") for line in text.splitlines() if (m := _FAILED_TEST.match(line))]
        for line in text.splitlines():
            if row := _ROW.match(line):
                pre = row.group("pre").strip()
                found.tallies[row.group("name")] = Tally(
                    int(row.group("p")), int(row.group("f")), int(row.group("s")), _preflight_word(pre).strip("-")
                )
        failing = [t for t in found.tallies.values() if t.failed]
        if failing:
            failing[0].failures.extend(failures)
    found.extra = extra.strip()
    return found


def merge_tallies(shards: Iterable[ShardReport]) -> Collector:
    """One collector from the shards' tallies (a scenario whose tests were split is summed)."""
    collector = Collector()
    for shard in shards:
        for name, tally in shard.tallies.items():
            merged = collector.tallies[name]
            merged.passed += tally.passed
            merged.failed += tally.failed
            merged.skipped += tally.skipped
            merged.failures += tally.failures
            merged.messages.update(tally.messages)
            if tally.preflight:
                merged.preflight = "FAIL" if "FAIL" in (tally.preflight, merged.preflight) else "pass"
    return collector


def merge_junit(documents: Sequence[tuple[str, str]]) -> str:
    """One JUnit XML from several (label, XML text): every ``testsuite`` kept, named after its shard, and
    the root's totals summed."""
    root = ET.Element("testsuites", {"name": "pytest tests"})
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    seconds = 0.0
    for label, text in documents:
        parsed = ET.fromstring(text)
        suites = [parsed] if parsed.tag == "testsuite" else list(parsed.iter("testsuite"))
        for suite in suites:
            suite.set("name", f"{suite.get('name', 'pytest')} ({label})")
            for key in totals:
                totals[key] += int(suite.get(key, "0"))
            seconds += float(suite.get("time", "0") or 0.0)
            root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")


@dataclass
class MergeResult:
    """What :func:`merge` wrote."""

    junit: Path | None
    report: Path
    summaries: int
    tests: int
    failures: int


def merge(out_dir: Path, shard_dirs: Sequence[Path]) -> MergeResult:
    """Merge the shards' results folders into ``out_dir``: ``junit.xml`` (every ``*.xml`` JUnit file found in
    a shard), ``report.md`` (rendered again from every shard's tallies and summaries, the sections a sweep
    appended kept under their shard) and ``summaries/`` (every shard's run summaries)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    documents: list[tuple[str, str]] = []
    reports: list[tuple[str, ShardReport]] = []
    summaries: list[dict[str, Any]] = []
    (out_dir / "summaries").mkdir(exist_ok=True)
    for shard in shard_dirs:
        if not shard.is_dir():
            raise SystemExit(f"merge: {shard} is not a folder")
        label = shard.name
        found = [(f, f.read_text()) for f in sorted(shard.rglob("*.xml"))]
        found = [(f, text) for f, text in found if "<testsuite" in text]
        for xml_file, text in found:
            documents.append((label if len(found) == 1 else f"{label}/{xml_file.relative_to(shard)}", text))
        for md in sorted(shard.rglob("*.md")):
            text = md.read_text()
            if _HEADER.search(text):
                reports.append((label, parse_report(text)))
        for summary_file in sorted(shard.rglob("summaries/*.json")):
            summaries.append(json.loads(summary_file.read_text()))
            shutil.copy2(summary_file, out_dir / "summaries" / f"{label}-{summary_file.name}")
    junit_path: Path | None = None
    tests = failures = 0
    if documents:
        merged = merge_junit(documents)
        junit_path = out_dir / "junit.xml"
        junit_path.write_text(merged)
        root = ET.fromstring(merged)
        tests = int(root.get("tests", "0"))
        failures = int(root.get("failures", "0")) + int(root.get("errors", "0"))
    run_ids = sorted({r.run_id for _label, r in reports if r.run_id})
    targets = sorted({r.target for _label, r in reports if r.target})
    text = render(
        ", ".join(run_ids) or "(merged)", ", ".join(targets) or "?", merge_tallies(r for _l, r in reports), summaries
    )
    shards_line = f"Merged from {len(shard_dirs)} shard(s): " + ", ".join(f"`{s}`" for s in shard_dirs)
    text = text.replace("\n\n| configuration |", f"\n\n{shards_line}\n\n| configuration |", 1)
    for label, report in reports:
        if report.extra:
            text += f"\n## From shard {label}\n\n{report.extra}\n"
    report_path = out_dir / "report.md"
    report_path.write_text(text)
    return MergeResult(junit_path, report_path, len(summaries), tests, failures)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fargate_harness.report merge OUT_DIR SHARD_DIR...``"""
    parser = argparse.ArgumentParser(prog="python -m fargate_harness.report", description="Markdown run reports")
    sub = parser.add_subparsers(dest="command", required=True)
    merging = sub.add_parser("merge", help="merge the results folders of a split suite into one")
    merging.add_argument("out_dir", type=Path, help="where junit.xml, report.md and summaries/ go")
    merging.add_argument("shard_dirs", type=Path, nargs="+", help="each shard's results folder")
    args = parser.parse_args(argv)
    result = merge(args.out_dir, args.shard_dirs)
    junit = result.junit or "no JUnit XML found"
    print(
        f"merged {len(args.shard_dirs)} shard(s): {result.tests} tests, {result.failures} failed or errored, "
        f"{result.summaries} configuration runs -> {junit}, {result.report}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
