"""Work units handed to xdist workers longest first, from pytest-split's stored durations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fargate_harness.plugin import longest_scopes_first, xdist_scope

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
