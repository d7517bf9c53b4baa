"""The payments table: one conditional write per payment, and a reachability probe.

The only module of the processor that talks to AWS. Calls made (and granted by IAM):
``dynamodb:PutItem`` and ``dynamodb:GetItem`` on the payments table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
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

# A key no payment can have (payment ids start with "pay_"): reading it touches the table,
# its KMS key and the IAM grant, and returns nothing.
HEALTH_PROBE_KEY = "health-probe"


class PaymentStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def insert(self, item: Item) -> Item | None:
        """Write ``item`` unless a payment with its id exists.

        Returns None when this call wrote the item, otherwise the item already stored. The
        condition makes the write atomic: of any number of concurrent duplicates, one wins.
        """
        try:
            self._call(
                self.client.put_item,
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(payment_id)",
                # The stored item comes back with the failure: no second round trip to decide
                # between replay and conflict.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise
            stored = exc.response.get("Item") or self._read(item["payment_id"]["S"])
            if stored is None:
                raise RuntimeError("conditional check failed but no item is stored") from exc
            return stored

    def probe(self) -> None:
        """Raise unless the table answers a read."""
        self._call(
            self.client.get_item,
            TableName=self.table_name,
            Key={"payment_id": {"S": HEALTH_PROBE_KEY}},
            ProjectionExpression="payment_id",
        )

    def _read(self, payment_id: str) -> Item | None:
        # Only when the error response carried no item (not the case with DynamoDB itself).
        response = self._call(
            self.client.get_item,
            TableName=self.table_name,
            Key={"payment_id": {"S": payment_id}},
            ConsistentRead=True,
        )
        return response.get("Item")

    @staticmethod
    def _call(operation: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        try:
            return operation(**kwargs)
        except ClientError as exc:
            code, status = _error_code(exc), _http_status(exc)
            if code in _UNAVAILABLE_CODES or status >= 500:
                raise _unavailable(code or f"HTTP {status}") from exc
            raise
        except _TRANSPORT_ERRORS as exc:
            raise _unavailable(type(exc).__name__) from exc


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
            cause = exc.__cause__ if isinstance(exc, PaymentError) and exc.__cause__ else exc
            logger.warning(
                "table probe failed",
                extra={
                    "fields": {"error_type": type(cause).__name__, "error_code": _error_code(cause)}
                },
            )
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
