"""The checks applied after apply, shared by the pytest suite and ``fargate-harness run``.

Each check takes an applied :class:`~fargate_harness.runner.terraform.ScenarioRun`, returns how many subjects it checked
and raises AssertionError with a message of the form ``"<configuration>: <resource>: expected <x>, got
<y>"``.

Two layers:

* **Checks that need no contract** (:data:`INVENTORY_CHECKS`) run on every configuration: they read what
  was built from Terraform's state (:mod:`fargate_harness.model.inventory`) and check every task definition and role
  found there. One that finds nothing to check fails and says what it looked for.
* **Declaration checks** (:data:`DECLARATION_CHECKS`) are the exactness checks of our reference scenarios,
  which declare what they built in an output ``services`` (map of service name to role ARNs/names, task
  definition, log group, and the ARN lists ``declared`` to the execution-role module and ``task_declared``
  to the task-role module), plus optional ``kms_key_arn`` / ``parameter_names`` (SecureString scenarios)
  and ``repository_name`` / ``registry_account_id`` (cross-account ECR). They run only where that output
  exists.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fargate_harness.aws import ecr, ecs, iam, kms, logs, secrets, ssm
from fargate_harness.aws._policy import decode_document, fail, grants, statements
from fargate_harness.errors import HarnessError, ResourceNotFoundError
from fargate_harness.model.inventory import Role, TaskDefinition
from fargate_harness.runner.terraform import ScenarioRun
from fargate_harness.targets.base import Target

if TYPE_CHECKING:
    from fargate_harness.preflight import AwsFacts, PreflightReport

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


def services(run: ScenarioRun) -> list[Service]:
    """The services of an applied scenario; fails when the ``services`` output contract is not met."""
    raw = run.outputs.get("services")
    if not isinstance(raw, Mapping) or not raw:
        fail(run.name, "output services", "a non-empty map of services (see fargate_harness.checks)", repr(raw)[:200])
    return [Service(key, facts) for key, facts in sorted(raw.items())]


def _inline_documents(run: ScenarioRun, role_name: str) -> dict[str, dict[str, Any]]:
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


def trust_policies(run: ScenarioRun) -> int:
    """Execution and task roles can be assumed only by ecs-tasks.amazonaws.com with sts:AssumeRole."""
    client = run.target.client("iam")
    checked = 0
    for service in services(run):
        for name in (service["execution_role_name"], service.facts.get("task_role_name")):
            if name:
                iam.assert_trusts_only_service(iam.get_role(client, name), scenario=run.name)
                checked += 1
    return checked


def managed_policy(run: ScenarioRun) -> int:
    """Each execution role has AmazonECSTaskExecutionRolePolicy attached."""
    client = run.target.client("iam")
    for service in services(run):
        name = service["execution_role_name"]
        partition = str(service["execution_role_arn"]).split(":")[1]
        expected = EXECUTION_MANAGED_POLICY.replace("arn:aws:", f"arn:{partition}:", 1)
        attached = iam.get_attached_policy_arns(client, name)
        iam.assert_managed_policy_attached(name, attached, expected, scenario=run.name)
    return len(services(run))


def _assert_statements(
    run: ScenarioRun,
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


def execution_statements(run: ScenarioRun) -> int:
    """Each execution-role inline statement is scoped to exactly the ARNs the scenario declared."""
    return sum(
        _assert_statements(run, service["execution_role_name"], EXECUTION_STATEMENTS, service.declared)
        for service in services(run)
    )


def task_role_statements(run: ScenarioRun) -> int:
    """Each task-role inline statement is scoped to exactly the declared buckets and tables."""
    return sum(
        _assert_statements(run, service["task_role_name"], TASK_STATEMENTS, service.task_declared)
        for service in services(run)
        if service.facts.get("task_role_name")
    )


def task_definitions(run: ScenarioRun) -> int:
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


def log_groups(run: ScenarioRun) -> int:
    """Each service's log group exists, with the declared retention (no ECS needed)."""
    client = run.target.client("logs")
    for service in services(run):
        group = logs.get_log_group(client, service["log_group_name"])
        logs.assert_retention(group, service.facts.get("log_retention_days"), scenario=run.name)
    return len(services(run))


