"""What Terraform's failures mean: which are worth another attempt, which never are, which the configuration or
the toolchain must fix, and how many resources a plan may create on an emulator. Tables are data (pattern ->
meaning), read by :class:`fargate_harness.runner.terraform.ScenarioRun` and by the sweep's destroys; nothing here
runs Terraform.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fargate_harness.errors import ConfigurationError, NotIdempotentError

#: Terraform errors worth another attempt: pattern -> the reason logged with the retry.
RETRYABLE_ERRORS: dict[str, str] = {
    r"(?i)throttl|Rate exceeded|TooManyRequestsException|RequestLimitExceeded": "AWS API throttling",
    r"(?i)RequestError: send request failed|connection reset by peer|connection refused|i/o timeout": (
        "transient network error"
    ),
    r"(?i)TLS handshake timeout|EOF\s*$|unexpected EOF": "connection dropped",
    # 501 (Not Implemented) is never transient; the fatal tables below catch it (and an emulator's 500 for an
    # action it lacks) before this one is consulted
    r"(?i)(ServiceUnavailable|InternalFailure|InternalError|status code: 5(?!01)\d\d|StatusCode: 5(?!01)\d\d)": (
        "AWS server error (5xx)"
    ),
    r"(?i)Provider produced inconsistent result after apply": "eventual consistency: inconsistent result",
    r"(?i)(not authorized to perform: sts:AssumeRole|InvalidParameterException.*(role|Role)"
    r"|MalformedPolicyDocument.*Invalid principal|does not exist or is not assumable)": "IAM propagation delay",
    # EC2 refuses to delete a security group or subnet while a network interface of a deleted service is still
    # detaching; ECS refuses a cluster while its services drain (both settle within minutes)
    r"DependencyViolation|ClusterContains(Services|Tasks|ContainerInstances)Exception": (
        "a dependent object is still being deleted"
    ),
}

#: Errors no retry can fix, looked for before the retry table: pattern -> what the user is told ({0}: group 1).
FATAL_ERRORS: dict[str, str] = {
    r"lookup ([a-z0-9-]+)\.[a-z0-9.-]*amazonaws\.com[^\n]*no such host": (
        "a request to real AWS ({0}) failed its DNS lookup: the emulator override does not redirect that service"
    ),
    # RDS: "Cannot delete protected DB Instance, please disable deletion protection and try again."; ELB:
    # "cannot be deleted because deletion protection is enabled"; DynamoDB: "Resource cannot be deleted as it is
    # currently protected against deletion"
    r"(?i)(deletion protection|protected against deletion|Cannot delete protected)": (
        "deletion protection is on, and AWS refuses every delete until it is turned off; fix: set its "
        "deletion_protection (or deletion_protection_enabled / enable_deletion_protection) to false and apply, "
        "then destroy"
    ),
    # HTTP 501 Not Implemented: an action the endpoint does not serve (LocalStack: "not yet implemented or pro
    # feature"); waiting never changes it
    r"(?i)(status code: 501|StatusCode: 501|\bNotImplemented\b|not yet implemented|has not been implemented)": (
        "the endpoint does not implement this action (HTTP 501 / NotImplemented); where the target is an emulator, "
        "that is an emulator gap, not a fault of the configuration"
    ),
}

#: Errors no retry can fix on an emulator only. moto answers an action it does not implement with its web
#: framework's own "500 Internal Server Error" page, not an AWS error document (moto 5.2.5's log:
#: ``NotImplementedError: The delete_cache_subnet_group action has not been implemented``); the provider then
#: cannot read the answer (aws-sdk-go: ``SerializationError: failed to unmarshal error message``, status 500;
#: aws-sdk-go-v2: ``deserialization failed``). Real AWS and the fault injector answer a transient 500 with an
#: AWS error document (``InternalFailure``), which stays retryable.
EMULATOR_FATAL_ERRORS: dict[str, str] = {
    r"(?i)(failed to unmarshal error message\s+status code: 500|StatusCode: 500[^\n]*deserialization failed"
    r"|<title>500 Internal Server Error</title>|\|title>500 Intern)": (
        "the emulator answered HTTP 500 without an AWS error, which is how moto answers an action it does not "
        "implement: an emulator gap, not a fault of the configuration"
    ),
    # moto 5.2.5 returns no engine version for an ElastiCache cluster or replication group, and provider 3.39
    # then fails to parse the empty one ("Error: Malformed version: "): AWS always returns one
    r"Malformed version: *(?:\n|$)": (
        "the emulator returned no version where the provider reads one (moto gives ElastiCache no engine "
        "version): an emulator gap, not a fault of the configuration"
    ),
}

#: Errors of ``init`` that come from the configuration or the toolchain: pattern -> kind (see _init_problem).
INIT_PROBLEMS = {
    r"(?i)no available releases match the given constraints|locked provider .* does not match": "constraint",
    r"(?i)Failed to query available provider packages|Failed to install provider|provider registry "
    r".* does not have a provider|could not connect to registry": "missing-provider",
    r"(?i)Failed to download module|Module not installed|error downloading|Failed to fetch|"
    r"registry service is unreachable": "remote-module",
}
#: Terraform prints a diagnostic's location before its message; the gap may not cross into the next one.
UNKNOWN_ARGUMENT_ERROR = re.compile(
    r"on ([^\s]+) line (\d+)(?:(?!Error:)[\s\S])*?"
    r'(?:An argument named "([^"]+)"|Blocks of type "([^"]+)") (?:is|are) not expected here'
)
#: Terraform's words for a root variable with no value (``No value for required variable``).
UNSET_VARIABLE_ERROR = re.compile(r'The root module input variable "([^"]+)" is not set, and has no default value')
#: ``Invalid value for variable``: the variable's name (from the "var.NAME is ..." line), its rule's error message
#: and where the rule is (file and line).
INVALID_VARIABLE_ERROR = re.compile(
    r"Error: Invalid value for variable\n(?:(?!Error:)[\s\S])*?│ var\.(?P<name>[\w-]+) is[^\n]*\n"
    r"(?:[ \t]*│[^\n]*\n)*\s*\n(?P<message>(?:(?!Error:)[\s\S])*?)\n\s*\n"
    r"This was checked by the validation rule at (?P<file>[^\s:]+):(?P<line>\d+)"
)
#: A diagnostic Terraform attributes to a data source: its summary, the data source's address (in a module too:
#: ``module.app["x"].data.aws_vpc.this[0]``) and its file and line.
DATA_SOURCE_ERROR = re.compile(
    r"Error: (?P<summary>[^\n]+)\n\s*\n\s*with (?P<address>(?:module\.[^\n]*?\.)?data\.[\w-]+\.[^\s,]+),\n"
    r"\s*on (?P<where>[^\n]+?), in data "
)
#: How the AWS provider's data sources say they found nothing ("no matching VPC found", "ECR Repository (x) not
#: found", "ResourceNotFoundException: Secrets Manager can't find...", "ParameterNotFound", "NoSuchEntity",
#: "Your query returned no results", "no certificate for domain ... found").
NOTHING_FOUND = re.compile(
    r"(?i)not\s*found|no matching|does not exist|doesn't exist|no results|can(?:'|no)t find|"
    r"could(?:n't| not) find|NoSuch\w+|\bno\b[^\n]{0,80}\bfound\b|found no"
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a retryable Terraform error is retried."""

    attempts: int = 3
    pause_seconds: float = 5.0

    def reason(self, text: str, emulator: bool = False) -> str | None:
        """The human reason of the first retryable pattern found in ``text``, or None (also for fatal errors;
        ``emulator``: the target is an emulator, whose own fatal errors count too)."""
        if fatal(text, emulator):
            return None
        for pattern, why in RETRYABLE_ERRORS.items():
            if re.search(pattern, text):
                return why
        return None


