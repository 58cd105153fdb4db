"""LocalStack, started by the user: the endpoint comes from the usual LocalStack settings."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from harness.errors import TargetError
from harness.targets.base import Target

#: LocalStack's default account and the second account reached by assume-role (any 12 digits work).
LOCALSTACK_REGISTRY_ROLE = "arn:aws:iam::000000000002:role/harness-registry"
#: Health states that mean a service can take requests.
USABLE_STATES = frozenset({"available", "running"})


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
        )

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
        self.available_services = frozenset(usable)
