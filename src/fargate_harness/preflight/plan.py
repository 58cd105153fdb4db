"""Decide from a plan: the preflight on ``terraform show -json PLANFILE``, before anything is applied.

>>> result = preflight_plan("plan.json")
>>> result.verdict                      # "will start" | "will not start" | "undecided"
>>> result.assert_tasks_start()

Every ``aws_ecs_task_definition`` the plan keeps or creates is decided with the same analysis as after an apply,
on facts from the plan (:class:`~fargate_harness.preflight.plan_facts.PlanFacts`): planned values for what the
plan changes, prior state for what it leaves alone. A value known only after apply makes the requirements that
need it **undecided**, each naming the Terraform address and attribute; a task definition whose
``container_definitions`` is unknown is undecided as a whole (never "no containers"). Decide those by applying on
the emulator: ``fargate-harness preflight --dir FOLDER``. Exit codes (docs/plan.md): 0 every task would start,
1 one would not (or nothing to check), 2 bad input, 4 undecided (``--undecided=pass|fail`` changes that).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError
from fargate_harness.model.inventory import Inventory
from fargate_harness.preflight import decide_task_definition
from fargate_harness.preflight.analysis import PreflightReport, Verdict
from fargate_harness.preflight.collect import PreflightFacts
from fargate_harness.preflight.places import Places
from fargate_harness.preflight.plan_facts import PlanFacts
from fargate_harness.preflight.plan_roles import IDENTITY, RESOURCE, TRUST, Unknown
from fargate_harness.preflight.plan_values import UNKNOWN, PlannedResource, PlanValues, any_unknown
from fargate_harness.preflight.requirements import DEPLOYER, ECS_TASKS, EXECUTION, TASK, arn_parts
from fargate_harness.runner.command import TerraformCli

#: The exit code of an undecided verdict (0 ok, 1 failed, 2 bad input, 3 teardown, 130 interrupted are taken).
EXIT_UNDECIDED = 4
#: The three verdicts of a task definition decided from a plan.
WILL_START, WILL_NOT_START, UNDECIDED = "will start", "will not start", "undecided"
#: The aspect of an unknown that leaves the whole task definition undecided.
TASK_DEFINITION = "task definition"


@dataclass
class PlanReport:
    """One task definition of the plan: the analysis' report (None when its containers are unknown) and what is
    undecided, per requirement row and for the task definition as a whole."""

    address: str
    report: PreflightReport | None
    undecided: list[Unknown] = field(default_factory=list)  # unknowns no single row accounts for
    rows: dict[int, list[Unknown]] = field(default_factory=dict)  # verdict index -> the unknowns it needs
    decide_with: str = ""  # the command line that decides what the plan cannot

    @property
    def decided(self) -> list[Verdict]:
        """The rows the plan decides."""
        verdicts = self.report.verdicts if self.report else []
        return [v for i, v in enumerate(verdicts) if i not in self.rows]

    @property
    def verdict(self) -> str:
        """:data:`WILL_NOT_START` when a decided row or registration fails, else :data:`UNDECIDED` when anything
        it needs is unknown, else :data:`WILL_START`."""
        report = self.report
        if report is not None and (
            report.registration or any(not v.allowed and v.requirement.fatal for v in self.decided)
        ):
            return WILL_NOT_START
        fatal_rows = any(report.verdicts[i].requirement.fatal for i in self.rows) if report else False
        if report is None or self.undecided or fatal_rows:
            return UNDECIDED
        return WILL_START

    @property
    def unknowns(self) -> list[Unknown]:
        """Every unknown this task definition needs, rows' first."""
        found = [u for needed in self.rows.values() for u in needed] + self.undecided
        return list(dict.fromkeys(found))

    @property
    def errors(self) -> list[str]:
        """The errors of the decided rows and of registration (what is certain)."""
        if self.report is None:
            return []
        found = list(self.report.registration) + [
            v.error for v in self.decided if not v.allowed and v.requirement.fatal
        ]
        return list(dict.fromkeys(found))

    def to_dict(self) -> dict[str, Any]:
        """The preflight report's JSON form plus ``decided_from``, ``verdict``, ``undecided`` and per row
        ``undecided`` (docs/json.md)."""
        body: dict[str, Any] = (
            self.report.to_dict() if self.report else {"task_definition": self.address, "requirements": []}
        )
        body["will_start"] = self.verdict == WILL_START
        body["error"] = " | ".join(self.errors)
        body["errors"] = self.errors
        body["terraform_address"] = body.get("terraform_address") or self.address
        body["decided_from"] = "plan"
        body["verdict"] = self.verdict
        body["undecided"] = [_unknown_dict(u) for u in self.unknowns]
        body["decide_with"] = self.decide_with if self.verdict == UNDECIDED else ""
        for index, row in enumerate(body.get("requirements", [])):
            row["undecided"] = [_unknown_dict(u) for u in self.rows.get(index, [])]
        return body

    def table(self) -> str:
        """The analysis' table with undecided rows marked, then the plan's verdict and how to decide the rest."""
        lines = [f"plan: {self.address}"]
        if self.report is not None:
            body = self.report.table().splitlines()
            verdicts = self.report.verdicts
            marked = []
            row = -1
            for line in body:
                shown = line
                if line.startswith(("  allow  ", "  DENY   ", "  info   ")):
                    row += 1
                    if row in self.rows and row < len(verdicts):
                        shown = "  UNDEC" + line[7:]
                if not line.startswith(("verdict:", "  error:")):
                    marked.append(shown)
            lines += marked
        for item in self.unknowns:
            lines.append(f"undecided: {item.describe()}")
        if self.verdict == WILL_NOT_START:
            lines.append(f"verdict: the task would NOT start: {' | '.join(self.errors)}")
        elif self.verdict == UNDECIDED:
            lines.append(f"verdict: undecided from the plan: decide it by applying on the emulator: {self.decide_with}")
        else:
            lines.append("verdict: the task would start")
        return "\n".join(lines)


