"""What Terraform's failures mean: which are worth another attempt, which never are, which the configuration or
the toolchain must fix, and how many resources a plan may create on an emulator. Tables are data (pattern ->
meaning), read by a run (:func:`explain`) and by the sweep's destroys; nothing here runs Terraform.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError, NotIdempotentError
from fargate_harness.runner import hcl
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.base import Target

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

#: HTTP 501 Not Implemented, or an endpoint's own words for an action it lacks.
NOT_IMPLEMENTED = (
    r"(?i)(status code: 501|StatusCode: 501|\bNotImplemented\b|not yet implemented|has not been implemented)"
)

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
    NOT_IMPLEMENTED: (
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
    # moto 5.2.5 answers DeleteScalingPolicy / DeregisterScalableTarget for an object it no longer holds with
    # ValidationException "No scaling policy found ..." / "No scalable target found ..."; AWS answers
    # ObjectNotFoundException, which the provider takes as already deleted (Application Auto Scaling API Reference,
    # DeleteScalingPolicy, Errors)
    r"ValidationException: No (?:scaling policy|scalable target) found": (
        "the emulator answered ValidationException for an Application Auto Scaling object it no longer holds, where "
        "AWS answers ObjectNotFoundException and the provider takes the object as already deleted: an emulator gap, "
        "not a fault of the configuration"
    ),
}
#: The patterns of failures that are the emulator's, not the configuration's, on an emulator target.
EMULATOR_GAPS = (NOT_IMPLEMENTED, *EMULATOR_FATAL_ERRORS)

#: Errors of ``init`` that come from the configuration or the toolchain: pattern -> kind (see _init_problem).
INIT_PROBLEMS = {
    r"(?i)no available releases match the given constraints|locked provider .* does not match": "constraint",
    r"(?i)Failed to query available provider packages|Failed to install provider|provider registry "
    r".* does not have a provider|could not connect to registry": "missing-provider",
    r"(?i)Failed to download module|Module not installed|error downloading|Failed to fetch|"
    r"registry service is unreachable": "remote-module",
}
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
#: The plan :meth:`TerraformRun.apply` makes and applies on emulators (removed with the other plan files).
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


# -- what a failed destroy says, in one line and without the emulator's error pages ---------------------------------

#: A line of the hex dump aws-sdk-go prints of an answer it could not read (``00000000  3c 21 64 6f ...  |<!doc|``).
HEX_DUMP_LINE = re.compile(r"^[ \t]*[0-9a-f]{8}((?:[ \t]+[0-9a-f]{2})+)[ \t]+\|.*\|[ \t]*$", re.MULTILINE)
#: Consecutive such lines: one dump.
HEX_DUMP = re.compile(rf"(?:{HEX_DUMP_LINE.pattern}\n?)+", re.MULTILINE)
#: An HTML page quoted in an error (aws-sdk-go-v2 quotes the body it could not decode).
HTML_PAGE = re.compile(r"(?:<!doctype html>|<html[\s>]).*?(?:</html>|(?=\n[ \t]*\n)|\Z)", re.IGNORECASE | re.DOTALL)
#: The HTTP status of the answer (aws-sdk-go: ``status code: 500``; v2: ``StatusCode: 500``).
HTTP_STATUS = re.compile(r"(?i)status ?code: ?(\d{3})")
#: The operation aws-sdk-go-v2 names (``operation error ElastiCache: DeleteCacheSubnetGroup``).
SDK_OPERATION = re.compile(r"operation error ([A-Za-z0-9 ]+): (\w+)")
#: How the AWS provider names what it was doing (``error deleting ElastiCache Subnet Group (orders-cache)``).
PROVIDER_OPERATION = re.compile(
    r"(?:error |Failed to )?(?P<verb>deleting|destroying|removing|delete|updating|creating|reading) "
    r"(?P<what>[A-Za-z0-9 ]+?)(?: \((?P<id>[^)\s]+)\)|:)"
)
#: Where an HTML page's title is.
HTML_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
#: The first line of :class:`~fargate_harness.errors.TerraformError`'s text: the command and its exit code.
COMMAND_HEADER = re.compile(r"^`[^`\n]*` exited -?\d+:$")


def _dump_bytes(dump: str) -> bytes:
    """The bytes a hex dump shows."""
    found = bytearray()
    for match in HEX_DUMP_LINE.finditer(dump):
        found += bytes(int(pair, 16) for pair in match.group(1).split())
    return bytes(found)


def _page_words(body: str) -> str:
    title = HTML_TITLE.search(body)
    return f"an HTML page titled {' '.join(title.group(1).split())!r}" if title else "a body that is not an AWS error"


def answer_summary(text: str) -> str:
    """``HTTP <status> to <operation>`` for the answer a provider error quotes, with what its body was when the SDK
    could not read it (an HTML error page, never shown whole); "" when ``text`` names no HTTP status."""
    status = HTTP_STATUS.search(text)
    if status is None:
        return ""
    sdk = SDK_OPERATION.search(text)
    provider = PROVIDER_OPERATION.search(text)
    if sdk:
        operation = f"{sdk.group(1).strip()} {sdk.group(2)}"
    elif provider:
        operation = f"{provider['verb']} {provider['what']}" + (f" {provider['id']}" if provider["id"] else "")
    else:
        operation = "the request"
    summary = f"HTTP {status.group(1)} to {operation}"
    dump = HEX_DUMP.search(text)
    page = HTML_PAGE.search(text)
    if dump:
        body = _dump_bytes(dump.group(0))
        summary += f", answered with {_page_words(body.decode('utf-8', 'replace'))} ({len(body)} bytes, left out)"
    elif page:
        summary += f", answered with {_page_words(page.group(0))} (left out)"
    return summary


def without_error_pages(text: str) -> str:
    """``text`` with each hex dump (aws-sdk-go) and HTML page (aws-sdk-go-v2) of an unreadable answer replaced by
    one line saying what it was: the emulator's error page is noise, its status and title are the news."""

    def dump(match: re.Match[str]) -> str:
        body = _dump_bytes(match.group(0))
        return f"\t[{_page_words(body.decode('utf-8', 'replace'))}, {len(body)} bytes, left out]\n"

    def page(match: re.Match[str]) -> str:
        return f"[{_page_words(match.group(0))}, left out]"

    return HTML_PAGE.sub(page, HEX_DUMP.sub(dump, text))


