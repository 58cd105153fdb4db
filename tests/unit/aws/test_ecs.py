"""Unit tests for fargate_harness.aws.ecs against a recorded task definition and botocore's Stubber."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fargate_harness.aws import ecs
from fargate_harness.errors import ResourceNotFoundError

DATA = Path(__file__).resolve().parents[1] / "data"
ACCOUNT = "123456789012"
EXEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-task-exec"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-task"


def _td() -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((DATA / "ecs_describe_task_definition.json").read_text(encoding="utf-8"))
    return copy.deepcopy(recorded["taskDefinition"])


@pytest.fixture
def client() -> Iterator[tuple[Any, Stubber]]:
    ecs_client = boto3.client(
        "ecs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(ecs_client) as stubber:
        yield ecs_client, stubber
        stubber.assert_no_pending_responses()


def test_get_task_definition(client: tuple[Any, Stubber]) -> None:
    ecs_client, stubber = client
    recorded = json.loads((DATA / "ecs_describe_task_definition.json").read_text(encoding="utf-8"))
    stubber.add_response("describe_task_definition", recorded, {"taskDefinition": "app:7"})
    td = ecs.get_task_definition(ecs_client, "app:7")
    assert ecs.task_definition_label(td) == "app:7"


def test_get_task_definition_missing(client: tuple[Any, Stubber]) -> None:
    ecs_client, stubber = client
    stubber.add_client_error(
        "describe_task_definition",
        service_error_code="ClientException",
        service_message="Unable to describe task definition.",
        http_status_code=400,
    )
    with pytest.raises(ResourceNotFoundError, match="ECS task definition 'nope:1' not found"):
        ecs.get_task_definition(ecs_client, "nope:1")


def test_get_task_definition_other_error_propagates(client: tuple[Any, Stubber]) -> None:
    ecs_client, stubber = client
    stubber.add_client_error("describe_task_definition", service_error_code="ServerException", http_status_code=500)
    with pytest.raises(ecs_client.exceptions.ClientError):
        ecs.get_task_definition(ecs_client, "app")


def test_task_definition_label_without_fields() -> None:
    assert ecs.task_definition_label({}) == "<no family>:<no revision>"


def test_assert_task_definition_passes() -> None:
    ecs.assert_task_definition(_td(), scenario="basic", execution_role_arn=EXEC_ROLE, task_role_arn=TASK_ROLE)


def test_assert_task_definition_no_task_role() -> None:
    td = _td()
    del td["taskRoleArn"]
    ecs.assert_task_definition(td, scenario="basic", execution_role_arn=EXEC_ROLE, task_role_arn=None)
    with pytest.raises(
        AssertionError,
        match=r"^basic: ECS task definition app:7: expected taskRoleArn '.*app-task', got None$",
    ):
        ecs.assert_task_definition(td, scenario="basic", execution_role_arn=EXEC_ROLE, task_role_arn=TASK_ROLE)


def test_assert_task_definition_unexpected_task_role() -> None:
    with pytest.raises(AssertionError, match=r"expected no taskRoleArn, got '.*:role/app-task'$"):
        ecs.assert_task_definition(_td(), scenario="basic", execution_role_arn=EXEC_ROLE, task_role_arn=None)


def test_assert_task_definition_wrong_execution_role() -> None:
    with pytest.raises(
        AssertionError,
        match=r"^basic: ECS task definition app:7: expected executionRoleArn '.*role/other', "
        r"got '.*app-task-exec'$",
    ):
        ecs.assert_task_definition(
            _td(),
            scenario="basic",
            execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/other",
            task_role_arn=TASK_ROLE,
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "requiresCompatibilities",
            ["EC2", "FARGATE"],
            r"expected requiresCompatibilities \['FARGATE'\], got \['EC2', 'FARGATE'\]",
        ),
        ("requiresCompatibilities", [], r"expected requiresCompatibilities \['FARGATE'\], got \[\]"),
        ("networkMode", "bridge", r"expected networkMode 'awsvpc', got 'bridge'"),
        ("cpu", None, r"expected task-level cpu set, got None"),
        ("memory", "", r"expected task-level memory set, got ''"),
    ],
)
def test_assert_task_definition_fields(field: str, value: Any, message: str) -> None:
    td = _td()
    td[field] = value
    with pytest.raises(AssertionError, match=r"^basic: ECS task definition app:7: " + message + "$"):
        ecs.assert_task_definition(td, scenario="basic", execution_role_arn=EXEC_ROLE, task_role_arn=TASK_ROLE)


def test_assert_task_definition_custom_compatibilities() -> None:
    td = _td()
    td["requiresCompatibilities"] = ["FARGATE", "EC2"]
    ecs.assert_task_definition(
        td,
        scenario="basic",
        execution_role_arn=EXEC_ROLE,
        task_role_arn=TASK_ROLE,
        compatibilities=("EC2", "FARGATE"),
    )


def test_secret_references() -> None:
    assert ecs.secret_references(_td()) == [
        ("app", "DB_PASSWORD", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/db-password-AbCdEf"),
        (
            "app",
            "API_TOKEN",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/api-token-GhIjKl:token::",
        ),
        ("app", "FEATURE_FLAG", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/feature-flag"),
        ("sidecar", "OTEL_TOKEN", "/app/otel-token"),
    ]
    assert ecs.secret_references({"containerDefinitions": [{"name": "x"}]}) == []
    assert ecs.secret_references({}) == []


def test_awslogs_options() -> None:
    td = _td()
    td["containerDefinitions"].append({"name": "fluent", "logConfiguration": {"logDriver": "awsfirelens"}})
    options = ecs.awslogs_options(td)
    assert sorted(options) == ["app", "sidecar"]
    assert options["sidecar"] == {
        "awslogs-group": "/ecs/app",
        "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "sidecar",
    }


def test_assert_awslogs_passes() -> None:
    ecs.assert_awslogs(_td(), scenario="basic", log_group_name="/ecs/app", region="us-east-1")


def test_assert_awslogs_wrong_group() -> None:
    with pytest.raises(
        AssertionError,
        match=r"^basic: ECS task definition app:7 container app: "
        r"expected awslogs-group '/ecs/other', got '/ecs/app'$",
    ):
        ecs.assert_awslogs(_td(), scenario="basic", log_group_name="/ecs/other", region="us-east-1")


def test_assert_awslogs_wrong_region() -> None:
    with pytest.raises(AssertionError, match=r"container app: expected awslogs-region 'eu-west-1', got 'us-east-1'$"):
        ecs.assert_awslogs(_td(), scenario="basic", log_group_name="/ecs/app", region="eu-west-1")


def test_assert_awslogs_missing_prefix_on_second_container() -> None:
    td = _td()
    del td["containerDefinitions"][1]["logConfiguration"]["options"]["awslogs-stream-prefix"]
    with pytest.raises(
        AssertionError, match=r"container sidecar: expected a non-empty awslogs-stream-prefix, got None$"
    ):
        ecs.assert_awslogs(td, scenario="basic", log_group_name="/ecs/app", region="us-east-1")


def test_assert_awslogs_other_driver_or_no_config() -> None:
    td = _td()
    td["containerDefinitions"][1]["logConfiguration"] = {"logDriver": "json-file"}
    with pytest.raises(AssertionError, match=r"container sidecar: expected logDriver 'awslogs', got 'json-file'$"):
        ecs.assert_awslogs(td, scenario="basic", log_group_name="/ecs/app", region="us-east-1")
    del td["containerDefinitions"][1]["logConfiguration"]
    with pytest.raises(AssertionError, match=r"container sidecar: expected logDriver 'awslogs', got None$"):
        ecs.assert_awslogs(td, scenario="basic", log_group_name="/ecs/app", region="us-east-1")


def test_assert_awslogs_no_containers() -> None:
    with pytest.raises(AssertionError, match=r"expected at least one container, got no containerDefinitions$"):
        ecs.assert_awslogs({"family": "x", "revision": 1}, scenario="basic", log_group_name="/g", region="us-east-1")
