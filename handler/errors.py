"""The one domain error type of the payment API.

Every layer (parsing, validation, storage) raises :class:`PaymentError` with an
:class:`ErrorCode`; only :mod:`handler.http` turns a code into an HTTP status and headers,
so the mapping lives in exactly one place.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class ErrorCode(enum.StrEnum):
    INVALID_JSON = "INVALID_JSON"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    CLIENT_NOT_AUTHORIZED = "CLIENT_NOT_AUTHORIZED"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class FieldIssue(NamedTuple):
    """One failing field of a request: what the client sent wrong, never what we did."""

    field: str
    issue: str


class PaymentError(Exception):
    """A request that cannot be served, described in terms the client may see."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        details: tuple[FieldIssue, ...] = (),
        allow: tuple[str, ...] = (),
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        # Only meaningful for METHOD_NOT_ALLOWED: the methods the route does accept.
        self.allow = allow
        # What went wrong underneath (e.g. the AWS error code): logged, never sent to the client.
        self.reason = reason
