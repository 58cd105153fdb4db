"""The one object that answers "where am I talking to": Terraform and boto3 both take it."""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import boto3
from botocore.config import Config

from fargate_harness.errors import ConfigurationError
from fargate_harness.model.arn import Arn
from fargate_harness.runner.provider_schema import CREDENTIAL_ARGUMENTS, PATH_STYLE_FLAGS, SKIP_FLAGS, ProviderSchema
from fargate_harness.targets import botocore_cache
from fargate_harness.targets.faults import FaultProfile

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

#: boto3 sessions shared by every Target of the process, one per (credentials, region). Creating a session
#: loads botocore's data files (~0.1 s); a client made from an existing session costs a fraction of that.
#: Bounded, because every isolated emulator run brings credentials of its own.
_SESSIONS: OrderedDict[tuple[str | None, str | None, str | None, str], boto3.session.Session] = OrderedDict()
_SESSIONS_MAX = 64
#: boto3 sessions are not thread-safe: sessions and clients are made under this lock (clients themselves are).
_SESSIONS_LOCK = threading.Lock()
#: Every session of the process shares the data files parsed once (:mod:`fargate_harness.targets.botocore_cache`).
botocore_cache.install()


def shared_session(
    access_key: str | None, secret_key: str | None, session_token: str | None, region: str
) -> boto3.session.Session:
    """The process's boto3 session for one set of credentials (None: the default chain) and region."""
    key = (access_key, secret_key, session_token, region)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = boto3.session.Session(
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                aws_session_token=session_token,
                region_name=region,
            )
            _SESSIONS[key] = session
            while len(_SESSIONS) > _SESSIONS_MAX:
                _SESSIONS.popitem(last=False)
        else:
            _SESSIONS.move_to_end(key)
        return session


def session_client(session: boto3.session.Session, service: str, **kwargs: Any) -> Any:
    """A client from a shared session (made under the sessions' lock)."""
    with _SESSIONS_LOCK:
        return session.client(service, **kwargs)


#: The first AWS provider release with ``default_tags`` (the harness's ownership tags go there when it has them).
DEFAULT_TAGS_SINCE = (3, 38)


def provider_release(version: str) -> tuple[int, ...]:
    """``"3.39.0"`` -> ``(3, 39)``: the major and minor of a provider version (non-numeric parts left out)."""
    return tuple(int(p) for p in version.split(".")[:2] if p.isdigit())


