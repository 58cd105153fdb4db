"""A value the provider version in use refuses is bad input (exit 2), never a verdict (exit 1), on the CLI.

``tests/data/configs/role-name-prefix`` is an execution role whose ``name_prefix`` is 34 characters, as a
configuration written for a recent AWS provider has it (later majors allow 38); its constraint ``>= 3.29`` admits
the offline mirror's hashicorp/aws 3.39.0, whose schema allows 32. The plan fails before anything is applied, so the
run costs an init and a plan. AWS's own limit is not in question: IAM role names may be 64 characters (IAM User
Guide, "IAM and AWS STS quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fargate_harness.errors import ToolchainError
from fargate_harness.runner import toolchain

CONFIG = Path(__file__).resolve().parents[1] / "data" / "configs" / "role-name-prefix"


@pytest.fixture(autouse=True)
def _offline_embedded(pytestconfig: pytest.Config) -> None:
    if (pytestconfig.getoption("target") or os.environ.get("HARNESS_TARGET") or "embedded") != "embedded":
        pytest.skip("the CLI test starts its own embedded emulator")
    try:
        held = toolchain.provider_zips()
    except ToolchainError:
        held = {}
    if "3.39.0" not in held:
        pytest.skip("needs the offline mirror's hashicorp/aws 3.39.0")


def test_a_value_the_provider_version_refuses_exits_2_naming_version_constraint_place_and_ways_out(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(tmp_path / "results"), "HARNESS_PROVIDER_SOURCE": "mirror"}
    env.pop("HARNESS_EMBEDDED_ENDPOINT", None)
    done = subprocess.run(
        [sys.executable, "-m", "fargate_harness.cli", "run", "--dir", str(CONFIG), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 2, f"expected exit 2 (bad input), got {done.returncode}: {done.stderr[-2000:]}"
    (line,) = [line for line in done.stderr.splitlines() if "refuses a length" in line]
    for part in (
        "role-name-prefix: main.tf line 6: hashicorp/aws 3.39.0 refuses a length: ",
        "(in aws_iam_role.execution; the version init selected; the configuration asks for >= 3.29)",
        "expected length of name_prefix to be in the range (1 - 32), got payments-reconciliation-exec-role-",
        "--tf-provider-source registry",
        "change the value",
    ):
        assert part in line, f"expected {part!r} in: {line}"
    assert "Traceback" not in done.stderr
