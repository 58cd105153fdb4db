"""moto's HTTP server, started by the embedded target, with two per-request costs and one per-account cost of
moto 5 cached.

Measured with py-spy on the preflight benchmark (moto 5.2.5), about a quarter of the server's CPU per
request went to two answers that cannot change while the server runs:

- ``moto.backends.list_of_moto_modules`` lists moto's package folder and stats every entry on every request
  (the dispatcher asks it to recognise a service from the host name): 20% of the server's busy time;
- ``moto.core.utils.method_names_from_class`` walks a response class with ``inspect.getmembers`` on every
  request to see whether the action is one of its methods: 5%.

Both depend only on the installed moto (its folder, its classes), so they are computed once. A third cost is
per account, not per request: every account moto creates an IAM backend for (an isolated run's fresh account,
the registry account, the spare accounts the target warms) parses moto's file of about 1,300 AWS managed
policies again (``json.loads`` of several MB) and dumps each document back to text; measured with py-spy on
a ``preflight --dir`` of a fixed-name configuration, that was 85% of the server's CPU. The parsed rows (name,
version, path, document text, dates: all immutable) are kept, and each new account still gets policy objects
of its own, built with the same arguments moto's ``AWSManagedPolicy.from_data`` passes. werkzeug's
line per request (``"POST / HTTP/1.1" 200``, which names neither the service nor the action) cost another
6% and is not written; werkzeug's warnings and errors still are. botocore's data files, which moto reads
through several sessions of its own at import, are parsed once (:mod:`~targets.botocore_cache`: about 0.6 of
the 2.1 CPU-s a server took to start and warm up). Everything else is moto's own
``moto.server`` command line (the same arguments). When a later moto renames either
function, that cache is skipped and the server runs as moto ships it.

On SIGTERM or SIGINT moto's handler calls ``sys.exit``, and the interpreter then tears down every object the
emulator holds before it exits: 0.7 s after the warm-up, about 0.9 s after a run of the six scenarios, paid
by every ``fargate-harness run`` and every test session before it can finish. The emulator keeps nothing
but memory, so the handler here flushes the log streams and leaves with ``os._exit``.

Run as ``python -m fargate_harness.targets.moto_server -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any


def _cache_module_list(list_modules: Callable[[], Iterable[str]]) -> Callable[[], tuple[str, ...]]:
    """``list_modules``'s answer, read once (a tuple, so no caller can change it for the others)."""
    modules = tuple(list_modules())
    return lambda: modules


