"""API Gateway REST proxy events in, proxy responses out.

The only place where an :class:`~handler.errors.ErrorCode` becomes an HTTP status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from handler.clients import Caller, caller_from_identity
from handler.errors import ErrorCode, PaymentError

# Seconds a client should wait after a 503. DynamoDB throttling clears within seconds
# (adaptive capacity); a longer hint would only slow honest retries.
RETRY_AFTER_SECONDS = 2

_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.CLIENT_NOT_AUTHORIZED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
}


class ApiRequest(NamedTuple):
    method: str
    route: str
    # Lower-cased header name -> every distinct value sent under any spelling of that name.
    headers: Mapping[str, tuple[str, ...]]
    body: str | None
    body_is_base64: bool
    # Who API Gateway authenticated (role session or client certificate); which registered
    # client that is depends on the deployment's mode (handler.clients.client_id_for).
    caller: Caller
    api_request_id: str | None
    # When API Gateway received the request (``requestContext.requestTimeEpoch``, ms since the
    # epoch): its 29 s integration timeout runs from then.
    received_at_ms: float | None = None


def parse_event(event: Mapping[str, Any]) -> ApiRequest:
    """Read the parts of a REST proxy event the API uses. Pure; tolerant of absent members."""
    context = _mapping(event.get("requestContext"))
    identity = _mapping(context.get("identity"))
    resource = _text(event.get("resource"))
    # `resource` is the route template without stage or custom-domain base path; a greedy
    # `{proxy+}` resource says nothing about the route, so fall back to the request path.
    route = resource if resource and "{" not in resource else _text(event.get("path"))
    body = event.get("body")
    return ApiRequest(
        method=_text(event.get("httpMethod")).upper(),
        route=_normalise_path(route),
        headers=_merge_headers(event.get("headers"), event.get("multiValueHeaders")),
        body=body if isinstance(body, str) else None,
        body_is_base64=event.get("isBase64Encoded") is True,
        caller=caller_from_identity(identity),
        api_request_id=_text(context.get("requestId"))[:128] or None,
        received_at_ms=_epoch_ms(context.get("requestTimeEpoch")),
    )


class ApiResponse(NamedTuple):
    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = {}


def error_response(error: PaymentError, request_id: str) -> ApiResponse:
    payload: dict[str, Any] = {
        "code": error.code.value,
        "message": error.message,
        "request_id": request_id,
    }
    if error.details:
        payload["details"] = [{"field": d.field, "issue": d.issue} for d in error.details]
    headers: dict[str, str] = {}
    if error.code is ErrorCode.SERVICE_UNAVAILABLE:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if error.allow:
        headers["Allow"] = ", ".join(error.allow)
    return ApiResponse(_STATUS[error.code], {"error": payload}, headers)


def to_proxy_response(response: ApiResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": {
            "Content-Type": "application/json",
            # Payment results are per-request facts; no cache between client and API may keep one.
            "Cache-Control": "no-store",
            **response.headers,
        },
        # ASCII-only output: a field name the client sent with a lone surrogate must still
        # serialise, and stays byte-identical to what was received.
        "body": json.dumps(response.body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _merge_headers(single: Any, multi: Any) -> dict[str, tuple[str, ...]]:
    merged: dict[str, list[str]] = {}

    def add(name: Any, value: Any) -> None:
        if isinstance(name, str) and isinstance(value, str):
            values = merged.setdefault(name.lower(), [])
            if value not in values:
                values.append(value)

    for name, values in _mapping(multi).items():
        for value in values if isinstance(values, list) else ():
            add(name, value)
    for name, value in _mapping(single).items():
        add(name, value)
    return {name: tuple(values) for name, values in merged.items()}


def _normalise_path(path: str) -> str:
    return "/" + path.strip("/") if path else "/"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _epoch_ms(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value > 0 and value == value else None  # NaN is not a time


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
