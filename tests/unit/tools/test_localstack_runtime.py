"""Unit tests for tools.localstack_runtime: venv reuse, the runtime's environment, start/stop, ``run``.

LocalStack itself is replaced by a 20-line HTTP server answering ``/_localstack/health`` on the port
``GATEWAY_LISTEN`` names, launched through a fake interpreter; no package is installed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from fargate_harness.errors import TargetError
from tools import localstack_runtime as rt

FAKE_LOCALSTACK = r"""
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

host, port = os.environ["GATEWAY_LISTEN"].rsplit(":", 1)
seen = {k: os.environ.get(k) for k in ("FILESYSTEM_ROOT", "OVERRIDE_IN_DOCKER", "DNS_ADDRESS",
                                       "LOCALSTACK_AUTH_TOKEN", "AWS_ENDPOINT_URL")}
seen["argv"] = sys.argv[1:]
with open(os.path.join(os.environ["FILESYSTEM_ROOT"], "seen.json"), "w") as out:
    json.dump(seen, out)

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"services": {"iam": "available", "ecs": "disabled"}, "version": "4.14.0"}).encode()
        self.send_response(200 if self.path == "/_localstack/health" else 404)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

HTTPServer((host, int(port)), Health).serve_forever()
"""


def _fake_python(tmp_path: Path, body: str = FAKE_LOCALSTACK) -> Path:
    """An executable standing in for the venv's python: ignores ``-m localstack.runtime.main``, runs ``body``."""
    script = tmp_path / "fake_localstack.py"
    script.write_text(body)
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return python


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private cache; no inherited LocalStack settings."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache))
    for name in ("LOCALSTACK_AUTH_TOKEN", "AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "HARNESS_LOCALSTACK_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    return cache


def test_venv_lives_in_the_cache_not_the_repository(_isolated: Path) -> None:
    """HARNESS_CACHE_DIR decides where the venv goes; the path names the version."""
    assert rt.venv_dir() == _isolated / f"localstack-venv-{rt.LOCALSTACK_VERSION}"
    assert "localstack-core[runtime]==4.14.0" in rt.REQUIREMENTS
    assert {"cbor2==5.6.5", "cryptography==43.0.3", "pyopenssl==24.2.1", "service_identity"} <= set(rt.REQUIREMENTS)


def test_install_reuses_a_complete_venv(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the marker listing exactly REQUIREMENTS, install runs nothing."""
    venv = rt.venv_dir()
    venv.mkdir(parents=True)
    (venv / rt.MARKER).write_text("\n".join(rt.REQUIREMENTS) + "\n")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"install ran {args}")

    monkeypatch.setattr(subprocess, "run", forbidden)
    assert rt.install() == venv / "bin" / "python"


def test_install_rebuilds_a_stale_or_partial_venv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A marker for other requirements (or none) means: remove, create, pip install, write the marker."""
    venv = rt.venv_dir()
    venv.mkdir(parents=True)
    (venv / "leftover").write_text("x")
    (venv / rt.MARKER).write_text("localstack-core==3.0.0\n")
    commands: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        if command[1:3] == ["-m", "venv"]:
            Path(command[3]).mkdir(parents=True)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    rt.install(python=Path("/opt/py313/bin/python"))
    assert commands[0] == ["/opt/py313/bin/python", "-m", "venv", str(venv)]
    assert commands[1][:4] == [str(venv / "bin" / "python"), "-m", "pip", "install"]
    assert commands[1][-len(rt.REQUIREMENTS) :] == list(rt.REQUIREMENTS)
    assert not (venv / "leftover").exists()
    assert rt.installed(venv)


def test_install_failure_names_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip failing: a TargetError with the exit code and the log's path; no marker written."""

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0 if command[1:3] == ["-m", "venv"] else 1)

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(TargetError, match=r"exit 1.*localstack-install\.log"):
        rt.install(python=Path("/opt/py313/bin/python"))
    assert not rt.installed(rt.venv_dir())


def test_find_python_refuses_an_old_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    """HARNESS_LOCALSTACK_PYTHON pointing at Python < 3.12: an error saying what was tried and how to fix it."""
    monkeypatch.setenv("HARNESS_LOCALSTACK_PYTHON", sys.executable)
    if sys.version_info >= (3, 12):
        assert rt.find_python() == Path(sys.executable)
        return
    with pytest.raises(TargetError) as caught:
        rt.find_python()
    message = str(caught.value)
    assert sys.executable in message and "HARNESS_LOCALSTACK_PYTHON" in message and "3.12" in message


def test_runtime_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Loopback port, host-mode dirs under the data dir, no DNS; endpoint settings not inherited."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://elsewhere:4566")
    env = rt.runtime_env(4599, tmp_path)
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4599"
    assert env["FILESYSTEM_ROOT"] == str(tmp_path)
    assert env["OVERRIDE_IN_DOCKER"] == "0"
    assert env["DNS_ADDRESS"] == "0"
    assert "AWS_ENDPOINT_URL" not in env
    assert "LOCALSTACK_AUTH_TOKEN" not in env


