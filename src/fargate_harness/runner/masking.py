"""Keep secret values out of everything the harness writes or raises."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fargate_harness.errors import ConfigurationError

MASK = "***"
#: Values shorter than this are not masked: masking "1" or "a" would garble every log line.
MIN_SECRET_LENGTH = 4


class Masker:
    """Holds the secret values of a run and replaces them with ``***`` in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *values: str) -> None:
        """Register more values to mask (short ones are ignored, see MIN_SECRET_LENGTH)."""
        self._secrets.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH)

    def __call__(self, text: str) -> str:
        """``text`` with every registered secret replaced, longest first."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class MaskingFilter(logging.Filter):
    """A logging filter that masks a record's fully formatted message in place."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.masker(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# -- where variable values come from ----------------------------------------------------------------------
#: Files Terraform loads by itself from the root module's folder, in its order (Terraform docs, "Input
#: Variables", "Variable Definition Precedence"): ``terraform.tfvars``, ``terraform.tfvars.json``, then
#: ``*.auto.tfvars`` / ``*.auto.tfvars.json`` in lexical order of their names.
AUTO_VAR_FILES = ("terraform.tfvars", "terraform.tfvars.json")
AUTO_VAR_SUFFIXES = (".auto.tfvars", ".auto.tfvars.json")
#: The largest value one variable may have, in bytes of its JSON form (``HARNESS_MAX_VARIABLE_BYTES`` changes
#: it). Terraform hands variable values to the provider in gRPC messages, whose default limit is 4 MiB; a 5 MB
#: value ended in "received message larger than max", exit 1, after init. A quarter of that leaves room for the
#: rest of the resource's configuration and for a value used twice in one message.
MAX_VARIABLE_BYTES = 1024 * 1024
_HEREDOC = re.compile(r"\A<<(-?)([A-Za-z_][\w-]*)\n(?P<body>.*?)\n?[ \t]*\2\Z", re.DOTALL)


@dataclass(frozen=True)
class GivenValue:
    """One value given to a root variable, and where it was given (a file, ``--var``, ``TF_VAR_name``)."""

    name: str
    origin: str
    value: Any


def auto_var_files(root: Path) -> list[Path]:
    """The variable files Terraform loads from ``root`` without being asked, in the order it loads them."""
    found = [root / name for name in AUTO_VAR_FILES if (root / name).is_file()]
    autos = [p for p in root.iterdir() if p.is_file() and p.name.endswith(AUTO_VAR_SUFFIXES)] if root.is_dir() else []
    return found + sorted(autos, key=lambda p: p.name)


def _heredoc(value: str) -> str:
    """python-hcl2 keeps a heredoc's markers (``<<EOT\\n...\\nEOT``): the text Terraform sees, without them."""
    match = _HEREDOC.match(value)
    if not match:
        return value
    body = match["body"] + "\n"
    if match.group(1):  # <<- strips the common leading whitespace
        lines = body.splitlines(keepends=True)
        indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
        cut = min(indents, default=0)
        body = "".join(line[cut:] for line in lines)
    return body


def _literal(value: Any) -> Any:
    """A parsed ``.tfvars`` value as Terraform reads it: heredocs opened, ``$${`` and ``%%{`` unescaped."""
    if isinstance(value, str):
        return _heredoc(value).replace("$${", "${").replace("%%{", "%{")
    if isinstance(value, list):
        return [_literal(item) for item in value]
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    return value


