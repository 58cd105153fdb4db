"""ARNs: the one parser every part of the harness reads them with.

``arn:partition:service:region:account-id:resource`` (IAM User Guide, "IAM identifiers" and the AWS General
Reference, "Amazon Resource Names"): the resource part may itself hold colons and slashes
(``secret:name-AbCdEf:json-key::``, ``log-group:/ecs/app:*``), so only the first five colons separate fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fargate_harness.errors import ConfigurationError

_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Arn:
    """One parsed ARN; ``region`` and ``account`` are "" for global services and S3 buckets."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: str | None) -> Arn | None:
        """The ARN ``text`` holds, or None when it is not one (a name, an empty string, None)."""
        parts = (text or "").split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
            return None
        return cls(parts[1], parts[2], parts[3], parts[4], parts[5])

    @classmethod
    def of_option(cls, text: str, option: str, *, service: str | None = None, kind: str | None = None) -> Arn:
        """The ARN an option names, or a ConfigurationError naming the option, the value and the form expected
        (``service``/``kind``: the service and resource type it must be, such as ``iam`` and ``role``)."""
        arn = None if re.search(r"\s", text) else cls.parse(text)
        form = f"arn:aws:{service or '<service>'}::<12-digit account>:{kind or '<resource>'}/<name>"
        if (
            arn is None
            or (service is not None and arn.service != service)
            or (kind is not None and (arn.resource_type != kind or not arn.resource_id))
            or (arn.service in ("iam", "sts") and not _ACCOUNT.fullmatch(arn.account))
        ):
            raise ConfigurationError(f"{option} is {text!r}, which is not an ARN of the form {form}")
        return arn

    @property
    def resource_type(self) -> str:
        """The resource's type (``role``, ``secret``, ``parameter``, ``log-group``...), "" where there is none
        (S3 buckets)."""
        match = re.match(r"([^/:]+)[/:]", self.resource)
        return match.group(1) if match else ""

    @property
    def resource_id(self) -> str:
        """The resource part after its type (``name-AbCdEf:json-key::`` of a secret), else the whole part."""
        kind = self.resource_type
        return self.resource[len(kind) + 1 :] if kind else self.resource

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def account_of(text: str | None) -> str | None:
    """The account id of an ARN (None for ARNs without one, such as S3 buckets, and for non-ARNs)."""
    arn = Arn.parse(text)
    return arn.account or None if arn else None


def region_of(text: str | None) -> str | None:
    """The region of an ARN (None for global services and for non-ARNs)."""
    arn = Arn.parse(text)
    return arn.region or None if arn else None
