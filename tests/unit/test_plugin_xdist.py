"""Which tests share an applied configuration, so that pytest-xdist runs them on one worker
(:func:`fargate_harness.plugin.shared_groups`, no Terraform). The end-to-end check, ``pytest -n 2`` over three
files of one configuration, is ``tests/scenarios/test_layouts.py``."""

from __future__ import annotations

from fargate_harness.plugin import shared_groups

INFRA = "terraform:/repo/infra"


def test_one_configuration_named_by_three_files_is_one_group() -> None:
    groups = shared_groups(
        [
            ("tests/test_a.py::test_1", INFRA, ["applied", "scenario_factory"]),
            ("tests/test_a.py::test_2", INFRA, ["applied", "scenario_factory"]),
            ("tests/test_b.py::test_1", INFRA, ["applied", "scenario_factory"]),
            ("tests/test_c.py::TestX::test_1", INFRA, ["applied_class", "class_scenario_factory"]),
        ]
    )
    assert len(groups) == 4 and len(set(groups.values())) == 1, groups
    assert next(iter(groups.values())).startswith("fh-infra-"), groups


def test_a_module_using_a_module_scoped_fixture_stays_together() -> None:
    """Without a marker, ``terraform_apply``/``scenario_batch``/``upgrade_check`` share per module."""
    groups = shared_groups(
        [
            ("tests/test_a.py::test_1", None, ["terraform_apply", "scenario_factory"]),
            ("tests/test_a.py::test_2", None, ["upgrade_check"]),
            ("tests/test_b.py::test_1", None, ["terraform_apply", "scenario_factory"]),
            ("tests/test_b.py::test_plain", None, ["tmp_path"]),
        ]
    )
    assert groups["tests/test_a.py::test_1"] == groups["tests/test_a.py::test_2"]
    assert groups["tests/test_a.py::test_1"] != groups["tests/test_b.py::test_1"], "two modules apply separately"
    assert "tests/test_b.py::test_plain" not in groups, "a test sharing nothing is left to xdist"


def test_sharing_is_transitive() -> None:
    """Two classes naming two configurations under one module-scoped factory: all one group."""
    groups = shared_groups(
        [
            ("t.py::TestA::test_1", "scenario:basic", ["scenario_factory"]),
            ("t.py::TestB::test_1", "scenario:secrets", ["scenario_factory"]),
            ("u.py::test_1", "scenario:secrets", []),
        ]
    )
    assert len(set(groups.values())) == 1, groups


def test_class_scoped_factories_group_per_class() -> None:
    groups = shared_groups(
        [
            ("t.py::TestA::test_1", None, ["class_scenario_factory"]),
            ("t.py::TestA::test_2", None, ["class_scenario_factory"]),
            ("t.py::TestB::test_1", None, ["class_scenario_factory"]),
        ]
    )
    assert groups["t.py::TestA::test_1"] == groups["t.py::TestA::test_2"] != groups["t.py::TestB::test_1"]


def test_group_names_do_not_depend_on_the_order() -> None:
    entries = [("a.py::t", INFRA, []), ("b.py::t", INFRA, ["scenario_factory"]), ("c.py::t", "scenario:x", [])]
    assert shared_groups(entries) == shared_groups(list(reversed(entries)))
