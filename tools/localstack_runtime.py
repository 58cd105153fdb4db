"""Install, start and stop a LocalStack on this host, without Docker, for ``make test-localstack``.

LocalStack 4.14.0 is the last release that runs without an auth token. Its runtime needs Python >= 3.12,
so it gets its own virtual environment (never the harness's): ``<cache>/localstack-venv-4.14.0``, where
``<cache>`` is ``HARNESS_CACHE_DIR`` (default ``~/.cache/fargate-harness``). The interpreter is
``HARNESS_LOCALSTACK_PYTHON`` when set, else pyenv's 3.13 (``$PYENV_ROOT/versions/3.13.*``), else
``python3.13`` / ``python3.12`` on ``PATH``. A second install finds the venv's marker and does nothing.

:func:`start` runs ``python -m localstack.runtime.main`` on a free loopback port
(``GATEWAY_LISTEN=127.0.0.1:<port>``) with its data under ``<cache>/localstack-data/<run>`` (removed by
:func:`stop`), its DNS server and analytics off, and waits for ``/_localstack/health``. When
``LOCALSTACK_AUTH_TOKEN`` is set (or ``auth_token`` given) it is passed to the runtime. Note that the
token alone does not add the paid services (ECS, ECR) to ``localstack-core``: for those run LocalStack
Pro yourself and point ``--localstack-endpoint`` / ``AWS_ENDPOINT_URL`` at it.

Command line::

    python -m tools.localstack_runtime install           # venv only
    python -m tools.localstack_runtime run -- CMD ...    # install, start, run CMD, stop

``run`` gives CMD ``HARNESS_LOCALSTACK_ENDPOINT=http://127.0.0.1:<port>``, exits with CMD's exit code and
prints the seconds spent installing, starting and running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fargate_harness.errors import TargetError
from fargate_harness.runner.toolchain import cache_dir, file_lock
from fargate_harness.targets.embedded import free_port

LOCALSTACK_VERSION = "4.14.0"
#: What the runtime's venv gets. The pins are the versions that let 4.14.0 start on these hosts (NOTES.md).
REQUIREMENTS: tuple[str, ...] = (
    f"localstack-core[runtime]=={LOCALSTACK_VERSION}",
    "cbor2==5.6.5",
    "cryptography==43.0.3",
    "pyopenssl==24.2.1",
    "service_identity",
)
#: The oldest Python the 4.14.0 runtime imports on (it uses 3.12 syntax).
MIN_PYTHON = (3, 12)
MARKER = ".fargate-harness-installed"
ENDPOINT_VARIABLE = "HARNESS_LOCALSTACK_ENDPOINT"
#: LocalStack logs of earlier runs kept in ``<cache>/localstack-data`` (older ones are removed at start).
KEEP_LOGS = 5


def venv_dir(cache: Path | None = None) -> Path:
    """Where the runtime's virtual environment lives (outside the repository)."""
    return (cache or cache_dir()) / f"localstack-venv-{LOCALSTACK_VERSION}"


def _python_version(python: Path) -> tuple[int, int] | None:
    try:
        answer = subprocess.run(
            [str(python), "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = answer.stdout.split()
    return int(major), int(minor)


def _pyenv_root() -> Path | None:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            root = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30, check=True).stdout
            if root.strip():
                return Path(root.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def candidate_pythons() -> list[Path]:
    """Interpreters to try, best first: the explicit setting, pyenv's 3.13/3.12, then PATH."""
    found: list[Path] = []
    if os.environ.get("HARNESS_LOCALSTACK_PYTHON"):
        return [Path(os.environ["HARNESS_LOCALSTACK_PYTHON"])]
    root = _pyenv_root()
    if root is not None:
        for minor in ("3.13", "3.12"):
            versions = sorted((root / "versions").glob(f"{minor}.*"), reverse=True)
            found += [v / "bin" / "python" for v in versions if (v / "bin" / "python").exists()]
    for name in ("python3.13", "python3.12"):
        path = shutil.which(name)
        if path:
            found.append(Path(path))
    return found


def find_python() -> Path:
    """A Python >= 3.12 to build the runtime's venv with; TargetError saying how to provide one."""
    tried = []
    for python in candidate_pythons():
        version = _python_version(python)
        tried.append(f"{python} ({'.'.join(map(str, version)) if version else 'does not run'})")
        if version and version >= MIN_PYTHON:
            return python
    raise TargetError(
        f"LocalStack {LOCALSTACK_VERSION} needs Python >= 3.12 for its own virtualenv; tried "
        f"{', '.join(tried) or 'nothing (no pyenv, no python3.13/python3.12 on PATH)'}. "
        "Install one (e.g. `pyenv install 3.13.0`) or set HARNESS_LOCALSTACK_PYTHON to its path."
    )


def installed(venv: Path) -> bool:
    """True when ``venv`` holds exactly :data:`REQUIREMENTS` (written last by :func:`install`)."""
    marker = venv / MARKER
    return marker.is_file() and marker.read_text().splitlines() == list(REQUIREMENTS)


def install(cache: Path | None = None, python: Path | None = None) -> Path:
    """The runtime venv's interpreter, creating the venv first if needed. Idempotent; safe across processes."""
    venv = venv_dir(cache)
    with file_lock(venv.parent / "localstack-install.lock"):
        if installed(venv):
            return venv / "bin" / "python"
        if venv.exists():
            shutil.rmtree(venv)  # a partial install from an interrupted run
        interpreter = python or find_python()
        log = venv.parent / "localstack-install.log"
        with open(log, "w") as out:
            for command in (
                [str(interpreter), "-m", "venv", str(venv)],
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    *REQUIREMENTS,
                ],
            ):
                out.write(f"$ {' '.join(command)}\n")
                out.flush()
                code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
                if code != 0:
                    tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
                    raise TargetError(
                        f"installing LocalStack failed ({' '.join(command[:4])}... exit {code}); log {log}:\n{tail}"
                    )
        (venv / MARKER).write_text("\n".join(REQUIREMENTS) + "\n")
    return venv / "bin" / "python"


@dataclass
class LocalStackRuntime:
    """A LocalStack process this harness started; stop it with :func:`stop` (or ``runtime.stop()``)."""

    endpoint: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    health: dict[str, object] = field(default_factory=dict)
    _log: IO[bytes] | None = field(default=None, repr=False)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the runtime's process group, SIGKILL after ``timeout`` s; remove its data dir."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.data_dir, ignore_errors=True)


def runtime_env(port: int, data_dir: Path, auth_token: str | None = None) -> dict[str, str]:
    """The environment ``localstack.runtime.main`` runs with."""
    env = dict(os.environ)
    for inherited in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", ENDPOINT_VARIABLE, "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(inherited, None)
    env.update(
        {
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            # Host mode: every directory under FILESYSTEM_ROOT, even when this machine is itself a container
            # (otherwise LocalStack writes to /var/lib/localstack).
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(data_dir),
            "DNS_ADDRESS": "0",  # no DNS server on port 53
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",  # no analytics
        }
    )
    token = auth_token if auth_token is not None else os.environ.get("LOCALSTACK_AUTH_TOKEN")
    if token:
        env["LOCALSTACK_AUTH_TOKEN"] = token
    return env


def read_health(endpoint: str, timeout: float = 2.0) -> dict[str, object]:
    """``GET <endpoint>/_localstack/health`` as a dict."""
    with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=timeout) as answer:
        document = json.loads(answer.read().decode())
    if not isinstance(document, dict):
        raise ValueError(f"health answer is not an object: {document!r}")
    return document


