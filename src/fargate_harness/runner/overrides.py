"""What the harness writes into a run's work folder beside the copy of the configuration: the provider override of
every module copy that configures ``hashicorp/aws``, the local backend, the generated variable files and the
run's manifest (``run.json``), and their redaction once the run is over.

Plain functions over a work folder: a run (:mod:`fargate_harness.runner.run`) and any other way of running
Terraform on a copy (``terraform test``) write the same files the same way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError
from fargate_harness.options import run_id
from fargate_harness.runner import as_written, hcl, workspace
from fargate_harness.runner.masking import Masker, redact_file, var_files_under
from fargate_harness.runner.provider_override import provider_override
from fargate_harness.runner.provider_schema import ProviderSchema
from fargate_harness.runner.session import private_files
from fargate_harness.targets.base import Target

#: The harness's provider override. Terraform merges override files in lexical order of their names, the last one
#: winning (https://developer.hashicorp.com/terraform/language/files/override): the name sorts after the
#: override files users write (``override.tf``, ``<x>_override.tf``); one that still sorts later and configures
#: where requests go is refused (:func:`fargate_harness.targets.netguard.refuse_user_overrides`).
OVERRIDE_FILE = "zz_harness_override.tf"
#: Replaces the configuration's backend (``s3``, ``remote``, ``cloud``...) with a local one in the copy.
BACKEND_OVERRIDE_FILE = "harness_backend_override.tf"
#: The harness's own variable values: the first ``-var-file``, so they beat ``terraform.tfvars`` and
#: ``*.auto.tfvars`` (Terraform reads command-line var files after those, in order).
HARNESS_VAR_FILE = "harness.tfvars.json"
#: Values the user gave by name (``--var NAME=VALUE``, fixture keywords): the last ``-var-file``.
USER_VAR_FILE = "harness-user.tfvars"
#: What the runner records about a run as soon as it starts (for the sweeper of killed runs).
MANIFEST_FILE = workspace.MANIFEST_FILE
#: The topics of the sentences :func:`write_provider_overrides` returns.
OVERRIDE_TOPICS = ("endpoints:", "tags:")
#: Registry addresses of the AWS provider in a lock file (Terraform's and OpenTofu's registries).
_LOCK_AWS_SUFFIXES = ("registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws")


def provider_aliases(module_dir: Path) -> list[str]:
    """Aliases of the ``provider "aws"`` blocks in one module folder's own files."""
    return [p.alias for p in hcl.read_module(module_dir).provider_blocks("aws") if p.alias]


def selected_provider_version(root_module: Path) -> str | None:
    """The AWS provider version ``init`` recorded in ``.terraform.lock.hcl`` (read as HCL), or None."""
    lock = root_module / ".terraform.lock.hcl"
    if not lock.is_file():
        return None
    for name, body in hcl.provider_locks(lock).items():
        if name.endswith(_LOCK_AWS_SUFFIXES) and body.get("version"):
            return str(body["version"])
    return None


def module_calls(root_copy: Path) -> list[Path]:
    """The root's folder, then the folder of every module call ``init`` recorded in ``modules.json`` (local
    and downloaded), one entry per call: two calls of one local module name its folder twice."""
    manifest = root_copy / ".terraform" / "modules" / "modules.json"
    folders = [root_copy.resolve()]
    if manifest.is_file():
        for entry in json.loads(manifest.read_text()).get("Modules") or []:
            if entry.get("Key"):  # "" is the root itself
                folders.append((root_copy / str(entry.get("Dir") or ".")).resolve())
    return folders


def installed_modules(root_copy: Path) -> list[Path]:
    """Every module folder ``init`` installed for a root, root first, each once."""
    return list(dict.fromkeys(module_calls(root_copy)))


def unredirected_blocks(tfdir: Path, source: Path) -> list[str]:
    """``provider "aws"`` blocks of the copy ``tfdir`` whose module folder holds no emulator override, as
    ``<label> in <file>`` (relative to the original configuration ``source`` where possible)."""
    found = []
    for folder in installed_modules(tfdir):
        blocks = [b for b in hcl.read_module(folder).provider_blocks("aws") if not b.is_proxy]
        if blocks and not (folder / OVERRIDE_FILE).is_file():
            for block in blocks:
                where = block.file
                with contextlib.suppress(ValueError):
                    where = source / where.relative_to(tfdir)
                found.append(f'provider "{block.name}" ({block.label}) in {where}')
    return found