def _cache_per_class(method_names: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    """``method_names`` remembered per class; each caller gets its own copy of the list."""
    remembered = functools.cache(lambda clazz: tuple(method_names(clazz)))
    return lambda clazz: list(remembered(clazz))


def _managed_policy_rows(data: str) -> list[tuple[str, dict[str, Any]]]:
    """moto's managed policy file as (name, constructor arguments) pairs, parsed once: what
    ``AWSManagedPolicy.from_data`` passes, with the document already dumped."""
    rows = []
    for name, item in json.loads(data).items():
        arguments = {
            "default_version_id": item.get("DefaultVersionId"),
            "path": item.get("Path"),
            "document": json.dumps(item.get("Document")),
            "create_date": datetime.fromisoformat(item["CreateDate"]),
            "update_date": datetime.fromisoformat(item["UpdateDate"]),
        }
        rows.append((name, arguments))
    return rows


def _cache_managed_policies(models: Any) -> bool:
    """Give ``IAMBackend._init_aws_policies`` the rows parsed once (see the module docstring); False when this
    moto does not build them the way this replacement assumes."""
    needed = ("IAMBackend", "AWSManagedPolicy", "aws_managed_policies_data", "load_iam_aws_managed_policies")
    if not all(hasattr(models, name) for name in needed) or not callable(
        getattr(models.IAMBackend, "_init_aws_policies", None)
    ):
        return False
    rows = _managed_policy_rows(models.aws_managed_policies_data)

    def init_aws_policies(backend: Any) -> list[Any]:
        if not models.load_iam_aws_managed_policies():
            return []
        return [
            models.AWSManagedPolicy(name, account_id=backend.account_id, region=backend.region_name, **arguments)
            for name, arguments in rows
        ]

    models.IAMBackend._init_aws_policies = init_aws_policies
    return True


def _add_delete_file_system_policy(responses: Any, exceptions: Any) -> bool:
    """Teach moto's EFS to delete a file system policy; False when this moto has no EFS responses to extend or
    already answers it.

    moto 5.2.5 stores a policy (PutFileSystemPolicy) but has no DeleteFileSystemPolicy: it answers HTTP 500,
    which the AWS provider retries for many minutes before a destroy of ``aws_efs_file_system_policy`` fails
    (a run of a configuration with one hung in its destroy). The EFS API Reference, DeleteFileSystemPolicy:
    ``DELETE /2015-02-01/file-systems/{FileSystemId}/policy`` answers 200 with an empty body; after it the file
    system has the default policy (DescribeFileSystemPolicy: PolicyNotFound); an unknown id is
    FileSystemNotFound (404)."""
    response_class = getattr(responses, "EFSResponse", None)
    not_found = getattr(exceptions, "FileSystemNotFound", None)
    if response_class is None or not_found is None or hasattr(response_class, "delete_file_system_policy"):
        return False

    def delete_file_system_policy(self: Any) -> tuple[str, dict[str, str]]:
        file_system_id = self._get_param("FileSystemId")
        file_system = self.efs_backend.file_systems_by_id.get(file_system_id)
        if file_system is None:
            raise not_found(file_system_id)
        file_system.file_system_policy = None
        return "{}", {"Content-Type": "application/json"}

    response_class.delete_file_system_policy = delete_file_system_policy
    return True


def install_patches() -> list[str]:
    """Replace the functions in the modules that call them, and add the one answer moto lacks that a destroy
    needs (:func:`_add_delete_file_system_policy`); returns the names of those replaced or added."""
    from moto import backends
    from moto.core import responses
    from moto.iam import models

    from fargate_harness.targets import botocore_cache

    installed = []
    if botocore_cache.install():
        installed.append("botocore.loaders.JSONFileLoader.load_file")
    if callable(getattr(backends, "list_of_moto_modules", None)):
        backends.list_of_moto_modules = _cache_module_list(backends.list_of_moto_modules)
        installed.append("moto.backends.list_of_moto_modules")
    if callable(getattr(responses, "method_names_from_class", None)):
        responses.method_names_from_class = _cache_per_class(responses.method_names_from_class)  # type: ignore[attr-defined,assignment]
        installed.append("moto.core.responses.method_names_from_class")
    if _cache_managed_policies(models):
        installed.append("moto.iam.models.IAMBackend._init_aws_policies")
    from moto.efs import exceptions as efs_exceptions
    from moto.efs import responses as efs_responses

    if _add_delete_file_system_policy(efs_responses, efs_exceptions):
        installed.append("moto.efs.responses.EFSResponse.delete_file_system_policy")
    return installed


def exit_now(signum: int, frame: object) -> None:
    """Leave at once, with the log streams flushed (see the module's docstring)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream takes nothing more
            stream.flush()
    os._exit(0)


def install_fast_exit() -> bool:
    """Make :func:`exit_now` the handler moto's ``main`` installs for SIGINT and SIGTERM; False when this moto
    has no such handler (it then exits as it ships)."""
    from moto import server

    if not callable(getattr(server, "signal_handler", None)):
        return False
    server.signal_handler = exit_now
    return True


def main() -> None:
    """Install the patches, then run moto's server with this process's arguments."""
    install_patches()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    install_fast_exit()
    from moto.server import main as moto_main

    sys.argv[0] = "moto_server"
    moto_main()


if __name__ == "__main__":
    main()
