"""Diagnostics of Terraform's output (recorded output, no Terraform run)."""

from __future__ import annotations

from pathlib import Path

from fargate_harness.runner.diagnostics import locked_version_missing

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
    message = locked_version_missing(LOCKED_5_31, root, "mirror", ["2.70.0", "3.39.0"])
    assert message is not None
    assert message.startswith("/repo/envs/prod/.terraform.lock.hcl pins hashicorp/aws 5.31.0"), message
    assert "it holds hashicorp/aws 2.70.0, 3.39.0" in message, message
    assert "--tf-provider-source registry" in message, message
    assert "`terraform init -upgrade` in /repo/envs/prod" in message and "or remove" in message, message


def test_other_init_failures_are_not_the_lock_file_s() -> None:
    text = "Error: Failed to query available provider packages\n\nno available releases match the given constraints"
    assert locked_version_missing(text, Path("/repo"), "mirror", ["3.39.0"]) is None
