"""The only place that runs Terraform.

A :class:`ScenarioRun` copies a root configuration (and the local modules it sources) into a work
folder, writes the provider override for emulator targets, and runs init / apply / plan / output /
destroy through ``tftest`` with ``-input=false -no-color``. Any non-zero exit raises
:class:`~harness.errors.TerraformError`; errors listed in :data:`RETRYABLE_ERRORS` are retried a bounded
number of times, each retry logged with its reason.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tftest

from harness.errors import ConfigurationError, NotIdempotentError, TerraformError
from harness.masking import Masker
from harness.targets.base import Target
from harness.toolchain import Toolchain

LOG = logging.getLogger("harness.terraform")

# tftest logs every line Terraform prints at INFO and whole outputs at CRITICAL on failure; the harness
# writes its own masked logs instead, so tftest's logger must never print (it could carry secrets).
logging.getLogger("tftest").disabled = True

OVERRIDE_FILE = "harness_override.tf"

#: Terraform errors worth another attempt: pattern -> the reason logged with the retry.
RETRYABLE_ERRORS: dict[str, str] = {
    r"(?i)throttl|Rate exceeded|TooManyRequestsException|RequestLimitExceeded": "AWS API throttling",
    r"(?i)RequestError: send request failed|connection reset by peer|connection refused|i/o timeout": (
        "transient network error"
    ),
    r"(?i)TLS handshake timeout|EOF\s*$|unexpected EOF": "connection dropped",
    r"(?i)(ServiceUnavailable|InternalFailure|InternalError|status code: 5\d\d|StatusCode: 5\d\d)": (
        "AWS server error (5xx)"
    ),
    r"(?i)Provider produced inconsistent result after apply": "eventual consistency: inconsistent result",
    r"(?i)(not authorized to perform: sts:AssumeRole|InvalidParameterException.*(role|Role)"
    r"|MalformedPolicyDocument.*Invalid principal|does not exist or is not assumable)": "IAM propagation delay",
}

_LOCAL_SOURCE = re.compile(r"""^\s*source\s*=\s*"(\.{1,2}/[^"]*)\"""", re.MULTILINE)
_MODULE_BLOCK = re.compile(r'^\s*module\s+"[^"]+"\s*\{', re.MULTILINE)
_PROVIDER_BLOCK = re.compile(r'^\s*provider\s+"aws"\s*\{', re.MULTILINE)
_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|/\*.*?\*/|(?:#|//)[^\n]*', re.DOTALL)
_ALIAS = re.compile(r'^\s*alias\s*=\s*"([^"]+)"', re.MULTILINE)
_LOCK_AWS = re.compile(
    r'provider\s+"registry\.(?:terraform\.io|opentofu\.org)/hashicorp/aws"\s*\{\s*version\s*=\s*"([^"]+)"'
)
_WORK_IGNORE = shutil.ignore_patterns(".terraform", "terraform.tfstate*", ".terraform.tfstate.lock.info")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a retryable Terraform error is retried."""

    attempts: int = 3
    pause_seconds: float = 5.0

    def reason(self, text: str) -> str | None:
        """The human reason of the first retryable pattern found in ``text``, or None."""
        for pattern, why in RETRYABLE_ERRORS.items():
            if re.search(pattern, text):
                return why
        return None


def local_module_dirs(root_module: Path) -> list[Path]:
    """The root module and every module it reaches through local ``source = "./..."`` paths."""
    seen: list[Path] = []
    pending = [root_module.resolve()]
    while pending:
        folder = pending.pop()
        if folder in seen:
            continue
        if not folder.is_dir():
            raise ConfigurationError(f"module folder {folder} does not exist (a local `source` points at it)")
        seen.append(folder)
        for tf in sorted(folder.glob("*.tf")):
            for body in block_bodies(tf.read_text(), _MODULE_BLOCK):
                pending += [(folder / rel).resolve() for rel in _LOCAL_SOURCE.findall(body)]
    return seen


def strip_comments(text: str) -> str:
    """HCL text without ``#``, ``//`` and ``/* */`` comments (strings are kept, whatever they contain)."""
    return _COMMENT.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text)


