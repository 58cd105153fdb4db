"""Unit tests for fargate_harness.runner.provider_server: counting AWS provider configurations, finding the plugin, and
the debug-mode handshake (with small stand-in plugins: scripts that print what a provider prints)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from fargate_harness.runner.overrides import module_calls
from fargate_harness.runner.provider_server import REATTACH_ENV, ProviderServer, configurations, plugin_binary

REATTACH = {
    "registry.terraform.io/hashicorp/aws": {
        "Protocol": "grpc",
        "ProtocolVersion": 5,
        "Pid": 1,
        "Test": True,
        "Addr": {"Network": "unix", "String": "/tmp/p"},
    }
}


def _module(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(text)
    return folder


def _root(tmp_path: Path, root_text: str, calls: dict[str, str]) -> Path:
    """A root as init leaves it: its files, and modules.json naming one folder per module call."""
    root = _module(tmp_path / "root", root_text)
    entries = [{"Key": "", "Source": "", "Dir": "."}]
    for key, folder in calls.items():
        entries.append({"Key": key, "Source": f"./{folder}", "Dir": folder})
    manifest = root / ".terraform" / "modules" / "modules.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"Modules": entries}))
    return root


def _count(root: Path) -> int:
    return configurations(module_calls(root), root)


def test_a_root_without_provider_blocks_has_the_default_configuration(tmp_path: Path) -> None:
    assert _count(_root(tmp_path, 'resource "aws_iam_role" "r" {}\n', {})) == 1


def test_root_aliases_count_even_alias_only_blocks(tmp_path: Path) -> None:
    # in the root, `provider "aws" { alias = "b" }` is a configuration (with defaults), not a proxy
    text = 'provider "aws" {\n  region = "eu-west-1"\n}\nprovider "aws" {\n  alias = "b"\n}\n'
    assert _count(_root(tmp_path, text, {})) == 2


def test_modules_that_inherit_or_declare_proxies_add_nothing(tmp_path: Path) -> None:
    root = _root(tmp_path, 'module "svc" {\n  source = "./modules/svc"\n}\n', {"svc": "modules/svc"})
    _module(root / "modules" / "svc", 'provider "aws" {\n  alias = "dns"\n}\nresource "aws_iam_role" "r" {}\n')
    assert _count(root) == 1


def test_a_module_with_its_own_block_counts_once_per_call(tmp_path: Path) -> None:
    # two calls of one local module share a folder; each call is its own provider configuration
    text = 'module "a" {\n  source = "./m"\n}\nmodule "b" {\n  source = "./m"\n}\n'
    root = _root(tmp_path, text, {"a": "m", "b": "m"})
    _module(root / "m", 'provider "aws" {\n  region = "us-east-1"\n}\n')
    assert _count(root) == 3


def test_plugin_binary_finds_the_selected_version_only(tmp_path: Path) -> None:
    base = tmp_path / ".terraform" / "providers" / "registry.terraform.io" / "hashicorp" / "aws"
    for version in ("3.39.0", "5.0.0"):
        plugin = base / version / "linux_amd64" / f"terraform-provider-aws_v{version}_x5"
        plugin.parent.mkdir(parents=True)
        plugin.write_text("")
    found = plugin_binary(tmp_path, version="3.39.0")
    assert found is not None and found.name == "terraform-provider-aws_v3.39.0_x5"
    assert plugin_binary(tmp_path, version="4.0.0") is None
    assert plugin_binary(tmp_path / "elsewhere") is None


def _plugin(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "terraform-provider-aws_v0_x5"
    script.write_text(f"#!{sys.executable}\nimport sys, time, os\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_debug_mode_provider_is_attached_and_stopped(tmp_path: Path) -> None:
    line = f"{REATTACH_ENV}='{json.dumps(REATTACH)}'"
    plugin = _plugin(
        tmp_path,
        "assert sys.argv[1:] == ['-debug'], sys.argv\n"
        "assert os.environ.get('TF_REATTACH_PROVIDERS') is None\n"
        f"print('Provider started.'); print({line!r}, flush=True)\n"
        "time.sleep(120)",
    )
    server = ProviderServer(plugin, {**os.environ, REATTACH_ENV: "stale"}, tmp_path)
    assert server.start(timeout=20)
    try:
        assert server.alive and server.pid is not None
        assert json.loads(server.env()[REATTACH_ENV]) == REATTACH
    finally:
        server.stop()
    assert not server.alive and server.env() == {} and server.pid is None


@pytest.mark.parametrize(
    "body",
    [
        "print('unknown flag -debug'); sys.exit(1)",  # a release without debug mode exits
        f"print({REATTACH_ENV + '=' + chr(39) + '{not json}' + chr(39)!r}, flush=True); time.sleep(120)",
        "time.sleep(120)",  # silent: the timeout applies
    ],
    ids=["exits", "unparsable", "silent"],
)
def test_a_provider_that_cannot_serve_is_not_attached_and_not_left_running(tmp_path: Path, body: str) -> None:
    pid_file = tmp_path / "pid"
    plugin = _plugin(tmp_path, f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n{body}")
    server = ProviderServer(plugin, dict(os.environ), tmp_path)
    assert not server.start(timeout=3)
    assert not server.alive and server.env() == {}
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists(), f"provider stand-in {pid} was left running"
