"""Unit tests for harness.targets.moto_server: the two caches answer exactly what moto's functions answer."""

from __future__ import annotations

import subprocess
import sys

from harness.targets import moto_server


def test_module_list_is_read_once_and_equals_moto_s() -> None:
    reads = []

    def listing() -> list[str]:
        reads.append(1)
        return ["ecs", "iam"]

    cached = moto_server._cache_module_list(listing)
    assert cached() == ("ecs", "iam") and cached() == ("ecs", "iam")
    assert len(reads) == 1


def test_method_names_are_remembered_per_class_and_copied() -> None:
    class One:
        def describe(self) -> None: ...

    class Two:
        def create(self) -> None: ...

    calls = []

    def names(clazz: object) -> list[str]:
        calls.append(clazz)
        return [n for n in vars(clazz) if not n.startswith("_")]

    cached = moto_server._cache_per_class(names)
    first = cached(One)
    first.append("mutated")
    assert cached(One) == ["describe"] and cached(Two) == ["create"]
    assert calls == [One, Two]


def test_this_moto_has_both_functions_and_the_caches_agree() -> None:
    """Run in a child process (the caches replace moto's functions for good): with the installed moto both
    functions exist, so a rename in a later moto fails here instead of silently losing the speed-up."""
    script = (
        "from moto import backends\n"
        "from moto.core import responses\n"
        "from moto.iam.responses import IamResponse\n"
        "before = (list(backends.list_of_moto_modules()), responses.method_names_from_class(IamResponse))\n"
        "from harness.targets import moto_server\n"
        "print(moto_server.install_caches())\n"
        "after = (list(backends.list_of_moto_modules()), responses.method_names_from_class(IamResponse))\n"
        "assert before == after, 'the caches answer differently'\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "moto.backends.list_of_moto_modules" in out
    assert "moto.core.responses.method_names_from_class" in out
