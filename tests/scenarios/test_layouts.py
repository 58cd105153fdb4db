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
    # fatal denials only: the token's secret has no value yet (a pipeline puts it), which is a warning row
    denied = [r["resource"] for r in report["requirements"] if not r["allowed"] and r["fatal"]]
    assert len(denied) == 1 and "prod/orders/api-token" in denied[0], denied
    results = infra / "results"
    nested = [p for p in results.rglob("*") if "results" in p.relative_to(results).parts or p.name == "node_modules"]
    assert not nested, f"the work copy holds the results folder or node_modules: {nested[:3]}"
    for manifest in results.rglob("run.json"):  # a run folder kept (today every one is): its copy is the config
        copy = Path(json.loads(manifest.read_text())["tfdir"])
        assert (copy / "main.tf").is_file(), copy


_RECORDING_TEST = """
import json
import os

import pytest

pytestmark = pytest.mark.terraform("..")


def _record(applied, test):
    line = {"file": __name__, "test": test, "worker": os.environ.get("PYTEST_XDIST_WORKER"), "prefix": applied.prefix}
    with open(os.environ["FH_RECORD"], "a") as handle:
        handle.write(json.dumps(line) + "\\n")


def test_1(applied):
    _record(applied, "1")


def test_2(applied):
    _record(applied, "2")


def test_3(applied):
    _record(applied, "3")
"""


def test_xdist_applies_a_configuration_once_per_file_from_a_tests_folder_inside_it(
    tmp_path: Path, harness_target: Target
) -> None:
    """``infra/tests/test_{a,b,c}.py`` each ``pytest.mark.terraform("..")``, run as ``pytest -n 2`` from ``infra``:
    the default results folder is inside the configuration, and xdist must not split a file's tests over two
    workers (each would apply the configuration again). Before, ``-n 2`` applied it twice per file (6 applies
    for 3 files); the plugin now makes ``-n`` distribute with ``--dist loadfile``."""
    infra = tmp_path / "infra"
    (infra / "tests").mkdir(parents=True)
    (infra / "main.tf").write_text(
        'variable "name_prefix" {\n  type = string\n}\n\n'
        'resource "aws_iam_role" "task" {\n  name = "${var.name_prefix}-task"\n'
        '  assume_role_policy = jsonencode({\n    Version = "2012-10-17"\n'
        '    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", '
        'Principal = { Service = "ecs-tasks.amazonaws.com" } }]\n  })\n}\n'
    )
    (infra / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    for name in ("a", "b", "c"):
        (infra / "tests" / f"test_{name}.py").write_text(_RECORDING_TEST)
    record = tmp_path / "record.jsonl"
    assert harness_target.endpoint_url, "the session's emulator has no address"
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_RESULTS_DIR", "HARNESS_RUN_ID")}
    env.update(HARNESS_EMBEDDED_ENDPOINT=harness_target.endpoint_url, FH_RECORD=str(record))
    env.pop("PYTEST_XDIST_WORKER", None)

    answer = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "tests"],
        cwd=infra,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )

    assert answer.returncode == 0, answer.stdout[-3000:] + answer.stderr[-2000:]
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(lines) == 9, lines
    prefixes = {(line["file"], line["prefix"]) for line in lines}
    assert len(prefixes) == 3, f"expected one apply per file (3), got {len(prefixes)}: {sorted(prefixes)}"
    for name in ("test_a", "test_b", "test_c"):
        workers = {line["worker"] for line in lines if line["file"] == name}
        assert len(workers) == 1, f"{name}'s tests ran on workers {sorted(workers)}; expected one (--dist loadfile)"
    nested = [p for p in (infra / "results").rglob("*") if "results" in p.relative_to(infra / "results").parts]
    assert not nested, nested[:3]
