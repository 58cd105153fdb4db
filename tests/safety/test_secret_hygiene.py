"""A planted secret value never appears in anything a run writes: logs, outputs, reports, messages, state.

Runs real scenarios through the CLI and through pytest, once passing and once with a module weakened
so checks fail (failed runs keep their folders for inspection), then searches every byte they wrote, the log
of the emulator they share included (one moto server for the four runs instead of one each).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fargate_harness.targets import EmbeddedTarget
from tests.safety.conftest import ROOT, cli


@pytest.fixture(scope="module")
def planted() -> str:
    return f"planted-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def weakened_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of modules/ and scenarios/ whose execution role reads every secret ("*")."""
    root = tmp_path_factory.mktemp("weakened")
    shutil.copytree(ROOT / "modules", root / "modules")
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    main = root / "modules" / "ecs-execution-role" / "main.tf"
    text = main.read_text()
    weakened = text.replace("Resource = var.secret_arns", 'Resource = "*"')
    assert weakened != text, "the ReadSecrets statement moved: update this test"
    main.write_text(weakened)
    return root / "scenarios"


def _files_containing(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and needle in p.read_bytes()]


def test_planted_secret_appears_nowhere(
    tmp_path: Path, planted: str, weakened_tree: Path, emulator: EmbeddedTarget
) -> None:
    results = tmp_path / "results"
    assert emulator.endpoint_url and emulator.log_path
    env = {
        "HARNESS_SECRET_VALUE": planted,
        "HARNESS_RESULTS_DIR": str(results),
        "HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url,
    }
    outputs: list[str] = []

    passing = cli("run", "--scenario", "secrets", "--scenario", "ssm-kms", env=env)
    outputs += [passing.stdout, passing.stderr]
    assert passing.returncode == 0, passing.stdout + passing.stderr

    failing = cli("run", "--scenario", "secrets", "--tf-scenarios-dir", str(weakened_tree), env=env)
    outputs += [failing.stdout, failing.stderr]
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "kept for inspection" in failing.stdout

    preflight = cli("preflight", "--scenario", "secrets", "--json", env=env)
    outputs += [preflight.stdout, preflight.stderr]
    assert preflight.returncode == 0, preflight.stdout + preflight.stderr

    pytest_run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "tests/scenarios/test_secrets.py",
            "--tf-scenarios-dir",
            str(weakened_tree),
            f"--junitxml={tmp_path / 'junit.xml'}",
            f"--tf-report={tmp_path / 'report.md'}",
            "-l",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    outputs += [pytest_run.stdout, pytest_run.stderr]
    assert pytest_run.returncode == 1, pytest_run.stdout[-2000:]
    assert "expected no over-grants" in pytest_run.stdout or "ReadSecrets" in pytest_run.stdout

    kept = [p for p in results.rglob("terraform.log")]
    assert kept, "the failed runs should have kept their folders"
    leaks = _files_containing(tmp_path, planted.encode()) + _files_containing(
        emulator.log_path.parent, planted.encode()
    )
    leaks += [f"captured output #{i}" for i, text in enumerate(outputs) if planted in text]
    assert not leaks, f"secret hygiene: planted value: expected in no output, got in {leaks}"
