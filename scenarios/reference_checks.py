"""Exactness checks of this repository's reference scenarios, loaded beside them (not shipped in the wheel).

Each reference scenario declares what it built in an output ``services`` (map of service name to role
ARNs/names, task definition, log group, and the ARN lists ``declared`` to the execution-role module and
``task_declared`` to the task-role module), plus optional ``kms_key_arn`` / ``parameter_names`` (SecureString
scenarios) and ``repository_name`` / ``registry_account_id`` (cross-account ECR). These checks read that
declaration against what AWS holds; they apply only where the output exists
(:class:`fargate_harness.checks.Reference`: ``CHECKS``, ``applies``, ``prepare``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fargate_harness.aws import ecr, ecs, iam, kms, logs, secrets, ssm
from fargate_harness.aws._policy import fail, statements
from fargate_harness.checks import AppliedRun, Check, check, denied_actions, reads_of, unavailable
from fargate_harness.iam import allowing_statements
from fargate_harness.model.arn import Arn

EXECUTION_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

#: The execution-role module's inline statements: Sid -> (declared list, actions, resource mapping).
EXECUTION_STATEMENTS: dict[str, tuple[str, frozenset[str], Callable[[list[str]], set[str]]]] = {
    "PullFromECR": (
        "ecr_repository_arns",
        frozenset(ecr.PULL_ACTIONS),
        set,
    ),
    "GetECRAuthorizationToken": ("ecr_repository_arns", frozenset({"ecr:GetAuthorizationToken"}), lambda _: {"*"}),
    "ReadSecrets": ("secret_arns", frozenset({"secretsmanager:GetSecretValue"}), set),
    "ReadParameters": ("ssm_parameter_arns", frozenset({"ssm:GetParameters"}), set),
    "DecryptSecrets": ("kms_key_arns", frozenset({"kms:Decrypt"}), set),
    "WriteLogs": (
        "log_group_arns",
        frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
        lambda arns: {f"{arn.removesuffix(':*')}:*" for arn in arns},
    ),
}

#: The task-role module's inline statements, same shape.
TASK_STATEMENTS: dict[str, tuple[str, frozenset[str], Callable[[list[str]], set[str]]]] = {
    "S3ListBucket": ("s3_bucket_arns", frozenset({"s3:ListBucket"}), set),
    "S3ObjectAccess": (
        "s3_bucket_arns",
        frozenset({"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}),
        lambda arns: {f"{arn}/*" for arn in arns},
    ),
    "DynamoDBItemAccess": (
        "dynamodb_table_arns",
        frozenset(
            {
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
            }
        ),
        lambda arns: {f"{arn}{suffix}" for arn in arns for suffix in ("", "/index/*")},
    ),
}


@dataclass(frozen=True)
class Service:
    """One entry of a scenario's ``services`` output."""

    key: str
    facts: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.facts[name]

    def declared(self, name: str) -> list[str]:
        """A list the execution-role module was given (empty when absent)."""
        return list((self.facts.get("declared") or {}).get(name) or [])

    def task_declared(self, name: str) -> list[str]:
        """A list the task-role module was given (empty when absent)."""
        return list((self.facts.get("task_declared") or {}).get(name) or [])


def services(run: AppliedRun) -> list[Service]:
    """The services of an applied scenario; fails when the ``services`` output contract is not met."""
    raw = run.outputs.get("services")
    if not isinstance(raw, Mapping) or not raw:
        fail(run.name, "output services", "a non-empty map of services (see fargate_harness.checks)", repr(raw)[:200])
    return [Service(key, facts) for key, facts in sorted(raw.items())]


def _inline_documents(run: AppliedRun, role_name: str) -> dict[str, dict[str, Any]]:
    return iam.get_inline_policies(run.target.client("iam"), role_name)