def read_var_file(path: Path) -> dict[str, Any]:
    """The values of one ``.tfvars`` (HCL, through :func:`fargate_harness.runner.hcl.parse_file`) or
    ``.tfvars.json`` file; ConfigurationError naming the file when it cannot be read."""
    from fargate_harness.runner import hcl

    if path.name.endswith(".json"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{path}: cannot be read as a JSON variable file: {exc}") from exc
        if not isinstance(document, dict):
            raise ConfigurationError(f"{path}: a JSON variable file must hold one object of NAME: VALUE")
        return {str(k): v for k, v in document.items()}
    return {str(k): _literal(v) for k, v in hcl.parse_file(path).items()}


def given_values(
    root: Path,
    var_files: Iterable[Path] = (),
    user_variables: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[GivenValue]:
    """Every value the user gives the root module ``root``, from every source Terraform reads, lowest
    precedence first: ``TF_VAR_*`` environment variables, the root's own ``terraform.tfvars`` and
    ``*.auto.tfvars`` (+ ``.json``), ``--var-file`` files in order, then values given by name (``--var``, the
    marker's ``vars=``)."""
    found = [
        GivenValue(key[len("TF_VAR_") :], f"environment variable {key}", value)
        for key, value in sorted((os.environ if environ is None else environ).items())
        if key.startswith("TF_VAR_") and len(key) > len("TF_VAR_")
    ]
    for path in [*auto_var_files(root), *var_files]:
        found += [GivenValue(name, str(path), value) for name, value in read_var_file(path).items()]
    found += [GivenValue(name, "--var or vars=", value) for name, value in (user_variables or {}).items()]
    return found


def secret_forms(value: Any) -> list[str]:
    """The texts a secret value can take in Terraform's and a provider's messages: the value itself, trimmed,
    JSON-escaped (Terraform and Go's ``%q`` quote it so), each of its lines (a multi-line value is printed line
    by line), and for a collection every string in it and its JSON text."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [form for item in value for form in secret_forms(item)] + [json.dumps(value)]
    if isinstance(value, Mapping):
        return [form for item in value.values() for form in secret_forms(item)] + [json.dumps(value)]
    text = value if isinstance(value, str) else json.dumps(value)
    forms = [text, text.strip(), json.dumps(text)[1:-1]]
    for line in text.splitlines():
        forms += [line.strip(), json.dumps(line.strip())[1:-1]]
    return list(dict.fromkeys(form for form in forms if form))


def max_variable_bytes() -> int:
    """:data:`MAX_VARIABLE_BYTES`, or ``HARNESS_MAX_VARIABLE_BYTES`` (a positive whole number of bytes)."""
    raw = os.environ.get("HARNESS_MAX_VARIABLE_BYTES", "").strip()
    if not raw:
        return MAX_VARIABLE_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigurationError(
            f"HARNESS_MAX_VARIABLE_BYTES is {raw!r}: expected a positive whole number of bytes "
            f"(default {MAX_VARIABLE_BYTES})"
        )
    return int(raw)


def value_size(value: Any) -> int:
    """A value's size in bytes: a string's UTF-8 length, anything else's JSON text."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return len(text.encode("utf-8"))


def check_sizes(name: str, values: Iterable[GivenValue], limit: int | None = None) -> None:
    """ConfigurationError naming the variable and where it was given when a value is larger than ``limit``
    (default :func:`max_variable_bytes`)."""
    limit = max_variable_bytes() if limit is None else limit
    for given in values:
        size = value_size(given.value)
        if size > limit:
            raise ConfigurationError(
                f"{name}: variable {given.name} (from {given.origin}): expected at most {limit:,} bytes, got "
                f"{size:,}; fix: give a smaller value, or read large data from a file in the configuration "
                "(file(), templatefile()); HARNESS_MAX_VARIABLE_BYTES raises the limit, up to the 4 MiB a "
                "provider accepts in one message"
            )


def redact_file(path: Path, masker: Masker) -> bool:
    """Rewrite ``path`` with every secret ``masker`` knows replaced (and make it 0600); True when it changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    masked = masker(text)
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    if masked == text:
        return False
    path.write_text(masked, encoding="utf-8")
    return True


def var_files_under(folder: Path) -> list[Path]:
    """Every ``*.tfvars`` and ``*.tfvars.json`` file under ``folder`` (a run's copy of a configuration)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".tfvars", ".tfvars.json")))


def protect_var_files(folder: Path) -> None:
    """Make every variable file under ``folder`` readable by its owner only (0600): a copy of the user's
    ``secrets.auto.tfvars`` in a results folder is no more readable than the user made it (less, if need be)."""
    for path in var_files_under(folder):
        with contextlib.suppress(OSError):
            path.chmod(0o600)


def redact_kept_run(workdir: Path) -> list[Path]:
    """Redact the var files of a run folder whose harness died before it could (``kill -9``): the generated
    ``harness.tfvars.json`` / ``harness-user.tfvars``, the copy's ``*.tfvars`` and a state kept aside because its
    emulator died with the run, with every value of a variable the copied root module declares sensitive. Reads
    the folder's ``run.json`` (the root's copy, the user's var files); returns the files it changed. For the
    sweeper of killed runs."""
    from fargate_harness.runner import hcl

    try:
        manifest = json.loads((workdir / "run.json").read_text())
        root = Path(str(manifest.get("tfdir") or workdir / "config"))
        declared = hcl.read_module(root).variables if root.is_dir() else {}
    except (OSError, ValueError, ConfigurationError):
        return []
    generated = [workdir / "harness.tfvars.json", workdir / "harness-user.tfvars"]
    listed = [Path(p) for p in manifest.get("var_files") or []]
    files = [p for p in [*listed, *generated] if p.is_file()]
    values: list[GivenValue] = []
    with contextlib.suppress(ConfigurationError):
        values = given_values(root, files, environ={}) if root.is_dir() else []
    masker = Masker()
    for given in values:
        variable = declared.get(given.name)
        if variable is not None and variable.sensitive:
            masker.add(*secret_forms(given.value))
    owned = [p for p in generated if p.is_file()] + var_files_under(workdir / "config")
    owned += sorted((workdir / "config").rglob("terraform.tfstate.emulator-gone"))  # kept aside: nothing to destroy
    return [path for path in owned if redact_file(path, masker)]