def _unknown_dict(item: Unknown) -> dict[str, str]:
    return {"where": item.where, "why": item.why, "subject": item.subject, "aspect": item.aspect}


@dataclass
class PlanPreflight:
    """What :func:`preflight_plan` returns: one :class:`PlanReport` per task definition of the plan."""

    plan: str
    reports: list[PlanReport]
    account: str
    region: str
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """:data:`WILL_NOT_START` if any task would not start (or the plan has none), else :data:`UNDECIDED` if any
        is undecided, else :data:`WILL_START`."""
        verdicts = {r.verdict for r in self.reports}
        if not self.reports or WILL_NOT_START in verdicts:
            return WILL_NOT_START
        return UNDECIDED if UNDECIDED in verdicts else WILL_START

    def exit_code(self, undecided: str = "undecided") -> int:
        """0 will start, 1 will not (or nothing to check), :data:`EXIT_UNDECIDED` undecided (``undecided="pass"``
        makes it 0, ``"fail"`` 1)."""
        verdict = self.verdict
        if verdict == UNDECIDED:
            return {"pass": 0, "fail": 1}.get(undecided, EXIT_UNDECIDED)
        return 0 if verdict == WILL_START else 1

    def assert_tasks_start(self) -> None:
        """AssertionError naming each task definition that would not start or is undecided, and why."""
        problems = []
        if not self.reports:
            problems.append(f"{self.plan}: no aws_ecs_task_definition in the plan: nothing to check")
        for report in self.reports:
            if report.verdict == WILL_NOT_START:
                problems.append(f"{report.address}: would not start: {' | '.join(report.errors)}")
            elif report.verdict == UNDECIDED:
                needed = "; ".join(u.describe() for u in report.unknowns) or "its containers"
                problems.append(f"{report.address}: undecided from the plan: {needed}; {report.decide_with}")
        assert not problems, "\n".join(problems)

    def to_dict(self) -> dict[str, Any]:
        """The ``plan`` entry of ``preflight --json`` (docs/json.md)."""
        return {
            "plan": self.plan,
            "decided_from": "plan",
            "account": self.account,
            "region": self.region,
            "verdict": self.verdict,
            "notes": self.notes,
            "task_definitions": [r.to_dict() for r in self.reports],
        }

    def table(self) -> str:
        """Every report's table, then the plan's verdict."""
        parts = [r.table() for r in self.reports] or [f"{self.plan}: no aws_ecs_task_definition in the plan"]
        parts += ["\n".join(f"note: {n}" for n in self.notes)] if self.notes else []
        return "\n\n".join(parts) + f"\n\nplan verdict: {self.verdict}"


