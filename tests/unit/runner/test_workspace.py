"""The work copy of a configuration (:mod:`fargate_harness.runner.workspace`) on the layouts users have.

Every tree is built under ``tmp_path``. The suite runs as root here, where the kernel ignores file modes, so
"cannot be read" is produced by paths no mode can fix (a symbolic link to nothing, a FIFO) and by the OS error
itself (``os.scandir`` raising ``PermissionError``); the ``chmod 000`` variants run only as another user.

Terraform's module sources: https://developer.hashicorp.com/terraform/language/modules/sources#local-paths
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fargate_harness import configurations
from fargate_harness.errors import ConfigurationError
from fargate_harness.runner import hcl, workspace
from fargate_harness.runner.workspace import copy_configuration, is_run_folder

AS_ROOT = os.geteuid() == 0
MANIFEST = {"run_id": "r1", "prefix": "fh-main-abc123", "tfdir": "/x/config", "label": "infra"}


def _write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _repo(tmp_path: Path) -> Path:
    """A git repository (a ``.git`` folder is all the bound looks for) with ``infra/`` and ``modules/role``."""
    repo = tmp_path / "repo"
    _write(repo / ".git" / "HEAD", "ref: refs/heads/main\n")
    _write(repo / "infra" / "main.tf", 'module "role" {\n  source = "../modules/role"\n}\n')
    _write(repo / "modules" / "role" / "main.tf", 'resource "aws_iam_role" "r" {}\n')
    return repo


def test_a_results_folder_inside_the_configuration_is_never_copied(tmp_path: Path) -> None:
    """``cd infra && fargate-harness preflight --dir .``: results/ sits in the configuration, the copy goes
    into it. Before, the copy copied itself until ``[Errno 36] File name too long``."""
    infra = _write(tmp_path / "infra" / "main.tf", 'resource "aws_iam_role" "r" {}\n').parent
    old_run = infra / "results" / "20261207-1" / "infra-fh-main-aaaaaa"
    _write(old_run / "config" / "main.tf", "# an earlier run's copy\n")
    _write(old_run / "run.json", json.dumps(MANIFEST))
    destination = infra / "results" / "20261207-2" / "infra-fh-main-bbbbbb" / "config"

    copied = copy_configuration(infra, destination)

    assert copied == destination
    assert sorted(p.name for p in destination.iterdir()) == ["main.tf"], "the results folder was copied"


def test_the_configured_results_folder_is_skipped_by_path(tmp_path: Path) -> None:
    """A results folder elsewhere inside the configuration (not on the way to the destination) is skipped when
    given, even before any run folder with a manifest exists in it."""
    infra = _write(tmp_path / "infra" / "main.tf").parent
    _write(infra / "out" / "summary.json", "{}")
    copy_configuration(infra, tmp_path / "work", exclude=(infra / "out",))
    assert _files(tmp_path / "work") == {"main.tf"}


def test_a_configuration_inside_the_results_folder_is_still_copied(tmp_path: Path) -> None:
    """A batch's generated root lives in the results folder: excluding that folder must not exclude the root."""
    results = tmp_path / "results" / "run-1"
    root = _write(results / ".batch-sources" / "g" / "main.tf", 'module "m" {\n  source = "./members/a"\n}\n').parent
    _write(root / "members" / "a" / "main.tf")
    copied = copy_configuration(root, results / "group-fh-x" / "config", exclude=(results,))
    assert _files(copied) == {"main.tf", "members/a/main.tf"}


def test_harness_run_folders_are_recognised_by_their_manifest(tmp_path: Path) -> None:
    """An earlier run's folder is skipped wherever it is; a user's own ``run.json`` does not hide its folder."""
    infra = _write(tmp_path / "infra" / "main.tf").parent
    _write(infra / "old" / "run.json", json.dumps(MANIFEST))
    _write(infra / "old" / "config" / "main.tf")
    _write(infra / "app" / "run.json", '{"command": ["serve"]}')
    assert is_run_folder(infra / "old") and not is_run_folder(infra / "app")
    copy_configuration(infra, tmp_path / "work")
    assert _files(tmp_path / "work") == {"main.tf", "app/run.json"}


def test_folders_terraform_does_not_read_are_skipped(tmp_path: Path) -> None:
    root = _write(tmp_path / "infra" / "main.tf").parent
    for skipped in (".git/objects/ab", ".terraform/providers/p", "node_modules/x/index.js", "__pycache__/m.pyc"):
        _write(root / skipped, "x")
    _write(root / ".venv" / "pyvenv.cfg", "home = /usr\n")
    _write(root / "venv" / "pyvenv.cfg", "home = /usr\n")
    _write(root / "venv" / "lib" / "site.py", "x")
    _write(root / ".idea" / "workspace.xml", "x")
    for kept in (".terraform.lock.hcl", ".gitignore", "templates/task.json.tpl", "files/.keep"):
        _write(root / kept, "k")
    for state in ("terraform.tfstate", "terraform.tfstate.backup", ".terraform.tfstate.lock.info"):
        _write(root / state, '{"secret": "state"}')

    copy_configuration(root, tmp_path / "work")

    assert _files(tmp_path / "work") == {
        "main.tf",
        ".terraform.lock.hcl",
        ".gitignore",
        "templates/task.json.tpl",
        "files/.keep",
    }


