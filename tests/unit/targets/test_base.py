"""Unit tests for fargate_harness.targets: role ARNs, LocalStack endpoint and service probing.

No target is started except LocalStack against a patched ``urlopen``; no emulator or network is used.
"""

from __future__ import annotations

import io
import json
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from fargate_harness.errors import ConfigurationError, TargetError
from fargate_harness.runner.provider_schema import ProviderSchema
from fargate_harness.targets import TARGETS, AwsTarget, EmbeddedTarget, LocalStackTarget, Target, make_target
from fargate_harness.targets.base import account_of_role
from fargate_harness.targets.embedded import EMBEDDED_REGISTRY_ACCOUNT, EMBEDDED_REGISTRY_ROLE
from fargate_harness.targets.localstack import LOCALSTACK_REGISTRY_ROLE, localstack_endpoint

URL = "http://127.0.0.1:4599"
ROLE = "arn:aws:iam::210987654321:role/harness-registry"


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Isolate from the developer's AWS and LocalStack settings."""
    for name in (
        "AWS_ENDPOINT_URL",
        "LOCALSTACK_HOST",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "HARNESS_REGISTRY_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


def _emulator(**kwargs: Any) -> Target:
    return Target(
        name="embedded", region="us-east-1", endpoint_url=URL, access_key="testing", secret_key="testing", **kwargs
    )


# -- account_of_role ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        ("arn:aws:iam::123456789012:role/harness-registry", "123456789012"),
        ("arn:aws-cn:iam::210987654321:role/registry", "210987654321"),
        ("arn:aws-us-gov:iam::000000000002:role/service-role/registry-reader", "000000000002"),
    ],
)
def test_account_of_role_reads_role_arns_of_every_partition(arn: str, account: str) -> None:
    """Role ARNs of the commercial, China and GovCloud partitions give their account id."""
    assert account_of_role(arn, "--registry-role-arn") == account


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/bob",
        "arn:aws:sts::123456789012:assumed-role/harness/session",
        "arn:aws:iam::12345678901:role/too-short-account",
        "arn:aws:iam::123456789012:role/",
        "harness-registry",
        "",
    ],
)
def test_account_of_role_rejects_anything_else(arn: str) -> None:
    """Non-role ARNs are a ConfigurationError naming the setting and the value."""
    with pytest.raises(ConfigurationError) as caught:
        account_of_role(arn, "--registry-role-arn / HARNESS_REGISTRY_ROLE_ARN")
    message = str(caught.value)
    assert message.startswith("--registry-role-arn / HARNESS_REGISTRY_ROLE_ARN is ")
    assert repr(arn) in message


def test_account_of_role_rejects_a_trailing_newline() -> None:
    """A value pasted with a newline is refused up front, as Terraform's validation would refuse it."""
    with pytest.raises(ConfigurationError):
        account_of_role("arn:aws:iam::123456789012:role/harness-registry\n", "--registry-role-arn")


def test_aws_target_validates_the_registry_role(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user ARN in the option or the environment is refused, naming both settings."""
    with pytest.raises(ConfigurationError, match="--registry-role-arn / HARNESS_REGISTRY_ROLE_ARN"):
        AwsTarget(region="eu-west-1", registry_role_arn="arn:aws:iam::123456789012:user/bob")
    monkeypatch.setenv("HARNESS_REGISTRY_ROLE_ARN", "arn:aws:iam::123456789012:user/bob")
    with pytest.raises(ConfigurationError, match="user/bob"):
        AwsTarget(region="eu-west-1")


def test_aws_target_reads_role_and_region_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """HARNESS_REGISTRY_ROLE_ARN and AWS_REGION fill in what the options leave out."""
    monkeypatch.setenv("HARNESS_REGISTRY_ROLE_ARN", ROLE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    target = AwsTarget()
    assert target.region == "ap-south-1"
    assert target.registry_account_id == "210987654321"
    assert not target.is_emulator
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert AwsTarget().region == "eu-central-1"
    assert AwsTarget(region="us-west-2").region == "us-west-2"


def test_aws_target_defaults_to_us_east_1() -> None:
    """No region configured anywhere: us-east-1."""
    assert AwsTarget().region == "us-east-1"


# -- localstack_endpoint -----------------------------------------------------------------------------


def test_localstack_endpoint_explicit_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """--localstack-endpoint beats AWS_ENDPOINT_URL and LOCALSTACK_HOST; a trailing slash goes."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:1111")
    monkeypatch.setenv("LOCALSTACK_HOST", "host:2222")
    assert localstack_endpoint("http://explicit:3333/") == "http://explicit:3333"