def awslogs(run: ScenarioRun) -> int:
    """Every container logs with awslogs to its service's log group (see :func:`log_groups`), in the target's region."""
    client = run.target.client("ecs")
    for service in services(run):
        td = ecs.get_task_definition(client, service["task_definition_arn"])
        ecs.assert_awslogs(td, scenario=run.name, log_group_name=service["log_group_name"], region=run.target.region)
    return len(services(run))


def _resolve_reference(run: ScenarioRun, value_from: str) -> tuple[str, str]:
    """(IAM action, resource ARN) the execution role needs for one ``valueFrom``; fails if it does not exist."""
    if value_from.startswith("arn:") and value_from.split(":")[2] == "secretsmanager":
        reference = secrets.parse_secret_reference(value_from)
        metadata = secrets.get_secret_metadata(run.target.client("secretsmanager"), reference.secret_id)
        secrets.assert_secret_matches(reference, metadata, scenario=run.name)
        return "secretsmanager:GetSecretValue", str(metadata["ARN"])
    name = ssm.parameter_name(value_from)
    meta = ssm.get_parameter_metadata(run.target.client("ssm"), name)
    arn = meta.get("ARN") or value_from
    return "ssm:GetParameters", str(arn)


def secret_references(run: ScenarioRun) -> int:
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
            if not grants(documents, action, arn):
                fail(
                    run.name,
                    f"task definition {ecs.task_definition_label(td)} container {container} secret {variable}",
                    f"execution role {role} to allow {action} on {arn}",
                    "no inline statement grants it",
                )
            checked += 1
    return checked


def _key_identifiers(run: ScenarioRun, key_arn: str) -> set[str]:
    client = run.target.client("kms")
    meta = kms.get_key_metadata(client, key_arn)
    return kms.key_identifiers(meta, kms.get_key_aliases(client, key_arn))


def secure_parameters(run: ScenarioRun) -> int:
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


def cross_account_repository(run: ScenarioRun) -> int:
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


def role_isolation(run: ScenarioRun) -> int:
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


def role_separation(run: ScenarioRun) -> int:
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
def startup_preflight(run: ScenarioRun) -> int:
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
            denied = _denied(report)
            fail(run.name, subject, "the task to start", f"{report.error or ' | '.join(report.warnings)} ({denied})")
        if report.overgrants or report.misplaced:
            fail(run.name, subject, "no over-grants", "; ".join(report.overgrants + report.misplaced))
    return len(services(run))


def push_placeholder_images(run: ScenarioRun) -> int:
    """On an emulator, push a small manifest for the ``latest`` images our reference scenarios run from the
    repositories they create (their pipelines would push them; nobody else's repository is touched).

    Returns how many images were pushed. Users' configurations get no such help: the preflight reports a
    missing image as AWS would, unless asked to assume images are pushed (``images="assume-pushed"``).
    """
    if not run.target.is_emulator or not has_declarations(run) or run.shared.get("placeholders-pushed"):
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
    run.shared["placeholders-pushed"] = True  # once per applied state (apply clears ``shared``)
    return pushed


Check = Callable[[ScenarioRun], int]

# -- checks that need no contract: every task definition and role of the state ---------------------

ECS_TASKS = "ecs-tasks.amazonaws.com"
#: A sample task ARN's resource part: ECS sends the task's ARN as aws:SourceArn when it assumes a role.
SAMPLE_TASK = "task/fargate-harness/0123456789abcdef0123456789abcdef"


