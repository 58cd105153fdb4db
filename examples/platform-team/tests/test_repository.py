"""The repository as its team uses it: the CLI run from inside the Terraform folder (results inside it), a run kept
for debugging and finished by sweep, and the upgrade check of a change to the shared module."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import INFRA

CHECKOUT = INFRA / "services" / "checkout"


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``fargate-harness`` command, as the team's CI calls it."""
    return subprocess.run(
        [sys.executable, "-m", "fargate_harness.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_preflight_from_inside_the_configuration(tmp_path: Path) -> None:
    """``cd infra/services/checkout && fargate-harness preflight --dir .``: the results land inside the
    configuration and the work copy never holds them."""
    repo = tmp_path / "repo"
    shutil.copytree(INFRA, repo / "infra")
    folder = repo / "infra" / "services" / "checkout"
    answer = harness("preflight", "--dir", ".", "--json", cwd=folder)
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert json.loads(answer.stdout)["will_start"] is True
    copies = [p for p in (folder / "results").rglob("results") if p.is_dir()]
    assert copies == [], f"the work copy holds the results folder: {copies}"


def test_a_kept_run_can_be_read_and_is_finished_by_sweep(tmp_path: Path) -> None:
    answer = harness("run", "--dir", str(CHECKOUT), "--keep", cwd=tmp_path)
    kept = re.search(r"emulator kept at (http://127\.0\.0\.1:\d+)", answer.stderr)
    assert kept, f"expected the kept emulator's address: {answer.stderr[-3000:]}"
    listed = harness("emulators", cwd=tmp_path)
    assert kept.group(1) in listed.stdout and "running" in listed.stdout, listed.stdout
    swept = harness("sweep", cwd=tmp_path)
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "destroyed, 0 failed; stopped" in swept.stdout, swept.stdout
    assert "no kept emulator" in harness("emulators", cwd=tmp_path).stdout


def test_the_upgrade_check_names_a_widening_of_the_shared_module(tmp_path: Path) -> None:
    """A change that widens the shared module's secret grant to every secret is reported, and fails the check,
    against the last commit (``upgrade --dir ... --from HEAD``)."""
    repo = tmp_path / "repo"
    shutil.copytree(INFRA, repo / "infra")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "v1"], check=True)
    module = repo / "infra" / "modules" / "service-roles" / "main.tf"
    text = module.read_text()
    assert "Resource = var.secret_arns" in text, "the example's module changed: adjust the widening below"
    module.write_text(text.replace("Resource = var.secret_arns", 'Resource = ["*"]'))
    answer = harness("upgrade", "--dir", "infra/services/checkout", "--from", "HEAD", cwd=repo)
    assert answer.returncode == 1, answer.stdout + answer.stderr[-3000:]
    assert "secretsmanager:getsecretvalue on *" in answer.stdout.lower(), answer.stdout
