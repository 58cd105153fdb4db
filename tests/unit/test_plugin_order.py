"""Work units handed to xdist workers longest first, from pytest-split's stored durations."""

from __future__ import annotations

from harness.plugin import longest_scopes_first, xdist_scope

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