def block_bodies(text: str, header: re.Pattern[str]) -> list[str]:
    """The bodies of the blocks whose opening line matches ``header`` (braces inside strings ignored)."""
    text = strip_comments(text)
    bodies = []
    for match in header.finditer(text):
        depth, end, in_string = 1, match.end(), False
        while depth and end < len(text):
            char = text[end]
            if char == '"' and text[end - 1] != "\\":
                in_string = not in_string
            elif not in_string:
                depth += {"{": 1, "}": -1}.get(char, 0)
            end += 1
        bodies.append(text[match.end() : end - 1])
    return bodies


def copy_configuration(root_module: Path, destination: Path) -> Path:
    """Copy ``root_module`` and its local modules under ``destination`` keeping their relative layout.

    Returns the root module's path inside the copy. Nothing is ever written into the source folders.
    """
    folders = local_module_dirs(root_module)
    common = Path(os.path.commonpath([str(f) for f in folders]))
    for folder in sorted(folders, key=lambda f: len(f.parts)):
        if any(parent in folders for parent in folder.parents):
            continue  # already copied with an enclosing folder
        shutil.copytree(folder, destination / folder.relative_to(common), ignore=_WORK_IGNORE, symlinks=True)
    return destination / root_module.resolve().relative_to(common)


def provider_aliases(root_module: Path) -> list[str]:
    """Aliases of the ``provider "aws"`` blocks in a root module's own ``.tf`` files."""
    aliases: list[str] = []
    for tf in sorted(root_module.glob("*.tf")):
        for body in block_bodies(tf.read_text(), _PROVIDER_BLOCK):
            aliases += _ALIAS.findall(body)
    return aliases


def selected_provider_version(root_module: Path) -> str | None:
    """The AWS provider version ``init`` recorded in ``.terraform.lock.hcl``, or None."""
    lock = root_module / ".terraform.lock.hcl"
    if not lock.is_file():
        return None
    match = _LOCK_AWS.search(lock.read_text())
    return match.group(1) if match else None


def tf_var_env(variables: Mapping[str, Any]) -> dict[str, str]:
    """Variables as ``TF_VAR_*`` environment entries (kept off the command line, so off ``ps``)."""
    env = {}
    for name, value in variables.items():
        env[f"TF_VAR_{name}"] = value if isinstance(value, str) else json.dumps(value)
    return env