def fatal(text: str, emulator: bool = False) -> str | None:
    """What a fatal (never retried) error in ``text`` means, or None; ``emulator``: the target is an emulator
    (:data:`EMULATOR_FATAL_ERRORS` apply too)."""
    tables = {**FATAL_ERRORS, **(EMULATOR_FATAL_ERRORS if emulator else {})}
    for pattern, why in tables.items():
        match = re.search(pattern, text)
        if match:
            return why.format(*match.groups())
    return None


#: How many resources one configuration may create on an emulator (``HARNESS_MAX_RESOURCES`` changes it). A
#: Fargate service stack is tens of resources; ``count = 10000`` ran an apply for 15 minutes and a destroy for
#: more than 10 on moto, and left 7,185 resources when interrupted.
MAX_RESOURCES = 1000
#: The plan :meth:`ScenarioRun.apply` makes and applies on emulators (removed with the other plan files).
APPLY_PLAN = "apply.tfplan"
PLAN_SUMMARY = re.compile(r"^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy", re.MULTILINE)


def max_resources() -> int:
    """:data:`MAX_RESOURCES`, or ``HARNESS_MAX_RESOURCES`` (a positive whole number)."""
    raw = os.environ.get("HARNESS_MAX_RESOURCES", "").strip()
    if not raw:
        return MAX_RESOURCES
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigurationError(
            f"HARNESS_MAX_RESOURCES is {raw!r}: expected a positive whole number of resources (default {MAX_RESOURCES})"
        )
    return int(raw)