def _task_definitions(run: ScenarioRun) -> list[TaskDefinition]:
    found = run.inventory.task_definitions
    if not found:
        raise AssertionError(
            f"{run.name}: no aws_ecs_task_definition in the state of {run.source} "
            f"(looked for task definitions to check; the state holds {run.inventory.summary()})"
        )
    return found


def _facts(run: ScenarioRun, region: str | None = None, account: str | None = None) -> AwsFacts:
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
    key = f"facts:{region}" + (f":{account}" if account else "")
    facts = run.shared.get(key)
    if not isinstance(facts, AwsFacts):
        target = run.target if region == run.target.region else run.target.derived(region=region)
        facts = AwsFacts(target.in_account(account) if account else target)
        run.shared[key] = facts
    return facts


def preflight_reports(run: ScenarioRun, **options: Any) -> list[PreflightReport]:
    """The preflight of every task definition in the state, each in its own region (computed once per run and
    options)."""
    from fargate_harness.preflight import preflight_many

    options = {**run.preflight_options, **options}
    key = f"preflight:{sorted(options.items())}"
    if key not in run.shared:
        jobs = []
        for td in _task_definitions(run):
            facts = _facts(run, td.region or None, td.account or None)
            jobs.append((facts.target, td.arn, facts))
        run.shared[key] = preflight_many(jobs, options)
    return list(run.shared[key])


def _denied(report: PreflightReport) -> str:
    """The denied or missing requirements of a report, for a failure message."""
    return "; ".join(f"{v.requirement.action} on {v.requirement.resource}: {v.reason}" for v in report.failures)


def _fail_all(run: ScenarioRun, expected: str, problems: list[str]) -> None:
    """Fail with every problem found, one per line (nothing when there is none)."""
    if problems:
        raise AssertionError(f"{run.name}: expected {expected}, got:\n  " + "\n  ".join(problems))


def _note(run: ScenarioRun, text: str) -> None:
    run.shared.setdefault("notes", []).append(text)


def tasks_start(run: ScenarioRun, **options: Any) -> int:
    """Every task definition in the state would start: the preflight finds no denied or missing requirement."""
    problems = []
    reports = preflight_reports(run, **options)
    for report in reports:
        if report.will_start:
            continue
        denied = _denied(report)
        problems.append(
            f"task definition {report.task_definition}: {report.error}" + (f" ({denied})" if denied else "")
        )
    _fail_all(run, "every task to start", problems)
    return len(reports)


def _role_documents(run: ScenarioRun, arn: str) -> tuple[str, dict[str, Any]]:
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


def roles_trust_ecs_tasks(run: ScenarioRun) -> int:
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
                resource_owner=arn.split(":")[4],
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


def _execution_reports(run: ScenarioRun) -> list[PreflightReport]:
    reports = [r for r in preflight_reports(run) if r.execution_role]
    if not reports:
        _task_definitions(run)
        raise AssertionError(f"{run.name}: no task definition in the state of {run.source} has an execution role")
    return reports


def execution_roles_least_privilege(run: ScenarioRun) -> int:
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


def execution_roles_hold_no_app_permissions(run: ScenarioRun) -> int:
    """No execution role holds application permissions (they belong on the task role), and no task role holds
    what the agent needs from the execution role."""
    reports = _execution_reports(run)
    found = [f"task definition {r.task_definition}: {'; '.join(r.misplaced)}" for r in reports if r.misplaced]
    _fail_all(run, "no misplaced permissions", found)
    return len(reports)


def awslogs_groups_exist(run: ScenarioRun) -> int:
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


def value_from_resolves(run: ScenarioRun) -> int:
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
                if value_from.startswith("arn:") and value_from.split(":")[2] == "secretsmanager":
                    try:
                        reference = secrets.parse_secret_reference(value_from)
                    except ValueError as exc:
                        missing.append(f"{where}: {exc}")
                        continue
                    if facts.secret(reference.secret_id) is None:
                        missing.append(f"{where}: secret {reference.secret_id} does not exist")
                    continue
                owner = value_from.split(":")[4] if value_from.startswith("arn:") else account
                where_region = value_from.split(":")[3] if value_from.startswith("arn:") else region
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

    run: ScenarioRun
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


