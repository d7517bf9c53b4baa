"""DynamoDB trouble, injected into the processor's real boto3 client at botocore's send step:
the client gets 503 (transient) or 500 (anything else) in the contract's error shape, the SDK's
retry configuration is what retries, and the table never holds a partial or extra payment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from handler import app
from handler.config import DYNAMODB_CLIENT_CONFIG
from handler.storage import HealthCheck, PaymentStore

from .conftest import (
    TABLE,
    VALID_BODY,
    AwsCalls,
    FakeContext,
    Fault,
    Sleeps,
    api_event,
    invoke,
    new_key,
    post,
    scan_items,
)
from .test_contract import assert_error

pytestmark = pytest.mark.usefixtures("table")

MAX_ATTEMPTS = DYNAMODB_CLIENT_CONFIG.retries["total_max_attempts"]


def assert_unavailable(response: Any) -> None:
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_throttled_table_is_503_after_bounded_retries(
    processor_client: Any, processor_calls: AwsCalls, retry_sleeps: Sleeps, code: str
) -> None:
    """A throttle is DynamoDB refusing the write: certainly not applied, so 503 at once."""
    with Fault(processor_client, "PutItem", status=400, code=code) as fault:
        response = invoke(api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": new_key()}))

    assert_unavailable(response)
    assert fault.attempts == MAX_ATTEMPTS  # the SDK retried, with backoff between attempts
    assert len(retry_sleeps.calls) == MAX_ATTEMPTS - 1
    assert processor_calls.counts == {"PutItem": 1}  # nothing to settle: no read-back
    assert scan_items() == []


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_table_that_cannot_be_reached_is_503(
    processor_client: Any, retry_sleeps: Sleeps, error: Exception
) -> None:
    """No connection, no request sent: certainly not written. (A read timeout or a dropped
    connection is another matter: see test_ambiguous_writes.)"""
    settle_calls = AwsCalls(app.runtime().store.settle_client)
    with Fault(processor_client, "PutItem", raise_error=error) as fault:
        response = invoke(api_event("POST", "/process", VALID_BODY))

    assert_unavailable(response)
    assert fault.attempts == MAX_ATTEMPTS
    assert settle_calls.total == 0
    assert scan_items() == []


def test_a_throttle_that_clears_within_the_retries_is_invisible_to_the_client(
    processor_client: Any, retry_sleeps: Sleeps
) -> None:
    with Fault(processor_client, "PutItem", times=MAX_ATTEMPTS - 1) as fault:
        response = post(VALID_BODY, key=new_key())

    assert response.status == 201
    assert fault.attempts == MAX_ATTEMPTS - 1
    assert [item["payment_id"]["S"] for item in scan_items()] == [response.body["payment_id"]]


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "ResourceNotFoundException", "ValidationException"]
)
def test_a_non_transient_aws_error_is_500_without_internals(
    processor_client: Any, retry_sleeps: Sleeps, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    context = FakeContext()
    with Fault(processor_client, "PutItem", code=code) as fault:
        response = invoke(api_event("POST", "/process", VALID_BODY), context)

    assert_error(response, 500, "INTERNAL_ERROR")
    assert fault.attempts == 1  # not retried: it would fail the same way
    leaked = response.raw["body"]
    for internal in (code, TABLE, "Traceback", "injected", "botocore", "dynamodb"):
        assert internal not in leaked
    assert scan_items() == []
    # The operator, unlike the client, learns what happened.
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [failure] = [line for line in lines if line["message"] == "unhandled error"]
    assert failure["request_id"] == response.request_id
    assert code in failure["exception"]


def test_an_unexpected_python_error_is_500_with_the_request_id(
    processor_client: Any, retry_sleeps: Sleeps
) -> None:
    context = FakeContext()
    secret_detail = "socket pool exhausted at 0x7f00"
    with Fault(processor_client, "PutItem", raise_error=RuntimeError(secret_detail)):
        response = invoke(api_event("POST", "/process", VALID_BODY), context)

    assert_error(response, 500, "INTERNAL_ERROR")
    assert secret_detail not in response.raw["body"]
    assert "RuntimeError" not in response.raw["body"]
    assert scan_items() == []


def test_a_corrupt_stored_payment_is_500_and_left_alone(dynamodb: Any) -> None:
    key = new_key()
    first = post(VALID_BODY, key=key)
    payment_id = first.body["payment_id"]
    dynamodb.update_item(
        TableName=TABLE, Key={"payment_id": {"S": payment_id}}, UpdateExpression="REMOVE amount"
    )
    before = scan_items()

    replay = post(VALID_BODY, key=key)

    assert_error(replay, 500, "INTERNAL_ERROR")
    assert scan_items() == before


def test_a_write_whose_response_was_lost_is_reported_as_created_once(
    processor_client: Any, dynamodb: Any, retry_sleeps: Sleeps
) -> None:
    """DynamoDB applied the PutItem but the response never arrived; the SDK retries, the retry
    meets our own item. That is still this request's creation (201), and still one item."""

    def land_then_lose(request: Any, **_: Any) -> None:
        processor_client.meta.events.unregister(
            "before-send.dynamodb.PutItem", unique_id="lose-response"
        )
        params = json.loads(request.body)
        dynamodb.put_item(TableName=params["TableName"], Item=params["Item"])
        raise ReadTimeoutError(endpoint_url=request.url)

    processor_client.meta.events.register_first(
        "before-send.dynamodb.PutItem", land_then_lose, unique_id="lose-response"
    )
    response = post(VALID_BODY)

    assert response.status == 201
    assert "Idempotent-Replayed" not in response.headers
    [item] = scan_items()
    assert item["payment_id"] == {"S": response.body["payment_id"]}
    assert item["created_at"] == {"S": response.body["created_at"]}


