"""model.inventory on a recorded ``terraform show -json`` (nested modules, two accounts, all policy kinds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.model.inventory import Inventory

STATE = json.loads((Path(__file__).resolve().parents[1] / "data" / "inventory" / "state.json").read_text())


@pytest.fixture
def inventory() -> Inventory:
    return Inventory.from_state(STATE, source="infra/web")


def test_managed_resources_of_every_module_depth_and_no_data_sources(inventory: Inventory) -> None:
    addresses = [r.address for r in inventory.resources]
    assert "module.roles.module.registry.aws_ecr_repository.web" in addresses
    assert not any(a.startswith("data.") for a in addresses)
    assert inventory.counts["aws_iam_role"] == 2


def test_accounts_come_from_arns(inventory: Inventory) -> None:
    assert inventory.accounts == {"111122223333", "210987654321"}
    (repository,) = inventory.of_type("aws_ecr_repository")
    assert (repository.account, repository.region) == ("210987654321", "eu-west-1")
    (bucket,) = inventory.of_type("aws_s3_bucket")
    assert bucket.account is None  # S3 ARNs carry no account


def test_task_definition_containers_are_parsed(inventory: Inventory) -> None:
    (td,) = inventory.task_definitions
    assert (td.label, td.address, td.compatibilities) == ("web-task:3", "aws_ecs_task_definition.app", ("FARGATE",))
    web, router = td.containers
    assert web.secrets == (("DB", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"),)
    assert web.log_secrets == (("TOKEN", "/web/token"),)
    assert web.log_driver == "awslogs" and web.log_options["awslogs-group"] == "/ecs/web"
    assert web.environment_files == ("arn:aws:s3:::cfg/web.env",)
    assert (router.firelens_type, router.essential) == ("fluentbit", False)
    assert td.volumes[0]["name"] == "shared"


def test_roles_gather_inline_attached_and_boundary_from_every_resource_type(inventory: Inventory) -> None:
    execution = inventory.role("web-execution")
    assert set(execution.inline) == {"from-role-block", "secrets"}
    assert execution.attached == [
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        "arn:aws:iam::111122223333:policy/shared",
    ]
    assert execution.boundary == "arn:aws:iam::111122223333:policy/boundary"
    assert execution.trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert inventory.role("module.roles.aws_iam_role.task").trust == {}
    assert inventory.role("arn:aws:iam::111122223333:role/web-task").attached == [
        "arn:aws:iam::111122223333:policy/shared"
    ]
    assert inventory.execution_role_arns == ["arn:aws:iam::111122223333:role/web-execution"]


def test_an_unknown_role_lists_the_known_ones(inventory: Inventory) -> None:
    with pytest.raises(
        ConfigurationError, match="infra/web: no IAM role 'nope' in the state; roles: web-execution, web-task"
    ):
        inventory.role("nope")


def test_secret_values_never_reach_a_record(inventory: Inventory) -> None:
    assert "PLANTED-SECRET-VALUE" not in repr(inventory.parameters)
    assert all("value" not in p.values for p in inventory.parameters)
    assert "PLANTED-SECRET-VALUE" not in repr(inventory.task_definitions) + repr(inventory.roles)


def test_an_empty_state_is_an_empty_inventory() -> None:
    empty = Inventory.from_state({}, source="x")
    assert (empty.resources, empty.task_definitions, empty.roles) == ([], [], [])
    assert empty.summary() == "0 resources, 0 task definitions, 0 roles"


def test_container_definitions_that_are_not_json_name_the_resource() -> None:
    broken = json.loads(json.dumps(STATE))
    broken["values"]["root_module"]["resources"][0]["values"]["container_definitions"] = "[{"
    with pytest.raises(ConfigurationError, match=r"aws_ecs_task_definition\.app: container_definitions is not JSON"):
        Inventory.from_state(broken)


def test_every_collection_is_a_field_of_typed_records(inventory: Inventory) -> None:
    """As the README says: ``inventory.secrets`` (like ``task_definitions``) is a list of records with the Terraform
    address, name, ARN, account and region, not a method returning plain mappings."""
    from fargate_harness.model import inventory as model

    collections = {
        "log_groups": model.LogGroup,
        "secrets": model.Secret,
        "parameters": model.Parameter,
        "kms_keys": model.KmsKey,
        "kms_aliases": model.KmsAlias,
        "repositories": model.Repository,
        "repository_policies": model.RepositoryPolicy,
        "buckets": model.Bucket,
        "tables": model.Table,
        "file_systems": model.FileSystem,
        "access_points": model.AccessPoint,
        "clusters": model.Cluster,
        "services": model.Service,
    }
    for name, kind in collections.items():
        found = getattr(inventory, name)
        assert isinstance(found, list), f"inventory.{name}: expected a list of {kind.__name__}, got {type(found)}"
        assert all(isinstance(r, kind) for r in found), f"inventory.{name}: {found}"
        assert len(found) == inventory.counts.get(kind.TYPE, 0), f"inventory.{name}: {found}"
    (parameter,) = inventory.parameters
    assert (parameter.address, parameter.name) == ("aws_ssm_parameter.token", "/web/token"), parameter
    assert (parameter.account, parameter.region) == ("111122223333", "eu-west-1"), parameter
    (repository,) = inventory.repositories
    assert (repository.name, repository.account) == ("web", "210987654321"), repository
    assert repository.address == "module.roles.module.registry.aws_ecr_repository.web", repository
    (bucket,) = inventory.buckets
    assert (bucket.name, bucket.arn, bucket.account) == ("cfg", "arn:aws:s3:::cfg", None), bucket
    assert inventory.secrets == [], "a secret version is no secret record (its value is never read)"


def test_an_arn_two_resources_carry_names_the_resource_it_identifies() -> None:
    """A secret version's ``arn`` is its secret's: the ARN's address is the secret's (upgrade diffs name it)."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-key-AbCdEf"
    state = {
        "values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_secretsmanager_secret.key",
                        "mode": "managed",
                        "type": "aws_secretsmanager_secret",
                        "name": "key",
                        "values": {"arn": arn, "id": arn},
                    },
                    {
                        "address": "aws_secretsmanager_secret_version.key",
                        "mode": "managed",
                        "type": "aws_secretsmanager_secret_version",
                        "name": "key",
                        "values": {"arn": arn, "id": f"{arn}|v1"},
                    },
                ]
            }
        }
    }
    assert Inventory.from_state(state).addresses[arn] == "aws_secretsmanager_secret.key"
    state["values"]["root_module"]["resources"].reverse()
    assert Inventory.from_state(state).addresses[arn] == "aws_secretsmanager_secret.key", "whatever the order"
