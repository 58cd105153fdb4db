"""Hostile and careless input (issue 29): one configuration per probe under ``tests/data/hostile/``, run through
the CLI on the default embedded target. Each test asserts the exit code, the message, and that no file under
the run's results folder (nor any output) holds the secret planted for it.

No test connects to an address other than loopback: the guard probes name ``*.amazonaws.com`` hosts only
through the harness's proxy variables (the guard on 127.0.0.1 answers them), and isolation is proven with a
listener on the host's loopback that a namespaced provisioner cannot reach.
"""

from __future__ import annotations

import http.server
import os
import secrets
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from fargate_harness.runner.overrides import OVERRIDE_FILE
from tests.safety.conftest import ROOT

HOSTILE = ROOT / "tests" / "data" / "hostile"

#: ``python -c`` that isolates the process, then runs the CLI in it (until the CLI isolates itself).
ISOLATED_CLI = (
    "import runpy, sys\n"
    "from fargate_harness.runner.isolation import isolate_network\n"
    "status = isolate_network()\n"
    "print(status.describe(), file=sys.stderr)\n"
    "sys.argv = ['fargate-harness', *sys.argv[1:]]\n"
    "runpy.run_module('fargate_harness.cli', run_name='__main__')\n"
)


@dataclass
class Probe:
    """One probe's run: its exit code, its output and where it wrote."""

    code: int
    #: kept out of the repr, which pytest prints when an assertion fails: they hold (or are) the secret
    output: str = field(repr=False)
    results: Path = field(default=Path())
    planted: str = field(default="", repr=False)
    #: the probe's copy (with the planted secret) and the environment it ran with
    folder: Path = field(default=Path())
    env: dict[str, str] = field(default_factory=dict, repr=False)

    def shown(self) -> str:
        """The output's tail for an assertion message, the planted secret replaced (a message must not hold it)."""
        return self.output[-3000:].replace(self.planted, "<planted>")

    def leaks(self) -> list[str]:
        """Files under the results folder, and the output, that hold the planted secret."""
        needle = self.planted.encode()
        found = [
            str(p) for p in self.results.rglob("*") if p.is_file() and not p.is_symlink() and needle in p.read_bytes()
        ]
        return found + (["the command's output"] if self.planted in self.output else [])


@pytest.fixture
def planted() -> str:
    """The secret of one test. Tests never take it as an argument: pytest prints a failing test's arguments."""
    return f"planted-{secrets.token_hex(10)}"


#: Runs one probe: ``run(name, *cli_arguments, env=..., isolated=False)``.
RunProbe = Callable[..., Probe]


