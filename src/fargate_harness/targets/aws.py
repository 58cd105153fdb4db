"""A real sandbox account, reached through the standard AWS credential chain."""

from __future__ import annotations

import os

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.errors import TargetError
from fargate_harness.targets.base import Target, account_of_role


class AwsTarget(Target):
    """Real AWS. No provider override is written; Terraform and boto3 use the same credential chain."""

    def __init__(self, region: str | None = None, registry_role_arn: str | None = None):
        role = registry_role_arn or os.environ.get("HARNESS_REGISTRY_ROLE_ARN") or None
        if role:
            account_of_role(role, "--registry-role-arn / HARNESS_REGISTRY_ROLE_ARN")
        resolved_region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not resolved_region:
            resolved_region = boto3.session.Session().region_name or "us-east-1"
        super().__init__(name="aws", region=resolved_region, endpoint_url=None, registry_role_arn=role)

    def start(self) -> None:
        """Check that credentials resolve, so a run without them fails before any Terraform runs."""
        try:
            self.account_id()
        except (BotoCoreError, ClientError) as exc:
            raise TargetError(
                f"--target aws needs AWS credentials for a sandbox account ({exc}). Configure the standard "
                "chain (AWS_PROFILE, environment variables, SSO or an instance role)."
            ) from exc