def reason_line(text: str) -> str:
    """The one line that says why a command failed, for standard error: the harness's own sentence when one leads
    ``text`` (after the ``terraform ...` exited N:`` header), else Terraform's first ``Error:`` line with the answer
    it quotes summarised (:func:`answer_summary`), else the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and COMMAND_HEADER.match(lines[0]):
        lines = lines[1:]
    if not lines:
        return text.strip()
    if not lines[0].startswith("Error:"):
        return lines[0]
    summary = answer_summary(text)
    first = without_error_pages(lines[0]).strip()
    return f"{first} ({summary})" if summary and summary not in first else first


def emulator_gap(text: str, emulator: bool) -> bool:
    """Whether ``text`` is a failure of the emulator's (an action it lacks, an answer AWS would not give), not of the
    configuration; never on real AWS."""
    return emulator and any(re.search(pattern, text) for pattern in EMULATOR_GAPS)


def explain_destroy(
    name: str, stderr: str, stdout: str, *, emulator: bool, target: str, addresses: Mapping[str, str]
) -> str:
    """The standard error of a failed destroy as the harness reports it: first, for a fatal error, one line per
    object the provider names (its Terraform address from ``addresses``, when the state holds it), what the failure
    means, whether it is an emulator gap and the answer's HTTP status and operation; then Terraform's own text with
    the emulator's error pages summarised, never dumped."""
    text = stderr + stdout
    body = without_error_pages(stderr)
    why = fatal(text, emulator)
    if why is None:
        return body
    named = [f"{addresses.get(i, '?')} ({kind} {i})" for kind, i in failed_objects(text)] or ["a resource of the state"]
    label = f" ({target} emulator)" if emulator_gap(text, emulator) else ""
    answer = answer_summary(text)
    tail = f" [{answer}]" if answer else ""
    lines = [f"{name}: {what}: cannot be deleted{label}, not retried: {why}{tail}" for what in named]
    return "\n".join(lines) + "\n" + body


# -- errors that come from the provider version in use: bad input, not a verdict -----------------------------------

