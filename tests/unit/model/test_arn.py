"""model.arn: the one ARN parser (AWS General Reference, "Amazon Resource Names (ARNs)":
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""

from __future__ import annotations

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.model.arn import Arn, account_of, region_of


@pytest.mark.parametrize(
    ("text", "fields", "kind", "ident"),
    [
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf:password::",
            ("aws", "secretsmanager", "eu-west-1", "123456789012"),
            "secret",
            "prod/db-AbCdEf:password::",
        ),
        (
            "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:*",
            ("aws", "logs", "us-east-1", "123456789012"),
            "log-group",
            "/ecs/app:*",
        ),
        ("arn:aws-cn:iam::210987654321:role/path/app", ("aws-cn", "iam", "", "210987654321"), "role", "path/app"),
        ("arn:aws:s3:::bucket/key/x", ("aws", "s3", "", ""), "bucket", "key/x"),
        ("arn:aws:s3:::bucket", ("aws", "s3", "", ""), "", "bucket"),
    ],
)
def test_parse_keeps_the_resource_part_whole(text: str, fields: tuple[str, ...], kind: str, ident: str) -> None:
    arn = Arn.parse(text)
    assert arn is not None
    assert (arn.partition, arn.service, arn.region, arn.account) == fields
    assert (arn.resource_type, arn.resource_id) == (kind, ident)
    assert str(arn) == text


@pytest.mark.parametrize("text", [None, "", "prod/db", "arn:aws:iam", "arn::iam::1:role/x", "urn:aws:iam::1:role/x"])
def test_parse_says_none_for_what_is_not_an_arn(text: str | None) -> None:
    assert Arn.parse(text) is None
    assert account_of(text) is None and region_of(text) is None


def test_account_and_region_of_global_and_regional_arns() -> None:
    assert account_of("arn:aws:iam::123456789012:role/x") == "123456789012"
    assert region_of("arn:aws:iam::123456789012:role/x") is None
    assert region_of("arn:aws:ecs:ap-northeast-1:123456789012:task-definition/a:1") == "ap-northeast-1"


@pytest.mark.parametrize(
    "text",
    ["notanarn", "arn:aws:iam::123456789012:user/bob", "arn:aws:iam::1234:role/x", "arn:aws:iam::123456789012:role/"],
)
def test_an_option_that_is_not_the_arn_it_should_be_is_bad_input(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"--deployer is '.*', which is not an ARN of the form arn:aws:iam::"):
        Arn.of_option(text, "--deployer", service="iam", kind="role")