def account_of_role(role_arn: str, setting: str) -> str:
    """The account id in an IAM role ARN, or a ConfigurationError naming the setting that held it."""
    return Arn.of_option(role_arn, setting, service="iam", kind="role").account


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
    #: Kept out of the repr: an assertion's introspection or a log line that shows a target never shows its keys.
    secret_key: str | None = field(default=None, repr=False)
    registry_role_arn: str | None = None
    session_token: str | None = field(default=None, repr=False)
    available_services: frozenset[str] | None = None
    guard: Any = field(default=None, repr=False)
    _clients: dict[tuple[str, str, str, int], Any] = field(default_factory=dict, repr=False)
    _role_credentials: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _account: str | None = field(default=None, repr=False)
    #: True when what the run built outlives the run's target (real AWS; an emulator kept running): only then can
    #: a destroy be finished later, so only then does a clean-up hint name a command (see ScenarioRun.cleanup_hint).
    outlives_run: bool = False

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

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the target's background warm-up (emulators) is done; at most ``timeout`` seconds. Nothing
        to wait for here."""

    def stop(self) -> None:
        """Stop what ``start`` started (and the network guard)."""
        self.stop_guard()

    def start_guard(self) -> None:
        """On emulator targets, start the network guard Terraform's requests go through (targets.netguard)."""
        if self.is_emulator and self.guard is None:
            from fargate_harness.targets.netguard import NetworkGuard

            self.guard = NetworkGuard()
            self.guard.start()

    def stop_guard(self) -> None:
        """Stop the network guard, if one runs."""
        if self.guard is not None:
            self.guard.stop()
            self.guard = None

    def missing_services(self, needed: Iterable[str]) -> list[str]:
        """Services in ``needed`` that this target lacks (empty when it has them all or cannot tell)."""
        if self.available_services is None:
            return []
        return sorted(set(needed) - self.available_services)

    def _base_session(self, region: str | None = None) -> boto3.session.Session:
        return shared_session(self.access_key, self.secret_key, self.session_token, region or self.region)

    def client(self, service: str, account: str = "primary", region: str | None = None, *, retries: int = 8) -> Any:
        """A boto3 client for ``service`` in ``region`` (default: the target's) and an account: ``primary``,
        ``registry`` (by assume-role), or a 12-digit account id. On emulators any account id is reachable (a
        role session in that account); on real AWS only the primary and registry accounts are. ``retries``
        bounds botocore's retries after the first attempt (standard mode); 0 for a call whose failure is an
        answer."""
        region = region or self.region
        key = (service, account, region, retries)
        if key in self._clients:
            return self._clients[key]
        config = Config(retries={"mode": "standard", "max_attempts": retries}, connect_timeout=10, read_timeout=60)
        if account == "primary":
            session = self._base_session(region)
        elif account == "registry":
            session = self._session_of(self._registry_session_credentials(), region)
        elif re.fullmatch(r"\d{12}", account):
            if account == self.account_id():
                return self.client(service, "primary", region, retries=retries)
            if account == self.registry_account_id:
                return self.client(service, "registry", region, retries=retries)
            if not self.is_emulator:
                raise ConfigurationError(
                    f"account {account} is neither the target's account nor its registry account; the harness "
                    "cannot read it on real AWS"
                )
            session = self._session_of(self._account_session_credentials(account), region)
        else:
            raise ConfigurationError(f"account must be 'primary', 'registry' or a 12-digit id, not {account!r}")
        client = session_client(session, service, endpoint_url=self.endpoint_url, config=config)
        self._clients[key] = client
        return client

    @staticmethod
    def _session_of(creds: Mapping[str, str], region: str) -> boto3.session.Session:
        return shared_session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], region)

    def _account_session_credentials(self, account: str) -> dict[str, str]:
        """Credentials of a role session in ``account`` (emulators only: moto and LocalStack honour them)."""
        return self._assumed(f"arn:aws:iam::{account}:role/fargate-harness-reader")

    def _registry_session_credentials(self) -> dict[str, str]:
        if not self.registry_role_arn:
            raise ConfigurationError(
                f"target {self.name} has no registry account: set --registry-role-arn / "
                "HARNESS_REGISTRY_ROLE_ARN to a role the harness may assume in the registry account"
            )
        return self._assumed(self.registry_role_arn)

    def _assumed(self, role_arn: str) -> dict[str, str]:
        """Credentials of a role session (asked once per role and target)."""
        if role_arn not in self._role_credentials:
            answer = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="fargate-harness")
            self._role_credentials[role_arn] = dict(answer["Credentials"])
        return self._role_credentials[role_arn]

    @property
    def known_account_id(self) -> str | None:
        """The primary account id if it was already asked for (no request is made)."""
        return self._account

    def account_id(self) -> str:
        """The primary account id, from ``sts:GetCallerIdentity`` (asked once)."""
        if self._account is None:
            self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account

    def terraform_env(self) -> dict[str, str]:
        """Environment for Terraform: region always, static credentials for emulators."""
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.access_key and self.secret_key:
            env["AWS_ACCESS_KEY_ID"] = self.access_key
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_key
            if self.session_token:
                env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def scenario_variables(self) -> dict[str, str]:
        """Variables the target supplies to every scenario that declares them. ``region`` is imposed on the
        harness's reference scenarios only; any other configuration gets it only where it gives no value itself
        (``ScenarioRun.keep_region``)."""
        variables = {"region": self.region}
        if self.registry_role_arn:
            variables["registry_role_arn"] = self.registry_role_arn
        return variables

    def provider_override(
        self,
        provider_version: str,
        aliases: Iterable[str | None],
        default_tags: Mapping[str, str] | None = None,
        schema: ProviderSchema | None = None,
        include_default: bool = True,
        *,
        local_name: str = "aws",
        own_tags: Mapping[str | None, Mapping[str, str] | str] | None = None,
    ) -> str | None:
        """HCL for the harness's override file: ``provider "aws"`` configurations (the default, unless
        ``include_default`` is false, and each alias) pointed at the emulator, carrying ``default_tags``
        where the provider supports them (>= 3.38).

        Terraform's override files replace a nested block whole
        (https://developer.hashicorp.com/terraform/language/files/override#merging-nested-blocks), so the
        generated ``default_tags`` carries the configuration's own (``own_tags``: alias -> the block's literal
        tags, or the expression its ``tags`` are) with the harness's ``default_tags`` merged in: a literal map
        gets the harness's keys added, an expression becomes ``merge(<expression>, {<harness's tags>})``. The
        harness's keys win a clash (they mark what the sweeper may remove). Other nested blocks of the
        configuration (``ignore_tags``, ``assume_role``) are never written here, so they are kept.

        With ``schema`` (what the selected provider version accepts, :mod:`~runner.provider_schema`) every
        endpoint the provider knows is redirected, every skip flag it knows is set and the arguments that pin
        real credentials or account ids are set to null. Without it, a fallback for the version's major.
        None when there is nothing to override (real AWS and no tags). ``local_name``: the name the module
        gives ``hashicorp/aws`` in its ``required_providers`` (``provider "<local_name>"`` blocks are written).
        """
        version = provider_release(provider_version)
        tags = dict(default_tags or {}) if version >= DEFAULT_TAGS_SINCE else {}
        if not self.endpoint_url and not tags:
            return None
        arguments = self._emulator_arguments(version, schema) if self.endpoint_url else []
        endpoints = schema.endpoints if schema is not None else PROVIDER_ENDPOINTS
        blocks = []
        names: list[str | None] = [None] if include_default else []
        names += sorted({a for a in aliases if a})
        for alias in names:
            body = [f'  alias = "{alias}"'] if alias else []
            body += [f"  {line}" for line in arguments]
            if self.endpoint_url:
                body += ["  endpoints {", *[f'    {name} = "{self.endpoint_url}"' for name in endpoints], "  }"]
            if tags:
                body += _default_tags_block(tags, (own_tags or {}).get(alias))
            blocks.append(f'provider "{local_name}" {{\n' + "\n".join(body) + "\n}\n")
        header = "# Written by fargate-harness into its copy of the configuration; never commit this file.\n"
        return header + "\n".join(blocks)

    def _emulator_arguments(self, version: tuple[int, ...], schema: ProviderSchema | None) -> list[str]:
        """Credentials, skip flags and path-style addressing for an emulator, as this provider spells them."""
        arguments = [
            f'access_key                  = "{self.access_key}"',
            f'secret_key                  = "{self.secret_key}"',
        ]
        if self.session_token:
            arguments.append(f'token                       = "{self.session_token}"')
        if schema is None:
            flags = ["skip_credentials_validation", "skip_metadata_api_check", "skip_region_validation"]
            flags += ["skip_get_ec2_platforms", "s3_force_path_style"] if version[0] < 5 else ["s3_use_path_style"]
            arguments += [f"{flag:<27} = true" for flag in flags]
        else:
            known = schema.arguments
            arguments += [f"{flag:<27} = true" for flag in (*SKIP_FLAGS, *PATH_STYLE_FLAGS) if flag in known]
            arguments += [f"{name:<27} = null" for name in CREDENTIAL_ARGUMENTS if name in known]
        # every release has max_retries; a schema says so too
        if (schema is None or "max_retries" in schema.arguments) and FaultProfile.from_env() is None:
            arguments.append(f"{'max_retries':<27} = {EMULATOR_MAX_RETRIES}")
        return arguments

    def derived(self, **changes: Any) -> Target:
        """A plain :class:`Target` on the same endpoint and region with some fields changed (own client and
        credential caches: the private fields start empty)."""
        values = {f.name: getattr(self, f.name) for f in fields(Target) if not f.name.startswith("_")}
        return Target(**{**values, **changes})

    def in_account(self, account: str) -> Target:
        """The same endpoint and region, reading ``account``: ``self`` for the target's own account; on emulators,
        which honour any role, a role session there (a configuration whose provider assumes a role in an account
        of its own built its resources in that account, and they are read where they are).
        ConfigurationError on real AWS, where the harness holds no credentials for another account."""
        if account == self.account_id():
            return self
        if not self.is_emulator:
            raise ConfigurationError(
                f"account {account} is not the target's account {self.account_id()}; the harness cannot read it on "
                "real AWS (give credentials of that account)"
            )
        creds = self._account_session_credentials(account)
        other = self.derived(
            access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"]
        )
        other._account = account
        return other

    def isolated(self, label: str) -> Target:
        """A target for one configuration whose resource names the harness cannot make unique (no
        ``name_prefix``): on emulators, the same endpoint with credentials of a fresh account, so fixed names
        never collide with another configuration's; on real AWS, ``self`` (the runner serializes such runs).
        """
        return self


