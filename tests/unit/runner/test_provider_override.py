"""Unit tests for fargate_harness.runner.provider_override: the provider blocks that point a configuration at an
emulator, per provider version, alias and schema. No Terraform and no emulator run here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.runner.provider_override import PROVIDER_ENDPOINTS, provider_override
from fargate_harness.runner.provider_schema import ProviderSchema
from fargate_harness.targets import AwsTarget, Target
from fargate_harness.targets.base import RESOURCE_SERVICES

URL = "http://127.0.0.1:4599"


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Isolate from the developer's AWS settings."""
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "HARNESS_REGISTRY_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


def _emulator(**kwargs: Any) -> Target:
    return Target(
        name="embedded", region="us-east-1", endpoint_url=URL, access_key="testing", secret_key="testing", **kwargs
    )


def _blocks(hcl: str) -> list[str]:
    """Top-level ``provider "aws"`` blocks of an override."""
    return re.findall(r'^provider "aws" \{\n.*?^\}\n', hcl, flags=re.MULTILINE | re.DOTALL)


# -- provider_override -------------------------------------------------------------------------------


def test_provider_override_is_none_for_real_aws() -> None:
    """Real AWS: no override, whatever the version and aliases."""
    assert provider_override(AwsTarget(region="eu-west-1"), "5.31.0", ["registry"]) is None
    assert provider_override(Target(name="aws", region="eu-west-1", endpoint_url=None), "3.39.0", []) is None


@pytest.mark.parametrize("version", ["2.70.0", "3.39.0", "4.67.0"])
def test_provider_override_before_5_uses_the_old_arguments(version: str) -> None:
    """Providers before 5.x take skip_get_ec2_platforms and s3_force_path_style."""
    text = provider_override(_emulator(), version, [])
    assert text is not None
    assert "skip_get_ec2_platforms      = true" in text
    assert "s3_force_path_style         = true" in text
    assert "s3_use_path_style" not in text


@pytest.mark.parametrize("version", ["5.0.0", "5.31.0", "6.2.0"])
def test_provider_override_from_5_uses_the_new_arguments(version: str) -> None:
    """Provider 5.x removed skip_get_ec2_platforms and renamed the path-style argument."""
    text = provider_override(_emulator(), version, [])
    assert text is not None
    assert "s3_use_path_style           = true" in text
    assert "skip_get_ec2_platforms" not in text
    assert "s3_force_path_style" not in text


def test_provider_override_has_one_block_per_alias_plus_the_default() -> None:
    """Default block first (no alias), then one per distinct alias, sorted."""
    text = provider_override(_emulator(), "5.31.0", ["replica", "registry", "replica"])
    assert text is not None
    assert text.startswith("# Written by fargate-harness")
    blocks = _blocks(text)
    assert len(blocks) == 3
    assert "alias" not in blocks[0]
    assert '  alias = "registry"' in blocks[1]
    assert '  alias = "replica"' in blocks[2]
    assert text.count("{") == text.count("}")


def test_provider_override_points_every_endpoint_at_the_emulator() -> None:
    """Each block carries the emulator credentials, the skip flags and every endpoint."""
    text = provider_override(_emulator(), "3.39.0", ["registry"])
    assert text is not None
    for block in _blocks(text):
        assert 'access_key                  = "testing"' in block
        assert 'secret_key                  = "testing"' in block
        for flag in ("skip_credentials_validation", "skip_metadata_api_check", "skip_region_validation"):
            assert f"{flag}" in block
        for name in PROVIDER_ENDPOINTS:
            assert f'    {name} = "{URL}"' in block
    assert text.count(f'"{URL}"') == 2 * len(PROVIDER_ENDPOINTS)


def test_provider_endpoints_cover_every_resource_service() -> None:
    """Every service a scenario may need has an endpoint in the override (logs as cloudwatchlogs)."""
    spelled = {"logs": "cloudwatchlogs"}
    for service in set(RESOURCE_SERVICES.values()) | {"sts"}:
        assert spelled.get(service, service) in PROVIDER_ENDPOINTS


# -- provider_override with the provider's own schema ------------------------------------------------


def _schema() -> ProviderSchema:
    return ProviderSchema(
        "5.31.0",
        ("elbv2", "iam", "logs", "servicediscovery", "sts"),
        frozenset({"region", "profile", "shared_config_files", "s3_use_path_style", "skip_region_validation"}),
    )


def test_provider_override_with_a_schema_redirects_every_endpoint_it_names() -> None:
    """Every endpoint the selected provider accepts is redirected (not a hand-kept list), and only flags and
    credential arguments it knows are written."""
    text = provider_override(_emulator(), "5.31.0", ["dr"], schema=_schema())
    assert text is not None
    for block in _blocks(text):
        for name in ("elbv2", "iam", "logs", "servicediscovery", "sts"):
            assert f'    {name} = "{URL}"' in block
        assert "skip_region_validation      = true" in block
        assert "s3_use_path_style           = true" in block
        assert "profile                     = null" in block
        assert "shared_config_files         = null" in block
        assert "skip_get_ec2_platforms" not in block and "skip_metadata_api_check" not in block


@pytest.mark.parametrize("schema", [None, "with max_retries", "without"])
def test_provider_override_bounds_the_providers_retries_unless_faults_are_injected(
    monkeypatch: pytest.MonkeyPatch, schema: str | None
) -> None:
    """An emulator answers what it does not implement with HTTP 500: 5 retries instead of the provider's 25 end
    such a destroy in about a minute instead of hanging. Under HARNESS_FAULTS the retries are what is tested."""
    known = _schema()
    if schema == "with max_retries":
        known = ProviderSchema(known.version, known.endpoints, known.arguments | {"max_retries"})
    chosen = None if schema is None else known
    monkeypatch.delenv("HARNESS_FAULTS", raising=False)
    text = provider_override(_emulator(), "3.39.0", [], schema=chosen)
    assert text is not None
    assert ("max_retries                 = 5" in text) == (schema != "without"), text
    monkeypatch.setenv("HARNESS_FAULTS", "moderate")
    text = provider_override(_emulator(), "3.39.0", [], schema=chosen)
    assert text is not None and "max_retries" not in text, text


def test_provider_override_for_a_child_module_can_leave_the_default_out() -> None:
    """A child module's override names only the blocks it declares."""
    text = provider_override(_emulator(), "3.39.0", ["replica"], schema=_schema(), include_default=False)
    assert text is not None
    (block,) = _blocks(text)
    assert 'alias = "replica"' in block


def test_provider_override_carries_a_session_token() -> None:
    """An isolated run's role session has a token; the provider needs it with the keys."""
    target = _emulator()
    target.session_token = "tok"
    text = provider_override(target, "3.39.0", [])
    assert text is not None and 'token                       = "tok"' in text
    assert target.terraform_env()["AWS_SESSION_TOKEN"] == "tok"
