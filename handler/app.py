"""The payment API (CONTRACT §2): ``POST /process`` and ``GET /health`` behind API Gateway.

Entry point: ``handler.app.lambda_handler``. Clients and settings are built once per
execution environment, at module load (Lambda's init phase), and reused by every request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from handler.clients import client_id_for
from handler.config import (
    API_GATEWAY_TIMEOUT_S,
    RESPONSE_MARGIN_S,
    InitOnce,
    ProcessorSettings,
    dynamodb_client,
    settle_client,
)
from handler.errors import ErrorCode, PaymentError
from handler.http import ApiRequest, ApiResponse, error_response, parse_event, to_proxy_response
from handler.observability import get_logger, metric_fields
from handler.payments import is_own_write, new_payment, payment_body, same_request
from handler.sdk_features import DYNAMODB_FEATURES, require_features
from handler.storage import HealthCheck, PaymentStore
from handler.validation import parse_payment_request

logger = get_logger("payment.api")


class Runtime(NamedTuple):
    """What one execution environment builds once and every request shares."""

    settings: ProcessorSettings
    store: PaymentStore
    health: HealthCheck

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Runtime:
        settings = ProcessorSettings.from_environ(environ)
        store = PaymentStore(
            dynamodb_client(settings.region),
            settings.table_name,
            settle_client=lambda: settle_client(settings.region),
        )
        require_features(store.client, DYNAMODB_FEATURES, logger)
        return cls(settings, store, HealthCheck(store))


_runtime = InitOnce(lambda: Runtime.from_environ(os.environ))
runtime = _runtime.get
reset_runtime = _runtime.reset


class Result(NamedTuple):
    response: ApiResponse
    payment_id: str | None = None
    # For metrics: accepted | replayed | rejected | failed; None when not about a payment.
    outcome: str | None = None
    error: PaymentError | None = None
    client_id: str | None = None


class Call(NamedTuple):
    """What a route needs to know about the invocation besides the request."""

    request_id: str
    # time.monotonic() value by which the answer must be on its way back to API Gateway.
    deadline: float


def process(request: ApiRequest, current: Runtime, call: Call) -> Result:
    # Who first: API Gateway has already refused unsigned or unknown callers, so a request
    # without a registered client's identity here means a misconfigured API (or the default
    # endpoint in mTLS mode, which carries no certificate). It learns nothing about validation.
    client_id = client_id_for(request.caller, current.settings.client_auth)
    if client_id is None:
        raise PaymentError(
            ErrorCode.CLIENT_NOT_AUTHORIZED, "the request does not come from a registered client"
        )
    # Validation next and without I/O: a rejected request touches nothing.
    payment_request = parse_payment_request(request)
    payment = new_payment(
        payment_request,
        client_id=client_id,
        request_id=call.request_id,
        now=datetime.now(UTC),
    )
    stored = current.store.insert(payment.item, call.deadline)
    if stored is None:
        return Result(
            ApiResponse(201, payment.body), payment.payment_id, "accepted", client_id=client_id
        )
    if not same_request(payment, stored):
        error = PaymentError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was already used with a different request",
        )
        # Built here rather than raised: the log line should name the payment it collided with.
        return Result(
            error_response(error, call.request_id),
            payment.payment_id,
            "rejected",
            error,
            client_id,
        )
    if is_own_write(payment, stored):
        return Result(
            ApiResponse(201, payment_body(stored)),
            payment.payment_id,
            "accepted",
            client_id=client_id,
        )
    return Result(
        ApiResponse(200, payment_body(stored), {"Idempotent-Replayed": "true"}),
        payment.payment_id,
        "replayed",
        client_id=client_id,
    )


def health(request: ApiRequest, current: Runtime, call: Call) -> Result:
    if not current.health.healthy():
        raise PaymentError(ErrorCode.SERVICE_UNAVAILABLE, "the payment store is not reachable")
    return Result(ApiResponse(200, {"status": "ok", "region": current.settings.region}))


Route = Callable[[ApiRequest, Runtime, Call], Result]

ROUTES: dict[str, dict[str, Route]] = {
    "/process": {"POST": process},
    "/health": {"GET": health},
}


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    request = parse_event(event if isinstance(event, Mapping) else {})
    call = Call(_request_id(request, context), deadline(request, context))
    request_id = call.request_id
    try:
        route = _dispatch(request)
        result = route(request, runtime(), call)
    except PaymentError as exc:
        result = _error_result(request, exc, request_id)
    except Exception as exc:
        # Includes ConfigurationError: the client learns only that it was our fault and which
        # request it was; the traceback goes to the log.
        logger.exception(
            "unhandled error",
            extra={"fields": {"request_id": request_id, "error_type": type(exc).__name__}},
        )
        error = PaymentError(
            ErrorCode.INTERNAL_ERROR,
            "an unexpected error occurred; quote the request_id when reporting it",
            reason=type(exc).__name__,
        )
        result = _error_result(request, error, request_id)
    _log_request(request, result, call, context, started)
    return to_proxy_response(result.response)


def _request_id(request: ApiRequest, context: Any) -> str:
    """One request, one id: API Gateway's request id (``$context.requestId``), which it also
    sends to the client as ``x-amzn-RequestId`` and writes into its own error responses and
    access log. Lambda's invocation id serves only direct invocations without API Gateway."""
    return (
        request.api_request_id or getattr(context, "aws_request_id", None) or os.urandom(16).hex()
    )