def test_localstack_endpoint_aws_endpoint_url_beats_localstack_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_ENDPOINT_URL is next."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:1111/")
    monkeypatch.setenv("LOCALSTACK_HOST", "host:2222")
    assert localstack_endpoint() == "http://env:1111"


@pytest.mark.parametrize(
    ("host", "endpoint"),
    [
        ("ls.internal", "http://ls.internal:4566"),
        ("ls.internal:4567", "http://ls.internal:4567"),
        ("https://ls.internal:443/", "https://ls.internal:443"),
        ("http://ls.internal", "http://ls.internal"),
    ],
)
def test_localstack_endpoint_from_localstack_host(monkeypatch: pytest.MonkeyPatch, host: str, endpoint: str) -> None:
    """LOCALSTACK_HOST with or without port and scheme."""
    monkeypatch.setenv("LOCALSTACK_HOST", host)
    assert localstack_endpoint() == endpoint


def test_localstack_endpoint_default() -> None:
    """Nothing set: LocalStack's default host and port."""
    assert localstack_endpoint() == "http://localhost.localstack.cloud:4566"


def test_localstack_endpoint_ignores_an_empty_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty AWS_ENDPOINT_URL counts as unset."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    assert localstack_endpoint() == "http://localhost.localstack.cloud:4566"


def test_localstack_endpoint_ignores_an_empty_localstack_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty LOCALSTACK_HOST counts as unset, like an empty AWS_ENDPOINT_URL."""
    monkeypatch.setenv("LOCALSTACK_HOST", "")
    assert localstack_endpoint() == "http://localhost.localstack.cloud:4566"


# -- LocalStack health -------------------------------------------------------------------------------


class _Answer(io.BytesIO):
    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_localstack_start_records_usable_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only available/running services count; cloudwatch implies logs; missing ones are reported."""
    health = {
        "services": {
            "iam": "available",
            "sts": "running",
            "ecs": "disabled",
            "cloudwatch": "available",
            "ssm": "error",
            "s3": "running",
        }
    }
    seen: list[str] = []

    def fake_urlopen(url: str, timeout: float) -> _Answer:
        seen.append(url)
        return _Answer(json.dumps(health).encode())

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    target = LocalStackTarget(endpoint="http://ls:4566/")
    target.start()
    assert seen == ["http://ls:4566/_localstack/health"]
    assert target.available_services == frozenset({"iam", "sts", "cloudwatch", "logs", "s3"})
    assert target.missing_services(["iam", "ecs", "logs", "ssm"]) == ["ecs", "ssm"]


