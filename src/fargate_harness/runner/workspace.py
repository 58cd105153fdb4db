"""The work copy of a configuration: what Terraform reads, and nothing else.

:func:`copy_configuration` copies a root configuration and every local module it sources (found by
:func:`fargate_harness.runner.hcl.walk`, which refuses a source outside the configuration's repository before
anything is copied) into a run's work folder, keeping their relative layout. The copy:

- never copies the results folder, wherever it is: the destination and everything above it inside the
  configuration, the folders given in ``exclude`` (the configured results folder; not when it holds the
  configuration itself, as a batch's generated root), and any folder holding a harness run manifest
  (``run.json`` with the harness's keys) are skipped;
- skips folders Terraform does not read from: ``.terraform``, ``.git`` and every other hidden folder,
  ``node_modules``, ``__pycache__``, Python virtual environments (a folder holding ``pyvenv.cfg``), unless a
  local module source points into them; state files (``terraform.tfstate*``, ``.terraform.tfstate.lock.info``)
  are never copied, ``.terraform.lock.hcl`` and other hidden files are;
- follows a symbolic link only to a target inside the configuration's repository (the same bound as module
  sources, :func:`fargate_harness.runner.hcl.module_bound`), copying what it names; a link out of it, a link
  whose target is missing, a FIFO, socket or device, and a file or folder that cannot be read are
  ConfigurationErrors naming the path. A link to a folder being copied (``current -> .``) is skipped;
- leaves out the configuration's own test files (``*.tftest.hcl``, ``*.tftest.json``) unless ``with_tests``:
  ``terraform init`` parses every test file of the folder it initialises (``-test-directory`` does not stop it
  reading those beside the root module), and a run that applies the configuration has no use for them; only
  ``terraform test`` on the emulator (:mod:`fargate_harness.runner.tftest`) copies them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fargate_harness.errors import ConfigurationError
from fargate_harness.runner import hcl

LOG = logging.getLogger("fargate_harness.runner.workspace")

#: A harness run folder's manifest (``TerraformRun`` writes it as soon as a run starts).
MANIFEST_FILE = "run.json"
#: Keys every harness manifest has: a user's own ``run.json`` without them does not hide its folder.
_MANIFEST_KEYS = frozenset({"run_id", "prefix", "tfdir"})
#: Folders no Terraform configuration reads from (besides hidden ones).
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__"})
#: The endings of Terraform's test files (``terraform test``).
TEST_FILE_SUFFIXES = (".tftest.hcl", ".tftest.json")
#: Hidden files that are kept state, never configuration.
_STATE_FILES = (".terraform.tfstate.lock.info",)


def local_module_dirs(root_module: Path) -> list[Path]:
    """The root module and every module it reaches through local ``source = "./..."`` paths."""
    return [module.path for module in hcl.walk(root_module)]


def is_run_folder(folder: Path) -> bool:
    """True when ``folder`` is one of the harness's own run folders (it holds the harness's ``run.json``)."""
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(document, dict) and set(document) >= _MANIFEST_KEYS


def _is_state_file(name: str) -> bool:
    return name.startswith("terraform.tfstate") or name in _STATE_FILES


@dataclass
class _Copy:
    """One copy's rules: the bound links may reach, paths never copied, folders that must be (module folders
    and the folders above them inside a copied tree)."""

    bound: Path
    excluded: frozenset[Path]
    needed: frozenset[Path]
    with_tests: bool = False
    active: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)

    def skip_folder(self, path: Path, resolved: Path) -> bool:
        """True when the folder at ``path`` (resolving to ``resolved``) is not copied."""
        if resolved in self.excluded or any(resolved.is_relative_to(e) for e in self.excluded):
            return True
        if is_run_folder(resolved):
            return True
        if resolved in self.needed:
            return False
        name = path.name
        return name.startswith(".") or name in SKIPPED_FOLDERS or (resolved / "pyvenv.cfg").is_file()

    def tree(self, source: Path, destination: Path) -> None:
        """Copy the folder ``source`` (already resolved) to ``destination``."""
        try:
            entries = sorted(os.scandir(source), key=lambda e: e.name)
        except OSError as exc:
            raise _unreadable(source, exc) from exc
        self.active.append(source)
        try:
            destination.mkdir(parents=True, exist_ok=True)
            for entry in entries:
                self.entry(Path(entry.path), destination / entry.name)
        finally:
            self.active.pop()

    def entry(self, path: Path, destination: Path) -> None:
        try:
            mode = path.lstat().st_mode
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        resolved = path
        if stat.S_ISLNK(mode):
            resolved = self.link_target(path)
            mode = resolved.stat().st_mode
        if stat.S_ISDIR(mode):
            if resolved in self.active or any(a.is_relative_to(resolved) for a in self.active):
                LOG.warning("%s: a link to a folder that is being copied; not copied again", path)
                return
            if self.skip_folder(path, resolved):
                self.skipped.append(path)
                return
            self.tree(resolved, destination)
        elif stat.S_ISREG(mode):
            test_file = path.name.endswith(TEST_FILE_SUFFIXES)
            if not _is_state_file(path.name) and (self.with_tests or not test_file):
                _copy_file(resolved, destination, path)
        else:
            raise ConfigurationError(
                f"{path}: not a regular file or folder (a FIFO, socket or device); Terraform cannot read it and "
                "the harness does not copy it. Fix: move it out of the configuration folder"
            )

    def link_target(self, link: Path) -> Path:
        """Where the symbolic link ``link`` leads, if it exists and stays inside the bound."""
        try:
            written = os.readlink(link)
        except OSError as exc:
            raise _unreadable(link, exc) from exc
        try:
            target = link.resolve(strict=True)
            target.stat()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
            raise ConfigurationError(
                f"{link}: cannot be read: it is a symbolic link to {written}, which does not exist or cannot be "
                f"reached ({getattr(exc, 'strerror', None) or exc}). Fix: restore its target or remove the link"
            ) from exc
        if not target.is_relative_to(self.bound):
            raise ConfigurationError(
                f"{link}: a symbolic link to {written} ({target}), outside {self.bound}; the harness does not "
                "follow links out of the configuration's repository. Fix: replace the link with a copy of what "
                "it names, or move that into the repository"
            )
        return target


def _unreadable(path: Path, exc: OSError) -> ConfigurationError:
    reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
    return ConfigurationError(
        f"{path}: cannot be read ({reason}); the harness copies every file of the configuration folder. Fix: "
        "make it readable by the user running fargate-harness, or move it out of the configuration folder"
    )


def _copy_file(source: Path, destination: Path, named: Path) -> None:
    try:
        shutil.copy2(source, destination)
    except OSError as exc:
        raise _unreadable(named, exc) from exc


def _above_destination(folder: Path, destination: Path) -> Path | None:
    """The entry of ``folder`` on the way to ``destination`` when the destination is inside ``folder`` (a
    results folder inside the configuration): that whole entry is left out of the copy."""
    if destination == folder or not destination.is_relative_to(folder):
        return None
    return folder / destination.relative_to(folder).parts[0]


def copy_configuration(
    root_module: Path, destination: Path, *, exclude: Iterable[Path] = (), with_tests: bool = False
) -> Path:
    """Copy ``root_module`` and its local modules under ``destination`` keeping their relative layout.

    ``exclude``: folders never copied wherever they are (the results folder); ``with_tests``: copy the test files
    too (for ``terraform test``). Returns the root module's path
    inside the copy. Nothing is ever written into the source folders. See the module docstring for what is
    left out and what is refused.
    """
    root = root_module.resolve()
    bound = hcl.module_bound(root)
    folders = [module.path for module in hcl.walk(root, bound)]
    target = destination.resolve()
    # a folder to leave out that holds the configuration itself (a batch's generated root lives in the results
    # folder) leaves out nothing of it: only the destination and what is above it stay excluded
    given = {Path(p).resolve() for p in exclude}
    excluded = {p for p in given if not any(folder.is_relative_to(p) for folder in folders)} | {target}
    for folder in folders:
        entry = _above_destination(folder, target)
        if entry is not None:
            excluded.add(entry)
    if any(folder in excluded or any(folder.is_relative_to(e) for e in excluded) for folder in folders):
        raise ConfigurationError(
            f"{root}: a module folder of the configuration is inside the results folder or the work copy "
            f"({', '.join(str(e) for e in sorted(excluded))}); fix: give a results folder outside the configuration"
        )
    needed = {parent for folder in folders for parent in (folder, *folder.parents)}
    rules = _Copy(bound, frozenset(excluded), frozenset(needed), with_tests)
    common = Path(os.path.commonpath([str(f) for f in folders]))
    for folder in sorted(folders, key=lambda f: len(f.parts)):
        if any(parent in folders for parent in folder.parents):
            continue  # copied with an enclosing module folder (the walk never skips a needed folder)
        rules.tree(folder, destination / folder.relative_to(common))
    if rules.skipped:
        LOG.debug("not copied: %s", ", ".join(str(p) for p in rules.skipped))
    return destination / root.relative_to(common)
