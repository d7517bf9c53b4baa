"""A write whose outcome the SDK cannot know: never answered "failed" when it was written.

The failures are injected where the network would be. ``LostResponse`` lets the table apply
the very request the SDK sent and then loses the answer (read timeout, dropped connection,
5xx); ``Fault`` fails a request before the table sees it. The settling calls run on the
store's retry-free settle client, which the tests can fail on its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from handler import app
from handler.config import DYNAMODB_CLIENT_CONFIG

from .conftest import (
    VALID_BODY,
    AwsCalls,
    FakeContext,
    Fault,
    LostResponse,
    Sleeps,
    api_event,
    invoke,
    new_key,
    post,
    scan_items,
)
from .test_contract import assert_error

pytestmark = pytest.mark.usefixtures("table", "retry_sleeps")

MAX_ATTEMPTS = DYNAMODB_CLIENT_CONFIG.retries["total_max_attempts"]
ENDPOINT = "https://dynamodb.us-east-1.amazonaws.com"


def lost(kind: str) -> dict[str, Any]:
    return {
        "read-timeout": {"error": ReadTimeoutError(endpoint_url=ENDPOINT)},
        "connection-closed": {"error": ConnectionClosedError(endpoint_url=ENDPOINT)},
        "internal-server-error": {"status": 500},
    }[kind]


@pytest.fixture
def settle_client(processor_client: Any) -> Any:
    return app.runtime().store.settle_client


@pytest.mark.parametrize("kind", ["read-timeout", "connection-closed", "internal-server-error"])
def test_a_written_payment_whose_answer_was_lost_is_201_and_one_item(
    processor_client: Any, settle_client: Any, kind: str
) -> None:
    key = new_key()
    settle_calls = AwsCalls(settle_client)
    with LostResponse(processor_client, **lost(kind)) as fault:
        response = post(VALID_BODY, key=key)

    assert fault.applied == MAX_ATTEMPTS  # the first attempt wrote; the retries met the item
    assert response.status == 201, response.body
    assert "Idempotent-Replayed" not in response.headers
    [item] = scan_items()
    assert item["payment_id"] == {"S": response.body["payment_id"]}
    assert item["created_at"] == {"S": response.body["created_at"]}
    assert settle_calls.counts == {"GetItem": 1}  # found by the read: no second write

    retry = post(VALID_BODY, key=key)

    assert retry.status == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.body == response.body
    assert len(scan_items()) == 1


def test_without_a_key_the_client_is_told_of_its_payment_and_need_not_retry(
    processor_client: Any,
) -> None:
    with LostResponse(processor_client, error=ReadTimeoutError(endpoint_url=ENDPOINT)):
        response = post(VALID_BODY)

    assert response.status == 201
    assert [item["payment_id"]["S"] for item in scan_items()] == [response.body["payment_id"]]


def test_a_lost_answer_followed_by_throttling_is_still_settled(processor_client: Any) -> None:
    """The SDK's last error (a throttle) says "not applied", but the first attempt was: every
    attempt counts, not only the last one."""
    # Handlers registered first run in registration order: the lost answer, then throttles.
    with (
        LostResponse(processor_client, error=ReadTimeoutError(endpoint_url=ENDPOINT), times=1),
        Fault(processor_client, "PutItem", code="ThrottlingException") as throttle,
    ):
        response = post(VALID_BODY, key=new_key())

    assert throttle.attempts == MAX_ATTEMPTS - 1
    assert response.status == 201
    assert len(scan_items()) == 1


def test_a_timeout_before_the_table_saw_the_write_is_settled_by_writing_it_once(
    processor_client: Any, settle_client: Any
) -> None:
    """Nothing found is not proof: an attempt could still be queued inside DynamoDB. The same
    conditional write, sent once more, either writes the payment or finds it."""
    settle_calls = AwsCalls(settle_client)
    with Fault(processor_client, "PutItem", raise_error=ReadTimeoutError(endpoint_url=ENDPOINT)):
        response = post(VALID_BODY, key=new_key())

    assert response.status == 201
    assert [item["payment_id"]["S"] for item in scan_items()] == [response.body["payment_id"]]
    assert settle_calls.counts == {"GetItem": 1, "PutItem": 1}


@pytest.mark.parametrize(
    ("second_body", "status"),
    [(VALID_BODY, 200), ({**VALID_BODY, "amount": "99.00"}, 409)],
    ids=["same-request", "other-request"],
)
def test_settling_finds_an_earlier_request_and_decides_as_a_replay_would(
    processor_client: Any, second_body: dict[str, Any], status: int
) -> None:
    key = new_key()
    first = post(VALID_BODY, key=key)
    with Fault(processor_client, "PutItem", raise_error=ReadTimeoutError(endpoint_url=ENDPOINT)):
        second = post(second_body, key=key)

    assert second.status == status
    if status == 200:
        assert second.body == first.body
    else:
        assert_error(second, 409, "IDEMPOTENCY_KEY_REUSED")
    assert len(scan_items()) == 1


def test_an_outcome_that_cannot_be_settled_is_never_called_unavailable(
    processor_client: Any, settle_client: Any, retry_sleeps: Sleeps
) -> None:
    """Written, then every answer lost, the settling calls included: 500 "could not be
    confirmed", never the 503 that would mean "certainly not written". The retry with the
    key, once DynamoDB answers again, returns that payment."""
    key = new_key()
    timeout = ReadTimeoutError(endpoint_url=ENDPOINT)
    with (
        LostResponse(processor_client, error=timeout),
        Fault(settle_client, "GetItem", raise_error=timeout) as read,
        Fault(settle_client, "PutItem", raise_error=timeout) as write,
    ):
        response = post(VALID_BODY, key=key)

    assert_error(response, 500, "INTERNAL_ERROR")
    assert "Idempotency-Key" in response.body["error"]["message"]
    assert "Retry-After" not in response.headers
    assert (read.attempts, write.attempts) == (1, 1)  # one attempt each: no SDK retries
    [item] = scan_items()

    retry = post(VALID_BODY, key=key)

    assert retry.status == 200
    assert retry.body["payment_id"] == item["payment_id"]["S"]


def test_settling_stops_at_the_request_deadline(processor_client: Any, settle_client: Any) -> None:
    """Less time left than one settling call takes: answer now, rather than after API Gateway
    has given up on the request."""
    settle_calls = AwsCalls(settle_client)
    context = FakeContext(timeout_s=2.0)  # the deadline keeps 1 s back; a call needs 3 s
    with LostResponse(processor_client, error=ReadTimeoutError(endpoint_url=ENDPOINT)):
        response = invoke(
            api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": new_key()}), context
        )

    assert_error(response, 500, "INTERNAL_ERROR")
    assert settle_calls.total == 0
    assert len(scan_items()) == 1  # written: which the retry with the key will report
