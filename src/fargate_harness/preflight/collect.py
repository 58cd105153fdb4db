"""Read, through boto3 on a target, everything preflight evaluates: role policies, resource policies, facts.

One :class:`AwsFacts` caches what it reads (managed policy documents, key policies, repository
policies...), so a preflight of many task definitions that share roles and resources reads each once.
A fresh :class:`AwsFacts` reads every customer resource again; only what customers cannot change (the AWS
managed policies) is shared between them, per AWS endpoint.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from fargate_harness.aws import ecr, efs, iam, kms, logs, s3, secrets, ssm
from fargate_harness.aws._policy import decode_document, raise_if_not_found
from fargate_harness.errors import ResourceNotFoundError
from fargate_harness.preflight.requirements import (
    SECRETS_MANAGER_REFERENCE,
    Facts,
    arn_parts,
    parameter_location,
    parameter_value_froms,
)
from fargate_harness.targets.base import Target

_T = TypeVar("_T")

AWS_MANAGED_POLICY_PREFIXES = (
    "arn:aws:iam::aws:policy/",
    "arn:aws-cn:iam::aws:policy/",
    "arn:aws-us-gov:iam::aws:policy/",
)


@dataclass(frozen=True)
class RolePolicies:
    """A role's identity side: its policies by label, which of them are AWS managed, its boundary, its tags."""

    arn: str
    name: str
    policies: dict[str, dict[str, Any]]
    aws_managed: frozenset[str]
    boundary: dict[str, Any] | None
    tags: dict[str, str]
    trust: dict[str, Any] | None = None  # the role's trust policy (AssumeRolePolicyDocument); None for users

    @property
    def account(self) -> str:
        """The role's account id."""
        return arn_parts(self.arn)[3]


class PreflightFacts(Facts, Protocol):
    """What the analysis consumes, wherever the facts come from: live reads on a target (:class:`AwsFacts`), a
    Terraform plan (:class:`~fargate_harness.preflight.plan_facts.PlanFacts`), or both. Roles and their policies
    (managed policy documents included), resource policies (repositories, keys, secrets, buckets, file systems) and
    the facts of :class:`~fargate_harness.preflight.requirements.Facts` (secrets, parameters, keys, log groups,
    repositories and images, objects, file systems)."""

    #: What could not be read, in words (a note of every report).
    unreadable: list[str]
    #: What the emulator could not answer (never a finding about the configuration).
    emulator_gaps: list[str]

    def primary_account(self) -> str:
        """The account the task definitions run in."""

    def role(self, role_arn: str) -> RolePolicies:
        """A role's inline, attached managed and boundary policies, tags and trust policy."""

    def principal(self, arn: str) -> RolePolicies:
        """The identity policies of a role, an assumed-role session or a user."""

    def repository_policy(self, repository_arn: str) -> dict[str, Any] | None:
        """The ECR repository policy (None: none)."""

    def key_policy(self, key_arn: str) -> dict[str, Any] | None:
        """The KMS key policy (None: cannot be read)."""

    def secret_policy(self, secret_arn: str) -> dict[str, Any] | None:
        """The secret's resource policy (None: none)."""

    def bucket_policy(self, bucket_arn: str) -> dict[str, Any] | None:
        """The S3 bucket policy (None: none)."""

    def file_system_policy(self, file_system_arn: str) -> dict[str, Any] | None:
        """The EFS file system policy, or EFS's default one."""

    def read_parameters(self, task_definition: Mapping[str, Any], account: str, region: str, partition: str) -> None:
        """Read ahead every SSM parameter the task definition names (may do nothing)."""

    def gaps_for(self, resources: set[str], *, pull_through: bool) -> list[str]:
        """The emulator gaps that concern ``resources``."""


#: Documents of AWS managed policies read so far, per AWS endpoint (a target and the targets derived from it
#: share one): endpoint -> policy ARN -> default version document. Customers cannot change an AWS managed
#: policy; AWS publishes a new default version a few times a year, so a harness process (minutes) reads each
#: once instead of once per AwsFacts.
_AWS_MANAGED: dict[str | None, dict[str, dict[str, Any]]] = {}
_AWS_MANAGED_LOCK = threading.Lock()


