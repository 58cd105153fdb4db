"""Upgrade checks: apply a configuration as it was (an older git revision, another folder, or an older provider
version), switch to the new one on the same state, and report what the switch would do before doing it.

:func:`check_configuration_upgrade` compares any root configuration (and every local module it uses) between
two git revisions of the repository holding it (the same relative path; extracted with ``git archive``, the
user's repository is only read) or two folders: ``fargate-harness upgrade --dir PATH --from REF_OR_PATH``. The
older :func:`check_upgrade` swaps only the ``modules/`` folder of one of the project's scenarios
(``upgrade --scenario``).

Fails when the plan destroys or replaces a protected resource (an IAM role or log group breaks running
services; a key, secret, repository, bucket or table loses data), when an output other stacks read
changes or disappears, when a role's permissions widen without being accepted, or when the new version
is not idempotent. Permission diffs come from the policy documents AWS holds (inline and managed, at
their default versions) before and after, per role address.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from fargate_harness import configurations
from fargate_harness.aws import iam
from fargate_harness.aws._policy import as_list, statements, wildcard_match
from fargate_harness.errors import ConfigurationError, HarnessError, TeardownError
from fargate_harness.iam.actions import canonical_action
from fargate_harness.lifecycle import Lifecycle
from fargate_harness.model.inventory import address_in
from fargate_harness.runner import hcl
from fargate_harness.runner.run import TerraformRun

#: Resource types whose destruction or replacement fails an upgrade.
PROTECTED_TYPES = frozenset(
    {
        "aws_iam_role",
        "aws_cloudwatch_log_group",
        "aws_kms_key",
        "aws_secretsmanager_secret",
        "aws_ecr_repository",
        "aws_s3_bucket",
        "aws_dynamodb_table",
    }
)
PIN_FILE = "harness_provider_override.tf"


@dataclass(frozen=True)
class Version:
    """One side of an upgrade: a tree holding ``modules/`` (or None: keep what the scenario has) and a
    provider version to pin (or None: whatever the constraints select)."""

    label: str
    tree: Path | None = None
    provider: str | None = None


@dataclass
class RoleDiff:
    """Permissions of one role before and after, as (action, resource) pairs of Allow statements; ``held`` is
    every pair before, which decides whether an addition widens anything."""

    address: str
    names: tuple[str, str]
    added: set[tuple[str, str]] = field(default_factory=set)
    removed: set[tuple[str, str]] = field(default_factory=set)
    held: set[tuple[str, str]] = field(default_factory=set, repr=False)
    #: ARN -> Terraform address of the resources the new side's state holds (``Inventory.addresses``)
    places: dict[str, str] = field(default_factory=dict, repr=False)

    def widened(self, allowed: Iterable[str]) -> list[tuple[str, str]]:
        """Additions that no permission held before covers and no ``--allow-widening`` item accepts."""
        accepted = list(allowed)
        return sorted(
            pair for pair in self.added if not _covered(pair, self.held) and not _accepted(pair, accepted, self.places)
        )

    def line(self, pair: tuple[str, str]) -> str:
        """``kms:Decrypt on aws_kms_key.logs (arn:aws:kms:...)``: the action in AWS's case, the resource by its
        Terraform address when the state made it, with the ARN beside it."""
        action, resource = pair
        address = address_in(resource, self.places)
        return f"{canonical_action(action)} on {f'{address} ({resource})' if address else resource}"


@dataclass
class UpgradeReport:
    """What switching versions does to one scenario."""

    scenario: str
    source: str
    destination: str
    replaced: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    roles: list[RoleDiff] = field(default_factory=list)
    #: provider versions init selected and constraints that differ between the two sides
    providers: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: the ``--allow-widening`` items the widening failures were judged with
    accepted: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing in the report fails the upgrade."""
        return not self.failures

    def accepting(self, allow_widening: Iterable[str]) -> UpgradeReport:
        """The same upgrade judged with other ``--allow-widening`` items: only the widening failures change, so
        one upgrade serves every list of accepted additions."""
        allowed = tuple(allow_widening)
        stale = set(_widening_failures(self.roles, self.accepted))
        kept = [failure for failure in self.failures if failure not in stale]
        return replace(self, failures=kept + _widening_failures(self.roles, allowed), accepted=allowed)

    def text(self) -> str:
        """The readable report."""
        lines = [f"upgrade of {self.scenario}: {self.source} -> {self.destination}"]
        for title, items in (
            ("replaced", self.replaced),
            ("destroyed", self.destroyed),
            ("updated in place", self.updated),
            ("created", self.created),
            ("moved", self.moved),
            ("output changes", self.outputs),
            ("provider changes", self.providers),
        ):
            lines.append(f"{title}: {len(items)}")
            lines += [f"  {item}" for item in items]
        for role in self.roles:
            before, after = role.names
            name = before if before == after else f"{before} -> {after}"
            lines.append(f"permissions of {role.address} ({name}): +{len(role.added)} -{len(role.removed)}")
            lines += [f"  + {role.line(pair)}" for pair in sorted(role.added)]
            lines += [f"  - {role.line(pair)}" for pair in sorted(role.removed)]
        lines.append("verdict: " + ("ok" if self.ok else "FAIL"))
        lines += [f"  {failure}" for failure in self.failures]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "scenario": self.scenario,
            "from": self.source,
            "to": self.destination,
            "ok": self.ok,
            "replaced": self.replaced,
            "destroyed": self.destroyed,
            "updated": self.updated,
            "created": self.created,
            "moved": self.moved,
            "outputs": self.outputs,
            "providers": self.providers,
            "roles": [
                {
                    "address": r.address,
                    "before": r.names[0],
                    "after": r.names[1],
                    "added": [[canonical_action(a), resource] for a, resource in sorted(r.added)],
                    "removed": [[canonical_action(a), resource] for a, resource in sorted(r.removed)],
                    "addresses": {
                        arn: a for _x, arn in sorted(r.added | r.removed) if (a := address_in(arn, r.places))
                    },
                }
                for r in self.roles
            ],
            "failures": self.failures,
        }


