"""The payments table: one conditional write per payment, and a reachability probe.

The only module of the processor that talks to AWS. Calls made (and granted by IAM):
``dynamodb:PutItem`` and ``dynamodb:GetItem`` on the payments table.

**A write whose outcome is unknown is settled before anyone is answered.** A read timeout, a
connection dropped after the request was sent, or a 5xx from DynamoDB does not say whether the
item was written ("Error handling with DynamoDB", https://docs.aws.amazon.com/amazondynamodb/
latest/developerguide/Programming.Errors.html: a 500 on a write means it may have succeeded or
failed; read the item's state or use a condition before retrying). Every attempt the SDK makes
is classified as it ends (botocore's ``needs-retry`` event): only an attempt that was certainly
never sent (no connection could be made) or that DynamoDB answered with a 4xx was certainly not
applied. When every attempt was of that kind the answer is 503: certainly not written. When any
attempt may have reached the table, the outcome is settled first:

1. a strongly consistent ``GetItem`` of the payment id: the item found is returned, and the
   caller decides as for any stored item (this request's own write: 201; the same request sent
   earlier: 200; a different request under the same key: 409);
2. nothing found is not yet proof: an attempt still queued inside DynamoDB could land after the
   read (no documented bound says when a request already sent stops being applied). So the
   same conditional ``PutItem`` is sent once more. It either writes the item now (201, and a
   late attempt then fails its condition and changes nothing), or fails its condition and
   returns the stored item (decided as in 1). Either answer is final, because the condition
   makes the write happen at most once however many copies of it arrive;
3. if neither call gets an answer within the request's time budget, the outcome stays unknown
   and is reported as such (500, "retry with the same Idempotency-Key"), never as 503.

Both settling calls use a client without SDK retries (``SETTLE_CLIENT_CONFIG``): when a call
has raised, no attempt of ours is in flight, and each call costs at most one attempt's timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ProxyConnectionError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from handler.errors import ErrorCode, PaymentError
from handler.observability import get_logger
from handler.payments import Item

logger = get_logger("payment.storage")

# Errors that say "not now" rather than "never": the SDK has already retried them (standard
# retry mode) by the time they reach us, so the client is told to come back later.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ReplicatedWriteConflictException",
    }
)
# Could not connect, or the connection dropped / timed out after the SDK's attempts.
_TRANSPORT_ERRORS = (BotocoreConnectionError, HTTPClientError)
# Raised before a byte of the request left (botocore.httpsession: urllib3's NewConnectionError
# and DNS failures, connect timeout, proxy refusal). Everything else that is not an answer from
# DynamoDB (read timeout, connection closed mid-request, TLS errors) may have been applied.
_NEVER_SENT = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError)
_CONDITION_FAILED = "ConditionalCheckFailedException"

# A key no payment can have (payment ids start with "pay_"): reading it touches the table,
# its KMS key and the IAM grant, and returns nothing.
HEALTH_PROBE_KEY = "health-probe"

# The attempts of the write under way in this thread (or task): True for each attempt that may
# have been applied. A context variable, because one client serves concurrent requests when the
# handler runs in a threaded server.
_attempts: ContextVar[list[bool] | None] = ContextVar("payment_write_attempts", default=None)


class OutcomeUnknown(PaymentError):
    """A write that may have been applied and could not be settled in the time left."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            ErrorCode.INTERNAL_ERROR,
            "the payment could not be confirmed and may have been accepted; retry with the "
            "same Idempotency-Key to learn its outcome",
            reason=reason,
        )