def aws_managed_policy_document(target: Target, client: Any, policy_arn: str) -> dict[str, Any]:
    """The default version document of an AWS managed policy (``GetPolicy`` for the default version id, then
    that version), read once per AWS endpoint and process; a copy is returned."""
    with _AWS_MANAGED_LOCK:
        document = _AWS_MANAGED.get(target.endpoint_url, {}).get(policy_arn)
    if document is None:
        try:
            version_id = str(client.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"])
            version = client.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)
        except client.exceptions.ClientError as error:
            raise_if_not_found(error, ("NoSuchEntity",), f"IAM managed policy {policy_arn!r}")
            raise
        document = decode_document(version["PolicyVersion"]["Document"])
        with _AWS_MANAGED_LOCK:
            _AWS_MANAGED.setdefault(target.endpoint_url, {})[policy_arn] = document
    return copy.deepcopy(document)


#: The subject of an emulator gap about a registry's pull through cache rules.
PULL_THROUGH = "pull-through-cache-rules"


def _unpartitioned(arn: str) -> str:
    """An ARN without its partition (gaps are recorded before the task's partition is known)."""
    return arn.split(":", 2)[2] if arn.startswith("arn:") and arn.count(":") >= 2 else arn


#: (emulator endpoint, operation) pairs the emulator answered with a server error: not asked again.
_UNANSWERED: set[tuple[str | None, str]] = set()


def emulator_label(target: Target) -> str:
    """How reports name the emulator behind ``target``: "the embedded emulator (moto 5.2.5)", "the LocalStack
    emulator", or the emulator at its endpoint."""
    if target.name == "embedded":
        try:
            version = importlib.metadata.version("moto")
        except importlib.metadata.PackageNotFoundError:
            return "the embedded emulator (moto)"
        return f"the embedded emulator (moto {version})"
    if target.name == "localstack":
        return "the LocalStack emulator"
    return f"the emulator at {target.endpoint_url}"


def role_name(role_arn: str) -> str:
    """The role name of a role ARN (paths dropped)."""
    return arn_parts(role_arn)[4].split("/")[-1]


#: Attempts of a read made without botocore's retries (see :func:`_asked_again_without_an_answer`).
_UNANSWERED_ATTEMPTS = 3
_THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException")


def _asked_again_without_an_answer(read: Callable[[], _T]) -> _T:
    """``read()``, asked again (up to :data:`_UNANSWERED_ATTEMPTS` times) while it gets no answer: a connection
    closed or refused, a read timed out, or a throttle. For the reads made without botocore's retries because an
    error status is itself the answer (an emulator's 500 for an API it lacks); the last failure is raised."""
    for attempt in range(1, _UNANSWERED_ATTEMPTS + 1):
        try:
            return read()
        except (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError):
            if attempt == _UNANSWERED_ATTEMPTS:
                raise
        except ClientError as error:
            if _client_error_code(error) not in _THROTTLED or attempt == _UNANSWERED_ATTEMPTS:
                raise
        time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _client_error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


@dataclass
class LiveReader:
    """The plumbing of live reads on a target: clients per account, one cache, and what could not be read (emulator
    gaps apart). :class:`AwsFacts` reads the facts through it."""

    target: Target
    _managed: dict[str, dict[str, Any]] = field(default_factory=dict)
    _roles: dict[str, RolePolicies] = field(default_factory=dict)
    _cache: dict[tuple[str, ...], Any] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    #: What the emulator could not answer: never a finding about the configuration (see :func:`emulator_label`).
    emulator_gaps: list[str] = field(default_factory=list)
    #: gap -> the resource it concerns (an ARN), or :data:`PULL_THROUGH` for the registry's rules.
    gap_subjects: dict[str, str] = field(default_factory=dict)

    def _unanswered(self, error: Exception, note: str, *, operation: str, subject: str) -> None:
        """Record a read that failed: an emulator's server error is an emulator gap about ``subject``; anything
        else (access denied on AWS...) a note."""
        code = _client_error_code(error)
        if self.target.is_emulator and code.startswith("5"):
            gap = f"{emulator_label(self.target)} does not answer {operation} (HTTP {code}): {note} was not read"
            if gap not in self.emulator_gaps:
                self.emulator_gaps.append(gap)
            self.gap_subjects[gap] = subject
            return
        self.unreadable.append(f"{note}: {code}")

    def gaps_for(self, resources: set[str], *, pull_through: bool) -> list[str]:
        """The emulator gaps that concern ``resources`` (and the pull through cache rules when ``pull_through``)."""
        wanted = {_unpartitioned(r) for r in resources} | ({PULL_THROUGH} if pull_through else set())
        return [gap for gap in self.emulator_gaps if _unpartitioned(self.gap_subjects.get(gap, "")) in wanted]

    def _account(self, account: str) -> str | None:
        """The Target account label ("primary"/"registry") for an account id, or None if unreachable."""
        if account == self._primary():
            return "primary"
        if account == self.target.registry_account_id:
            return "registry"
        return None

    def reaches(self, account: str) -> bool:
        """True when the target can read ``account`` (its primary or registry account; any on an emulator)."""
        return self._account(account) is not None or (self.target.is_emulator and account.isdigit())

    def _primary(self) -> str:
        key = ("primary-account",)
        if key not in self._cache:
            self._cache[key] = self.target.account_id()
        return str(self._cache[key])

    def client(self, service: str, account: str, region: str | None = None, retries: int = 8) -> Any | None:
        """A client in ``account`` and ``region`` (default: the target's), or None (recorded in ``unreadable``)
        when the harness cannot reach that account."""
        label = self._account(account)
        if label is None and self.target.is_emulator and account.isdigit():
            label = account  # an emulator serves every account (a role session in it)
        if label is None:
            note = f"account {account} is not reachable from target {self.target.name}"
            if note not in self.unreadable:
                self.unreadable.append(note)
            return None
        return self.target.client(service, account=label, region=region or None, retries=retries)

    def _memo(self, key: tuple[str, ...], read: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]


