"""The Markdown run report (``--tf-report``): per scenario verdict, stage timings, preflight verdict.

xdist workers each write one JSON summary per scenario run into ``<run dir>/summaries/``; the controller
tallies test outcomes per scenario and, at the end of the session, joins both into Markdown. The final
sweep appends its own section (``fargate-harness sweep --report FILE``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.terraform import ScenarioRun

STAGES = ("init", "apply", "plan", "destroy")


def write_summary(run: ScenarioRun, run_dir: Path, error: str = "") -> Path:
    """Record one scenario run's facts (no secret values: names, counts, seconds) for the report."""
    folder = run_dir / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.name.replace('/', '_')}-{run.prefix}.json"
    summary = {
        "scenario": run.name,
        "prefix": run.prefix,
        "timings": run.timings,
        "resources": len(run.resources),
        "failed": run.failed,
        "kept": str(run.workdir) if run.failed or run.keep else "",
        "error": run.masker(error),
    }
    path.write_text(json.dumps(summary, indent=2, sort_keys=True))
    return path


@dataclass
class Tally:
    """Test outcomes of one scenario."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    preflight: str = ""
    failures: list[str] = field(default_factory=list)

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

    def add(self, scenario: str, nodeid: str, outcome: str, when: str) -> None:
        """Count one test report (setup failures and errors count as failures)."""
        tally = self.tallies[scenario]
        if outcome == "failed":
            tally.failed += 1
            tally.failures.append(nodeid)
        elif outcome == "skipped" and when != "teardown":
            tally.skipped += 1
        elif outcome == "passed" and when == "call":
            tally.passed += 1
        if "preflight" in nodeid and when == "call" and outcome in ("passed", "failed"):
            tally.preflight = "fail" if outcome == "failed" or tally.preflight == "fail" else "pass"


def load_summaries(run_dir: Path) -> list[dict[str, Any]]:
    """Every summary the workers wrote for this run."""
    folder = run_dir / "summaries"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def render(run_id: str, target: str, collector: Collector, summaries: Iterable[dict[str, Any]]) -> str:
    """The Markdown report."""
    by_scenario: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for summary in summaries:
        by_scenario[summary["scenario"]].append(summary)
    names = sorted(set(by_scenario) | set(collector.tallies))
    lines = [
        f"# fargate-harness run {run_id}",
        "",
        f"Target: `{target}`",
        "",
        "| scenario | verdict | tests passed/failed/skipped | preflight | resources | "
        + " | ".join(f"{s} s" for s in STAGES)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(STAGES),
    ]
    for name in names:
        tally = collector.tallies.get(name, Tally())
        runs = by_scenario.get(name, [])
        timings = {s: sum(r["timings"].get(s, 0.0) for r in runs) for s in STAGES}
        resources = sum(r["resources"] for r in runs)
        verdict = "FAIL" if any(r["failed"] for r in runs) else tally.verdict
        cells = " | ".join(f"{timings[s]:.1f}" for s in STAGES)
        lines.append(
            f"| {name} | {verdict} | {tally.passed}/{tally.failed}/{tally.skipped} | {tally.preflight or '-'} | "
            f"{resources} | {cells} |"
        )
    problems = [(name, r) for name in names for r in by_scenario.get(name, []) if r["failed"] or r.get("error")]
    failures = [(name, nodeid) for name in names for nodeid in collector.tallies.get(name, Tally()).failures]
    if failures or problems:
        lines += ["", "## Failures", ""]
        lines += [f"- `{nodeid}`" for _name, nodeid in failures]
        for name, summary in problems:
            kept = f" (kept in `{summary['kept']}`)" if summary.get("kept") else ""
            lines.append(f"- {name} run {summary['prefix']}{kept}: {summary.get('error') or 'tests failed'}")
    return "\n".join(lines) + "\n"
