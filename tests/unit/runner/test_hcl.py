"""fargate_harness.runner.hcl: what a configuration contains, read with python-hcl2 (and json for .tf.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.runner import hcl

PROJECT = Path(__file__).resolve().parents[3]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_blocks_of_every_kind_are_read(tmp_path: Path) -> None:
    _write(
        tmp_path / "main.tf",
        """
terraform {
  backend "s3" {
    bucket = "state" # a comment with a { brace
  }
  required_providers {
    aws    = { source = "hashicorp/aws", version = "~> 5.0" }
    random = { source = "hashicorp/random" }
  }
}
/* provider "aws" { alias = "commented" } */
provider "aws" {
  region = "eu-west-1"
}
provider "aws" {
  alias  = "dr"
  region = "eu-central-1"
  assume_role {
    role_arn = "arn:aws:iam::111111111111:role/x"
  }
}
provider "google" {}
module "local" { source = "./modules/x" }
module "registry" {
  source  = "terraform-aws-modules/ecs/aws"
  version = "5.0.0"
}
resource "aws_ecs_cluster" "this" { name = "a{b}" }
data "aws_caller_identity" "me" {}
variable "ids" {
  type    = list(string)
  default = []
}
variable "password" {
  type      = string
  sensitive = true
}
variable "untyped" {}
""",
    )
    module = hcl.read_module(tmp_path)
    assert module.resources == [("aws_ecs_cluster", "this")]
    assert module.data_sources == [("aws_caller_identity", "me")]
    assert [(p.label, p.is_proxy) for p in module.provider_blocks("aws")] == [("aws", False), ("aws.dr", False)]
    assert [p.name for p in module.providers] == ["aws", "aws", "google"]
    assert [(c.name, c.is_local) for c in module.modules] == [("local", True), ("registry", False)]
    assert module.backend == ("s3", tmp_path / "main.tf")
    assert module.required_providers["aws"]["version"] == "~> 5.0"
    assert module.variables["password"].sensitive
    assert not module.variables["ids"].is_primitive and module.variables["ids"].has_default
    assert module.variables["untyped"].is_primitive and not module.variables["untyped"].has_default


def test_tf_json_files_count_too(tmp_path: Path) -> None:
    _write(
        tmp_path / "main.tf.json",
        json.dumps(
            {
                "provider": {"aws": [{"alias": "west", "region": "us-west-2"}]},
                "resource": {"aws_iam_role": {"r": {"name": "r"}}},
                "variable": {"name_prefix": {"type": "string"}},
            }
        ),
    )
    module = hcl.read_module(tmp_path)
    assert module.resources == [("aws_iam_role", "r")]
    assert [p.label for p in module.providers] == ["aws.west"]
    assert set(module.variables) == {"name_prefix"}


def test_a_proxy_block_is_recognised(tmp_path: Path) -> None:
    _write(tmp_path / "main.tf", 'provider "aws" {\n  alias = "registry"\n}\n')
    (block,) = hcl.read_module(tmp_path).providers
    assert block.is_proxy


def test_a_syntax_error_names_the_file(tmp_path: Path) -> None:
    bad = _write(tmp_path / "broken.tf", 'resource "aws_iam_role" "r" {\n  name = \n')
    with pytest.raises(ConfigurationError, match=str(bad)):
        hcl.read_module(tmp_path)


def test_walk_follows_local_sources_and_lists_remote_ones() -> None:
    modules = hcl.walk(PROJECT / "scenarios" / "cross-account-ecr")
    assert [m.path.name for m in modules] == ["cross-account-ecr", "ecr-cross-account-pull", "ecs-execution-role"]
    assert hcl.remote_modules(modules) == []


def test_walk_reports_a_missing_local_module(tmp_path: Path) -> None:
    _write(tmp_path / "main.tf", 'module "gone" {\n  source = "./nowhere"\n}\n')
    with pytest.raises(ConfigurationError, match="nowhere does not exist"):
        hcl.walk(tmp_path)


def test_parallel_walks_see_whole_configurations(monkeypatch: pytest.MonkeyPatch) -> None:
    """``run --jobs`` parses in threads: python-hcl2's parser is shared state, so parses are serialized
    (unguarded, a thread saw no module calls and the copy lacked every local module)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(hcl, "_PARSED", {})  # parse for real, not from the cache
    roots = sorted(p for p in (PROJECT / "scenarios").iterdir() if p.is_dir() and (p / "main.tf").is_file())
    expected = {root: [m.path for m in hcl.walk(root)] for root in roots}
    for _ in range(3):
        monkeypatch.setattr(hcl, "_PARSED", {})
        with ThreadPoolExecutor(max_workers=6) as pool:
            found = dict(zip(roots, pool.map(lambda r: [m.path for m in hcl.walk(r)], roots), strict=True))
        assert found == expected


def test_a_copy_is_not_parsed_again_and_a_changed_file_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The cache is keyed by text: the harness's copies of a configuration reuse the first parse; an edit is
    parsed anew, and callers get their own copy of the document."""
    monkeypatch.setattr(hcl, "_PARSED", {})
    calls: list[str] = []
    real = hcl.hcl2.loads

    def counting(text: str, **options: object) -> object:
        calls.append(text)
        return real(text, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(hcl.hcl2, "loads", counting)
    text = 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'
    for folder in ("one", "two"):
        _write(tmp_path / folder / "main.tf", text)
    first = hcl.parse_file(tmp_path / "one" / "main.tf")
    assert hcl.parse_file(tmp_path / "two" / "main.tf") == first and len(calls) == 1
    first["resource"].clear()
    assert hcl.parse_file(tmp_path / "one" / "main.tf")["resource"], "the cached document was changed"
    _write(tmp_path / "two" / "main.tf", text.replace('"x"', '"y"'))
    assert hcl.read_module(tmp_path / "two").resources == [("aws_s3_bucket", "b")] and len(calls) == 2
