"""The harness's provider override: ``provider "aws"`` blocks that point a configuration at an emulator and carry
the ownership tags, written for the provider version ``init`` selected (what that version accepts comes from its
schema, :mod:`~fargate_harness.runner.provider_schema`). Plain functions of the target: the target answers where
requests go and with which credentials, this module how the selected provider spells that."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from fargate_harness.runner.provider_schema import CREDENTIAL_ARGUMENTS, PATH_STYLE_FLAGS, SKIP_FLAGS, ProviderSchema
from fargate_harness.targets.base import DEFAULT_TAGS_SINCE, Target, provider_release
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


#: The provider's ``max_retries`` on emulators. An emulator answers an action it does not implement with HTTP 500,
#: which the provider retries 25 times by default, with exponential backoff: the destroy of a configuration with
#: an ``aws_efs_file_system_policy`` hung for more than ten minutes on moto 5.2.5. With 5 retries the same
#: destroy failed, with its error, in 62 s, the harness's own retries included. An emulator has no throttling
#: to wait out. Under fault injection (``HARNESS_FAULTS``) the provider keeps its default, because there the
#: retries are what is tested (the heavy profile fails 35 % of requests).
EMULATOR_MAX_RETRIES = 5


def provider_override(
    target: Target,
    provider_version: str,
    aliases: Iterable[str | None],
    *,
    default_tags: Mapping[str, str] | None = None,
    schema: ProviderSchema | None = None,
    include_default: bool = True,
    local_name: str = "aws",
    own_tags: Mapping[str | None, Mapping[str, str] | str] | None = None,
) -> str | None:
    """HCL for the harness's override file on ``target``: ``provider "aws"`` configurations (the default, unless
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
    if not target.endpoint_url and not tags:
        return None
    arguments = _emulator_arguments(target, version, schema) if target.endpoint_url else []
    endpoints = schema.endpoints if schema is not None else PROVIDER_ENDPOINTS
    blocks = []
    names: list[str | None] = [None] if include_default else []
    names += sorted({a for a in aliases if a})
    for alias in names:
        # one run of one-line attributes: terraform fmt aligns the alias with the arguments after it
        body = _attributes([*([("alias", f'"{alias}"')] if alias else []), *arguments], "  ")
        if target.endpoint_url:
            pairs = [(name, f'"{target.endpoint_url}"') for name in endpoints]
            body += ["  endpoints {", *_attributes(pairs, "    "), "  }"]
        if tags:
            body += _default_tags_block(tags, (own_tags or {}).get(alias))
        blocks.append(f'provider "{local_name}" {{\n' + "\n".join(body) + "\n}\n")
    header = "# Written by fargate-harness into its copy of the configuration; never commit this file.\n"
    return header + "\n".join(blocks)


def _attributes(pairs: Iterable[tuple[str, str]], indent: str) -> list[str]:
    """``name = value`` lines with their ``=`` aligned, as ``terraform fmt`` aligns consecutive one-line
    attributes: one space after the longest name."""
    pairs = list(pairs)
    width = max((len(name) for name, _value in pairs), default=0)
    return [f"{indent}{name:<{width}} = {value}" for name, value in pairs]


def _emulator_arguments(
    target: Target, version: tuple[int, ...], schema: ProviderSchema | None
) -> list[tuple[str, str]]:
    """Credentials, skip flags and path-style addressing for an emulator, as this provider spells them."""
    arguments = [("access_key", f'"{target.access_key}"'), ("secret_key", f'"{target.secret_key}"')]
    if target.session_token:
        arguments.append(("token", f'"{target.session_token}"'))
    if schema is None:
        flags = ["skip_credentials_validation", "skip_metadata_api_check", "skip_region_validation"]
        flags += ["skip_get_ec2_platforms", "s3_force_path_style"] if version[0] < 5 else ["s3_use_path_style"]
        arguments += [(flag, "true") for flag in flags]
    else:
        known = schema.arguments
        arguments += [(flag, "true") for flag in (*SKIP_FLAGS, *PATH_STYLE_FLAGS) if flag in known]
        arguments += [(name, "null") for name in CREDENTIAL_ARGUMENTS if name in known]
    # every release has max_retries; a schema says so too
    if (schema is None or "max_retries" in schema.arguments) and FaultProfile.from_env() is None:
        arguments.append(("max_retries", str(EMULATOR_MAX_RETRIES)))
    return arguments