#: A diagnostic's location and the resource it belongs to, as Terraform prints them after the summary.
DIAGNOSTIC_PLACE = re.compile(
    r"(?:with (?P<address>[^\s,]+),\s*\n\s*)?on (?P<file>[^\s]+) line (?P<line>\d+)(?:, in (?P<block>[^:\n]+))?"
)
#: What the AWS provider's schema checks say about a value its version refuses (terraform-plugin-sdk's
#: ``helper/validation`` messages and the provider's own validators): pattern -> kind. Terraform prints them as the
#: diagnostic's summary (``Error: <message>``), the resource and the file and line below; they are matched at the
#: summary's start, so an AWS API error (``error creating ...: ValidationError: ...``) never reads as one.
PROVIDER_VALIDATIONS: dict[str, str] = {
    r"^expected length of \S+ to be in the range \(\d+ - \d+\), got": "a length",  # StringLenBetween
    r"^expected \S+ to be in the range \(-?\d+ - -?\d+\), got": "a range",  # IntBetween
    r"^expected \S+ to be one of \[[^\]]*\], got": "a value",  # StringInSlice
    r"^invalid value for \S+ \(": "a value",  # StringMatch
    r'^"?[\w.]+"? cannot be longer than \d+ characters': "a length",  # the provider's own name validators
}
#: Names the provider's schema lacks: pattern -> (kind, the group naming it).
PROVIDER_UNKNOWN_NAMES: dict[str, str] = {
    r'An\s+argument\s+named\s+"(?P<name>[^"]+)"\s+is\s+not\s+expected\s+here': "argument",
    r'Blocks\s+of\s+type\s+"(?P<name>[^"]+)"\s+are\s+not\s+expected\s+here': "block",
    r'The provider\s+[^\s]*hashicorp/aws\s+does\s+not\s+support\s+resource\s+type\s+"(?P<name>[^"]+)"': "resource type",
    r'The provider\s+[^\s]*hashicorp/aws\s+does\s+not\s+support\s+data\s+source\s+"(?P<name>[^"]+)"': "data source",
}


@dataclass(frozen=True)
class ProviderRejection:
    """A plan or apply error the AWS provider's version gave: a value its schema check refuses (``kind`` "a length",
    "a range", "a value"), or a name its schema lacks ("argument", "block", "resource type", "data source")."""

    kind: str
    message: str  # Terraform's summary, or the name the schema lacks
    where: str  # "main.tf line 18", "" when Terraform gave no location
    address: str = ""  # the resource the diagnostic belongs to, when Terraform names it

    @property
    def unknown_name(self) -> bool:
        """True for a name the schema lacks, False for a value it refuses."""
        return self.kind in PROVIDER_UNKNOWN_NAMES.values()


def _diagnostics(text: str) -> list[str]:
    """Terraform's diagnostics in ``text``, each from its ``Error:`` line to the next."""
    return [f"Error:{part}" for part in re.split(r"(?m)^\s*(?:│\s*)?Error:", text)[1:]]


def _place(diagnostic: str) -> tuple[str, str]:
    match = DIAGNOSTIC_PLACE.search(diagnostic)
    if match is None:
        return "", ""
    address = match["address"] or ""
    if not address and match["block"]:
        block = match["block"].split()
        if len(block) == 3 and block[0] in ("resource", "data"):
            labels = [label.strip('"') for label in block[1:]]
            address = ("data." if block[0] == "data" else "") + ".".join(labels)
    return f"{match['file']} line {match['line']}", address