def check_lock_readable(name: str, tfdir: Path, target: Target, provider_version: str | None) -> None:
    """Refuse an emulator run whose lock file names hashicorp/aws in a way the harness cannot read: without the
    version no override can be written and Terraform would call real AWS."""
    lock = tfdir / ".terraform.lock.hcl"
    if target.is_emulator and not provider_version and lock.is_file() and "/hashicorp/aws" in lock.read_text():
        raise ConfigurationError(
            f"{name}: cannot read the AWS provider version from {lock}; without it no emulator override "
            "can be written and Terraform would call real AWS. Check the lock file's provider block."
        )


def write_provider_overrides(
    tfdir: Path,
    target: Target,
    provider_version: str,
    tags: Mapping[str, str],
    schema: ProviderSchema | None,
) -> tuple[bool, list[str]]:
    """Write :data:`OVERRIDE_FILE` into every module copy of ``tfdir`` with a ``provider "aws"`` block (the root
    always), for ``provider_version``. Returns whether any carries ``default_tags``, and what the overrides change,
    in the run's short sentences."""
    default_tags = False
    changes: list[str] = []
    for folder in installed_modules(tfdir):
        is_root = folder == tfdir.resolve()
        module = hcl.read_module(folder)
        blocks = [b for b in module.provider_blocks("aws") if is_root or not b.is_proxy]
        if not is_root and not blocks:
            continue  # the module inherits its providers from its caller
        own_tags = as_written.own_default_tags(folder)
        # one override per local name of hashicorp/aws (`amazon = { source = "hashicorp/aws" }` too)
        parts = [
            provider_override(
                target,
                provider_version,
                [b.alias for b in blocks if b.name == local],
                default_tags=tags,
                schema=schema,
                include_default=(is_root and (local == "aws" or local in module.required_providers))
                or any(b.alias is None and b.name == local for b in blocks),
                local_name=local,
                own_tags=own_tags,
            )
            for local in sorted(module.aws_local_names())
            if local == "aws" or any(b.name == local for b in blocks) or local in module.required_providers
        ]
        override = "\n".join(part for part in parts if part) or None
        target_file = folder / OVERRIDE_FILE
        if override:
            target_file.write_text(override)
            default_tags = default_tags or "default_tags" in override
            changes += override_changes(
                tfdir, target=target, tags=tags, folder=folder, override=override, own_tags=own_tags
            )
        else:
            target_file.unlink(missing_ok=True)
    return default_tags, changes


def override_changes(
    tfdir: Path,
    *,
    target: Target,
    tags: Mapping[str, str],
    folder: Path,
    override: str,
    own_tags: Mapping[str | None, object],
) -> list[str]:
    """What one module folder's override changes, in the run's short sentences."""
    where = "" if folder == tfdir.resolve() else f" of {os.path.relpath(folder, tfdir)}"
    found = []
    if target.is_emulator:
        found.append(
            f"endpoints: every AWS service of the provider{where} redirected to the {target.name} emulator, "
            "with its credentials (profile and shared credential files unset)"
        )
    if "default_tags" in override:
        prefixes = sorted({key.split(":")[0] + ":*" if ":" in key else key for key in tags})
        shown = ", ".join(prefixes)
        if own_tags:
            labels = ", ".join(f"aws.{a}" if a else "aws" for a in own_tags)
            found.append(
                f"tags: the ownership tags ({shown}) merged into the configuration's own default_tags "
                f"(provider {labels}{where})"
            )
        else:
            found.append(f"tags: the ownership tags ({shown}) added as the provider's default_tags{where}")
    return found


def write_backend_override(root: hcl.ModuleConfig, tfdir: Path) -> str | None:
    """A local backend in the copy when the configuration names another (``s3``, ``remote``, a ``cloud`` block);
    the sentence that says so, or None."""
    if root.backend is None and root.cloud is None:
        return None
    kind = f'the "{root.backend[0]}" backend' if root.backend is not None else "the cloud block"
    # a test run's state lives in its work folder: the configured backend is never contacted
    (tfdir / BACKEND_OVERRIDE_FILE).write_text(
        "# Written by fargate-harness: a test run keeps its state in its work folder.\n"
        'terraform {\n  backend "local" {}\n}\n'
    )
    return f"state: {kind} replaced by a local state in the run's work folder"


