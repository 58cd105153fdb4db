"""runner.isolation: a process moved into a new network namespace sees only ``lo`` (up), cannot reach the
host's loopback, reaches its own, and runs the embedded emulator there.

Every isolation happens in a child process (this test process keeps its network). No test connects to an
address other than loopback: the proof is a listener on the host's loopback that the isolated child cannot
reach, and the child's interface list. Namespaces: man 7 network_namespaces, man 7 user_namespaces,
man 2 unshare (https://man7.org/linux/man-pages/man7/network_namespaces.7.html).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fargate_harness.runner import isolation
from fargate_harness.runner.isolation import IsolationStatus, isolation_blockers

SOURCE = Path(isolation.__file__).resolve()
SRC = SOURCE.parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="network namespaces are Linux's")

#: Run in the child: isolate, then report the interfaces, whether the host's listener (argv[1]) answers and
#: whether a listener of its own does.
PROBE = """
import errno, json, socket, sys
{load}
status = isolate_network()
report = {{"isolated": status.isolated, "reason": status.reason, "method": status.method,
          "line": status.describe(), "interfaces": [name for _i, name in socket.if_nameindex()]}}
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
    report["host"] = "connected"
except OSError as exc:
    report["host"] = errno.errorcode.get(exc.errno or 0, str(exc))
own = socket.socket()
own.bind(("127.0.0.1", 0))
own.listen()
with socket.create_connection(own.getsockname(), timeout=3):
    report["own"] = "connected"
print(json.dumps(report))
"""
PACKAGE = "from fargate_harness.runner.isolation import isolate_network"
#: The module loaded from its file (for a Python that cannot import the project, see the unprivileged test).
BY_FILE = (
    "import importlib.util\n"
    f"spec = importlib.util.spec_from_file_location('isolation', {str(SOURCE)!r})\n"
    "module = importlib.util.module_from_spec(spec); sys.modules['isolation'] = module\n"
    "spec.loader.exec_module(module); isolate_network = module.isolate_network"
)


@pytest.fixture
def host_listener() -> Iterator[socket.socket]:
    """A TCP listener on the host's loopback, made before any child isolates."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        yield listener