def provider_rejection(text: str) -> ProviderRejection | None:
    """The first error in ``text`` that the AWS provider's version gave (see :class:`ProviderRejection`), or None."""
    for diagnostic in _diagnostics(text):
        summary = diagnostic.splitlines()[0].removeprefix("Error:").strip()
        where, address = _place(diagnostic)
        for pattern, kind in PROVIDER_UNKNOWN_NAMES.items():
            found = re.search(pattern, diagnostic)
            if found:
                return ProviderRejection(kind, found["name"], where, address)
        for pattern, kind in PROVIDER_VALIDATIONS.items():
            if re.search(pattern, summary):
                return ProviderRejection(kind, summary, where, address)
    return None


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`explain` needs to know of a run to name the cause of a failure in the run's own terms."""

    name: str
    source: Path
    modules: Sequence[hcl.ModuleConfig]
    is_emulator: bool
    target_name: str
    provider_version: str | None
    mirror_versions: Sequence[str]
    #: Where the AWS provider comes from (``mirror``, ``registry``, ``auto``).
    provider_source: str
    variables: Mapping[str, Any]
    user_variables: Mapping[str, Any]
    is_sensitive: Callable[[str], bool]
    masker: Callable[[str], str]

    @classmethod
    def of(
        cls,
        name: str,
        source: Path,
        modules: Sequence[hcl.ModuleConfig],
        target: Target,
        toolchain: Toolchain,
        *,
        variables: Mapping[str, Any],
        user_variables: Mapping[str, Any],
        sensitive: Sequence[str],
        masker: Callable[[str], str],
        provider_version: str | None = None,
    ) -> Diagnosis:
        """The diagnosis of a run of ``source`` on ``target``: ``sensitive`` names the harness's own secret
        variables; the configuration's ``sensitive`` ones are read from its root module."""
        return cls(
            name=name,
            source=source,
            modules=modules,
            is_emulator=target.is_emulator,
            target_name=target.name,
            provider_version=provider_version,
            mirror_versions=toolchain.mirror_versions,
            provider_source=toolchain.provider_source,
            variables=variables,
            user_variables=user_variables,
            is_sensitive=lambda variable: sensitive_variable(variable, modules[0].variables, sensitive),
            masker=masker,
        )


def sensitive_variable(name: str, declared: Mapping[str, hcl.Variable], sensitive: Sequence[str]) -> bool:
    """Whether the variable ``name`` holds a secret: one of the harness's own (``sensitive``), or declared
    ``sensitive`` by the configuration."""
    variable = declared.get(name)
    return name in sensitive or bool(variable and variable.sensitive)


def explain(cmd: str, text: str, run: Diagnosis) -> None:
    """Raise ConfigurationError for failures whose fix is in the configuration or the toolchain; return for others."""
    why = fatal(text, run.is_emulator)
    if why and cmd != "destroy":  # a destroy names the resource itself (see the run's destroy)
        objects = "".join(f"{kind} {object_id}: " for kind, object_id in failed_objects(text))
        raise ConfigurationError(f"{run.name}: `terraform {cmd}` failed at once, not retried: {objects}{why}")
    if cmd == "init":
        problem = locked_version_missing(text, run.source, run.provider_source, run.mirror_versions)
        problem = problem or init_problem(text, run)
        if problem:
            raise ConfigurationError(f"{run.name}: {problem}\n{run.masker(text.strip()[-1500:])}")
    rejection = provider_rejection(text)  # a value or a name the provider version in use refuses
    if rejection:
        raise ConfigurationError(
            provider_rejection_message(
                run.name,
                rejection,
                version=run.provider_version,
                constraints=aws_constraints(run.modules),
                mirror_versions=run.mirror_versions,
                source=run.provider_source,
            )
        )
    unset = list(dict.fromkeys(UNSET_VARIABLE_ERROR.findall(text)))
    if unset:
        raise ConfigurationError(
            f"{run.name}: variable(s) {', '.join(unset)} of {run.source} have no value and no default: give "
            "each with --var NAME=VALUE or in a --var-file (CLI), or in vars= / var_files= of the terraform "
            "marker"
        )
    invalid = INVALID_VARIABLE_ERROR.search(text)
    if invalid:
        name = invalid["name"]
        shown = "***" if run.is_sensitive(name) else repr(run.variables.get(name))
        origin = (
            f"The harness set it to {shown} (give your own with --var {name}=VALUE, or let the rule accept the "
            "harness's value)"
            if name in run.variables and name not in run.user_variables
            else f"Give a value it accepts with --var {name}=VALUE or in a --var-file"
        )
        raise ConfigurationError(
            f"{run.name}: variable {name} fails its validation rule ({invalid['file']} line {invalid['line']}): "
            f"{' '.join(invalid['message'].split())!r}. {origin}."
        )
    # a destroy handles its own: the managed resources need no data source to go
    lookups = empty_lookups(text) if run.is_emulator and cmd != "destroy" else []
    if lookups:
        found = "".join(f"\n  {address} ({where}): {summary}" for address, where, summary in lookups)
        raise ConfigurationError(
            f"{run.name}: `terraform {cmd}`: {len(lookups)} data source(s) found nothing on the emulator "
            f"({run.target_name}), which starts empty and holds only what the configuration creates:{found}\n"
            "They look up infrastructure made outside the configuration. To test it on an emulator, create that "
            "infrastructure first: call the configuration as a module from a test root that creates it and "
            "passes its identifiers in, or take the identifiers as variables instead of looking them up. Or run "
            "against a sandbox account where it exists (--target aws). If the configuration creates the object "
            "itself, make the data source depend on it (a reference or depends_on)."
        )


