"""Errors raised by the IAM policy evaluator."""

from __future__ import annotations

from fargate_harness.errors import HarnessError


class IamError(HarnessError):
    """Base class of the errors raised by :mod:`fargate_harness.iam`."""


class PolicyError(IamError):
    """A policy document is malformed.

    The message names the policy (e.g. ``identity policy #0``) and the statement (Sid or index) and says
    what is wrong, e.g. ``identity policy #0, statement 'Read' (#1): Effect must be "Allow" or "Deny"``.
    """


class RequestError(IamError):
    """The request to evaluate is malformed: an action without a service prefix, an unknown principal form, etc."""
