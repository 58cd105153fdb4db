"""The account guard: refuse to touch an account that is not on the allow-list.

On ``--target aws`` the guard is mandatory: the caller's account (``sts:GetCallerIdentity``) and the
registry account of cross-account scenarios must both be listed in ``--allowed-accounts`` /
``HARNESS_ALLOWED_ACCOUNTS``; an empty list refuses. On emulator targets it applies when a list is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from fargate_harness.errors import ConfigurationError
from fargate_harness.targets.base import Target

ACCOUNT_ID = re.compile(r"\d{12}")


class AccountNotAllowedError(ConfigurationError):
    """The target's account is not on the allow-list; the message names it and how to allow it."""


def parse_accounts(text: str | None) -> frozenset[str]:
    """``"111111111111, 222222222222"`` -> the set; a malformed id is a ConfigurationError."""
    accounts = {part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()}
    bad = sorted(a for a in accounts if not ACCOUNT_ID.fullmatch(a))
    if bad:
        raise ConfigurationError(
            f"--allowed-accounts / HARNESS_ALLOWED_ACCOUNTS has {', '.join(bad)}: give 12-digit account ids, "
            "comma-separated"
        )
    return frozenset(accounts)


def allowed_from_env(explicit: str | None = None) -> frozenset[str]:
    """The allow-list from the option, else ``HARNESS_ALLOWED_ACCOUNTS``."""
    return parse_accounts(explicit if explicit is not None else os.environ.get("HARNESS_ALLOWED_ACCOUNTS"))


def _refuse(kind: str, account: str, allowed: Iterable[str]) -> AccountNotAllowedError:
    listed = ", ".join(sorted(allowed)) or "empty"
    return AccountNotAllowedError(
        f"refusing to run: the {kind} account is {account}, which is not in the allow-list ({listed}). "
        f"If {account} is a sandbox account meant for these tests, allow it with "
        f"--allowed-accounts {account} or HARNESS_ALLOWED_ACCOUNTS={account} (comma-separate several)."
    )


def check_accounts(target: Target, allowed: frozenset[str], *, required: bool | None = None) -> list[str]:
    """Raise AccountNotAllowedError unless every account the target reaches is allowed; return them.

    ``required`` defaults to True on the ``aws`` target (where an empty list refuses) and False elsewhere
    (where an empty list means "no guard").
    """
    must = target.name == "aws" if required is None else required
    if not allowed and not must:
        return []
    primary = target.account_id()
    if primary not in allowed:
        raise _refuse("caller's", primary, allowed)
    checked = [primary]
    if target.registry_role_arn:
        registry = str(target.client("sts", account="registry").get_caller_identity()["Account"])
        if registry not in allowed:
            raise _refuse("registry", registry, allowed)
        checked.append(registry)
    return checked
