"""The one object that answers "where am I talking to": Terraform and boto3 both take it."""

from __future__ import annotations

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
from fargate_harness.targets import botocore_cache

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
    #: a destroy be finished later, so only then does a clean-up hint name a command (see TerraformRun.cleanup_hint).
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
        (``TerraformRun.keep_region``)."""
        variables = {"region": self.region}
        if self.registry_role_arn:
            variables["registry_role_arn"] = self.registry_role_arn
        return variables

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


def fresh_account_id() -> str:
    """A random 12-digit account id for an isolated emulator run (never one of the fixed ones)."""
    return str(700_000_000_000 + secrets.randbelow(99_999_999_999))
