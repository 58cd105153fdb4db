"""A team's own ``terraform test`` files, applied for real on the emulator: the third way the harness runs Terraform,
made of the run's pieces (the work copy, the overrides, the placement and the session), not a copy of them.

Each test file runs in a work folder and an emulator account of its own (the same fixed names in two test files
would collide in one account), with ``terraform test -filter=FILE -json -verbose``: Terraform's own runner applies,
asserts and destroys, and its JSON stream gives every run block's status, its diagnostics (an assert's
``error_message``) and, for each apply run, the state it left, which the caller may judge (the preflight).

Nothing leaves the emulator: the configuration's providers, and those of every module Terraform installs for it,
including the modules ``run { module { } }`` blocks load, get the harness's override; the session routes every
request through the network guard. A ``provider "aws"`` block inside a test file would replace that override for
the test (measured: the apply went where the block pointed), so such a file is refused, naming the file and
line; ``mock_provider`` and ``override_*`` blocks make no request and are left as written.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError
from fargate_harness.runner import hcl, overrides, placement, provider_schema
from fargate_harness.runner.diagnostics import Diagnosis, RetryPolicy, explain
from fargate_harness.runner.masking import Masker
from fargate_harness.runner.session import Session
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.runner.workspace import TEST_FILE_SUFFIXES, copy_configuration
from fargate_harness.targets.base import Target

#: Terraform's default test directory, beside the root module's own test files.
TEST_DIRECTORY = "tests"
#: A comment line in a test file that lets the named run blocks apply task definitions that would not start.
EXPECT_NO_START = re.compile(r"^\s*#\s*fargate-harness:\s*tasks-may-not-start\s+(?P<runs>.+?)\s*$", re.MULTILINE)
_PROVIDER_LINE = re.compile(r'^[ \t]*provider\s+"?(?P<name>[A-Za-z0-9_-]+)"?\s*\{', re.MULTILINE)

#: Judges one apply run's state: (test file, run name, state) -> findings (empty: nothing wrong).
Judge = Callable[[str, str, Mapping[str, Any]], list[str]]


def find_test_files(root: Path, test_directory: str = TEST_DIRECTORY) -> list[str]:
    """The configuration's test files, as Terraform finds them: beside the root module and in its test directory,
    relative to the root, sorted."""
    found = []
    for folder in (root, root / test_directory):
        if folder.is_dir():
            found += [p for p in folder.iterdir() if p.is_file() and p.name.endswith(TEST_FILE_SUFFIXES)]
    return sorted(p.relative_to(root).as_posix() for p in found)


def providers_in(test_file: Path, local_names: Iterable[str]) -> list[str]:
    """The ``provider`` blocks of ``test_file`` that configure the AWS provider (any of its ``local_names``), as
    ``file:line``. Whether the file has such a block is read with the HCL parser; the line is then located in the
    text for the message."""
    names = set(local_names)
    if test_file.name.endswith(".json"):
        parsed = json.loads(test_file.read_text(encoding="utf-8"))
        blocks = parsed.get("provider") or {}
        present = {name for name in (blocks if isinstance(blocks, dict) else {})}
    else:
        parsed = hcl.parse_file(test_file)
        present = {name for item in parsed.get("provider") or [] for name in item}
    wanted = present & names
    text = test_file.read_text(encoding="utf-8")
    lines = [
        f"{test_file}:{text.count(chr(10), 0, match.start()) + 1}"
        for match in _PROVIDER_LINE.finditer(text)
        if match["name"] in wanted
    ]
    return lines or [str(test_file) for _ in wanted]


def expected_not_to_start(test_file: Path) -> frozenset[str]:
    """The run blocks the test file lets apply task definitions that would not start (see :data:`EXPECT_NO_START`)."""
    text = test_file.read_text(encoding="utf-8")
    return frozenset(name for match in EXPECT_NO_START.finditer(text) for name in match["runs"].split())


@dataclass
class RunResult:
    """One run block: ``status`` as Terraform gives it (``pass``, ``fail``, ``error``, ``skip``), its diagnostics,
    the state an apply run left (None for a plan run), and the harness's findings on that state."""

    file: str
    name: str
    status: str = "pending"
    diagnostics: list[str] = field(default_factory=list)
    state: dict[str, Any] | None = field(default=None, repr=False)
    findings: list[str] = field(default_factory=list)
    expected_not_to_start: bool = False

    @property
    def passed(self) -> bool:
        """Terraform passed it and the harness found nothing wrong with what it applied."""
        return self.status == "pass" and (not self.findings or self.expected_not_to_start)


