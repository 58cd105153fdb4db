"""Bad input is refused before anything is applied, naming the option, variable or profile: ARN options,
credential problems, configurations that plan too many resources on an emulator.

ARN forms: IAM User Guide, "IAM ARNs"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns); credential
errors: STS API reference, "Common Errors" (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ProfileNotFound

from fargate_harness.errors import ConfigurationError
from fargate_harness.options import Options, validate_arn_option
from fargate_harness.runner.diagnostics import MAX_RESOURCES, check_resource_limit, max_resources, planned_additions
from fargate_harness.targets.aws import AwsTarget, check_profile, credential_problem
from fargate_harness.targets.embedded import EmbeddedTarget


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/deployer",
        "arn:aws:iam::123456789012:role/ci/github/deployer",
        "arn:aws-cn:iam::123456789012:user/alice",
        "arn:aws-us-gov:sts::123456789012:assumed-role/deployer/session-1",
    ],
)
def test_principal_arns_are_accepted(arn: str) -> None:
    assert validate_arn_option("--deployer", arn) == arn


@pytest.mark.parametrize(
    "value",
    [
        "notanarn",
        "arn:aws:iam::123456789012:policy/deployer",
        "arn:aws:iam::12345:role/deployer",
        "arn:aws:iam:us-east-1:123456789012:role/deployer",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:sts::123456789012:assumed-role/deployer",
        "",
    ],
)
def test_other_values_name_the_option_value_and_form(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate_arn_option("--deployer", value)
    message = str(caught.value)
    assert message.startswith(f"--deployer is {value!r}: expected an IAM ARN of the form"), message
    assert "arn:aws:iam::<12-digit account>:role/<name>" in message, message


def test_the_registry_role_option_must_be_a_role(tmp_path: Path) -> None:
    Options(registry_role_arn="arn:aws:iam::210987654321:role/registry").validate(needs_scenarios=False)
    with pytest.raises(ConfigurationError, match=r"--registry-role-arn / HARNESS_REGISTRY_ROLE_ARN is 'arn:aws:iam"):
        Options(registry_role_arn="arn:aws:iam::210987654321:user/registry").validate(needs_scenarios=False)


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.write_text("[profile sandbox]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "HARNESS_EMBEDDED_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    return config


def test_a_missing_profile_is_named_on_the_embedded_target(aws_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_profile("embedded")  # no profile named: nothing to check
    monkeypatch.setenv("AWS_PROFILE", "sandbox")
    check_profile("embedded")
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    target = EmbeddedTarget(warm_up=False)
    with pytest.raises(ConfigurationError) as caught:
        target.start()  # refused before any server starts
    message = str(caught.value)
    assert "AWS_PROFILE names the AWS profile 'nosuch'" in message and str(aws_files) in message, message
    assert "unset AWS_PROFILE" in message and "moto" not in message, message
    assert target._process is None


def test_a_missing_profile_is_named_on_the_aws_target(aws_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    with pytest.raises(ConfigurationError, match=r"AWS_PROFILE names the AWS profile 'nosuch'.*aws configure"):
        AwsTarget().start()  # refused before any request
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(ConfigurationError, match="--target aws: the AWS profile 'nosuch' does not exist"):
        AwsTarget()  # the region lookup reads the profile first


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "GetCallerIdentity")


def test_credential_errors_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "sandbox")
    expired = credential_problem(_client_error("ExpiredToken"))
    assert expired is not None and "credentials (profile 'sandbox' from AWS_PROFILE) have expired" in str(expired)
    invalid = credential_problem(_client_error("InvalidClientTokenId"))
    assert invalid is not None and "refused the credentials" in str(invalid)
    missing = credential_problem(ProfileNotFound(profile="gone"))
    assert missing is not None and "the AWS profile 'gone' does not exist" in str(missing)
    assert "found no AWS credentials" in str(credential_problem(NoCredentialsError()))
    assert credential_problem(_client_error("Throttling")) is None, "not every error is about credentials"


def test_the_plan_summary_gives_the_resources_created() -> None:
    assert planned_additions("...\nPlan: 1,001 to add") == 0, "Terraform prints the number without separators"
    assert planned_additions("x\nPlan: 1001 to add, 0 to change, 0 to destroy.\n") == 1001
    assert planned_additions("No changes. Your infrastructure matches the configuration.") == 0


def test_a_plan_over_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_MAX_RESOURCES", raising=False)
    assert max_resources() == MAX_RESOURCES == 1000
    check_resource_limit("big", "Plan: 1000 to add, 0 to change, 0 to destroy.")
    with pytest.raises(ConfigurationError) as caught:
        check_resource_limit("big", "Plan: 1001 to add, 0 to change, 0 to destroy.")
    assert str(caught.value).startswith("big: the plan creates 1,001 resources; expected at most 1,000"), caught.value
    monkeypatch.setenv("HARNESS_MAX_RESOURCES", "2000")
    check_resource_limit("big", "Plan: 1001 to add, 0 to change, 0 to destroy.")
    monkeypatch.setenv("HARNESS_MAX_RESOURCES", "-1")
    with pytest.raises(ConfigurationError, match="HARNESS_MAX_RESOURCES is '-1'"):
        max_resources()


def test_tf_timeout_per_stage_over_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from fargate_harness.options import DEFAULT_TIMEOUTS, deadline_for, parse_timeouts

    table = parse_timeouts("apply=20m, destroy=1.5h,plan=90s,init=45,test=off,grace=500ms")
    assert (table["apply"], table["destroy"], table["plan"], table["init"]) == (1200, 5400, 90, 45)
    assert table["test"] == 0 and table["grace"] == 0.5 and table["other"] == DEFAULT_TIMEOUTS["other"]
    monkeypatch.setenv("HARNESS_TF_TIMEOUT", "apply=10s,other=0")
    assert deadline_for("apply") == (10, DEFAULT_TIMEOUTS["grace"])
    assert deadline_for("show") == (None, DEFAULT_TIMEOUTS["grace"]), "other=0: no deadline for show"
    assert deadline_for("destroy") == (DEFAULT_TIMEOUTS["destroy"], DEFAULT_TIMEOUTS["grace"])


@pytest.mark.parametrize("text", ["apply", "apply=soon", "deploy=10m", "apply=-1s", "grace=0"])
def test_a_bad_tf_timeout_names_the_part_and_the_form(text: str) -> None:
    from fargate_harness.options import parse_timeouts

    with pytest.raises(ConfigurationError, match=r"--tf-timeout / HARNESS_TF_TIMEOUT: .*(stage=duration|grace)"):
        parse_timeouts(text)


def test_tf_timeout_from_the_options_reaches_every_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HARNESS_TF_TIMEOUT", "")  # restored (removed) after the test: validate() sets it
    Options(tf_timeout="apply=7m", scenarios_dir=tmp_path).validate()
    from fargate_harness.options import deadline_for

    assert deadline_for("apply")[0] == 420
