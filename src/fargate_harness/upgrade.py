"""Upgrade checks: apply a scenario with an old module (or provider) version, switch to the new one on the
same state, and report what the switch would do before doing it.

Fails when the plan destroys or replaces a protected resource (an IAM role or log group breaks running
services; a key, secret, repository, bucket or table loses data), when an output other stacks read
changes or disappears, when a role's permissions widen without being accepted, or when the new version
is not idempotent. Permission diffs come from the policy documents AWS holds (inline and managed, at
their default versions) before and after, per role address.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fargate_harness.aws import iam
from fargate_harness.aws._policy import as_list, statements, wildcard_match
from fargate_harness.errors import ConfigurationError, HarnessError
from fargate_harness.runner.terraform import ScenarioRun

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

    def widened(self, allowed: Iterable[str]) -> list[tuple[str, str]]:
        """Additions that no permission held before covers and no ``--allow-widening`` item accepts."""
        accepted = list(allowed)
        return sorted(pair for pair in self.added if not _covered(pair, self.held) and not _accepted(pair, accepted))


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
        ):
            lines.append(f"{title}: {len(items)}")
            lines += [f"  {item}" for item in items]
        for role in self.roles:
            before, after = role.names
            name = before if before == after else f"{before} -> {after}"
            lines.append(f"permissions of {role.address} ({name}): +{len(role.added)} -{len(role.removed)}")
            lines += [f"  + {action} on {resource}" for action, resource in sorted(role.added)]
            lines += [f"  - {action} on {resource}" for action, resource in sorted(role.removed)]
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
            "roles": [
                {
                    "address": r.address,
                    "before": r.names[0],
                    "after": r.names[1],
                    "added": sorted(r.added),
                    "removed": sorted(r.removed),
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


def overlay_modules(run: ScenarioRun, tree: Path) -> None:
    """Replace, in the run's copy, each module folder that ``tree/modules`` provides."""
    modules = run.workdir / "config" / "modules"
    if not modules.is_dir():
        raise ConfigurationError(f"{run.name}: its copy has no modules/ folder to swap (sources must be ../../modules)")
    for folder in sorted((tree / "modules").iterdir()):
        if folder.is_dir():
            shutil.rmtree(modules / folder.name, ignore_errors=True)
            shutil.copytree(folder, modules / folder.name)


def pin_provider(run: ScenarioRun, version: str | None) -> None:
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


def _roles(run: ScenarioRun) -> dict[str, str]:
    """Role address -> role name, from the state the last apply read."""
    return {r.address: str(r.values["name"]) for r in run.inventory.of_type("aws_iam_role")}


def permissions(run: ScenarioRun, role_name: str) -> set[tuple[str, str]]:
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


def _accepted(pair: tuple[str, str], allowed: Iterable[str]) -> bool:
    """True when ``ACTION`` or ``ACTION=RESOURCE`` (wildcards allowed) in ``allowed`` names the pair."""
    action, resource = pair
    for item in allowed:
        want_action, _, want_resource = item.partition("=")
        if wildcard_match(want_action.lower(), action, case_sensitive=False) and (
            not want_resource or wildcard_match(want_resource, resource)
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


def upgrade(
    run: ScenarioRun,
    source: Version,
    destination: Version,
    *,
    allow_widening: Iterable[str] = (),
) -> UpgradeReport:
    """Apply ``run`` at ``source``, switch to ``destination`` on the same state, plan, report, apply, check
    idempotency. The caller destroys (``run.down()``); the run's folder keeps the plan for inspection."""
    allowed = list(allow_widening)
    report = UpgradeReport(run.name, source.label, destination.label)
    run.prepare()
    if source.tree is not None:
        overlay_modules(run, source.tree)
    pin_provider(run, source.provider)
    run.init()
    run.apply()
    before = {address: (name, permissions(run, name)) for address, name in _roles(run).items()}

    if destination.tree is not None:
        overlay_modules(run, destination.tree)
    pin_provider(run, destination.provider)
    run.init(upgrade=True)
    classify_plan(run.plan("upgrade.tfplan"), report)
    run.apply()
    changes = run.plan_changes()
    if changes:
        report.failures.append("the new version is not idempotent: " + "; ".join(changes))
    after = {address: (name, permissions(run, name)) for address, name in _roles(run).items()}

    for address in sorted(set(before) | set(after)):
        old_name, old = before.get(address, ("-", set()))
        new_name, new = after.get(address, ("-", set()))
        report.roles.append(RoleDiff(address, (old_name, new_name), new - old, old - new, held=old))
    return report.accepting(allowed)


def _widening_failures(roles: Iterable[RoleDiff], allowed: Iterable[str]) -> list[str]:
    """One failure per role whose permissions widen beyond what was held before and what ``allowed`` accepts."""
    accepted = list(allowed)
    failures = []
    for role in roles:
        widened = role.widened(accepted)
        if widened:
            listed = ", ".join(f"{a} on {r}" for a, r in widened)
            failures.append(
                f"{role.address}: permissions widen: {listed} (accept with --allow-widening ACTION[=RESOURCE])"
            )
    return failures


def run_upgrade(
    run: ScenarioRun, source: Version, destination: Version, allow_widening: Iterable[str] = ()
) -> UpgradeReport:
    """:func:`upgrade`, then destroy whatever happened (state kept when it fails)."""
    failed = True
    try:
        report = upgrade(run, source, destination, allow_widening=allow_widening)
        failed = False
        return report
    except HarnessError:
        raise
    finally:
        run.down(failed=failed)


def check_upgrade(
    scenario_path: Path,
    *,
    name: str,
    target: Any,
    tools: Any,
    results_dir: Path,
    repo: Path,
    source: str | None = None,
    destination: str | None = None,
    source_provider: str | None = None,
    destination_provider: str | None = None,
    allow_widening: Iterable[str] = (),
    worker: str = "upg",
) -> UpgradeReport:
    """Resolve both sides and run the upgrade.

    ``source`` is a git ref or a folder holding ``modules/`` (None: the scenario's own modules, for a
    provider-only upgrade); ``destination`` likewise, defaulting to ``repo`` (the working tree) when a
    ``source`` tree is given.
    """
    from fargate_harness import scenarios  # here: scenarios imports terraform, which this module's users import first

    scenario = scenarios.Scenario(name, scenario_path)
    run = scenarios.new_run(scenario, target=target, tools=tools, results_dir=results_dir, worker=worker)
    scratch = Path(tempfile.mkdtemp(prefix="upgrade-trees-"))
    try:
        old = Version(
            _label(source, source_provider), resolve_tree(source, repo, scratch) if source else None, source_provider
        )
        new = Version(
            _label(destination, destination_provider),
            resolve_tree(destination or str(repo), repo, scratch) if (destination or source) else None,
            destination_provider,
        )
        return run_upgrade(run, old, new, allow_widening)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _label(tree: str | None, provider: str | None) -> str:
    parts = [tree or "working tree"]
    if provider:
        parts.append(f"aws {provider}")
    return ", ".join(parts)
