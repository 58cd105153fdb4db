"""The package's shape: imports only go down the layers (:data:`LAYERS`), no import cycle (top-level and
function-level imports alike), nothing of the tools or of this repository's reference checks inside the wheel, and
the public API importable and typed."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import fargate_harness

PACKAGE = Path(fargate_harness.__file__).resolve().parent

#: The package's layers, lowest first (docs/architecture.md, "Layers"). A module may import its own layer and the
#: layers below it, never one above: top-level, function-level and ``TYPE_CHECKING`` imports alike (a type-only
#: import is still a dependency a reader has to follow, and the next refactor turns it into a real one). Every
#: top-level module and package of ``fargate_harness`` must be placed here; ``__init__`` is the package's facade.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "options", "processes", "supervisor"}),
    frozenset({"model"}),
    frozenset({"iam", "aws"}),
    frozenset({"targets"}),
    frozenset({"runner"}),
    frozenset({"preflight", "checks", "report"}),
    frozenset({"configurations", "lifecycle"}),
    frozenset({"upgrade", "cleanup"}),
    frozenset({"plugin", "pytest_tftest", "cli", "cli_maintenance", "__init__"}),
)

#: Upward imports that are known and owned by work in progress, as (file under the package, imported layer unit).
#: Nothing else goes here, and an entry that no longer matches an import fails the test, so this only shrinks.
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class UpwardImport:
    """One import of a higher layer: where it is, which unit imports which, and their layers (described)."""

    file: str
    line: int
    importer: str
    imported: str
    importer_layer: str
    imported_layer: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.importer} [{self.importer_layer}] imports {self.imported} "
            f"[{self.imported_layer}], a higher layer"
        )


def _layer(layers: tuple[frozenset[str], ...], index: int) -> str:
    return f"layer {index} ({', '.join(sorted(layers[index]))})"


def units(package: Path) -> set[str]:
    """The top-level units of a package folder: its modules and subpackages, and ``__init__`` (the facade)."""
    found = {"__init__"}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).parts
        found.add(parts[0].removesuffix(".py") if len(parts) == 1 else parts[0])
    found.discard("__init__.py")
    return found


def _unit_of(path: Path, package: Path) -> str:
    parts = path.relative_to(package).parts
    return "__init__" if parts == ("__init__.py",) else parts[0].removesuffix(".py")


def imported_units(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, unit) for every import of the package's own units in ``path``: ``import``, ``from ... import``,
    relative imports, at module level, in functions and under ``if TYPE_CHECKING``. ``from pkg import name``
    imports the unit ``name`` when it is one, else the facade ``__init__``."""
    name = package.name
    known = units(package)
    # the package a relative import starts from: pkg.runner for pkg/runner/batch.py and pkg/runner/__init__.py
    own_package = [name, *path.relative_to(package).parts[:-1]]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == name:
                    found.append((node.lineno, parts[1] if len(parts) > 1 else "__init__"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own_package[: len(own_package) - (node.level - 1)]
                parts = [*base, *(node.module.split(".") if node.module else [])]
            else:
                parts = (node.module or "").split(".")
            if not parts or parts[0] != name:
                continue
            if len(parts) > 1:
                found.append((node.lineno, parts[1]))
            else:
                found += [(node.lineno, a.name if a.name in known else "__init__") for a in node.names]
    return found


def upward_imports(package: Path, layers: tuple[frozenset[str], ...] = LAYERS) -> list[UpwardImport]:
    """Every import in ``package`` of a unit in a higher layer than the importing unit's."""
    rank = {unit: index for index, members in enumerate(layers) for unit in members}
    found = []
    for path in sorted(package.rglob("*.py")):
        importer = _unit_of(path, package)
        if importer not in rank:
            continue  # reported by unplaced_units
        for line, imported in imported_units(path, package):
            if imported in rank and rank[imported] > rank[importer]:
                file = str(path.relative_to(package))
                described = _layer(layers, rank[importer]), _layer(layers, rank[imported])
                found.append(UpwardImport(file, line, importer, imported, *described))
    return found


def unplaced_units(package: Path, layers: tuple[frozenset[str], ...] = LAYERS) -> set[str]:
    """Units of ``package`` that no layer names: a new module must be given its place."""
    return units(package) - set().union(*layers)


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


def test_every_unit_of_the_package_has_a_layer() -> None:
    unplaced = unplaced_units(PACKAGE)
    assert not unplaced, f"modules with no layer: {sorted(unplaced)}; place each in LAYERS (tests/unit/test_layout.py)"


def test_imports_only_go_down_the_layers() -> None:
    found = upward_imports(PACKAGE)
    unexpected = [edge for edge in found if (edge.file, edge.imported) not in KNOWN_UPWARD]
    assert not unexpected, "imports of a higher layer:\n" + "\n".join(str(edge) for edge in unexpected)
    stale = KNOWN_UPWARD - {(edge.file, edge.imported) for edge in found}
    assert not stale, f"KNOWN_UPWARD names imports that are gone; remove them: {sorted(stale)}"


def test_the_layer_checker_finds_function_level_type_checking_and_relative_imports(tmp_path: Path) -> None:
    """The checker can fail: a synthetic package with an upward import in a function, one under TYPE_CHECKING, a
    relative one, a facade import and an unplaced module is reported file by file, line by line."""
    package = tmp_path / "shop"
    files = {
        "__init__.py": "from shop.runner import go\n",
        "errors.py": "class Oops(Exception):\n    pass\n",
        "model/__init__.py": "",
        "model/cart.py": (
            "from shop.errors import Oops\n\n\ndef total():\n    from shop.runner import go\n\n    return go\n"
        ),
        "targets/__init__.py": "",
        "targets/where.py": (
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from shop import lifecycle\n"
            "from ..model import cart\nfrom .. import __version__\n"
        ),
        "runner/__init__.py": "import shop.targets.where\n\n\ndef go():\n    pass\n",
        "lifecycle.py": "",
        "extra.py": "import shop.model.cart\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    layers = (
        frozenset({"errors"}),
        frozenset({"model"}),
        frozenset({"targets"}),
        frozenset({"runner"}),
        frozenset({"lifecycle"}),
        frozenset({"__init__"}),
    )
    found = {(edge.file, edge.line, edge.importer, edge.imported) for edge in upward_imports(package, layers)}
    assert found == {
        ("model/cart.py", 5, "model", "runner"),  # in a function
        ("targets/where.py", 4, "targets", "lifecycle"),  # under TYPE_CHECKING
        ("targets/where.py", 6, "targets", "__init__"),  # relative, of the facade
    }, found
    assert unplaced_units(package, layers) == {"extra"}
    edge = next(e for e in upward_imports(package, layers) if e.imported == "runner")
    assert str(edge) == "model/cart.py:5: model [layer 1 (model)] imports runner [layer 3 (runner)], a higher layer"


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