def show_plan(plan_file: Path, directory: Path, terraform: Path | str = "terraform") -> dict[str, Any]:
    """``terraform show -json PLANFILE`` in ``directory`` (initialised, where the plan was made), through the
    runner's one command path; ConfigurationError when Terraform refuses it."""
    cli = TerraformCli(directory, Path(terraform), dict(os.environ))
    result = cli.execute_command("show", "-json", "-no-color", str(plan_file.resolve()))
    if result.retcode != 0:
        raise ConfigurationError(
            f"`terraform show -json {plan_file}` in {directory} failed (exit {result.retcode}): "
            f"{result.err.strip()[-400:]}; give --dir the folder the plan was made in (after `terraform init`)"
        )
    try:
        return dict(json.loads(result.out))
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"`terraform show -json {plan_file}` printed no JSON: {exc.msg}") from exc


def plan_places(values: PlanValues, root: Path | None) -> Places | None:
    """Where each ARN of the plan comes from (Terraform addresses; ``file:line`` with ``root``, the configuration's
    folder), read from the planned values as from a state: fixes in the configuration's own terms. None when the
    plan has no planned values. Names only, no verdict depends on it: an unknown container_definitions reads as no
    containers there, which is why the task definitions are read from the plan itself."""
    if not values.planned_values:
        return None
    planned = copy.deepcopy(dict(values.planned_values))
    modules = [planned.get("root_module") or {}]
    while modules:
        module = modules.pop()
        modules += module.get("child_modules") or []
        for resource in module.get("resources") or []:
            if resource.get("type") != "aws_iam_role":
                continue
            for attribute in ("inline_policy", "managed_policy_arns"):
                # computed (not set in the configuration): what AWS had at refresh, not what the plan leaves
                if values.sets(str(resource.get("address")), attribute) is not True:
                    (resource.get("values") or {}).pop(attribute, None)
    try:
        inventory = Inventory.from_state({"values": planned}, source=str(root or "the plan"))
    except (ConfigurationError, AttributeError, TypeError, ValueError):
        return None  # names only: a planned_values of another shape gives fixes with ARNs
    return Places.from_inventory(inventory, root)


def _account_region(values: PlanValues) -> tuple[str | None, str | None]:
    account, region = values.caller_account, values.provider_region
    for resource in values.resources.values():
        arn = resource.values.get("arn")
        if resource.is_unknown("arn") or not isinstance(arn, str) or not arn.startswith("arn:"):
            continue
        try:
            _p, _s, where, owner, _r = arn_parts(arn)
        except ValueError:
            continue
        account = account or (owner if owner.isdigit() else None)
        region = region or where or None
        if account and region:
            break
    return account, region


def _placeholder_role(partition: str, account: str, resource: PlannedResource, attribute: str) -> str:
    return f"arn:{partition}:iam::{account}:role/known-after-apply/{resource.address}.{attribute}"


def task_definition(
    resource: PlannedResource,
    values: PlanValues,
    *,
    partition: str,
    account: str,
    placeholders: dict[str, PlannedResource] | None = None,
) -> tuple[dict[str, Any] | None, list[Unknown]]:
    """The task definition in ``DescribeTaskDefinition``'s shape, and the unknowns it carries (roles known only
    after apply get a placeholder ARN whose policies and trust are undecided); None when its containers are
    unknown."""
    unknowns: list[Unknown] = []
    containers = resource.known("container_definitions")
    if containers is UNKNOWN:
        why = "known after apply: which secrets, parameters, images and logs the containers use cannot be told"
        return None, [Unknown(resource.address, TASK_DEFINITION, resource.where("container_definitions"), why)]
    try:
        parsed = json.loads(containers or "[]")
    except (json.JSONDecodeError, TypeError) as exc:
        raise ConfigurationError(f"{resource.address}: container_definitions is not JSON ({exc})") from exc
    if not isinstance(parsed, list) or not all(isinstance(c, dict) for c in parsed):
        raise ConfigurationError(
            f"{resource.address}: container_definitions is not a JSON list of container objects, as "
            "RegisterTaskDefinition takes it"
        )
    td: dict[str, Any] = {
        "family": resource.values.get("family"),
        "revision": resource.values.get("revision") if not resource.is_unknown("revision") else "(planned)",
        "taskDefinitionArn": "" if resource.is_unknown("arn") else str(resource.values.get("arn") or ""),
        "containerDefinitions": parsed,
        "networkMode": resource.values.get("network_mode"),
        "volumes": [],
    }
    volumes = resource.values.get("volume") or []
    if resource.is_unknown("volume"):  # a file system the plan creates: resolved by its address, else unknown
        volumes = _resolve_volumes(resource, values, placeholders if placeholders is not None else {})
    if volumes is None:  # partial volumes would read a missing transitEncryption as DISABLED: never judged
        why = "known after apply: the EFS file system or access point of a volume cannot be told"
        unknowns.append(Unknown(resource.address, TASK_DEFINITION, resource.where("volume"), why))
    else:
        td["volumes"] = _volumes(volumes)
    compatibilities = resource.known("requires_compatibilities")
    if compatibilities is UNKNOWN:
        unknowns.append(
            Unknown(resource.address, TASK_DEFINITION, resource.where("requires_compatibilities"), "known after apply")
        )
    td["requiresCompatibilities"] = list(compatibilities) if isinstance(compatibilities, list) else []
    for attribute, key in (("execution_role_arn", "executionRoleArn"), ("task_role_arn", "taskRoleArn")):
        value = resource.known(attribute)
        role = values.referenced(resource.address, attribute, "aws_iam_role") if value is UNKNOWN else None
        if role is not None and isinstance(role.known("name"), str) and isinstance(role.known("path"), str | None):
            # set by a direct reference to a role of the plan whose name is known: its ARN is exact
            path = str(role.values.get("path") or "/")
            value = f"arn:{partition}:iam::{account}:role{path}{role.values['name']}"
        if value is UNKNOWN:
            td[key] = _placeholder_role(partition, account, resource, attribute)
            why = "known after apply: the role's policies and trust policy cannot be told"
            unknowns += [Unknown(td[key], aspect, resource.where(attribute), why) for aspect in (IDENTITY, TRUST)]
        elif value:
            td[key] = str(value)
    return td, unknowns


