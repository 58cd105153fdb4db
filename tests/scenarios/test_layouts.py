"""The layouts a user's repository has: the harness run from inside the configuration folder.

``cd infra && fargate-harness preflight --dir .`` puts the default results folder (``./results``) inside the
configuration it copies; before, the copy copied itself until ``[Errno 36] File name too long``. The command
runs in a child process on the session's emulator (``HARNESS_EMBEDDED_ENDPOINT``), as in ``test_cli_dir.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fargate_harness.targets import Target

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"


@pytest.fixture(autouse=True)
def _embedded_only(pytestconfig: pytest.Config) -> None:
    if (pytestconfig.getoption("target") or os.environ.get("HARNESS_TARGET") or "embedded") != "embedded":
        pytest.skip("the CLI tests use the session's embedded emulator")


def test_preflight_dir_dot_from_inside_the_configuration(tmp_path: Path, harness_target: Target) -> None:
    repo = tmp_path / "repo"
    infra = repo / "infra"
    shutil.copytree(CONFIGS / "tutorial-secrets", infra)
    (repo / ".git").mkdir()
    (infra / "node_modules" / "left-pad").mkdir(parents=True)
    (infra / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1\n")
    assert harness_target.endpoint_url, "the session's emulator has no address"
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_RESULTS_DIR", "HARNESS_RUN_ID")}
    env["HARNESS_EMBEDDED_ENDPOINT"] = harness_target.endpoint_url

    answer = subprocess.run(
        [sys.executable, "-m", "fargate_harness.cli", "preflight", "--dir", ".", "--json"],
        cwd=infra,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )

    assert "Traceback" not in answer.stderr, f"expected a verdict, got a traceback: {answer.stderr[-1500:]}"
    assert answer.returncode == 1, f"expected exit 1 (one secret not granted), got {answer.returncode}: {answer.stderr}"
    (configuration,) = json.loads(answer.stdout)["configurations"]
    (report,) = configuration["reports"]
    denied = [r["resource"] for r in report["requirements"] if not r["allowed"]]
    assert len(denied) == 1 and "prod/orders/api-token" in denied[0], denied
    results = infra / "results"
    nested = [p for p in results.rglob("*") if "results" in p.relative_to(results).parts or p.name == "node_modules"]
    assert not nested, f"the work copy holds the results folder or node_modules: {nested[:3]}"
    for manifest in results.rglob("run.json"):  # a run folder kept (today every one is): its copy is the config
        copy = Path(json.loads(manifest.read_text())["tfdir"])
        assert (copy / "main.tf").is_file(), copy