def _child(code: str, *args: str, python: str = sys.executable, **kwargs: object) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for name in ("HARNESS_EMBEDDED_ENDPOINT", "HARNESS_FAULTS", isolation.ENV_SWITCH):
        env.pop(name, None)
    done = subprocess.run(
        [python, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env, check=False, **kwargs
    )  # type: ignore[call-overload]
    assert done.returncode == 0, f"the child failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _nothing_arrived(listener: socket.socket) -> bool:
    try:
        connection, _peer = listener.accept()
    except TimeoutError:
        return True
    connection.close()
    return False


def _require_isolated(report: dict[str, object]) -> None:
    if not report["isolated"]:
        pytest.skip(f"this machine cannot make a network namespace: {report['reason']}")


def _own_interfaces() -> list[str]:
    """The interfaces of the test process's own network namespace."""
    return [name for _index, name in socket.if_nameindex()]


def test_an_isolated_child_sees_only_loopback_and_not_the_hosts(host_listener: socket.socket) -> None:
    port = str(host_listener.getsockname()[1])
    report = _child(PROBE.format(load=PACKAGE), port)
    _require_isolated(report)
    assert report["interfaces"] == ["lo"], f"expected only lo in the namespace, got {report['interfaces']}"
    assert report["host"] == "ECONNREFUSED", f"the host's loopback listener on {port}: expected refused, got {report}"
    assert _nothing_arrived(host_listener), "a connection from the isolated child reached the host's listener"
    assert report["own"] == "connected", "the namespace's own loopback must work (the emulator lives there)"
    assert report["line"] == "network isolation: kernel namespace (loopback only)"
    # the same probe without isolation reaches the host's listener: the refusal above is the namespace's doing
    plain = _child(
        PROBE.format(
            load=PACKAGE.replace("import isolate_network", "import IsolationStatus\n")
            + "\nisolate_network = lambda: IsolationStatus(False, 'control')"
        ),
        port,
    )
    # the control child shares the test process's namespace (which the plugin may itself have isolated: then the
    # test process's interfaces are only lo too, and the listener is what tells the namespaces apart)
    assert plain["host"] == "connected" and plain["interfaces"] == _own_interfaces(), plain


def test_an_unprivileged_process_is_isolated_through_a_user_namespace(host_listener: socket.socket) -> None:
    """As an ordinary user (65534) the namespace comes from CLONE_NEWUSER | CLONE_NEWNET; the user keeps its
    own id (mapped to itself). The system Python loads the module from its file (it needs only the standard
    library), since the project's virtualenv may not be readable by that user."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if os.geteuid() != 0 or python is None:
        pytest.skip("needs root (to become an ordinary user) and a system python3")
    code = PROBE.format(load=BY_FILE).replace("print(json.dumps(report))", "")
    code += "import os\nreport['uid'] = os.getuid()\nprint(json.dumps(report))\n"
    port = str(host_listener.getsockname()[1])
    report = _child(code, port, python=python, user=65534, group=65534, cwd="/")
    _require_isolated(report)
    assert report["method"] == "user namespace" and report["uid"] == 65534, report
    assert report["interfaces"] == ["lo"] and report["host"] == "ECONNREFUSED" and report["own"] == "connected", report
    assert _nothing_arrived(host_listener)


def test_a_process_with_threads_falls_back_to_the_guard_and_says_why(host_listener: socket.socket) -> None:
    load = PACKAGE + "\nimport threading, time\nthreading.Thread(target=time.sleep, args=(5,), daemon=True).start()"
    report = _child(PROBE.format(load=load), str(host_listener.getsockname()[1]))
    assert report["isolated"] is False, report
    assert "2 threads already run" in str(report["reason"]), report
    assert str(report["line"]).startswith("network isolation: proxy guard only (2 threads already run"), report
    assert report["interfaces"] == _own_interfaces() and report["host"] == "connected", "nothing was changed"


def test_the_embedded_emulator_works_inside_the_namespace() -> None:
    code = (
        "import json\n"
        "from fargate_harness.runner.isolation import isolate_network, in_isolated_namespace\n"
        "status = isolate_network()\n"
        "from fargate_harness.targets.embedded import EmbeddedTarget\n"
        "target = EmbeddedTarget(warm_up=False)\n"
        "target.start()\n"
        "try:\n"
        "    ssm = target.client('ssm')\n"
        "    ssm.put_parameter(Name='/isolated/probe', Value='inside', Type='String')\n"
        "    value = ssm.get_parameter(Name='/isolated/probe')['Parameter']['Value']\n"
        "    answer = {'isolated': status.isolated, 'reason': status.reason, 'account': target.account_id(),\n"
        "              'value': value, 'endpoint': target.endpoint_url, 'inherited': in_isolated_namespace()}\n"
        "finally:\n"
        "    target.stop()\n"
        "print(json.dumps(answer))\n"
    )
    report = _child(code)
    _require_isolated(report)
    assert report["value"] == "inside" and report["account"] == "123456789012", report
    assert str(report["endpoint"]).startswith("http://127.0.0.1:"), report


def test_isolation_blockers_name_what_needs_the_network() -> None:
    assert isolation_blockers("embedded", environ={}) is None
    assert "--target aws" in str(isolation_blockers("aws", environ={}))
    assert "--target localstack" in str(isolation_blockers("localstack", environ={}))
    assert "HARNESS_EMBEDDED_ENDPOINT" in str(
        isolation_blockers("embedded", environ={"HARNESS_EMBEDDED_ENDPOINT": "x"})
    )
    assert "registry" in str(isolation_blockers("embedded", provider_source="registry", environ={}))
    off = isolation_blockers("embedded", environ={"HARNESS_NETWORK_ISOLATION": "0"})
    assert off == "turned off by HARNESS_NETWORK_ISOLATION=0"


def test_a_skipped_isolation_reports_its_reason_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "_DONE", [])
    first = isolation.isolate_network(skip="--target aws is reached over the network")
    assert first == IsolationStatus(False, "--target aws is reached over the network")
    assert isolation.isolate_network() is first, "a second call returns the first answer and changes nothing"
    assert isolation.isolation_status() is first
    assert first.describe() == "network isolation: proxy guard only (--target aws is reached over the network)"
