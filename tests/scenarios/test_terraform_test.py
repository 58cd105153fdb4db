"""A team's own ``terraform test`` files, applied for real on the harness's own emulator (``fargate-harness test``):
a passing file passes, a failing assert fails with Terraform's message, a test file that configures the AWS
provider itself is refused before anything runs (proved with a loopback listener that must see no connection),
and no process of the command outlives it."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.safety.conftest import ROOT, cli
from tools.soak import processes_under

CONFIGS = ROOT / "tests" / "data" / "configs"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback listener that counts whoever connects (it must be nobody)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    try:
        yield server
    finally:
        server.close()


def _connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            peer, _address = server.accept()
        except BlockingIOError:
            return count
        peer.close()
        count += 1


def test_each_test_file_runs_in_its_own_account_with_terraforms_verdict(tmp_path: Path) -> None:
    results = tmp_path / "results"
    answer = cli(
        "test",
        "--dir",
        str(CONFIGS / "tftest-service"),
        "--filter",
        "tests/service.tftest.hcl",
        "--filter",
        "tests/wrong_family.tftest.hcl",
        "--filter",
        "tests/grant_typo.tftest.hcl",
        "--json",
        env={"HARNESS_RESULTS_DIR": str(results), "HARNESS_EMBEDDED_ENDPOINT": ""},
    )
    assert answer.returncode == 1, answer.stdout + answer.stderr
    files = {entry["file"]: entry for entry in json.loads(answer.stdout)}
    service, wrong = files["tests/service.tftest.hcl"], files["tests/wrong_family.tftest.hcl"]
    assert service["passed"], service
    assert [(r["run"], r["status"]) for r in service["runs"]] == [
        ("plans_the_family", "pass"),
        ("applies_the_service", "pass"),
    ]
    assert not wrong["passed"] and wrong["runs"][0]["status"] == "fail"
    assert "Test assertion failed: the family output is not payments" in wrong["runs"][0]["diagnostics"][0]
    assert service["account"] != wrong["account"], "two test files share fixed names: each needs its own account"
    # Terraform's asserts pass, but the task definition the run applied would not start: the preflight's reason
    # (ECS task execution IAM role, secrets: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
    # task_execution_IAM_role.html#task-execution-secrets) and fix fail the run
    (typo,) = files["tests/grant_typo.tftest.hcl"]["runs"]
    assert typo["status"] == "pass" and not typo["passed"], typo
    assert any("unable to retrieve secret from asm" in f for f in typo["findings"]), typo["findings"]
    assert any("fix: " in f and "secretsmanager:GetSecretValue" in f for f in typo["findings"]), typo["findings"]
    assert wrong["kept"] and Path(wrong["kept"], "terraform.log").is_file(), "a failed file keeps its folder"
    assert processes_under(results) == [], "a process of the run outlived it"


def test_a_test_file_configuring_the_provider_is_refused_and_nothing_is_sent(
    tmp_path: Path, listener: socket.socket
) -> None:
    config = tmp_path / "elsewhere"
    shutil.copytree(CONFIGS / "tftest-elsewhere", config)
    template = config / "tests" / "role.tftest.hcl.template"
    port = listener.getsockname()[1]
    (config / "tests" / "role.tftest.hcl").write_text(template.read_text().replace("PORT", str(port)))
    template.unlink()
    answer = cli("test", "--dir", str(config), env={"HARNESS_RESULTS_DIR": str(tmp_path / "results")})
    assert answer.returncode == 2, answer.stdout + answer.stderr
    assert (
        f"{config}/tests/role.tftest.hcl:1" in answer.stderr and "would replace the harness's emulator" in answer.stderr
    )
    assert _connections(listener) == 0, "the refused test file's provider endpoint was contacted"
