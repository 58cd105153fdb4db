"""``fargate-harness preflight --plan``: its options and its command, kept beside the plan preflight (the CLI wires).

Exit codes (docs/plan.md): 0 every task would start, 1 one would not (or the plan has none), 2 bad input, and
:data:`~fargate_harness.preflight.plan.EXIT_UNDECIDED` when undecided (``--undecided=pass|fail`` changes that).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError
from fargate_harness.options import Options
from fargate_harness.preflight.collect import AwsFacts
from fargate_harness.preflight.plan import WILL_START, PlanPreflight, preflight_plan
from fargate_harness.runner import toolchain
from fargate_harness.targets import start_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--plan``, ``--undecided`` and ``--read-account`` on the ``preflight`` parser."""
    parser.add_argument(
        "--plan",
        metavar="PLAN",
        help="decide from a plan, nothing applied: `terraform show -json PLANFILE` output, or the binary PLANFILE "
        "with --dir FOLDER (docs/plan.md)",
    )
    parser.add_argument(
        "--undecided",
        choices=("undecided", "pass", "fail"),
        default="undecided",
        help="with --plan: exit code of an undecided verdict (default: 4; pass: 0; fail: 1)",
    )
    parser.add_argument(
        "--read-account",
        action="store_true",
        help="with --plan: read what lies outside the plan (secrets, keys, repositories, images) with read-only "
        "calls on --target (standard credential chain, --allowed-accounts)",
    )


def document(result: PlanPreflight, code: int, schema_version: int) -> dict[str, Any]:
    """The ``preflight --json`` document of a plan (docs/json.md)."""
    entry = result.to_dict()
    del entry["task_definitions"]  # at the top level, as for the other sources
    return {
        "schema_version": schema_version,
        "decided_from": "plan",
        "will_start": result.verdict == WILL_START,
        "verdict": result.verdict,
        "exit_code": code,
        "plan": entry,
        "configurations": [],
        "task_definitions": [r.to_dict() for r in result.reports],
    }


def run(args: argparse.Namespace, options: Options, preflight: Mapping[str, str], schema_version: int) -> int:
    """Decide ``args.plan``, print the table or the JSON document, and return the exit code."""
    if args.scenario or args.task_definition or len(args.dir or []) > 1:
        raise ConfigurationError(
            "--plan decides one plan: give --plan PLAN.json alone, or --plan PLANFILE --dir FOLDER (the folder it was "
            "planned in); --scenario and --task-definition do not go with it"
        )
    plan = Path(args.plan)
    if not plan.is_file():
        raise ConfigurationError(f"--plan {plan}: no such file (give `terraform show -json PLANFILE` output)")
    directory = Path(args.dir[0]) if args.dir else None
    terraform = toolchain.prepare(options.tf_binary, options.provider_source).terraform if directory else "terraform"
    target = start_target(options, options.run_dir / "emulator-preflight") if args.read_account else None
    try:
        result = preflight_plan(
            plan,
            directory=directory,
            terraform=terraform,
            account=args.account_id,
            region=args.aws_region,
            live=AwsFacts(target) if target is not None else None,
            **preflight,
        )
    finally:
        if target is not None:
            target.stop()
    code = result.exit_code(args.undecided)
    print(json.dumps(document(result, code, schema_version), indent=2, sort_keys=True) if args.json else result.table())
    return code
