"""fargate_harness.runner.diagnostics on recorded Terraform error text: what a failed destroy says (issue 34).

``data/diagnostics/elasticache_delete_500.txt`` is the standard error of a real destroy: an
``aws_elasticache_subnet_group`` applied with provider 3.39 on the embedded moto 5.2.5, whose
DeleteCacheSubnetGroup is not implemented (moto answers its web framework's HTML 500 page, which aws-sdk-go prints
as a hex dump). ``appautoscaling_delete_validation.txt`` is assembled from moto 5.2.5's own answer for a scaling
policy it no longer holds (``applicationautoscaling/models.py``: ValidationException "No scaling policy found for
...") in aws-sdk-go's error format; AWS answers ObjectNotFoundException there (Application Auto Scaling API
Reference, DeleteScalingPolicy, Errors:
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeleteScalingPolicy.html), which the provider
takes as already deleted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fargate_harness import cli
from fargate_harness.errors import TerraformError
from fargate_harness.lifecycle import Outcome
from fargate_harness.runner import diagnostics

DATA = Path(__file__).resolve().parents[1] / "data" / "diagnostics"
ELASTICACHE_500 = (DATA / "elasticache_delete_500.txt").read_text()
SCALING_POLICY = (DATA / "appautoscaling_delete_validation.txt").read_text()
DESTROY = ["terraform", "destroy", "-input=false", "-no-color", "-auto-approve"]
ADDRESSES = {"orders-cache": "aws_elasticache_subnet_group.cache"}
#: Other emulator-side failures the tables know, as Terraform prints them.
MALFORMED_VERSION = "Error: error reading ElastiCache Cluster (orders): Malformed version: \n"
NOT_IMPLEMENTED = (
    "Error: error deleting ECS Capacity Provider (spot): InternalFailure: API action not yet implemented\n"
    "\tstatus code: 501, request id: \n"
)


def _destroy(stderr: str, emulator: bool = True) -> str:
    return diagnostics.explain_destroy("orders", stderr, "", emulator=emulator, target="embedded", addresses=ADDRESSES)


def test_an_emulator_error_page_is_summarised_with_status_and_operation_never_dumped() -> None:
    explained = _destroy(ELASTICACHE_500)
    first = explained.splitlines()[0]
    assert first.startswith(
        "orders: aws_elasticache_subnet_group.cache (ElastiCache Subnet Group orders-cache): cannot be deleted "
        "(embedded emulator), not retried: "
    ), first
    assert first.endswith(
        "[HTTP 500 to deleting ElastiCache Subnet Group orders-cache, answered with an HTML page titled "
        "'500 Internal Server Error' (265 bytes, left out)]"
    ), first
    assert diagnostics.HEX_DUMP_LINE.search(ELASTICACHE_500), "the recording holds a hex dump"
    assert not diagnostics.HEX_DUMP_LINE.search(explained), f"a hex dump is left:\n{explained}"
    assert "<html" not in explained.lower() and "doctype" not in explained.lower(), explained
    assert "Error: error deleting ElastiCache Subnet Group (orders-cache)" in explained  # Terraform's own line stays


@pytest.mark.parametrize(
    "stderr", [ELASTICACHE_500, SCALING_POLICY, MALFORMED_VERSION, NOT_IMPLEMENTED], ids=lambda s: s[7:40]
)
def test_every_emulator_side_failure_on_destroy_is_labelled_an_emulator_gap_the_same_way(stderr: str) -> None:
    first = _destroy(stderr).splitlines()[0]
    assert "cannot be deleted (embedded emulator), not retried: " in first, first
    assert (
        first.rstrip("]")
        .split(", not retried: ", 1)[1]
        .split(" [")[0]
        .endswith("an emulator gap, not a fault of the configuration")
    ), first


def test_on_aws_no_failure_is_an_emulator_gap() -> None:
    assert _destroy(SCALING_POLICY, emulator=False) == SCALING_POLICY  # AWS's own answer: shown as it is
    assert "(embedded emulator)" not in _destroy(NOT_IMPLEMENTED, emulator=False)


def test_the_reason_line_skips_the_command_header_and_summarises_the_answer() -> None:
    raw = str(TerraformError(DESTROY, 1, ELASTICACHE_500))
    assert raw.splitlines()[0] == f"`{' '.join(DESTROY)}` exited 1:"
    assert diagnostics.reason_line(raw) == (
        "Error: error deleting ElastiCache Subnet Group (orders-cache): SerializationError: failed to unmarshal error "
        "message (HTTP 500 to deleting ElastiCache Subnet Group orders-cache, answered with an HTML page titled "
        "'500 Internal Server Error' (265 bytes, left out))"
    )
    explained = str(TerraformError(DESTROY, 1, _destroy(ELASTICACHE_500)))
    assert diagnostics.reason_line(explained) == _destroy(ELASTICACHE_500).splitlines()[0]


@pytest.mark.parametrize("as_json", [True, False])
def test_preflight_puts_the_destroy_reason_on_stderr_whatever_the_format(
    as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, standard error ended at "`terraform destroy ...` exited 1:" and the reason was only in the JSON."""
    problem = str(TerraformError(DESTROY, 1, SCALING_POLICY))
    cli.print_preflight(as_json, [Outcome("orders", destroy_error=problem)], [])
    err = capsys.readouterr().err
    assert "Error: Failed to delete scaling policy: ValidationException: No scaling policy found" in err, err
    assert "exited 1:" not in err, err