def eventually(check: Callable[[], None], timeout: float = 0.0, interval: float = 2.0) -> None:
    """Run ``check`` until it passes or ``timeout`` seconds passed (0: once). For eventually consistent reads."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)


# -- checks every scenario gets ------------------------------------------------------------------


@check("iam")
def trust_policies(run: AppliedRun) -> int:
    """Execution and task roles can be assumed only by ecs-tasks.amazonaws.com with sts:AssumeRole."""
    client = run.target.client("iam")
    checked = 0
    for service in services(run):
        for name in (service["execution_role_name"], service.facts.get("task_role_name")):
            if name:
                iam.assert_trusts_only_service(iam.get_role(client, name), scenario=run.name)
                checked += 1
    return checked


@check("iam")
def managed_policy(run: AppliedRun) -> int:
    """Each execution role has AmazonECSTaskExecutionRolePolicy attached."""
    client = run.target.client("iam")
    for service in services(run):
        name = service["execution_role_name"]
        parsed = Arn.parse(str(service["execution_role_arn"]))
        partition = parsed.partition if parsed else "aws"
        expected = EXECUTION_MANAGED_POLICY.replace("arn:aws:", f"arn:{partition}:", 1)
        attached = iam.get_attached_policy_arns(client, name)
        iam.assert_managed_policy_attached(name, attached, expected, scenario=run.name)
    return len(services(run))


def _assert_statements(
    run: AppliedRun,
    role_name: str,
    table: Mapping[str, tuple[str, frozenset[str], Callable[[list[str]], set[str]]]],
    declared: Callable[[str], list[str]],
) -> int:
    documents = _inline_documents(run, role_name)
    for sid, (source, actions, to_resources) in table.items():
        arns = declared(source)
        if arns:
            iam.assert_statement(
                role_name, documents, sid, actions=set(actions), resources=to_resources(arns), scenario=run.name
            )
        else:
            iam.assert_no_statement(role_name, documents, sid, scenario=run.name)
    unexpected = sorted(
        {str(s.get("Sid") or "<no Sid>") for doc in documents.values() for s in statements(doc)} - set(table)
    )
    if unexpected:
        fail(run.name, f"role {role_name} inline policies", f"only statements {sorted(table)}", f"also {unexpected}")
    return sum(1 for source, _actions, _map in table.values() if declared(source))


@check("iam")
def execution_statements(run: AppliedRun) -> int:
    """Each execution-role inline statement is scoped to exactly the ARNs the scenario declared."""
    return sum(
        _assert_statements(run, service["execution_role_name"], EXECUTION_STATEMENTS, service.declared)
        for service in services(run)
    )


@check("iam")
def task_role_statements(run: AppliedRun) -> int:
    """Each task-role inline statement is scoped to exactly the declared buckets and tables."""
    return sum(
        _assert_statements(run, service["task_role_name"], TASK_STATEMENTS, service.task_declared)
        for service in services(run)
        if service.facts.get("task_role_name")
    )


@check("ecs")
def task_definitions(run: AppliedRun) -> int:
    """Task definitions use the scenario's roles, FARGATE and awsvpc."""
    client = run.target.client("ecs")
    for service in services(run):
        td = ecs.get_task_definition(client, service["task_definition_arn"])
        ecs.assert_task_definition(
            td,
            scenario=run.name,
            execution_role_arn=service["execution_role_arn"],
            task_role_arn=service.facts.get("task_role_arn"),
        )
    return len(services(run))


@check("logs")
def log_groups(run: AppliedRun) -> int:
    """Each service's log group exists, with the declared retention (no ECS needed)."""
    client = run.target.client("logs")
    for service in services(run):
        group = logs.get_log_group(client, service["log_group_name"])
        logs.assert_retention(group, service.facts.get("log_retention_days"), scenario=run.name)
    return len(services(run))


@check("ecs")
def awslogs(run: AppliedRun) -> int:
    """Every container logs with awslogs to its service's log group (see :func:`log_groups`), in the target's region."""
    client = run.target.client("ecs")
    for service in services(run):
        td = ecs.get_task_definition(client, service["task_definition_arn"])
        ecs.assert_awslogs(td, scenario=run.name, log_group_name=service["log_group_name"], region=run.target.region)
    return len(services(run))


def _resolve_reference(run: AppliedRun, value_from: str) -> tuple[str, str]:
    """(IAM action, resource ARN) the execution role needs for one ``valueFrom``; fails if it does not exist."""
    parsed = Arn.parse(value_from)
    if parsed is not None and parsed.service == "secretsmanager":
        reference = secrets.parse_secret_reference(value_from)
        metadata = secrets.get_secret_metadata(run.target.client("secretsmanager"), reference.secret_id)
        secrets.assert_secret_matches(reference, metadata, scenario=run.name)
        return "secretsmanager:GetSecretValue", str(metadata["ARN"])
    name = ssm.parameter_name(value_from)
    meta = ssm.get_parameter_metadata(run.target.client("ssm"), name)
    arn = meta.get("ARN") or value_from
    return "ssm:GetParameters", str(arn)