def resolve_tree(ref_or_dir: str, repo: Path, workdir: Path) -> Path:
    """A folder holding ``modules/``: the directory given, or ``git archive <ref> modules`` of ``repo``."""
    candidate = Path(ref_or_dir).expanduser()
    if candidate.is_dir():
        if not (candidate / "modules").is_dir():
            raise ConfigurationError(f"{candidate} has no modules/ folder: give the root of a module tree or a git ref")
        return candidate.resolve()
    verify = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref_or_dir}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if verify.returncode != 0:
        raise ConfigurationError(
            f"{ref_or_dir!r} is neither a directory nor a git ref of {repo}: give a tag, branch, commit or a folder "
            "containing modules/"
        )
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", verify.stdout.strip(), "modules"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise ConfigurationError(f"git ref {ref_or_dir!r} has no modules/ folder: {archive.stderr.decode().strip()}")
    destination = Path(tempfile.mkdtemp(prefix="tree-", dir=workdir))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as bundle:
        bundle.extractall(destination, filter="data")
    return destination


def pin_provider(run: TerraformRun, version: str | None) -> None:
    """Pin (or unpin, with None) the AWS provider version through an override file in the copy."""
    pin = run.tfdir / PIN_FILE
    if version is None:
        pin.unlink(missing_ok=True)
        return
    pin.write_text(
        "# Written by fargate-harness upgrade: the provider version of this side of the upgrade.\n"
        'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
        f'      version = "{version}"\n    }}\n  }}\n}}\n'
    )


def _roles(run: TerraformRun) -> dict[str, str]:
    """Role address -> role name, from the state the last apply read."""
    return {r.address: str(r.values["name"]) for r in run.inventory.of_type("aws_iam_role")}