def test_the_reason_line_of_an_explained_destroy_is_the_harness_sentence() -> None:
    """What ``run`` prints on standard error for a teardown that failed (the explained text leads)."""
    problem = str(TerraformError(DESTROY, 1, _destroy(SCALING_POLICY)))
    assert diagnostics.reason_line(problem).startswith(
        "orders: a resource of the state: cannot be deleted (embedded emulator)"
    )


# -- errors from the provider version in use ------------------------------------------------------------------------

#: Recorded with hashicorp/aws 3.39.0 (the offline mirror) and Terraform 1.11.4: a 34-character role name_prefix
#: (tests/data/configs/role-name-prefix), and a resource type 3.39 predates (aws_ecr_pull_through_cache_rule).
NAME_PREFIX = (DATA / "name_prefix_too_long.txt").read_text()
UNKNOWN_TYPE = (DATA / "unknown_resource_type.txt").read_text()
UNKNOWN_BLOCK = (
    'Error: Unsupported block type\n\n  on main.tf line 12, in resource "aws_ecs_task_definition" "t":\n'
    '  12:   runtime_platform {\n\nBlocks of type "runtime_platform" are not expected here.\n'
)
#: AWS's own refusal at apply: not the provider version's, never bad input by this rule.
AWS_REFUSAL = (
    'Error: error creating IAM Role (payments): ValidationError: 1 validation error detected: Value at "roleName" '
    "failed to satisfy constraint: Member must have length less than or equal to 64\n\tstatus code: 400\n\n"
    '  with aws_iam_role.execution,\n  on main.tf line 6, in resource "aws_iam_role" "execution":\n'
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            NAME_PREFIX,
            diagnostics.ProviderRejection(
                "a length",
                "expected length of name_prefix to be in the range (1 - 32), got payments-reconciliation-exec-role-",
                "main.tf line 18",
                "aws_iam_role.execution",
            ),
        ),
        (
            UNKNOWN_TYPE,
            diagnostics.ProviderRejection(
                "resource type",
                "aws_ecr_pull_through_cache_rule",
                "main.tf line 10",
                "aws_ecr_pull_through_cache_rule.hub",
            ),
        ),
        (
            UNKNOWN_BLOCK,
            diagnostics.ProviderRejection("block", "runtime_platform", "main.tf line 12", "aws_ecs_task_definition.t"),
        ),
        (AWS_REFUSAL, None),
    ],
    ids=["validation", "resource-type", "block", "aws-refusal"],
)
def test_an_error_of_the_provider_version_is_recognised(
    text: str, expected: diagnostics.ProviderRejection | None
) -> None:
    assert diagnostics.provider_rejection(text) == expected


def test_the_message_names_version_constraint_place_and_ways_out() -> None:
    rejection = diagnostics.provider_rejection(NAME_PREFIX)
    assert rejection is not None
    message = diagnostics.provider_rejection_message(
        "payments",
        rejection,
        version="3.39.0",
        constraints=[">= 3.29"],
        mirror_versions=("2.70.0", "3.39.0"),
        source="mirror",
    )
    assert message.startswith(
        "payments: main.tf line 18: hashicorp/aws 3.39.0 refuses a length: expected length of name_prefix to be in "
        "the range (1 - 32), got payments-reconciliation-exec-role- (in aws_iam_role.execution; the version init "
        "selected; the configuration asks for >= 3.29)."
    ), message
    assert "--tf-provider-source registry" in message and "change the value" in message, message
    online = diagnostics.provider_rejection_message(
        "payments", rejection, version="5.80.0", constraints=[], mirror_versions=("3.39.0",), source="registry"
    )
    assert "the configuration sets no version constraint" in online
    assert "raise the provider version" in online and "--tf-provider-source" not in online, online


#: ``terraform init`` (1.11.4) in a folder whose lock file pins aws 5.31.0, with the offline mirror's CLI config.
LOCKED_5_31 = """Initializing the backend...
Initializing provider plugins...
- Reusing previous version of hashicorp/aws from the dependency lock file

Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider hashicorp/aws:
the previously-selected version 5.31.0 is no longer available
"""


def test_a_locked_version_the_mirror_lacks_names_the_lock_file_and_both_ways_out() -> None:
    root = Path("/repo/envs/prod")
    message = diagnostics.locked_version_missing(LOCKED_5_31, root, "mirror", ["2.70.0", "3.39.0"])
    assert message is not None
    assert message.startswith("/repo/envs/prod/.terraform.lock.hcl pins hashicorp/aws 5.31.0"), message
    assert "it holds hashicorp/aws 2.70.0, 3.39.0" in message, message
    assert "--tf-provider-source registry" in message, message
    assert "`terraform init -upgrade` in /repo/envs/prod" in message and "or remove" in message, message


def test_other_init_failures_are_not_the_lock_file_s() -> None:
    text = "Error: Failed to query available provider packages\n\nno available releases match the given constraints"
    assert diagnostics.locked_version_missing(text, Path("/repo"), "mirror", ["3.39.0"]) is None
