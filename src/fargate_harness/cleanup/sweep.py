"""Find and delete what harness runs left behind: every resource the harness owns, by tag or by name prefix.

``fargate-harness sweep`` calls :func:`sweep`. It looks in the primary account and, when the target has a
registry role, in the registry account (or in the account ids it is given: :class:`AccountClients`), for:

- resources tagged :data:`~.ownership.MARKER_KEY` = :data:`~.ownership.MARKER_VALUE`, read
  from each service and from the Resource Groups Tagging API (``GetResources``), which also reports tagged
  resources of types no kind below knows (they are listed as failures: nothing can delete them here);
- resources whose name carries a run's prefix (``fh-<worker>-<6 hex>``, :data:`HARNESS_PREFIX`), even
  without tags: the AWS provider 3.x creates some resources (an S3 bucket) and tags them in a second call,
  so a run killed in between leaves an untagged resource that only its name identifies. Only prefixes of
  the harness's shape, or prefixes read from the harness's own run folders (:mod:`fargate_harness.cleanup.leftovers`),
  are ever matched; an explicitly unmarked resource (marker tag with another value) never is.

Resources are deleted in dependency order (:data:`KINDS`): scaling policies and targets, alarms, ECS
services, service discovery, task definitions, clusters, listeners, load balancers, target groups, EFS
access points, mount targets and file systems, repositories, log groups, secrets, parameters, keys,
buckets, tables, security groups (cross-references revoked first), subnets, route tables, internet
gateways, VPCs, then roles and customer managed policies, because the others reference them. An
optional cut-off keeps resources created more recently (tag :data:`~fargate_harness.model.ownership.CREATED_KEY`, else
the creation time the service reports).

Each resource kind is one row of :data:`~fargate_harness.cleanup.kinds.KINDS`: a finder that yields every
resource of the kind with its tags and names, and a deleter for one resource (or a batch deleter), both from the
service's module in :mod:`fargate_harness.cleanup.finders`. Every deletion is independent: an
error is recorded on its :class:`SweepItem` and the sweep goes on.

moto 5.2.5 serves every API used here. Its ``GetResources`` covers EC2, ECS, ELBv2 (not listeners), EFS,
Logs, S3, KMS, Secrets Manager, SSM and CloudWatch, but not IAM, ECR, DynamoDB, Service Discovery or
Application Auto Scaling (their tags are read from the services themselves). moto does not refuse to
delete a security group another group references, nor a namespace that still has services, as AWS does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from fargate_harness.cleanup.finders.common import describe_error, key_value, pages
from fargate_harness.cleanup.kinds import KINDS, Kind
from fargate_harness.errors import ConfigurationError
from fargate_harness.model.arn import Arn
from fargate_harness.model.ownership import (
    MARKER_KEY,
    MARKER_VALUE,
    PREFIX_KEY,
    RUN_ID_KEY,
    created_at,
    is_owned,
    now_utc,
)

__all__ = [
    "HARNESS_PREFIX",
    "KINDS",
    "AccountClients",
    "Kind",
    "SweepItem",
    "SweepReport",
    "is_harness_prefix",
    "parse_duration",
    "sweep",
]

ACCOUNTS = ("primary", "registry")

#: Identifier of a :attr:`SweepReport.skipped` entry that stands for a whole kind that could not be listed.
WHOLE_KIND = "*"

#: The shape of the prefix every harness run gives its resource names (``configurations.unique_prefix``).
HARNESS_PREFIX = re.compile(r"fh-[a-z0-9]{1,6}-[0-9a-f]{6}")
_PREFIX_IN_SEGMENT = re.compile(rf"({HARNESS_PREFIX.pattern})(?=$|[-_.])")
_SEGMENT_SEPARATORS = re.compile(r"[/:|]")
#: The role assumed in an emulator account that is neither the target's primary nor its registry account.

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_FORMS = (
    "a whole number of days, hours, minutes and/or seconds in that order, such as 90s, 30m, 2h, 1d or 1h30m"
)
_ACCOUNT_ID = re.compile(r"\d{12}")


class SweepTarget(Protocol):
    """What :func:`sweep` needs of a target: boto3 clients per account, and whether a registry exists."""

    registry_role_arn: str | None

    def client(self, service: str, account: str = "primary") -> Any:
        """A boto3 client for ``service`` in ``account``."""


@dataclass
class SweepItem:
    """One owned resource: where it is, what it is, when it was created, and what became of it.

    ``matched`` says how it was recognised: ``"tag"`` (the ownership marker) or ``"prefix"`` (its name);
    ``prefix`` is the run prefix it carries (tag or name), when known. ``error`` is
    ``"<AWS error code>: <message>"`` when deletion failed, empty otherwise.
    """

    account: str
    kind: str
    identifier: str
    created: dt.datetime | None
    deleted: bool = False
    error: str = ""
    matched: str = "tag"
    prefix: str = field(default="", compare=False)


@dataclass
class SweepReport:
    """The outcome of one sweep.

    ``items`` are the owned resources found, in deletion order. ``skipped`` are resources whose tags
    could not be read (so whether they are the harness's is unknown) and kinds that could not be listed
    at all (identifier :data:`WHOLE_KIND`); none of them was touched.
    """

    dry_run: bool = False
    items: list[SweepItem] = field(default_factory=list)
    skipped: list[SweepItem] = field(default_factory=list)

    @property
    def errors(self) -> list[SweepItem]:
        """The owned resources that could not be deleted."""
        return [item for item in self.items if item.error]

    @property
    def deleted(self) -> list[SweepItem]:
        """The owned resources that were deleted (KMS keys: scheduled for deletion)."""
        return [item for item in self.items if item.deleted]

    def table(self) -> str:
        """Human-readable text: one line per resource, then the totals."""
        lines = []
        for item in self.items:
            if item.deleted:
                status = "deleted"
            elif item.error:
                status = f"FAILED {item.error}"
            else:
                status = "would delete" if self.dry_run else "not deleted"
            created = item.created.isoformat().replace("+00:00", "Z") if item.created else "-"
            how = "  (by name prefix)" if item.matched == "prefix" else ""
            lines.append(f"{item.account:<8} {item.kind:<20} {item.identifier}  created {created}  {status}{how}")
        for item in self.skipped:
            what = "(could not list)" if item.identifier == WHOLE_KIND else item.identifier
            lines.append(f"{item.account:<8} {item.kind:<20} {what}  skipped: {item.error}")
        if self.dry_run:
            summary = f"{len(self.items)} found (dry run)"
        else:
            summary = f"{len(self.items)} found, {len(self.deleted)} deleted, {len(self.errors)} failed"
        if self.skipped:
            summary += f", {len(self.skipped)} skipped"
        lines.append(summary)
        return "\n".join(lines)


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` (units d, h, m, s, largest first)."""
    cleaned = text.strip().lower()
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ConfigurationError(f"cannot read the duration {text!r}: use {_DURATION_FORMS}")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


# Prefixes --------------------------------------------------------------------------------------------------


def is_harness_prefix(text: str) -> bool:
    """True when ``text`` has the shape of a harness run's prefix, ``fh-<worker>-<6 hex>``."""
    return HARNESS_PREFIX.fullmatch(text) is not None


def _segments(names: Iterable[str]) -> Iterator[str]:
    for name in names:
        yield from _SEGMENT_SEPARATORS.split(name)


def name_prefix(names: Iterable[str], prefixes: Sequence[str] = ()) -> str | None:
    """The run prefix one of ``names`` starts a segment with (segments split on ``/``, ``:`` and ``|``).

    With ``prefixes``, only those count; without, any prefix of the harness's shape does. A segment
    matches when it is the prefix or continues it with ``-``, ``_`` or ``.``.
    """
    for segment in _segments(names):
        if prefixes:
            for prefix in prefixes:
                if segment == prefix or (segment.startswith(prefix) and segment[len(prefix)] in "-_."):
                    return prefix
        else:
            match = _PREFIX_IN_SEGMENT.match(segment)
            if match:
                return match.group(1)
    return None


def _checked_prefixes(prefixes: Iterable[str], folder_prefixes: Iterable[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for prefix in prefixes:
        if not is_harness_prefix(prefix):
            raise ConfigurationError(
                f"prefix {prefix!r} does not have the harness's shape fh-<worker>-<6 hex>; the sweep never "
                "deletes by an arbitrary name prefix"
            )
        chosen.append(prefix)
    for prefix in folder_prefixes:
        # Read from a run folder's run.json: what the harness itself named the run's resources with.
        if len(prefix) < 6 or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", prefix):
            raise ConfigurationError(f"run folder prefix {prefix!r} is not a resource-name prefix the harness writes")
        chosen.append(prefix)
    return tuple(dict.fromkeys(chosen))


# Helpers ---------------------------------------------------------------------------------------------------


def _arn_type(arn: str) -> str:
    """``<service>:<resource type>`` of an ARN (``s3`` for buckets, whose ARNs have no type)."""
    parsed = Arn.parse(arn)
    if parsed is None:
        return arn
    return f"{parsed.service}:{parsed.resource_type}" if parsed.resource_type else parsed.service


def _normal_arn(arn: str) -> str:
    return arn.removesuffix(":*")


#: Tagged resource types the sweep deliberately leaves: they hold nothing and go with their owner.
_IGNORED_TYPES = frozenset({"ec2:network-interface", "ssm:document"})


# Accounts ------------------------------------------------------------------------------------------------------


class AccountClients:
    """boto3 clients for the accounts a sweep visits: ``primary``, ``registry``, or any 12-digit account id.

    An id that is the target's primary or registry account uses those clients. On an emulator, any other
    id is reached through the target's role session in it (moto lets an assumed role in any account stand
    for that account, which is how per-run emulator accounts are swept). On real AWS such an account
    cannot be reached: :meth:`reachable` says why.
    """

    def __init__(self, target: SweepTarget) -> None:
        self.target = target
        self.registry_role_arn = target.registry_role_arn
        self._primary_id: str | None = None

    def _primary(self) -> str:
        if self._primary_id is None:
            self._primary_id = str(self.target.client("sts").get_caller_identity()["Account"])
        return self._primary_id

    def _registry(self) -> str | None:
        arn = Arn.parse(self.registry_role_arn)
        return arn.account if arn is not None and arn.service == "iam" else None

    def resolve(self, account: str) -> str:
        """``primary``, ``registry`` or the account id itself."""
        if account in ACCOUNTS or not _ACCOUNT_ID.fullmatch(account):
            return account
        if account == self._primary():
            return "primary"
        if account == self._registry():
            return "registry"
        return account

    def reachable(self, account: str) -> str:
        """Empty when ``account`` can be swept, else the reason it cannot."""
        resolved = self.resolve(account)
        if resolved in ACCOUNTS or getattr(self.target, "endpoint_url", None):
            return ""
        return (
            f"account {account} is neither the target's account nor its registry account; "
            "log in to it (or give its role as --registry-role-arn) to sweep it"
        )

    def client(self, service: str, account: str = "primary") -> Any:
        """A client for ``service`` in ``account``, from the target (:meth:`Target.client`: one boto3 session per
        account and region, role sessions in other accounts on emulators)."""
        return self.target.client(service, account=self.resolve(account))


def _chosen_accounts(accounts: Iterable[str], registry_role_arn: str | None) -> list[str]:
    chosen: list[str] = []
    for account in accounts:
        if account not in ACCOUNTS and not _ACCOUNT_ID.fullmatch(account):
            raise ConfigurationError(
                f"account must be one of {', '.join(ACCOUNTS)} or a 12-digit account id, not {account!r}"
            )
        if account == "registry" and not registry_role_arn:
            continue
        if account not in chosen:
            chosen.append(account)
    return chosen


def _lacks(target: SweepTarget, service: str) -> bool:
    missing = getattr(target, "missing_services", None)
    return bool(missing([service])) if callable(missing) else False


def _delete(kind: Kind, client: Any, items: list[SweepItem]) -> None:
    if kind.delete_batch is not None:
        failed = kind.delete_batch(client, [item.identifier for item in items])
        for item in items:
            item.error = failed.get(item.identifier, "")
            item.deleted = not item.error
        return
    assert kind.delete is not None, f"kind {kind.name} has no deleter"
    for item in items:
        try:
            kind.delete(client, item.identifier)
        except (ClientError, BotoCoreError) as error:
            item.error = describe_error(error)
        else:
            item.deleted = True


@dataclass(frozen=True)
class _Scope:
    """Which resources count as this sweep's: see :func:`sweep`."""

    run_id: str | None
    prefixes: tuple[str, ...]

    def match(self, tags: Mapping[str, str], names: Iterable[str]) -> tuple[str, str] | None:
        """``("tag" | "prefix", <run prefix or "">)``, or None (not ours)."""
        names = tuple(names)
        if is_owned(tags):
            if self.run_id is not None and tags.get(RUN_ID_KEY) != self.run_id:
                return None
            if self.prefixes and tags.get(PREFIX_KEY) not in self.prefixes:
                return None
            return "tag", tags.get(PREFIX_KEY) or name_prefix(names, self.prefixes) or ""
        if MARKER_KEY in tags:
            return None  # explicitly marked as not the harness's
        if self.run_id is not None and not self.prefixes:
            return None  # an untagged resource cannot show its run id
        prefix = name_prefix(names, self.prefixes)
        return ("prefix", prefix) if prefix else None


def _tagged_resources(client: Any) -> dict[str, dict[str, str]]:
    """Normalised ARN -> tags of every resource the Tagging API reports with the ownership marker."""
    found: dict[str, dict[str, str]] = {}
    for page in pages(client, "get_resources", TagFilters=[{"Key": MARKER_KEY, "Values": [MARKER_VALUE]}]):
        for mapping in page.get("ResourceTagMappingList", []):
            found[_normal_arn(mapping["ResourceARN"])] = key_value(mapping.get("Tags", []))
    return found


def sweep(
    target: SweepTarget,
    older_than: dt.timedelta | None = None,
    dry_run: bool = False,
    accounts: Iterable[str] = ACCOUNTS,
    kinds: Sequence[Kind] = KINDS,
    *,
    run_id: str | None = None,
    prefixes: Iterable[str] = (),
    folder_prefixes: Iterable[str] = (),
    tagging_api: bool = True,
) -> SweepReport:
    """Delete every owned resource in the accounts ``target`` reaches; see the module docstring.

    ``older_than`` keeps resources created more recently than that (a resource with no readable creation
    time counts as old). ``dry_run`` lists without deleting. The registry account is skipped quietly when
    the target has no registry role; services the target lacks are skipped too. ``accounts`` may name
    account ids (see :class:`AccountClients`). ``run_id`` limits the sweep to one run's tagged resources
    (so concurrent runs in one account leave each other alone). ``prefixes`` (of the harness's shape) and
    ``folder_prefixes`` (read from run folders) limit it to those runs: resources tagged with one of them,
    or named with one. Without either, any name of the harness's shape counts. ``tagging_api`` also asks
    the Resource Groups Tagging API, for tags and for tagged resources of types no kind knows.
    """
    scope = _Scope(run_id, _checked_prefixes(prefixes, folder_prefixes))
    clients = AccountClients(target)
    reachable: list[str] = []
    report = SweepReport(dry_run=dry_run)
    for account in _chosen_accounts(accounts, target.registry_role_arn):
        why = clients.reachable(account)
        if why:
            report.skipped.append(SweepItem(account, "account", WHOLE_KIND, None, error=why))
        else:
            reachable.append(account)
    cutoff = now_utc() - older_than if older_than is not None else None
    tagged: dict[str, dict[str, dict[str, str]]] = {account: {} for account in reachable}
    if tagging_api and not _lacks(target, "resourcegroupstaggingapi"):
        for account in reachable:
            try:
                tagged[account] = _tagged_resources(clients.client("resourcegroupstaggingapi", account))
            except (ClientError, BotoCoreError) as error:
                report.skipped.append(SweepItem(account, "tagging-api", WHOLE_KIND, None, error=describe_error(error)))

    def keep(tags: Mapping[str, str], names: Iterable[str], created: dt.datetime | None) -> tuple[str, str] | None:
        how = scope.match(tags, names)
        if how is None or (cutoff is not None and created is not None and created >= cutoff):
            return None
        return how

    for kind in kinds:
        if _lacks(target, kind.service):
            continue
        for account in reachable:
            _sweep_kind(kind, account, clients, tagged=tagged[account], keep=keep, report=report)

    known = {arn_type for kind in kinds for arn_type in kind.arn_types} | _IGNORED_TYPES
    for account in reachable:
        for arn, tags in tagged[account].items():
            arn_type = _arn_type(arn)
            how = keep(tags, (), created_at(tags))
            if arn_type in known or how is None:
                continue
            report.items.append(
                SweepItem(
                    account,
                    f"tagged {arn_type}",
                    arn,
                    created_at(tags),
                    error="no deleter for this resource type: delete it by hand",
                    prefix=how[1],
                )
            )
    return report


def _sweep_kind(
    kind: Kind,
    account: str,
    clients: AccountClients,
    *,
    tagged: Mapping[str, Mapping[str, str]],
    keep: Callable[[Mapping[str, str], Iterable[str], dt.datetime | None], tuple[str, str] | None],
    report: SweepReport,
) -> None:
    """List one kind in one account, keep what is in scope, delete it (unless a dry run), record it all."""
    found: list[SweepItem] = []
    client: Any = None
    try:
        client = clients.client(kind.service, account)
        for resource in kind.find(client):
            if resource.error:
                report.skipped.append(SweepItem(account, kind.name, resource.identifier, None, error=resource.error))
                continue
            tags = resource.tags or tagged.get(_normal_arn(resource.arn), {})
            created = created_at(tags) or _aware(resource.created)
            how = keep(tags, (resource.identifier, *resource.names), created)
            if how is not None:
                found.append(SweepItem(account, kind.name, resource.identifier, created, matched=how[0], prefix=how[1]))
    except (ClientError, BotoCoreError) as error:
        report.skipped.append(SweepItem(account, kind.name, WHOLE_KIND, None, error=describe_error(error)))
    if found and not report.dry_run:
        _delete(kind, client, found)
    report.items.extend(found)


def _aware(value: Any) -> dt.datetime | None:
    """A creation time the service reported, as aware UTC (None when absent or not a time)."""
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