@dataclass
class FileResult:
    """One test file's outcome: its runs, the account it ran in, its work folder, Terraform's file-level status and
    diagnostics (an error outside any run block: a destroy that failed, a refused file)."""

    file: str
    account: str | None
    workdir: Path
    runs: list[RunResult] = field(default_factory=list)
    status: str = "pending"
    diagnostics: list[str] = field(default_factory=list)
    exit_code: int | None = None

    @property
    def passed(self) -> bool:
        """Every run passed, and Terraform said so too."""
        return self.status == "pass" and self.exit_code == 0 and all(r.passed for r in self.runs)


def read_stream(lines: Iterable[str], file: str, masker: Masker) -> FileResult:
    """What ``terraform test -json -verbose`` said about ``file``: every run's last status, its diagnostics
    (masked), and each apply run's state. Lines that are not JSON messages are ignored."""
    result = FileResult(file, None, Path())
    runs: dict[str, RunResult] = {}
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        name = message.get("@testrun")
        run = runs.setdefault(name, RunResult(file, name)) if name else None
        kind = message.get("type")
        if kind == "test_run" and run is not None:
            status = (message.get("test_run") or {}).get("status")
            if status:
                run.status = status
        elif kind == "test_state" and run is not None:
            state = {k: v for k, v in (message.get("test_state") or {}).items() if k != "provider_schemas"}
            run.state = {"format_version": state.get("state_format_version"), "values": state}
        elif kind == "test_file":
            status = (message.get("test_file") or {}).get("status")
            if status:
                result.status = status
        elif kind == "diagnostic":
            diagnostic = message.get("diagnostic") or {}
            text = masker(_diagnostic_text(diagnostic))
            (run.diagnostics if run is not None else result.diagnostics).append(text)
    result.runs = list(runs.values())
    return result


def _diagnostic_text(diagnostic: Mapping[str, Any]) -> str:
    where = diagnostic.get("range") or {}
    place = f"{where.get('filename')}:{(where.get('start') or {}).get('line')}: " if where.get("filename") else ""
    detail = " ".join(str(diagnostic.get("detail") or "").split())
    return f"{place}{diagnostic.get('severity', 'error')}: {diagnostic.get('summary', '')}" + (
        f": {detail}" if detail else ""
    )


