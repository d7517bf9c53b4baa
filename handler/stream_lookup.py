"""``Custom::TableStream``: the stream ARN of this region's replica of the payments table.

Why a custom resource: in a replica region the table is created by the primary region's global
table, and its stream is named by the time that happened (``…/stream/<timestamp>``). No template
in the replica region can know it, yet the audit writer's event source mapping there needs it.
The template declares ``Custom::TableStream`` (Properties: ``ServiceToken``, ``TableName``) and
reads ``GetAtt <resource>.StreamArn``.

Entry point: ``handler.stream_lookup.lambda_handler``, invoked by CloudFormation. The answer is
not the return value but an HTTPS PUT of a JSON document to the request's presigned
``ResponseURL``; a request that is never answered holds the stack for an hour. So every path,
an unexpected exception included, ends in that PUT, and the PUT fits inside the Lambda timeout.

Reads from the event: ``RequestType``, ``ResponseURL``, ``StackId``, ``RequestId``,
``LogicalResourceId``, ``PhysicalResourceId`` (Update, Delete) and
``ResourceProperties.TableName``. Answers:

* Create, Update: ``DescribeTable`` in the function's own region; SUCCESS with
  ``PhysicalResourceId`` and ``Data.StreamArn`` = the replica's ``LatestStreamArn``, or FAILED
  naming the table and region when there is no such table or it has no enabled stream.
* Delete: nothing exists outside CloudFormation; SUCCESS with the request's physical id.

The ResponseURL is a credential (anyone holding it may answer for the stack) and is never
logged, nor is the event.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from handler.config import InitOnce, TableStreamSettings, dynamodb_client
from handler.observability import get_logger

logger = get_logger("payment.table_stream")

SUCCESS = "SUCCESS"
FAILED = "FAILED"

# Delivering the answer. S3 takes a small PUT in well under a second; 5 s without an answer is
# a sick connection, and the next attempt gets a new one. Worst case 4 x 5 s + 3.5 s = 23.5 s,
# after at most 12 s of DescribeTable (DYNAMODB_CLIENT_CONFIG): inside the 60 s Lambda timeout.
RESPONSE_ATTEMPTS = 4
RESPONSE_TIMEOUT_S = 5.0
RESPONSE_BACKOFF_S = (0.5, 1.0, 2.0)  # before attempts 2, 3 and 4
RESPONSE_WORST_CASE_S = RESPONSE_ATTEMPTS * RESPONSE_TIMEOUT_S + sum(RESPONSE_BACKOFF_S)
# Time kept back from the Lambda deadline for the log line after the last attempt.
DEADLINE_MARGIN_S = 1.0
# CloudFormation refuses a response body over 4096 bytes; a long reason must not cost the answer.
MAX_REASON_CHARS = 1000
# CloudFormation always sends https; http serves local emulators and tests. Nothing else
# (file:, ftp:) is a place to send an answer to.
_RESPONSE_SCHEMES = ("https", "http")


class StreamLookupRuntime(NamedTuple):
    settings: TableStreamSettings
    dynamodb: Any

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> StreamLookupRuntime:
        settings = TableStreamSettings.from_environ(environ)
        return cls(settings, dynamodb_client(settings.region))


_runtime = InitOnce(lambda: StreamLookupRuntime.from_environ(os.environ))
runtime = _runtime.get
reset_runtime = _runtime.reset


class LookupFailed(Exception):
    """A request answered FAILED; the message is the reason the stack's events will show."""


class ResponseNotDelivered(Exception):
    """CloudFormation could not be told. Failing the invocation makes Lambda's asynchronous
    retries try again (the lookup is idempotent) and, in the end, the dead-letter queue."""


class Answer(NamedTuple):
    status: str
    physical_id: str
    reason: str
    data: dict[str, str]


class Delivery(NamedTuple):
    delivered: bool
    attempts: int
    error: str | None = None


