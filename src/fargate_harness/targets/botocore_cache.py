"""botocore's JSON data files (service models, endpoints, paginators), parsed once per process.

Each botocore session has a loader of its own, and each loader parses again every file it is asked for. The
harness makes a session per set of credentials (the primary account, an isolated run's account, the registry
account through an assumed role, the warm-up's), and moto's server makes several at import (``ec2`` alone
asks three fresh sessions for its regions, and each reads the whole EC2 model to find its endpoint prefix).
Measured with py-spy: about 0.6 CPU-s of each emulator's start (2.1 -> 1.45 CPU-s to a warm server), and
about 0.5 CPU-s of a ``fargate-harness run`` of two scenarios, went to parsing files already parsed.

:func:`install` makes ``JSONFileLoader.load_file`` remember what it parsed, by path. The files are botocore's
installed data, which does not change while the process runs, and the parsed object is shared the way one
loader already shares it with every caller of that loader (botocore treats it as read-only; the extras it
merges into a service model set the same keys each time). A file that is not there is looked for again.
"""

from __future__ import annotations

import threading
from typing import Any

_INSTALLED = "_fargate_harness_parsed_once"


def install(loader_class: Any = None) -> bool:
    """Make ``loader_class.load_file`` (default: botocore's ``JSONFileLoader``) parse each file once; idempotent.
    False when that class has no such method (a later botocore): it then loads as it ships."""
    if loader_class is None:
        from botocore.loaders import JSONFileLoader

        loader_class = JSONFileLoader
    load_file = getattr(loader_class, "load_file", None)
    if not callable(load_file):
        return False
    if getattr(load_file, _INSTALLED, False):
        return True
    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def load_once(self: Any, file_path: str) -> Any:
        with lock:
            if file_path in parsed:
                return parsed[file_path]
        data = load_file(self, file_path)
        if data is not None:
            with lock:
                data = parsed.setdefault(file_path, data)
        return data

    setattr(load_once, _INSTALLED, True)
    loader_class.load_file = load_once
    return True