@check("ecs")
def secret_references(run: AppliedRun) -> int:
    """Every ``valueFrom`` resolves to an existing secret or parameter that the execution role may read."""
    ecs_client = run.target.client("ecs")
    checked = 0
    for service in services(run):
        td = ecs.get_task_definition(ecs_client, service["task_definition_arn"])
        refs = ecs.secret_references(td)
        if not refs:
            continue
        role = service["execution_role_name"]
        documents = list(_inline_documents(run, role).values())
        for container, variable, value_from in refs:
            action, arn = _resolve_reference(run, value_from)
            if not allowing_statements(documents, action, arn):
                fail(
                    run.name,
                    f"task definition {ecs.task_definition_label(td)} container {container} secret {variable}",
                    f"execution role {role} to allow {action} on {arn}",
                    "no inline statement grants it",
                )
            checked += 1
    return checked


def _key_identifiers(run: AppliedRun, key_arn: str) -> set[str]:
    client = run.target.client("kms")
    meta = kms.get_key_metadata(client, key_arn)
    return kms.key_identifiers(meta, kms.get_key_aliases(client, key_arn))


@check("ssm", "kms")
def secure_parameters(run: AppliedRun) -> int:
    """SecureString parameters are encrypted under the scenario's customer key."""
    key_arn = run.outputs.get("kms_key_arn")
    if not key_arn:
        return 0
    identifiers = _key_identifiers(run, key_arn)
    client = run.target.client("ssm")
    names = list(run.outputs.get("parameter_names") or [])
    for name in names:
        meta = ssm.get_parameter_metadata(client, name)
        ssm.assert_secure_string(meta, key_arn=key_arn, key_id_aliases=identifiers, scenario=run.name)
    return len(names)


@check("ecr", "ecs")
def cross_account_repository(run: AppliedRun) -> int:
    """The registry-account repository policy names only the execution roles, with only the pull actions,
    and every image points at that repository in the registry account."""
    repository_name = run.outputs.get("repository_name")
    if not repository_name:
        return 0
    registry = str(run.outputs["registry_account_id"])
    client = run.target.client("ecr", account="registry")
    repository = ecr.get_repository(client, repository_name, registry_id=registry)
    policy = ecr.get_repository_policy(client, repository_name, registry_id=registry)
    roles = {service["execution_role_arn"] for service in services(run)}
    ecr.assert_pull_only_policy(repository, policy, principals=roles, scenario=run.name)
    ecs_client = run.target.client("ecs")
    for service in services(run):
        td = ecs.get_task_definition(ecs_client, service["task_definition_arn"])
        for container in td.get("containerDefinitions", []):
            image = ecr.parse_image_uri(container.get("image", ""))
            where = f"task definition {ecs.task_definition_label(td)} container {container.get('name')}"
            expected = f"an image in {registry}.dkr.ecr.*/{repository_name}"
            if image is None:
                fail(run.name, where, expected, container.get("image"))
            if (image.account_id, image.repository_name) != (registry, repository_name):
                fail(run.name, where, expected, container.get("image"))
    return len(services(run))


def _pairs(items: list[Service]) -> Iterator[tuple[Service, Service]]:
    for a in items:
        for b in items:
            if a.key != b.key:
                yield a, b


@check("iam")
def role_isolation(run: AppliedRun) -> int:
    """No service's execution role can read another service's secrets or parameters."""
    items = services(run)
    documents = {s.key: list(_inline_documents(run, s["execution_role_name"]).values()) for s in items}
    checked = 0
    for a, b in _pairs(items):
        for action, source in (
            ("secretsmanager:GetSecretValue", "secret_arns"),
            ("ssm:GetParameters", "ssm_parameter_arns"),
        ):
            for arn in set(b.declared(source)) - set(a.declared(source)):
                iam.assert_not_granted(a["execution_role_name"], documents[a.key], action, arn, scenario=run.name)
                checked += 1
    return checked


