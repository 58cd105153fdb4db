"""Predict whether an ECS task will start: every call ECS makes to start it, decided offline as AWS decides.

>>> report = preflight(target, "my-service:3")
>>> report.will_start, report.error
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from fargate_harness.aws import ecr, ecs
from fargate_harness.errors import ConfigurationError, ResourceNotFoundError
from fargate_harness.preflight.analysis import (
    ECS_ERRORS,
    PreflightReport,
    Verdict,
    decide,
    overgrants,
    review_task_role,
)
from fargate_harness.preflight.collect import AwsFacts, PreflightFacts, RolePolicies
from fargate_harness.preflight.places import Places, principals
from fargate_harness.preflight.requirements import (
    EXECUTION,
    Requirement,
    checked_rows,
    derive,
    derive_roles,
    task_partition,
)
from fargate_harness.preflight.shared_roles import judge_shared_roles
from fargate_harness.preflight.sidecars import find_sidecars
from fargate_harness.targets.base import Target

__all__ = [
    "ECS_ERRORS",
    "AwsFacts",
    "Places",
    "PreflightFacts",
    "PreflightReport",
    "Requirement",
    "Verdict",
    "decide_task_definition",
    "derive",
    "derive_roles",
    "preflight",
    "preflight_many",
    "registration_errors",
]


#: RegisterTaskDefinition's answers, as AWS words them (sources in the README, "Startup preflight").
SECRETS_NEED_EXECUTION_ROLE = (
    "ClientException: When you are specifying container secrets, you must also specify a value for 'executionRoleArn'."
)
FARGATE_ECR_NEEDS_EXECUTION_ROLE = (
    "ClientException: Fargate requires task definition to have execution role ARN to support ECR images."
)
FARGATE_AWSLOGS_NEEDS_EXECUTION_ROLE = (
    "ClientException: Fargate requires task definition to have execution role ARN to support log driver awslogs."
)
CREDENTIALS_NEED_EXECUTION_ROLE = (
    "ClientException: repositoryCredentials need the task execution role to read the registry credentials "
    "(Amazon ECS Developer Guide, 'Using non-AWS container images in Amazon ECS'): set executionRoleArn"
)
EFS_IAM_NEEDS_TRANSIT_ENCRYPTION = (
    "ClientException: volume {volume}: EFS IAM authorization needs transit encryption (ECS API reference, "
    "EFSAuthorizationConfig.iam: 'If it is turned on, transit encryption must be turned on in the "
    "EFSVolumeConfiguration'): set transitEncryption to ENABLED"
)
FIRELENS_S3_ON_FARGATE = (
    "{answer} (container {container}: firelensConfiguration config-file-type s3; Amazon ECS Developer Guide, "
    "'Send Amazon ECS logs to an AWS service or AWS Partner': for tasks on Fargate the only supported "
    "config-file-type value is file): use config-file-type file"
)


def _is_fargate(td: Mapping[str, Any]) -> bool:
    return "FARGATE" in (td.get("requiresCompatibilities") or []) or "FARGATE" in (td.get("compatibilities") or [])


def registration_errors(td: Mapping[str, Any]) -> list[str]:
    """What RegisterTaskDefinition would refuse before any task exists (moto registers all of it)."""
    found: list[str] = []
    containers = list(td.get("containerDefinitions") or [])
    fargate = _is_fargate(td)
    if not td.get("executionRoleArn"):
        if any(c.get("secrets") or (c.get("logConfiguration") or {}).get("secretOptions") for c in containers):
            found.append(SECRETS_NEED_EXECUTION_ROLE)
        if any((c.get("repositoryCredentials") or {}).get("credentialsParameter") for c in containers):
            found.append(CREDENTIALS_NEED_EXECUTION_ROLE)
        if fargate and any(ecr.parse_image_uri(str(c.get("image", ""))) for c in containers):
            found.append(FARGATE_ECR_NEEDS_EXECUTION_ROLE)
        if fargate and any((c.get("logConfiguration") or {}).get("logDriver") == "awslogs" for c in containers):
            found.append(FARGATE_AWSLOGS_NEEDS_EXECUTION_ROLE)
    for volume in td.get("volumes") or []:
        config = volume.get("efsVolumeConfiguration") or {}
        iam = str((config.get("authorizationConfig") or {}).get("iam", "DISABLED")).upper()
        if iam == "ENABLED" and str(config.get("transitEncryption", "DISABLED")).upper() != "ENABLED":
            found.append(EFS_IAM_NEEDS_TRANSIT_ENCRYPTION.format(volume=volume.get("name")))
    for container in containers:
        options = (container.get("firelensConfiguration") or {}).get("options") or {}
        if fargate and str(options.get("config-file-type", "")).lower() == "s3":
            value = str(options.get("config-file-value", ""))
            answer = (
                "ClientException: Invalid arn syntax."
                if not value.startswith("arn:")
                else "RunTask: The specified platform does not satisfy the task definition's required capabilities"
            )
            found.append(FIRELENS_S3_ON_FARGATE.format(answer=answer, container=container.get("name")))
    return found


def _role_or_none(facts: PreflightFacts, arn: str | None, report: PreflightReport) -> RolePolicies | None:
    if not arn:
        return None
    try:
        return facts.role(arn)
    except ResourceNotFoundError as exc:
        report.notes.append(f"role {arn} could not be read: {exc}")
        return None


def preflight(
    target: Target,
    task_definition: str,
    facts: AwsFacts | None = None,
    *,
    images: str = "require",
    deployer: str | None = None,
    cluster: str | None = None,
    places: Places | None = None,
) -> PreflightReport:
    """Read the task definition and everything it references on ``target``, and decide every requirement.

    Pass one ``facts`` to several calls to reuse what was read (roles, managed and resource policies).
    ``images="assume-pushed"`` skips the image-exists check (pipelines that push after the infrastructure);
    ``deployer`` (an IAM principal ARN) adds ``ecs:RegisterTaskDefinition`` and ``iam:PassRole`` on both
    roles; ``cluster`` names the cluster the task runs in (the trust policy's ``aws:SourceArn``). ``places``
    (the applied configuration's :class:`Places`) words each fix in Terraform addresses as well.
    """
    facts = facts or AwsFacts(target)
    try:
        td = ecs.get_task_definition(target.client("ecs"), task_definition)
    except ResourceNotFoundError as exc:
        raise ConfigurationError(
            f"task definition {task_definition!r} not found on target {target.name}: give FAMILY, FAMILY:REVISION "
            "or its ARN"
        ) from exc
    report = decide_task_definition(
        td, facts, region=target.region, images=images, deployer=deployer, cluster=cluster, places=places
    )
    if report.execution_role is not None and target.name == "aws":
        role = _role_or_none(facts, report.execution_role, report)
        if role is not None:
            report.disagreements = simulate_identity(target, role.arn, report.verdicts)
    return report


def decide_task_definition(
    td: Mapping[str, Any],
    facts: PreflightFacts,
    *,
    region: str,
    images: str = "require",
    deployer: str | None = None,
    cluster: str | None = None,
    places: Places | None = None,
) -> PreflightReport:
    """Decide one task definition (``DescribeTaskDefinition``'s shape) with ``facts``: live reads, a plan's
    values, or both. :func:`preflight` reads the task definition from a target and calls this."""
    account = facts.primary_account()
    facts.read_parameters(td, account, region, task_partition(td))
    rules = places.pull_through_rules if places is not None else []  # the configuration's, which emulators lack
    requirements = derive(td, facts, principal_account=account, region=region, images=images, pull_through_rules=rules)
    requirements += derive_roles(td, principal_account=account, region=region, cluster=cluster, deployer=deployer)
    requirements += checked_rows(td, facts, principal_account=account, region=region)
    report = PreflightReport(ecs.task_definition_label(td), td.get("executionRoleArn"), td.get("taskRoleArn"))
    report.deployer = deployer
    report.registration_errors = registration_errors(td)
    report.registration_error = " | ".join(report.registration_errors)
    role = _role_or_none(facts, report.execution_role, report)
    task_role = _role_or_none(facts, report.task_role, report)
    deployer_policies = facts.principal(deployer) if deployer else None
    report.verdicts = decide(
        requirements, role, facts, region, task_role=task_role, deployer=deployer_policies, cluster=cluster
    )
    if role is not None:
        report.overgrants, report.misplaced = overgrants(role, requirements)
    sidecars = find_sidecars(td)
    if task_role is not None and task_role.arn != (role.arn if role else None):
        misplaced, expected = review_task_role(task_role, requirements, sidecars)
        report.misplaced += misplaced
        report.notes += expected
    report.notes += [sidecar.note for sidecar in sidecars if sidecar.note]
    if images == "assume-pushed":
        report.notes.append("images assumed pushed: the tag/digest of each ECR image was not looked up")
    report.notes += [note for note in facts.unreadable if note not in report.notes]
    # An emulator gap is shown only where it concerns this task: a resource it names, or a missing repository (where
    # a pull through cache rule could have decided). Never a note, never on every task.
    missing_repository = any(
        (v.requirement.kind == "ecr-pull" and v.requirement.exists is False) or v.requirement.kind == "ecr-pull-through"
        for v in report.verdicts
    )
    resources = {v.requirement.resource for v in report.verdicts}
    report.emulator_gaps += facts.gaps_for(resources, pull_through=missing_repository)
    if places is not None:
        arn = str(td.get("taskDefinitionArn") or "")
        report.verdicts = places.describe(
            report.verdicts, principals(report.execution_role, report.task_role, deployer), arn
        )
        definition = places.by_arn.get(arn)
        if definition is not None:
            report.terraform_address, report.terraform_location = definition.address, definition.location
    return report


#: Task definitions preflighted at once by :func:`preflight_many`. A preflight waits on one read after another,
#: so several in flight keep both the harness and the emulator busy (100 task definitions with fresh reads on
#: moto, two cores: 5.2 s one at a time, 4.5 s two, 4.3 s three, 4.0 s four at a time).
PREFLIGHT_WORKERS = 4


def preflight_many(
    jobs: Sequence[tuple[Target, str, AwsFacts | None]],
    options: Mapping[str, Any] | None = None,
    *,
    workers: int = PREFLIGHT_WORKERS,
) -> list[PreflightReport]:
    """:func:`preflight` of each (target, task definition, facts) job with the keyword ``options``, ``workers``
    at a time, in the jobs' order.

    Jobs may share one :class:`AwsFacts` (a read both want may then be made twice, never answered wrong). The
    first error raised by a job is raised after the others finish.
    """
    options = dict(options or {})
    if workers <= 1 or len(jobs) <= 1:
        reports = [preflight(target, name, facts, **options) for target, name, facts in jobs]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="preflight") as pool:
            futures = [pool.submit(preflight, target, name, facts, **options) for target, name, facts in jobs]
            wait(futures)
        reports = [future.result() for future in futures]
    judge_shared_roles(reports, lambda arn: _shared_role(jobs, reports, arn))  # judged against all their needs
    return reports


def _shared_role(
    jobs: Sequence[tuple[Target, str, AwsFacts | None]], reports: Sequence[PreflightReport], arn: str
) -> RolePolicies | None:
    """The policies of execution role ``arn``, read where the first report naming it was made."""
    index = next(i for i, report in enumerate(reports) if report.execution_role == arn)
    target, _name, facts = jobs[index]
    return _role_or_none(facts or AwsFacts(target), arn, reports[index])


def simulate_identity(target: Target, role_arn: str, verdicts: list[Verdict]) -> list[str]:
    """On real AWS, ask ``iam:SimulatePrincipalPolicy`` about the identity side and report disagreements.

    Only same-account requirements without a resource policy are compared: the simulator cannot take an
    ECR repository policy or a KMS key policy for a role.
    """
    client = target.client("iam")
    found = []
    for verdict in verdicts:
        requirement = verdict.requirement
        if requirement.principal != EXECUTION or requirement.kind in ("ecr-pull", "kms", "environment-file"):
            continue
        if requirement.exists is False:
            continue
        request: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": [requirement.action]}
        if requirement.resource != "*":
            request["ResourceArns"] = [requirement.resource]
        answer = client.simulate_principal_policy(**request)["EvaluationResults"][0]["EvalDecision"]
        simulated = answer == "allowed"
        if simulated != verdict.allowed:
            found.append(
                f"{requirement.action} on {requirement.resource}: preflight says "
                f"{'allowed' if verdict.allowed else 'denied'}, SimulatePrincipalPolicy says {answer}"
            )
    return found