def deadline(
    request: ApiRequest,
    context: Any,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> float:
    """When the answer must leave, as a ``monotonic`` value: API Gateway's 29 s counted from
    when it received the request (``requestTimeEpoch``; a cold start has already used some),
    never later than 29 s from now nor than the Lambda timeout, less a margin for the way out.
    """
    now = monotonic()
    candidates = [now + API_GATEWAY_TIMEOUT_S]
    if request.received_at_ms is not None:
        elapsed = wall_clock() - request.received_at_ms / 1000
        candidates.append(now - max(0.0, elapsed) + API_GATEWAY_TIMEOUT_S)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        candidates.append(now + remaining() / 1000)
    return min(candidates) - RESPONSE_MARGIN_S


def _dispatch(request: ApiRequest) -> Route:
    methods = ROUTES.get(request.route)
    if methods is None:
        raise PaymentError(ErrorCode.NOT_FOUND, "no such route")
    route = methods.get(request.method)
    if route is None:
        allowed = tuple(methods)
        raise PaymentError(
            ErrorCode.METHOD_NOT_ALLOWED,
            f"{request.route} accepts {', '.join(allowed)} only",
            allow=allowed,
        )
    return route


def _error_result(request: ApiRequest, error: PaymentError, request_id: str) -> Result:
    response = error_response(error, request_id)
    outcome = None
    if request.route == "/process" and request.method == "POST":
        outcome = "failed" if response.status >= 500 else "rejected"
    return Result(response, outcome=outcome, error=error)


_METRIC_NAMES = {
    "accepted": "PaymentAccepted",
    "replayed": "PaymentReplayed",
    "rejected": "PaymentRejected",
    "failed": "PaymentFailed",
}


def _log_request(
    request: ApiRequest,
    result: Result,
    call: Call,
    context: Any,
    started: float,
) -> None:
    """The one line per request: who, what route, how it ended, how long. No body, no keys."""
    fields: dict[str, Any] = {
        # The id the client holds (body and x-amzn-RequestId) and API Gateway's access log has.
        "request_id": call.request_id,
        # The id in Lambda's own START/END/REPORT lines for the same invocation.
        "lambda_request_id": getattr(context, "aws_request_id", None),
        "route": f"{request.method} {request.route[:128]}",
        "status": result.response.status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "payment_id": result.payment_id,
        "outcome": result.outcome,
        "client_id": result.client_id,
    }
    error = result.error
    if error is not None:
        fields["error_code"] = error.code.value
        if error.reason:
            fields["error_reason"] = error.reason
        if error.details:
            fields["invalid_fields"] = [d.field[:64] for d in error.details[:20]]
    if result.outcome is not None:
        dimensions = {"Environment": _environment()}
        if error is not None:
            dimensions["Reason"] = error.code.value
        fields.update(metric_fields({_METRIC_NAMES[result.outcome]: 1}, dimensions))
    logger.info("request", extra={"fields": fields})


def _environment() -> str:
    current = _runtime.peek()
    return current.settings.environment_suffix if current is not None else "unconfigured"


# Build clients during Lambda's init phase rather than on the first request.
_runtime.warm(logger)