def _resolve_volumes(
    resource: PlannedResource, values: PlanValues, placeholders: dict[str, PlannedResource]
) -> list[dict[str, Any]] | None:
    """The planned volumes when the only value known after apply is an EFS ``file_system_id`` the configuration
    sets by a direct reference to a file system of the plan (a stand-in id names it, in ``placeholders``); else None."""
    planned = copy.deepcopy(list(resource.values.get("volume") or []))
    marks = resource.unknown.get("volume")
    if not isinstance(marks, list) or len(marks) != len(planned):
        return None
    written = values.expressions(resource.address).get("volume") or []
    for volume, mark in zip(planned, marks, strict=True):
        if not any_unknown(mark):
            continue
        configs, config_marks = (
            volume.get("efs_volume_configuration") or [],
            (mark or {}).get("efs_volume_configuration"),
        )
        if len(configs) != 1 or not isinstance(config_marks, list) or len(config_marks) != 1:
            return None
        rest = {k: v for k, v in dict(config_marks[0]).items() if k != "file_system_id"}
        if any_unknown(rest) or any_unknown({k: v for k, v in dict(mark).items() if k != "efs_volume_configuration"}):
            return None
        blocks = [b for b in written if (b.get("name") or {}).get("constant_value") == volume.get("name")]
        references = [
            str(r)
            for b in blocks
            for c in b.get("efs_volume_configuration") or []
            for r in (c.get("file_system_id") or {}).get("references") or []
        ]
        system = values.resolve(resource.address, references, "aws_efs_file_system") if len(blocks) == 1 else None
        if system is None:
            return None
        stand_in = f"{system.address} (id known after apply)"
        placeholders[stand_in] = system
        configs[0]["file_system_id"] = stand_in
    return planned