def permissions(run: TerraformRun, role_name: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the role's Allow statements name, inline and managed (default versions)."""
    client = run.target.client("iam")
    documents = list(iam.get_inline_policies(client, role_name).values())
    documents += [
        iam.get_managed_policy_document(client, arn) for arn in iam.get_attached_policy_arns(client, role_name)
    ]
    pairs: set[tuple[str, str]] = set()
    for document in documents:
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement.get("Action")) or [
                f"NotAction:{a}" for a in as_list(statement.get("NotAction"))
            ]
            resources = as_list(statement.get("Resource")) or [
                f"NotResource:{r}" for r in as_list(statement.get("NotResource"))
            ]
            pairs |= {(action.lower(), resource) for action in actions for resource in resources}
    return pairs


def _covered(pair: tuple[str, str], before: Iterable[tuple[str, str]]) -> bool:
    """True when a permission held before already allowed everything ``pair`` allows.

    ``"*"`` before covers any ARN after; an ARN after covers nothing that it did not name before. A pattern's
    own wildcards are compared as text, so a wider pattern after is never covered by a narrower one before.
    """
    action, resource = pair
    return any(
        wildcard_match(old_action, action, case_sensitive=False) and wildcard_match(old_resource, resource)
        for old_action, old_resource in before
    )


def _accepted(pair: tuple[str, str], allowed: Iterable[str], places: Mapping[str, str] | None = None) -> bool:
    """True when ``ACTION`` or ``ACTION=RESOURCE`` (wildcards allowed) in ``allowed`` names the pair; RESOURCE is
    the ARN, or the Terraform address of the resource (``kms:Decrypt=aws_kms_key.logs``) when the state made it."""
    action, resource = pair
    address = address_in(resource, places or {})
    for item in allowed:
        want_action, _, want_resource = item.partition("=")
        if wildcard_match(want_action.lower(), action, case_sensitive=False) and (
            not want_resource or any(wildcard_match(want_resource, r) for r in (resource, address) if r is not None)
        ):
            return True
    return False


def classify_plan(plan: Mapping[str, Any], report: UpgradeReport) -> None:
    """Sort the plan's resource and output changes into the report, and record the failures they cause."""
    _classify_resources(plan, report)
    _classify_outputs(plan, report)


def _classify_resources(plan: Mapping[str, Any], report: UpgradeReport) -> None:
    for change in plan.get("resource_changes", []):
        actions = change.get("change", {}).get("actions", [])
        address, kind = change.get("address", "?"), change.get("type", "?")
        if change.get("previous_address"):
            report.moved.append(f"{change['previous_address']} -> {address}")
        if "delete" in actions and "create" in actions:
            report.replaced.append(f"{address} ({kind})")
            if kind in PROTECTED_TYPES:
                report.failures.append(f"{address}: {kind} would be replaced (destroyed and created again)")
        elif actions == ["delete"]:
            report.destroyed.append(f"{address} ({kind})")
            if kind in PROTECTED_TYPES:
                report.failures.append(f"{address}: {kind} would be destroyed")
        elif actions == ["update"]:
            report.updated.append(f"{address} ({kind})")
        elif actions == ["create"]:
            report.created.append(f"{address} ({kind})")


def _classify_outputs(plan: Mapping[str, Any], report: UpgradeReport) -> None:
    for name, change in (plan.get("output_changes") or {}).items():
        actions = change.get("actions") or []
        if actions in (["no-op"], []):
            continue
        if change.get("before_sensitive") or change.get("after_sensitive"):
            shown = "(sensitive)"
        elif change.get("after_unknown"):
            shown = f"{json.dumps(change.get('before'))} -> (known after apply)"
        else:
            shown = f"{json.dumps(change.get('before'))} -> {json.dumps(change.get('after'))}"
        shown = shown if len(shown) <= 300 else shown[:300] + "..."
        report.outputs.append(f"{name}: {'/'.join(actions)} {shown}")
        if "delete" in actions or "update" in actions:
            report.failures.append(f"output {name} would change ({'/'.join(actions)}); other stacks may read it")