class PaymentStore:
    def __init__(
        self,
        client: Any,
        table_name: str,
        settle_client: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.table_name = table_name
        # Built on first need: only a write with an unknown outcome uses it.
        self._settle_factory = settle_client
        self._settle_client: Any = None
        self._clock = clock
        client.meta.events.register(
            "needs-retry.dynamodb.PutItem", _record_attempt, unique_id="payment-write-attempts"
        )

    @property
    def settle_client(self) -> Any:
        """The retry-free client of the settling calls (the write's own client if none)."""
        if self._settle_client is None:
            factory = self._settle_factory
            self._settle_client = factory() if factory is not None else self.client
        return self._settle_client

    def insert(self, item: Item, deadline: float | None = None) -> Item | None:
        """Write ``item`` unless a payment with its id exists.

        Returns None when this request wrote the item, otherwise the item already stored. The
        condition makes the write atomic: of any number of concurrent duplicates, one wins.
        ``deadline`` (a ``clock`` value) bounds the settling of an unknown outcome.
        Raises 503 only when nothing was written; OutcomeUnknown when that cannot be known.
        """
        attempts: list[bool] = []
        token = _attempts.set(attempts)
        try:
            return self._put(self.client, item)
        except ClientError as exc:
            if _error_code(exc) == _CONDITION_FAILED:
                return self._stored(exc, item)
            failure: Exception = exc
        except _TRANSPORT_ERRORS as exc:
            failure = exc
        finally:
            _attempts.reset(token)
        if not any(attempts):
            classified = _classified(failure)
            if classified is failure:
                raise failure
            raise classified from failure
        logger.warning(
            "write outcome unknown; settling it",
            extra={"fields": {"error_type": type(failure).__name__, "attempts": len(attempts)}},
        )
        return self._settle(item, deadline, failure)

    def probe(self) -> None:
        """Raise unless the table answers a read."""
        self._call(
            self.client.get_item,
            TableName=self.table_name,
            Key={"payment_id": {"S": HEALTH_PROBE_KEY}},
            ProjectionExpression="payment_id",
        )

    def _put(self, client: Any, item: Item) -> None:
        client.put_item(
            TableName=self.table_name,
            Item=item,
            ConditionExpression="attribute_not_exists(payment_id)",
            # The stored item comes back with the failure: no second round trip to decide
            # between replay and conflict.
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def _stored(self, exc: ClientError, item: Item) -> Item:
        stored = exc.response.get("Item") or self._read(item["payment_id"]["S"])
        if stored is None:
            raise RuntimeError("conditional check failed but no item is stored") from exc
        return stored

    def _settle(self, item: Item, deadline: float | None, failure: Exception) -> Item | None:
        client = self.settle_client
        budget = _call_seconds(client)
        payment_id = item["payment_id"]["S"]
        if self._time_left(deadline) >= budget:
            try:
                found = self._read(payment_id, client)
            except (ClientError, *_TRANSPORT_ERRORS, PaymentError) as exc:
                found = None
                logger.warning("settling read failed", extra={"fields": _failure(exc)})
            if found is not None:
                return found
        if self._time_left(deadline) >= budget:
            try:
                self._put(client, item)
                return None
            except ClientError as exc:
                if _error_code(exc) == _CONDITION_FAILED and exc.response.get("Item"):
                    return exc.response["Item"]
                logger.warning("settling write failed", extra={"fields": _failure(exc)})
            except _TRANSPORT_ERRORS as exc:
                logger.warning("settling write failed", extra={"fields": _failure(exc)})
        raise OutcomeUnknown(type(failure).__name__) from failure

    def _time_left(self, deadline: float | None) -> float:
        return float("inf") if deadline is None else deadline - self._clock()

    def _read(self, payment_id: str, client: Any = None) -> Item | None:
        # Strongly consistent: it sees every write DynamoDB acknowledged before the read
        # ("Read consistency", DynamoDB developer guide).
        response = self._call(
            (client or self.client).get_item,
            TableName=self.table_name,
            Key={"payment_id": {"S": payment_id}},
            ConsistentRead=True,
        )
        return response.get("Item")

    @staticmethod
    def _call(operation: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        try:
            return operation(**kwargs)
        except (ClientError, *_TRANSPORT_ERRORS) as exc:
            classified = _classified(exc)
            if classified is exc:
                raise
            raise classified from exc


def _record_attempt(caught_exception: Any = None, response: Any = None, **_: Any) -> None:
    """botocore's ``needs-retry`` handler: note whether the attempt that just ended may have
    been applied. Returns None, so the SDK's own retry decision is unchanged."""
    attempts = _attempts.get()
    if attempts is None:
        return
    if caught_exception is not None:
        attempts.append(not isinstance(caught_exception, _NEVER_SENT))
    else:
        status = response[0].status_code if response else 0
        attempts.append(status >= 500)


def _call_seconds(client: Any) -> float:
    config = client.meta.config
    return float(config.connect_timeout + config.read_timeout)


def _classified(exc: Exception) -> Exception:
    """The error a failed call becomes: 503 for "not now", the AWS error itself otherwise."""
    if isinstance(exc, ClientError):
        code, status = _error_code(exc), _http_status(exc)
        if code in _UNAVAILABLE_CODES or status >= 500:
            return _unavailable(code or f"HTTP {status}")
        return exc
    if isinstance(exc, _TRANSPORT_ERRORS):
        return _unavailable(type(exc).__name__)
    return exc


def _failure(exc: BaseException) -> dict[str, Any]:
    cause = exc.__cause__ if isinstance(exc, PaymentError) and exc.__cause__ else exc
    return {"error_type": type(cause).__name__, "error_code": _error_code(cause)}


class HealthCheck:
    """Caches the probe's answer: a burst of health checks costs one read per few seconds."""

    def __init__(
        self,
        store: PaymentStore,
        ttl_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._expires = float("-inf")
        self._healthy = False

    def healthy(self) -> bool:
        now = self._clock()
        if now >= self._expires:
            self._healthy = self._probe()
            self._expires = now + self._ttl
        return self._healthy

    def _probe(self) -> bool:
        try:
            self._store.probe()
            return True
        except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
            logger.warning("table probe failed", extra={"fields": _failure(exc)})
            return False


def _unavailable(reason: str) -> PaymentError:
    return PaymentError(
        ErrorCode.SERVICE_UNAVAILABLE,
        "the payment store is temporarily unavailable; retry later",
        reason=reason,
    )


def _error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def _http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
