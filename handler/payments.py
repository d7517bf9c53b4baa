"""Payments as stored items: identifiers, request fingerprints, replay decisions. Pure.

Idempotency rests on one fact: a request with an ``Idempotency-Key`` always maps to the same
``payment_id``, so the table's key uniqueness (one conditional ``PutItem``) is the lock.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from handler.money import format_amount
from handler.validation import PaymentRequest

STATUS_ACCEPTED = "ACCEPTED"
ID_PREFIX = "pay_"

Item = dict[str, dict[str, str]]  # a DynamoDB item in the low-level attribute-value format


class NewPayment(NamedTuple):
    payment_id: str
    item: Item
    body: dict[str, str]


def payment_id_for(idempotency_key: str | None, client_id: str) -> str:
    """Deterministic for a keyed request, random otherwise.

    The key is scoped to the client id (its IAM role or certificate name, the same in every
    region) so that two clients choosing the same Idempotency-Key get different payments, while
    one client gets the same payment id in every region: a replay sent to the standby region
    after a failover finds the replicated payment. NUL separators keep (scope, key)
    unambiguous; v3 because v2 scoped by an API key fingerprint, so no v3 id equals a v2 one.
    """
    if idempotency_key is None:
        return ID_PREFIX + os.urandom(16).hex()
    material = f"payment-id/v3\x00{client_id}\x00{idempotency_key}"
    return ID_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def request_hash(request: PaymentRequest) -> str:
    """Fingerprint of what the client asked for (not of how it spelled it)."""
    canonical: dict[str, str] = {
        "amount": request.amount_text,
        "currency": request.currency,
        "customer_id": request.customer_id,
        "payment_method": request.payment_method,
    }
    if request.description is not None:
        canonical["description"] = request.description
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``; sorts lexically (the GSIs rely on that)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def new_payment(
    request: PaymentRequest,
    *,
    client_id: str,
    request_id: str,
    now: datetime,
) -> NewPayment:
    payment_id = payment_id_for(request.idempotency_key, client_id)
    item: Item = {
        "payment_id": {"S": payment_id},
        "status": {"S": STATUS_ACCEPTED},
        "amount": {"N": request.amount_text},
        "currency": {"S": request.currency},
        "customer_id": {"S": request.customer_id},
        "payment_method": {"S": request.payment_method},
        "created_at": {"S": timestamp(now)},
        "request_hash": {"S": request_hash(request)},
        # Which invocation wrote the item: tells our own retried write apart from a duplicate,
        # and links the audit record to the request's log line.
        "request_id": {"S": request_id},
        # Who made it: the registered client, so the audit object records it too.
        "client_id": {"S": client_id},
    }
    if request.description is not None:
        item["description"] = {"S": request.description}
    if request.idempotency_key is not None:
        item["idempotency_key"] = {"S": request.idempotency_key}
    return NewPayment(payment_id, item, payment_body(item))


def payment_body(item: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The API's view of a stored payment; identical for the first response and every replay."""
    currency = item["currency"]["S"]
    return {
        "payment_id": item["payment_id"]["S"],
        "status": item["status"]["S"],
        # DynamoDB normalises numbers (12.50 is read back as 12.5): re-apply minor units.
        "amount": format_amount(Decimal(item["amount"]["N"]), currency),
        "currency": currency,
        "customer_id": item["customer_id"]["S"],
        "payment_method": item["payment_method"]["S"],
        "created_at": item["created_at"]["S"],
    }


def is_own_write(new: NewPayment, stored: Mapping[str, Mapping[str, str]]) -> bool:
    """Whether the stored item is this request's own write rather than an earlier request's.

    The SDK retries a PutItem whose response was lost (timeout, connection reset); the retry
    then fails its condition against the item the first attempt already wrote. That is still
    a creation, not a replay.
    """
    return stored.get("request_id", {}).get("S") == new.item["request_id"]["S"]


def same_request(new: NewPayment, stored: Mapping[str, Mapping[str, str]]) -> bool:
    """Whether the stored payment was made from the same request (same canonical body)."""
    return stored.get("request_hash", {}).get("S") == new.item["request_hash"]["S"]