@check("iam")
def role_separation(run: AppliedRun) -> int:
    """Task roles hold the application's permissions and execution roles the agent's, never each other's."""
    checked = 0
    for service in services(run):
        task_role = service.facts.get("task_role_name")
        if not task_role:
            continue
        checked += 1
        execution_role = service["execution_role_name"]
        if task_role == execution_role:
            fail(run.name, f"service {service.key}", "separate execution and task roles", f"both {task_role}")
        execution_docs = list(_inline_documents(run, execution_role).values())
        task_docs = list(_inline_documents(run, task_role).values())
        for bucket in service.task_declared("s3_bucket_arns"):
            iam.assert_not_granted(execution_role, execution_docs, "s3:GetObject", f"{bucket}/x", scenario=run.name)
        for table in service.task_declared("dynamodb_table_arns"):
            iam.assert_not_granted(execution_role, execution_docs, "dynamodb:GetItem", table, scenario=run.name)
        for secret in service.declared("secret_arns"):
            iam.assert_not_granted(task_role, task_docs, "secretsmanager:GetSecretValue", secret, scenario=run.name)
        for repository in service.declared("ecr_repository_arns"):
            iam.assert_not_granted(task_role, task_docs, "ecr:BatchGetImage", repository, scenario=run.name)
    return checked


#: Every check, in the order ``fargate-harness run`` reports them.
@check("ecs")
def startup_preflight(run: AppliedRun) -> int:
    """Preflight predicts every task definition starts, with no over-grant and nothing misplaced.

    The scenarios' pipelines would push ``latest`` to their own repositories; on an emulator nothing does,
    so a placeholder manifest is pushed first to those repositories (never to anyone else's): preflight
    then decides image existence as AWS does (``images="require"``).
    """
    from fargate_harness.preflight import AwsFacts, preflight_many

    facts = AwsFacts(run.target)
    push_placeholder_images(run)
    for report in preflight_many([(run.target, s["task_definition_arn"], facts) for s in services(run)]):
        subject = f"task definition {report.task_definition}"
        if report.failures or not report.will_start:
            denied = denied_actions(report)
            fail(run.name, subject, "the task to start", f"{report.error or ' | '.join(report.warnings)} ({denied})")
        if report.overgrants or report.misplaced:
            fail(run.name, subject, "no over-grants", "; ".join(report.overgrants + report.misplaced))
    return len(services(run))


def push_placeholder_images(run: AppliedRun) -> int:
    """On an emulator, push a small manifest for the ``latest`` images our reference scenarios run from the
    repositories they create (their pipelines would push them; nobody else's repository is touched).

    Returns how many images were pushed. Users' configurations get no such help: the preflight reports a
    missing image as AWS would, unless asked to assume images are pushed (``images="assume-pushed"``).
    """
    if not run.target.is_emulator or not has_declarations(run) or "placeholders" in reads_of(run).prepared:
        return 0
    from fargate_harness.preflight import AwsFacts

    facts = AwsFacts(run.target)
    pushed = 0
    for service in services(run):
        td = ecs.get_task_definition(run.target.client("ecs"), service["task_definition_arn"])
        for container in td.get("containerDefinitions", []):
            image = ecr.parse_image_uri(str(container.get("image", "")))
            client = facts.client("ecr", image.account_id) if image else None
            if image and client is not None and image.tag == "latest":
                ecr.push_placeholder_image(client, image.repository_name, "latest", registry_id=image.account_id)
                pushed += 1
    reads_of(run).prepared.add("placeholders")  # once per applied state (apply drops the reads)
    return pushed


#: Checks every reference scenario must pass with something to check.
COMMON_CHECKS: tuple[Check, ...] = (
    trust_policies,
    managed_policy,
    execution_statements,
    task_definitions,
    log_groups,
    awslogs,
    startup_preflight,
)

#: Our reference scenarios' exactness checks, read against their ``services`` declarations.
DECLARATION_CHECKS: tuple[Check, ...] = (
    trust_policies,
    managed_policy,
    execution_statements,
    task_role_statements,
    task_definitions,
    log_groups,
    awslogs,
    secret_references,
    secure_parameters,
    cross_account_repository,
    role_isolation,
    role_separation,
    startup_preflight,
)


def has_declarations(run: AppliedRun) -> bool:
    """True when the configuration declares what it built (the ``services`` output of our scenarios)."""
    return isinstance(run.outputs.get("services"), Mapping) and bool(run.outputs.get("services"))


#: What :func:`fargate_harness.checks.load_reference` reads.
CHECKS = DECLARATION_CHECKS
applies = has_declarations


def prepare(run: AppliedRun) -> None:
    """Before the checks: the placeholder images the scenarios' pipelines would push (where the target can run
    the preflight that needs them)."""
    if not unavailable(startup_preflight, run.target):
        push_placeholder_images(run)
