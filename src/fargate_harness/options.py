"""Run options shared by the pytest plugin and the command line: one value per setting, with sources."""

from __future__ import annotations

import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fargate_harness.errors import ConfigurationError

TRUE = {"1", "true", "yes", "on"}


#: IAM principal ARNs a harness option may name (IAM User Guide, "IAM ARNs":
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns): a partition
#: (aws, aws-cn, aws-us-gov, aws-iso...), no region, a 12-digit account, then ``role/[path/]name``,
#: ``user/[path/]name`` or, in STS, ``assumed-role/<role>/<session>``. Names: ``[\w+=,.@-]``, 1-64 characters for a
#: role or session, 1-64 for a user (IAM quotas); a path is ``/`` or ``/.../``.
_PARTITION = r"arn:aws(?:-[a-z]+)*"
_NAME = r"[\w+=,.@-]{1,64}"
_PATH = r"(?:[\x21-\x7e]*/)?"
ARN_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "role": (
        re.compile(rf"{_PARTITION}:iam::\d{{12}}:role/{_PATH}{_NAME}"),
        "arn:aws:iam::<12-digit account>:role/<name>",
    ),
    "user": (
        re.compile(rf"{_PARTITION}:iam::\d{{12}}:user/{_PATH}{_NAME}"),
        "arn:aws:iam::<12-digit account>:user/<name>",
    ),
    "assumed-role": (
        re.compile(rf"{_PARTITION}:sts::\d{{12}}:assumed-role/{_NAME}/{_NAME}"),
        "arn:aws:sts::<12-digit account>:assumed-role/<role>/<session>",
    ),
}
#: What ``--deployer`` (the principal that registers task definitions) may be.
PRINCIPAL_KINDS = ("role", "user", "assumed-role")


def validate_arn_option(name: str, value: object, kinds: tuple[str, ...] = PRINCIPAL_KINDS) -> str:
    """``value`` when it is an ARN of one of ``kinds`` (see :data:`ARN_FORMS`); otherwise a ConfigurationError
    naming the option ``name``, the value and the forms expected. Call it before anything is applied."""
    text = str(value).strip() if value is not None else ""
    if any(ARN_FORMS[kind][0].fullmatch(text) for kind in kinds):
        return text
    forms = " or ".join(ARN_FORMS[kind][1] for kind in kinds)
    raise ConfigurationError(f"{name} is {text!r}: expected an IAM ARN of the form {forms}")


#: The stages ``--tf-timeout`` names: Terraform's commands, and ``other`` for every other one (``show``, ``state``,
#: ``providers``...); ``grace`` is the second, shorter limit after a deadline (then the command is killed).
STAGES = ("init", "plan", "apply", "destroy", "test", "other", "grace")
#: Seconds per stage when ``--tf-timeout`` does not say otherwise: what a real stack fits with room to spare. An
#: apply of a Fargate service behind a load balancer takes minutes (an ALB alone is 3-5 min on AWS, a service waits
#: for a steady state up to 10 min, an RDS instance 10-40 min), a destroy as long (an ENI release is slow); an init
#: downloads providers; ``show`` and ``state`` are local. The grace covers what Terraform finishes after an
#: interrupt (an operation in flight: the provider's own wait, 60 s for provider 3.39's aws_lb).
DEFAULT_TIMEOUTS: dict[str, float] = {
    "init": 15 * 60,
    "plan": 30 * 60,
    "apply": 90 * 60,
    "destroy": 60 * 60,
    "test": 90 * 60,
    "other": 10 * 60,
    "grace": 2 * 60,
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
TIMEOUT_HELP = (
    "stage=duration[,stage=duration...] (env HARNESS_TF_TIMEOUT), e.g. apply=20m,destroy=15m; stages: "
    + ", ".join(STAGES)
    + "; durations 90s, 20m, 1.5h, or seconds; 0 or off: no deadline"
)


def parse_timeouts(text: str | None) -> dict[str, float]:
    """Seconds per stage (:data:`STAGES`; 0: no deadline) from ``--tf-timeout``'s ``stage=duration,...``, over
    :data:`DEFAULT_TIMEOUTS`. ConfigurationError, naming the part and the form expected, on anything else."""
    table = dict(DEFAULT_TIMEOUTS)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        stage, _, value = (piece.strip().lower() for piece in part.partition("="))
        duration = _DURATION.fullmatch(value)
        if stage not in STAGES or not (duration or value in ("off", "none")):
            raise ConfigurationError(
                f"--tf-timeout / HARNESS_TF_TIMEOUT: {part.strip()!r} is not stage=duration; expected {TIMEOUT_HELP}"
            )
        table[stage] = float(duration.group(1)) * _UNITS[duration.group(2)] if duration else 0.0
    if table["grace"] <= 0:
        raise ConfigurationError(
            "--tf-timeout / HARNESS_TF_TIMEOUT: grace must be more than 0 (the seconds Terraform gets to stop after "
            "a deadline, before it is killed); give e.g. grace=60s"
        )
    return table


def deadline_for(cmd: str) -> tuple[float | None, float]:
    """(seconds ``terraform CMD`` may run, or None; the grace after it), from ``HARNESS_TF_TIMEOUT`` (which
    :meth:`Options.validate` sets from the command line, the pytest option or the ini file)."""
    table = parse_timeouts(os.environ.get(SETTINGS["tf_timeout"][0]))
    seconds = table[cmd if cmd in STAGES and cmd != "grace" else "other"]
    return (seconds or None), table["grace"]


def env_flag(name: str) -> bool:
    """True when environment variable ``name`` holds 1/true/yes/on."""
    return os.environ.get(name, "").strip().lower() in TRUE


#: The file the harness writes in every run folder it creates: ``clean`` removes only folders that hold it, never a
#: folder a user put under the results folder (``results/nightly/``, a CI job's ``results/shards/``).
RUN_MARKER = ".fargate-harness-run"


def mark_run_dir(folder: Path) -> Path:
    """Create ``folder`` (a run's folder) with its marker, when it has none; return it."""
    marker = folder / RUN_MARKER
    if not marker.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text("a run folder of fargate-harness: `fargate-harness clean` may remove it\n")
    return folder


def run_id() -> str:
    """``HARNESS_RUN_ID``, set once per run (the pytest controller sets it for its xdist workers)."""
    value = os.environ.get("HARNESS_RUN_ID")
    if not value:
        value = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)
        os.environ["HARNESS_RUN_ID"] = value
    return value


