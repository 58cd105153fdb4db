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