def _volumes(blocks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    volumes = []
    for block in blocks:
        volume: dict[str, Any] = {"name": block.get("name")}
        for config in block.get("efs_volume_configuration") or []:
            auth = (config.get("authorization_config") or [{}])[0]
            volume["efsVolumeConfiguration"] = {
                "fileSystemId": config.get("file_system_id"),
                "rootDirectory": config.get("root_directory"),
                "transitEncryption": config.get("transit_encryption") or "DISABLED",
                "authorizationConfig": {"accessPointId": auth.get("access_point_id"), "iam": auth.get("iam")},
            }
        volumes.append(volume)
    return volumes


def _needed(verdict: Verdict, unknowns: Sequence[Unknown], principals: Mapping[str, str | None]) -> list[Unknown]:
    """The unknowns ``verdict`` depends on: its resource's, its caller's policies, or the role's trust."""
    requirement = verdict.requirement
    found = []
    for item in unknowns:
        if item.aspect == RESOURCE:
            subject = item.subject
            if requirement.resource == subject or requirement.resource.startswith((f"{subject}:", f"{subject}/")):
                found.append(item)
        elif (item.aspect == IDENTITY and principals.get(requirement.principal) == item.subject) or (
            item.aspect == TRUST and requirement.principal == ECS_TASKS and requirement.resource == item.subject
        ):
            found.append(item)
    return found


def decide_plan_definition(
    resource: PlannedResource,
    facts: PlanFacts,
    *,
    decide_with: str,
    images: str = "require",
    deployer: str | None = None,
    cluster: str | None = None,
    places: Places | None = None,
) -> PlanReport:
    """Decide one planned ``aws_ecs_task_definition`` with ``facts`` (fixes in Terraform terms with ``places``)."""
    facts.begin()
    td, unknowns = task_definition(
        resource, facts.plan, partition=facts.partition, account=facts.account, placeholders=facts.placeholders
    )
    if td is None:
        return PlanReport(resource.address, None, unknowns, decide_with=decide_with)
    report = decide_task_definition(
        td, facts, region=facts.region, images=images, deployer=deployer, cluster=cluster, places=places
    )
    report.terraform_address = resource.address
    unknowns = list(dict.fromkeys([*unknowns, *facts.asked]))
    principals = {EXECUTION: report.execution_role, TASK: report.task_role, DEPLOYER: deployer}
    rows: dict[int, list[Unknown]] = {}
    for index, verdict in enumerate(report.verdicts):
        needed = _needed(verdict, unknowns, principals)
        if needed:
            rows[index] = needed
    placed = {u for needed in rows.values() for u in needed}
    rest = [u for u in unknowns if u not in placed and u.aspect in (TASK_DEFINITION, RESOURCE)]
    return PlanReport(resource.address, report, rest, rows, decide_with)


def preflight_plan(
    path: str | Path,
    *,
    directory: str | Path | None = None,
    terraform: str | Path = "terraform",
    account: str | None = None,
    region: str | None = None,
    images: str = "require",
    deployer: str | None = None,
    cluster: str | None = None,
    live: PreflightFacts | None = None,
) -> PlanPreflight:
    """Decide every task definition of a plan: ``path`` is ``terraform show -json PLANFILE``'s output, or, with
    ``directory`` (the initialised folder the plan was made in), the binary plan file, shown with ``terraform``.

    ``account``/``region`` override what the plan tells (ARNs, the provider's region). ``live`` (facts read on a
    target, ``--read-account``) answers what lies outside the plan; without it that is undecided.
    """
    path = Path(path)
    if directory is not None:
        values = PlanValues.from_document(show_plan(path, Path(directory), terraform), str(path))
    else:
        values = PlanValues.read(path)
    return preflight_values(
        values,
        source=str(path),
        directory=Path(directory) if directory is not None else None,
        account=account,
        region=region,
        images=images,
        deployer=deployer,
        cluster=cluster,
        live=live,
    )


def preflight_values(
    values: PlanValues,
    *,
    source: str,
    directory: Path | None = None,
    account: str | None = None,
    region: str | None = None,
    images: str = "require",
    deployer: str | None = None,
    cluster: str | None = None,
    live: PreflightFacts | None = None,
) -> PlanPreflight:
    """Decide every task definition of ``values`` (a plan's, or a state's: :func:`preflight_state`); ``source``
    names them in the report, ``directory`` is the configuration's folder (fixes name its files and lines)."""
    found_account, found_region = _account_region(values)
    notes = []
    account = account or found_account
    region = region or found_region
    if account is None:
        account = "000000000000"
        notes.append("the plan names no account (no known ARN): give --account-id; decided for account 000000000000")
    if region is None:
        region = "us-east-1"
        notes.append("the plan names no region (no known ARN, no constant provider region): give --aws-region")
    facts = PlanFacts(values, account=account, region=region, live=live)
    decide_with = f"fargate-harness preflight --dir {directory or '<the configuration folder>'}"
    places = plan_places(values, directory)
    reports = [
        decide_plan_definition(
            r, facts, decide_with=decide_with, images=images, deployer=deployer, cluster=cluster, places=places
        )
        for r in values.of_type("aws_ecs_task_definition")
    ]
    return PlanPreflight(source, reports, account, region, notes + facts.unreadable)


def preflight_state(
    state: Mapping[str, Any], *, source: str, directory: Path | None = None, images: str = "require"
) -> PlanPreflight:
    """Decide every task definition of an applied state (``terraform show -json`` of a state, or the state a
    ``terraform test`` apply run printed) offline: the state is a plan that changes nothing, every value known."""
    document = {"format_version": "1.2", "prior_state": {"values": state.get("values") or {}}, "resource_changes": []}
    return preflight_values(
        PlanValues.from_document(document, source), source=source, directory=directory, images=images
    )
