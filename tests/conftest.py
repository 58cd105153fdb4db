"""What each test costs in CPU: the seconds the test process and the children it waited for (Terraform, the CLI,
pytest sessions, an emulator a test stopped) spent in user and system mode from the start of the test's setup to
the end of its teardown, as the ``cpu_seconds`` property of its JUnit testcase. A process runs one test at a time
(an xdist worker too), so the figures of a run add up to the CPU of its tests: docs/benchmarks.md sums them per
folder. Children still running when a test ends (a session-wide emulator) count in the test that waits for them.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

_STARTED = pytest.StashKey[float]()


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_STARTED] = _cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    if call.when == "teardown" and _STARTED in item.stash:
        item.user_properties.append(("cpu_seconds", f"{_cpu_seconds() - item.stash[_STARTED]:.2f}"))
    yield
