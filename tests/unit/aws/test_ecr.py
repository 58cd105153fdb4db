"""Unit tests for fargate_harness.aws.ecr: image URI parsing, repository readers, pull-only policy checks."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import ecr
from fargate_harness.aws.ecr import EcrImage, parse_image_uri, repository_arn
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"
DIGEST = "sha256:" + "ab" * 32
PULLER = "arn:aws:iam::210987654321:role/app-task-exec"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _policy() -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(_load("ecr_get_repository_policy.json")["policyText"])
    return copy.deepcopy(policy)


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    ecr_client = boto3.client(
        "ecr", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(ecr_client) as stubber:
        yield ecr_client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app/web:1.4.2",
            EcrImage("123456789012", "us-east-1", "app/web", tag="1.4.2"),
        ),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web", EcrImage("123456789012", "eu-west-1", "web")),
        (
            f"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@{DIGEST}",
            EcrImage("123456789012", "us-east-1", "web", digest=DIGEST),
        ),
        (
            f"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app/web:v1_2.3-rc1@{DIGEST}",
            EcrImage("123456789012", "us-east-1", "team/app/web", tag="v1_2.3-rc1", digest=DIGEST),
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:latest",
            EcrImage("123456789012", "cn-north-1", "app", tag="latest"),
        ),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1",
            EcrImage("123456789012", "us-gov-west-1", "app", tag="1"),
        ),
        (
            "123456789012.dkr-ecr.eu-central-1.on.aws/my.repo_name-x:tag",
            EcrImage("123456789012", "eu-central-1", "my.repo_name-x", tag="tag"),
        ),
    ],
)
def test_parse_image_uri(image: str, expected: EcrImage) -> None:
    assert parse_image_uri(image) == expected


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:1.27",
        "docker.io/library/nginx:latest",
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
        "ghcr.io/org/app@" + DIGEST,
        "quay.io/org/app:1",
        "12345.dkr.ecr.us-east-1.amazonaws.com/app:1",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/App:1",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:short",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app:1",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/",
        "",
    ],
)
def test_parse_image_uri_non_ecr(image: str) -> None:
    assert parse_image_uri(image) is None


def test_ecr_image_is_frozen() -> None:
    image = EcrImage("123456789012", "us-east-1", "app")
    with pytest.raises(AttributeError):
        image.tag = "x"  # type: ignore[misc]


def test_repository_arn() -> None:
    image = EcrImage("123456789012", "us-east-1", "app/web", tag="1")
    assert repository_arn(image) == "arn:aws:ecr:us-east-1:123456789012:repository/app/web"
    china = EcrImage("123456789012", "cn-north-1", "app")
    assert repository_arn(china, partition="aws-cn") == "arn:aws-cn:ecr:cn-north-1:123456789012:repository/app"


def test_get_repository(client: tuple[Any, Stubber]) -> None:
    ecr_client, stubber = client
    stubber.add_response(
        "describe_repositories", _load("ecr_describe_repositories.json"), {"repositoryNames": ["app/web"]}
    )
    assert ecr.get_repository(ecr_client, "app/web")["imageTagMutability"] == "IMMUTABLE"


def test_get_repository_with_registry_id(client: tuple[Any, Stubber]) -> None:
    ecr_client, stubber = client
    stubber.add_response(
        "describe_repositories",
        _load("ecr_describe_repositories.json"),
        {"repositoryNames": ["app/web"], "registryId": "123456789012"},
    )
    assert ecr.get_repository(ecr_client, "app/web", registry_id="123456789012")["registryId"] == "123456789012"


def test_get_repository_missing(client: tuple[Any, Stubber]) -> None:
    ecr_client, stubber = client
    stubber.add_client_error("describe_repositories", service_error_code="RepositoryNotFoundException")
    with pytest.raises(ResourceNotFoundError, match="ECR repository 'gone' not found"):
        ecr.get_repository(ecr_client, "gone")


def test_get_repository_policy_decodes(client: tuple[Any, Stubber]) -> None:
    ecr_client, stubber = client
    stubber.add_response(
        "get_repository_policy",
        _load("ecr_get_repository_policy.json"),
        {"repositoryName": "app/web", "registryId": "123456789012"},
    )
    assert ecr.get_repository_policy(ecr_client, "app/web", "123456789012") == _policy()


@pytest.mark.parametrize("code", ["RepositoryPolicyNotFoundException", "RepositoryNotFoundException"])
def test_get_repository_policy_missing(client: tuple[Any, Stubber], code: str) -> None:
    ecr_client, stubber = client
    stubber.add_client_error("get_repository_policy", service_error_code=code)
    with pytest.raises(ResourceNotFoundError, match=f"policy of ECR repository 'app/web' not found \\({code}"):
        ecr.get_repository_policy(ecr_client, "app/web")


def test_assert_pull_only_policy_passes() -> None:
    repository = _load("ecr_describe_repositories.json")["repositories"][0]
    ecr.assert_pull_only_policy(repository, _policy(), principals={PULLER}, scenario="cross-account")
    ecr.assert_pull_only_policy("app/web", _policy(), principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_string_principal_and_case_and_deny() -> None:
    policy = _policy()
    statement = policy["Statement"][0]
    statement["Principal"] = {"AWS": PULLER}
    statement["Action"] = [action.lower() for action in statement["Action"]]
    policy["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"})
    ecr.assert_pull_only_policy("app/web", policy, principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_wildcard_action() -> None:
    policy = _policy()
    policy["Statement"][0]["Action"] = "ecr:*"
    with pytest.raises(
        AssertionError,
        match=r"^cross-account: ECR repository app/web statement CrossAccountPull: expected actions "
        r"\['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'\], "
        r"got \['ecr:\*'\] \(missing \[.*\], extra \['ecr:\*'\]\)$",
    ):
        ecr.assert_pull_only_policy("app/web", policy, principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_push_action() -> None:
    policy = _policy()
    policy["Statement"][0]["Action"].append("ecr:PutImage")
    with pytest.raises(AssertionError, match=r"\(extra \['ecr:PutImage'\]\)$"):
        ecr.assert_pull_only_policy("app/web", policy, principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_missing_action() -> None:
    policy = _policy()
    policy["Statement"][0]["Action"] = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    with pytest.raises(AssertionError, match=r"\(missing \['ecr:BatchCheckLayerAvailability'\]\)$"):
        ecr.assert_pull_only_policy("app/web", policy, principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_extra_principal() -> None:
    policy = _policy()
    policy["Statement"][0]["Principal"]["AWS"].append("arn:aws:iam::999999999999:root")
    with pytest.raises(
        AssertionError,
        match=r"^cross-account: ECR repository app/web statement CrossAccountPull: expected AWS principals "
        r"\['arn:aws:iam::210987654321:role/app-task-exec'\], got .* "
        r"\(extra \['arn:aws:iam::999999999999:root'\]\)$",
    ):
        ecr.assert_pull_only_policy("app/web", policy, principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_missing_principal() -> None:
    with pytest.raises(AssertionError, match=r"\(missing \['arn:aws:iam::111111111111:role/x'\]\)$"):
        ecr.assert_pull_only_policy(
            "app/web",
            _policy(),
            principals={PULLER, "arn:aws:iam::111111111111:role/x"},
            scenario="cross-account",
        )


@pytest.mark.parametrize(
    ("principal", "found"),
    [("*", r"Principal '\*'"), ({"Service": "ecs.amazonaws.com"}, r"Principal \{'Service'")],
)
def test_assert_pull_only_policy_non_aws_principal(principal: Any, found: str) -> None:
    policy = _policy()
    policy["Statement"][0]["Principal"] = principal
    with pytest.raises(AssertionError, match=r"statement CrossAccountPull: expected AWS principals .*, got " + found):
        ecr.assert_pull_only_policy("app/web", policy, principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_second_statement_and_not_elements() -> None:
    policy = _policy()
    policy["Statement"].append(
        {"Sid": "Push", "Effect": "Allow", "Principal": {"AWS": PULLER}, "Action": "ecr:PutImage"}
    )
    with pytest.raises(AssertionError, match=r"statement Push: expected actions .*extra \['ecr:PutImage'\]"):
        ecr.assert_pull_only_policy("app/web", policy, principals={PULLER}, scenario="cross-account")
    not_action = _policy()
    statement = not_action["Statement"][0]
    statement["NotAction"] = statement.pop("Action")
    with pytest.raises(AssertionError, match=r"statement CrossAccountPull: expected no NotAction, got NotAction"):
        ecr.assert_pull_only_policy("app/web", not_action, principals={PULLER}, scenario="cross-account")


def test_assert_pull_only_policy_no_allow() -> None:
    with pytest.raises(
        AssertionError,
        match=r"^cross-account: ECR repository app/web: expected an Allow statement for pulls, "
        r"got no Allow statements$",
    ):
        ecr.assert_pull_only_policy(
            "app/web",
            {"Version": "2012-10-17", "Statement": []},
            principals={PULLER},
            scenario="cross-account",
        )


def test_get_image_ids_and_assert_image_pushed(client: tuple[Any, Stubber]) -> None:
    ecr_client, stubber = client
    stubber.add_response(
        "describe_images",
        {
            "imageDetails": [
                {"imageDigest": DIGEST, "imageTags": ["1.0", "latest"]},
                {"imageDigest": "sha256:" + "cd" * 32},
            ]
        },
        {"repositoryName": "web", "registryId": "123456789012"},
    )
    tags, digests = ecr.get_image_ids(ecr_client, "web", registry_id="123456789012")
    assert tags == {"1.0", "latest"} and DIGEST in digests
    ecr.assert_image_pushed(EcrImage("123456789012", "us-east-1", "web"), tags, digests, scenario="demo")
    ecr.assert_image_pushed(EcrImage("123456789012", "us-east-1", "web", digest=DIGEST), tags, digests, scenario="d")
    with pytest.raises(
        AssertionError,
        match=r"^demo: ECR repository web in 123456789012/us-east-1: expected an image "
        r"tagged '2.0', got tags \['1.0', 'latest'\]$",
    ):
        ecr.assert_image_pushed(EcrImage("123456789012", "us-east-1", "web", tag="2.0"), tags, digests, scenario="demo")


def test_get_image_ids_missing_repository(client: tuple[Any, Stubber]) -> None:
    ecr_client, stubber = client
    stubber.add_client_error("describe_images", service_error_code="RepositoryNotFoundException")
    with pytest.raises(ResourceNotFoundError, match="ECR repository 'gone'"):
        ecr.get_image_ids(ecr_client, "gone")


def test_pull_through_rule_for_takes_the_longest_prefix() -> None:
    rules = [{"ecrRepositoryPrefix": "hub"}, {"ecrRepositoryPrefix": "hub/library"}, {"ecrRepositoryPrefix": "quay"}]
    assert ecr.pull_through_rule_for("hub/library/nginx", rules) == {"ecrRepositoryPrefix": "hub/library"}
    assert ecr.pull_through_rule_for("hubby/nginx", rules) is None
    assert ecr.pull_through_rule_for("quay", rules) is None


def test_get_pull_through_cache_rules(client: tuple[Any, Stubber]) -> None:
    ecr_client, stubber = client
    rule = {"ecrRepositoryPrefix": "hub", "upstreamRegistryUrl": "registry-1.docker.io"}
    stubber.add_response("describe_pull_through_cache_rules", {"pullThroughCacheRules": [rule]}, {})
    assert ecr.get_pull_through_cache_rules(ecr_client) == [rule]