def test_runtime_env_passes_the_auth_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """LOCALSTACK_AUTH_TOKEN from the environment reaches the runtime; an explicit token wins."""
    monkeypatch.setenv("LOCALSTACK_AUTH_TOKEN", "ls-from-env")
    assert rt.runtime_env(1, tmp_path)["LOCALSTACK_AUTH_TOKEN"] == "ls-from-env"
    assert rt.runtime_env(1, tmp_path, auth_token="ls-explicit")["LOCALSTACK_AUTH_TOKEN"] == "ls-explicit"


def test_start_waits_for_health_and_stop_cleans_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """start: free loopback port, health read, token passed; stop: process gone, data dir removed."""
    monkeypatch.setenv("LOCALSTACK_AUTH_TOKEN", "ls-token")
    runtime = rt.start(python=_fake_python(tmp_path), startup_timeout=20)
    try:
        assert runtime.endpoint.startswith("http://127.0.0.1:")
        assert runtime.health["version"] == "4.14.0"
        seen = json.loads((runtime.data_dir / "seen.json").read_text())
        assert seen["argv"] == ["-m", "localstack.runtime.main"]
        assert seen["FILESYSTEM_ROOT"] == str(runtime.data_dir)
        assert seen["LOCALSTACK_AUTH_TOKEN"] == "ls-token"
        assert runtime.data_dir.is_relative_to(rt.cache_dir() / "localstack-data")
        with urllib.request.urlopen(f"{runtime.endpoint}/_localstack/health", timeout=5) as answer:
            assert json.loads(answer.read())["services"]["iam"] == "available"
    finally:
        rt.stop(runtime)
    assert runtime.process.poll() is not None
    assert not runtime.data_dir.exists()


def test_start_reports_an_exiting_runtime(tmp_path: Path) -> None:
    """A runtime that dies at start: TargetError with its exit code and the log's last lines."""
    python = _fake_python(tmp_path, "import sys\nprint('ImportError: no module named x')\nsys.exit(3)\n")
    with pytest.raises(TargetError, match=r"(?s)exited with code 3.*ImportError"):
        rt.start(python=python, port=rt.free_port(), startup_timeout=20)
    assert [p for p in (rt.cache_dir() / "localstack-data").glob("run-*") if p.is_dir()] == []


def test_run_gives_the_endpoint_to_the_command_and_returns_its_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``run -- CMD``: CMD sees HARNESS_LOCALSTACK_ENDPOINT; its exit code is returned; timings printed."""
    monkeypatch.setattr(rt, "install", lambda cache=None, python=None: _fake_python(tmp_path))
    out = tmp_path / "endpoint.txt"
    code = rt.main(
        [
            "run",
            "--",
            sys.executable,
            "-c",
            f"import os,sys; open({str(out)!r},'w').write(os.environ['{rt.ENDPOINT_VARIABLE}']); sys.exit(5)",
        ]
    )
    assert code == 5
    assert out.read_text().startswith("http://127.0.0.1:")
    printed = capsys.readouterr().out
    assert "install" in printed and "start" in printed and "exit 5" in printed
    assert os.environ.get(rt.ENDPOINT_VARIABLE) is None


def test_start_keeps_only_the_latest_logs(tmp_path: Path) -> None:
    """Earlier runs' logs beyond KEEP_LOGS are removed at start; the new run's log is kept."""
    root = rt.cache_dir() / "localstack-data"
    root.mkdir(parents=True)
    for n in range(rt.KEEP_LOGS + 3):
        log = root / f"run-{n}-x.log"
        log.write_text("old")
        os.utime(log, (1000 + n, 1000 + n))
    runtime = rt.start(python=_fake_python(tmp_path), startup_timeout=20)
    rt.stop(runtime)
    logs = sorted(p.name for p in root.glob("run-*.log"))
    assert len(logs) == rt.KEEP_LOGS + 1
    assert "run-0-x.log" not in logs and runtime.log_path.name in logs