#: The services each check reads, by check name, beyond what the scenario's own resources already require
#: (the scenario-level decision, :func:`fargate_harness.targets.localstack.missing_for`). On a target without one
#: of them (free LocalStack has no ECS: scenarios run with ``create_task_definition = false``) the check
#: is skipped with the missing services: :func:`unavailable`.
CHECK_NEEDS: dict[str, frozenset[str]] = {
    "trust_policies": frozenset({"iam"}),
    "managed_policy": frozenset({"iam"}),
    "execution_statements": frozenset({"iam"}),
    "task_role_statements": frozenset({"iam"}),
    "task_definitions": frozenset({"ecs"}),
    "log_groups": frozenset({"logs"}),
    "awslogs": frozenset({"ecs"}),
    "secret_references": frozenset({"ecs"}),
    "secure_parameters": frozenset({"ssm", "kms"}),
    "cross_account_repository": frozenset({"ecr", "ecs"}),
    "role_isolation": frozenset({"iam"}),
    "role_separation": frozenset({"iam"}),
    "startup_preflight": frozenset({"ecs"}),
    "tasks_start": frozenset({"ecs"}),
    "roles_trust_ecs_tasks": frozenset({"ecs", "iam"}),
    "execution_roles_least_privilege": frozenset({"ecs", "iam"}),
    "execution_roles_hold_no_app_permissions": frozenset({"ecs", "iam"}),
    "awslogs_groups_exist": frozenset({"ecs", "logs"}),
    "value_from_resolves": frozenset({"ecs"}),
}


def needs_of(check: Check | str) -> frozenset[str]:
    """The services ``check`` (a check or its name) reads; KeyError for a check missing from CHECK_NEEDS."""
    return CHECK_NEEDS[check if isinstance(check, str) else check.__name__]


def unavailable(check: Check | str, target: Target) -> list[str]:
    """The services ``check`` needs that ``target`` lacks (empty: run it)."""
    return target.missing_services(needs_of(check))


#: Checks every scenario must pass with something to check.
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

ALL_CHECKS: tuple[Check, ...] = (*INVENTORY_CHECKS, *DECLARATION_CHECKS)


def has_declarations(run: ScenarioRun) -> bool:
    """True when the configuration declares what it built (the ``services`` output of our scenarios)."""
    return isinstance(run.outputs.get("services"), Mapping) and bool(run.outputs.get("services"))


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


def run_all(run: ScenarioRun) -> list[CheckResult]:
    """Run every inventory check, and the declaration checks where the configuration declares ``services``;
    collect verdicts instead of stopping at the first failure.

    A check needing a service the target lacks is not run: it passes with nothing checked (``n/a``) and
    says why in its message.
    """
    results = []
    if not unavailable("startup_preflight", run.target):
        push_placeholder_images(run)
    for check in INVENTORY_CHECKS + (DECLARATION_CHECKS if has_declarations(run) else ()):
        missing = unavailable(check, run.target)
        if missing:
            results.append(
                CheckResult(check.__name__, True, 0, f"skipped: target {run.target.name} lacks {', '.join(missing)}")
            )
            continue
        run.shared["notes"] = []
        try:
            subjects = check(run)
            notes = tuple(run.masker(n) for n in run.shared["notes"])
            results.append(CheckResult(check.__name__, True, subjects, notes=notes))
        except (AssertionError, HarnessError) as exc:
            results.append(CheckResult(check.__name__, False, 0, run.masker(str(exc))))
        except Exception as exc:  # a defect in a check must not hide the other verdicts or skip the destroy
            message = f"{run.name}: check {check.__name__} crashed: {type(exc).__name__}: {exc}"
            results.append(CheckResult(check.__name__, False, 0, run.masker(message)))
    return results
