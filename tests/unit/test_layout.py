"""The package's shape: no import cycle (top-level and function-level imports alike), nothing of the tools or of
this repository's reference checks inside the wheel, and the public API importable and typed."""

from __future__ import annotations

import ast
from pathlib import Path

import fargate_harness

PACKAGE = Path(fargate_harness.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports anywhere (type-checking-only imports excluded: they never
    run). ``from a import b`` counts as importing ``a.b`` when that is a module, else ``a``."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for child in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in known:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    return {name: _imports(path, known) - {name} for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The walk above can fail: a graph with a cycle is reported with its path."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_tools_and_reference_checks_are_not_in_the_package() -> None:
    names = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    assert not {n for n in names if n.rsplit(".", 1)[-1] in {"bench", "soak", "localstack_runtime"}}, names
    assert not (PACKAGE / "reference_checks.py").exists()


def test_the_public_api_resolves() -> None:
    missing = [name for name in fargate_harness.__all__ if not hasattr(fargate_harness, name)]
    assert missing == [], f"names in __all__ that do not resolve: {missing}"
    assert (PACKAGE / "py.typed").is_file()