def test_localstack_start_explains_an_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LocalStack: a TargetError naming the URL and every setting that moves it."""

    def refuse(url: str, timeout: float) -> _Answer:
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    with pytest.raises(TargetError) as caught:
        LocalStackTarget(endpoint="http://ls:4566").start()
    message = str(caught.value)
    assert "http://ls:4566/_localstack/health" in message
    for setting in ("--localstack-endpoint", "AWS_ENDPOINT_URL", "LOCALSTACK_HOST"):
        assert setting in message


def test_localstack_target_is_an_emulator_with_a_registry_role() -> None:
    """LocalStack has an endpoint, static test credentials and a registry role."""
    target = LocalStackTarget(endpoint="http://ls:4566")
    assert target.is_emulator
    assert target.registry_role_arn == LOCALSTACK_REGISTRY_ROLE
    assert target.registry_account_id == "000000000002"
    assert target.terraform_env()["AWS_ACCESS_KEY_ID"] == "test"


# -- make_target / Target helpers --------------------------------------------------------------------


def test_make_target_builds_each_target_without_starting_it(tmp_path: Path) -> None:
    """Each known name gives its class; the embedded one is not started (no endpoint yet)."""
    embedded = make_target("embedded", log_dir=tmp_path)
    assert isinstance(embedded, EmbeddedTarget)
    assert embedded.endpoint_url is None and embedded._process is None
    assert embedded.log_path == tmp_path / "moto.log"
    assert embedded.registry_role_arn == EMBEDDED_REGISTRY_ROLE
    assert embedded.registry_account_id == EMBEDDED_REGISTRY_ACCOUNT
    embedded.stop()  # stopping a target that never started is harmless
    assert isinstance(make_target("localstack", localstack_endpoint="http://ls:1"), LocalStackTarget)
    aws = make_target("aws", region="eu-west-1", registry_role_arn=ROLE)
    assert isinstance(aws, AwsTarget) and aws.region == "eu-west-1"
    assert make_target("localstack", region="eu-north-1").region == "eu-north-1"
    assert set(TARGETS) == {"embedded", "localstack", "aws"}


@pytest.mark.parametrize("name", ["moto", "Embedded", "", "real"])
def test_make_target_rejects_unknown_names(name: str) -> None:
    """An unknown target is a ConfigurationError listing the choices."""
    with pytest.raises(ConfigurationError) as caught:
        make_target(name)
    assert repr(name) in str(caught.value)
    assert "embedded, localstack, aws" in str(caught.value)


def test_missing_services() -> None:
    """Unknown availability means nothing is missing; otherwise the sorted difference."""
    assert Target(name="t", region="r", endpoint_url=None).missing_services(["ecs", "iam"]) == []
    target = _emulator(available_services=frozenset({"iam", "sts"}))
    assert target.missing_services(["s3", "iam", "ecs", "ecs"]) == ["ecs", "s3"]
    assert target.missing_services([]) == []


def test_client_rejects_an_unknown_account() -> None:
    """Only ``primary`` and ``registry`` are accounts."""
    with pytest.raises(ConfigurationError, match="'other'"):
        _emulator().client("sts", account="other")


def test_client_registry_account_needs_a_role() -> None:
    """A registry client on a target without a registry role explains the option to set."""
    with pytest.raises(ConfigurationError, match="--registry-role-arn"):
        _emulator().client("iam", account="registry")


def test_client_is_cached_and_points_at_the_emulator() -> None:
    """One client per (service, account), aimed at the emulator endpoint (no request is made)."""
    target = _emulator()
    client = target.client("sts")
    assert client is target.client("sts")
    assert client.meta.endpoint_url == URL
    assert client.meta.region_name == "us-east-1"


def test_terraform_env_and_scenario_variables() -> None:
    """Emulators pass static credentials; the registry role reaches scenarios that declare it."""
    env = _emulator(registry_role_arn=ROLE).terraform_env()
    assert env == {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    assert AwsTarget(region="eu-west-1").terraform_env() == {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert _emulator(registry_role_arn=ROLE).scenario_variables() == {"region": "us-east-1", "registry_role_arn": ROLE}
    assert _emulator().scenario_variables() == {"region": "us-east-1"}
    assert _emulator().registry_account_id is None


def test_schema_from_terraform_json_and_back() -> None:
    document = {
        "provider_schemas": {
            "registry.terraform.io/hashicorp/aws": {
                "provider": {
                    "block": {
                        "attributes": {"region": {}, "profile": {}},
                        "block_types": {"endpoints": {"block": {"attributes": {"sts": {}, "ecs": {}}}}},
                    }
                }
            }
        }
    }
    schema = ProviderSchema.from_terraform("3.39.0", document)
    assert schema.endpoints == ("ecs", "sts") and schema.arguments == {"region", "profile"}
    assert ProviderSchema.from_json(schema.to_json()) == schema
    with pytest.raises(ValueError, match="no hashicorp/aws provider"):
        ProviderSchema.from_terraform("3.39.0", {"provider_schemas": {}})


def test_warm_up_reads_every_service_beside_the_fault_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up at start reads each Fargate service (and the registry account) on moto's own address: a
    fault proxy in front counts none of its requests, so injected faults land on the harness's reads only."""
    from fargate_harness.targets import base, embedded

    monkeypatch.setenv("HARNESS_FAULTS", "throttle=0.0,seed=1")
    warmed: list[str] = []
    real = base.session_client

    def recording(session: Any, service: str, **kwargs: Any) -> Any:
        warmed.append(f"{service}@{kwargs.get('endpoint_url')}")
        return real(session, service, **kwargs)

    monkeypatch.setattr(embedded, "session_client", recording)
    target = EmbeddedTarget()
    target.start()
    try:
        target.wait_ready()
        assert target.faults is not None
        assert target.faults.stats["forwarded"] == 0, target.faults.stats
        services = {entry.split("@")[0] for entry in warmed}
        assert {s for s, _op, _args in embedded.WARM_UP_READS} <= services
        assert all(entry.split("@")[1] != target.endpoint_url for entry in warmed), warmed
    finally:
        target.stop()