def answer_request(request: Mapping[str, Any]) -> Answer:
    """What to tell CloudFormation. Raises LookupFailed (an expected refusal) or anything else
    (unexpected; the caller answers FAILED all the same)."""
    request_type = request.get("RequestType")
    if request_type == "Delete":
        # The stream belongs to the table; this resource only named it.
        return Answer(SUCCESS, _known_physical_id(request), "nothing to delete", {})
    if request_type not in ("Create", "Update"):
        raise LookupFailed(f"unsupported RequestType {str(request_type)[:32]!r}")
    table_name = _table_name(request)
    current = runtime()
    stream_arn = latest_stream_arn(current.dynamodb, table_name, current.settings.region)
    reason = f"stream of table {table_name} in {current.settings.region}"
    return Answer(SUCCESS, stream_arn, reason, {"StreamArn": stream_arn})


def latest_stream_arn(dynamodb: Any, table_name: str, region: str) -> str:
    """The enabled stream of the table's replica in ``region``; raises LookupFailed."""
    try:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise LookupFailed(
                f"table {table_name} has no replica in {region} yet: "
                "deploy the primary region first"
            ) from None
        raise
    # A disabled stream keeps its LatestStreamArn for 24 hours; a mapping on it would read
    # nothing new, so only an enabled stream counts.
    enabled = (table.get("StreamSpecification") or {}).get("StreamEnabled") is True
    stream_arn = table.get("LatestStreamArn")
    if not enabled or not isinstance(stream_arn, str) or not stream_arn:
        raise LookupFailed(
            f"table {table_name} in {region} has no enabled stream: "
            "the audit writer needs StreamSpecification NEW_AND_OLD_IMAGES"
        )
    return stream_arn


def response_body(request: Mapping[str, Any], answer: Answer) -> dict[str, Any]:
    """The document CloudFormation reads: the request's identifiers copied back verbatim."""
    return {
        "Status": answer.status,
        "Reason": answer.reason[:MAX_REASON_CHARS],
        "PhysicalResourceId": answer.physical_id,
        "StackId": request.get("StackId"),
        "RequestId": request.get("RequestId"),
        "LogicalResourceId": request.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": answer.data,
    }


