"""The account guard refuses accounts that are not on the allow-list, and says how to allow them."""

from __future__ import annotations

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.targets import EmbeddedTarget
from fargate_harness.targets.account_guard import AccountNotAllowedError, check_accounts, parse_accounts
from fargate_harness.targets.embedded import EMBEDDED_ACCOUNT, EMBEDDED_REGISTRY_ACCOUNT
from tests.safety.conftest import cli


def test_refuses_the_emulator_account_when_not_listed(emulator: EmbeddedTarget) -> None:
    with pytest.raises(AccountNotAllowedError) as refused:
        check_accounts(emulator, parse_accounts("111111111111"))
    message = str(refused.value)
    assert f"caller's account is {EMBEDDED_ACCOUNT}" in message
    assert f"HARNESS_ALLOWED_ACCOUNTS={EMBEDDED_ACCOUNT}" in message


def test_refuses_a_registry_account_not_listed(emulator: EmbeddedTarget) -> None:
    with pytest.raises(AccountNotAllowedError, match=f"registry account is {EMBEDDED_REGISTRY_ACCOUNT}"):
        check_accounts(emulator, parse_accounts(EMBEDDED_ACCOUNT))


def test_allows_listed_accounts(emulator: EmbeddedTarget) -> None:
    allowed = parse_accounts(f"{EMBEDDED_ACCOUNT},{EMBEDDED_REGISTRY_ACCOUNT}")
    assert check_accounts(emulator, allowed) == [EMBEDDED_ACCOUNT, EMBEDDED_REGISTRY_ACCOUNT]


def test_an_empty_list_refuses_when_the_guard_is_required(emulator: EmbeddedTarget) -> None:
    with pytest.raises(AccountNotAllowedError, match=r"allow-list \(empty\)"):
        check_accounts(emulator, frozenset(), required=True)


def test_malformed_account_ids_are_bad_input() -> None:
    with pytest.raises(ConfigurationError, match="12-digit"):
        parse_accounts("12345, 123456789012")


def test_cli_refuses_with_exit_2_and_no_traceback(emulator: EmbeddedTarget) -> None:
    assert emulator.endpoint_url
    result = cli(
        "check-target",
        "--allowed-accounts",
        "111111111111",
        env={"HARNESS_EMBEDDED_ENDPOINT": emulator.endpoint_url},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"HARNESS_ALLOWED_ACCOUNTS={EMBEDDED_ACCOUNT}" in result.stderr
    assert "Traceback" not in result.stderr


def test_aws_target_with_an_empty_allow_list_refuses(emulator: EmbeddedTarget) -> None:
    """On --target aws the guard is mandatory: credentials that work are not enough."""
    assert emulator.endpoint_url
    result = cli(
        "check-target",
        "--target",
        "aws",
        env={
            "AWS_ENDPOINT_URL": emulator.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "HARNESS_ALLOWED_ACCOUNTS": "",
        },
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"caller's account is {EMBEDDED_ACCOUNT}" in result.stderr
    assert "allow-list (empty)" in result.stderr


def test_nightly_without_credentials_fails_fast_with_a_message() -> None:
    result = cli(
        "check-target",
        "--target",
        "aws",
        env={
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "us-east-1",
        },
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs AWS credentials" in result.stderr
    assert "Traceback" not in result.stderr
