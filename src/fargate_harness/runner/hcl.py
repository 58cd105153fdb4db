"""What a Terraform configuration contains, read with a real HCL parser (``python-hcl2``) and ``json``.

One :class:`ModuleConfig` per module folder: its resource types, ``provider`` blocks, ``module`` calls
(local and remote sources), variables, backend. :func:`walk` follows local module sources from a root.
Nothing here runs Terraform; the runner uses it to decide what to copy, which provider blocks to
redirect and which variables a configuration declares. ``*.tf.json`` files are read as JSON (Terraform's
JSON syntax has the same top-level shape).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from fargate_harness.errors import ConfigurationError

_PARSE_LOCK = threading.Lock()
#: Parsed documents by kind (HCL or JSON) and text: the harness parses the same files again in its copies of a
#: configuration (a run's work folder, a batch member's folder), so the key is the text, not the path.
_PARSED: dict[tuple[bool, str], dict[str, Any]] = {}
_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
#: Sources Terraform treats as local paths (Terraform docs, "Module Sources": a local path begins with ./ or ../).
_LOCAL_PREFIXES = ("./", "../", ".\\", "..\\")
#: Outside a git repository, local module sources may reach this many folders above the root configuration's
#: folder (``envs/prod`` -> ``../../modules/x`` is two), never the filesystem root itself.
MODULE_PARENT_LEVELS = 3


@dataclass(frozen=True)
class ProviderBlock:
    """A ``provider "<name>"`` block: where it is, its alias, and which arguments it sets."""

    name: str
    alias: str | None
    file: Path
    arguments: frozenset[str]

    @property
    def is_proxy(self) -> bool:
        """True for an empty block with only ``alias`` (a child module's legacy proxy configuration)."""
        return self.arguments <= {"alias"}

    @property
    def label(self) -> str:
        """``aws`` or ``aws.<alias>``."""
        return f"{self.name}.{self.alias}" if self.alias else self.name


@dataclass(frozen=True)
class ModuleCall:
    """A ``module "<name>"`` block and its ``source``."""

    name: str
    source: str
    file: Path

    @property
    def is_local(self) -> bool:
        """True when ``source`` is a local path (copied with the configuration)."""
        return self.source.startswith(_LOCAL_PREFIXES)

    @property
    def line(self) -> int | None:
        """The line of the ``module`` block in its file (looked up when asked: only error messages need it)."""
        return block_line(self.file, "module", self.name)

    @property
    def where(self) -> str:
        """``file:line`` of the block (``file`` alone when the line cannot be found)."""
        line = self.line
        return f"{self.file}:{line}" if line else str(self.file)


@dataclass(frozen=True)
class Variable:
    """A ``variable`` block: whether it has a default, its declared type expression, whether it is sensitive."""

    name: str
    has_default: bool
    type: str | None
    sensitive: bool

    @property
    def is_primitive(self) -> bool:
        """True when a ``-var NAME=VALUE`` string is taken literally (string, number, bool, or no type)."""
        return self.type is None or _unwrap(self.type) in ("string", "number", "bool", "any")


@dataclass
class ModuleConfig:
    """Everything the harness reads from one module folder."""

    path: Path
    resources: list[tuple[str, str]] = field(default_factory=list)
    data_sources: list[tuple[str, str]] = field(default_factory=list)
    providers: list[ProviderBlock] = field(default_factory=list)
    modules: list[ModuleCall] = field(default_factory=list)
    variables: dict[str, Variable] = field(default_factory=dict)
    backend: tuple[str, Path] | None = None
    cloud: Path | None = None
    required_providers: dict[str, dict[str, str]] = field(default_factory=dict)
    #: output name -> declared ``sensitive``
    outputs: dict[str, bool] = field(default_factory=dict)
    #: top-level ``import`` blocks (Terraform allows them in the root module only)
    imports: int = 0

    @property
    def resource_types(self) -> set[str]:
        """Types of the managed resources the module declares."""
        return {kind for kind, _name in self.resources}

    def provider_blocks(self, name: str = "aws") -> list[ProviderBlock]:
        """The module's ``provider "<name>"`` blocks; for ``aws``, the blocks of every local name the module
        gives ``hashicorp/aws`` (``amazon = { source = "hashicorp/aws" }`` configures the same provider)."""
        names = self.aws_local_names() if name == "aws" else {name}
        return [p for p in self.providers if p.name in names]

    def aws_local_names(self) -> set[str]:
        """The local names under which this module uses ``hashicorp/aws``: those ``required_providers`` maps to
        that source address (Terraform docs, "Provider Requirements", "Local Names"), and ``aws`` itself
        unless the module maps it to another provider."""
        names = {name for name, spec in self.required_providers.items() if _is_aws_source(spec.get("source"))}
        aws = self.required_providers.get("aws", {}).get("source")
        if aws is None or _is_aws_source(aws):
            names.add("aws")
        return names


#: Source addresses of the AWS provider (the registry host is optional; Terraform compares them case-insensitively).
_AWS_SOURCES = ("hashicorp/aws", "registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws")


def _is_aws_source(source: str | None) -> bool:
    return source is not None and source.strip().lower() in _AWS_SOURCES


def _unwrap(expression: str) -> str:
    """``${list(string)}`` -> ``list(string)``: python-hcl2 wraps expressions in ``${...}``."""
    text = expression.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text.strip()


def _blocks(value: Any) -> Iterator[dict[str, Any]]:
    """python-hcl2 gives repeated blocks as a list of dicts, Terraform JSON as a dict or a list."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield item
    elif isinstance(value, dict):
        yield value


def _labelled(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, body) pairs of blocks with one label (``provider "aws" {}``, ``module "x" {}``)."""
    for block in _blocks(value):
        for label, body in block.items():
            for item in _blocks(body):
                yield label.strip('"'), item


def parse_file(path: Path) -> dict[str, Any]:
    """One ``.tf`` or ``.tf.json`` file as a dict; a syntax error names the file.

    python-hcl2's parser is shared module state and not safe to use from two threads at once (``run --jobs``
    parses configurations in parallel: unguarded, one thread saw another's half-built tree), so parses are
    serialized; results are cached by text, so a copy of a file is not parsed again.
    """
    try:
        text = path.read_text(encoding="utf-8")
        key = (path.name.endswith(".tf.json"), text)
        with _PARSE_LOCK:
            if key not in _PARSED:
                if key[0]:
                    _PARSED[key] = dict(json.loads(text))
                else:
                    _PARSED[key] = dict(hcl2.loads(text, serialization_options=_OPTIONS))
            return copy.deepcopy(_PARSED[key])
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be parsed as Terraform configuration: {exc}") from exc
    except Exception as exc:  # lark's parse errors do not share a base class with ValueError
        raise ConfigurationError(f"{path}: cannot be parsed as HCL: {str(exc).splitlines()[0]}") from exc


def _terraform_ignores(name: str) -> bool:
    """Names Terraform's loader skips in a module folder: hidden files, editor backups (``x~``, ``#x#``)."""
    return name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#"))


def config_files(folder: Path) -> list[Path]:
    """The configuration files Terraform loads from a module folder (``*.tf`` and ``*.tf.json``).

    A folder that does not exist has none; a folder that exists but cannot be listed is a ConfigurationError
    naming it (it is not "a folder without .tf files").
    """
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except PermissionError as exc:
        raise ConfigurationError(
            f"{folder}: permission denied: the folder cannot be listed ({exc.strerror}); fix: make it readable "
            "(and searchable) by the user running fargate-harness"
        ) from exc
    except OSError as exc:
        raise ConfigurationError(f"{folder}: cannot be listed: {exc.strerror or exc}") from exc
    return sorted(
        folder / name
        for name in names
        if name.endswith((".tf", ".tf.json")) and not _terraform_ignores(name) and (folder / name).is_file()
    )


def read_module(folder: Path, files: list[Path] | None = None) -> ModuleConfig:
    """Parse every configuration file of one module folder (or only ``files``, such as override files)."""
    module = ModuleConfig(folder)
    for path in config_files(folder) if files is None else files:
        _merge(module, path, parse_file(path))
    return module


def _merge(module: ModuleConfig, path: Path, document: Mapping[str, Any]) -> None:
    for kind, body in _labelled(document.get("resource")):
        module.resources += [(kind, name) for name in body]
    for kind, body in _labelled(document.get("data")):
        module.data_sources += [(kind, name) for name in body]
    for name, body in _labelled(document.get("provider")):
        alias = body.get("alias")
        module.providers.append(ProviderBlock(name, str(alias) if alias else None, path, frozenset(body)))
    for name, body in _labelled(document.get("module")):
        module.modules.append(ModuleCall(name, str(body.get("source", "")), path))
    for name, body in _labelled(document.get("variable")):
        declared_type = body.get("type")
        module.variables[name] = Variable(
            name,
            "default" in body,
            str(declared_type) if declared_type is not None else None,
            bool(body.get("sensitive", False)),
        )
    _merge_outputs(module, document)
    for terraform in _blocks(document.get("terraform")):
        for backend, _body in _labelled(terraform.get("backend")):
            module.backend = (backend, path)
        if terraform.get("cloud") is not None:
            module.cloud = path
        for required in _blocks(terraform.get("required_providers")):
            for name, spec in required.items():
                if isinstance(spec, dict):
                    module.required_providers[name] = {k: str(v) for k, v in spec.items()}
                else:
                    module.required_providers[name] = {"version": str(spec)}


def _merge_outputs(module: ModuleConfig, document: Mapping[str, Any]) -> None:
    for name, body in _labelled(document.get("output")):
        module.outputs[name] = body.get("sensitive") is True
    module.imports += len(list(_blocks(document.get("import"))))


def repository_root(folder: Path) -> Path | None:
    """The top level of the git repository (or worktree, or submodule) holding ``folder``, or None.

    Found by the ``.git`` entry (a folder, or the file a worktree or submodule has), without running git; a
    ``.git`` at the filesystem root does not count (a container image's, not a project's).
    """
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if candidate.parent != candidate and (candidate / ".git").exists():
            return candidate
    return None


def module_bound(root: Path) -> Path:
    """The folder every local module source of the configuration at ``root`` must stay inside.

    The git repository's top level when ``root`` is in one; otherwise the folder :data:`MODULE_PARENT_LEVELS`
    levels above ``root``, but never above the first folder below the filesystem root (``/srv/infra`` gives
    ``/srv``, so ``source = "../../../etc"`` is refused).
    """
    root = root.resolve()
    top = repository_root(root)
    if top is not None:
        return top
    chain = [root, *root.parents]  # root ... "/"
    level = min(MODULE_PARENT_LEVELS, max(len(chain) - 2, 0))
    return chain[level]


def walk(root: Path, bound: Path | None = None) -> list[ModuleConfig]:
    """The root module and every module it reaches through local ``source`` paths, root first.

    A local source that resolves (symbolic links followed) outside ``bound`` (default :func:`module_bound`) is
    a ConfigurationError naming the module call, its file and line and the resolved folder, raised before any
    module outside is read.
    """
    limit = (bound or module_bound(root)).resolve()
    seen: dict[Path, ModuleConfig] = {}
    pending = [root.resolve()]
    while pending:
        folder = pending.pop(0)
        if folder in seen:
            continue
        if not folder.is_dir():
            raise ConfigurationError(f"module folder {folder} does not exist (a local `source` points at it)")
        module = read_module(folder)
        seen[folder] = module
        for call in module.modules:
            if not call.is_local:
                continue
            target = (folder / call.source).resolve()
            if not target.is_relative_to(limit):
                raise ConfigurationError(
                    f"{call.where}: module.{call.name}: source = {call.source!r} resolves to {target}, outside "
                    f"{limit} ({_bound_kind(root, limit)}); the harness copies local modules only from inside "
                    "it. Fix: move the module into the repository (or vendor a copy) and point `source` there"
                )
            pending.append(target)
    return list(seen.values())


def _bound_kind(root: Path, limit: Path) -> str:
    if repository_root(root) == limit:
        return "the top level of the configuration's git repository"
    return f"no git repository holds the configuration; the limit is {MODULE_PARENT_LEVELS} folders above it"


def block_line(path: Path, kind: str, label: str) -> int | None:
    """The line of the first top-level ``<kind> "<label>"`` block in ``path`` (HCL: from the parser's
    positions; ``.tf.json``: the line of the label's key), or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if path.name.endswith(".tf.json"):
        key = re.search(rf'"{re.escape(kind)}"[\s\S]*?"{re.escape(label)}"\s*:', text)
        return text.count("\n", 0, key.end()) + 1 if key else None
    try:
        with _PARSE_LOCK:
            tree = hcl2.parses_to_tree(text)
    except Exception:  # lark's parse errors share no base class; a file that does not parse has no line
        return None
    for body in tree.children:
        for node in getattr(body, "children", []):
            if getattr(node, "data", None) != "block" or node.meta.empty:
                continue
            labels = [_token_text(child) for child in node.children[:2]]
            if labels == [kind, label]:
                return int(node.meta.line)
    return None


def _token_text(node: Any) -> str:
    """The text of an identifier or a quoted string node of python-hcl2's tree (quotes dropped)."""
    if hasattr(node, "children"):
        return "".join(_token_text(child) for child in node.children).strip('"')
    return str(node)


def prefetch(roots: Iterable[Path]) -> threading.Thread:
    """Parse every module ``roots`` reach in a daemon thread, into the cache, while the caller does something
    else (``run`` starts its emulator meanwhile). Errors are left for the caller's own parse to report."""

    def parse_all() -> None:
        for root in roots:
            with contextlib.suppress(ConfigurationError):
                walk(root)

    thread = threading.Thread(target=parse_all, name="fargate-harness-parse", daemon=True)
    thread.start()
    return thread


def without_blocks(text: str, kind: str, label: str) -> tuple[str, int]:
    """``text`` (one ``.tf`` file) without its top-level ``<kind> "<label>" { ... }`` blocks, and how many were
    removed. Everything else is kept byte for byte: the blocks are cut at the positions python-hcl2's parser
    (lark, with positions) reports, not rewritten."""
    head = re.compile(rf'{re.escape(kind)}\s+"?{re.escape(label)}"?\s*\{{')
    with _PARSE_LOCK:
        tree = hcl2.parses_to_tree(text)
    spans = []
    for body in tree.children:
        for node in getattr(body, "children", []):
            meta = getattr(node, "meta", None)
            if getattr(node, "data", None) != "block" or meta is None or meta.empty:
                continue
            if head.match(text, meta.start_pos):
                spans.append((meta.start_pos, meta.end_pos))
    for start, end in reversed(spans):
        text = text[:start] + text[end:]
    return text, len(spans)


def provider_argument(block: ProviderBlock, name: str) -> str | None:
    """The expression of argument ``name`` of ``block`` as written (``var.region``; a literal's value), or None."""
    for label, body in _labelled(parse_file(block.file).get("provider")):
        if label == block.name and body.get("alias") == block.alias and name in body:
            return _unwrap(str(body[name]))
    return None


def remote_modules(modules: list[ModuleConfig]) -> list[ModuleCall]:
    """Module calls whose source is not a local path (registry, git, http...): ``init`` must download them."""
    return [call for module in modules for call in module.modules if not call.is_local]


def provider_locks(lock_file: Path) -> dict[str, dict[str, Any]]:
    """``.terraform.lock.hcl``'s provider blocks: registry address -> {version, constraints, hashes}."""
    return dict(_labelled(parse_file(lock_file).get("provider")))
