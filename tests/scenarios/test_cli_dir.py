"""``fargate-harness run|preflight --dir PATH`` on configurations the harness has never seen, as a user runs it.

Each test starts the command in a subprocess, so exit codes, stdout and stderr are what a user sees. The first
lets the command start its own embedded emulator, as a user's does; the others share the session's
emulator (``HARNESS_EMBEDDED_ENDPOINT``, one moto server less to start each): the configurations with fixed names
get a fresh account of it, as on an emulator of their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fargate_harness.runner.session import logged_commands
from fargate_harness.targets import Target

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"


def harness(*args: str, tmp_path: Path, emulator: Target | None = None) -> subprocess.CompletedProcess[str]:
    """``fargate-harness ARGS`` in a child process: on its own emulator, or on ``emulator``'s."""
    env = {**os.environ, "HARNESS_RESULTS_DIR": str(tmp_path / "results")}
    env.pop("HARNESS_RUN_ID", None)
    env.pop("HARNESS_EMBEDDED_ENDPOINT", None)
    if emulator is not None:
        assert emulator.endpoint_url, "the session's emulator has no address"
        env["HARNESS_EMBEDDED_ENDPOINT"] = emulator.endpoint_url
    return subprocess.run(
        [sys.executable, "-m", "fargate_harness.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture(autouse=True)
def _embedded_only(pytestconfig: pytest.Config) -> None:
    if (pytestconfig.getoption("target") or os.environ.get("HARNESS_TARGET") or "embedded") != "embedded":
        pytest.skip("the CLI tests start their own embedded emulator")


class TestPreflightAndRunDir:
    """``preflight --dir`` and ``run --dir`` that get as far as a verdict."""

    def test_preflight_dir_json_names_what_is_missing(self, tmp_path: Path) -> None:
        answer = harness("preflight", "--dir", str(CONFIGS / "tutorial-secrets"), "--json", tmp_path=tmp_path)
        assert answer.returncode == 1, (
            f"expected exit 1 (a task would not start), got {answer.returncode}: {answer.stderr}"
        )
        document = json.loads(answer.stdout)
        assert document["will_start"] is False
        (configuration,) = document["configurations"]
        (report,) = configuration["reports"]
        assert report["task_definition"] == "orders:1"
        # fatal denials only: the token's secret has no value yet (a pipeline puts it), which is a warning row
        denied = [r["resource"] for r in report["requirements"] if not r["allowed"] and r["fatal"]]
        assert len(denied) == 1 and "prod/orders/api-token" in denied[0], denied
        assert "change-me-in-the-pipeline" not in answer.stdout + answer.stderr
        assert "tutorial-secrets: apply" in answer.stderr, "expected a progress line per stage on stderr"

    def test_preflight_after_a_partial_apply_reports_both(self, tmp_path: Path, harness_target: Target) -> None:
        answer = harness(
            "preflight", "--dir", str(CONFIGS / "partial-apply"), "--json", tmp_path=tmp_path, emulator=harness_target
        )
        assert answer.returncode == 1, answer.stderr
        (configuration,) = json.loads(answer.stdout)["configurations"]
        assert "AmazonECSTaskExecutionRolePolicyy" in configuration["apply_error"], configuration["apply_error"]
        (report,) = configuration["reports"]
        assert report["task_definition"] == "reports:1"
        assert {r["kind"] for r in report["requirements"] if not r["allowed"]} == {"logs"}, report["requirements"]

    def test_run_dir_with_no_task_definition_fails_and_says_what_it_looked_for(
        self, tmp_path: Path, harness_target: Target
    ) -> None:
        answer = harness("run", "--dir", str(CONFIGS / "child-provider"), tmp_path=tmp_path, emulator=harness_target)
        assert answer.returncode == 1, answer.stdout + answer.stderr
        assert "no aws_ecs_task_definition in the state of" in answer.stdout, answer.stdout
        assert "child-provider" in answer.stdout


class TestRefusedBeforeApply:
    """Input refused before anything is applied, with the fix (exit 2)."""

    @pytest.mark.parametrize(
        ("args", "message"),
        # only what needs the configuration read (an undeclared variable); what is refused while the arguments are
        # read is tests/unit/test_cli.py::test_bad_dir_input_exits_2_with_the_fix_before_anything_starts
        [(["preflight", "--dir", str(CONFIGS / "tutorial-web"), "--var", "colour=blue"], "colour")],
    )
    def test_bad_input_exits_2_with_the_fix(
        self, tmp_path: Path, harness_target: Target, args: list[str], message: str
    ) -> None:
        answer = harness(*args, tmp_path=tmp_path, emulator=harness_target)
        assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}: {answer.stdout} {answer.stderr}"
        assert message in answer.stderr, answer.stderr

    @pytest.mark.parametrize("command", ["run", "preflight"])
    def test_a_provider_the_offline_mirror_cannot_meet_exits_2_naming_what_it_holds(
        self, tmp_path: Path, harness_target: Target, command: str
    ) -> None:
        answer = harness(
            command,
            "--dir",
            str(CONFIGS / "needs-provider-5"),
            "--tf-provider-source",
            "mirror",
            tmp_path=tmp_path,
            emulator=harness_target,
        )
        assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}: {answer.stdout} {answer.stderr}"
        text = answer.stdout + answer.stderr
        assert "~> 5.0" in text and "the offline mirror holds hashicorp/aws" in text, text
        assert "--tf-provider-source registry" in text, text

    def test_a_value_its_validation_rule_refuses_exits_2_quoting_the_rule(
        self, tmp_path: Path, harness_target: Target
    ) -> None:
        """Terraform refuses the value before creating anything; the run says which variable, where its rule is and
        what the rule asks for, and the table row says nothing was applied."""
        answer = harness(
            "run",
            "--dir",
            str(CONFIGS / "tutorial-web"),
            "--var",
            "fargate_cpu=300",
            tmp_path=tmp_path,
            emulator=harness_target,
        )
        shown = answer.stdout + answer.stderr
        assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}:\n{shown}"
        assert (
            "tutorial-web: variable fargate_cpu fails its validation rule (variables.tf line 28): 'The fargate_cpu "
            "value must be a Fargate CPU size: 256, 512, 1024, 2048 or 4096.'. Give a value it accepts with --var "
            "fargate_cpu=VALUE or in a --var-file."
        ) in answer.stdout, shown
        (row,) = [line for line in answer.stdout.splitlines() if line.startswith("tutorial-web ")]
        assert row.split()[1:3] == ["FAIL", "0"], f"expected nothing applied, got: {row}"