@dataclass(frozen=True)
class Options:
    """Everything a run needs to know before it starts."""

    target: str = "embedded"
    tf_binary: str | None = None
    provider_source: str | None = None
    keep: bool = False
    results_dir: Path = Path("results")
    scenarios_dir: Path = Path("scenarios")
    localstack_endpoint: str | None = None
    registry_role_arn: str | None = None
    region: str | None = None
    allowed_accounts: str | None = None
    tf_timeout: str | None = None

    @property
    def run_dir(self) -> Path:
        """This run's folder under the results folder, created with its marker (:data:`RUN_MARKER`) when first
        asked for: whatever asks is about to write there, and ``fargate-harness clean`` removes only the folders
        that carry the marker."""
        return mark_run_dir(self.results_dir.resolve() / run_id())

    def validate(self, needs_scenarios: bool = True) -> Options:
        """Fail early, with the fix, on settings that cannot work (the scenarios folder only when the run
        uses our scenarios: a user's repository applies its own folders and has none)."""
        if self.tf_timeout:
            parse_timeouts(self.tf_timeout)
            os.environ[SETTINGS["tf_timeout"][0]] = self.tf_timeout  # every run of the process, and its workers
        if self.registry_role_arn:
            validate_arn_option("--registry-role-arn / HARNESS_REGISTRY_ROLE_ARN", self.registry_role_arn, ("role",))
        if needs_scenarios and not self.scenarios_dir.is_dir():
            raise ConfigurationError(
                f"nothing to run: no --dir was given and there is no scenarios folder here ({self.scenarios_dir}). "
                "Give the Terraform folder to test: fargate-harness run --dir infra (repeatable). The reference "
                "scenarios run from the fargate-harness repository (or --tf-scenarios-dir / HARNESS_SCENARIOS_DIR)."
            )
        return self


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"received signal {signal.Signals(signum).name}")


def destroy_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt (as SIGINT already is), so ``finally`` blocks destroy resources.

    Only the main thread may install handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


#: Every setting the CLI and the pytest plugin share: option dest -> (environment variable, default).
SETTINGS: dict[str, tuple[str, str | None]] = {
    "target": ("HARNESS_TARGET", "embedded"),
    "tf_binary": ("TERRAFORM_BINARY", None),
    "tf_provider_source": ("HARNESS_PROVIDER_SOURCE", "auto"),
    "tf_results_dir": ("HARNESS_RESULTS_DIR", "results"),
    "tf_scenarios_dir": ("HARNESS_SCENARIOS_DIR", "scenarios"),
    "localstack_endpoint": ("HARNESS_LOCALSTACK_ENDPOINT", None),
    "registry_role_arn": ("HARNESS_REGISTRY_ROLE_ARN", None),
    "aws_region": ("HARNESS_AWS_REGION", None),
    "allowed_accounts": ("HARNESS_ALLOWED_ACCOUNTS", None),
    "tf_report": ("HARNESS_REPORT", None),
    "tf_timeout": ("HARNESS_TF_TIMEOUT", None),
}


def setting(dest: str, explicit: object = None, fallback: str | None = None) -> str | None:
    """One setting: the explicit value (command line), else its environment variable, else ``fallback``
    (the pytest ini value), else its default."""
    env, default = SETTINGS[dest]
    if explicit is not None:
        return str(explicit)
    return os.environ.get(env) or fallback or default


def resolve_options(
    explicit: Callable[[str], object], keep: bool, fallback: Callable[[str], str | None] = lambda _dest: None
) -> Options:
    """Options from a source of explicit values (CLI arguments or pytest options) and the shared fallbacks."""

    def get(dest: str) -> str | None:
        return setting(dest, explicit(dest), fallback(dest))

    return Options(
        target=get("target") or "embedded",
        tf_binary=get("tf_binary"),
        provider_source=get("tf_provider_source"),
        keep=keep,
        results_dir=Path(get("tf_results_dir") or "results"),
        scenarios_dir=Path(get("tf_scenarios_dir") or "scenarios").resolve(),
        localstack_endpoint=get("localstack_endpoint"),
        registry_role_arn=get("registry_role_arn"),
        region=get("aws_region"),
        allowed_accounts=get("allowed_accounts"),
        tf_timeout=get("tf_timeout"),
    )
