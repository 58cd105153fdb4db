"""Targets: the embedded emulator, LocalStack, or a real sandbox account."""

from __future__ import annotations

from pathlib import Path

from fargate_harness.errors import ConfigurationError
from fargate_harness.options import Options
from fargate_harness.targets.aws import AwsTarget
from fargate_harness.targets.base import Target
from fargate_harness.targets.embedded import EmbeddedTarget
from fargate_harness.targets.localstack import LocalStackTarget

TARGETS = ("embedded", "localstack", "aws")

__all__ = [
    "TARGETS",
    "AwsTarget",
    "EmbeddedTarget",
    "LocalStackTarget",
    "Target",
    "make_target",
    "start_target",
    "stop_target",
]


def make_target(
    name: str,
    *,
    region: str | None = None,
    localstack_endpoint: str | None = None,
    registry_role_arn: str | None = None,
    log_dir: Path | None = None,
    keep: bool = False,
) -> Target:
    """Build (but do not start) the target called ``name``."""
    if name == "embedded":
        return EmbeddedTarget(
            region=region or "us-east-1", log_path=log_dir / "moto.log" if log_dir else None, detached=keep
        )
    if name == "localstack":
        return LocalStackTarget(endpoint=localstack_endpoint, region=region or "us-east-1")
    if name == "aws":
        return AwsTarget(region=region, registry_role_arn=registry_role_arn)
    raise ConfigurationError(f"unknown target {name!r}: choose one of {', '.join(TARGETS)} (--target / HARNESS_TARGET)")


def start_target(options: Options, log_dir: Path) -> Target:
    """Build and start the target ``options`` select, then apply the account guard (stopping it on refusal)."""
    from fargate_harness.targets.account_guard import allowed_from_env, check_accounts

    target = make_target(
        options.target,
        region=options.region,
        localstack_endpoint=options.localstack_endpoint,
        registry_role_arn=options.registry_role_arn,
        log_dir=log_dir,
        keep=options.keep,
    )
    target.start()
    try:
        target.start_guard()
        check_accounts(target, allowed_from_env(options.allowed_accounts))
    except BaseException:
        target.stop()
        raise
    return target


def stop_target(target: Target, options: Options) -> str:
    """Stop ``target``; an embedded emulator kept with ``--keep`` is left running and recorded, and the message
    that says how to inspect, destroy and stop it is returned ("" otherwise)."""
    from fargate_harness.targets import kept

    target.stop()
    if isinstance(target, EmbeddedTarget) and target.detached and target.pid is not None:
        return kept.kept_message(kept.record(target, options.results_dir), options.results_dir)
    return ""
