"""What the AWS provider version ``init`` selected accepts in its ``provider "aws"`` block.

Read from the provider itself (``terraform providers schema -json``) rather than from a hand-kept list:
3.x, 4.x, 5.x and 6.x spell some endpoints and skip flags differently, and each minor adds services.
The answer is cached per provider version under the harness cache (one ``providers schema`` call, about a
second, per version and machine).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fargate_harness.runner.toolchain import cache_dir, file_lock

AWS_PROVIDER_KEYS = ("registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws")

#: Provider arguments that tie a configuration to a real account's credentials or ids; on an emulator
#: target the override sets each one the provider knows to null (the emulator's credentials and accounts
#: are used instead). Provider docs, "Argument Reference" of the AWS provider.
CREDENTIAL_ARGUMENTS = (
    "profile",
    "shared_credentials_file",
    "shared_credentials_files",
    "shared_config_files",
    "allowed_account_ids",
    "forbidden_account_ids",
)
#: Flags that keep the provider from calling real AWS at start-up (credential, metadata and region checks).
SKIP_FLAGS = (
    "skip_credentials_validation",
    "skip_metadata_api_check",
    "skip_region_validation",
    "skip_get_ec2_platforms",
)
#: Path-style S3 addressing (an emulator on 127.0.0.1 has no per-bucket host names): 3.x/4.x, then 5.x+.
PATH_STYLE_FLAGS = ("s3_force_path_style", "s3_use_path_style")


@dataclass(frozen=True)
class ProviderSchema:
    """The endpoint names and top-level arguments one AWS provider version accepts."""

    version: str
    endpoints: tuple[str, ...]
    arguments: frozenset[str]

    @classmethod
    def from_terraform(cls, version: str, document: dict[str, Any]) -> ProviderSchema:
        """From ``terraform providers schema -json`` output."""
        schemas = document.get("provider_schemas") or {}
        for key in AWS_PROVIDER_KEYS:
            if key in schemas:
                block = schemas[key]["provider"]["block"]
                break
        else:
            raise ValueError(f"no hashicorp/aws provider in the schema (found {sorted(schemas)})")
        endpoints_block = (block.get("block_types") or {}).get("endpoints", {}).get("block", {})
        return cls(
            version,
            tuple(sorted(endpoints_block.get("attributes") or {})),
            frozenset(block.get("attributes") or {}),
        )

    def to_json(self) -> str:
        """The cached form."""
        return json.dumps({"version": self.version, "endpoints": self.endpoints, "arguments": sorted(self.arguments)})

    @classmethod
    def from_json(cls, text: str) -> ProviderSchema:
        """Read the cached form."""
        data = json.loads(text)
        return cls(str(data["version"]), tuple(data["endpoints"]), frozenset(data["arguments"]))


def cache_path(version: str, cache: Path | None = None) -> Path:
    """Where the schema of one provider version is cached."""
    return (cache or cache_dir()) / "provider-schemas" / f"aws-{version}.json"


def cached(version: str, read: Any, cache: Path | None = None) -> ProviderSchema:
    """The schema of ``version`` from the cache, else ``read()`` (the ``providers schema -json`` document)."""
    path = cache_path(version, cache)
    with file_lock(path.with_suffix(".lock")):
        if path.is_file():
            try:
                return ProviderSchema.from_json(path.read_text())
            except (ValueError, KeyError):
                path.unlink()  # a damaged cache entry is read again
        schema = ProviderSchema.from_terraform(version, read())
        path.write_text(schema.to_json())
        return schema
