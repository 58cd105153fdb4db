"""Checks that hold for any configuration, read from its state, and the assertions users call.

Each check takes an applied run, returns how many subjects it checked and raises AssertionError with a message
of the form ``"<configuration>: <resource>: expected <x>, got <y>"``. A check that finds nothing to check
fails and says what it looked for. Each declares the AWS services it reads (:func:`check`): on a target
without one of them (free LocalStack has no ECS) it is skipped with the missing services.

Checks that belong to particular configurations (our reference scenarios' exactness checks, which read their
``services`` output) are not here: they live beside those configurations and are loaded as a
:class:`Reference`.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from fargate_harness.aws import iam, logs, secrets, ssm
from fargate_harness.aws._policy import decode_document, fail
from fargate_harness.errors import ConfigurationError, HarnessError, ResourceNotFoundError
from fargate_harness.model.applied import AppliedState
from fargate_harness.model.arn import Arn, account_of
from fargate_harness.model.inventory import Inventory, Role, TaskDefinition
from fargate_harness.runner.masking import Masker
from fargate_harness.runner.run import TerraformRun
from fargate_harness.targets.base import Target

if TYPE_CHECKING:
    from fargate_harness.preflight import AwsFacts, PreflightReport
    from fargate_harness.preflight.analysis import Verdict
    from fargate_harness.preflight.places import Places

#: A check: takes an applied run, returns how many subjects it checked, raises AssertionError on a failure.
Check = Callable[["AppliedRun"], int]
_NEEDS = "__harness_needs__"


def check(*services: str) -> Callable[[Check], Check]:
    """Declare the AWS services a check reads (beyond what the configuration's own resources need)."""

    def declare(function: Check) -> Check:
        setattr(function, _NEEDS, frozenset(services))
        return function

    return declare


def needs_of(one: Check) -> frozenset[str]:
    """The services ``one`` reads, as it declared them with :func:`check` (none declared: none)."""
    return frozenset(getattr(one, _NEEDS, frozenset()))


# -- checks that need no contract: every task definition and role of the state ---------------------

ECS_TASKS = "ecs-tasks.amazonaws.com"
#: A sample task ARN's resource part: ECS sends the task's ARN as aws:SourceArn when it assumes a role.
SAMPLE_TASK = "task/fargate-harness/0123456789abcdef0123456789abcdef"


def _task_definitions(run: AppliedRun) -> list[TaskDefinition]:
    found = run.inventory.task_definitions
    if not found:
        raise AssertionError(
            f"{run.name}: no aws_ecs_task_definition in the state of {run.source} "
            f"(looked for task definitions to check; the state holds {run.inventory.summary()})"
        )
    return found


@dataclass
class Reads:
    """What the checks and preflights of one applied state read once and share: facts per (region, account), where
    each ARN comes from, preflight reports per options, the current check's notes. Dropped by every apply."""

    facts: dict[tuple[str, str | None], AwsFacts] = field(default_factory=dict)
    places: Places | None = None
    reports: dict[str, list[PreflightReport]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Set by checks that prepare the state once (our reference scenarios push placeholder images).
    prepared: set[str] = field(default_factory=set)

    def all_reports(self) -> list[PreflightReport]:
        """Every preflight report made on this state, whatever its options."""
        return [report for found in self.reports.values() for report in found]


def reads_of(run: AppliedRun) -> Reads:
    """The run's :class:`Reads` for its applied state."""
    return run.reads


def _facts(run: AppliedRun, region: str | None = None, account: str | None = None) -> AwsFacts:
    """One AwsFacts per applied run, region and account: checks and preflight share what was read.

    A configuration may set its own region (a ``region`` in its provider block or tfvars): its resources
    are read in the region their ARNs name, with the run's credentials and endpoint. A provider that assumes a
    role in an account of its own built its resources there: on emulators they are read in the account their
    ARNs name (:meth:`Target.in_account`); on real AWS the harness reads only its own account.
    """
    from fargate_harness.preflight import AwsFacts

    region = region or run.target.region
    if account and (not run.target.is_emulator or account == run.target.account_id()):
        account = None
    reads = reads_of(run)
    facts = reads.facts.get((region, account))
    if facts is None:
        target = run.target if region == run.target.region else run.target.derived(region=region)
        facts = reads.facts[(region, account)] = AwsFacts(target.in_account(account) if account else target)
    return facts


def places_of(run: AppliedRun) -> Places:
    """Where each ARN of the run's state comes from: its Terraform address and, read from the configuration's
    files, the file:line of its block (computed once per run). Fixes name these instead of the ARNs."""
    from fargate_harness.preflight.places import Places

    reads = reads_of(run)
    if reads.places is None:
        reads.places = Places.from_inventory(run.inventory, run.source)
    return reads.places


def preflight_reports(run: AppliedRun, **options: Any) -> list[PreflightReport]:
    """The preflight of every task definition in the state, each in its own region (computed once per run and
    options); each fix also names the Terraform address to change (:func:`places_of`)."""
    from fargate_harness.preflight import preflight_many

    options = {**run.preflight_options, **options}
    key = repr(sorted(options.items()))
    reads = reads_of(run)
    if key not in reads.reports:
        jobs = []
        for td in _task_definitions(run):
            facts = _facts(run, td.region or None, td.account or None)
            jobs.append((facts.target, td.arn, facts))
        reads.reports[key] = preflight_many(jobs, {**options, "places": places_of(run)})
    return list(reads.reports[key])


def denied_findings(report: PreflightReport) -> list[str]:
    """One line per denied or missing requirement of a report: ``<address>: expected <x>, got <y>; fix: <fix>``.

    The subject is the task definition's Terraform address (its label when the state did not make it); the
    resource is named by its Terraform address and its ARN; the fix names the Terraform address (and file:line)
    to change when the state holds it.
    """
    subject = report.terraform_address or f"task definition {report.task_definition}"
    found = [
        f"{subject}: expected task definition {report.task_definition} to register, got {error}"
        for error in report.registration
    ]
    return found + _findings(subject, [v for v in report.failures if v.severity == "fatal"])


def fatal_findings(subject: str, verdicts: list[Verdict]) -> list[str]:
    """The fatal ones of ``verdicts`` (rows a caller already chose, such as the rows a plan decides), in the words of
    :func:`denied_findings`."""
    return _findings(subject, [v for v in verdicts if not v.allowed and v.severity == "fatal"])


def warning_findings(report: PreflightReport) -> list[str]:
    """The denied rows that do not stop the task (severity ``warning``), in the words of :func:`denied_findings`:
    never part of a failure's text, told apart (a note of the check, a warning of the report)."""
    subject = report.terraform_address or f"task definition {report.task_definition}"
    return _findings(subject, [v for v in report.failures if v.severity == "warning"])


def _findings(subject: str, verdicts: list[Verdict]) -> list[str]:
    found = []
    for verdict in verdicts:
        requirement = verdict.requirement
        resource = requirement.resource
        if verdict.resource_address:
            resource = f"{verdict.resource_address} ({resource})"
        outcome = verdict.error
        expected = (
            f"{resource} to exist for {requirement.source}"
            if requirement.exists is False
            else f"{requirement.action} on {resource} to be allowed for {requirement.source}"
        )
        line = f"{subject}: expected {expected}, got {verdict.reason}" + (f" ({outcome})" if outcome else "")
        found.append(line + (f"; fix: {verdict.best_fix}" if verdict.best_fix else ""))
    return found


def denied_actions(report: PreflightReport) -> str:
    """The denied or missing requirements of a report with their fixes, for a failure message."""
    return "; ".join(
        f"{v.requirement.action} on {v.resource_address or v.requirement.resource}: {v.reason}"
        + (f" (fix: {v.best_fix})" if v.best_fix else "")
        for v in report.failures
    )


def _fail_all(run: AppliedRun, expected: str, problems: list[str]) -> None:
    """Fail with every problem found, one per line (nothing when there is none)."""
    if problems:
        raise AssertionError(f"{run.name}: expected {expected}, got:\n  " + "\n  ".join(problems))


def _fail_each(run: AppliedRun, findings: list[str]) -> None:
    """Fail with every finding, one per line, each a whole message ``<configuration>: <finding>``."""
    if findings:
        raise AssertionError("\n".join(f"{run.name}: {finding}" for finding in findings))


def _note(run: AppliedRun, text: str) -> None:
    notes = reads_of(run).notes
    if text not in notes:  # two containers logging to one group: one note
        notes.append(text)


@check("ecs")
def tasks_start(run: AppliedRun, **options: Any) -> int:
    """Every task definition in the state would start: the preflight finds no denied or missing requirement.

    The message's first line names the task definitions that would not start; then one line per finding,
    ``<configuration>: <task definition's address>: expected <permission>, got <denial> (<ECS error>); fix: <what
    to change, at which Terraform address and file:line>``.
    """
    findings: list[str] = []
    stopped = []
    reports = preflight_reports(run, **options)
    for report in reports:
        if report.will_start:
            continue
        stopped.append(f"task definition {report.task_definition}")
        findings += [line for line in denied_findings(report) if line not in findings]
        if not report.failures and not report.registration:
            subject = report.terraform_address or f"task definition {report.task_definition}"
            findings.append(f"{subject}: expected the task to start, got {report.error}")
    for report in reports:
        for line in warning_findings(report):
            _note(run, f"warning: {line}")
    if stopped:
        count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''} below, one per line"
        header = f"expected every task to start, got {', '.join(stopped)} not starting ({count})"
        _fail_each(run, [header, *findings])
    return len(reports)


def _role_documents(run: AppliedRun, arn: str) -> tuple[str, dict[str, Any]]:
    """(name, trust policy) of a role: from the state when it is there, else read from the target."""
    role = run.inventory.role_by_arn(arn)
    if role is not None and role.trust:
        return role.name, role.trust
    described = _facts(run).role(arn)
    client = _facts(run).client("iam", described.account)
    if client is None:
        raise AssertionError(f"{run.name}: role {arn}: cannot be read from target {run.target.name}")
    found = iam.get_role(client, described.name)
    return described.name, decode_document(found.get("AssumeRolePolicyDocument") or {})


@check("ecs", "iam")
def roles_trust_ecs_tasks(run: AppliedRun) -> int:
    """Every role a task definition names trusts only ``ecs-tasks.amazonaws.com`` with ``sts:AssumeRole``, and
    its conditions (``aws:SourceAccount``, ``aws:SourceArn``...) admit the request ECS sends for the task.

    Amazon ECS Developer Guide, "Task execution IAM role" / "Task IAM role": the trust relationship, and the
    confused-deputy conditions ECS supports.
    """
    from fargate_harness.iam import evaluate

    arns = list(dict.fromkeys([*run.inventory.execution_role_arns, *run.inventory.task_role_arns]))
    if not arns:
        _task_definitions(run)
        raise AssertionError(f"{run.name}: no task definition in the state of {run.source} names a role to check")
    for td in run.inventory.task_definitions:
        for arn in (td.execution_role_arn, td.task_role_arn):
            if not arn:
                continue
            name, trust = _role_documents(run, arn)
            iam.assert_trusts_only_service(
                {"RoleName": name, "AssumeRolePolicyDocument": trust}, ECS_TASKS, scenario=run.name
            )
            account = td.account
            context = {
                "aws:SourceAccount": account,
                "aws:SourceArn": f"arn:{td.partition}:ecs:{td.region}:{account}:{SAMPLE_TASK}",
            }
            decision = evaluate(
                "sts:AssumeRole",
                arn,
                ECS_TASKS,
                resource_policy=trust,
                resource_owner=account_of(arn) or "",
                context=context,
            )
            if not decision.allowed:
                fail(
                    run.name,
                    f"role {name} trust policy",
                    f"to admit ecs-tasks.amazonaws.com for task definition {td.label} (aws:SourceAccount {account})",
                    decision.reason,
                )
    return len(arns)


def _execution_reports(run: AppliedRun) -> list[PreflightReport]:
    reports = [r for r in preflight_reports(run) if r.execution_role]
    if not reports:
        _task_definitions(run)
        raise AssertionError(f"{run.name}: no task definition in the state of {run.source} has an execution role")
    return reports


@check("ecs", "iam")
def execution_roles_least_privilege(run: AppliedRun) -> int:
    """No execution role grants actions or resources its task definitions never need (AWS managed policies
    excepted)."""
    reports = _execution_reports(run)
    found = [
        f"{r.execution_role} (task definition {r.task_definition}): {'; '.join(r.overgrants)}"
        for r in reports
        if r.overgrants
    ]
    _fail_all(run, "no over-grants on execution roles", found)
    return len({r.execution_role for r in reports})


@check("ecs", "iam")
def execution_roles_hold_no_app_permissions(run: AppliedRun) -> int:
    """No execution role holds application permissions (they belong on the task role), and no task role holds
    what the agent needs from the execution role."""
    reports = _execution_reports(run)
    found = [f"task definition {r.task_definition}: {'; '.join(r.misplaced)}" for r in reports if r.misplaced]
    _fail_all(run, "no misplaced permissions", found)
    return len(reports)


@check("ecs", "logs")
def awslogs_groups_exist(run: AppliedRun) -> int:
    """Every container logging with ``awslogs`` names a log group that exists (or that the agent may create
    with ``awslogs-create-group``); each group's retention is reported."""
    checked = 0
    missing = []
    for td in _task_definitions(run):
        account = td.account
        for container in td.containers:
            if container.log_driver != "awslogs":
                continue
            group = container.log_options.get("awslogs-group", "")
            region = container.log_options.get("awslogs-region") or td.region
            checked += 1
            client = _facts(run, region).client("logs", account)
            if client is None:
                _note(run, f"log group {group}: account {account} cannot be read")
                continue
            try:
                described = logs.get_log_group(client, group)
            except ResourceNotFoundError:
                if container.log_options.get("awslogs-create-group") == "true":
                    _note(run, f"log group {group}: created by the agent at first start (awslogs-create-group)")
                    continue
                missing.append(
                    f"task definition {td.label} container {container.name}: log group {group!r} in {region}"
                )
                continue
            retention = described.get("retentionInDays")
            _note(run, f"log group {group}: retention {f'{retention} days' if retention else 'never expires'}")
    _fail_all(run, "every awslogs group to exist", [f"missing {item}" for item in missing])
    if not checked:
        _note(run, "no container logs with awslogs")
    return checked


@check("ecs")
def value_from_resolves(run: AppliedRun) -> int:
    """Every ``valueFrom`` (``secrets`` and ``logConfiguration.secretOptions``) names a secret or parameter that
    exists, in whichever account and region its ARN says."""
    checked = 0
    missing = []
    for td in _task_definitions(run):
        region, account = td.region, td.account
        facts = _facts(run, region)
        for container in td.containers:
            for variable, value_from in (*container.secrets, *container.log_secrets):
                checked += 1
                where = f"task definition {td.label} container {container.name} secret {variable}"
                parsed = Arn.parse(value_from)
                if parsed is not None and parsed.service == "secretsmanager":
                    try:
                        reference = secrets.parse_secret_reference(value_from)
                    except ValueError as exc:
                        missing.append(f"{where}: {exc}")
                        continue
                    if facts.secret(reference.secret_id) is None:
                        missing.append(f"{where}: secret {reference.secret_id} does not exist")
                    continue
                owner = parsed.account if parsed is not None else account
                where_region = parsed.region if parsed is not None else region
                try:
                    name = ssm.parameter_name(value_from)
                except ValueError as exc:
                    missing.append(f"{where}: {exc}")
                    continue
                if facts.parameter(name, owner, where_region) is None:
                    missing.append(f"{where}: parameter {value_from} does not exist")
    _fail_all(run, "every valueFrom to resolve", missing)
    return checked


@dataclass(frozen=True)
class RoleAssertions:
    """Assertions about one role of an applied configuration (``run.role("name")``)."""

    run: AppliedRun
    record: Role

    def assert_trusts_only(self, service: str = ECS_TASKS) -> None:
        """The trust policy lets only ``service`` assume the role, only with ``sts:AssumeRole``."""
        iam.assert_trusts_only_service(
            {"RoleName": self.record.name, "AssumeRolePolicyDocument": self.record.trust},
            service,
            scenario=self.run.name,
        )

    def assert_allows(self, action: str, resource: str) -> None:
        """The role's identity policies (as AWS holds them, managed ones included) allow ``action`` on ``resource``."""
        if not self._decide(action, resource).allowed:
            fail(self.run.name, f"role {self.record.name}", f"to allow {action} on {resource}", "denied")

    def assert_denies(self, action: str, resource: str) -> None:
        """The role's identity policies do not allow ``action`` on ``resource``."""
        decision = self._decide(action, resource)
        if decision.allowed:
            fail(self.run.name, f"role {self.record.name}", f"not to allow {action} on {resource}", decision.reason)

    def _decide(self, action: str, resource: str) -> Any:
        from fargate_harness.iam import evaluate

        policies = _facts(self.run).role(self.record.arn)
        return evaluate(
            action, resource, self.record.arn, identity_policies=policies.policies, boundary=policies.boundary
        )


#: Checks every configuration gets, read from its state (no output contract).
INVENTORY_CHECKS: tuple[Check, ...] = (
    tasks_start,
    roles_trust_ecs_tasks,
    execution_roles_least_privilege,
    execution_roles_hold_no_app_permissions,
    awslogs_groups_exist,
    value_from_resolves,
)


def unavailable(check: Check, target: Target) -> list[str]:
    """The services ``check`` needs that ``target`` lacks (empty: run it)."""
    return target.missing_services(needs_of(check))


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one scenario."""

    name: str
    passed: bool
    subjects: int = 0
    message: str = ""
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL`` or ``n/a`` (nothing of that kind in the scenario)."""
        if not self.passed:
            return "FAIL"
        return "pass" if self.subjects else "n/a"


def run_all(run: AppliedRun, reference: Reference | None = None) -> list[CheckResult]:
    """Run every inventory check, and ``reference``'s checks where they apply to the configuration; collect
    verdicts instead of stopping at the first failure.

    A check needing a service the target lacks is not run: it passes with nothing checked (``n/a``) and
    says why in its message.
    """
    chosen = INVENTORY_CHECKS
    if reference is not None and reference.applies(run):
        reference.prepare(run)
        chosen = chosen + reference.checks
    results = []
    for one in chosen:
        missing = unavailable(one, run.target)
        if missing:
            results.append(
                CheckResult(one.__name__, True, 0, f"skipped: target {run.target.name} lacks {', '.join(missing)}")
            )
            continue
        reads_of(run).notes = []
        try:
            subjects = one(run)
            notes = tuple(run.masker(n) for n in reads_of(run).notes)
            results.append(CheckResult(one.__name__, True, subjects, notes=notes))
        except (AssertionError, HarnessError) as exc:
            notes = tuple(run.masker(n) for n in reads_of(run).notes)  # warnings stay apart from the failure
            results.append(CheckResult(one.__name__, False, 0, run.masker(str(exc)), notes=notes))
        except Exception as exc:  # a defect in a check must not hide the other verdicts or skip the destroy
            message = f"{run.name}: check {one.__name__} crashed: {type(exc).__name__}: {exc}"
            results.append(CheckResult(one.__name__, False, 0, run.masker(message)))
    return results


@dataclass(frozen=True)
class Reference:
    """Checks that belong to one set of configurations, not to every configuration: our reference scenarios'
    exactness checks (``scenarios/reference_checks.py``) are one. A module that defines ``CHECKS`` (the checks),
    ``applies(run)`` (whether they apply to a run) and optionally ``prepare(run)`` (run once before them)."""

    checks: tuple[Check, ...]
    applies: Callable[[AppliedRun], bool]
    prepare: Callable[[AppliedRun], object] = lambda _run: None


def load_module(path: Path) -> ModuleType:
    """The Python file ``path`` as a module (loaded once per process)."""
    name = f"fargate_harness_reference_{path.resolve().stem}_{abs(hash(str(path.resolve()))):x}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_reference(path: Path) -> Reference | None:
    """The :class:`Reference` defined by the Python file ``path`` (None when there is no such file)."""
    if not path.is_file():
        return None
    module = load_module(path)
    try:
        return Reference(tuple(module.CHECKS), module.applies, getattr(module, "prepare", lambda _run: None))
    except AttributeError as exc:
        raise ConfigurationError(f"{path}: a reference-checks file defines CHECKS and applies(run): {exc}") from exc


@dataclass(eq=False)
class AppliedRun:
    """One configuration applied on a target, as a test sees it: a read-only value. ``outputs``, ``state``
    (``terraform show -json``), ``inventory`` (typed records of what was built), where it was deployed (``target``,
    ``changes``) and the assertions below; no ``apply`` or ``destroy``: the lifecycle that applied it destroys it.
    The fixtures ``applied``, ``applied_class`` and ``terraform_apply`` return one; a batch member is one too, over
    its share of the batch's state.

    ``reads`` is what the checks and preflights of this applied state read once and share (a new applied state, a
    new value)."""

    _run: TerraformRun = field(repr=False)
    applied_state: AppliedState
    preflight_options: dict[str, Any] = field(default_factory=dict)
    reads: Reads = field(default_factory=Reads, repr=False)
    #: A batch member's own stage seconds (the batch's, copied); None: the run's.
    member_timings: dict[str, float] | None = field(default=None, repr=False)
    _failed: bool = field(default=False, repr=False)

    @classmethod
    def of(cls, run: TerraformRun) -> AppliedRun:
        """The value of ``run``'s current applied state, with the run's preflight options."""
        return cls(run, run.applied_state(), dict(run.preflight_options))

    def is_of(self, run: TerraformRun) -> bool:
        """Whether this value was applied by ``run`` (a batch member: by its batch's run)."""
        return self._run is run

    @property
    def is_member(self) -> bool:
        """A member of a batch: its state is a share of the batch run's."""
        return self.member_timings is not None

    # what was applied
    @property
    def name(self) -> str:
        """The configuration's label."""
        return self.applied_state.name

    @property
    def source(self) -> Path:
        """The configuration's folder."""
        return self.applied_state.source

    @property
    def prefix(self) -> str:
        """The resource-name prefix the harness gave it."""
        return self.applied_state.prefix

    @property
    def variables(self) -> Mapping[str, Any]:
        """The harness's variable values for it."""
        return self.applied_state.variables

    @property
    def tfdir(self) -> Path:
        """Its copy, in the run's work folder."""
        return self.applied_state.tfdir

    @property
    def state(self) -> Mapping[str, Any]:
        """``terraform show -json`` of its state. Holds secret values in plain text: never print it."""
        return self.applied_state.state

    @property
    def outputs(self) -> Mapping[str, Any]:
        """Its outputs, as plain values."""
        return self.applied_state.outputs

    @property
    def resources(self) -> list[str]:
        """Its managed resources' addresses."""
        return self.applied_state.resources

    @property
    def inventory(self) -> Inventory:
        """What it built: see :mod:`fargate_harness.model.inventory`."""
        return self.applied_state.inventory

    # where and how
    @property
    def target(self) -> Target:
        """Where it was deployed: endpoint, account and region."""
        return self._run.target

    @property
    def changes(self) -> list[str]:
        """What the harness changed about its deployment, one short sentence each."""
        return [] if self.is_member else list(self._run.changes)

    @property
    def masker(self) -> Masker:
        """Masks the run's secret values."""
        return self._run.masker

    @property
    def workdir(self) -> Path:
        """The run's work folder (a batch's for a member)."""
        return self._run.workdir

    @property
    def results_dir(self) -> Path:
        """Where run folders live."""
        return self._run.results_dir

    @property
    def log_path(self) -> Path:
        """The run's command log."""
        return self._run.log_path

    @property
    def keep(self) -> bool:
        """The run keeps what it built (``--keep``)."""
        return self._run.keep

    @property
    def provider_version(self) -> str | None:
        """The AWS provider version init selected."""
        return self._run.provider_version

    @property
    def provider_pid(self) -> int | None:
        """The AWS provider process the run's commands attach to, or None."""
        return self._run.provider_pid

    @property
    def retries(self) -> int:
        """Retries of known-transient errors."""
        return self._run.retries

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage."""
        return self.member_timings if self.member_timings is not None else self._run.timings

    @property
    def total_seconds(self) -> float:
        """Seconds spent in Terraform stages."""
        return sum(self.timings.values())

    @property
    def failed(self) -> bool:
        """Something of it failed (its folder is kept)."""
        return self._failed if self.is_member else self._run.failed

    @failed.setter
    def failed(self, value: bool) -> None:
        if self.is_member:
            self._failed = value
        else:
            self._run.failed = value

    def plan_changes(self) -> list[str]:
        """Resources a fresh plan would change, as ``"<address>: <actions>"`` (empty when idempotent): a plan
        changes nothing. A batch member's is its share of the batch's idempotency plan."""
        if self.is_member:
            raise HarnessError(
                f"{self.name} was applied in a batch ({self.workdir}): its idempotency plan is the batch's, "
                "checked once for all its members"
            )
        return self._run.plan_changes()

    def assert_tasks_start(self, **options: Any) -> int:
        """Every task definition in the state would start (the preflight); returns how many were checked."""
        return tasks_start(self, **options)

    def assert_least_privilege(self) -> int:
        """No execution role grants more than its tasks need, nor application permissions; returns roles checked."""
        return execution_roles_least_privilege(self) + execution_roles_hold_no_app_permissions(self)

    def assert_trusts_only_ecs_tasks(self) -> int:
        """Every role a task definition uses trusts only ``ecs-tasks.amazonaws.com`` (and admits its account)."""
        return roles_trust_ecs_tasks(self)

    def role(self, name_or_arn: str) -> RoleAssertions:
        """Assertions about one IAM role of the state, by name, ARN or Terraform address."""
        return RoleAssertions(self, self.inventory.role(name_or_arn))


def run_of(applied: AppliedRun) -> TerraformRun:
    """The run that applied ``applied`` (a batch's for a member): for the lifecycle and the plugin, which finish it.
    A test never needs it: what it reads is on the value."""
    return applied._run
