"""Unit tests for fargate_harness.runner.provider_override: the provider blocks that point a configuration at an
emulator, per provider version, alias and schema. No emulator runs here; the toolchain's Terraform runs once, for
`terraform fmt -check` on the generated overrides."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.runner import as_written, toolchain
from fargate_harness.runner.provider_override import PROVIDER_ENDPOINTS, fmt_expression, provider_override
from fargate_harness.runner.provider_schema import CREDENTIAL_ARGUMENTS, PATH_STYLE_FLAGS, SKIP_FLAGS, ProviderSchema
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


def _sets(text: str, name: str, value: str) -> bool:
    """True when a line of ``text`` sets ``name`` to ``value`` (spaces before ``=`` are terraform fmt's alignment)."""
    return re.search(rf"^ *{re.escape(name)} += {re.escape(value)}$", text, flags=re.MULTILINE) is not None


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
    assert _sets(text, "skip_get_ec2_platforms", "true")
    assert _sets(text, "s3_force_path_style", "true")
    assert "s3_use_path_style" not in text


@pytest.mark.parametrize("version", ["5.0.0", "5.31.0", "6.2.0"])
def test_provider_override_from_5_uses_the_new_arguments(version: str) -> None:
    """Provider 5.x removed skip_get_ec2_platforms and renamed the path-style argument."""
    text = provider_override(_emulator(), version, [])
    assert text is not None
    assert _sets(text, "s3_use_path_style", "true")
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
    assert _sets(blocks[1], "alias", '"registry"')
    assert _sets(blocks[2], "alias", '"replica"')
    assert text.count("{") == text.count("}")


def test_provider_override_points_every_endpoint_at_the_emulator() -> None:
    """Each block carries the emulator credentials, the skip flags and every endpoint."""
    text = provider_override(_emulator(), "3.39.0", ["registry"])
    assert text is not None
    for block in _blocks(text):
        assert _sets(block, "access_key", '"testing"')
        assert _sets(block, "secret_key", '"testing"')
        for flag in ("skip_credentials_validation", "skip_metadata_api_check", "skip_region_validation"):
            assert f"{flag}" in block
        for name in PROVIDER_ENDPOINTS:
            assert _sets(block, name, f'"{URL}"')
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
            assert _sets(block, name, f'"{URL}"')
        assert _sets(block, "skip_region_validation", "true")
        assert _sets(block, "s3_use_path_style", "true")
        assert _sets(block, "profile", "null")
        assert _sets(block, "shared_config_files", "null")
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
    assert _sets(text, "max_retries", "5") == (schema != "without"), text
    monkeypatch.setenv("HARNESS_FAULTS", "moderate")
    text = provider_override(_emulator(), "3.39.0", [], schema=chosen)
    assert text is not None and "max_retries" not in text, text


def test_provider_override_for_a_child_module_can_leave_the_default_out() -> None:
    """A child module's override names only the blocks it declares."""
    text = provider_override(_emulator(), "3.39.0", ["replica"], schema=_schema(), include_default=False)
    assert text is not None
    (block,) = _blocks(text)
    assert _sets(block, "alias", '"replica"')


def test_provider_override_carries_a_session_token() -> None:
    """An isolated run's role session has a token; the provider needs it with the keys."""
    target = _emulator()
    target.session_token = "tok"
    text = provider_override(target, "3.39.0", [])
    assert text is not None and _sets(text, "token", '"tok"')
    assert target.terraform_env()["AWS_SESSION_TOKEN"] == "tok"


# -- terraform fmt ----------------------------------------------------------------------------------

#: The configuration's own provider blocks the fmt test reads its default_tags from (with python-hcl2, as the runner
#: does): a literal map for the default provider, expressions of the shapes teams write for the aliases.
OWN_PROVIDERS = """
provider "aws" {
  default_tags {
    tags = {
      Team          = "payments"
      "cost-center" = "cc-42"
      Env           = var.env
    }
  }
}

provider "aws" {
  alias = "registry"
  default_tags {
    tags = merge(var.common_tags, { Service = "payments", "app:tier" = "${var.env}-api" })
  }
}

provider "aws" {
  alias = "replica"
  default_tags {
    tags = { for key, value in var.tags : key => value if value != "" }
  }
}

provider "aws" {
  alias = "audit"
  default_tags {
    tags = merge([for extra in var.extra_tags : extra]...)
  }
}
"""

OWNERSHIP_TAGS = {
    "fargate-harness:managed": "true",
    "fargate-harness:run-id": "nightly-7",
    "fargate-harness:prefix": "p",
}


def _full_schema(version: str) -> ProviderSchema:
    """A schema knowing every flag and credential argument the override may write, and endpoints of unequal
    length (so that alignment has something to do)."""
    arguments = {*SKIP_FLAGS, *PATH_STYLE_FLAGS, *CREDENTIAL_ARGUMENTS, "max_retries", "region"}
    return ProviderSchema(version, ("applicationautoscaling", "ecs", "elbv2", "s3", "sts"), frozenset(arguments))


def test_generated_overrides_are_terraform_fmt_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept run's override is read by the team's `terraform fmt -check -recursive`: every override the harness
    writes (provider 3.39 and 2.70, the fallback and a schema, aliases, a session token, real AWS with tags only,
    the configuration's own default_tags literal or as an expression) passes it, run by the toolchain's Terraform.
    https://developer.hashicorp.com/terraform/cli/commands/fmt"""
    monkeypatch.delenv("HARNESS_FAULTS", raising=False)
    own_folder = tmp_path / "own"
    own_folder.mkdir()
    (own_folder / "providers.tf").write_text(OWN_PROVIDERS.lstrip())
    own = as_written.own_default_tags(own_folder)
    assert set(own) == {None, "registry", "replica", "audit"}, own
    with_token = _emulator()
    with_token.session_token = "FwoGZXIvYXdzEXAMPLE"
    written = tmp_path / "overrides"
    cases = 0
    for version in ("3.39.0", "2.70.0"):
        for label, target in (("emulator", _emulator()), ("token", with_token), ("aws", AwsTarget(region="eu-west-1"))):
            for schema in (None, _full_schema(version)):
                for include_default, local_name in ((True, "aws"), (False, "amazon")):
                    text = provider_override(
                        target,
                        version,
                        ["registry", "replica", "audit"],
                        default_tags=OWNERSHIP_TAGS,
                        schema=schema,
                        include_default=include_default,
                        local_name=local_name,
                        own_tags=own,
                    )
                    if text is None:
                        continue  # real AWS below 3.38: no default_tags, nothing to write
                    name = f"{version}-{label}-{'schema' if schema else 'fallback'}-{local_name}"
                    folder = written / name
                    folder.mkdir(parents=True)
                    (folder / "zz_harness_override.tf").write_text(text)
                    cases += 1
    assert cases == 20, f"expected 20 overrides (2.70 on real AWS writes none), got {cases}"
    assert any("default_tags" in f.read_text() for f in written.rglob("*.tf")), "no override carried default_tags"
    terraform, _origin = toolchain.find_terraform()
    checked = subprocess.run(
        [str(terraform), "fmt", "-check", "-diff", "-recursive", "-no-color", str(written)],
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, (
        f"terraform fmt -check: these overrides are not formatted (exit {checked.returncode}):\n"
        f"{checked.stdout}\n{checked.stderr}"
    )


@pytest.mark.parametrize(
    ("written_back", "formatted"),
    [
        ('merge(var.tags, {Purpose = "audit"})', 'merge(var.tags, { Purpose = "audit" })'),
        ("{for k, v in var.tags : k => v}", "{ for k, v in var.tags : k => v }"),
        ("merge([for m in var.maps : m] ...)", "merge([for m in var.maps : m]...)"),
        ('merge(var.a, {x = "{not an object}"})', 'merge(var.a, { x = "{not an object}" })'),
        ('merge(var.a, {x = "%{ if var.y }z%{ endif }"})', 'merge(var.a, { x = "%{if var.y}z%{endif}" })'),
        ('merge(var.a, {x = "$${literal} \\" }"})', 'merge(var.a, { x = "$${literal} \\" }" })'),
        ('lookup(var.m, "k", {})', 'lookup(var.m, "k", {})'),
        ("var.tags", "var.tags"),
    ],
)
def test_fmt_expression_spaces_what_python_hcl2_writes_as_terraform_fmt_does(written_back: str, formatted: str) -> None:
    """python-hcl2 writes ``{a = 1}`` and ``] ...`` back; terraform fmt writes ``{ a = 1 }`` and ``]...`` (each
    expected value here was checked with `terraform fmt` 1.11); quoted text is never touched."""
    assert fmt_expression(written_back) == formatted