def test_without_warm_up_the_target_sends_no_warm_up_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """``warm_up=False`` (a short-lived server a test drives itself): start makes no read of its own."""
    from fargate_harness.targets import embedded

    monkeypatch.delenv("HARNESS_EMBEDDED_ENDPOINT", raising=False)
    monkeypatch.delenv("HARNESS_FAULTS", raising=False)
    warmed: list[str] = []
    monkeypatch.setattr(embedded, "session_client", lambda _session, service, **_kw: warmed.append(service))

    def fake_server(self: EmbeddedTarget) -> None:
        self.endpoint_url = "http://127.0.0.1:9"

    monkeypatch.setattr(EmbeddedTarget, "_start_server", fake_server)
    target = EmbeddedTarget(warm_up=False)
    target.start()
    target.wait_ready(timeout=5)
    assert warmed == [], f"warm_up=False: expected no warm-up reads, got {warmed}"
    assert EmbeddedTarget().warm_up, "the default must stay warm: runs and pytest sessions rely on it"


def test_a_targets_repr_never_shows_its_secret_key_or_session_token() -> None:
    """An assertion that introspects a target (pytest prints its repr) or a log line must not carry its keys."""
    target = Target(
        name="aws", region="eu-west-1", endpoint_url=None, access_key="AKIAEXAMPLE", secret_key="s3cr3t-key"
    ).derived(session_token="t0ken-value")
    shown = repr(target)
    assert "s3cr3t-key" not in shown and "t0ken-value" not in shown, shown
    assert "AKIAEXAMPLE" in shown and "eu-west-1" in shown, f"the repr should still say which target: {shown}"


def test_in_account_is_the_target_itself_for_its_own_account_and_refused_on_real_aws() -> None:
    """A configuration that assumed a role elsewhere is read in that account on emulators only: the harness
    holds no credentials for another real account, and says so."""
    emulator = Target(name="embedded", region="us-east-1", endpoint_url="http://127.0.0.1:4599")
    emulator._account = "123456789012"
    assert emulator.in_account("123456789012") is emulator
    aws = AwsTarget(region="eu-west-1")
    aws._account = "123456789012"
    assert aws.in_account("123456789012") is aws
    with pytest.raises(ConfigurationError, match="account 210987654321 is not the target's account 123456789012"):
        aws.in_account("210987654321")
