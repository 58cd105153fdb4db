"""Principals: the caller of a request, and the Principal / NotPrincipal element of resource policies.

IAM JSON reference, "AWS JSON policy elements: Principal": an account is named by its id or
``arn:aws:iam::<id>:root`` and grants to the account (its identity policies must delegate); a role ARN names
the role and every session of it; an assumed-role session ARN names only that session; ``"*"`` and
``{"AWS": "*"}`` name everyone; service principals (``{"Service": "ecs-tasks.amazonaws.com"}``) name a service,
never a role. Wildcards other than a lone ``*`` are not supported in Principal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_ACCOUNT = re.compile(r"^\d{12}$")
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$")

SESSION = "session"
"""Matched as the exact assumed-role session ARN (not limited by a permissions boundary)."""
ENTITY = "entity"
"""Matched as the role or user ARN."""
WILDCARD = "wildcard"
"""Matched by ``*`` or ``{"AWS": "*"}`` (or by not being excluded by NotPrincipal)."""
ACCOUNT = "account"
"""Matched as the account (root ARN or account id): a delegation to the account's identity policies."""
SERVICE = "service"
"""Matched as a service principal."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal making the request."""

    arn: str
    kind: str
    account: str | None
    name: str | None = None
    session_arn: str | None = None
    service: str | None = None
    partition: str = "aws"

    @property
    def entity_arn(self) -> str | None:
        """The role or user ARN (for a session: the role ARN without path, as AWS reports aws:PrincipalArn)."""
        if self.kind == "assumed-role":
            return f"arn:{self.partition}:iam::{self.account}:role/{self.name}"
        if self.kind in ("role", "user"):
            return self.arn
        if self.kind == "root":
            return f"arn:{self.partition}:iam::{self.account}:root"
        return None

    @property
    def principal_type(self) -> str:
        """The aws:PrincipalType value."""
        return {"assumed-role": "AssumedRole", "role": "AssumedRole", "user": "User", "root": "Account"}.get(
            self.kind, "Service" if self.kind == "service" else "Unknown"
        )


def parse_caller(principal: str) -> Caller:
    """Parse a role, assumed-role session, user or root ARN, a 12-digit account id, or a service principal name.

    Raises ``ValueError`` for anything else.
    """
    text = principal.strip()
    if _ACCOUNT.match(text):
        return Caller(f"arn:aws:iam::{text}:root", "root", text)
    match = _ARN.match(text)
    if match is None:
        if not text.startswith("arn:") and "." in text and " " not in text:
            return Caller(text, "service", None, service=text.lower())
        raise ValueError(
            f"principal {principal!r} is not a role, assumed-role, user or root ARN, an account id or a service name"
        )
    partition, service, account, resource = (match.group(k) for k in ("partition", "service", "account", "resource"))
    if service == "iam" and resource == "root":
        return Caller(text, "root", account, partition=partition)
    kind, _, rest = resource.partition("/")
    if service == "iam" and kind in ("role", "user") and rest:
        return Caller(text, kind, account, name=rest.rsplit("/", 1)[-1], partition=partition)
    if service == "sts" and kind == "assumed-role" and rest.count("/") >= 1:
        role_name = rest.split("/", 1)[0]
        return Caller(text, "assumed-role", account, name=role_name, session_arn=text, partition=partition)
    raise ValueError(f"principal {principal!r}: unsupported ARN resource {resource!r}")


class PrincipalSpec:
    """A compiled Principal or NotPrincipal element."""

    __slots__ = ("_entities", "_everyone", "_sessions", "accounts", "negated", "services")

    def __init__(self, element: Any, *, negated: bool) -> None:
        """Compile ``element``. Raises ``ValueError`` naming what is malformed."""
        self.negated = negated
        self._everyone = False
        self.accounts: set[str] = set()
        self._entities: set[tuple[str, str, str]] = set()
        self._sessions: set[str] = set()
        self.services: set[str] = set()
        if element == "*":
            self._everyone = True
            return
        if not isinstance(element, Mapping) or not element:
            raise ValueError('Principal must be "*" or an object such as {"AWS": [...]} or {"Service": [...]}')
        for kind, values in element.items():
            items = values if isinstance(values, list) else [values]
            if not all(isinstance(item, str) for item in items):
                raise ValueError(f"Principal {kind!r} values must be strings")
            if kind == "AWS":
                for item in items:
                    self._add_aws(item)
            elif kind == "Service":
                self.services.update(item.lower() for item in items)
            elif kind not in ("Federated", "CanonicalUser"):
                raise ValueError(f"unknown Principal type {kind!r} (use AWS, Service, Federated or CanonicalUser)")

    def _add_aws(self, item: str) -> None:
        if item == "*":
            self._everyone = True
            return
        if _ACCOUNT.match(item):
            self.accounts.add(item)
            return
        match = _ARN.match(item)
        if match is None:
            raise ValueError(f"Principal AWS value {item!r} is not an account id or an IAM/STS ARN")
        account, resource = match.group("account"), match.group("resource")
        kind, _, rest = resource.partition("/")
        if match.group("service") == "iam" and resource == "root":
            self.accounts.add(account)
        elif kind in ("role", "user") and rest:
            self._entities.add((kind, account, rest.rsplit("/", 1)[-1]))
        elif kind == "assumed-role":
            self._sessions.add(item)
        else:
            raise ValueError(f"Principal AWS value {item!r}: unsupported ARN resource {resource!r}")

    def _identities(self, caller: Caller) -> list[str | None]:
        """Level of each identity the caller presents (account, role/user, session): None when not named."""
        if caller.kind == "service":
            return [SERVICE if self._everyone or caller.service in self.services else None]
        levels: list[str | None] = [ACCOUNT if self._everyone or caller.account in self.accounts else None]
        if caller.kind in ("role", "user", "assumed-role"):
            entity_kind = "user" if caller.kind == "user" else "role"
            named = (entity_kind, caller.account or "", caller.name or "") in self._entities
            levels.append(ENTITY if self._everyone or named else None)
        if caller.session_arn is not None:
            levels.append(SESSION if self._everyone or caller.session_arn in self._sessions else None)
        return levels

    def level(self, caller: Caller) -> str | None:
        """How the element names ``caller``: the most specific level that matches, or ``None``.

        For NotPrincipal the caller is excluded only when every identity it presents (account, role or user,
        session) is listed, as the NotPrincipal documentation's examples require; otherwise the statement applies
        to it as if by wildcard.
        """
        if self.negated:
            return None if all(level is not None for level in self._identities(caller)) else WILDCARD
        if caller.kind == "service":
            return SERVICE if self._everyone or caller.service in self.services else None
        if self._everyone:
            return WILDCARD
        level: str | None = None
        entity_kind = "user" if caller.kind == "user" else "role"
        if caller.session_arn is not None and caller.session_arn in self._sessions:
            level = SESSION
        elif caller.kind != "root" and (entity_kind, caller.account or "", caller.name or "") in self._entities:
            level = ENTITY
        elif caller.account in self.accounts:
            level = ACCOUNT
        return level