@dataclass
class TerraformTest:
    """``terraform test`` of one test file of the configuration ``source``, on ``target``, in an account of its own.

    ``variables`` are the harness's values for the variables the root declares (the test file's own
    ``variables`` blocks win over them, as Terraform gives them precedence); ``judge`` looks at each apply run's
    state."""

    source: Path
    file: str
    target: Target
    toolchain: Toolchain
    results_dir: Path
    prefix: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    masker: Masker = field(default_factory=Masker)
    #: The harness's own secret variables (their values are never shown in a message).
    sensitive: tuple[str, ...] = ()
    judge: Judge | None = None
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=1))

    def __post_init__(self) -> None:
        self.source = self.source.resolve()
        self.modules = hcl.walk(self.source)
        label = re.sub(r"[^A-Za-z0-9_.-]", "-", self.file.removesuffix(".hcl").removesuffix(".json"))
        self.name = f"{self.source.name}/{self.file}"
        self.workdir = self.results_dir / f"{self.source.name}-{label}-{self.prefix}"
        test_path = self.source / self.file
        if not test_path.is_file():
            raise ConfigurationError(f"{self.source}: no test file {self.file}; found: {find_test_files(self.source)}")
        names = {local for module in self.modules for local in module.aws_local_names()} | {"aws"}
        refused = providers_in(test_path, names)
        if refused and self.target.is_emulator:
            raise ConfigurationError(
                f"{self.name}: a provider block for hashicorp/aws in the test file ({', '.join(refused)}) would "
                f"replace the harness's emulator override for every run of the file and send its requests where it "
                "points. Fix: remove it (the harness points the configuration's own providers at the emulator); set "
                "a region or other inputs through the configuration's variables, in a `variables` block of the test "
                "file; a mock_provider block is left as written"
            )
        self.expected = expected_not_to_start(test_path)

    def run(self) -> FileResult:
        """Copy, place in a fresh account, init, override, ``terraform test``; the file's result. Raises
        ConfigurationError for what the configuration or the toolchain must fix before any test runs."""
        self.workdir.mkdir(parents=True, mode=0o700)
        tfdir = copy_configuration(self.source, self.workdir / "config", exclude=(self.results_dir,), with_tests=True)
        where = placement.place(
            placement.Request(
                name=self.name,
                source=self.source,
                modules=self.modules,
                target=self.target,
                variables=self.variables,
                prefix=self.prefix,
                isolate=True,  # fixed names of two test files would collide in one account
                keep_region=False,
            )
        )
        with contextlib.ExitStack() as serial:
            if where.serial is not None:  # the configuration names its account: runs there wait for each other
                serial.enter_context(placement.SERIAL.hold(*where.serial, self.name))
            return self._run(tfdir, where.target, list(where.changes))

    def _run(self, tfdir: Path, target: Target, changes: list[str]) -> FileResult:
        overrides.write_manifest(
            self.workdir,
            prefix=self.prefix,
            label=self.name,
            source=self.source,
            target=target,
            tfdir=tfdir,
            var_files=(),
            changes=changes,
        )
        backend = overrides.write_backend_override(self.modules[0], tfdir)
        diagnosis = Diagnosis.of(
            self.name,
            self.source,
            self.modules,
            target,
            self.toolchain,
            variables=self.variables,
            user_variables={},
            sensitive=self.sensitive,
            masker=self.masker,
        )
        session = Session(
            self.name,
            tfdir,
            self.workdir / "terraform.log",
            self.workdir,
            target,
            self.toolchain,
            self.masker,
            self.retry,
            diagnose=lambda cmd, text: explain(cmd, text, diagnosis) if cmd != "test" else None,
        )
        try:
            session.command("init", "-input=false", "-no-color")
            version = overrides.selected_provider_version(tfdir)
            overrides.check_lock_readable(self.name, tfdir, target, version)
            default_tags = False
            if version:
                schema = provider_schema.cached(
                    version, lambda: dict(json.loads(session.command("providers", "schema", "-json").out or "{}"))
                )
                default_tags, _changes = overrides.write_provider_overrides(
                    tfdir, target, version, self.tags, schema if target.is_emulator else None
                )
            overrides.write_var_files(
                self.workdir,
                variables=self.variables,
                declared=self.modules[0].variables,
                tags=self.tags,
                user_variables={},
                default_tags=default_tags,
            )
            session.start_provider(version, overrides.module_calls(tfdir))
            answer = session.command(
                "test",
                f"-filter={self.file}",
                "-json",
                "-verbose",
                "-no-color",
                f"-var-file={self.workdir / overrides.HARNESS_VAR_FILE}",
                ok=(0, 1),
                retry=False,
                holds_values=True,
            )
        finally:
            session.stop_provider()
        result = read_stream((answer.out or "").splitlines(), self.file, self.masker)
        result.account, result.workdir, result.exit_code = target.known_account_id, self.workdir, answer.retcode
        if backend:
            result.diagnostics.append(f"note: {backend}")
        for run in result.runs:
            run.expected_not_to_start = run.name in self.expected
            if run.state is not None and self.judge is not None:
                run.findings = [self.masker(f) for f in self.judge(self.file, run.name, run.state)]
        return result


def summary(results: Sequence[FileResult]) -> str:
    """One line per run block and per file, for a terminal."""
    lines = []
    for result in results:
        lines.append(f"{'pass' if result.passed else 'FAIL'}  {result.file}  (account {result.account})")
        for run in result.runs:
            verdict = "pass" if run.passed else ("fail" if run.status in ("pass", "fail") else run.status)
            lines.append(f"  {verdict:5} run {run.name!r}")
            lines += [f"        {d}" for d in run.diagnostics]
            lines += [f"        harness: {f}" for f in run.findings]
        lines += [f"  {d}" for d in result.diagnostics]
    return "\n".join(lines)
