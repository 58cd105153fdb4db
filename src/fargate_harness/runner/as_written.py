"""What a configuration says about where it deploys: its region, its account and its own ``default_tags``.

A run deploys a configuration as written: the harness keeps what the configuration says and sets only what it
leaves open (see :mod:`~fargate_harness.runner.placement`). Everything here is read with the HCL
parser (:mod:`fargate_harness.runner.hcl`) and Terraform's own rules:

- variable values in Terraform's order of precedence, lowest first: the declared ``default``, ``TF_VAR_<name>``,
  ``terraform.tfvars``, ``terraform.tfvars.json``, ``*.auto.tfvars`` / ``*.auto.tfvars.json`` in lexical order,
  then ``-var-file`` files in order and ``-var`` values
  (https://developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence);
- the region of the default ``provider "aws"`` block: a literal, or a variable's value;
- the account a configuration names by ID: ``allowed_account_ids``, a 12-digit variable value, or the account
  of the ARNs it writes, literally or through a variable (outside its provider blocks: a provider that assumes
  a role reaches that account itself, from whichever account it starts);
- ``default_tags { tags = ... }`` of each ``provider "aws"`` block: a literal map or an expression.

Nothing here runs Terraform or calls AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fargate_harness.runner import hcl
from fargate_harness.runner.masking import auto_var_files, read_var_file

#: A region name as AWS spells them (``us-east-1``, ``eu-west-1``, ``us-gov-west-1``, ``cn-north-1``).
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
ACCOUNT = re.compile(r"\d{12}")
#: The account field of an ARN (``arn:<partition>:<service>:<region>:<account>:...``).
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):[^\s\"\\',\]}]+")
_VARIABLE = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_-]*)")


@dataclass(frozen=True)
class Value:
    """A variable's value and where Terraform takes it from (the last of its sources that sets it)."""

    value: Any
    origin: str


@dataclass(frozen=True)
class RegionSetting:
    """What the default ``provider "aws"`` block says about its region.

    ``region`` is the region it deploys to when the configuration says (None otherwise); ``variable`` the
    variable it reads it from (``region = var.NAME``); ``expression`` what it sets when it is neither a literal
    nor a variable (None when it sets no region); ``origin`` where the answer comes from, for the run's notes.
    """

    region: str | None
    origin: str
    variable: str | None = None
    expression: str | None = None


@dataclass(frozen=True)
class NamedAccount:
    """The account a configuration names by ID (``account``), or the accounts it names when they disagree."""

    account: str | None
    origin: str
    candidates: tuple[str, ...] = ()


def _labelled(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    blocks = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    for block in blocks:
        if isinstance(block, dict):
            for label, body in block.items():
                for item in body if isinstance(body, list) else [body]:
                    if isinstance(item, dict):
                        yield str(label).strip('"'), item


def _unwrap(text: str) -> str:
    text = text.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text.strip()


def variable_values(
    root: Path,
    declared: Mapping[str, hcl.Variable],
    var_files: Sequence[Path] = (),
    named: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Value]:
    """The value Terraform would give each declared variable of the root module at ``root``, from the
    configuration and the user (``var_files`` in order, then ``named`` values), never from the harness; a
    variable with no value from any of them is absent. A ``null`` default counts as no value."""
    values: dict[str, Value] = {}
    for path in hcl.config_files(root):
        for name, body in _labelled(hcl.parse_file(path).get("variable")):
            if body.get("default") is not None:
                values[name] = Value(body["default"], f"the default of variable {name} ({path.name})")
    for name in declared:
        text = (environ or {}).get(f"TF_VAR_{name}")
        if text is not None:
            values[name] = Value(text, f"TF_VAR_{name}")
    for path in [*auto_var_files(root), *var_files]:
        for name, value in read_var_file(path).items():
            if name in declared:
                values[name] = Value(value, f"{name} in {path.name}")
    for name, value in (named or {}).items():
        values[name] = Value(value, f"the value given for {name}")
    return values


def default_provider(module: hcl.ModuleConfig) -> hcl.ProviderBlock | None:
    """The module's default (unaliased) ``provider "aws"`` block, or None."""
    return next((b for b in module.provider_blocks("aws") if b.alias is None), None)


def configured_region(module: hcl.ModuleConfig, values: Mapping[str, Value]) -> RegionSetting:
    """The region the root module's default ``provider "aws"`` block deploys to, as far as the configuration
    says (see :class:`RegionSetting`)."""
    block = default_provider(module)
    if block is None:
        return RegionSetting(None, 'the configuration has no provider "aws" block')
    expression = hcl.provider_argument(block, "region")
    where = f'provider "aws" ({block.file.name})'
    if expression is None:
        return RegionSetting(None, f"{where} sets no region")
    variable = _VARIABLE.fullmatch(expression)
    if variable:
        name = variable.group(1)
        found = values.get(name)
        if found is not None and isinstance(found.value, str) and REGION.fullmatch(found.value):
            return RegionSetting(found.value, found.origin, variable=name)
        return RegionSetting(None, f"{where} reads var.{name}, which has no value", variable=name)
    if REGION.fullmatch(expression):
        return RegionSetting(expression, where)
    return RegionSetting(None, f"{where} sets region = {expression}", expression=expression)


def _strings(value: Any, skip: frozenset[str] = frozenset()) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in skip:
                yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, skip)