def _widening_failures(roles: Iterable[RoleDiff], allowed: Iterable[str]) -> list[str]:
    """One failure per role whose permissions widen beyond what was held before and what ``allowed`` accepts."""
    accepted = list(allowed)
    failures = []
    for role in roles:
        widened = role.widened(accepted)
        if widened:
            listed = ", ".join(role.line(pair) for pair in widened)
            action, resource = widened[0]
            example = f"{canonical_action(action)}={address_in(resource, role.places) or resource}"
            failures.append(
                f"{role.address}: permissions widen: {listed} (accept with --allow-widening ACTION[=ADDRESS or ARN], "
                f"e.g. --allow-widening {example})"
            )
    return failures


def check_upgrade(
    scenario_path: Path,
    *,
    name: str,
    lifecycle: Lifecycle,
    repo: Path,
    source: str | None = None,
    destination: str | None = None,
    source_provider: str | None = None,
    destination_provider: str | None = None,
    allow_widening: Iterable[str] = (),
) -> UpgradeReport:
    """A reference scenario's upgrade: its own folder, with ``modules/`` from each side.

    ``source`` is a git ref or a folder holding ``modules/`` (None: the scenario's own modules, for a
    provider-only upgrade); ``destination`` likewise, defaulting to ``repo`` (the working tree) when a
    ``source`` tree is given. Each side is laid out as the repository is (``scenarios/<name>`` beside
    ``modules/``), then :func:`upgrade_sides` runs it.
    """
    scratch = Path(tempfile.mkdtemp(prefix="upgrade-trees-"))
    try:
        old_tree = resolve_tree(source, repo, scratch) if source else None
        new_tree = resolve_tree(destination or str(repo), repo, scratch) if (destination or source) else None
        old = Side(
            _label(source, source_provider), _scenario_side(scenario_path, old_tree, scratch / "from"), source_provider
        )
        new = Side(
            _label(destination, destination_provider),
            _scenario_side(scenario_path, new_tree, scratch / "to"),
            destination_provider,
        )
        return upgrade_sides(name, old, new, lifecycle=lifecycle, allow_widening=allow_widening)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _scenario_side(scenario_path: Path, tree: Path | None, side: Path) -> Path:
    """The scenario's folder laid out under ``side`` as in the repository (``scenarios/<name>``, sources
    ``../../modules``), with ``tree``'s ``modules/`` (None: the repository's own)."""
    scenario_path = scenario_path.resolve()
    modules = (tree / "modules") if tree is not None else scenario_path.parent.parent / "modules"
    if not modules.is_dir():
        raise ConfigurationError(f"{scenario_path.name}: no modules/ folder to swap (sources must be ../../modules)")
    root = side / "scenarios" / scenario_path.name
    shutil.copytree(scenario_path, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    shutil.copytree(modules, side / "modules")
    return root


def _label(tree: str | None, provider: str | None) -> str:
    parts = [tree or "working tree"]
    if provider:
        parts.append(f"aws {provider}")
    return ", ".join(parts)


# -- any configuration between two git revisions or two folders ------------------------------------------------

#: Receives one progress line (the CLI prints it on stderr).
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Side:
    """One side of a configuration upgrade: its label, the configuration's folder, the provider version to pin
    (None: what the configuration's constraints and lock file select)."""

    label: str
    root: Path
    provider: str | None = None


def repository_of(path: Path) -> Path | None:
    """The top level of the git repository holding ``path`` (as git itself says), or None."""
    try:
        answer = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    top = answer.stdout.strip()
    return Path(top).resolve() if answer.returncode == 0 and top else None


def _commit(repo: Path, ref: str) -> str:
    verify = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if verify.returncode != 0 or not verify.stdout.strip():
        raise ConfigurationError(
            f"{ref!r} is neither a folder nor a git revision of {repo}: give a tag, branch or commit of that "
            "repository, or a folder holding the configuration as it was"
        )
    return verify.stdout.strip()


def _archive(repo: Path, commit: str, folder: PurePosixPath, tree: Path, ref: str) -> None:
    """Extract ``folder`` (relative to the repository's top level) as it is at ``commit`` into ``tree``."""
    command = ["git", "-C", str(repo), "archive", "--format=tar", commit]
    if str(folder) != ".":
        command += ["--", str(folder)]
    answer = subprocess.run(command, capture_output=True, check=False)
    if answer.returncode != 0:
        why = answer.stderr.decode(errors="replace").strip().splitlines()
        raise ConfigurationError(
            f"{ref}: {folder}/ does not exist at that revision of {repo} ({why[0] if why else 'git archive failed'}); "
            "give a revision that has the configuration at the same path, or a folder with --from"
        )
    try:
        with tarfile.open(fileobj=io.BytesIO(answer.stdout)) as bundle:
            bundle.extractall(tree, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ConfigurationError(f"{ref}: {folder}/ cannot be extracted from {repo}: {exc}") from exc


def extract_revision(repo: Path, ref: str, rel: Path, tree: Path) -> Path:
    """The configuration at ``rel`` in ``repo`` as it is at ``ref``, and every local module it sources at that
    revision, extracted into ``tree`` (their repository-relative layout kept); returns the configuration's folder.

    Only those folders are read from git (``git archive <commit> -- <folder>``, never a checkout: the user's
    repository, index and working tree are untouched). A module source that leaves the repository is refused.
    ``tree`` becomes an (empty) git repository of its own, so the copy's bound is ``tree``.
    """
    commit = _commit(repo, ref)
    tree.mkdir(parents=True, exist_ok=True)
    pending = [PurePosixPath(rel.as_posix())]
    done: set[PurePosixPath] = set()
    while pending:
        folder = pending.pop(0)
        if folder in done:
            continue
        done.add(folder)
        if not (tree / folder).is_dir():
            _archive(repo, commit, folder, tree, ref)
        for call in hcl.read_module(tree / folder).modules:
            if not call.is_local:
                continue
            target = PurePosixPath(os.path.normpath((folder / call.source).as_posix()))
            if target.is_absolute() or target.parts[:1] == ("..",):
                raise ConfigurationError(
                    f"{ref}: {folder / call.file.name}:{call.line or '?'}: module.{call.name}: source = "
                    f"{call.source!r} leaves the repository {repo}; the harness copies local modules only from "
                    "inside it"
                )
            pending.append(target)
    subprocess.run(["git", "init", "-q", str(tree)], capture_output=True, check=False)
    return tree / rel


def resolve_side(
    spec: str | None, path: Path, repo: Path | None, scratch: Path, progress: Progress
) -> tuple[str, Path]:
    """The label and the configuration's folder of one side.

    ``spec`` None: the working tree (``path`` itself). An existing folder: the configuration as it was (a folder
    holding ``.tf`` files), or a checkout of the repository holding it at the same relative path. Anything
    else: a git revision of ``repo``, extracted under ``scratch``.
    """
    if spec is None:
        return "working tree", path
    rel = path.relative_to(repo) if repo is not None else None
    candidate = Path(spec).expanduser()
    if candidate.is_dir():
        folder = candidate.resolve()
        if rel is not None and rel != Path(".") and hcl.config_files(folder / rel):
            return spec, folder / rel
        if hcl.config_files(folder):
            return spec, folder
        inside = f" and no {rel}/ holding them" if rel is not None and rel != Path(".") else ""
        raise ConfigurationError(
            f"{spec}: no .tf or .tf.json files{inside}; give the configuration's folder as it was, a checkout of "
            "its repository, or a git revision"
        )
    if repo is None or rel is None:
        raise ConfigurationError(
            f"{spec!r} is not a folder, and {path} is not in a git repository, so it cannot be a git revision; "
            "give a folder holding the configuration as it was"
        )
    commit = _commit(repo, spec)
    progress(f"upgrade: reading {rel} at {spec} ({commit[:12]}) from {repo}")
    root = extract_revision(repo, spec, rel, Path(tempfile.mkdtemp(prefix="rev-", dir=scratch)))
    return f"{spec} ({commit[:12]})", root


@contextlib.contextmanager
def configuration_sides(
    path: Path,
    *,
    source: str | None,
    destination: str | None = None,
    source_provider: str | None = None,
    destination_provider: str | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[Side, Side]]:
    """Both sides of ``upgrade --dir PATH --from ... --to ...``, resolved (bad input is a ConfigurationError
    before anything starts); revisions are extracted into a scratch folder removed on exit."""

    folder = configurations.from_path(path).path
    if source is None and destination is None and source_provider is None and destination_provider is None:
        raise ConfigurationError(
            f"{path}: upgrade needs --from REF_OR_PATH (a git revision or a folder; and/or --from-provider VERSION)"
        )
    say = progress or (lambda _line: None)
    repo = repository_of(folder)
    scratch = Path(tempfile.mkdtemp(prefix="fargate-harness-upgrade-"))
    try:
        old_label, old_root = resolve_side(source, folder, repo, scratch, say)
        new_label, new_root = resolve_side(destination, folder, repo, scratch, say)
        yield (
            Side(_label(old_label, source_provider), old_root, source_provider),
            Side(_label(new_label, destination_provider), new_root, destination_provider),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def provider_changes(old: TerraformRun, new: TerraformRun) -> list[str]:
    """Provider differences between the sides: the AWS provider version init selected, and every provider's
    version constraints (all modules of each side)."""
    lines = []
    if old.provider_version != new.provider_version:
        lines.append(f"hashicorp/aws: {old.provider_version or 'none'} -> {new.provider_version or 'none'} (selected)")
    before, after = _constraints(old.modules), _constraints(new.modules)
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            lines.append(
                f"{name}: version {before.get(name) or '(not required)'} -> {after.get(name) or '(not required)'}"
            )
    return lines


def _constraints(modules: Iterable[hcl.ModuleConfig]) -> dict[str, str]:
    found: dict[str, set[str]] = {}
    for module in modules:
        for name, spec in module.required_providers.items():
            source = spec.get("source") or f"hashicorp/{name}"
            found.setdefault(source.lower(), set()).add(spec.get("version") or "any")
    return {name: ", ".join(sorted(versions)) for name, versions in found.items()}


def _take_state(old: TerraformRun, new: TerraformRun) -> None:
    """The new side's copy takes over the old side's state: the new run destroys, the old one no longer does."""
    state = old.tfdir / "terraform.tfstate"
    if not state.is_file():
        raise HarnessError(f"{old.name}: no state after the apply in {old.tfdir}; nothing to upgrade")
    shutil.copy2(state, new.tfdir / "terraform.tfstate")
    new.applied = True
    old.applied = False
    old.keep = False  # nothing of the old side is left to keep: a kept upgrade is the new side's folder


def upgrade_sides(
    label: str,
    old_side: Side,
    new_side: Side,
    *,
    lifecycle: Lifecycle,
    allow_widening: Iterable[str] = (),
    var_files: tuple[Path, ...] = (),
    variables: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> UpgradeReport:
    """The one upgrade: start ``old_side`` through ``lifecycle``, switch a copy of ``new_side`` onto its state (same
    prefix, variables, target and account), plan the switch (replacements, outputs), apply it, check idempotency,
    diff every role's permissions, compare providers; then the lifecycle finishes both (the new side destroys;
    folders kept on failure, or with the lifecycle's ``keep``)."""
    say = progress or (lambda _line: None)
    configuration = configurations.Configuration(label, old_side.root)
    old = lifecycle.new_run(configuration, values=dict(variables or {}), var_files=var_files)
    report = UpgradeReport(label, old_side.label, new_side.label)
    new: TerraformRun | None = None
    failed = True
    try:
        say(f"upgrade: {label}: applying {old_side.label}")
        lifecycle.start(old, before_init=lambda run: pin_provider(run, old_side.provider), idempotent=False)
        before = {address: (name, permissions(old, name)) for address, name in _roles(old).items()}
        say(f"upgrade: {label}: switching to {new_side.label} on the same state")
        new = _switch(old, label, new_side, lifecycle, var_files=var_files, variables=variables)
        report.providers = provider_changes(old, new)
        say(f"upgrade: {label}: planning the switch")
        classify_plan(new.plan("upgrade.tfplan"), report)
        new.apply()
        changes = new.plan_changes()
        if changes:
            report.failures.append("the new version is not idempotent: " + "; ".join(changes))
        after = {address: (name, permissions(new, name)) for address, name in _roles(new).items()}
        for address in sorted(set(before) | set(after)):
            old_name, held = before.get(address, ("-", set()))
            new_name, now = after.get(address, ("-", set()))
            report.roles.append(
                RoleDiff(address, (old_name, new_name), now - held, held - now, held, new.inventory.addresses)
            )
        failed = False
        return report.accepting(allow_widening)
    finally:
        problems = [lifecycle.finish(run, failed=failed) for run in (new, old) if run is not None]
        if any(problems) and sys.exc_info()[0] is None:
            raise TeardownError("\n".join(p for p in problems if p))


def _switch(
    old: TerraformRun,
    label: str,
    new_side: Side,
    lifecycle: Lifecycle,
    *,
    var_files: tuple[Path, ...],
    variables: Mapping[str, Any] | None,
) -> TerraformRun:
    """A run of ``new_side`` that takes over ``old``'s state, where ``old`` was placed, with its prefix and values;
    initialised with the new side's provider (upgraded when one is pinned)."""
    declared = configurations.Configuration(label, new_side.root).variables
    new = TerraformRun(
        new_side.root,
        target=old.target,  # the account the old side was applied in (a fresh one for fixed names)
        toolchain=old.toolchain,
        prefix=old.prefix,
        results_dir=old.results_dir,
        variables={
            **configurations.run_variables(configurations.Configuration(label, new_side.root), old.prefix, {}),
            **{k: v for k, v in lifecycle.target.scenario_variables().items() if k in declared},
            **{k: v for k, v in old.variables.items() if k in declared},
        },
        sensitive=old.sensitive,
        tags=old.tags,
        keep=old.keep,
        label=f"{label}.to",
        masker=old.masker,
        var_files=var_files,
        user_variables=dict(variables or {}),
        isolate=False,
        progress=old.progress,
    )
    new.prepare()
    _take_state(old, new)
    pin_provider(new, new_side.provider)
    new.init(upgrade=new_side.provider is not None)
    return new


def check_configuration_upgrade(
    path: Path,
    *,
    lifecycle: Lifecycle,
    source: str | None = None,
    destination: str | None = None,
    source_provider: str | None = None,
    destination_provider: str | None = None,
    allow_widening: Iterable[str] = (),
    var_files: Iterable[Path] = (),
    variables: Mapping[str, Any] | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> UpgradeReport:
    """``fargate-harness upgrade --dir PATH --from REF_OR_PATH [--to REF_OR_PATH]`` as a function (the
    ``upgrade_check`` fixture's path form): both sides resolved, then :func:`upgrade_sides`."""
    with configuration_sides(
        path,
        source=source,
        destination=destination,
        source_provider=source_provider,
        destination_provider=destination_provider,
        progress=progress,
    ) as (old, new):
        return upgrade_sides(
            name or path.expanduser().resolve().name,
            old,
            new,
            lifecycle=lifecycle,
            allow_widening=allow_widening,
            var_files=tuple(Path(f).expanduser().resolve() for f in var_files),
            variables=variables,
            progress=progress,
        )
