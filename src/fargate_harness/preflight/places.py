"""Fixes in the configuration's own terms: the Terraform address (and file:line) of what to change.

An ARN the emulator made up (its random account, a secret's random suffix) cannot be pasted into a configuration;
the address it came from can. :class:`Places` maps every ARN of an applied configuration's state to the resource
that made it (``terraform show -json`` holds both), finds the policy resources that carry a role's permissions
(``aws_iam_role_policy``, an attached ``aws_iam_policy``, the role's own ``inline_policy``), the policy resource
of a resource-based policy (``aws_kms_key_policy``, ``aws_ecr_repository_policy``...), and, from the
configuration's files (read with :mod:`fargate_harness.runner.hcl`), where each block and ``module`` call is
written. :meth:`Places.describe` rewrites each denied verdict's fix with them, keeping the ARN-form fix as it was.

Only metadata is read: addresses, ARNs, names and policy documents. Secret values are never looked at (the
inventory leaves them out).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fargate_harness.aws._policy import as_list, statements, wildcard_match
from fargate_harness.errors import ConfigurationError
from fargate_harness.model.inventory import Inventory, Resource
from fargate_harness.preflight.analysis import PULL_THROUGH_ACTIONS, PULL_THROUGH_DOC, Verdict
from fargate_harness.preflight.requirements import DEPLOYER, ECS_TASKS, EXECUTION, SAMPLE_TASK_ID, TASK
from fargate_harness.runner import hcl

#: ``module.<name>`` with an optional instance key (``[0]``, ``["orders"]``), one step of a module address.
_MODULE_STEP = re.compile(r'module\.([A-Za-z_][A-Za-z0-9_-]*)(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?')
#: How deep module calls are followed (Terraform has no limit; a configuration deeper than this is unusual).
MAX_MODULE_DEPTH = 16
#: Words a module's input variable for a service's ARNs is named with (``secret_arns``, ``kms_key_arns``...).
SERVICE_WORDS: dict[str, tuple[str, ...]] = {
    "secretsmanager": ("secret",),
    "ssm": ("parameter", "ssm"),
    "kms": ("kms",),
    "logs": ("log",),
    "ecr": ("ecr", "repositor", "image"),
    "s3": ("bucket", "s3", "env"),
    "elasticfilesystem": ("efs", "file_system", "filesystem"),
    "iam": ("role",),
}
#: Resource-policy resource types, the argument naming the resource they belong to, and the values of that
#: resource it may hold (its ARN, id or name).
POLICY_RESOURCES: dict[str, tuple[str, str]] = {
    "aws_kms_key_policy": ("aws_kms_key", "key_id"),
    "aws_ecr_repository_policy": ("aws_ecr_repository", "repository"),
    "aws_secretsmanager_secret_policy": ("aws_secretsmanager_secret", "secret_arn"),
    "aws_s3_bucket_policy": ("aws_s3_bucket", "bucket"),
    "aws_efs_file_system_policy": ("aws_efs_file_system", "file_system_id"),
}


def module_names(module_address: str) -> tuple[str, ...]:
    """``module.a[0].module.b`` -> ``("a", "b")`` (instance keys dropped: every instance has one call)."""
    return tuple(match.group(1) for match in _MODULE_STEP.finditer(module_address or ""))


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _document(text: Any) -> dict[str, Any]:
    if isinstance(text, Mapping):
        return dict(text)
    if isinstance(text, str) and text.strip():
        try:
            loaded = json.loads(text)
        except ValueError:
            return {}
        return dict(loaded) if isinstance(loaded, dict) else {}
    return {}


@dataclass(frozen=True)
class Place:
    """One resource of the state: its address, its module, its address inside that module, and where its block is
    written (``file:line``, "" when the configuration's files were not read or do not show it)."""

    address: str
    type: str
    module: str
    local: str
    arn: str = ""  # what names it outside Terraform: its ARN (or, for a repository, its URL)
    location: str = ""
    attribute: str = "arn"  # the attribute holding ``arn``

    @property
    def label(self) -> str:
        """``address (file:line)``, or the address alone."""
        return f"{self.address} ({self.location})" if self.location else self.address

    @property
    def reference(self) -> str:
        """The expression of its ARN inside its own module: ``aws_secretsmanager_secret.api_key.arn``."""
        return f"{self.local}.{self.attribute}"


@dataclass(frozen=True)
class Holder:
    """A resource that writes (part of) a role's identity policy, with the document as the state holds it."""

    place: Place
    document: Mapping[str, Any] = field(repr=False)
    name: str = ""  # the inline policy's name, for an ``inline_policy`` block of the role itself


@dataclass(frozen=True)
class Call:
    """A ``module`` block: the module's address, where the block is written, the called module's variables."""

    address: str
    location: str
    variables: tuple[str, ...]

    @property
    def label(self) -> str:
        """``module.x (file:line)``, or the address alone."""
        return f"{self.address} ({self.location})" if self.location else self.address

    def argument_for(self, service: str) -> str | None:
        """The one input variable whose name says it takes ARNs of ``service`` (``secret_arns``), else None."""
        words = SERVICE_WORDS.get(service, (service,))
        found = [v for v in self.variables if any(word in v.lower() for word in words)]
        arns = [v for v in found if v.lower().endswith(("arns", "arn"))]
        chosen = arns or found
        return chosen[0] if len(chosen) == 1 else None


@dataclass
class Places:
    """Where each ARN of one applied configuration comes from (see the module's docstring)."""

    by_arn: dict[str, Place] = field(default_factory=dict)
    holders: dict[str, list[Holder]] = field(default_factory=dict)  # role ARN -> where its policies are written
    policies: dict[str, Place] = field(default_factory=dict)  # resource ARN -> its resource-policy resource
    calls: dict[tuple[str, ...], Call] = field(default_factory=dict)  # module names -> the call
    #: The configuration's ``aws_ecr_pull_through_cache_rule`` resources, in DescribePullThroughCacheRules' shape plus
    #: ``terraformAddress`` / ``terraformLocation`` (an emulator cannot hold the rules: the state still names them).
    pull_through_rules: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_inventory(cls, inventory: Inventory, root: Path | None = None) -> Places:
        """From an inventory; with ``root`` (the configuration's folder) each block's ``file:line`` too.

        A configuration whose files cannot be read gives addresses without locations, never an error: the fix is
        a help, the check's verdict does not depend on it.
        """
        folders: dict[tuple[str, ...], Path] = {}
        calls: dict[tuple[str, ...], Call] = {}
        texts: Texts = {}
        if root is not None:
            try:
                folders, calls = _module_tree(root, texts)
            except (ConfigurationError, OSError):
                folders, calls = {}, {}
        places = cls(calls=calls)
        located: dict[str, Place] = {}
        for resource in inventory.resources:
            folder = folders.get(module_names(resource.module))
            location = _block_location(folder, resource.type, resource.name, texts) if folder else ""
            local = resource.address[len(resource.module) + 1 :] if resource.module else resource.address
            place = Place(resource.address, resource.type, resource.module, local, resource.arn or "", location)
            located[resource.address] = place
            # Some resources share the ARN of the one they belong to (a secret's ``aws_secretsmanager_secret_version``
            # has the secret's ARN): the resource itself, the shortest type name, is the one a fix refers to.
            held = places.by_arn.get(resource.arn or "")
            if resource.arn and (held is None or len(resource.type) < len(held.type)):
                places.by_arn[resource.arn] = place
            if resource.type == "aws_ecr_pull_through_cache_rule" and resource.values.get("ecr_repository_prefix"):
                places.pull_through_rules.append(
                    {
                        "ecrRepositoryPrefix": str(resource.values["ecr_repository_prefix"]),
                        "upstreamRegistryUrl": str(resource.values.get("upstream_registry_url") or ""),
                        "registryId": str(resource.values.get("registry_id") or ""),
                        "terraformAddress": resource.address,
                        "terraformLocation": location,
                    }
                )
            url = resource.values.get("repository_url") if resource.type == "aws_ecr_repository" else None
            if url:  # an image is named by its repository's URL, which holds the account
                places.by_arn.setdefault(str(url), replace(place, arn=str(url), attribute="repository_url"))
        places.holders = _holders(inventory, located)
        places.policies = _policy_resources(inventory, located)
        return places

    def find(self, arn: str) -> tuple[Place, str] | None:
        """The resource ``arn`` is, or lies under (a log group's streams, a bucket's objects, a secret's JSON key),
        and what follows its own ARN; None when no resource of the state made it."""
        if arn in self.by_arn:
            return self.by_arn[arn], ""
        best: tuple[Place, str] | None = None
        for own, place in self.by_arn.items():
            if arn.startswith(own) and arn[len(own)] in ":/" and (best is None or len(own) > len(best[0].arn)):
                best = (place, arn[len(own) :])
        return best

    def call(self, module_address: str) -> Call | None:
        """The ``module`` block that made ``module_address`` (None for the root module or an unread one)."""
        names = module_names(module_address)
        return self.calls.get(names) if names else None

    def expression(self, arn: str, module: str | None = None) -> str:
        """How a configuration refers to ``arn``: ``aws_x.y.arn`` (from ``module``, or from its own module),
        ``"${aws_x.y.arn}:suffix"`` for something under it; ``"*"`` for every resource; else the ARN itself."""
        if arn == "*":
            return '"*"'
        found = self.find(arn)
        if found is None:
            return arn
        place, rest = found
        if SAMPLE_TASK_ID in rest:  # a task's own resource (its log stream): every task's, as a policy grants it
            rest = rest[: rest.index(SAMPLE_TASK_ID)] + "*"
        own = place.reference
        if module is not None and place.module != module:
            own = f"{place.address}.{place.attribute}"
        return own if not rest else f'"${{{own}}}{rest}"'

    def rule_expression(self, covers: str, module: str | None = None) -> str:
        """How a configuration names the repositories of its pull through cache rule ``covers`` names
        (``arn:...:repository/<prefix>/*``): with the rule's ``registry_id`` and ``ecr_repository_prefix``, never the
        target's account; ``covers`` itself when the state has no such rule."""
        head, _, tail = covers.rpartition(":repository/")
        prefix = tail.removesuffix("/*")
        for rule in self.pull_through_rules:
            if rule["ecrRepositoryPrefix"] != prefix:
                continue
            address = rule["terraformAddress"]
            if module is not None and "." in address and address.rsplit(".", 2)[0] == module:
                address = address[len(module) + 1 :]
            partition, _service, region = head.split(":", 4)[1:4]
            return (
                f'"arn:{partition}:ecr:{region}:${{{address}.registry_id}}:repository/'
                f'${{{address}.ecr_repository_prefix}}/*"'
            )
        return covers

    def substitute(self, text: str, module: str | None = None) -> str:
        """``text`` with every ARN (and repository URL) of the state replaced by its expression, longest first."""
        for arn in sorted(self.by_arn, key=len, reverse=True):
            if arn in text:
                # with what lies under it (``:log-stream:...``, an image's ``:tag``), a segment at a time
                pattern = re.compile(re.escape(arn) + r"(?:[:/@][^\s\"'(),:/@]+)*(?![\w/.@-])")
                text = pattern.sub(lambda match: self.expression(match.group(0), module), text)
        return text

    def holder_for(self, role_arn: str, action: str, effect: str = "Allow") -> tuple[Holder | None, str | None]:
        """(the policy resource to change, the Sid/index of its statement with ``effect`` for ``action`` (on other
        resources, for an Allow), if any). A resource of its own (``aws_iam_role_policy``, ``aws_iam_policy``) comes
        before the role's ``inline_policy`` blocks; None when the state has no policy for the role."""
        holders = self.holders.get(role_arn, [])
        for holder in holders:
            for index, statement in enumerate(statements(holder.document)):
                if statement.get("Effect") != effect or "Action" not in statement:
                    continue
                if any(wildcard_match(a, action, case_sensitive=False) for a in as_list(statement.get("Action"))):
                    sid = statement.get("Sid")
                    return holder, repr(sid) if sid else f"#{index}"
        return (holders[0], None) if holders else (None, None)

    def describe(
        self, verdicts: Sequence[Verdict], principals: Mapping[str, str | None], task_definition: str = ""
    ) -> list[Verdict]:
        """The ``verdicts`` with ``terraform_fix``, ``terraform_address`` and ``resource_address`` set on each
        denied one whose resources the state holds. ``principals``: EXECUTION/TASK/DEPLOYER -> the role ARN;
        ``task_definition``: its ARN (the fix of a reference to a missing resource goes there)."""
        return [v if v.allowed else self._describe_one(v, principals, task_definition) for v in verdicts]

    def _describe_one(self, verdict: Verdict, principals: Mapping[str, str | None], task_definition: str) -> Verdict:
        requirement = verdict.requirement
        found = self.find(requirement.resource) if requirement.resource != "*" else None
        subject = found[0] if found else None
        changes: dict[str, str] = {}
        if subject is not None:
            changes["resource_address"] = subject.address
        role = principals.get(requirement.principal) or ""
        definition = self.by_arn.get(task_definition)
        if requirement.exists is False and subject is not None:
            # The resource is in the state but unusable as referenced (a secret without a value, a JSON key it
            # lacks): the fix names it, and says what to change in it or in the reference.
            fix = self.substitute(verdict.fix, subject.module)
            changes.update(terraform_address=subject.address, terraform_location=subject.location)
            changes["terraform_fix"] = f"{fix} (in {subject.label})"
        elif requirement.exists is False or verdict.place == "task definition":
            if definition is not None:
                fix = self.substitute(verdict.fix, definition.module)
                changes.update(terraform_address=definition.address, terraform_location=definition.location)
                changes["terraform_fix"] = f"{fix} (in {definition.label})"
        elif requirement.principal == ECS_TASKS:
            trusted = self.by_arn.get(requirement.resource)
            if trusted is not None:
                fix = self.substitute(verdict.fix, trusted.module)
                changes.update(terraform_address=trusted.address, terraform_location=trusted.location)
                changes["terraform_fix"] = f"in assume_role_policy of {trusted.label}: {fix}"
        elif verdict.place.startswith("role ") and role and not verdict.fix.startswith("remove or narrow"):
            changes.update(self._identity_fix(verdict, role))
        else:
            changes.update(self._policy_fix(verdict, role, subject))
        if not changes:
            return verdict
        return replace(
            verdict,
            terraform_fix=changes.get("terraform_fix", ""),
            terraform_address=changes.get("terraform_address", ""),
            terraform_location=changes.get("terraform_location", ""),
            resource_address=changes.get("resource_address", ""),
        )

    def _identity_fix(self, verdict: Verdict, role_arn: str) -> dict[str, str]:
        """Add the resource to the role's identity policy: in the policy resource, or through the module call that
        feeds it when the resource lives in the module calling the role's module."""
        requirement = verdict.requirement
        action = requirement.action
        holder, sid = self.holder_for(role_arn, action)
        target = holder.place if holder is not None else self.by_arn.get(role_arn)
        if target is None:
            return {}
        found = self.find(requirement.resource) if requirement.resource != "*" else None
        where = target.label + (f" (its inline_policy {holder.name!r})" if holder is not None and holder.name else "")
        # a pull through cache rule's repositories: the grant AWS documents, on all of them (analysis._fix)
        reference = (
            self.rule_expression(requirement.covers, target.module)
            if requirement.covers
            else self.expression(requirement.resource, target.module)
        )
        if requirement.kind == "ecr-pull-through":
            action, sid = " and ".join(PULL_THROUGH_ACTIONS), None
        if sid is not None:
            fix = f"add {reference} to the Resource of statement {sid} (which allows {action}) of {where}"
        else:
            fix = f"add a statement allowing {action} on {reference} to {where}"
        if requirement.covers:
            fix += f" ({PULL_THROUGH_DOC})"
        if found is not None:
            place, _rest = found
            call = self.call(target.module)
            parent = target.module[: target.module.rfind(".module.")] if ".module." in target.module else ""
            argument = None
            if call is not None and target.module and place.module != target.module and place.module == parent:
                # The resource lives in the module that calls the role's module: it reaches the policy through an
                # argument of that call, named when exactly one input variable says it takes ARNs of the service.
                argument = call.argument_for(action.split(":", 1)[0].lower())
            if call is not None and argument is not None:
                written = f" ({place.location})" if place.location else ""
                # A module's argument takes the resources' own ARNs (``log_group_arns``): it derives what lies under.
                fix = (
                    f"add {place.reference}{written} to the argument {argument} of {call.label}, so that {where} "
                    f"allows {action} on it"
                )
            elif place.module != target.module:
                fix += f" (pass {place.address}.arn into {target.module or 'the root module'})"
        return {"terraform_fix": fix, "terraform_address": target.address, "terraform_location": target.location}

    def _policy_fix(self, verdict: Verdict, role_arn: str, subject: Place | None) -> dict[str, str]:
        """A resource-based policy (key, repository, secret, bucket, file system) or an explicit Deny: the fix as
        preflight words it, with the state's ARNs as references, in the resource that writes that policy."""
        change: Place | None = None
        if verdict.fix.startswith("remove or narrow"):
            holder, _sid = self.holder_for(role_arn, verdict.requirement.action, "Deny") if role_arn else (None, None)
            change = holder.place if holder is not None else self.by_arn.get(role_arn)
        elif subject is not None:
            change = self.policies.get(subject.arn, subject)
        if change is None:
            return {}
        fix = verdict.fix
        if subject is not None and change.address == subject.address:  # its own policy: name it, not its ARN
            fix = re.sub(re.escape(subject.arn) + r"(?![\w/.-])", subject.address, fix)
        fix = self.substitute(fix, change.module)
        return {
            "terraform_fix": f"{fix} (in {change.label})",
            "terraform_address": change.address,
            "terraform_location": change.location,
        }


def _holders(inventory: Inventory, located: Mapping[str, Place]) -> dict[str, list[Holder]]:
    """Role ARN -> the resources writing its identity policies, own resources first."""
    roles = {str(r.values.get("name") or ""): r for r in inventory.of_type("aws_iam_role")}
    managed = {r.arn: r for r in inventory.of_type("aws_iam_policy") if r.arn}
    own: dict[str, list[Holder]] = {}
    blocks: dict[str, list[Holder]] = {}

    def add(into: dict[str, list[Holder]], role_name: str, holder: Holder) -> None:
        role = roles.get(role_name)
        if role is not None and role.arn:
            into.setdefault(role.arn, []).append(holder)

    for resource in inventory.of_type("aws_iam_role_policy"):
        role_name = str(resource.values.get("role") or "").split(":")[0]
        add(own, role_name, Holder(located[resource.address], _document(resource.values.get("policy"))))
    attachments: list[tuple[str, str]] = []
    for resource in inventory.of_type("aws_iam_role_policy_attachment"):
        attachments.append((str(resource.values.get("role") or ""), str(resource.values.get("policy_arn") or "")))
    for resource in inventory.of_type("aws_iam_policy_attachment"):
        policy_arn = str(resource.values.get("policy_arn") or "")
        attachments += [(str(name), policy_arn) for name in resource.values.get("roles") or []]
    for role_name, policy_arn in attachments:
        policy = managed.get(policy_arn)
        if policy is not None:
            add(own, role_name, Holder(located[policy.address], _document(policy.values.get("policy"))))
    for name, role in roles.items():
        for inline in role.values.get("inline_policy") or []:
            if inline.get("policy"):
                holder = Holder(located[role.address], _document(inline["policy"]), str(inline.get("name") or ""))
                add(blocks, name, holder)
    return {arn: own.get(arn, []) + blocks.get(arn, []) for arn in {*own, *blocks}}


def _identifiers(resource: Resource) -> set[str]:
    return {str(resource.values[key]) for key in ("arn", "id", "name", "bucket", "key_id") if resource.values.get(key)}


def _policy_resources(inventory: Inventory, located: Mapping[str, Place]) -> dict[str, Place]:
    """Resource ARN -> the resource that writes its resource-based policy (``aws_kms_key_policy``...)."""
    found: dict[str, Place] = {}
    for policy_type, (owner_type, argument) in POLICY_RESOURCES.items():
        owners = [r for r in inventory.of_type(owner_type) if r.arn]
        for policy in inventory.of_type(policy_type):
            named = str(policy.values.get(argument) or "")
            for owner in owners:
                if named and named in _identifiers(owner) and owner.arn:
                    found.setdefault(owner.arn, located[policy.address])
    return found


def _module_tree(root: Path, texts: Texts) -> tuple[dict[tuple[str, ...], Path], dict[tuple[str, ...], Call]]:
    """(module names -> folder, module names -> its call) for every local module call reachable from ``root``."""
    folders: dict[tuple[str, ...], Path] = {(): root.resolve()}
    calls: dict[tuple[str, ...], Call] = {}
    pending: list[tuple[str, ...]] = [()]
    while pending:
        names = pending.pop(0)
        if len(names) >= MAX_MODULE_DEPTH:
            continue
        module = hcl.read_module(folders[names])
        for call in module.modules:
            if not call.is_local:
                continue
            child = (folders[names] / call.source).resolve()
            if not child.is_dir():
                continue
            key = (*names, call.name)
            if key in folders:
                continue
            folders[key] = child
            variables = tuple(hcl.read_module(child).variables)
            address = ".".join(f"module.{name}" for name in key)
            calls[key] = Call(address, _block_location(folders[names], "module", call.name, texts), variables)
            pending.append(key)
    return folders, calls


#: A folder's configuration files and their text, read once per :meth:`Places.from_inventory`.
Texts = dict[Path, list[tuple[Path, str]]]


def _texts(folder: Path, cache: Texts) -> list[tuple[Path, str]]:
    """The configuration files of ``folder`` and their text, ``*_override.tf`` last: Terraform merges an override
    file into the block it overrides, so the block itself is the one to name."""
    if folder not in cache:
        found = []
        for path in sorted(
            hcl.config_files(folder), key=lambda one: one.name.removesuffix(".json").endswith("override.tf")
        ):
            try:
                found.append((path, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
        cache[folder] = found
    return cache[folder]


def _block_location(folder: Path, kind: str, name: str, cache: Texts | None = None) -> str:
    """``file:line`` of ``resource "<kind>" "<name>" {`` (or ``module "<name>" {`` for kind ``module``) in the
    configuration files of ``folder``; the file alone for Terraform JSON; "" when not found."""
    labels = rf'"?{re.escape(name)}"?' if kind == "module" else rf'"?{re.escape(kind)}"?\s+"?{re.escape(name)}"?'
    keyword = "module" if kind == "module" else "resource"
    head = re.compile(rf"^[ \t]*{keyword}[ \t]+{labels}\s*\{{", re.MULTILINE)
    for path, text in _texts(folder, {} if cache is None else cache):
        if path.name.endswith(".tf.json"):
            if f'"{name}"' in text and (kind == "module" or f'"{kind}"' in text):
                return shown(path)
            continue
        match = head.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            return f"{shown(path)}:{line}"
    return ""


def principals(execution_role: str | None, task_role: str | None, deployer: str | None) -> dict[str, str | None]:
    """The role ARN behind each requirement principal."""
    return {EXECUTION: execution_role, TASK: task_role, DEPLOYER: deployer}