def init_problem(text: str, run: Diagnosis) -> str | None:
    """What an ``init`` failure means (a provider constraint the mirror cannot meet, a provider it lacks, a module
    source it cannot download), or None."""
    for pattern, kind in INIT_PROBLEMS.items():
        if not re.search(pattern, text):
            continue
        held = ", ".join(run.mirror_versions) or "none"
        if kind == "constraint":
            constraints = sorted({v for m in run.modules if (v := m.required_providers.get("aws", {}).get("version"))})
            return (
                f"no AWS provider version meets the configuration's constraint(s) {', '.join(constraints) or '?'}"
                + (
                    f"; the offline mirror holds hashicorp/aws {held}. Online, use the registry: "
                    "--tf-provider-source registry (or HARNESS_PROVIDER_SOURCE=registry)"
                    if run.provider_source == "mirror"
                    else ""
                )
            )
        if kind == "missing-provider":
            names = sorted(
                {
                    spec.get("source", name)
                    for m in run.modules
                    for name, spec in m.required_providers.items()
                    if name != "aws"
                }
            )
            return f"init could not install a provider ({', '.join(names) or 'see below'})" + (
                f"; the offline mirror holds only hashicorp/aws {held}. Online, use --tf-provider-source registry"
                if run.provider_source == "mirror"
                else ""
            )
        remote = hcl.remote_modules(list(run.modules))
        sources = ", ".join(f"module.{c.name} ({c.source}, {c.file.name})" for c in remote) or "see below"
        return (
            f"init could not download remote module source(s): {sources}. Offline, vendor them into the "
            "repository and use a local source (./modules/...), or run where the source is reachable"
        )
    return None


def aws_constraints(modules: Iterable[Any]) -> list[str]:
    """The version constraints the configuration's modules put on ``hashicorp/aws`` (``required_providers``, under
    any local name the module gives that source), each once."""
    found: list[str] = []
    for module in modules:
        for name in module.aws_local_names():
            version = module.required_providers.get(name, {}).get("version")
            if version and version not in found:
                found.append(version)
    return found


def provider_rejection_message(
    name: str,
    rejection: ProviderRejection,
    *,
    version: str | None,
    constraints: Sequence[str],
    mirror_versions: Sequence[str],
    source: str,
) -> str:
    """What the user reads (exit 2): what the provider version refused, where, the configuration's own constraint,
    and the ways out (a newer provider online, or the change)."""
    provider = f"hashicorp/aws {version or '?'}"
    asked = (
        f"the configuration asks for {' and '.join(constraints)}"
        if constraints
        else "the configuration sets no version constraint"
    )
    where = rejection.where or "the configuration"
    detail = "; ".join(
        [*([f"in {rejection.address}"] if rejection.address else []), "the version init selected", asked]
    )
    if rejection.unknown_name:
        what = f"`{rejection.message}` is not known to {provider}"
        change = f"remove the {rejection.kind}, or require a provider version that has it"
    else:
        what = f"{provider} refuses {rejection.kind}: {rejection.message}"
        change = "change the value to one this provider version accepts"
    if source == "mirror" or (source == "auto" and mirror_versions and version in mirror_versions):
        held = ", ".join(mirror_versions) or "none"
        ways = (
            f"the offline mirror holds hashicorp/aws {held}, older than many configurations are written for; online, "
            f"use --tf-provider-source registry (or HARNESS_PROVIDER_SOURCE=registry) for a newer provider within "
            f"your constraint, or {change}"
        )
    else:
        ways = f"raise the provider version (the version constraint in required_providers), or {change}"
    return (
        f"{name}: {where}: {what} ({detail}). This is the provider version's check, not a verdict on the task: {ways}"
    )


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
