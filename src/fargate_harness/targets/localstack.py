"""LocalStack: the endpoint comes from the usual LocalStack settings; its health endpoint decides what runs.

Which scenarios run is decided once, from ``/_localstack/health``, before any apply
(:func:`fargate_harness.configurations.missing_for`, through :mod:`fargate_harness.targets.capabilities`):

* what a scenario needs is declared by its resources: :attr:`Configuration.needed_services`
  maps every ``resource "aws_*"`` type of the scenario and of the local modules it sources to a service
  (:data:`fargate_harness.targets.base.RESOURCE_SERVICES`), plus IAM and STS;
* a scenario that declares the variable ``create_task_definition`` treats ECS as optional: where ECS is the
  only thing missing (the free edition has no ECS) it runs with ``create_task_definition = false``
  (:meth:`LocalStackTarget.scenario_variables`) and only the checks that read task definitions are skipped
  (:data:`fargate_harness.checks.CHECK_NEEDS`);
* a scenario missing any other service (free LocalStack also has no ECR) is skipped whole, with the list.

``LOCALSTACK_AUTH_TOKEN`` is LocalStack's own setting: the harness passes it to a LocalStack it starts
(:mod:`tools.localstack_runtime`); a LocalStack you run reads it itself. A paid LocalStack that lists
ECS and ECR runs every scenario with its task definitions.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.errors import TargetError
from fargate_harness.targets.base import Target, fresh_account_id

#: LocalStack's default account and the second account reached by assume-role (any 12 digits work).
LOCALSTACK_REGISTRY_ROLE = "arn:aws:iam::000000000002:role/harness-registry"
#: Health states that mean a service can take requests.
USABLE_STATES = frozenset({"available", "running"})
#: A scenario declaring this variable can run without ECS: the target sets it to false when ECS is missing.
TASK_DEFINITION_VARIABLE = "create_task_definition"
#: Services a scenario may do without when it declares the variable that switches them off.
OPTIONAL_SERVICES: dict[str, str] = {
    "ecs": TASK_DEFINITION_VARIABLE,
    "ecr": "create_repository",
    "dynamodb": "create_table",
}
#: Services LocalStack serves through an engine it downloads on first use (DynamoDB: DynamoDB Local and a
#: Java 21). The health endpoint lists them as available (then running) even where that download cannot
#: happen (offline hosts), so ``start`` makes one cheap call to each: service -> (operation, parameters).
ENGINE_PROBES: dict[str, tuple[str, dict[str, Any]]] = {"dynamodb": ("list_tables", {"Limit": 1})}
#: Seconds an engine probe may take (``HARNESS_LOCALSTACK_PROBE_TIMEOUT``): a first use online downloads the
#: engine; offline, LocalStack 4.14.0 answered 500 after ~11 s, then at once.
DEFAULT_PROBE_TIMEOUT = 60.0

LOG = logging.getLogger("fargate_harness")


def localstack_endpoint(explicit: str | None = None) -> str:
    """``--localstack-endpoint``, else ``AWS_ENDPOINT_URL``, else ``LOCALSTACK_HOST``, else localhost:4566."""
    if explicit:
        return explicit.rstrip("/")
    if os.environ.get("AWS_ENDPOINT_URL"):
        return os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    host = os.environ.get("LOCALSTACK_HOST") or "localhost.localstack.cloud:4566"
    if "://" in host:
        return host.rstrip("/")
    if ":" not in host:
        host = f"{host}:4566"
    return f"http://{host}"


class LocalStackTarget(Target):
    """A running LocalStack; its health endpoint decides which services (and so scenarios) are usable."""

    def __init__(self, endpoint: str | None = None, region: str = "us-east-1"):
        super().__init__(
            name="localstack",
            region=region,
            endpoint_url=localstack_endpoint(endpoint),
            access_key="test",
            secret_key="test",
            registry_role_arn=LOCALSTACK_REGISTRY_ROLE,
            outlives_run=True,  # a LocalStack the user runs: what a run leaves there stays until it is destroyed
        )
        #: Services the health endpoint listed that did not work when tried (service -> why).
        self.unusable: dict[str, str] = {}

    def start(self) -> None:
        """Probe ``/_localstack/health`` and record which services can be used."""
        url = f"{self.endpoint_url}/_localstack/health"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                health = json.loads(answer.read().decode())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TargetError(
                f"LocalStack does not answer at {url} ({exc}). Start it, or point --localstack-endpoint / "
                "AWS_ENDPOINT_URL / LOCALSTACK_HOST at it."
            ) from exc
        services = health.get("services", {})
        usable = {name for name, state in services.items() if state in USABLE_STATES}
        if "cloudwatch" in usable or "logs" in usable:
            usable.add("logs")
        for service in sorted(usable & set(ENGINE_PROBES)):
            problem = self.probe_engine(service)
            if problem:
                self.unusable[service] = problem
                usable.discard(service)
                LOG.warning("localstack: %s is listed by %s but unusable: %s", service, url, problem)
        self.available_services = frozenset(usable)

    def probe_engine(self, service: str) -> str | None:
        """One call to an engine-backed service; None when it answers (any 4xx included), else why not."""
        operation, parameters = ENGINE_PROBES[service]
        timeout = float(os.environ.get("HARNESS_LOCALSTACK_PROBE_TIMEOUT") or DEFAULT_PROBE_TIMEOUT)
        config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=timeout)
        client = self._base_session().client(service, endpoint_url=self.endpoint_url, config=config)
        try:
            getattr(client, operation)(**parameters)
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if status >= 500:
                error = exc.response.get("Error", {})
                return f"{operation} answered {status} {error.get('Code', '')}: {str(error.get('Message', ''))[:100]}"
        except BotoCoreError as exc:
            return (
                f"{operation} failed: {str(exc)[:160]} (HARNESS_LOCALSTACK_PROBE_TIMEOUT={timeout:.0f}s; "
                "a first use downloads the engine)"
            )
        return None

    def isolated(self, label: str) -> Target:
        """The same LocalStack in a fresh account: LocalStack takes a 12-digit access key id as the account."""
        account = fresh_account_id()
        isolated = self.derived(access_key=account, secret_key="test")
        isolated._account = account
        return isolated

    @property
    def has_ecs(self) -> bool:
        """False when the health endpoint said ECS is not usable (True before ``start`` or when it cannot tell)."""
        return self.available_services is None or "ecs" in self.available_services

    def scenario_variables(self) -> dict[str, str]:
        """The usual variables, plus each optional service's switch (``create_task_definition``,
        ``create_repository``, ``create_table``) set to false when this LocalStack lacks that service."""
        variables = super().scenario_variables()
        if self.available_services is not None:
            for service, variable in OPTIONAL_SERVICES.items():
                if service not in self.available_services:
                    variables[variable] = "false"
        return variables
