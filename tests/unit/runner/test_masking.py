"""Unit tests for fargate_harness.runner.masking: secret values never reach logs or error messages."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest

from fargate_harness.runner.masking import MASK, MIN_SECRET_LENGTH, Masker, MaskingFilter

SECRET = "hunter2-but-longer"


def test_masker_replaces_every_occurrence() -> None:
    """All occurrences of a registered value become ***."""
    masker = Masker([SECRET])
    assert masker(f"a={SECRET} b={SECRET}") == f"a={MASK} b={MASK}"


def test_masker_leaves_other_text_alone() -> None:
    """Text without secrets, and any text with an empty masker, is returned unchanged."""
    assert Masker([SECRET])("nothing to hide") == "nothing to hide"
    assert Masker()(f"value {SECRET}") == f"value {SECRET}"


def test_masker_masks_longest_first() -> None:
    """A secret that extends another is masked whole, leaving no tail behind."""
    masker = Masker(["password", "password123"])
    assert masker("password123 and password") == f"{MASK} and {MASK}"
    assert "123" not in masker("x password123 y")


def test_masker_masks_overlapping_values() -> None:
    """A value contained in another, and a value next to another, are both hidden."""
    masker = Masker(["abcdef", "cdef", "zzzz"])
    assert masker("abcdef cdef zzzzabcdef") == f"{MASK} {MASK} {MASK}{MASK}"


def test_masker_ignores_very_short_values() -> None:
    """Values shorter than MIN_SECRET_LENGTH would garble logs and are not registered."""
    short = "x" * (MIN_SECRET_LENGTH - 1)
    boundary = "y" * MIN_SECRET_LENGTH
    masker = Masker([short, "", boundary])
    assert masker(f"{short} {boundary}") == f"{short} {MASK}"


def test_masker_add_ignores_non_strings() -> None:
    """Non-string values (numbers, None) are skipped rather than crashing."""
    masker = Masker()
    masker.add(*cast(Any, [123456789, None]), "late-secret")
    assert masker("123456789 late-secret") == f"123456789 {MASK}"


def test_masker_add_registers_more_values_later() -> None:
    """Values added after construction are masked from then on."""
    masker = Masker([SECRET])
    masker.add("token-abcdef")
    assert masker(f"{SECRET} token-abcdef") == f"{MASK} {MASK}"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger writing formatted lines into a buffer through a MaskingFilter."""
    logger = logging.getLogger("test_core_masking")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.addFilter(MaskingFilter(Masker([SECRET])))
    yield logger, buffer
    logger.removeHandler(handler)
    logger.filters.clear()


def test_masking_filter_masks_a_record_with_args(logged: tuple[logging.Logger, io.StringIO]) -> None:
    """A secret passed as a %-argument is masked in the formatted line."""
    logger, buffer = logged
    logger.warning("retrying with token=%s for %s", SECRET, "bob")
    assert buffer.getvalue() == f"WARNING retrying with token={MASK} for bob\n"


def test_masking_filter_masks_a_secret_in_the_message_itself(logged: tuple[logging.Logger, io.StringIO]) -> None:
    """A secret already inside the message string is masked too."""
    logger, buffer = logged
    logger.info(f"value {SECRET}")
    assert SECRET not in buffer.getvalue()


def test_masking_filter_keeps_clean_records_untouched() -> None:
    """A record without secrets keeps its msg and args (so later handlers format as usual)."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s of %d", ("3", 4), None)
    assert MaskingFilter(Masker([SECRET])).filter(record) is True
    assert (record.msg, record.args) == ("%s of %d", ("3", 4))


def test_masking_filter_rewrites_a_masked_record() -> None:
    """A masked record carries the masked text and no args, so re-formatting cannot reveal the secret."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "secret=%s", (SECRET,), None)
    assert MaskingFilter(Masker([SECRET])).filter(record) is True
    assert record.msg == f"secret={MASK}"
    assert record.args is None
    assert record.getMessage() == f"secret={MASK}"