@dataclass
class AwsFacts(LiveReader):
    """Facts and policies read from a target; the primary account, and the registry account when it has one."""

    def primary_account(self) -> str:
        """The account the task definitions run in (the target's primary account)."""
        return self._primary()

    # -- identity side --------------------------------------------------------------------------
    def role(self, role_arn: str) -> RolePolicies:
        """Inline, attached managed (default version) and boundary policies of a role."""
        if role_arn in self._roles:
            return self._roles[role_arn]
        client = self.client("iam", arn_parts(role_arn)[3])
        if client is None:
            raise ResourceNotFoundError(f"role {role_arn} is in an account the target cannot read")
        name = role_name(role_arn)
        described = iam.get_role(client, name)
        policies: dict[str, dict[str, Any]] = {}
        managed: set[str] = set()
        for policy_arn in iam.get_attached_policy_arns(client, name):
            policies[policy_arn] = self.managed_policy(client, policy_arn)
            if policy_arn.startswith(AWS_MANAGED_POLICY_PREFIXES):
                managed.add(policy_arn)
        for policy_name, document in iam.get_inline_policies(client, name).items():
            policies[f"{name}/{policy_name}"] = document
        boundary_arn = (described.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        boundary = self.managed_policy(client, boundary_arn) if boundary_arn else None
        tags = {t["Key"]: t["Value"] for t in described.get("Tags") or []}
        trust = described.get("AssumeRolePolicyDocument")
        result = RolePolicies(
            str(described.get("Arn") or role_arn), name, policies, frozenset(managed), boundary, tags, trust
        )
        self._roles[role_arn] = result
        return result

    def principal(self, arn: str) -> RolePolicies:
        """The identity policies of a role, an assumed-role session (its role) or a user (with its groups')."""
        partition, service, _region, account, resource = arn_parts(arn)
        if service == "sts" and resource.startswith("assumed-role/"):
            role = self.role(f"arn:{partition}:iam::{account}:role/{resource.split('/')[1]}")
            return RolePolicies(arn, role.name, role.policies, role.aws_managed, role.boundary, role.tags, role.trust)
        if not resource.startswith("user/"):
            return self.role(arn)
        if arn in self._roles:
            return self._roles[arn]
        client = self.client("iam", account)
        if client is None:
            raise ResourceNotFoundError(f"user {arn} is in an account the target cannot read")
        name = resource.split("/")[-1]
        attached, inline = iam.get_user_policies(client, name)
        policies = {policy_arn: self.managed_policy(client, policy_arn) for policy_arn in attached}
        policies.update(inline)
        managed = frozenset(a for a in attached if a.startswith(AWS_MANAGED_POLICY_PREFIXES))
        user = client.get_user(UserName=name)["User"]
        boundary_arn = (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        boundary = self.managed_policy(client, boundary_arn) if boundary_arn else None
        tags = {t["Key"]: t["Value"] for t in user.get("Tags") or []}
        result = RolePolicies(arn, name, policies, managed, boundary, tags)
        self._roles[arn] = result
        return result

    def policy_document(self, policy_arn: str) -> dict[str, Any]:
        """A managed policy's default version document, by ARN (see :meth:`managed_policy`)."""
        client = self.client("iam", arn_parts(policy_arn)[3]) if arn_parts(policy_arn)[3] != "aws" else None
        client = client or self.client("iam", self._primary())
        if client is None:
            raise ResourceNotFoundError(f"policy {policy_arn} is in an account the target cannot read")
        return self.managed_policy(client, policy_arn)

    def managed_policy(self, client: Any, policy_arn: str) -> dict[str, Any]:
        """A managed policy's default version document (cached: AWS managed ones are shared by every role, and
        by every AwsFacts on the same AWS endpoint; customer managed ones are read by each AwsFacts)."""
        if policy_arn not in self._managed:
            if policy_arn.startswith(AWS_MANAGED_POLICY_PREFIXES):
                self._managed[policy_arn] = aws_managed_policy_document(self.target, client, policy_arn)
            else:
                self._managed[policy_arn] = iam.get_managed_policy_document(client, policy_arn)
        return self._managed[policy_arn]

    # -- resource policies ----------------------------------------------------------------------
    def repository_policy(self, repository_arn: str) -> dict[str, Any] | None:
        """The repository policy (None when the repository has none or cannot be read)."""
        _p, _s, region, account, resource = arn_parts(repository_arn)
        name = resource.removeprefix("repository/")

        def read() -> dict[str, Any] | None:
            client = self.client("ecr", account, region)
            if client is None:
                return None
            try:
                return ecr.get_repository_policy(client, name, registry_id=account)
            except ResourceNotFoundError:
                return None

        return self._memo(("repo-policy", repository_arn), read)  # type: ignore[no-any-return]

    def key_policy(self, key_arn: str) -> dict[str, Any] | None:
        """The key policy named ``default`` (None when it cannot be read)."""

        def read() -> dict[str, Any] | None:
            client = self.client("kms", arn_parts(key_arn)[3], arn_parts(key_arn)[2])
            if client is None:
                return None
            try:
                text = client.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
            except client.exceptions.ClientError as error:
                self._unanswered(error, f"key policy of {key_arn}", operation="kms:GetKeyPolicy", subject=key_arn)
                return None
            return dict(json.loads(text))

        return self._memo(("key-policy", key_arn), read)  # type: ignore[no-any-return]

    def secret_policy(self, secret_arn: str) -> dict[str, Any] | None:
        """The secret's resource policy (None when it has none)."""

        def read() -> dict[str, Any] | None:
            client = self.client("secretsmanager", arn_parts(secret_arn)[3], arn_parts(secret_arn)[2])
            if client is None:
                return None
            try:
                text = client.get_resource_policy(SecretId=secret_arn).get("ResourcePolicy")
            except client.exceptions.ClientError:
                return None
            return dict(json.loads(text)) if text else None

        return self._memo(("secret-policy", secret_arn), read)  # type: ignore[no-any-return]

    def bucket_policy(self, bucket_arn: str) -> dict[str, Any] | None:
        """The bucket policy (None when the bucket has none or cannot be read)."""
        bucket = bucket_arn.split(":::", 1)[-1].split("/", 1)[0]

        def read() -> dict[str, Any] | None:
            owner = self.bucket_owner(bucket)
            client = self.client("s3", owner) if owner else None
            if client is None:
                return None
            try:
                return s3.get_bucket_policy(client, bucket)
            except ResourceNotFoundError:
                return None

        return self._memo(("bucket-policy", bucket), read)  # type: ignore[no-any-return]

    def file_system_policy(self, file_system_arn: str) -> dict[str, Any] | None:
        """The file system policy, or EFS's default policy when the file system has none."""
        _p, _s, region, account, resource = arn_parts(file_system_arn)

        def read() -> dict[str, Any] | None:
            client = self.client("efs", account, region)
            if client is None:
                return None
            try:
                found = efs.get_file_system_policy(client, resource.removeprefix("file-system/"))
            except ResourceNotFoundError:
                return None
            return found if found is not None else efs.DEFAULT_FILE_SYSTEM_POLICY

        return self._memo(("fs-policy", file_system_arn), read)  # type: ignore[no-any-return]

    # -- facts (the requirements.Facts protocol) --------------------------------------------------
    def secret(self, secret_id: str) -> Mapping[str, Any] | None:
        """DescribeSecret, or None when the secret does not exist."""
        account = arn_parts(secret_id)[3] if secret_id.startswith("arn:") else self._primary()
        region = arn_parts(secret_id)[2] if secret_id.startswith("arn:") else None

        def read() -> Mapping[str, Any] | None:
            client = self.client("secretsmanager", account, region)
            if client is None:
                return None
            try:
                return secrets.get_secret_metadata(client, secret_id)
            except ResourceNotFoundError:
                return None

        return self._memo(("secret", secret_id), read)  # type: ignore[no-any-return]

    def parameter(self, name: str, account: str, region: str) -> Mapping[str, Any] | None:
        """DescribeParameters entry, or None when the parameter does not exist."""

        def read() -> Mapping[str, Any] | None:
            client = self.client("ssm", account, region)
            if client is None:
                return None
            try:
                return ssm.get_parameter_metadata(client, name)
            except ResourceNotFoundError:
                return None

        return self._memo(("parameter", account, region, name), read)  # type: ignore[no-any-return]

    def read_parameters(self, task_definition: Mapping[str, Any], account: str, region: str, partition: str) -> None:
        """Read every SSM parameter the task definition names with one DescribeParameters per account and
        region (instead of one per parameter); :meth:`parameter` then answers from what was read."""
        wanted: dict[tuple[str, str], list[str]] = {}
        for value_from in parameter_value_froms(task_definition):
            try:
                name, owner, where, _partition = parameter_location(
                    value_from, account=account, region=region, partition=partition
                )
            except ValueError:
                continue  # a malformed ARN: derive reports it
            if not name.startswith(SECRETS_MANAGER_REFERENCE) and ("parameter", owner, where, name) not in self._cache:
                wanted.setdefault((owner, where), []).append(name)
        for (owner, where), names in wanted.items():
            client = self.client("ssm", owner, where)
            if client is None:
                continue
            found = ssm.get_parameters_metadata(client, names)
            for name in names:
                self._cache[("parameter", owner, where, name)] = found.get(name)

    def key_arn(self, key_id: str, account: str, region: str) -> str | None:
        """The key ARN for an id, alias or ARN, or None when there is no such key."""

        def read() -> str | None:
            owner = arn_parts(key_id)[3] if key_id.startswith("arn:") else account
            client = self.client("kms", owner, arn_parts(key_id)[2] if key_id.startswith("arn:") else region)
            if client is None:
                return None
            try:
                return str(kms.get_key_metadata(client, key_id)["Arn"])
            except ResourceNotFoundError:
                return None

        return self._memo(("key", account, region, key_id), read)  # type: ignore[no-any-return]

    def log_group(self, name: str, account: str, region: str) -> Mapping[str, Any] | None:
        """The DescribeLogGroups entry of the group (None when it is missing; ``{}`` when it cannot be looked up)."""

        def read() -> Mapping[str, Any] | None:
            client = self.client("logs", account, region)
            if client is None:
                return {}  # cannot tell: do not report a missing group we could not look for
            try:
                return logs.get_log_group(client, name)
            except ResourceNotFoundError:
                return None

        return self._memo(("log-group", account, region, name), read)  # type: ignore[no-any-return]

    def log_group_exists(self, name: str, account: str, region: str) -> bool:
        """True when the log group exists (or cannot be looked up)."""
        return self.log_group(name, account, region) is not None

    def log_group_kms_key(self, name: str, account: str, region: str) -> str | None:
        """The KMS key the log group is encrypted with (``kmsKeyId``), None when it has none."""
        group = self.log_group(name, account, region) or {}
        key = group.get("kmsKeyId")
        return str(key) if key else None

    def secret_value_shape(
        self, secret_arn: str, version_id: str | None, version_stage: str | None
    ) -> secrets.SecretValueShape | None:
        """Whether the secret version's value is a JSON object, and its keys: read with GetSecretValue and kept only
        as that shape (the value is never stored, logged or returned). None when it cannot be read (noted)."""
        _p, _s, region, account, _r = arn_parts(secret_arn)

        def read() -> secrets.SecretValueShape | None:
            client = self.client("secretsmanager", account, region)
            if client is None:
                return None
            try:
                return secrets.get_secret_value_shape(
                    client, secret_arn, version_id=version_id, version_stage=version_stage
                )
            except ResourceNotFoundError:
                return None  # the version is judged from DescribeSecret
            except client.exceptions.ClientError as error:
                self.unreadable.append(
                    f"the value of secret {secret_arn} could not be read to check its JSON keys "
                    f"({_client_error_code(error)}): the JSON key was not checked"
                )
                return None

        key = ("secret-shape", secret_arn, version_id or "", version_stage or "")
        return self._memo(key, read)  # type: ignore[no-any-return]

    def repository_exists(self, name: str, account: str, region: str) -> bool:
        """True when the repository exists (or cannot be looked up)."""

        def read() -> bool:
            client = self.client("ecr", account, region)
            if client is None:
                return True
            try:
                ecr.get_repository(client, name, registry_id=account)
            except ResourceNotFoundError:
                return False
            return True

        return bool(self._memo(("repository", account, region, name), read))

    def image_ids(self, name: str, account: str, region: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """(tags, digests) of the repository's images, one ``describe_images`` per repository."""

        def read() -> tuple[frozenset[str], frozenset[str]] | None:
            client = self.client("ecr", account, region)
            if client is None:
                return None
            try:
                return ecr.get_image_ids(client, name, registry_id=account)
            except ResourceNotFoundError:
                return None
            except client.exceptions.ClientError as error:
                self._unanswered(
                    error,
                    f"images of ECR repository {name} in {account}",
                    operation="ecr:DescribeImages",
                    subject=f"arn:aws:ecr:{region}:{account}:repository/{name}",
                )
                return None

        return self._memo(("images", account, region, name), read)  # type: ignore[no-any-return]

    def pull_through_rules(self, account: str, region: str) -> list[dict[str, Any]]:
        """The registry's pull through cache rules, read once per registry."""

        def read() -> list[dict[str, Any]]:
            note = f"pull through cache rules of registry {account}/{region}"
            unanswered = (self.target.endpoint_url, "ecr:DescribePullThroughCacheRules")
            gap = (
                f"{emulator_label(self.target)} does not implement ecr:DescribePullThroughCacheRules (it answers HTTP "
                "500): pull through cache rules were not read, so an ECR repository that is missing is reported "
                "missing even if a rule would create it on AWS"
            )
            if unanswered in _UNANSWERED:
                if gap not in self.emulator_gaps:
                    self.emulator_gaps.append(gap)
                self.gap_subjects[gap] = PULL_THROUGH
                return []
            # moto lacks the API and answers 500, which botocore would retry 8 times (10 s): once on emulators
            client = self.client("ecr", account, region, retries=0 if self.target.is_emulator else 8)
            if client is None:
                return []
            try:
                return _asked_again_without_an_answer(
                    lambda: ecr.get_pull_through_cache_rules(client, registry_id=account)
                )
            except (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError) as error:
                self.unreadable.append(f"{note}: no answer ({type(error).__name__})")
                return []
            except client.exceptions.ClientError as error:  # moto lacks the API; AWS may deny it
                code = _client_error_code(error)
                if self.target.is_emulator and code.startswith("5"):
                    _UNANSWERED.add(unanswered)
                    if gap not in self.emulator_gaps:
                        self.emulator_gaps.append(gap)
                    self.gap_subjects[gap] = PULL_THROUGH
                    return []
                self.unreadable.append(f"{note}: {code}")
                return []

        return list(self._memo(("ptc-rules", account, region), read))

    def bucket_owner(self, bucket: str) -> str | None:
        """The reachable account (primary, then registry) whose S3 holds the bucket."""

        def read() -> str | None:
            registry = self.target.registry_account_id
            for account in [self._primary(), *([registry] if registry else [])]:
                client = self.client("s3", account)
                if client is None:
                    continue
                try:
                    client.head_bucket(Bucket=bucket)
                except client.exceptions.ClientError:
                    continue
                return account
            return None

        return self._memo(("bucket-owner", bucket), read)  # type: ignore[no-any-return]

    def object_metadata(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        """HeadObject of the object (no content), None when it is missing."""

        def read() -> Mapping[str, Any] | None:
            owner = self.bucket_owner(bucket)
            client = self.client("s3", owner) if owner else None
            if client is None:
                return None
            try:
                return s3.get_object_metadata(client, bucket, key)
            except ResourceNotFoundError:
                return None

        return self._memo(("object", bucket, key), read)  # type: ignore[no-any-return]

    def file_system(self, file_system_id: str, account: str, region: str) -> Mapping[str, Any] | None:
        """DescribeFileSystems entry, None when the file system does not exist."""

        def read() -> Mapping[str, Any] | None:
            client = self.client("efs", account, region)
            if client is None:
                return {}  # cannot tell: do not report a file system we could not look for
            try:
                return efs.get_file_system(client, file_system_id)
            except ResourceNotFoundError:
                return None

        return self._memo(("file-system", account, region, file_system_id), read)  # type: ignore[no-any-return]
