"""Reads made without botocore's retries, because an error status is itself their answer, still ask again when
they get no answer at all (a dropped connection under the fault proxy crashed the startup preflight check)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from fargate_harness.preflight.collect import _asked_again_without_an_answer


def _failing(*failures: Exception) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def read() -> str:
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "rules"

    return calls, read


def _client_error(code: str, status: int) -> ClientError:
    response = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "DescribePullThroughCacheRules")


def test_a_dropped_connection_and_a_throttle_are_asked_again() -> None:
    dropped = ConnectionClosedError(endpoint_url="http://127.0.0.1:1/")
    calls, read = _failing(dropped, _client_error("ThrottlingException", 400))
    assert _asked_again_without_an_answer(read) == "rules" and len(calls) == 3


def test_an_answer_is_not_asked_again() -> None:
    """moto's 500 for an API it lacks is the answer the caller records as an emulator gap."""
    calls, read = _failing(_client_error("InternalFailure", 500))
    with pytest.raises(ClientError):
        _asked_again_without_an_answer(read)
    assert len(calls) == 1


def test_no_answer_three_times_is_raised() -> None:
    dropped = ConnectionClosedError(endpoint_url="http://127.0.0.1:1/")
    calls, read = _failing(dropped, dropped, dropped)
    with pytest.raises(ConnectionClosedError):
        _asked_again_without_an_answer(read)
    assert len(calls) == 3