class TestWhatAnEmulatorCannotHold:
    """Data sources and remote state that need what an emulator, which starts empty, cannot hold
    (exit 2). Each class of this module is a work unit of its own under ``--dist loadscope``."""

    def test_data_sources_that_find_nothing_on_the_emulator_exit_2_naming_each(
        self, tmp_path: Path, harness_target: Target
    ) -> None:
        """``existing-infra`` looks up a VPC and, in a module, an image repository that another team created: on an
        emulator, which starts empty, both are named with their file and line, and what to do instead."""
        answer = harness("run", "--dir", str(CONFIGS / "existing-infra"), tmp_path=tmp_path, emulator=harness_target)
        shown = answer.stdout + answer.stderr
        assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}:\n{shown}"
        assert "2 data source(s) found nothing on the emulator (embedded)" in shown, shown
        assert "data.aws_vpc.shared (main.tf line 7): no matching VPC found" in shown, shown
        assert (
            "module.app.data.aws_ecr_repository.app (modules/app/main.tf line 13): ECR Repository (platform/billing) "
            "not found"
        ) in shown, shown
        assert "--target aws" in shown, shown
        (row,) = [line for line in answer.stdout.splitlines() if line.startswith("existing-infra ")]
        assert row.split()[1:3] == ["FAIL", "0"], f"expected nothing applied, got: {row}"

    def test_a_lookup_that_fails_after_creating_resources_still_destroys_them(
        self, tmp_path: Path, harness_target: Target
    ) -> None:
        """``pinned-image`` creates its repository and role, then finds no pushed image for its digest lookup: exit 2
        naming the data source, and the destroy, whose refresh would fail the same way, runs without it."""
        answer = harness("run", "--dir", str(CONFIGS / "pinned-image"), tmp_path=tmp_path, emulator=harness_target)
        shown = answer.stdout + answer.stderr
        assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}:\n{shown}"
        assert (
            "data.aws_ecr_image.release (main.tf line 16): Error describing ECR images: ImageNotFoundException" in shown
        ), shown
        assert "may remain" not in shown, shown
        kept = re.search(r"kept for inspection: (\S+)$", answer.stdout, re.MULTILINE)
        assert kept, f"expected the failed run's folder kept, got:\n{shown}"
        state = json.loads((Path(kept.group(1)) / "config" / "terraform.tfstate").read_text())
        left = [f"{r['type']}.{r['name']}" for r in state["resources"] if r["mode"] == "managed"]
        assert not left, f"pinned-image: the destroy left {left} in the state"
        destroys = [
            argv
            for argv in logged_commands((Path(kept.group(1)) / "terraform.log").read_text())
            if argv[1] == "destroy"
        ]
        assert "-refresh=false" in destroys[-1], (
            f"pinned-image: expected the last destroy without refresh, ran {destroys}"
        )

    def test_remote_state_on_an_emulator_is_refused_naming_the_data_source(
        self, tmp_path: Path, harness_target: Target
    ) -> None:
        """Terraform itself reads ``terraform_remote_state`` from S3, where no override reaches: the network guard
        refuses the request (nothing is sent to AWS) and the run names the data source and what to do (exit 2)."""
        answer = harness("run", "--dir", str(CONFIGS / "remote-state"), tmp_path=tmp_path, emulator=harness_target)
        shown = answer.stdout + answer.stderr
        assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}:\n{shown}"
        assert "the network guard refused it" in answer.stdout, shown
        assert f"data.terraform_remote_state.network in {CONFIGS / 'remote-state'} reads another" in answer.stdout, (
            shown
        )
        assert "give the values that state supplies as variables instead" in answer.stdout, shown


def test_a_lock_file_pinning_a_provider_the_mirror_lacks_exits_2_naming_it(
    tmp_path: Path, harness_target: Target
) -> None:
    """A committed ``.terraform.lock.hcl`` pins hashicorp/aws 5.31.0; offline, the mirror holds 2.70.0 and 3.39.0:
    exit 2 naming the lock file's path and both ways out (the registry online; another locked version)."""
    folder = CONFIGS / "locked-provider-5"
    answer = harness(
        "run", "--dir", str(folder), "--tf-provider-source", "mirror", tmp_path=tmp_path, emulator=harness_target
    )
    assert answer.returncode == 2, f"expected exit 2, got {answer.returncode}: {answer.stdout} {answer.stderr}"
    text = answer.stdout + answer.stderr
    assert (
        f"{folder / '.terraform.lock.hcl'} pins hashicorp/aws 5.31.0, which the offline provider mirror lacks" in text
    ), text
    assert "--tf-provider-source registry" in text and "terraform init -upgrade" in text, text
