"""Which configurations a batch may hold, the root it generates, and each member's share of its state and plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fargate_harness.configurations import Configuration
from fargate_harness.runner import batch, hcl
from fargate_harness.targets.base import Target

EMULATOR = Target(name="embedded", region="us-east-1", endpoint_url="http://127.0.0.1:5000")
ROOT_BLOCK = 'provider "aws" {\n  region = var.region\n}\n'
VARIABLES = 'variable "name_prefix" {\n  type = string\n}\n\nvariable "region" {\n  default = "us-east-1"\n}\n'
LOG_GROUP = 'resource "aws_cloudwatch_log_group" "this" {\n  name = "/ecs/${var.name_prefix}"\n}\n'


def config(folder: Path, *files: tuple[str, str]) -> Configuration:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (folder / name).write_text(text)
    return Configuration(folder.name, folder)


def plain(tmp_path: Path, name: str = "svc", *extra: tuple[str, str]) -> Configuration:
    return config(tmp_path / name, ("main.tf", ROOT_BLOCK + VARIABLES + LOG_GROUP), *extra)


def test_a_single_provider_configuration_with_a_prefix_can_be_batched(tmp_path: Path) -> None:
    assert batch.unbatchable(plain(tmp_path), EMULATOR) is None
    no_block = config(tmp_path / "bare", ("main.tf", VARIABLES + LOG_GROUP))
    assert batch.unbatchable(no_block, EMULATOR) is None


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        # https://developer.hashicorp.com/terraform/language/modules/develop/providers: a module's own
        # provider block is a configuration of its own (the batch could not share one provider process)
        ('provider "aws" {\n  alias  = "dr"\n  region = "us-west-2"\n}\n', 'provider "aws.dr"'),
        ('provider "random" {}\n', 'provider "random"'),
        ('module "x" {\n  source = "terraform-aws-modules/iam/aws"\n}\n', "not a local folder"),
        ('terraform {\n  backend "s3" {}\n}\n', "backend"),
        ('import {\n  to = aws_cloudwatch_log_group.this\n  id = "/ecs/x"\n}\n', "import blocks"),
        ('output "where" {\n  value = path.root\n}\n', "path.root"),
        ('variable "app_name" {\n  type = string\n}\n', "app_name"),
    ],
)
def test_what_a_module_call_would_change_keeps_a_configuration_alone(tmp_path: Path, extra: str, reason: str) -> None:
    scenario = plain(tmp_path, "svc", ("extra.tf", extra))
    found = batch.unbatchable(scenario, EMULATOR)
    assert found is not None and reason in found, f"expected a reason naming {reason!r}, got {found!r}"


@pytest.mark.parametrize("name", ["terraform.tfvars", "prod.auto.tfvars", "x.auto.tfvars.json", ".terraform.lock.hcl"])
def test_files_terraform_reads_for_a_root_only_keep_it_alone(tmp_path: Path, name: str) -> None:
    scenario = plain(tmp_path, "svc", (name, 'name_prefix = "x"\n'))
    found = batch.unbatchable(scenario, EMULATOR)
    assert found is not None and name in found, found


def test_a_provider_block_setting_more_than_the_region_keeps_it_alone(tmp_path: Path) -> None:
    tagged = 'provider "aws" {\n  region = var.region\n  default_tags {\n    tags = { team = "a" }\n  }\n}\n'
    scenario = config(tmp_path / "tagged", ("main.tf", tagged + VARIABLES + LOG_GROUP))
    assert "only `region`" in (batch.unbatchable(scenario, EMULATOR) or "")
    other = config(tmp_path / "other", ("main.tf", 'provider "aws" {\n  region = "eu-west-1"\n}\n' + VARIABLES))
    assert "eu-west-1" in (batch.unbatchable(other, EMULATOR) or "")
    same = config(tmp_path / "same", ("main.tf", 'provider "aws" {\n  region = "us-east-1"\n}\n' + VARIABLES))
    assert batch.unbatchable(same, EMULATOR) is None


def test_fixed_names_and_real_aws_are_never_batched(tmp_path: Path) -> None:
    fixed = config(tmp_path / "fixed", ("main.tf", ROOT_BLOCK + 'variable "region" {}\n'))
    assert "name_prefix" in (batch.unbatchable(fixed, EMULATOR) or "")
    aws = Target(name="aws", region="us-east-1", endpoint_url=None)
    assert "emulator" in (batch.unbatchable(plain(tmp_path), aws) or "")


def test_a_child_module_proxy_block_is_inherited_and_allowed(tmp_path: Path) -> None:
    config(tmp_path / "modules" / "role", ("main.tf", 'provider "aws" {\n  alias = "x"\n}\n'))
    call = 'module "role" {\n  source = "../modules/role"\n}\n'
    assert batch.unbatchable(plain(tmp_path, "svc", ("calls.tf", call)), EMULATOR) is None
    config(tmp_path / "modules" / "own", ("main.tf", 'provider "aws" {\n  region = "us-east-1"\n}\n'))
    own = plain(tmp_path, "svc2", ("calls.tf", 'module "own" {\n  source = "../modules/own"\n}\n'))
    assert "inside a module" in (batch.unbatchable(own, EMULATOR) or "")


def test_the_root_passes_each_member_its_prefix_and_the_harness_values(tmp_path: Path) -> None:
    outputs = 'output "arn" {\n  value = 1\n}\n\noutput "token" {\n  value     = 2\n  sensitive = true\n}\n'
    one = plain(tmp_path, "one", ("outputs.tf", outputs))
    two = config(
        tmp_path / "broken" / "two",
        ("main.tf", VARIABLES + 'variable "secret_value" {\n  sensitive = true\n}\n'),
    )
    members = [batch.Member(one, "one", 1), batch.Member(two, batch.module_key("broken/two", ["one"]), 2)]
    folder = tmp_path / "results" / "batch"
    folder.mkdir(parents=True)
    members[0].copy, members[1].copy = folder / "members" / "one", folder / "members" / "broken_two"
    text = batch.root_text(members, folder)
    (folder / "main.tf").write_text(text)
    parsed = hcl.parse_file(folder / "main.tf")
    calls = {name: body for block in parsed["module"] for name, body in block.items()}
    assert calls["one"] == {"source": "./members/one", "name_prefix": "${var.name_prefix}-1", "region": "${var.region}"}
    assert calls["broken_two"]["name_prefix"] == "${var.name_prefix}-2"
    assert calls["broken_two"]["secret_value"] == "${var.secret_value}"
    variables = {name: body for block in parsed["variable"] for name, body in block.items()}
    assert variables["secret_value"] == {"sensitive": True}
    exported = {name: body for block in parsed["output"] for name, body in block.items()}
    assert exported == {
        "one__arn": {"value": "${module.one.arn}", "sensitive": False},
        "one__token": {"value": "${module.one.token}", "sensitive": True},
    }
    assert members[0].outputs == {"one__arn": "arn", "one__token": "token"}


def test_module_keys_are_identifiers_and_unique() -> None:
    assert batch.module_key("broken/log-group-missing", []) == "broken_log-group-missing"
    assert batch.module_key("9lives", []) == "c_9lives"
    assert batch.module_key("svc", ["svc", "svc_2"]) == "svc_3"


def _state() -> dict[str, object]:
    return {
        "format_version": "1.0",
        "terraform_version": "1.15.5",
        "values": {
            "outputs": {
                "svc__arn": {"value": "arn:x", "sensitive": False, "type": "string"},
                "other__arn": {"value": "arn:y", "sensitive": False, "type": "string"},
            },
            "root_module": {
                "child_modules": [
                    {
                        "address": "module.svc",
                        "resources": [
                            {"address": "module.svc.aws_iam_role.this", "mode": "managed", "type": "aws_iam_role"},
                            {"address": "module.svc.data.aws_partition.p", "mode": "data", "type": "aws_partition"},
                        ],
                        "child_modules": [
                            {
                                "address": "module.svc.module.role",
                                "resources": [
                                    {
                                        "address": "module.svc.module.role.aws_iam_role_policy.this[0]",
                                        "mode": "managed",
                                        "type": "aws_iam_role_policy",
                                        "depends_on": ["module.svc.aws_iam_role.this"],
                                        "values": {"name": "module.svc.kept-as-is"},
                                    }
                                ],
                            }
                        ],
                    },
                    {
                        "address": "module.svc2",
                        "resources": [{"address": "module.svc2.aws_s3_bucket.b", "mode": "managed"}],
                    },
                ]
            },
        },
    }


def test_a_member_state_reads_as_its_own_root_state() -> None:
    member = batch.Member(Configuration("svc", Path("/x")), "svc", 1, outputs={"svc__arn": "arn"})
    shown = batch.member_state(_state(), member)
    assert shown["terraform_version"] == "1.15.5"
    values = shown["values"]
    assert values["outputs"] == {"arn": {"value": "arn:x", "sensitive": False, "type": "string"}}
    root = values["root_module"]
    assert "address" not in root
    assert [r["address"] for r in root["resources"]] == ["aws_iam_role.this", "data.aws_partition.p"]
    (child,) = root["child_modules"]
    assert child["address"] == "module.role"
    (policy,) = child["resources"]
    assert policy["address"] == "module.role.aws_iam_role_policy.this[0]"
    assert policy["depends_on"] == ["aws_iam_role.this"]
    assert policy["values"] == {"name": "module.svc.kept-as-is"}, "resource values must never be rewritten"
    assert json.dumps(shown).count("module.svc2") == 0, "another member's module leaked into the view"


def test_a_member_missing_from_the_state_has_an_empty_one() -> None:
    member = batch.Member(Configuration("gone", Path("/x")), "gone", 3)
    assert batch.member_state(_state(), member)["values"] == {"outputs": {}, "root_module": {}}


def test_the_batch_plan_changes_are_split_by_member_in_their_own_addresses() -> None:
    svc = batch.Member(Configuration("svc", Path("/x")), "svc", 1, outputs={"svc__arn": "arn"})
    changes = ["module.svc.aws_iam_role.this: update", "module.svc2.aws_s3_bucket.b: delete/create"]
    changes += ["output.svc__arn: update", "output.svc2__arn: update"]
    assert batch.member_changes(changes, svc) == ["aws_iam_role.this: update", "output.arn: update"]


def test_provider_blocks_are_cut_out_and_everything_else_kept_byte_for_byte() -> None:
    text = (
        "# the workload account\n"
        'provider "aws" {\n  region = var.region # where\n}\n\n'
        'locals {\n  doc = <<-EOT\n    provider "aws" { region = "x" }\n  EOT\n}\n'
        'provider "random" {}\n'
        'provider aws {\n  region = "us-east-1"\n}\n'
    )
    cut, removed = hcl.without_blocks(text, "provider", "aws")
    assert removed == 2
    assert cut == (
        "# the workload account\n\n\n"
        'locals {\n  doc = <<-EOT\n    provider "aws" { region = "x" }\n  EOT\n}\n'
        'provider "random" {}\n\n'
    )


def test_outputs_and_imports_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    config(
        folder,
        ("a.tf", 'output "x" {\n  value = 1\n}\n\noutput "y" {\n  value     = 2\n  sensitive = true\n}\n'),
        ("b.tf", 'import {\n  to = aws_s3_bucket.b\n  id = "b"\n}\n'),
    )
    module = hcl.read_module(folder)
    assert module.outputs == {"x": False, "y": True}
    assert module.imports == 1


def test_an_overlay_that_changes_a_provider_keeps_the_case_alone(tmp_path: Path) -> None:
    base = plain(tmp_path, "svc")
    case = tmp_path / "case"
    case.mkdir()
    (case / "tags_override.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')
    (case / "name_override.tf").write_text(LOG_GROUP.replace("${var.name_prefix}", "${var.name_prefix}-x"))
    assert batch.unbatchable(Configuration("case", base.path, (case / "name_override.tf",)), EMULATOR) is None
    found = batch.unbatchable(Configuration("case", base.path, (case / "tags_override.tf",)), EMULATOR)
    assert found is not None and "tags_override.tf" in found, found


def test_cases_of_one_folder_get_copies_of_their_own_with_their_overlays(tmp_path: Path) -> None:
    """Two cases of one reference scenario in one batch: each member has its own copy of the folder and of the
    local modules it sources, its overlays, and no root provider block (the batch's provider is inherited)."""
    config(tmp_path / "modules" / "role", ("main.tf", 'variable "name" {}\n'))
    call = 'module "role" {\n  source = "../modules/role"\n  name   = var.name_prefix\n}\n'
    base = plain(tmp_path, "svc", ("calls.tf", call))
    overlay = tmp_path / "case" / "retention_override.tf"
    overlay.parent.mkdir()
    overlay.write_text('resource "aws_cloudwatch_log_group" "this" {\n  retention_in_days = 7\n}\n')
    group = batch.Batch(
        [base, Configuration("case", base.path, (overlay,))],
        results_dir=tmp_path / "results",
        new_run=lambda _source: None,  # type: ignore[arg-type,return-value]  # nothing here runs Terraform
    )
    first, second = group.members
    assert first.copy != second.copy and first.copy.name == second.copy.name == "svc"
    assert (second.copy / "retention_override.tf").is_file() and not (first.copy / "retention_override.tf").exists()
    for member in group.members:
        assert (member.copy.parent / "modules" / "role" / "main.tf").is_file(), f"{member.key}: no module copy"
        assert hcl.read_module(member.copy).provider_blocks("aws") == [], f"{member.key}: provider block left"
    assert hcl.read_module(base.path).provider_blocks("aws"), "the original configuration must not change"
    assert [m.path for m in hcl.walk(group.source)][1:3] == [first.copy.resolve(), second.copy.resolve()]


def test_a_configuration_in_its_own_region_runs_alone(tmp_path: Path) -> None:
    """Deployed as written: a batch deploys every member in the target's region, so a member whose provider names
    another region runs alone, in its own."""
    folder = tmp_path / "eu"
    folder.mkdir()
    (folder / "main.tf").write_text(
        'variable "name_prefix" {\n  type = string\n}\n\nprovider "aws" {\n  region = "eu-west-1"\n}\n'
    )
    target = Target(name="embedded", region="us-east-1", endpoint_url="http://127.0.0.1:1")
    reason = batch.unbatchable(Configuration("eu", folder), target)
    assert reason is not None and "its own region eu-west-1" in reason, reason
    assert batch.unbatchable(Configuration("eu", folder, reference=True), target) != reason
