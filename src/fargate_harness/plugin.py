"""pytest plugin: options under one group, and fixtures. The logic lives in importable modules."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from fargate_harness import configurations
from fargate_harness.checks import AppliedRun, run_of
from fargate_harness.cleanup.leftovers import sweep_killed_run
from fargate_harness.configurations import skip_reason, unavailable
from fargate_harness.errors import ConfigurationError, TargetError, TeardownError
from fargate_harness.lifecycle import Lifecycle
from fargate_harness.options import SETTINGS, Options, destroy_on_sigterm, env_flag, resolve_options, run_id, setting
from fargate_harness.processes import second_interrupt_stops_at_once
from fargate_harness.report import Collector, failure_message, load_summaries, render
from fargate_harness.runner import batch, toolchain
from fargate_harness.runner.isolation import isolate_network, isolate_run
from fargate_harness.runner.run import Progress
from fargate_harness.targets import TARGETS, Target, start_target, stop_target
from fargate_harness.upgrade import UpgradeReport, check_upgrade

LOG = logging.getLogger("fargate_harness")

#: option dest -> ini key (the environment variables and defaults are fargate_harness.options.SETTINGS)
_INI: dict[str, str] = {
    "target": "harness_target",
    "tf_binary": "harness_tf_binary",
    "tf_provider_source": "harness_provider_source",
    "tf_results_dir": "harness_results_dir",
    "tf_scenarios_dir": "harness_scenarios_dir",
    "localstack_endpoint": "harness_localstack_endpoint",
    "registry_role_arn": "harness_registry_role_arn",
    "aws_region": "harness_aws_region",
    "allowed_accounts": "harness_allowed_accounts",
    "tf_report": "harness_report",
    "tf_timeout": "harness_tf_timeout",
}


#: How the fixtures say where a registry account comes from, when a scenario needs one.
REGISTRY_HINT = "; set --registry-role-arn / HARNESS_REGISTRY_ROLE_ARN"
_COLLECTOR_KEY = pytest.StashKey[Collector]()
_DURATIONS_KEY = pytest.StashKey["dict[str, float] | None"]()
_ISOLATION_KEY = pytest.StashKey[str]()
#: Why the session stopped before its tests ran (a sandbox target it could not use), for the report.
_STOPPED_KEY = pytest.StashKey[str]()
#: The session's config, for hooks that do not receive it (pytest_runtest_logreport).
_CONFIG: dict[str, pytest.Config] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fargate-harness", "ECS Fargate IAM harness")
    group.addoption("--target", choices=TARGETS, help="where to apply scenarios (env HARNESS_TARGET; default embedded)")
    group.addoption(
        "--tf-binary", help="Terraform/OpenTofu executable (env TERRAFORM_BINARY; default: PATH, then bundled)"
    )
    group.addoption(
        "--tf-provider-source",
        choices=toolchain.PROVIDER_SOURCES,
        help="AWS provider from the registry, the offline mirror, or auto (env HARNESS_PROVIDER_SOURCE)",
    )
    group.addoption(
        "--tf-keep", action="store_true", default=None, help="keep resources after the tests (env HARNESS_KEEP=1)"
    )
    group.addoption("--tf-results-dir", help="where logs, outputs and failed runs' state go (env HARNESS_RESULTS_DIR)")
    group.addoption("--tf-scenarios-dir", help="folder of scenario root modules (env HARNESS_SCENARIOS_DIR)")
    group.addoption("--localstack-endpoint", help="LocalStack URL (else AWS_ENDPOINT_URL, LOCALSTACK_HOST)")
    group.addoption("--registry-role-arn", help="role assumed in the registry account on --target aws")
    group.addoption("--aws-region", help="region for --target aws (else AWS_REGION)")
    group.addoption("--tf-report", help="write a Markdown run report to this file (env HARNESS_REPORT)")
    group.addoption(
        "--allowed-accounts",
        help="comma-separated account ids the run may touch (env HARNESS_ALLOWED_ACCOUNTS; required on --target aws)",
    )
    group.addoption(
        "--tf-timeout", help="deadline per Terraform stage, e.g. apply=20m,destroy=15m (env HARNESS_TF_TIMEOUT)"
    )
    for dest, ini in _INI.items():
        parser.addini(ini, f"default for --{dest.replace('_', '-')}", default=SETTINGS[dest][1])


def _setting(config: pytest.Config, dest: str) -> str | None:
    """Command line, then environment, then ini file, then the default."""
    return setting(dest, config.getoption(dest), config.getini(_INI[dest]) or None)


def options_from_config(config: pytest.Config) -> Options:
    """Resolve every setting once."""
    return resolve_options(
        config.getoption,
        bool(config.getoption("tf_keep")) or env_flag("HARNESS_KEEP"),
        lambda dest: config.getini(_INI[dest]) or None,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario(name): apply the named scenario for this test module")
    config.addinivalue_line(
        "markers",
        "terraform(path, var_files=(), vars={}, preflight={}, account_id=None): apply the Terraform folder at path "
        "(relative to the test file, else to the rootdir) for this test module or class; `applied` returns it",
    )
    run_id()  # fixed in the controller before xdist starts workers, so all share one results folder
    if getattr(config, "workerinput", None) is None:
        # first, while the controller has one thread: xdist's workers are started later and inherit the namespace
        try:
            options = options_from_config(config)
            status = isolate_run(options.target, options.provider_source, keep=options.keep)
        except ConfigurationError as exc:
            status = isolate_network(skip=f"the harness's settings are not usable yet ({exc})")
        config.stash[_ISOLATION_KEY] = status.describe()
        second_interrupt_stops_at_once(lambda: stopped_at_once(config))
    destroy_on_sigterm()
    _CONFIG["config"] = config
    if _stored_durations(config) is not None:
        # the work units come ordered by stored seconds (pytest_collection_modifyitems); xdist's own reorder, by
        # number of tests, would put a unit of a few long tests (an ALB's 90 s apply) last again
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """On ``--target aws``, reach the sandbox account once, before collection and before any xdist worker starts:
    no usable credentials, or an account the allow-list refuses, stops the session with exit 2 and one message
    (also in the Markdown report), instead of one setup error per test module."""
    config = session.config
    if getattr(config, "workerinput", None) is not None:
        return
    if _setting(config, "target") != "aws":
        return  # other targets start per worker, in the fixtures
    try:
        check_sandbox(options_from_config(config))
    except (ConfigurationError, TargetError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        config.stash[_STOPPED_KEY] = message
        _write_report(config, EXIT_BAD_INPUT)  # pytest calls no sessionfinish for a session that did not start
        sys.stderr.write(f"fargate-harness: {message}\n")  # once: pytest repeats an exit's reason twice
        pytest.exit("fargate-harness: the sandbox target cannot be used (above); no test ran", EXIT_BAD_INPUT)


#: The exit code of a session stopped on a sandbox target it cannot use (bad input, as the CLI's).
EXIT_BAD_INPUT = 2


def check_sandbox(options: Options) -> None:
    """Reach the sandbox account (credentials, the allow-list: what ``fargate-harness check-target`` checks) and
    let it go; ConfigurationError or TargetError when it cannot be used."""
    target = start_target(options, options.results_dir / "check-target")
    target.stop()


def stopped_at_once(config: pytest.Config) -> str:
    """The line after a second Ctrl-C: the session stopped at once, and the run folders whose state is kept."""
    run_dir = options_from_config(config).run_dir
    folders = sorted(str(manifest.parent) for manifest in run_dir.glob("*/run.json"))
    kept = "; the state of what was applied is kept in " + ", ".join(folders) if folders else ""
    return (
        f"stopped at once (second interrupt){kept}: resources may remain; run `fargate-harness sweep --results-dir "
        f"{run_dir}` to destroy them"
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    """The session's network isolation, once, in pytest's header."""
    line = config.stash.get(_ISOLATION_KEY, None)
    return f"fargate-harness: {line}" if line else None


def _stored_durations(config: pytest.Config) -> dict[str, float] | None:
    """pytest-split's stored seconds per test (``--durations-path``, default ``.test_durations``) when the run
    distributes with ``--dist loadscope`` and the file is readable; else None. Read once per process."""
    if _DURATIONS_KEY not in config.stash:
        config.stash[_DURATIONS_KEY] = _read_durations(config)
    return config.stash[_DURATIONS_KEY]


#: The key of ``workerinput`` that tells an xdist worker its controller distributes with ``--dist loadscope``.
_LOADSCOPE_INPUT = "fargate_harness_loadscope"


def _distributes_by_scope(config: pytest.Config) -> bool:
    """True in a controller run with ``--dist loadscope`` and in its xdist workers (xdist sets a worker's own
    ``dist`` to "no", so the controller says it in ``workerinput``, :func:`pytest_configure_node`)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return bool(workerinput.get(_LOADSCOPE_INPUT, False))
    return getattr(config.option, "dist", "no") == "loadscope"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """(xdist controller) Tell each worker whether the run distributes by scope: the workers collect, and the
    order they collect in is the order xdist hands the work units out in."""
    node.workerinput[_LOADSCOPE_INPUT] = _distributes_by_scope(node.config)


