"""Every value of a sensitive variable is masked, whatever the source Terraform reads it from; copied and
generated var files are private and redacted when the run ends; oversized values stop a run by name.

Sources and their precedence: Terraform docs, "Input Variables", "Variable Definition Precedence"
(https://developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.runner.masking import (
    MASK,
    MAX_VARIABLE_BYTES,
    GivenValue,
    Masker,
    auto_var_files,
    check_sizes,
    given_values,
    max_variable_bytes,
    protect_var_files,
    read_var_file,
    redact_file,
    redact_kept_run,
    secret_forms,
)
from fargate_harness.runner.overrides import USER_VAR_FILE
from fargate_harness.runner.run import TerraformRun
from fargate_harness.runner.toolchain import Toolchain
from fargate_harness.targets.base import Target

SECRETS = {
    "env": "from-environment-9c1e",
    "tfvars": "from-terraform-tfvars-3b7d",
    "auto": "from-auto-tfvars-5a2f",
    "json": "from-auto-json-8e4c",
    "file": "from-var-file-1d6b",
    "named": "from-var-flag-7f0a",
}


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    root.mkdir()
    variables = "\n".join(f'variable "{name}" {{\n  type      = string\n  sensitive = true\n}}\n' for name in SECRETS)
    (root / "main.tf").write_text(variables + 'variable "plain" {\n  type = string\n}\n')
    (root / "terraform.tfvars").write_text(f'tfvars = "{SECRETS["tfvars"]}"\nplain = "visible-value"\n')
    (root / "secrets.auto.tfvars").write_text(f'auto = "{SECRETS["auto"]}"\n')
    (root / "more.auto.tfvars.json").write_text(json.dumps({"json": SECRETS["json"]}))
    return root


def _run(tmp_path: Path, root: Path, **kwargs: object) -> TerraformRun:
    var_file = tmp_path / "mine.tfvars"
    var_file.write_text(f'file = "{SECRETS["file"]}"\n')
    return TerraformRun(
        root,
        target=Target("embedded", "us-east-1", "http://127.0.0.1:4599", "testing", "testing"),
        toolchain=Toolchain(
            terraform=Path("/nonexistent/terraform"),
            version="1.9.8",
            origin="test",
            provider_source="registry",
            cli_config=tmp_path / "rc",
            plugin_cache=tmp_path / "cache",
        ),
        prefix="fh-test-abc123",
        results_dir=tmp_path / "results",
        var_files=(var_file,),
        user_variables={"named": SECRETS["named"]},
        **kwargs,  # type: ignore[arg-type]
    )


def test_auto_var_files_are_found_in_terraforms_order(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "a.auto.tfvars").write_text("")
    (root / "other.tfvars").write_text("")  # not loaded by Terraform without -var-file
    assert [p.name for p in auto_var_files(root)] == [
        "terraform.tfvars",
        "a.auto.tfvars",
        "more.auto.tfvars.json",
        "secrets.auto.tfvars",
    ]


def test_given_values_name_every_source_lowest_precedence_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _root(tmp_path)
    extra = tmp_path / "extra.tfvars"
    extra.write_text('file = "x-file"\n')
    given = given_values(root, [extra], {"named": "n"}, environ={"TF_VAR_env": "e", "TF_VAR_": "ignored", "HOME": "/"})
    assert [(g.name, Path(g.origin).name if "/" in g.origin else g.origin) for g in given] == [
        ("env", "environment variable TF_VAR_env"),
        ("tfvars", "terraform.tfvars"),
        ("plain", "terraform.tfvars"),
        ("json", "more.auto.tfvars.json"),
        ("auto", "secrets.auto.tfvars"),
        ("file", "extra.tfvars"),
        ("named", "--var or vars="),
    ]


def test_tfvars_values_are_read_as_terraform_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "x.tfvars"
    path.write_text(
        'quoted = "a\\"b\\\\c"\nescaped = "keep $${literal}"\nlist = ["one-secret", "two-secret"]\n'
        "doc = <<EOT\nline one\nline two\nEOT\nindented = <<-EOT\n    alpha\n      beta\n    EOT\n"
    )
    values = read_var_file(path)
    assert values == {
        "quoted": 'a"b\\c',
        "escaped": "keep ${literal}",
        "list": ["one-secret", "two-secret"],
        "doc": "line one\nline two\n",
        "indented": "alpha\n  beta\n",
    }


def test_unreadable_json_var_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "x.auto.tfvars.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigurationError, match="one object"):
        read_var_file(path)
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"x\.auto\.tfvars\.json"):
        read_var_file(path)


def test_secret_forms_cover_quoted_multiline_and_nested_values() -> None:
    forms = secret_forms({"key": 'pass"word\nsecond-line', "n": [1234567]})
    assert 'pass"word\nsecond-line' in forms
    assert 'pass\\"word\\nsecond-line' in forms, "the JSON-escaped form Terraform and %q print"
    assert "second-line" in forms and 'pass"word' in forms, "each line of a multi-line value"
    assert "1234567" in forms
    masker = Masker(forms)
    assert MASK in masker('got "pass\\"word\\nsecond-line"') and "pass" not in masker('got "pass\\"word\\nsecond')


def test_a_run_masks_sensitive_values_from_every_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_VAR_env", SECRETS["env"])
    run = _run(tmp_path, _root(tmp_path))
    text = " ".join(SECRETS.values()) + " visible-value"
    masked = run.masker(text)
    leaked = [name for name, value in SECRETS.items() if value in masked]
    assert not leaked, f"sensitive values from these sources are not masked: {leaked}"
    assert "visible-value" in masked, "a value of a variable not declared sensitive is left alone"


def test_sizes_are_bounded_and_name_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _root(tmp_path)
    (root / "big.auto.tfvars").write_text(f'plain = "{"x" * (MAX_VARIABLE_BYTES + 1)}"\n')
    with pytest.raises(ConfigurationError) as caught:
        _run(tmp_path, root)
    message = str(caught.value)
    assert "variable plain" in message and "big.auto.tfvars" in message, message
    assert f"{MAX_VARIABLE_BYTES:,} bytes" in message and "HARNESS_MAX_VARIABLE_BYTES" in message, message
    monkeypatch.setenv("HARNESS_MAX_VARIABLE_BYTES", str(2 * MAX_VARIABLE_BYTES))
    _run(tmp_path, root)  # the limit is overridable
    check_sizes("c", [GivenValue("v", "--var", "é" * 3)], limit=6)  # bytes, not characters: 6 bytes fit
    with pytest.raises(ConfigurationError, match="expected at most 5 bytes, got 6"):
        check_sizes("c", [GivenValue("v", "--var", "é" * 3)], limit=5)
    monkeypatch.setenv("HARNESS_MAX_VARIABLE_BYTES", "lots")
    with pytest.raises(ConfigurationError, match="HARNESS_MAX_VARIABLE_BYTES is 'lots'"):
        max_variable_bytes()


def test_var_files_are_private_and_redacted_when_the_run_ends(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "secrets.auto.tfvars").chmod(0o644)
    run = _run(tmp_path, root)
    copy = run.workdir / "config"
    copy.mkdir(parents=True)
    for path in root.iterdir():
        (copy / path.name).write_text(path.read_text())
        (copy / path.name).chmod(0o644)
    protect_var_files(copy)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in copy.iterdir() if "tfvars" in p.name}
    assert set(modes.values()) == {0o600}, modes
    (run.workdir / USER_VAR_FILE).write_text(f'named = "{SECRETS["named"]}"\n')
    run.down(failed=True)  # nothing applied; a failed run keeps its folder
    leaked = [
        str(p)
        for p in run.workdir.rglob("*")
        if p.is_file() and any(v in p.read_text() for v in SECRETS.values() if v != SECRETS["env"])
    ]
    assert not leaked, f"files of a kept run still hold a secret: {leaked}"
    assert "visible-value" in (copy / "terraform.tfvars").read_text(), "values that are not secret are kept"


def test_redact_file_reports_whether_it_changed(tmp_path: Path) -> None:
    path = tmp_path / "a.tfvars"
    path.write_text('x = "top-secret-value"\n')
    masker = Masker(["top-secret-value"])
    assert redact_file(path, masker) is True
    assert path.read_text() == f'x = "{MASK}"\n'
    assert redact_file(path, masker) is False


def test_a_killed_runs_folder_is_redacted_from_its_manifest(tmp_path: Path) -> None:
    """After ``kill -9`` no ``down`` ran: the sweeper redacts the folder from what it holds (run.json, the copy)."""
    workdir = tmp_path / "results" / "run-1"
    copy = workdir / "config"
    copy.mkdir(parents=True)
    root = _root(tmp_path)
    for path in root.iterdir():
        (copy / path.name).write_text(path.read_text())
    user_file = tmp_path / "mine.tfvars"
    user_file.write_text(f'file = "{SECRETS["file"]}"\n')
    (workdir / "harness.tfvars.json").write_text(json.dumps({"plain": "harness-plain"}))
    (workdir / USER_VAR_FILE).write_text(f'named = "{SECRETS["named"]}"\n')
    generated = [str(workdir / "harness.tfvars.json"), str(user_file), str(workdir / USER_VAR_FILE)]
    (workdir / "run.json").write_text(json.dumps({"tfdir": str(copy), "var_files": generated}))
    changed = {p.name for p in redact_kept_run(workdir)}
    assert changed == {USER_VAR_FILE, "terraform.tfvars", "secrets.auto.tfvars", "more.auto.tfvars.json"}, changed
    leaked = [str(p) for p in workdir.rglob("*") if p.is_file() and any(v in p.read_text() for v in SECRETS.values())]
    assert not leaked, f"files of a killed run still hold a secret: {leaked}"
    assert user_file.read_text() == f'file = "{SECRETS["file"]}"\n', "the user's own var file is never rewritten"
    assert redact_kept_run(tmp_path / "missing") == []
