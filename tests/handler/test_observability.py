"""Logs an operator can query and metrics CloudWatch can extract, without leaking secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import (
    VALID_BODY,
    FakeContext,
    Fault,
    Sleeps,
    api_event,
    invoke,
    new_key,
)

pytestmark = pytest.mark.usefixtures("table")


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every line the function printed, each of which must be one JSON object."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def request_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [line for line in log_lines(capsys) if line["message"] == "request"]


def metrics_of(line: dict[str, Any]) -> dict[str, Any]:
    """The metrics CloudWatch would extract from a line (Embedded Metric Format rules)."""
    if "_aws" not in line:
        return {}
    extracted = {}
    for directive in line["_aws"]["CloudWatchMetrics"]:
        assert directive["Namespace"] == "PaymentInfrastructure"
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(line[name], str) for name in dimension_set)
        for metric in directive["Metrics"]:
            assert metric["Unit"] == "Count"
            dimensions = {name: line[name] for names in directive["Dimensions"] for name in names}
            extracted[metric["Name"]] = (line[metric["Name"]], dimensions)
    assert isinstance(line["_aws"]["Timestamp"], int)
    return extracted


def test_one_json_line_per_request_with_the_operational_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    context = FakeContext()
    event = api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": new_key()})

    response = invoke(event, context)

    [line] = request_lines(capsys)
    assert line["level"] == "INFO"
    # The id the client holds is API Gateway's; Lambda's own lines are found by the other.
    assert line["request_id"] == event["requestContext"]["requestId"]
    assert line["lambda_request_id"] == context.aws_request_id
    assert line["route"] == "POST /process"
    assert line["status"] == 201
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert line["payment_id"] == response.body["payment_id"]
    assert line["outcome"] == "accepted"


def test_logs_carry_no_secrets_and_no_request_content(
    capsys: pytest.CaptureFixture[str], processor_client: Any, retry_sleeps: Sleeps
) -> None:
    key = "idem-key-" + new_key()
    private = {
        "customer_id": "cust_PRIVATE_4242",
        "description": "PRIVATE note for the merchant",
    }
    body = {**VALID_BODY, **private}
    invoke(api_event("POST", "/process", body, {"Idempotency-Key": key}))
    invoke(api_event("POST", "/process", body, {"Idempotency-Key": key}))
    invoke(api_event("POST", "/process", {**body, "amount": "1.00"}, {"Idempotency-Key": key}))
    invoke(api_event("POST", "/process", {**body, "currency": "PRIVATE-CURRENCY"}))
    with Fault(processor_client, "PutItem", code="AccessDeniedException"):
        invoke(api_event("POST", "/process", body, {"Authorization": "Bearer PRIVATE-TOKEN"}))

    output = capsys.readouterr().out
    for secret in (key, "PRIVATE", "Bearer"):
        assert secret not in output


def test_outcomes_are_counted_as_embedded_metrics(
    capsys: pytest.CaptureFixture[str], processor_client: Any, retry_sleeps: Sleeps
) -> None:
    key = new_key()
    invoke(api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": key}))
    invoke(api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": key}))
    invoke(api_event("POST", "/process", {**VALID_BODY, "amount": "2"}, {"Idempotency-Key": key}))
    invoke(api_event("POST", "/process", {"amount": "x"}))
    invoke(api_event("POST", "/process", "{"))
    with Fault(processor_client, "PutItem"):
        invoke(api_event("POST", "/process", VALID_BODY))
    invoke(api_event("GET", "/health"))
    invoke(api_event("GET", "/nowhere"))

    extracted = [metrics_of(line) for line in request_lines(capsys)]

    environment = {"Environment": "test"}
    assert extracted == [
        {"PaymentAccepted": (1, environment)},
        {"PaymentReplayed": (1, environment)},
        {"PaymentRejected": (1, {**environment, "Reason": "IDEMPOTENCY_KEY_REUSED"})},
        {"PaymentRejected": (1, {**environment, "Reason": "VALIDATION_ERROR"})},
        {"PaymentRejected": (1, {**environment, "Reason": "INVALID_JSON"})},
        {"PaymentFailed": (1, {**environment, "Reason": "SERVICE_UNAVAILABLE"})},
        {},  # health checks are not payments
        {},
    ]