def planned_additions(plan_output: str) -> int:
    """How many resources ``terraform plan``'s summary line (``Plan: N to add, ...``) says it creates (0 when
    there is none: "No changes")."""
    match = PLAN_SUMMARY.search(plan_output)
    return int(match.group(1)) if match else 0


def check_resource_limit(name: str, plan_output: str, limit: int | None = None) -> None:
    """ConfigurationError (before anything is applied) when the plan creates more than ``limit`` resources
    (default :func:`max_resources`)."""
    limit = max_resources() if limit is None else limit
    planned = planned_additions(plan_output)
    if planned > limit:
        raise ConfigurationError(
            f"{name}: the plan creates {planned:,} resources; expected at most {limit:,} on an emulator target "
            "(each costs seconds to create and to destroy, and an interrupted run leaves them behind); nothing was "
            "applied. fix: lower the count/for_each that multiplies them (a variable for the test), or raise "
            "HARNESS_MAX_RESOURCES if the size is the point of the test"
        )


def not_idempotent(name: str, changes: Iterable[str]) -> NotIdempotentError:
    """The error for a configuration whose plan right after apply wants ``changes``."""
    return NotIdempotentError(
        f"{name}: a plan right after apply wants changes, the configuration is not idempotent:\n  "
        + "\n  ".join(changes)
    )


#: How the AWS provider names the object an operation failed on: ``error deleting Database Instance "orders-db":``,
#: ``error deleting ElastiCache Subnet Group (orders-cache):``, ``deleting ECS Service (arn...):``.
FAILED_OBJECT = re.compile(
    r"Error: (?:error )?(?:deleting|destroying|removing|updating|creating|reading) (?P<kind>[A-Za-z0-9 ]+?) "
    r"(?:\((?P<paren>[^)\s]+)\)|\"(?P<quoted>[^\"]+)\"|'(?P<single>[^']+)')"
)


def failed_objects(text: str) -> list[tuple[str, str]]:
    """(kind, id) of every object a provider error in ``text`` names, once each."""
    found = ((m["kind"], m["paren"] or m["quoted"] or m["single"]) for m in FAILED_OBJECT.finditer(text))
    return list(dict.fromkeys(found))


def empty_lookups(text: str) -> list[tuple[str, str, str]]:
    """(address, "file line N", Terraform's summary) of every data source in ``text`` that found nothing, once
    each (Terraform may print a diagnostic on both streams)."""
    found = (
        (m["address"], m["where"], m["summary"].strip())
        for m in DATA_SOURCE_ERROR.finditer(text)
        if NOTHING_FOUND.search(m["summary"])
    )
    return list(dict.fromkeys(found))


def unknown_argument(text: str) -> tuple[str, str] | None:
    """(argument or block, "file line N") when Terraform refused a name the provider's schema lacks."""
    match = UNKNOWN_ARGUMENT_ERROR.search(text)
    if match:
        return match.group(3) or match.group(4), f"{match.group(1)} line {match.group(2)}"
    return None


# -- a lock file that pins a provider the source lacks ----------------------------------------------------------
#: Terraform's words when ``.terraform.lock.hcl`` selects a provider version the provider source does not hold
#: (``Could not retrieve the list of available versions for provider hashicorp/aws: the previously-selected version
#: 5.31.0 is no longer available``); the provider's address and the locked version.
LOCKED_VERSION_MISSING = re.compile(
    r"available versions for provider (?P<provider>[\w./-]+):\s*the previously-selected version "
    r"(?P<version>[^\s]+) is no longer available"
)
#: The lock file Terraform reads in a root module.
LOCK_FILE = ".terraform.lock.hcl"


def locked_version_missing(text: str, root: Path, source: str, held: Iterable[str]) -> str | None:
    """What to say when ``init`` failed because the lock file of the root module ``root`` (the user's folder, not
    the work copy) pins a provider version the provider source (``source``: ``mirror`` or ``registry``) lacks: the
    lock file's path, the version, what the source holds, and both ways out. None for any other failure."""
    match = LOCKED_VERSION_MISSING.search(text)
    if match is None:
        return None
    lock = root / LOCK_FILE
    provider, version = match["provider"], match["version"]
    versions = ", ".join(held) or "none"
    if source != "mirror":
        return (
            f"{lock} pins {provider} {version}, which the provider registry did not offer; fix: check the lock "
            f"file's version, or run `terraform init -upgrade` in {root} to choose another"
        )
    return (
        f"{lock} pins {provider} {version}, which the offline provider mirror lacks (it holds {provider} "
        f"{versions}). Either use the registry online: --tf-provider-source registry (or "
        "HARNESS_PROVIDER_SOURCE=registry); or lock a version the mirror holds: `terraform init -upgrade` in "
        f"{root} with a version constraint the mirror meets, or remove {lock} (Terraform writes a new one on init)"
    )