def start(
    *,
    python: Path | None = None,
    port: int | None = None,
    auth_token: str | None = None,
    cache: Path | None = None,
    log_path: Path | None = None,
    startup_timeout: float = 120.0,
) -> LocalStackRuntime:
    """Install if needed, start LocalStack on a free loopback port and wait for its health endpoint."""
    interpreter = python or install(cache)
    root = (cache or cache_dir()) / "localstack-data"
    root.mkdir(parents=True, exist_ok=True)
    for old_log in sorted(root.glob("run-*.log"), key=lambda p: p.stat().st_mtime)[:-KEEP_LOGS]:
        old_log.unlink(missing_ok=True)
    last_error = ""
    for _attempt in range(3 if port is None else 1):
        chosen = port or free_port()
        data_dir = Path(tempfile.mkdtemp(prefix=f"run-{chosen}-", dir=root))
        log = log_path or data_dir.with_suffix(".log")
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(log, "ab")  # noqa: SIM115 (closed by LocalStackRuntime.stop)
        process = subprocess.Popen(
            [str(interpreter), "-m", "localstack.runtime.main"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=runtime_env(chosen, data_dir, auth_token),
            cwd=data_dir,
            start_new_session=True,
        )
        runtime = LocalStackRuntime(f"http://127.0.0.1:{chosen}", process, data_dir, log, _log=handle)
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                last_error = f"LocalStack exited with code {process.returncode}"
                break
            try:
                runtime.health = read_health(runtime.endpoint)
                return runtime
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.25)
        else:
            last_error = (
                f"LocalStack did not answer {runtime.endpoint}/_localstack/health within {startup_timeout:.0f}s"
            )
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-20:]) if log.exists() else ""
        runtime.stop()
        last_error += f"; last lines of {log}:\n{tail}"
    raise TargetError(last_error)


def stop(runtime: LocalStackRuntime) -> None:
    """Stop a LocalStack :func:`start` started."""
    runtime.stop()


@contextlib.contextmanager
def running(**kwargs: object) -> Iterator[LocalStackRuntime]:
    """``with running() as ls:`` a LocalStack for the duration of the block."""
    runtime = start(**kwargs)  # type: ignore[arg-type]
    try:
        yield runtime
    finally:
        runtime.stop()


def _services_line(health: dict[str, object]) -> str:
    services = health.get("services")
    if not isinstance(services, dict):
        return "no service list"
    usable = sorted(name for name, state in services.items() if state in ("available", "running"))
    return f"{len(usable)} services ({', '.join(usable)})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localstack_runtime", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="create the runtime's virtualenv (idempotent)")
    run = commands.add_parser("run", help="install, start LocalStack, run a command against it, stop it")
    run.add_argument("--log", type=Path, default=None, help="LocalStack's log file (default: next to its data dir)")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- command and arguments")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    python = install()
    install_s = time.perf_counter() - started
    print(f"localstack-runtime: {python} ready in {install_s:.1f}s", flush=True)
    if args.command == "install":
        return 0
    cmd = list(args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd)
    if not cmd:
        parser.error("run needs a command after --")
    t0 = time.perf_counter()
    runtime = start(python=python, log_path=args.log)
    start_s = time.perf_counter() - t0
    print(
        f"localstack-runtime: LocalStack {runtime.health.get('version', '?')} at {runtime.endpoint} in {start_s:.1f}s: "
        f"{_services_line(runtime.health)}; log {runtime.log_path}",
        flush=True,
    )
    code = 1
    t1 = time.perf_counter()
    try:
        code = subprocess.run(cmd, env={**os.environ, ENDPOINT_VARIABLE: runtime.endpoint}, check=False).returncode
    finally:
        run_s = time.perf_counter() - t1
        runtime.stop()
        print(
            f"localstack-runtime: install {install_s:.1f}s, start {start_s:.1f}s, command {run_s:.1f}s, exit {code}",
            flush=True,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