@pytest.fixture
def probe(tmp_path: Path, planted: str) -> RunProbe:
    """Run ``fargate-harness run --dir <probe>`` (on a copy, in which ``PLANTED`` in a ``.tfvars`` file becomes
    the planted secret) with ``TF_VAR_planted`` set to it, its own emulator and results folder; ``isolated``
    runs the CLI in a network namespace (:data:`ISOLATED_CLI`)."""

    def run(name: str, *args: str, env: dict[str, str] | None = None, isolated: bool = False) -> Probe:
        folder = tmp_path / "configs" / secrets.token_hex(3) / name  # the folder's name labels the run
        shutil.copytree(HOSTILE / name, folder)
        for path in folder.glob("*.tfvars"):
            path.write_text(path.read_text().replace("PLANTED", planted))
        results = tmp_path / "results"
        environment = {**os.environ, "HARNESS_RESULTS_DIR": str(results), "TF_VAR_planted": planted, **(env or {})}
        environment.pop("HARNESS_EMBEDDED_ENDPOINT", None)  # the probe's emulator is its own
        command = ["-c", ISOLATED_CLI] if isolated else ["-m", "fargate_harness.cli"]
        done = subprocess.run(
            [sys.executable, *command, "run", "--dir", str(folder), *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return Probe(done.returncode, done.stdout + done.stderr, results, planted, folder, environment)

    return run


class TestWhatLeavesTheRun:
    """Probes about what a run sends or writes: a masked sensitive value, a refused request, the namespace."""

    def test_a_sensitive_value_from_auto_tfvars_echoed_by_the_provider_is_masked_everywhere(
        self,
        probe: RunProbe,
    ) -> None:
        """The AWS provider echoes a bad ``type`` ("expected type to be one of [...], got <value>"); the value comes
        from the configuration's own ``secrets.auto.tfvars``. SSM PutParameter types:
        https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html"""
        result = probe("secret-tfvars")
        assert result.code == 2, result.shown()  # a value the provider version refuses is bad input
        assert "expected type to be one of [String StringList SecureString], got ***" in result.output, result.shown()[
            -3000:
        ]
        # the same configuration through preflight --json and through the pytest plugin with a JUnit file
        preflight = subprocess.run(
            [sys.executable, "-m", "fargate_harness.cli", "preflight", "--dir", str(result.folder), "--json"],
            cwd=ROOT,
            env=result.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        tests = result.results.parent / "user-tests"
        tests.mkdir()
        (tests / "test_probe.py").write_text(
            f"import pytest\n\npytestmark = pytest.mark.terraform({str(result.folder)!r})\n\n\n"
            "def test_applied(applied):\n    assert applied.resources\n"
        )
        junit = result.results / "junit.xml"
        pytest_args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0", "test_probe.py"]
        plugin = subprocess.run(
            [sys.executable, "-m", "pytest", *pytest_args, f"--junitxml={junit}"],
            cwd=tests,
            env=result.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        result.output += preflight.stdout + preflight.stderr + plugin.stdout + plugin.stderr
        assert preflight.returncode == 2 and '"apply_error"' in preflight.stdout, result.shown()  # bad input
        assert "got ***" in preflight.stdout and "got ***" in junit.read_text(), result.shown()
        assert plugin.returncode == 1, result.shown()
        copied = list(result.results.rglob("secrets.auto.tfvars"))
        assert copied, "the failed run keeps its folder, with its copy of the configuration"
        modes = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in copied}
        assert set(modes.values()) == {"0o600"}, f"copied var files: expected 0o600, got {modes}"
        assert not result.leaks(), f"the planted value: expected in no file or output, got in {result.leaks()}"

    def test_a_refused_request_fails_the_run_wherever_the_process_ran(self, probe: RunProbe) -> None:
        """A local-exec ``curl`` with ``working_dir = "/"``: refused by the guard, and the run fails (exit 2)."""
        result = probe("provisioner-root")
        assert result.code == 2, result.shown()
        assert "`terraform apply` tried to reach sts.us-east-1.amazonaws.com" in result.output, result.shown()
        assert "sent by curl, a program the configuration runs itself" in result.output, result.shown()
        assert "remote modules" not in result.output, result.shown()
        assert not result.leaks(), f"the planted value: expected in no file or output, got in {result.leaks()}"

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="network namespaces are Linux's")
    def test_a_namespaced_provisioner_cannot_reach_the_hosts_loopback(
        self, probe: RunProbe, host_listener: tuple[int, list[str]], tmp_path: Path
    ) -> None:
        """The provisioner connects straight to the listener's port on 127.0.0.1 (no proxy). Run with isolation
        turned off, it reaches the listener (the control: the probe can tell); run as the CLI runs by default, in
        its namespace, it cannot, and the apply fails on curl's "Failed to connect"."""
        port, paths = host_listener
        control = probe("host-loopback", "--var", f"port={port}", env={"HARNESS_NETWORK_ISOLATION": "0"})
        assert len(paths) == 1, f"control: expected the plain run to reach the host's listener, got {paths}"
        assert "network guard" not in control.output
        isolated = probe("host-loopback", "--var", f"port={port}")
        if "network isolation: proxy guard only" in isolated.output:
            pytest.skip(isolated.output.split("network isolation: proxy guard only", 1)[1].splitlines()[0])
        assert "network isolation: kernel namespace (loopback only)" in isolated.output, isolated.shown()
        assert len(paths) == 1, f"the namespaced provisioner reached the host's listener: {paths}"
        assert isolated.code == 1 and "Failed to connect to 127.0.0.1" in isolated.output, isolated.shown()
        assert not isolated.leaks() and not control.leaks()


class TestRefusedInput:
    """Probes the run refuses or redirects by name before anything leaves (a class of its own: with
    ``--dist loadscope`` the two classes run on two workers)."""

    def test_the_aws_provider_under_another_local_name_is_redirected(self, probe: RunProbe) -> None:
        """``amazon = { source = "hashicorp/aws" }``: applied, planned and destroyed on the emulator, no refusal. The
        run fails only the checks that look for task definitions (it has none)."""
        result = probe("local-name")
        assert "network guard" not in result.output, result.shown()
        assert "ERROR" not in result.output, result.shown()
        line = next(line for line in result.output.splitlines() if line.startswith("local-name "))
        assert line.split()[2] == "1", f"expected 1 resource applied, got the row {line!r}"
        overrides = list(result.results.rglob(OVERRIDE_FILE))
        assert overrides and 'provider "amazon" {' in overrides[0].read_text(), overrides
        assert result.code == 1 and "no aws_ecs_task_definition in the state" in result.output, result.shown()
        assert not result.leaks()

    def test_a_users_override_file_that_sets_endpoints_is_refused_by_name(self, probe: RunProbe) -> None:
        result = probe("user-override")
        assert result.code == 2, result.shown()
        assert 'user-override/zzz_override.tf: provider "aws" sets endpoints' in result.output, result.shown()
        assert "remote modules" not in result.output and "Traceback" not in result.output
        assert not result.leaks()

    def test_a_plan_over_the_resource_limit_is_refused_before_apply(self, probe: RunProbe) -> None:
        """``count = 1001`` against the default limit of 1,000 resources on an emulator."""
        result = probe("too-many")
        assert result.code == 2, result.shown()
        assert "too-many: the plan creates 1,001 resources; expected at most 1,000" in result.output, result.shown()
        assert "nothing was applied" in result.output
        line = next(line for line in result.output.splitlines() if line.startswith("too-many "))
        assert line.split()[2] == "0", f"expected no resource applied, got the row {line!r}"
        assert not result.leaks()

    def test_an_oversized_variable_is_refused_by_name(self, probe: RunProbe, tmp_path: Path) -> None:
        big = tmp_path / "big.tfvars"
        big.write_text(f'payload = "{"x" * (2 * 1024 * 1024)}"\n')
        result = probe("oversized", "--var-file", str(big))
        assert result.code == 2, result.shown()
        assert f"variable payload (from {big}): expected at most 1,048,576 bytes, got 2,097,152" in result.output, (
            result.shown()
        )
        assert "received message larger than max" not in result.output
        assert not result.leaks()

    def test_a_deployer_that_is_not_an_arn_is_refused_before_apply(self, probe: RunProbe) -> None:
        result = probe("local-name", "--deployer", "notanarn")
        assert result.code == 2, result.shown()
        assert "deployer is 'notanarn': expected an IAM ARN of the form arn:aws:iam::" in result.output, result.shown()
        assert ": apply " not in result.output, "nothing may be applied"
        assert "ValueError" not in result.output and "Traceback" not in result.output
        assert not result.leaks()

    @pytest.mark.parametrize("target", ["embedded", "aws"])
    def test_a_missing_profile_is_named_on_every_target(self, probe: RunProbe, tmp_path: Path, target: str) -> None:
        """The ``aws`` target is refused before any request (the profile is checked first): no connection leaves."""
        config = tmp_path / "aws-config"
        config.write_text("[profile sandbox]\nregion = us-east-1\n")
        env = {"AWS_PROFILE": "nosuch", "AWS_CONFIG_FILE": str(config), "AWS_REGION": "us-east-1"}
        result = probe("local-name", "--target", target, env=env)
        assert result.code == 2, result.shown()
        assert "AWS_PROFILE names the AWS profile 'nosuch'" in result.output, result.shown()
        assert "moto[server]" not in result.output and "Traceback" not in result.output, result.shown()
        assert not result.leaks()

    def test_every_probe_folder_is_used_by_a_test(self) -> None:
        used = {"secret-tfvars", "provisioner-root", "local-name", "user-override", "too-many", "oversized"}
        used |= {"host-loopback"}
        assert {p.name for p in HOSTILE.iterdir() if p.is_dir()} == used


class _Recorder(http.server.BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def host_listener() -> Iterator[tuple[int, list[str]]]:
    """An HTTP listener on the host's loopback that records the paths asked for."""
    _Recorder.paths = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), _Recorder.paths
    finally:
        server.shutdown()
        server.server_close()
