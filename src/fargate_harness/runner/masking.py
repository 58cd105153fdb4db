"""Keep secret values out of everything the harness writes or raises."""

from __future__ import annotations

import logging
from collections.abc import Iterable

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