def _default_tags_block(tags: Mapping[str, str], own: Mapping[str, str] | str | None) -> list[str]:
    """The lines of a ``default_tags`` block: the configuration's own tags (``own``) with ``tags`` merged in."""
    if isinstance(own, str):
        return [
            "  default_tags {",
            f"    tags = merge({fmt_expression(own)}, {{",
            *_attributes([(json.dumps(k), json.dumps(v)) for k, v in sorted(tags.items())], "      "),
            "    })",
            "  }",
        ]
    merged = {**(own or {}), **dict(sorted(tags.items()))}
    return [
        "  default_tags {",
        "    tags = {",
        *_attributes([(json.dumps(k), json.dumps(v)) for k, v in merged.items()], "      "),
        "    }",
        "  }",
    ]


def fmt_expression(text: str) -> str:
    """A one-line expression as python-hcl2 writes it back (``merge(var.tags, {Team = "x"})``), spaced as
    ``terraform fmt`` spaces it (``merge(var.tags, { Team = "x" })``): a space inside the braces of an object or
    a ``for`` (``{}`` stays), none before ``...``, none inside ``${ }`` and ``%{ }``. Quoted text is left as it is
    (``"{x}"`` is not an object). Those are the places where python-hcl2's spacing and Terraform's differ."""
    out: list[str] = []
    # what each open brace is: "object" in an expression, "template" for ${ or %{ inside a quoted string
    frames: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        step = _in_string if in_string else _in_expression
        i, in_string = step(text, i, out, frames)
    return "".join(out)


def _in_string(text: str, i: int, out: list[str], frames: list[str]) -> tuple[int, bool]:
    """One step of :func:`fmt_expression` inside a quoted string: (next index, still in the string)."""
    if text[i] == "\\":
        out.append(text[i : i + 2])
        return i + 2, True
    if text.startswith(("$${", "%%{"), i):  # escaped: a literal ${ or %{
        out.append(text[i : i + 3])
        return i + 3, True
    if text.startswith(("${", "%{"), i):
        out.append(text[i : i + 2])
        frames.append("template")
        i = _skip_spaces(text, i + 2)
        if text.startswith("{", i):
            out.append(" ")  # ${ { a = 1 }["a"] }: fmt keeps one space before an object
        return i, False
    out.append(text[i])
    return i + 1, text[i] != '"'


def _in_expression(text: str, i: int, out: list[str], frames: list[str]) -> tuple[int, bool]:
    """One step of :func:`fmt_expression` in an expression: (next index, a quoted string starts)."""
    char = text[i]
    if char == "{":
        frames.append("object")
        out.append(char)
        after = _skip_spaces(text, i + 1)
        if not text.startswith("}", after):
            out.append(" ")
        return after, False
    if char == "}":
        kind = frames.pop() if frames else "object"
        _strip_spaces(out)
        if kind == "object" and not (out and out[-1].endswith("{")):
            out.append(" ")
        out.append(char)
        return i + 1, kind == "template"
    if text.startswith("...", i):
        _strip_spaces(out)
        out.append("...")
        return i + 3, False
    out.append(char)
    return i + 1, char == '"'


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _strip_spaces(out: list[str]) -> None:
    """Drop the spaces at the end of what :func:`fmt_expression` has written."""
    while out and out[-1].endswith(" "):
        out[-1] = out[-1].rstrip(" ")
        if not out[-1]:
            out.pop()