def test_a_module_inside_a_hidden_folder_is_still_copied(tmp_path: Path) -> None:
    """Name rules give way to module sources: Terraform reads ``./.modules/role`` when a call points there (the
    folder holding it is then copied like any other; hidden folders inside it are still skipped)."""
    root = _write(tmp_path / "infra" / "main.tf", 'module "role" {\n  source = "./.modules/role"\n}\n').parent
    _write(root / ".modules" / "role" / "main.tf", 'resource "aws_iam_role" "r" {}\n')
    _write(root / ".modules" / ".cache" / "x")
    _write(root / ".other" / "main.tf")
    copied = copy_configuration(root, tmp_path / "work")
    assert _files(copied) == {"main.tf", ".modules/role/main.tf"}


def test_a_module_outside_the_repository_is_refused_before_anything_is_copied(tmp_path: Path) -> None:
    """``source = "../../../../../../../../etc"`` (the hostile probe that copied /etc): exit 2 naming the call,
    its file and line and the resolved folder; the destination is never created."""
    repo = _repo(tmp_path)
    main = _write(
        repo / "infra" / "main.tf",
        '# leading comment\n\nmodule "etc" {\n  source = "../../../../../../../../etc"\n}\n',
    )
    destination = tmp_path / "work"
    with pytest.raises(ConfigurationError) as caught:
        copy_configuration(repo / "infra", destination)
    message = str(caught.value)
    assert f"{main.resolve()}:3: module.etc:" in message, message
    assert "resolves to /etc," in message and str(repo.resolve()) in message, message
    assert "git repository" in message, message
    assert not destination.exists(), "something was copied before the refusal"


def test_a_sibling_of_the_repository_is_outside_it(tmp_path: Path) -> None:
    """Inside a repository the bound is its top level, however near the folder outside it is."""
    repo = _repo(tmp_path)
    _write(tmp_path / "shared" / "main.tf")
    _write(repo / "infra" / "main.tf", 'module "shared" {\n  source = "../../shared"\n}\n')
    with pytest.raises(ConfigurationError, match=r"main\.tf:1: module\.shared: .*resolves to .*/shared"):
        hcl.walk(repo / "infra")