def _read_durations(config: pytest.Config) -> dict[str, float] | None:
    if not _distributes_by_scope(config):
        return None
    path = Path(getattr(config.option, "durations_path", None) or config.rootpath / ".test_durations")
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def xdist_scope(nodeid: str) -> str:
    """The work unit ``--dist loadscope`` keeps on one worker: the class of a method, else the module (as
    pytest-xdist's ``LoadScopeScheduling._split_scope``)."""
    return nodeid.rsplit("::", 1)[0]


def longest_scopes_first(nodeids: list[str], durations: Mapping[str, float]) -> list[str]:
    """``nodeids`` with their loadscope work units ordered by stored seconds, longest first (tests keep their
    order inside a unit; a test the file does not list counts as the median listed one).

    xdist hands work units out in order, so a long unit handed out last runs alone at the end while the other
    workers idle: longest first is the classic greedy schedule (LPT) for that."""
    known = sorted(durations.values())
    default = known[len(known) // 2] if known else 0.0
    units: dict[str, list[str]] = {}
    for nodeid in nodeids:
        units.setdefault(xdist_scope(nodeid), []).append(nodeid)
    cost = {unit: sum(durations.get(n, default) for n in members) for unit, members in units.items()}
    ordered = sorted(units, key=lambda unit: -cost[unit])
    return [nodeid for unit in ordered for nodeid in units[unit]]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadscope`` with a stored durations file (pytest-split's ``.test_durations``, ``make
    durations``), hand out the longest work units first (:func:`longest_scopes_first`). Without the file, or
    with another distribution, the order is pytest's. Run last, after pytest-split chose a shard's tests."""
    durations = _stored_durations(config)
    if durations is None:
        return
    order = longest_scopes_first([item.nodeid for item in items], durations)
    position = {nodeid: index for index, nodeid in enumerate(order)}
    items.sort(key=lambda item: position[item.nodeid])


#: Harness fixtures whose applied runs the tests of one module share (each xdist worker would apply them again).
MODULE_SHARED_FIXTURES = frozenset({"scenario_factory", "upgrade_check"})
#: ... and those the tests of one class share.
CLASS_SHARED_FIXTURES = frozenset({"class_scenario_factory"})


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Under pytest-xdist (``-n N``) without a ``--dist`` of the run's own, distribute with ``--dist loadfile``:
    every test file runs on one worker, so a configuration a module's tests share (``applied``,
    ``terraform_apply``, ``scenario_batch``, ``upgrade_check``) is applied once per file, not once per worker
    that got one of its tests (xdist's default, ``load``, hands tests out one by one).

    A ``--dist`` given on the command line or in ``addopts`` is kept: ``loadscope`` keeps a class (or a module
    without classes) on one worker, ``loadgroup`` the ``xdist_group`` marks this plugin sets
    (:func:`pytest_collection_modifyitems_groups`), ``load`` and ``worksteal`` split files. Runs before
    pytest-xdist's own hook, which turns an unset distribution into ``load``."""
    option = config.option
    if getattr(config, "workerinput", None) is not None:  # a worker: xdist already reset its options
        return
    distributing = getattr(option, "numprocesses", None) and not getattr(option, "distload", False)
    if distributing and getattr(option, "dist", "no") == "no":
        option.dist = "loadfile"


def _configuration_key(item: pytest.Item) -> str | None:
    """What the item's closest ``terraform``/``scenario`` marker applies: the folder (resolved as the fixtures
    resolve it: relative to the test file, else to the rootdir) or the scenario's name."""
    terraform = item.get_closest_marker("terraform")
    if terraform is not None and terraform.args:
        path = Path(str(terraform.args[0])).expanduser()
        tried = [path] if path.is_absolute() else [Path(item.path).parent / path, item.config.rootpath / path]
        folder = next((t for t in tried if t.is_dir()), tried[0])
        return f"terraform:{folder.resolve()}"
    scenario = item.get_closest_marker("scenario")
    if scenario is not None and scenario.args:
        return f"scenario:{scenario.args[0]}"
    return None


def shared_groups(entries: Iterable[tuple[str, str | None, Iterable[str]]]) -> dict[str, str]:
    """nodeid -> group name for the tests that share an applied configuration, from (nodeid, configuration key,
    fixture names) per test.

    Two tests share when they name the same configuration in a marker, or use a module-scoped harness fixture
    (:data:`MODULE_SHARED_FIXTURES`) in one module, or a class-scoped one (:data:`CLASS_SHARED_FIXTURES`) in one
    class; sharing is transitive (a module whose classes name two configurations is one group). A test sharing
    nothing gets no group. Group names are readable and stable: the first key's last path part and a short hash.
    """
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys_of: dict[str, list[str]] = {}
    for nodeid, configuration, fixtures in entries:
        names = set(fixtures)
        keys = [configuration] if configuration else []
        if names & MODULE_SHARED_FIXTURES:
            keys.append("module:" + nodeid.split("::", 1)[0])
        if names & CLASS_SHARED_FIXTURES:
            keys.append("class:" + nodeid.rsplit("::", 1)[0])
        keys_of[nodeid] = keys
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
    members: dict[str, list[str]] = {}
    for keys in keys_of.values():
        if keys:
            members.setdefault(find(keys[0]), []).extend(keys)
    group_names: dict[str, str] = {}
    for root, keys in members.items():
        first = min(set(keys), key=lambda k: (k.startswith(("module:", "class:")), k))  # a configuration first
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", first.rstrip("/").rsplit("/", 1)[-1].split(":")[-1])[:40]
        group_names[root] = f"fh-{label}-{hashlib.sha256(first.encode()).hexdigest()[:6]}"
    return {nodeid: group_names[find(keys[0])] for nodeid, keys in keys_of.items() if keys}


@pytest.hookimpl(tryfirst=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that share an applied configuration with one ``xdist_group`` (:func:`shared_groups`), before
    pytest-xdist reads the marks: under ``--dist loadgroup`` one worker runs each group, and the test files of one
    configuration run one after the other. Other distributions ignore the marks. (pytest 9.2 with pytest-xdist
    3.8 drops the marks' effect: pytest-xdist#1386; the plugin's default, ``loadfile``, does not depend on them.)"""
    groups = shared_groups((item.nodeid, _configuration_key(item), getattr(item, "fixturenames", ())) for item in items)
    for item in items:
        group = groups.get(item.nodeid)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(name=group))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Tag each report with its scenario so the controller can tally per scenario (xdist included)."""
    marker = item.get_closest_marker("scenario")
    terraform = item.get_closest_marker("terraform")
    name = None
    if marker is not None and marker.args:
        name = str(marker.args[0])
    elif terraform is not None and terraform.args:
        name = Path(str(terraform.args[0])).name  # reported under the folder's name, as its run is
    if name and ("scenario", name) not in item.user_properties:
        item.user_properties.append(("scenario", name))
    yield


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Tally outcomes per scenario (runs on the controller under xdist)."""
    config = _CONFIG.get("config")
    if config is None:
        return
    scenario = dict(report.user_properties).get("scenario")
    if scenario:
        message = failure_message(report.longrepr) if report.outcome == "failed" else ""
        config.stash.setdefault(_COLLECTOR_KEY, Collector()).add(
            str(scenario), report.nodeid, report.outcome, report.when, message
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the Markdown report (controller only): an interrupted session says so, and a session stopped before
    its tests (:func:`pytest_sessionstart`) says why."""
    config = session.config
    if getattr(config, "workerinput", None) is not None:
        return
    _write_report(config, exitstatus)


def _write_report(config: pytest.Config, exitstatus: int) -> None:
    path = _setting(config, "tf_report")
    if not path:
        return
    options = options_from_config(config)
    collector = config.stash.get(_COLLECTOR_KEY, Collector())
    stopped = config.stash.get(_STOPPED_KEY, "")
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED and not stopped
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    summaries = load_summaries(options.run_dir) if not stopped else []
    text = render(run_id(), options.target, collector, summaries, interrupted=interrupted, stopped=stopped)
    Path(path).write_text(text)


def _to_terminal(config: pytest.Config, text: str) -> None:
    """One line on the terminal while a test runs: pytest's capture (of the file descriptors too) is suspended
    for it, so the line is not swallowed; xdist workers write to their standard error, which is the terminal's."""
    capture = config.pluginmanager.getplugin("capturemanager")
    suspended = capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext()
    with suspended:
        sys.stderr.write(f"\nfargate-harness: {text}\n")
        sys.stderr.flush()


def _progress(config: pytest.Config) -> Progress | None:
    """With ``-v``, a line on the terminal when each stage of a run starts and ends (an ALB's apply takes a
    minute); quiet otherwise."""
    if config.get_verbosity() < 1:
        return None
    worker = _worker_id(config)
    tag = "" if worker == "main" else f"[{worker}] "

    def show(name: str, stage: str, seconds: float | None) -> None:
        _to_terminal(config, f"{tag}{name}: {stage} {'...' if seconds is None else f'{seconds:.1f}s'}")

    return show


def _news(config: pytest.Config) -> Callable[[str], None] | None:
    """With ``-v``, the lifecycle's news (a batch, what the harness changed about a deployment) on the terminal."""
    if config.get_verbosity() < 1:
        return None
    return lambda line: _to_terminal(config, line)


def _worker_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


@pytest.fixture(scope="session")
def harness_options(pytestconfig: pytest.Config) -> Options:
    """The resolved harness options."""
    return options_from_config(pytestconfig).validate(needs_scenarios=False)  # checked when a scenario is named


@pytest.fixture(scope="session")
def harness_toolchain(harness_options: Options) -> toolchain.Toolchain:
    """Terraform plus CLI config (offline mirror when the registry is unreachable)."""
    return toolchain.prepare(harness_options.tf_binary, harness_options.provider_source)


@pytest.fixture(scope="session")
def harness_target(
    harness_options: Options, pytestconfig: pytest.Config, request: pytest.FixtureRequest
) -> Iterator[Target]:
    """The selected target, started for the session (one embedded emulator per xdist worker)."""
    try:
        target = start_target(harness_options, harness_options.run_dir / f"emulator-{_worker_id(pytestconfig)}")
    except ConfigurationError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield target
    finally:
        kept = stop_target(target, harness_options)
        if kept:
            _to_terminal(pytestconfig, kept)
        if not kept and not harness_options.keep and request.session.testsfailed == 0:
            # a passing session leaves only its summaries (and reports) under the results folder
            shutil.rmtree(harness_options.run_dir / f"emulator-{_worker_id(pytestconfig)}", ignore_errors=True)


ScenarioFactory = Callable[..., AppliedRun]
#: What the ``terraform_apply`` fixture is: ``terraform_apply(path, var_files=(), preflight=None, **vars)``.
TerraformApply = Callable[..., AppliedRun]


def resolve_configuration(request: pytest.FixtureRequest, path: str | Path) -> Path:
    """A configuration folder: absolute, else relative to the requesting test file's folder, else to the rootdir."""
    candidate = Path(path).expanduser()
    tried = (
        [candidate]
        if candidate.is_absolute()
        else [Path(request.path).parent / candidate, request.config.rootpath / candidate]
    )
    for folder in tried:
        if folder.is_dir():
            return folder.resolve()
    raise ConfigurationError(
        f"Terraform folder {str(path)!r} not found (tried {', '.join(str(t) for t in tried)}); give a path relative "
        "to the test file or to the pytest rootdir"
    )


def lifecycle_of(
    request: pytest.FixtureRequest, options: Options, tools: toolchain.Toolchain, target: Target
) -> Lifecycle:
    """The lifecycle the fixtures run configurations through (progress under ``-v``, quiet otherwise)."""
    return Lifecycle(
        target,
        tools,
        options.run_dir,
        keep=options.keep,
        worker=_worker_id(request.config),
        progress=_progress(request.config),
        registry_hint=REGISTRY_HINT,
        say=_news(request.config),
        after_kill=sweep_killed_run,
    )


def make_factory(
    request: pytest.FixtureRequest, options: Options, tools: toolchain.Toolchain, target: Target
) -> ScenarioFactory:
    """``factory(name, **variables)``: copy, init, apply and idempotency-check a configuration
    (:meth:`Lifecycle.start`).

    Its finish (destroy, summary) is registered with the requesting fixture's scope before the apply and runs
    whatever happened; a run whose tests failed keeps its state, logs and outputs under the results folder. A
    teardown that fails is an error of the fixture's teardown, apart from the tests' verdicts.
    """
    lifecycle = lifecycle_of(request, options, tools, target)

    def factory(
        name: str | Path | configurations.Configuration,
        *,
        var_files: Iterable[str | Path] = (),
        path: bool = False,
        preflight: dict[str, Any] | None = None,
        account_id: str | None = None,
        **variables: Any,
    ) -> AppliedRun:
        if isinstance(name, configurations.Configuration):
            scenario = name
            files = tuple(_var_file(scenario.path, f) for f in var_files)
        elif path or isinstance(name, Path):
            folder = resolve_configuration(request, name)
            scenario = configurations.from_path(folder)
            files = tuple(_var_file(folder, f) for f in var_files)
        else:
            scenario = configurations.get(name, options.scenarios_dir)
            files = tuple(_var_file(scenario.path, f) for f in var_files)
        reason = unavailable(scenario, target, REGISTRY_HINT)
        if reason:
            pytest.skip(f"{name}: {reason}")
        run = lifecycle.new_run(scenario, values=variables, var_files=files, preflight=preflight, account_id=account_id)
        failures_before = request.session.testsfailed
        views: list[AppliedRun] = []

        def finish() -> None:
            failed = request.session.testsfailed > failures_before
            problem = lifecycle.finish(run, failed=failed, applied=views[0] if views else None)
            if problem:
                raise TeardownError(problem)

        request.addfinalizer(finish)
        lifecycle.start(run)
        views.append(AppliedRun.of(run))
        return views[0]

    return factory


@pytest.fixture(scope="module")
def scenario_factory(
    request: pytest.FixtureRequest,
    harness_options: Options,
    harness_toolchain: toolchain.Toolchain,
    harness_target: Target,
) -> ScenarioFactory:
    """Apply scenarios once per test module; destroyed at the module's end (see :func:`make_factory`)."""
    return make_factory(request, harness_options, harness_toolchain, harness_target)


@pytest.fixture(scope="class")
def class_scenario_factory(
    request: pytest.FixtureRequest,
    harness_options: Options,
    harness_toolchain: toolchain.Toolchain,
    harness_target: Target,
) -> ScenarioFactory:
    """Apply scenarios once per test class; destroyed at the class's end (see :func:`make_factory`)."""
    return make_factory(request, harness_options, harness_toolchain, harness_target)


def _var_file(folder: Path, item: str | Path) -> Path:
    """A var file: absolute, else relative to the configuration folder (as Terratest's VarFiles)."""
    path = Path(item).expanduser()
    return path if path.is_absolute() else folder / path


def _apply_marked(request: pytest.FixtureRequest, factory: ScenarioFactory) -> AppliedRun:
    terraform = request.node.get_closest_marker("terraform")
    if terraform is not None:
        if not terraform.args:
            raise pytest.UsageError(f"{request.node.nodeid}: pytest.mark.terraform needs the configuration's path")
        return factory(
            str(terraform.args[0]),
            path=True,
            var_files=terraform.kwargs.get("var_files", ()),
            preflight=terraform.kwargs.get("preflight"),
            account_id=terraform.kwargs.get("account_id"),
            **dict(terraform.kwargs.get("vars") or {}),
        )
    marker = request.node.get_closest_marker("scenario")
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f"{request.node.nodeid}: add pytest.mark.terraform('<path>') or pytest.mark.scenario('<name>') to the "
            "module or class"
        )
    return factory(str(marker.args[0]))


@pytest.fixture(scope="module")
def applied(request: pytest.FixtureRequest, scenario_factory: ScenarioFactory) -> AppliedRun:
    """The configuration the module's ``pytest.mark.terraform(path, ...)`` (any folder) or
    ``pytest.mark.scenario(name)`` (ours) names, applied once for the module."""
    return _apply_marked(request, scenario_factory)


@pytest.fixture(scope="class")
def applied_class(request: pytest.FixtureRequest, class_scenario_factory: ScenarioFactory) -> AppliedRun:
    """Like ``applied``, for a marker on a test class: applied once per class.

    With ``--dist loadscope`` each class runs on one worker, so the classes of a module spread over workers.
    """
    return _apply_marked(request, class_scenario_factory)


@pytest.fixture(scope="module")
def terraform_apply(scenario_factory: ScenarioFactory) -> TerraformApply:
    """``terraform_apply(path, var_files=(), preflight=None, **vars)``: apply any Terraform folder (relative to the
    test file, else to the rootdir) on the selected target, once per call, destroyed at the module's end.

    Returns the applied run: ``.outputs``, ``.state``, ``.inventory`` and the assertions ``assert_tasks_start()``,
    ``assert_least_privilege()``, ``assert_trusts_only_ecs_tasks()``, ``role(name).assert_trusts_only(...)``.
    """

    def apply(
        path: str | Path,
        *,
        var_files: Iterable[str | Path] = (),
        preflight: dict[str, Any] | None = None,
        account_id: str | None = None,
        **variables: Any,
    ) -> AppliedRun:
        return scenario_factory(
            str(path), path=True, var_files=var_files, preflight=preflight, account_id=account_id, **variables
        )

    return apply


class Together:
    """Scenarios of one test module applied as one batch where they can be (:mod:`~runner.batch`), each alone
    otherwise: :meth:`run` gives a scenario's run, whichever way it was applied.

    A scenario the target cannot run is skipped by the test that asks for it. When the batch fails before its
    checks, it is destroyed (its folder kept) and every member is applied alone when a test first asks for
    it, so a failing configuration fails its own tests with Terraform's own error.
    """

    def __init__(
        self,
        request: pytest.FixtureRequest,
        factory: ScenarioFactory,
        chosen: Iterable[str | configurations.Configuration],
    ) -> None:
        options: Options = request.getfixturevalue("harness_options")
        self.target: Target = request.getfixturevalue("harness_target")
        self._factory = factory
        self._skipped: dict[str, str] = {}
        self._views: dict[str, AppliedRun] = {}
        self._alone: dict[str, AppliedRun] = {}
        self._scenarios: dict[str, configurations.Configuration] = {}
        self._batch: batch.Batch | None = None
        members = []
        for item in chosen:
            scenario = (
                item
                if isinstance(item, configurations.Configuration)
                else configurations.get(item, options.scenarios_dir)
            )
            if scenario.name in self._scenarios:
                continue  # asked for twice: one run serves both
            self._scenarios[scenario.name] = scenario
            reason = unavailable(scenario, self.target, REGISTRY_HINT)
            if reason:
                self._skipped[scenario.name] = reason
            elif not batch.unbatchable(scenario, self.target):
                members.append(scenario)
        if len(members) > 1:
            self._apply(request, options, members)

    def _apply(
        self, request: pytest.FixtureRequest, options: Options, members: list[configurations.Configuration]
    ) -> None:
        lifecycle = lifecycle_of(request, options, request.getfixturevalue("harness_toolchain"), self.target)
        failures_before = request.session.testsfailed
        group = lifecycle.start_batch(members)
        if group is None:
            return  # destroyed at once: each member is applied alone when a test first asks for it

        def finish() -> None:
            problem = lifecycle.finish_batch(
                group, self._views.values(), failed=request.session.testsfailed > failures_before
            )
            if problem:
                raise TeardownError(problem)

        request.addfinalizer(finish)
        self._batch = group
        self._views = {view.name: view for view in lifecycle.member_views(group)}

    def run(self, name: str) -> AppliedRun:
        """The applied run of ``name``: its view in the batch, or a run of its own (applied on first use)."""
        if name in self._skipped:
            pytest.skip(f"{name}: {self._skipped[name]}")
        if name in self._views:
            assert self._batch is not None
            problem = self._batch.idempotency_error(name)
            if problem is not None:
                raise problem
            return self._views[name]
        if name not in self._alone:
            self._alone[name] = self._factory(self._scenarios.get(name, name))
        return self._alone[name]

    def applied(self, name: str) -> bool:
        """True while something of ``name`` is applied (its batch's or its own resources)."""
        if name in self._views and self._batch is not None:
            return self._batch.run.applied
        return name in self._alone and run_of(self._alone[name]).applied

    def forget(self, name: str, address: str) -> None:
        """``terraform state rm`` of ``name``'s own ``address`` before the destroy (emulator gaps only)."""
        if name in self._views and self._batch is not None:
            self._batch.forget(name, address)
        else:
            run_of(self._alone[name]).forget(address)


@pytest.fixture(scope="module")
def scenario_batch(request: pytest.FixtureRequest, scenario_factory: ScenarioFactory) -> Callable[..., Together]:
    """``scenario_batch(names)``: our scenarios (names, or :class:`~configurations.Configuration`) applied as one
    root where they can be (one init, apply, plan and destroy, see :mod:`~runner.batch`), each alone otherwise;
    destroyed at the module's end."""

    def apply_together(names: Iterable[str]) -> Together:
        return Together(request, scenario_factory, names)

    return apply_together


@pytest.fixture(scope="module")
def upgrade_check(
    request: pytest.FixtureRequest,
    harness_options: Options,
    harness_toolchain: toolchain.Toolchain,
    harness_target: Target,
) -> Callable[..., UpgradeReport]:
    """``upgrade_check(path_or_scenario, source=REF_OR_DIR, destination=None, source_provider=None,
    destination_provider=None, allow_widening=(), var_files=(), variables=None)`` ->
    :class:`~fargate_harness.upgrade.UpgradeReport`.

    A folder (a ``Path``, or a string naming one): any root configuration, as ``fargate-harness upgrade --dir
    PATH --from REF_OR_PATH [--to REF_OR_PATH]`` compares it: ``source`` is a git revision of the repository
    holding it (same relative path) or a folder, ``destination`` the same (default: the working tree);
    ``var_files`` (relative to the configuration folder, as the ``terraform`` marker's) and ``variables`` apply
    to both sides. A reference scenario's name: only its ``modules/`` folder is swapped (``upgrade --scenario``).

    Applies the old side, switches to the new one on the same state, reports replacements, output changes,
    provider changes and permission diffs, applies, checks idempotency, and destroys. The same upgrade asked for
    again in one test module (same configuration, sides and providers) is not run again: ``allow_widening`` only
    decides which widenings fail, so the report is judged again with the new items (``UpgradeReport.accepting``).
    Tests of one module share a worker under xdist (see ``pytest_collection_modifyitems``).
    """
    from fargate_harness.upgrade import check_configuration_upgrade

    done: dict[tuple[str, ...], UpgradeReport] = {}

    def check(scenario: str | Path, *, allow_widening: Iterable[str] = (), **kwargs: Any) -> UpgradeReport:
        lifecycle = lifecycle_of(request, harness_options, harness_toolchain, harness_target)
        folder = Path(scenario).expanduser()
        path = folder if folder.is_dir() else configurations.get(str(scenario), harness_options.scenarios_dir).path
        reason = skip_reason(configurations.Configuration(path.name, path), harness_target)
        if reason:
            pytest.skip(f"{scenario}: {reason}")
        key = (str(path.resolve()), *(f"{name}={value}" for name, value in sorted(kwargs.items())))
        if key not in done and folder.is_dir():
            files = tuple(_var_file(path, f) for f in kwargs.pop("var_files", ()))  # as the terraform marker's
            done[key] = check_configuration_upgrade(path, lifecycle=lifecycle, var_files=files, **kwargs)
        elif key not in done:
            done[key] = check_upgrade(
                path, name=str(scenario), lifecycle=lifecycle, repo=harness_options.scenarios_dir.parent, **kwargs
            )
        return done[key].accepting(allow_widening)

    return check