def _pick(found: Mapping[str, str], level: str) -> NamedAccount | None:
    """The one account of a level (account -> where first seen), a disagreement, or None when it names none."""
    if not found:
        return None
    if len(found) == 1:
        ((account, origin),) = found.items()
        return NamedAccount(account, origin)
    return NamedAccount(None, f"{level} name several accounts", tuple(sorted(found)))


def named_account(modules: Sequence[hcl.ModuleConfig], values: Mapping[str, Value]) -> NamedAccount | None:
    """The account the configuration names by ID, by the first of these that names any:

    1. ``allowed_account_ids`` of a root ``provider "aws"`` block (a literal list, or a variable's value): the
       provider refuses any other account;
    2. the 12-digit value of a variable named for the configuration's own account (``account_id``,
       ``aws_account_id``, ``account``, ``aws_account``); a variable named for another account
       (``registry_account_id``) says nothing about its own;
    3. the account field of an ARN written in the configuration (its modules' files, outside ``provider`` and
       ``terraform`` blocks, and its variable values) whose resource part names an object the configuration
       itself creates under that literal name (``arn:aws:iam::111122223333:role/ecs-task-execution-role`` beside
       an ``aws_iam_role`` named ``ecs-task-execution-role``), the account written as a literal or as a variable
       with a 12-digit value (``arn:aws:iam::${var.ecs_account_id}:role/...``, the cross-account pattern). An
       ARN of an object it does not create (another account's root in a repository policy, a load balancer's
       log-delivery account in a bucket policy) names an account it talks to, not its own.

    When that source names several accounts, the answer says so (``account`` None, ``candidates``) and no
    account is chosen. None when the configuration names none."""
    for level, found in (
        ("allowed_account_ids", _allowed_accounts(modules[0], values)),
        ("variable values", _literal_accounts(values)),
        ("the ARNs it writes", _arn_accounts(modules, values)),
    ):
        picked = _pick(found, level)
        if picked:
            return picked
    return None


def _allowed_accounts(root: hcl.ModuleConfig, values: Mapping[str, Value]) -> dict[str, str]:
    allowed: dict[str, str] = {}
    for block in root.provider_blocks("aws"):
        for label, body in _labelled(hcl.parse_file(block.file).get("provider")):
            if label != "aws" or body.get("alias") != block.alias or "allowed_account_ids" not in body:
                continue
            listed = body["allowed_account_ids"]
            if isinstance(listed, str):
                variable = _VARIABLE.fullmatch(_unwrap(listed))
                listed = values[variable.group(1)].value if variable and variable.group(1) in values else []
            for account in listed if isinstance(listed, list) else []:
                if isinstance(account, str) and ACCOUNT.fullmatch(account):
                    allowed.setdefault(account, f'allowed_account_ids of provider "{block.label}" ({block.file.name})')
    return allowed


#: Variable names that name the configuration's own account.
_OWN_ACCOUNT_VARIABLE = re.compile(r"(aws_)?account(_id)?", re.IGNORECASE)


def _literal_accounts(values: Mapping[str, Value]) -> dict[str, str]:
    literal: dict[str, str] = {}
    for name, found in sorted(values.items()):
        own = _OWN_ACCOUNT_VARIABLE.fullmatch(name)
        if own and isinstance(found.value, str) and ACCOUNT.fullmatch(found.value):
            literal.setdefault(found.value, f"variable {name} ({found.origin})")
    return literal