def test_modules_inside_the_repository_are_copied_with_their_layout(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    copied = copy_configuration(repo / "infra", tmp_path / "work")
    assert copied == tmp_path / "work" / "infra"
    assert _files(tmp_path / "work") == {"infra/main.tf", "modules/role/main.tf"}


def test_without_a_repository_the_bound_is_three_folders_up(tmp_path: Path) -> None:
    base = tmp_path / "a" / "b" / "c"
    root = _write(base / "envs" / "prod" / "main.tf", 'module "m" {\n  source = "../../../modules/m"\n}\n').parent
    _write(base.parent / "modules" / "m" / "main.tf")
    assert hcl.module_bound(root) == base.parent.resolve()
    assert len(hcl.walk(root)) == 2
    _write(root / "main.tf", 'module "m" {\n  source = "../../../../../x"\n}\n')
    with pytest.raises(ConfigurationError, match=r"3 folders above it"):
        hcl.walk(root)


def test_the_bound_never_reaches_the_filesystem_root() -> None:
    """``/srv/infra`` outside any repository may use ``/srv/...`` modules, never ``/etc``."""
    assert hcl.module_bound(Path("/srv/infra")) == Path("/srv")
    assert hcl.module_bound(Path("/infra")) == Path("/infra")


def test_a_link_inside_the_repository_is_copied_as_what_it_names(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _write(repo / "common" / "providers.tf", 'provider "aws" {\n  region = "us-east-1"\n}\n')
    (repo / "infra" / "providers.tf").symlink_to("../common/providers.tf")
    (repo / "infra" / "current").symlink_to(".")
    copy_configuration(repo / "infra", tmp_path / "work")
    copied = tmp_path / "work" / "infra" / "providers.tf"
    assert not copied.is_symlink() and "us-east-1" in copied.read_text()
    assert not (tmp_path / "work" / "infra" / "current").exists(), "a link to the folder itself was followed"


def test_a_link_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "infra" / "passwd.auto.tfvars").symlink_to("/etc/passwd")
    with pytest.raises(ConfigurationError) as caught:
        copy_configuration(repo / "infra", tmp_path / "work")
    assert "passwd.auto.tfvars: a symbolic link to /etc/passwd" in str(caught.value)
    assert "outside" in str(caught.value)


def test_a_link_to_nothing_is_an_unreadable_path_named(tmp_path: Path) -> None:
    """A path that cannot be read whoever runs the harness (the stand-in for ``chmod 000`` under root)."""
    repo = _repo(tmp_path)
    (repo / "infra" / "gone.tfvars").symlink_to("missing.tfvars")
    with pytest.raises(ConfigurationError, match=r"gone\.tfvars: cannot be read: it is a symbolic link to missing"):
        copy_configuration(repo / "infra", tmp_path / "work")


def test_a_fifo_is_refused_instead_of_blocking_the_copy(tmp_path: Path) -> None:
    root = _write(tmp_path / "infra" / "main.tf").parent
    os.mkfifo(root / "pipe")
    with pytest.raises(ConfigurationError, match=r"pipe: not a regular file or folder"):
        copy_configuration(root, tmp_path / "work")


def test_a_folder_the_os_refuses_to_list_is_named_with_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error path of an unreadable sub-folder (a shutil.Error traceback before): the OS's own refusal."""
    root = _write(tmp_path / "infra" / "main.tf").parent
    secret = _write(root / "private" / "x.json").parent
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if Path(path) == secret.resolve():
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(workspace.os, "scandir", scandir)
    with pytest.raises(ConfigurationError, match=r"private: cannot be read \(permission denied\)"):
        copy_configuration(root, tmp_path / "work")


def test_an_unreadable_root_folder_says_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, an unreadable root folder was reported as "no .tf files"."""
    root = _write(tmp_path / "infra" / "main.tf").parent
    real_listdir = os.listdir

    def listdir(path: Path) -> list[str]:
        if Path(path) == root.resolve():
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    monkeypatch.setattr(hcl.os, "listdir", listdir)
    with pytest.raises(ConfigurationError, match=r"permission denied") as caught:
        configurations.from_path(root)
    assert "no .tf" not in str(caught.value)


@pytest.mark.skipif(AS_ROOT, reason="root reads files whatever their mode (the kernel ignores chmod 000)")
def test_chmod_000_file_and_root_are_named(tmp_path: Path) -> None:
    root = _write(tmp_path / "infra" / "main.tf").parent
    locked = _write(root / "locked.json", "{}")
    locked.chmod(0)
    try:
        with pytest.raises(ConfigurationError, match=r"locked\.json: cannot be read \(permission denied\)"):
            copy_configuration(root, tmp_path / "work")
        locked.chmod(0o600)
        root.chmod(0)
        with pytest.raises(ConfigurationError, match=r"permission denied"):
            configurations.from_path(root)
    finally:
        root.chmod(0o700)
        locked.chmod(0o600)


def test_terraform_ignored_names_are_not_configuration_files(tmp_path: Path) -> None:
    """Terraform's loader skips hidden files and editor backups; so does the harness's reader."""
    root = _write(tmp_path / "m" / "main.tf").parent
    for name in (".hidden.tf", "main.tf~", "#main.tf#"):
        _write(root / name, "not hcl {")
    _write(root / "extra.tf.json", "{}")
    assert [p.name for p in hcl.config_files(root)] == ["extra.tf.json", "main.tf"]


def test_block_line_finds_hcl_and_json_module_calls(tmp_path: Path) -> None:
    tf = _write(tmp_path / "main.tf", '\n\nmodule "a" {\n  source = "./a"\n}\nmodule b {\n  source = "./b"\n}\n')
    assert hcl.block_line(tf, "module", "a") == 3
    assert hcl.block_line(tf, "module", "b") == 6
    assert hcl.block_line(tf, "module", "c") is None
    js = _write(tmp_path / "x.tf.json", '{\n  "module": {\n    "a": {\n      "source": "./a"\n    }\n  }\n}\n')
    assert hcl.block_line(js, "module", "a") == 3


def test_test_files_are_left_out_unless_terraform_test_runs(tmp_path: Path) -> None:
    """``terraform init`` parses every ``*.tftest.hcl`` of the folder it initialises, and one using an argument the
    installed Terraform does not know fails it (seen with ``skip_cleanup``): a run's copy has none of them."""
    root = tmp_path / "infra"
    _write(root / "main.tf", 'resource "aws_iam_role" "r" {}\n')
    _write(root / "tests" / "role.tftest.hcl", 'run "x" {\n  skip_cleanup = true\n}\n')
    _write(root / "smoke.tftest.hcl", 'run "y" {}\n')
    _write(root / "tests" / "setup" / "main.tf", 'resource "aws_iam_role" "s" {}\n')
    copy = copy_configuration(root, tmp_path / "run" / "config")
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()) == [
        "main.tf",
        "tests/setup/main.tf",
    ]
    with_tests = copy_configuration(root, tmp_path / "test" / "config", with_tests=True)
    assert (with_tests / "tests" / "role.tftest.hcl").is_file() and (with_tests / "smoke.tftest.hcl").is_file()
