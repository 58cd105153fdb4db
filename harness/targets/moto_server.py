"""moto's HTTP server, started by the embedded target, with two per-request costs of moto 5 cached.

Measured with py-spy on the preflight benchmark (moto 5.2.5), about a quarter of the server's CPU per
request went to two answers that cannot change while the server runs:

- ``moto.backends.list_of_moto_modules`` lists moto's package folder and stats every entry on every request
  (the dispatcher asks it to recognise a service from the host name): 20% of the server's busy time;
- ``moto.core.utils.method_names_from_class`` walks a response class with ``inspect.getmembers`` on every
  request to see whether the action is one of its methods: 5%.

Both depend only on the installed moto (its folder, its classes), so they are computed once. werkzeug's
line per request (``"POST / HTTP/1.1" 200``, which names neither the service nor the action) cost another
6% and is not written; werkzeug's warnings and errors still are. Everything else is moto's own
``moto.server`` command line (the same arguments). When a later moto renames either
function, that cache is skipped and the server runs as moto ships it.

Run as ``python -m harness.targets.moto_server -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterable


def _cache_module_list(list_modules: Callable[[], Iterable[str]]) -> Callable[[], tuple[str, ...]]:
    """``list_modules``'s answer, read once (a tuple, so no caller can change it for the others)."""
    modules = tuple(list_modules())
    return lambda: modules


def _cache_per_class(method_names: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    """``method_names`` remembered per class; each caller gets its own copy of the list."""
    remembered = functools.cache(lambda clazz: tuple(method_names(clazz)))
    return lambda clazz: list(remembered(clazz))


def install_caches() -> list[str]:
    """Replace the two functions in the modules that call them; returns the names of those replaced."""
    from moto import backends
    from moto.core import responses

    installed = []
    if callable(getattr(backends, "list_of_moto_modules", None)):
        backends.list_of_moto_modules = _cache_module_list(backends.list_of_moto_modules)
        installed.append("moto.backends.list_of_moto_modules")
    if callable(getattr(responses, "method_names_from_class", None)):
        responses.method_names_from_class = _cache_per_class(responses.method_names_from_class)  # type: ignore[attr-defined,assignment]
        installed.append("moto.core.responses.method_names_from_class")
    return installed


def main() -> None:
    """Install the caches, then run moto's server with this process's arguments."""
    install_caches()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import main as moto_main

    sys.argv[0] = "moto_server"
    moto_main()


if __name__ == "__main__":
    main()
