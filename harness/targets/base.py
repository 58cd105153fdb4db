"""The one object that answers "where am I talking to": Terraform and boto3 both take it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from harness.errors import ConfigurationError

#: Service names as the AWS provider's ``endpoints {}`` block spells them, per provider major.
#: Terraform's provider 5.x renamed a few; both spellings are accepted there, so the 3.x names are used
#: wherever the provider still takes them.
PROVIDER_ENDPOINTS = (
    "iam",
    "sts",
    "ecs",
    "ecr",
    "secretsmanager",
    "ssm",
    "kms",
    "cloudwatchlogs",
    "s3",
    "dynamodb",
    "ec2",
)

#: Resource type prefix -> the AWS service (health-endpoint name) it needs.
RESOURCE_SERVICES = {
    "aws_iam_": "iam",
    "aws_ecs_": "ecs",
    "aws_ecr_": "ecr",
    "aws_secretsmanager_": "secretsmanager",
    "aws_ssm_": "ssm",
    "aws_kms_": "kms",
    "aws_cloudwatch_log_": "logs",
    "aws_s3_": "s3",
    "aws_dynamodb_": "dynamodb",
}

ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/.+")


def account_of_role(role_arn: str, setting: str) -> str:
    """The account id in an IAM role ARN, or a ConfigurationError naming the setting that held it."""
    match = ROLE_ARN.fullmatch(role_arn)
    if not match:
        raise ConfigurationError(
            f"{setting} is {role_arn!r}, which is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        )
    return match.group(1)


@dataclass
class Target:
    """An AWS to run against: endpoint, region, credentials and the two accounts scenarios use.

    ``endpoint_url`` is None for real AWS. ``registry_role_arn`` is the role assumed to reach the
    registry account of cross-account scenarios; None where that target cannot provide one.
    """

    name: str
    region: str
    endpoint_url: str | None
    access_key: str | None = None
    secret_key: str | None = None
    registry_role_arn: str | None = None
    available_services: frozenset[str] | None = None
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    _registry_credentials: dict[str, str] | None = field(default=None, repr=False)

    @property
    def is_emulator(self) -> bool:
        """True when the endpoint is an emulator (a provider override is needed)."""
        return self.endpoint_url is not None

    @property
    def registry_account_id(self) -> str | None:
        """The registry account id, read from the registry role ARN."""
        if not self.registry_role_arn:
            return None
        return account_of_role(self.registry_role_arn, "the registry role ARN")

    def start(self) -> None:
        """Start or locate the target. Emulators the harness owns start here."""

    def stop(self) -> None:
        """Stop what ``start`` started."""

    def missing_services(self, needed: Iterable[str]) -> list[str]:
        """Services in ``needed`` that this target lacks (empty when it has them all or cannot tell)."""
        if self.available_services is None:
            return []
        return sorted(set(needed) - self.available_services)

    def _base_session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def client(self, service: str, account: str = "primary") -> Any:
        """A boto3 client for ``service`` in the primary account, or in the registry account by assume-role."""
        key = (service, account)
        if key in self._clients:
            return self._clients[key]
        config = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=10, read_timeout=60)
        if account == "primary":
            session = self._base_session()
        elif account == "registry":
            creds = self._registry_session_credentials()
            session = boto3.session.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name=self.region,
            )
        else:
            raise ConfigurationError(f"account must be 'primary' or 'registry', not {account!r}")
        client = session.client(service, endpoint_url=self.endpoint_url, config=config)
        self._clients[key] = client
        return client

    def _registry_session_credentials(self) -> dict[str, str]:
        if self._registry_credentials is None:
            if not self.registry_role_arn:
                raise ConfigurationError(
                    f"target {self.name} has no registry account: set --registry-role-arn / "
                    "HARNESS_REGISTRY_ROLE_ARN to a role the harness may assume in the registry account"
                )
            sts = self.client("sts")
            answer = sts.assume_role(RoleArn=self.registry_role_arn, RoleSessionName="fargate-harness")
            self._registry_credentials = dict(answer["Credentials"])
        return self._registry_credentials

    def account_id(self) -> str:
        """The primary account id, from ``sts:GetCallerIdentity``."""
        return str(self.client("sts").get_caller_identity()["Account"])

    def terraform_env(self) -> dict[str, str]:
        """Environment for Terraform: region always, static credentials for emulators."""
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.access_key and self.secret_key:
            env["AWS_ACCESS_KEY_ID"] = self.access_key
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_key
        return env

    def scenario_variables(self) -> dict[str, str]:
        """Variables the target supplies to every scenario that declares them."""
        variables = {"region": self.region}
        if self.registry_role_arn:
            variables["registry_role_arn"] = self.registry_role_arn
        return variables

    def provider_override(
        self, provider_version: str, aliases: Iterable[str], default_tags: Mapping[str, str] | None = None
    ) -> str | None:
        """HCL for ``harness_override.tf``: every ``provider "aws"`` configuration (default and aliases)
        pointed at the emulator, and carrying ``default_tags`` where the provider supports them (>= 3.38).

        None when there is nothing to override (real AWS and no tags). Emulator arguments are chosen for the
        provider version ``init`` selected, because skip_* and path-style arguments changed between majors.
        """
        version = tuple(int(p) for p in provider_version.split(".")[:2] if p.isdigit())
        tags = dict(default_tags or {}) if version >= (3, 38) else {}
        if not self.endpoint_url and not tags:
            return None
        arguments: list[str] = []
        if self.endpoint_url:
            arguments = [
                f'access_key                  = "{self.access_key}"',
                f'secret_key                  = "{self.secret_key}"',
                "skip_credentials_validation = true",
                "skip_metadata_api_check     = true",
                "skip_region_validation      = true",
            ]
            if version[0] < 5:
                arguments.append("skip_get_ec2_platforms      = true")
                arguments.append("s3_force_path_style         = true")
            else:
                arguments.append("s3_use_path_style           = true")
        blocks = []
        for alias in [None, *sorted(set(aliases))]:
            body = [f'  alias = "{alias}"'] if alias else []
            body += [f"  {line}" for line in arguments]
            if self.endpoint_url:
                body += [
                    "  endpoints {",
                    *[f'    {name} = "{self.endpoint_url}"' for name in PROVIDER_ENDPOINTS],
                    "  }",
                ]
            if tags:
                body += [
                    "  default_tags {",
                    "    tags = {",
                    *[f"      {json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(tags.items())],
                    "    }",
                    "  }",
                ]
            blocks.append('provider "aws" {\n' + "\n".join(body) + "\n}\n")
        header = "# Written by fargate-harness into its copy of the scenario; never commit this file.\n"
        return header + "\n".join(blocks)