def test_replay_still_works_when_the_conflict_response_carries_no_item(
    processor_client: Any, processor_calls: AwsCalls
) -> None:
    """Not every endpoint returns the old item on a failed condition; one read recovers it."""
    key = new_key()
    first = post(VALID_BODY, key=key)
    with Fault(processor_client, "PutItem", code="ConditionalCheckFailedException"):
        replay = post(VALID_BODY, key=key)

    assert replay.status == 200
    assert replay.body == first.body
    assert processor_calls.counts["GetItem"] == 1
    assert len(scan_items()) == 1


# -- health ----------------------------------------------------------------------------------


def test_health_is_503_when_the_table_is_gone(dynamodb: Any) -> None:
    dynamodb.delete_table(TableName=TABLE)
    context = FakeContext()

    response = invoke(api_event("GET", "/health", client=None), context)

    assert_unavailable(response)


def test_health_is_503_when_the_table_is_throttled(
    processor_client: Any, retry_sleeps: Sleeps
) -> None:
    context = FakeContext()
    with Fault(processor_client, "GetItem"):
        response = invoke(api_event("GET", "/health", client=None), context)

    assert_unavailable(response)


def test_health_checks_within_a_few_seconds_share_one_probe(processor_calls: AwsCalls) -> None:
    responses = [invoke(api_event("GET", "/health", client=None)) for _ in range(5)]

    assert {r.status for r in responses} == {200}
    assert processor_calls.counts == {"GetItem": 1}


def test_health_answer_expires(processor_client: Any, retry_sleeps: Sleeps) -> None:
    now = [100.0]
    check = HealthCheck(PaymentStore(processor_client, TABLE), ttl_seconds=5, clock=lambda: now[0])

    with Fault(processor_client, "GetItem", code="AccessDeniedException") as fault:
        assert check.healthy() is False
        assert check.healthy() is False
        assert fault.attempts == 1
    now[0] = 104.9
    assert check.healthy() is False  # still the cached answer
    now[0] = 105.0
    assert check.healthy() is True
