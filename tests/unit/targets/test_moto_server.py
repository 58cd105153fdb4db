"""Unit tests for fargate_harness.targets.moto_server: the two caches answer exactly what moto's functions answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fargate_harness.targets import moto_server


def test_module_list_is_read_once_and_equals_moto_s() -> None:
    reads = []

    def listing() -> list[str]:
        reads.append(1)
        return ["ecs", "iam"]

    cached = moto_server._cache_module_list(listing)
    assert cached() == ("ecs", "iam") and cached() == ("ecs", "iam")
    assert len(reads) == 1


def test_method_names_are_remembered_per_class_and_copied() -> None:
    class One:
        def describe(self) -> None: ...

    class Two:
        def create(self) -> None: ...

    calls = []

    def names(clazz: object) -> list[str]:
        calls.append(clazz)
        return [n for n in vars(clazz) if not n.startswith("_")]

    cached = moto_server._cache_per_class(names)
    first = cached(One)
    first.append("mutated")
    assert cached(One) == ["describe"] and cached(Two) == ["create"]
    assert calls == [One, Two]


def test_this_moto_has_both_functions_and_the_caches_agree() -> None:
    """Run in a child process (the caches replace moto's functions for good): with the installed moto both
    functions exist, so a rename in a later moto fails here instead of silently losing the speed-up."""
    script = (
        "from moto import backends\n"
        "from moto.core import responses\n"
        "from moto.iam.responses import IamResponse\n"
        "before = (list(backends.list_of_moto_modules()), responses.method_names_from_class(IamResponse))\n"
        "from fargate_harness.targets import moto_server\n"
        "print(moto_server.install_patches())\n"
        "after = (list(backends.list_of_moto_modules()), responses.method_names_from_class(IamResponse))\n"
        "assert before == after, 'the caches answer differently'\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "moto.backends.list_of_moto_modules" in out
    assert "moto.core.responses.method_names_from_class" in out


def test_managed_policies_parsed_once_build_the_same_policies_per_account() -> None:
    """In a child process: the policies an IAM backend gets after the cache equal, field by field, those moto
    builds itself, and each account's are objects of its own (attachment counts are per account)."""
    script = (
        "from moto.iam import models\n"
        "def fields(backend):\n"  # every attribute but the random id; each version's attributes
        "    return [({k: v for k, v in vars(p).items() if k not in ('id', 'versions')},\n"
        "             [vars(v) for v in p.versions]) for p in backend.aws_managed_policies]\n"
        "before = fields(models.IAMBackend('global', '111111111111'))\n"
        "assert len(before) > 1000, len(before)\n"
        "from fargate_harness.targets import moto_server\n"
        "assert 'moto.iam.models.IAMBackend._init_aws_policies' in moto_server.install_patches()\n"
        "one, two = models.IAMBackend('global', '111111111111'), models.IAMBackend('global', '222222222222')\n"
        "assert fields(one) == before, 'the cached policies differ from moto\\'s'\n"
        "one.aws_managed_policies[0].attachment_count += 1\n"
        "assert two.aws_managed_policies[0].attachment_count == 0, 'accounts share a policy object'\n"
        "print('ok')\n"
    )
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}  # as the embedded target starts moto
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_server_s_signal_handler_is_the_fast_exit() -> None:
    """moto's ``main`` installs ``moto.server.signal_handler`` for SIGTERM; the wrapper swaps in its own."""
    from moto import server

    original = server.signal_handler
    try:
        assert moto_server.install_fast_exit()
        assert server.signal_handler is moto_server.exit_now
    finally:
        server.signal_handler = original


def test_fast_exit_flushes_what_was_written_and_exits_0(tmp_path: Path) -> None:
    """Output still in the buffers of a file-backed stdout is written before ``os._exit`` skips the teardown."""
    log = tmp_path / "moto.log"
    program = (
        "import sys; from fargate_harness.targets import moto_server; "
        "sys.stdout.write('last line before the signal'); moto_server.exit_now(15, None); print('not reached')"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a server's log is
    with open(log, "wb") as handle:
        code = subprocess.run(
            [sys.executable, "-c", program], stdout=handle, stderr=subprocess.STDOUT, env=env, check=False
        )
    assert code.returncode == 0, log.read_text()
    assert log.read_text() == "last line before the signal"


def test_a_file_system_policy_can_be_deleted_as_efs_answers() -> None:
    """In a child process, through boto3 and moto's own dispatch: DeleteFileSystemPolicy leaves the default
    policy (PolicyNotFound), and an unknown file system is FileSystemNotFound (EFS API Reference,
    DeleteFileSystemPolicy). Without the patch moto 5.2.5 answers 500 and a destroy hangs in the provider's
    retries."""
    script = (
        "import json\n"
        "import boto3, botocore.exceptions\n"
        "from moto import mock_aws\n"
        "from fargate_harness.targets import moto_server\n"
        "print(moto_server.install_patches())\n"
        "with mock_aws():\n"
        "    efs = boto3.client('efs', region_name='us-east-1')\n"
        "    fs = efs.create_file_system(CreationToken='t')['FileSystemId']\n"
        "    policy = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Deny', 'Principal': {'AWS': '*'},\n"
        "              'Action': '*', 'Condition': {'Bool': {'aws:SecureTransport': 'false'}}}]}\n"
        "    efs.put_file_system_policy(FileSystemId=fs, Policy=json.dumps(policy))\n"
        "    efs.delete_file_system_policy(FileSystemId=fs)\n"
        "    for call in (lambda: efs.describe_file_system_policy(FileSystemId=fs),\n"
        "                 lambda: efs.delete_file_system_policy(FileSystemId='fs-0000')):\n"
        "        try:\n"
        "            call()\n"
        "        except botocore.exceptions.ClientError as error:\n"
        "            print(error.response['Error']['Code'])\n"
    )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    added, *codes = out.stdout.splitlines()
    assert "moto.efs.responses.EFSResponse.delete_file_system_policy" in added
    assert codes == ["PolicyNotFound", "FileSystemNotFound"], out.stdout
