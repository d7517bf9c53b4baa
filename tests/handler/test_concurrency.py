"""Concurrent duplicates: exactly one item, one creation, every other answer consistent, no 5xx.

In production the duplicates reach different Lambda containers; what they share is the table
and its conditional write, which is what these threads meet at too.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from .conftest import VALID_BODY, Response, api_event, invoke, new_key, scan_items

pytestmark = pytest.mark.usefixtures("table", "atomic_conditional_writes")

CONCURRENCY = 16


@pytest.fixture(autouse=True)
def frequent_thread_switches() -> Iterator[None]:
    # Switch threads every microsecond instead of every 5 ms, so that the requests really
    # interleave inside the handler instead of running one after another.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def run_together(events: list[dict[str, Any]]) -> list[Response]:
    start = threading.Barrier(len(events))

    def send(event: dict[str, Any]) -> Response:
        start.wait()
        return invoke(event)

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(send, events))


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_duplicates_make_one_payment_and_agree_on_it(round_: int) -> None:
    key = new_key()
    # Sixteen HTTP requests, so sixteen API Gateway request ids: the same body and key.
    events = [
        api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": key})
        for _ in range(CONCURRENCY)
    ]

    responses = run_together(events)

    statuses = Counter(r.status for r in responses)
    assert statuses == {201: 1, 200: CONCURRENCY - 1}
    assert len({tuple(sorted(r.body.items())) for r in responses}) == 1  # one payment object
    [item] = scan_items()
    assert item["payment_id"]["S"] == responses[0].body["payment_id"]
    assert item["created_at"]["S"] == responses[0].body["created_at"]


def test_concurrent_different_bodies_under_one_key_make_one_payment_and_409s() -> None:
    key = new_key()
    events = [
        api_event(
            "POST", "/process", {**VALID_BODY, "amount": f"{n + 1}.00"}, {"Idempotency-Key": key}
        )
        for n in range(CONCURRENCY)
    ]

    responses = run_together(events)

    assert Counter(r.status for r in responses) == {201: 1, 409: CONCURRENCY - 1}
    [winner] = [r for r in responses if r.status == 201]
    assert {r.body["error"]["code"] for r in responses if r.status == 409} == {
        "IDEMPOTENCY_KEY_REUSED"
    }
    [item] = scan_items()
    assert item["payment_id"]["S"] == winner.body["payment_id"]
    assert Decimal(item["amount"]["N"]) == Decimal(winner.body["amount"])


def test_concurrent_requests_without_keys_are_all_separate_payments() -> None:
    responses = run_together(
        [api_event("POST", "/process", VALID_BODY) for _ in range(CONCURRENCY)]
    )

    assert Counter(r.status for r in responses) == {201: CONCURRENCY}
    assert len(scan_items()) == CONCURRENCY