@dataclass
class ScenarioRun:
    """One scenario applied on one target: copy, init, apply, idempotency plan, outputs, destroy.

    ``workdir`` lives under ``results_dir``; it is removed after a clean destroy and kept (state, logs,
    outputs) whenever something failed, or when ``keep`` is set.
    """

    source: Path
    target: Target
    toolchain: Toolchain
    prefix: str
    results_dir: Path
    variables: dict[str, Any] = field(default_factory=dict, repr=False)
    sensitive: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    keep: bool = False
    label: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    masker: Masker = field(default_factory=Masker, repr=False)
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)
    resources: list[str] = field(default_factory=list, repr=False)
    provider_version: str | None = None
    failed: bool = False
    applied: bool = False

    def __post_init__(self) -> None:
        self.source = self.source.resolve()
        if not (self.source.is_dir() and any(self.source.glob("*.tf"))):
            raise ConfigurationError(f"{self.source} is not a Terraform root module (no .tf files)")
        self.name = self.label or self.source.name
        self.workdir = self.results_dir / f"{self.name.replace('/', '-')}-{self.prefix}"
        self.log_path = self.workdir / "terraform.log"
        self.tfdir = self.workdir
        self._tf: tftest.TerraformTest | None = None
        for name in self.sensitive:
            if name in self.variables:
                self.masker.add(str(self.variables[name]))

    # -- plumbing ---------------------------------------------------------------------------------
    def _log(self, text: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(self.masker(text))

    def _command(
        self, cmd: str, *args: str, ok: Iterable[int] = (0,), retry: bool = True
    ) -> tftest.TerraformCommandOutput:
        """Run one Terraform command in the copy; retry known-transient errors; raise on any other exit."""
        assert self._tf is not None, "prepare() first"
        argv = [str(self.toolchain.terraform), cmd, *args]
        attempts = self.retry.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            self._log(f"\n$ {' '.join(argv)}  (attempt {attempt})\n")
            try:
                result = self._tf.execute_command(cmd, *args)
                code, out, err = result.retcode, result.out or "", result.err or ""
            except tftest.TerraformTestError as exc:  # tftest raises for exit codes 1 and 11
                code = 1
                out, err = str(exc.args[0]), str(exc.args[1]) if len(exc.args) > 1 else ""
                result = tftest.TerraformCommandOutput(code, out, err)
            self._log(out + err + f"\n[exit {code}]\n")
            if code in ok:
                return result
            why = self.retry.reason(err + out)
            if why and attempt < attempts:
                LOG.warning(
                    "%s: retrying `terraform %s` (%s), attempt %d of %d", self.name, cmd, why, attempt + 1, attempts
                )
                time.sleep(self.retry.pause_seconds)
                continue
            raise TerraformError(argv, code, self.masker(err), self.masker(out))
        raise AssertionError("unreachable")

    def _stage(self, name: str) -> _Timer:
        return _Timer(self.timings, name)

    # -- stages -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Copy the configuration into the work folder and create the tftest wrapper."""
        if self.workdir.exists():
            raise ConfigurationError(f"{self.workdir} already exists; prefixes must be unique per run")
        self.workdir.mkdir(parents=True)
        config = self.workdir / "config"
        self.tfdir = copy_configuration(self.source, config)
        if (self.tfdir / OVERRIDE_FILE).exists():
            raise ConfigurationError(
                f"{self.source} has its own {OVERRIDE_FILE}; rename it, the harness writes that file"
            )
        env = {**self.toolchain.env(), **self.target.terraform_env(), **tf_var_env(self.variables)}
        env.pop("TF_LOG", None)
        self._tf = tftest.TerraformTest(
            str(self.tfdir), binary=str(self.toolchain.terraform), env=env, cache_dir=str(self.workdir / ".tftest")
        )

    def init(self, upgrade: bool = False) -> None:
        """``terraform init`` (``-upgrade`` to select newer providers), then the provider override for the
        version init selected."""
        with self._stage("init"), self.toolchain.init_lock():
            self._command("init", "-input=false", "-no-color", *(["-upgrade"] if upgrade else []))
        self.init_override()

    def init_override(self) -> None:
        """Write the provider override for the provider version the last ``init`` selected."""
        self.provider_version = selected_provider_version(self.tfdir)
        lock = self.tfdir / ".terraform.lock.hcl"
        if (
            self.target.is_emulator
            and not self.provider_version
            and lock.is_file()
            and "/hashicorp/aws" in lock.read_text()
        ):
            raise ConfigurationError(
                f"{self.name}: cannot read the AWS provider version from {lock}; without it no emulator override "
                "can be written and Terraform would call real AWS. Check the lock file's provider block."
            )
        if self.provider_version:
            override = self.target.provider_override(
                self.provider_version, provider_aliases(self.tfdir), default_tags=self.tags
            )
            if override:
                (self.tfdir / OVERRIDE_FILE).write_text(override)
            if self.tags and self._tf is not None:
                if "default_tags" in (override or ""):
                    # the provider tags everything; the same tags in `tags` too would be refused as duplicates
                    own = self.variables.get("tags")
                    self._tf.env.pop("TF_VAR_tags", None)
                    if own:
                        self._tf.env.update(tf_var_env({"tags": own}))
                else:
                    # providers before 3.38 have no default_tags: pass the ownership tags as the `tags` variable
                    self._tf.env.update(tf_var_env({"tags": {**self.tags, **self.variables.get("tags", {})}}))

    def apply(self) -> None:
        """``terraform apply``; the resource list and outputs are read even when it fails part-way."""
        self.applied = True  # a failed apply may still have created resources: destroy must run
        try:
            with self._stage("apply"):
                self._command("apply", "-input=false", "-no-color", "-auto-approve")
        finally:
            self.resources = self.state_list()
        self.read_outputs()

    def state_list(self) -> list[str]:
        """Addresses of the managed resources in the state (data sources left out)."""
        result = self._command("state", "list", ok=(0, 1), retry=False)
        if result.retcode != 0:
            return []  # no state yet: the apply failed before creating anything
        addresses = [line.strip() for line in (result.out or "").splitlines() if line.strip()]
        return [a for a in addresses if not (a.startswith("data.") or ".data." in a)]

    def read_outputs(self) -> dict[str, Any]:
        """Outputs as plain values; sensitive ones are masked everywhere and kept out of outputs.json."""
        raw = json.loads(self._command("output", "-json", "-no-color").out or "{}")
        values, shown = {}, {}
        for name, item in raw.items():
            values[name] = item.get("value")
            if item.get("sensitive"):
                self.masker.add(*_strings(item.get("value")))
                shown[name] = "***"
            else:
                shown[name] = item.get("value")
        (self.workdir / "outputs.json").write_text(self.masker(json.dumps(shown, indent=2, sort_keys=True)))
        self.outputs = values
        return values

    def plan(self, out: str) -> dict[str, Any]:
        """Plan into the file ``out``; its ``terraform show -json`` form, or {} when nothing would change."""
        with self._stage("plan"):
            result = self._command("plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={out}", ok=(0, 2))
            if result.retcode == 0:
                return {}
            return dict(json.loads(self._command("show", "-json", out, retry=False).out or "{}"))

    def show_state(self) -> dict[str, Any]:
        """The state as ``terraform show -json`` prints it."""
        return dict(json.loads(self._command("show", "-json", "-no-color", retry=False).out or "{}"))

    def plan_changes(self) -> list[str]:
        """Resources a fresh plan would change, as ``"<address>: <actions>"`` (empty when idempotent)."""
        shown = self.plan("idempotency.tfplan")
        changes = []
        for change in shown.get("resource_changes", []):
            actions = change.get("change", {}).get("actions", [])
            if actions not in (["no-op"], ["read"]):
                changes.append(f"{change.get('address')}: {'/'.join(actions)}")
        for name, change in (shown.get("output_changes") or {}).items():
            if change.get("actions") not in (["no-op"], None):
                changes.append(f"output.{name}: {'/'.join(change['actions'])}")
        return changes

    def check_idempotent(self) -> None:
        """Raise NotIdempotentError when a plan right after apply proposes changes."""
        changes = self.plan_changes()
        if changes:
            raise NotIdempotentError(
                f"{self.name}: a plan right after apply wants changes, the configuration is not idempotent:\n  "
                + "\n  ".join(changes)
            )

    def destroy(self) -> None:
        """``terraform destroy``, retried on any error (a partial destroy often completes on a second pass).

        After a clean destroy, the files that hold secret values (plan files, state backup) are removed.
        """
        last: TerraformError | None = None
        with self._stage("destroy"):
            for attempt in range(1, self.retry.attempts + 1):
                try:
                    self._command("destroy", "-input=false", "-no-color", "-auto-approve")
                    break
                except TerraformError as exc:
                    last = exc
                    if attempt < self.retry.attempts:
                        LOG.warning(
                            "%s: destroy failed (attempt %d of %d), retrying", self.name, attempt, self.retry.attempts
                        )
                        time.sleep(self.retry.pause_seconds)
            else:
                assert last is not None
                raise last
        self.applied = False
        for leftover in [*self.tfdir.glob("*.tfplan"), self.tfdir / "terraform.tfstate.backup"]:
            leftover.unlink(missing_ok=True)

    def up(self) -> None:
        """prepare + init + apply + idempotency check (the fixture's set-up)."""
        self.prepare()
        self.init()
        self.apply()
        self.check_idempotent()

    def down(self, failed: bool = False) -> None:
        """Destroy unless ``keep``; keep the work folder (state, logs, outputs) on any failure."""
        self.failed = self.failed or failed
        if self.keep:
            LOG.warning("%s: resources kept (--tf-keep); destroy later with: %s", self.name, self.cleanup_hint())
            return
        if self.applied and self._tf is not None:
            try:
                self.destroy()
            except TerraformError as exc:
                self.failed = True
                raise TerraformError(
                    exc.command,
                    exc.exit_code,
                    f"{exc.stderr}\nresources of {self.name} may remain; state kept in {self.tfdir}. "
                    f"Finish the clean-up with: {self.cleanup_hint()}",
                    exc.stdout,
                ) from exc
        if not self.failed:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def cleanup_hint(self) -> str:
        """The shell command that destroys what this run left behind."""
        return (
            f"cd {self.tfdir} && TF_CLI_CONFIG_FILE={self.toolchain.cli_config} "
            f"{self.toolchain.terraform} destroy -auto-approve"
        )

    @property
    def total_seconds(self) -> float:
        """Seconds spent in Terraform stages so far."""
        return sum(self.timings.values())


class _Timer:
    def __init__(self, sink: dict[str, float], name: str) -> None:
        self.sink, self.name = sink, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.sink[self.name] = self.sink.get(self.name, 0.0) + time.perf_counter() - self.start


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a nested output value (to mask each of them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)
