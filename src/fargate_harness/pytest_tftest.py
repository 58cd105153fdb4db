"""pytest items for a configuration's own ``terraform test`` files (opt-in: ``--tf-test-files``, or the ini option
``tf_test_files = true``).

Each ``*.tftest.hcl`` under the paths pytest collects is a file node; each of its ``run`` blocks an item. The first
item of a file runs the whole file through the lifecycle (:meth:`fargate_harness.lifecycle.Lifecycle.terraform_tests`:
a fresh account, the harness's overrides, the preflight on every apply run) on the selected target; every item then
reports its own run block: Terraform's assertion messages, the harness's findings. Under ``--dist loadscope`` a test
file is one work unit, so it runs on one worker. The configuration is the test file's folder, or the folder above
when the file is in Terraform's test directory (``tests/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fargate_harness import configurations
from fargate_harness.lifecycle import Lifecycle
from fargate_harness.plugin import REGISTRY_HINT, _worker_id, options_from_config
from fargate_harness.runner import hcl, toolchain
from fargate_harness.runner.tftest import TEST_DIRECTORY, FileResult, RunResult
from fargate_harness.targets import Target, start_target, stop_target

_TARGET = pytest.StashKey[Target]()
_OPTION = "tf_test_files"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("fargate-harness").addoption(
        "--tf-test-files",
        action="store_true",
        default=None,
        help="collect *.tftest.hcl files: each run block an item, applied on the target (ini tf_test_files)",
    )
    parser.addini(_OPTION, "collect *.tftest.hcl files as tests (see --tf-test-files)", type="bool", default=False)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A ``*.tftest.hcl`` file, when collecting them was asked for."""
    config = parent.config
    wanted = config.getoption(_OPTION) or config.getini(_OPTION)
    if wanted and file_path.name.endswith(".tftest.hcl"):
        return TerraformTestFile.from_parent(parent, path=file_path)
    return None


def configuration_of(test_file: Path) -> tuple[Path, str]:
    """The configuration a test file belongs to, and the file's path relative to it (as ``-filter`` takes it)."""
    folder = test_file.parent
    if folder.name == TEST_DIRECTORY and hcl.config_files(folder.parent):
        return folder.parent, f"{TEST_DIRECTORY}/{test_file.name}"
    return folder, test_file.name


class TerraformTestFile(pytest.File):
    """One test file: its run blocks, and the file's result once its first item ran it."""

    result: FileResult | None = None
    error: str = ""

    def collect(self) -> list[pytest.Item]:
        parsed = hcl.parse_file(self.path)
        names = [name for block in parsed.get("run") or [] for name in block]
        root, relative = configuration_of(self.path)
        items: list[pytest.Item] = [TerraformTestRun.from_parent(self, name=name) for name in names]
        for item in items:  # the Markdown report tallies them under the configuration's test file
            item.user_properties.append(("scenario", f"{root.name}/{relative}"))
        return items

    def run_file(self) -> FileResult | None:
        """Run the whole file once (the first item asks); a bad input is every item's error."""
        if self.result is None and not self.error:
            root, relative = configuration_of(self.path)
            config = self.config
            options = options_from_config(config).validate(needs_scenarios=False)
            target = _target(config)
            tools = toolchain.prepare(options.tf_binary, options.provider_source)
            lifecycle = Lifecycle(
                target,
                tools,
                options.run_dir,
                keep=options.keep,
                worker=_worker_id(config),
                registry_hint=REGISTRY_HINT,
            )
            try:
                (self.result,) = lifecycle.terraform_tests(configurations.from_path(root), [relative])
            except Exception as exc:  # a refused file, a failed init: every run block of the file reports it
                self.error = str(exc)
        return self.result


class TerraformTestRun(pytest.Item):
    """One ``run`` block of a test file."""

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, TerraformTestFile)
        result = parent.run_file()
        if result is None:
            raise TerraformTestFailure(parent.error)
        run = next((r for r in result.runs if r.name == self.name), None)
        if run is None:
            raise TerraformTestFailure(
                f"run {self.name!r} did not run ({result.status}): " + "; ".join(result.diagnostics or ["no output"])
            )
        problems = _problems(run)
        last = result.runs[-1].name == self.name
        if last and not problems and not result.passed:
            problems = [f"terraform test exited {result.exit_code}", *result.diagnostics]
        if problems:
            raise TerraformTestFailure("\n".join(problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, TerraformTestFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"run {self.name!r}"


class TerraformTestFailure(Exception):
    """A run block that failed: Terraform's messages, then the harness's findings."""


def _problems(run: RunResult) -> list[str]:
    lines = []
    if run.status != "pass":
        lines += [f"terraform test: run {run.name!r}: {run.status}", *run.diagnostics]
    if run.findings and not run.expected_not_to_start:
        lines += [f"harness: {finding}" for finding in run.findings]
    return lines


def _target(config: pytest.Config) -> Target:
    """The session's target for test files, started on first use, stopped when the session ends."""
    if _TARGET not in config.stash:
        options = options_from_config(config).validate(needs_scenarios=False)
        target = start_target(options, options.run_dir / f"emulator-tftest-{_worker_id(config)}")
        config.stash[_TARGET] = target

        def stop() -> None:
            stop_target(target, options)

        config.add_cleanup(stop)
    return config.stash[_TARGET]