def _hcl_string(value: str) -> str:
    """An HCL string literal: JSON escapes, and template sequences ``${`` / ``%{`` escaped."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def user_var_file_text(values: Mapping[str, Any], declared: Mapping[str, hcl.Variable]) -> str:
    """A ``.tfvars`` file for values given by name, with ``-var`` semantics.

    Strings for primitive-typed (or untyped) variables are taken literally, as ``-var NAME=VALUE`` does;
    strings for collection or object types are HCL expressions (``-var 'ids=["a","b"]'``); other Python
    values are written as JSON, which is valid HCL.
    """
    lines = []
    for name, value in values.items():
        variable = declared[name]
        if isinstance(value, str):
            lines.append(f"{name} = {_hcl_string(value) if variable.is_primitive else value}")
        else:
            lines.append(f"{name} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write_var_files(
    workdir: Path,
    *,
    variables: Mapping[str, Any],
    declared: Mapping[str, hcl.Variable],
    tags: Mapping[str, str],
    user_variables: Mapping[str, Any],
    default_tags: bool,
) -> None:
    """The harness's values (only those the root declares) and the user's named values, as two var files."""
    values = {k: v for k, v in variables.items() if k in declared and k != "tags"}
    if "tags" in declared and (tags or "tags" in variables):
        own = dict(variables.get("tags") or {})
        # the provider tags everything through default_tags; the same keys in `tags` would be refused
        merged = own if default_tags else {**tags, **own}
        if merged or "tags" in variables:
            values["tags"] = merged
    with private_files():
        (workdir / HARNESS_VAR_FILE).write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
        (workdir / USER_VAR_FILE).write_text(user_var_file_text(user_variables, declared))


def var_file_paths(workdir: Path, var_files: Iterable[Path]) -> list[Path]:
    """The var files in the order Terraform reads them: the harness's values, the user's files, the named values."""
    return [workdir / HARNESS_VAR_FILE, *var_files, workdir / USER_VAR_FILE]


def var_args(workdir: Path, var_files: Iterable[Path]) -> list[str]:
    """``-var-file`` arguments for :func:`var_file_paths`."""
    return [f"-var-file={path}" for path in var_file_paths(workdir, var_files)]


def redact_var_files(
    workdir: Path,
    masker: Masker,
    declared: Mapping[str, hcl.Variable],
    user_variables: Mapping[str, Any],
    is_sensitive: Callable[[str], bool],
) -> None:
    """Replace sensitive values in the generated var files by ``***`` once the run is over: a kept folder must not
    hold them (a destroy from it does not need them). ``is_sensitive(name)`` says which variables are. The state,
    when kept, is as sensitive as Terraform always makes it."""
    harness_file = workdir / HARNESS_VAR_FILE
    if harness_file.is_file():
        values = json.loads(harness_file.read_text())
        redacted = {k: ("***" if is_sensitive(k) else v) for k, v in values.items()}
        harness_file.write_text(json.dumps(redacted, indent=2, sort_keys=True) + "\n")
    user_file = workdir / USER_VAR_FILE
    if user_file.is_file() and user_variables:
        masked = {k: ("***" if is_sensitive(k) else v) for k, v in user_variables.items()}
        user_file.write_text(masker(user_var_file_text(masked, declared)))
    # the copy's own terraform.tfvars / *.auto.tfvars (and any other var file copied with the configuration)
    for path in var_files_under(workdir / "config"):
        redact_file(path, masker)


def write_manifest(
    workdir: Path,
    *,
    prefix: str,
    label: str,
    source: Path,
    target: Target,
    tfdir: Path,
    var_files: Iterable[Path],
    changes: Iterable[str],
) -> None:
    """``run.json``: what a sweeper of killed runs needs to find and destroy what this run built."""
    accounts = [target.known_account_id] if target.known_account_id else []
    if target.registry_account_id:
        accounts.append(target.registry_account_id)
    manifest = {
        "run_id": run_id(),
        "prefix": prefix,
        "label": label,
        "source": str(source),
        "target": target.name,
        "endpoint": target.endpoint_url,
        "region": target.region,
        "accounts": accounts,
        "pid": os.getpid(),
        "started": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "tfdir": str(tfdir),
        "var_files": [str(p) for p in var_file_paths(workdir, var_files)],
        "changes": list(changes),
    }
    (workdir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")


def record_changes(workdir: Path, changes: Iterable[str]) -> None:
    """Write ``changes`` into the run's manifest (``run.json``)."""
    manifest_path = workdir / MANIFEST_FILE
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        manifest["changes"] = list(changes)
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