def _created_names(modules: Sequence[hcl.ModuleConfig]) -> set[str]:
    """The literal ``name`` (and ``family``) of every resource the configuration's modules create."""
    names = set()
    for module in modules:
        for path in hcl.config_files(module.path):
            for _kind, body in _labelled(hcl.parse_file(path).get("resource")):
                for resource in body.values():
                    for item in resource if isinstance(resource, list) else [resource]:
                        for key in ("name", "family"):
                            value = item.get(key) if isinstance(item, dict) else None
                            if isinstance(value, str) and "${" not in value:
                                names.add(value)
    return names


def _names_created(arn: str, created: set[str]) -> bool:
    """True when the resource part of ``arn`` names one of ``created`` (a Secrets Manager ARN's random
    ``-XXXXXX`` suffix and a log group's ``:*`` allowed)."""
    resource = arn.split(":", 5)[-1].removesuffix(":*")
    for candidate in {resource, resource.rsplit("/", 1)[-1], resource.split(":", 1)[-1]}:
        if candidate in created or (len(candidate) > 7 and candidate[-7] == "-" and candidate[:-7] in created):
            return True
    return False


def _arn_accounts(modules: Sequence[hcl.ModuleConfig], values: Mapping[str, Value]) -> dict[str, str]:
    created = _created_names(modules)
    texts: list[tuple[str, str]] = []
    for module in modules:
        for path in hcl.config_files(module.path):
            skip = frozenset({"provider", "terraform"})
            texts += [(text, f"an ARN in {path.name}") for text in _strings(hcl.parse_file(path), skip=skip)]
    for name, found in sorted(values.items()):
        texts += [(text, f"an ARN in variable {name} ({found.origin})") for text in _strings(found.value)]
    arns: dict[str, str] = {}
    for text, origin in texts:
        for written, where in _with_account_variables(text, origin, values):
            for match in _ARN.finditer(written):
                if _names_created(match.group(0), created):
                    arns.setdefault(match.group(1), where)
    return arns


#: An ARN's account field written as a variable: ``arn:aws:iam::${var.ecs_account_id}:role/...``.
_ACCOUNT_VARIABLE = re.compile(r"(arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:)\$\{\s*var\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}:")


def _with_account_variables(text: str, origin: str, values: Mapping[str, Value]) -> Iterator[tuple[str, str]]:
    """``text`` as written, then, when an ARN in it takes its account from a variable with a 12-digit value (the
    cross-account pattern: ``arn:aws:iam::${var.ecs_account_id}:role/<a role this configuration creates>``), the
    text with that value in place, and where the value comes from."""
    yield text, origin
    used: list[str] = []

    def value_of(match: re.Match[str]) -> str:
        found = values.get(match.group(2))
        if found is None or not isinstance(found.value, str) or not ACCOUNT.fullmatch(found.value):
            return match.group(0)
        used.append(f"var.{match.group(2)} = {found.value}, {found.origin}")
        return f"{match.group(1)}{found.value}:"

    substituted = _ACCOUNT_VARIABLE.sub(value_of, text)
    if used:
        yield substituted, f"{origin} ({'; '.join(dict.fromkeys(used))})"


#: A provider block's own ``default_tags``: a literal map (values as written: strings, which may be templates)
#: or, when the tags are an expression (``var.tags``, ``merge(...)``, ``local.tags``), that expression's text.
OwnTags = Mapping[str, str] | str


def own_default_tags(module_dir: Path) -> dict[str | None, OwnTags]:
    """alias (None for the default) -> the ``default_tags`` of that ``provider "aws"`` block of one module folder,
    for the blocks that have them."""
    found: dict[str | None, OwnTags] = {}
    for block in hcl.read_module(module_dir).provider_blocks("aws"):
        for label, body in _labelled(hcl.parse_file(block.file).get("provider")):
            if label != "aws" or body.get("alias") != block.alias:
                continue
            for tags_block in _labelled_blocks(body.get("default_tags")):
                tags = tags_block.get("tags")
                if isinstance(tags, Mapping):
                    found[block.alias] = {str(k): _as_template(v) for k, v in tags.items()}
                elif isinstance(tags, str):
                    found[block.alias] = _unwrap(tags)
    return found


def _labelled_blocks(value: Any) -> Iterator[dict[str, Any]]:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            yield item


def _as_template(value: Any) -> str:
    """A tag value as an HCL string template: a literal string as it is (``${...}`` inside stays a template, as
    Terraform reads it), another literal as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value)