#: The provider's ``max_retries`` on emulators. An emulator answers an action it does not implement with HTTP 500,
#: which the provider retries 25 times by default, with exponential backoff: the destroy of a configuration with
#: an ``aws_efs_file_system_policy`` hung for more than ten minutes on moto 5.2.5. With 5 retries the same
#: destroy failed, with its error, in 62 s, the harness's own retries included. An emulator has no throttling
#: to wait out. Under fault injection (``HARNESS_FAULTS``) the provider keeps its default, because there the
#: retries are what is tested (the heavy profile fails 35 % of requests).
EMULATOR_MAX_RETRIES = 5


def _default_tags_block(tags: Mapping[str, str], own: Mapping[str, str] | str | None) -> list[str]:
    """The lines of a ``default_tags`` block: the configuration's own tags (``own``) with ``tags`` merged in."""
    if isinstance(own, str):
        return [
            "  default_tags {",
            f"    tags = merge({own}, {{",
            *[f"      {json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(tags.items())],
            "    })",
            "  }",
        ]
    merged = {**(own or {}), **dict(sorted(tags.items()))}
    return [
        "  default_tags {",
        "    tags = {",
        *[f"      {json.dumps(k)} = {json.dumps(v)}" for k, v in merged.items()],
        "    }",
        "  }",
    ]


def fresh_account_id() -> str:
    """A random 12-digit account id for an isolated emulator run (never one of the fixed ones)."""
    return str(700_000_000_000 + secrets.randbelow(99_999_999_999))
