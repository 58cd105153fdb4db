"""Work units handed to xdist workers longest first, from pytest-split's stored durations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fargate_harness.plugin import _news, _progress, longest_scopes_first, xdist_scope

IDS = [
    "tests/unit/test_a.py::test_one",
    "tests/unit/test_a.py::test_two[x]",
    "tests/scenarios/test_b.py::TestAlb::test_one",
    "tests/scenarios/test_b.py::TestAlb::test_two",
    "tests/scenarios/test_b.py::TestWeb::test_one",
    "tests/scenarios/test_c.py::test_new",
]


def test_the_scope_is_the_class_of_a_method_else_the_module() -> None:
    assert xdist_scope("tests/unit/test_a.py::test_two[x]") == "tests/unit/test_a.py"
    assert xdist_scope("tests/scenarios/test_b.py::TestAlb::test_one") == "tests/scenarios/test_b.py::TestAlb"
    assert xdist_scope("tests/unit/test_a.py::test_two[a::b]") == "tests/unit/test_a.py::test_two[a"  # as xdist


def test_units_go_longest_first_and_keep_their_tests_in_order() -> None:
    durations = {IDS[0]: 0.1, IDS[1]: 0.2, IDS[2]: 90.0, IDS[3]: 0.5, IDS[4]: 12.0}
    # test_c's unlisted test weighs the median listed one (0.5), more than test_a's two (0.3)
    assert longest_scopes_first(IDS, durations) == [IDS[2], IDS[3], IDS[4], IDS[5], IDS[0], IDS[1]]


def test_an_unlisted_test_counts_as_the_median_listed_one() -> None:
    durations = {IDS[0]: 1.0, IDS[1]: 1.0, IDS[2]: 5.0, IDS[3]: 5.0, IDS[4]: 3.0}
    # test_c's unlisted test weighs 3.0: tied with TestWeb (which keeps its place), before test_a (2.0)
    order = longest_scopes_first(IDS, durations)
    assert order == [IDS[2], IDS[3], IDS[4], IDS[5], IDS[0], IDS[1]], order


def test_without_durations_the_order_is_kept() -> None:
    assert longest_scopes_first(IDS, {}) == IDS


def test_xdist_workers_start_with_the_longest_units(tmp_path: Path) -> None:
    """The workers collect, and xdist hands the units out in the order a worker collected them: each of two
    workers must begin with one of the two units the durations file calls longest, not with the first files."""
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"test_{name}.py").write_text(
            "import os\n\n"
            "def test_it():\n"
            f"    with open('ran.log', 'a') as log:\n"
            f"        log.write(os.environ['PYTEST_XDIST_WORKER'] + ' {name}\\n')\n"
        )
    seconds = {"a": 1.0, "b": 2.0, "c": 40.0, "d": 30.0}
    (tmp_path / ".test_durations").write_text(json.dumps({f"test_{n}.py::test_it": s for n, s in seconds.items()}))
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(tmp_path / "results")}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadscope"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    first: dict[str, str] = {}
    for line in (tmp_path / "ran.log").read_text().splitlines():
        worker, unit = line.split()
        first.setdefault(worker, unit)
    assert sorted(first.values()) == ["c", "d"], f"expected the workers to begin with c and d, got {first}"


def _sandbox_session(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """A pytest session of a user's repository on ``--target aws`` whose test modules would each apply a folder;
    the environment holds no AWS credentials and no way to find any: no shared files, no instance metadata, so
    botocore never opens a connection (the tests of this repository never reach a non-loopback address)."""
    for name in ("prod", "staging"):
        (tmp_path / f"test_{name}.py").write_text(
            "import pytest\n\n"
            f"pytestmark = pytest.mark.terraform('envs/{name}')\n\n"
            "COLLECTED = open('collected.log', 'a').write('collected\\n')\n\n"
            "def test_tasks_start(applied):\n    applied.assert_tasks_start()\n\n"
            "def test_trust(applied):\n    applied.assert_trusts_only_ecs_tasks()\n"
        )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": str(tmp_path),
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "eu-west-1",
        "HARNESS_RESULTS_DIR": str(tmp_path / "results"),
        "HARNESS_ALLOWED_ACCOUNTS": "111111111111",
        **extra_env,
    }
    report = tmp_path / "results" / "nightly" / "report.md"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--target",
            "aws",
            "--tf-report",
            str(report),
            *args,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["alone", "xdist"])
def test_the_sandbox_target_without_credentials_stops_before_collection(tmp_path: Path, workers: list[str]) -> None:
    """No usable credentials on ``--target aws``: exit 2, one message (not a setup error per module, the same
    message three times through chained exceptions), nothing collected, and the report says why."""
    done = _sandbox_session(tmp_path, *workers)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert output.count("found no AWS credentials") == 1, output[-3000:]
    assert not (tmp_path / "collected.log").exists(), "the test modules were collected"
    text = (tmp_path / "results" / "nightly" / "report.md").read_text()
    assert "**Stopped before the tests ran**: --target aws found no AWS credentials" in text, text
    assert "FAIL" not in text, text


def test_the_sandbox_target_on_an_account_off_the_allow_list_stops_before_collection(tmp_path: Path) -> None:
    """Credentials for an account the allow-list does not name: exit 2 with the account and how to allow it. The
    account answers from a moto server on loopback (``AWS_ENDPOINT_URL``), as STS would."""
    from fargate_harness.targets.embedded import EmbeddedTarget

    server = EmbeddedTarget(warm_up=False)
    server.start()
    try:
        assert server.endpoint_url is not None
        done = _sandbox_session(
            tmp_path,
            AWS_ENDPOINT_URL=server.endpoint_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
        )
    finally:
        server.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert output.count("refusing to run: the caller's account is 123456789012") == 1, output[-3000:]
    assert not (tmp_path / "collected.log").exists(), "the test modules were collected"


def test_a_failing_test_s_message_and_fix_reach_the_markdown_report(tmp_path: Path) -> None:
    """Under xdist too: the message a test failed with (not only its id) is in the report, its fix on a line of
    its own."""
    (tmp_path / "test_prod.py").write_text(
        "import pytest\n\n"
        "pytestmark = pytest.mark.scenario('prod')\n\n"
        "def test_tasks_start():\n"
        "    raise AssertionError(\n"
        "        'prod: aws_iam_role.execution: expected ecr:BatchGetImage to be allowed, got Denied implicitly '\n"
        "        '(CannotPullContainerError); fix: add the repository ARN in iam.tf:4'\n"
        "    )\n"
    )
    report = tmp_path / "report.md"
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(tmp_path / "results")}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--tf-report", str(report)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    text = report.read_text()
    assert (
        "  - prod: aws_iam_role.execution: expected ecr:BatchGetImage to be allowed, got Denied implicitly "
        "(CannotPullContainerError)\n    - fix: add the repository ARN in iam.tf:4"
    ) in text, text


class _Verbosity:
    """What ``_progress`` and ``_news`` read of a pytest config."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.workerinput = {"workerid": "gw1"}

    def get_verbosity(self) -> int:
        return self.level


@pytest.mark.parametrize("level", [0, -1])
def test_without_v_no_stage_line_and_no_news(level: int) -> None:
    """pytest's default and ``-q``: quiet (``tests/safety/test_pytest_progress.py`` shows the lines of ``-v`` reach
    the terminal through pytest's capture)."""
    config = _Verbosity(level)
    assert _progress(config) is None and _news(config) is None  # type: ignore[arg-type]


def test_with_v_stage_lines_and_news() -> None:
    config = _Verbosity(1)
    assert _progress(config) is not None and _news(config) is not None  # type: ignore[arg-type]