def deliver(
    url: Any,
    body: Mapping[str, Any],
    deadline: float | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    """PUT the answer to the presigned URL; retries connection errors and 5xx, bounded by
    RESPONSE_ATTEMPTS and by ``deadline`` (a ``clock`` value). Never raises, and the error it
    reports never contains the URL."""
    if _scheme(url) not in _RESPONSE_SCHEMES:
        return Delivery(False, 0, "the request has no usable ResponseURL")
    data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    # An empty Content-Type: the URL was signed without one, and urllib would otherwise add
    # application/x-www-form-urlencoded, which S3 would hold against the signature.
    headers = {"Content-Type": "", "Content-Length": str(len(data))}
    error: str | None = None
    for attempt in range(1, RESPONSE_ATTEMPTS + 1):
        timeout = RESPONSE_TIMEOUT_S
        if deadline is not None:
            timeout = min(timeout, deadline - clock())
            if timeout <= 0:
                return Delivery(False, attempt - 1, f"out of time ({error or 'no attempt'})")
        request = urllib.request.Request(url, data=data, headers=headers, method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return Delivery(True, attempt)
        except urllib.error.HTTPError as exc:
            exc.close()
            error = f"HTTP {exc.code}"
            if exc.code < 500:
                # 403 is an expired or altered signature: asking again cannot change it.
                return Delivery(False, attempt, error)
        except (http.client.InvalidURL, ValueError) as exc:
            # A URL that cannot even be sent to (bad port, control characters, broken IPv6
            # literal): no retry will fix it. InvalidURL is an HTTPException, so it must be
            # caught before the retried transport errors below.
            return Delivery(False, attempt, type(exc).__name__)
        except (OSError, http.client.HTTPException) as exc:
            # Connection refused or reset, DNS, TLS, timeouts (URLError is an OSError).
            error = type(exc).__name__
        if attempt < RESPONSE_ATTEMPTS:
            sleep(RESPONSE_BACKOFF_S[attempt - 1])
    return Delivery(False, RESPONSE_ATTEMPTS, error)


def _scheme(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        return urllib.parse.urlsplit(url).scheme
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    request: Mapping[str, Any] = event if isinstance(event, Mapping) else {}
    unexpected: Exception | None = None
    try:
        answer = answer_request(request)
    except LookupFailed as exc:
        answer = Answer(FAILED, _known_physical_id(request), str(exc), {})
    except Exception as exc:
        # Whatever it was, CloudFormation must hear of it now rather than in an hour.
        unexpected = exc
        reason = _short(exc, request.get("ResponseURL"))
        answer = Answer(FAILED, _known_physical_id(request), reason, {})
    body = response_body(request, answer)
    delivery = deliver(request.get("ResponseURL"), body, _deadline(context))
    _log(request, answer, delivery, context, started, unexpected)
    if not delivery.delivered:
        raise ResponseNotDelivered(f"the response could not be delivered: {delivery.error}")
    return body


def _table_name(request: Mapping[str, Any]) -> str:
    name = _table_property(request)
    if name is None or not name.strip():
        raise LookupFailed("the TableName property is missing or blank")
    return name.strip()


def _table_property(request: Mapping[str, Any]) -> str | None:
    properties = request.get("ResourceProperties")
    name = properties.get("TableName") if isinstance(properties, Mapping) else None
    return name if isinstance(name, str) else None


def _known_physical_id(request: Mapping[str, Any]) -> str:
    """The resource's id as CloudFormation knows it. A failed Update must keep it (a new one
    would read as a replacement); a failed Create has none yet and gets a placeholder, which
    the Delete that follows hands back."""
    physical_id = request.get("PhysicalResourceId")
    if isinstance(physical_id, str) and physical_id:
        return physical_id
    return f"table-stream-not-created-{str(request.get('RequestId') or 'unknown')[:64]}"


def _short(exc: Exception, url: Any) -> str:
    reason = f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]
    if isinstance(url, str) and url:
        # The reason is shown in the stack's events; the URL must never reach them.
        reason = reason.replace(url, "<ResponseURL>")
    return reason


def _deadline(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return time.monotonic() + remaining() / 1000 - DEADLINE_MARGIN_S


def _log(
    request: Mapping[str, Any],
    answer: Answer,
    delivery: Delivery,
    context: Any,
    started: float,
    unexpected: Exception | None,
) -> None:
    """The one line per invocation: which request, which table, what we answered, whether it
    arrived. Never the event or the ResponseURL."""
    current = _runtime.peek()
    fields = {
        "request_id": getattr(context, "aws_request_id", None),
        "cfn_request_id": _text(request.get("RequestId"), 64),
        "request_type": _text(request.get("RequestType"), 32),
        "logical_resource_id": _text(request.get("LogicalResourceId"), 256),
        "stack_id": _text(request.get("StackId"), 256),
        "table_name": (_table_property(request) or "")[:256] or None,
        "region": current.settings.region if current is not None else None,
        "outcome": answer.status,
        "reason": answer.reason[:MAX_REASON_CHARS],
        "physical_resource_id": answer.physical_id[:1024],
        "delivered": delivery.delivered,
        "delivery_attempts": delivery.attempts,
        "delivery_error": delivery.error,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if unexpected is not None:
        fields["error_type"] = type(unexpected).__name__
    if not delivery.delivered or unexpected is not None:
        # The traceback is for the operator; CloudFormation got only the type and message.
        message = "custom resource " + ("answered" if delivery.delivered else "not answered")
        logger.error(message, exc_info=unexpected, extra={"fields": fields})
    else:
        logger.info("custom resource answered", extra={"fields": fields})


def _text(value: Any, limit: int) -> str | None:
    """An event field for the log: strings only, bounded (the event is not ours to trust)."""
    return value[:limit] if isinstance(value, str) else None


# Build the DynamoDB client during Lambda's init phase rather than on the first request.
_runtime.warm(logger)
