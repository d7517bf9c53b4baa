"""CONTRACT §2, row by row: what a client of `POST /process` and `GET /health` can rely on."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from .conftest import (
    CLIENT_ID,
    REGION,
    VALID_BODY,
    FakeContext,
    api_event,
    invoke,
    new_key,
    post,
    role_session_arn,
    scan_items,
)

pytestmark = pytest.mark.usefixtures("table")

PAYMENT_FIELDS = {
    "payment_id",
    "status",
    "amount",
    "currency",
    "customer_id",
    "payment_method",
    "created_at",
}
CREATED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status == status, response.body
    error = response.body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    # One request, one id: API Gateway's, which it also sends as x-amzn-RequestId.
    assert error["request_id"] == response.request_id
    assert set(error) <= {"code", "message", "request_id", "details"}


# -- accepted ------------------------------------------------------------------------------


def test_accepted_payment_is_201_with_the_contract_fields_and_one_exact_item() -> None:
    response = post(VALID_BODY, key=new_key())

    assert response.status == 201
    assert set(response.body) == PAYMENT_FIELDS
    assert response.body["status"] == "ACCEPTED"
    assert response.body["amount"] == "12.50"  # echoed as a decimal string
    assert response.body["currency"] == "USD"
    assert response.body["customer_id"] == "cust_123"
    assert response.body["payment_method"] == "card"
    assert CREATED_AT.fullmatch(response.body["created_at"])

    [item] = scan_items()
    assert item["payment_id"] == {"S": response.body["payment_id"]}
    assert item["status"] == {"S": "ACCEPTED"}
    assert "N" in item["amount"] and Decimal(item["amount"]["N"]) == Decimal("12.50")
    assert item["created_at"] == {"S": response.body["created_at"]}
    assert item["currency"] == {"S": "USD"}
    assert len(item["request_hash"]["S"]) == 64
    assert "description" not in item


def test_description_is_stored_when_given() -> None:
    response = post({**VALID_BODY, "description": "Invoice 42 — café"}, key=new_key())

    assert response.status == 201
    [item] = scan_items()
    assert item["description"] == {"S": "Invoice 42 — café"}


@pytest.mark.parametrize(
    ("currency", "sent", "echoed"),
    [
        ("USD", '"12.5"', "12.50"),
        ("EUR", "7", "7.00"),
        ("GBP", "0.01", "0.01"),
        ("JPY", '"1000"', "1000"),
        ("JPY", "1000.00", "1000"),  # trailing zeros carry no precision in JSON
        ("CAD", '"1000000"', "1000000.00"),
        ("AUD", "999999.99", "999999.99"),
    ],
)
def test_amount_is_exact_and_echoed_in_the_currency_minor_units(
    currency: str, sent: str, echoed: str
) -> None:
    body = (
        f'{{"amount": {sent}, "currency": "{currency}", '
        '"customer_id": "c-1", "payment_method": "wallet"}'
    )
    response = post(body)

    assert response.status == 201, response.body
    assert response.body["amount"] == echoed
    [item] = scan_items()
    assert Decimal(item["amount"]["N"]) == Decimal(echoed)


def test_money_never_passes_through_float() -> None:
    # 0.1 + 0.2 style: a float round trip of this number changes its digits.
    response = post(
        '{"amount": 999999.99, "currency": "USD", "customer_id": "c", "payment_method": "card"}'
    )

    assert response.body["amount"] == "999999.99"
    [item] = scan_items()
    assert Decimal(item["amount"]["N"]) == Decimal("999999.99")


# -- idempotency -----------------------------------------------------------------------------


def test_replay_with_the_same_key_and_body_returns_200_and_the_same_object() -> None:
    key = new_key()
    first = post(VALID_BODY, key=key)
    replay = post(VALID_BODY, key=key)

    assert first.status == 201
    assert replay.status == 200
    assert replay.body == first.body  # same payment_id, same created_at, same amount text
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert len(scan_items()) == 1


def test_replay_recognises_the_same_request_spelled_differently() -> None:
    key = new_key()
    first = post(VALID_BODY, key=key)
    respelled = '{"payment_method":"card","customer_id":"cust_123","currency":"USD","amount":12.5}'
    replay = post(respelled, key=key, headers={"content-type": "application/json"})

    assert replay.status == 200
    assert replay.body == first.body
    assert len(scan_items()) == 1


def test_same_key_with_a_different_body_is_409_and_the_payment_is_untouched() -> None:
    key = new_key()
    first = post(VALID_BODY, key=key)
    before = scan_items()

    context = FakeContext()
    conflict = invoke(
        api_event("POST", "/process", {**VALID_BODY, "amount": "99.00"}, {"Idempotency-Key": key}),
        context,
    )

    assert_error(conflict, 409, "IDEMPOTENCY_KEY_REUSED")
    assert scan_items() == before
    assert before[0]["payment_id"] == {"S": first.body["payment_id"]}


def test_idempotency_key_header_name_is_case_insensitive() -> None:
    key = new_key()
    first = post(VALID_BODY, headers={"IDEMPOTENCY-KEY": key})
    second = post(VALID_BODY, headers={"idempotency-key": key})
    third = post(VALID_BODY, headers={"Idempotency-Key": key})

    assert (first.status, second.status, third.status) == (201, 200, 200)
    assert first.body == second.body == third.body
    assert len(scan_items()) == 1


def test_a_replay_with_another_session_of_the_same_client_finds_the_same_payment() -> None:
    # After a failover the client signs with a new session of the same (global) IAM role.
    key = new_key()
    first = post(VALID_BODY, key=key, identity={"userArn": role_session_arn(CLIENT_ID, "one")})
    replay = post(VALID_BODY, key=key, identity={"userArn": role_session_arn(CLIENT_ID, "two")})

    assert (first.status, replay.status) == (201, 200)
    assert replay.body == first.body
    assert len(scan_items()) == 1


def test_two_clients_choosing_the_same_key_get_two_payments() -> None:
    key = new_key()
    mine = post(VALID_BODY, key=key, client="client-a")
    theirs = post({**VALID_BODY, "amount": "1.00"}, key=key, client="client-b")

    assert (mine.status, theirs.status) == (201, 201)
    assert mine.body["payment_id"] != theirs.body["payment_id"]
    assert len(scan_items()) == 2


def test_without_a_key_every_request_is_a_new_payment() -> None:
    first = post(VALID_BODY)
    second = post(VALID_BODY)

    assert (first.status, second.status) == (201, 201)
    assert first.body["payment_id"] != second.body["payment_id"]
    assert len(scan_items()) == 2


def test_the_item_records_which_client_made_the_payment() -> None:
    post(VALID_BODY, key=new_key(), client="client-a")
    post(VALID_BODY, client="client-b")

    assert sorted(item["client_id"]["S"] for item in scan_items()) == ["client-a", "client-b"]


# -- rejected requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "not json",
        "{",
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        "true",
        '{"amount": NaN, "currency": "USD", "customer_id": "c", "payment_method": "card"}',
        '{"amount": Infinity, "currency": "USD", "customer_id": "c", "payment_method": "card"}',
        '{"amount": "1", "amount": "2", "currency": "USD", "customer_id": "c", '
        '"payment_method": "card"}',
        "[" * 5000 + "]" * 5000,
        '{"a":' * 2000 + "1" + "}" * 2000,
        "\ufeff{}",
    ],
    ids=lambda body: repr(body)[:40],
)
def test_body_that_is_not_a_json_object_is_400_invalid_json(body: str | None) -> None:
    context = FakeContext()
    response = invoke(api_event("POST", "/process", body, {"Idempotency-Key": new_key()}), context)

    assert_error(response, 400, "INVALID_JSON")
    assert scan_items() == []


def test_base64_body_that_is_not_utf8_is_400_invalid_json() -> None:
    response = post(b'{"amount": "\xff"}', base64=True)

    assert_error(response, 400, "INVALID_JSON")
    assert scan_items() == []


def test_every_failing_field_is_reported_at_once() -> None:
    body = {
        "amount": "-1",
        "currency": "usd",
        "customer_id": "has spaces",
        "payment_method": "cash",
        "description": "x" * 257,
        "merchant": "unknown field",
        "amount_cents": 1250,
    }
    context = FakeContext()
    response = invoke(api_event("POST", "/process", body, {"Idempotency-Key": "short"}), context)

    assert_error(response, 400, "VALIDATION_ERROR")
    fields = [detail["field"] for detail in response.body["error"]["details"]]
    assert fields == [
        "amount",
        "currency",
        "customer_id",
        "payment_method",
        "description",
        "merchant",
        "amount_cents",
        "Idempotency-Key",
    ]
    assert all(detail["issue"] for detail in response.body["error"]["details"])
    assert scan_items() == []


def test_one_request_carries_one_id_api_gateways() -> None:
    """API Gateway sends the client ``x-amzn-RequestId: $context.requestId`` and writes the
    same id into its own error responses; the handler's errors, log line and stored item use
    that id too, never Lambda's invocation id, and add no request-id header of their own."""
    context = FakeContext()
    accepted_event = api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": new_key()})
    rejected_event = api_event("POST", "/process", {**VALID_BODY, "amount": "-1"})

    accepted = invoke(accepted_event, context)
    rejected = invoke(rejected_event, context)

    assert rejected.body["error"]["request_id"] == rejected_event["requestContext"]["requestId"]
    assert rejected.body["error"]["request_id"] != context.aws_request_id
    [item] = scan_items()
    assert item["request_id"] == {"S": accepted_event["requestContext"]["requestId"]}
    for response in (accepted, rejected):
        assert not {name.lower() for name in response.headers} & {
            "x-amzn-requestid",
            "x-request-id",
            "request-id",
        }


def test_a_direct_invocation_without_api_gateway_uses_the_lambda_request_id() -> None:
    context = FakeContext()
    event = api_event("POST", "/process", {})
    del event["requestContext"]

    response = invoke(event, context)

    assert response.body["error"]["request_id"] == context.aws_request_id


def test_missing_fields_are_each_named() -> None:
    response = post({})

    assert_error(response, 400, "VALIDATION_ERROR")
    details = response.body["error"]["details"]
    assert details == [
        {"field": "amount", "issue": "is required"},
        {"field": "currency", "issue": "is required"},
        {"field": "customer_id", "issue": "is required"},
        {"field": "payment_method", "issue": "is required"},
    ]


class Raw(NamedTuple):
    """A member value written into the JSON text exactly as given (numbers, escapes)."""

    text: str


def body_text(overrides: dict[str, Any]) -> str:
    members = {**VALID_BODY, **overrides}
    return (
        "{"
        + ", ".join(
            f"{json.dumps(name)}: {value.text if isinstance(value, Raw) else json.dumps(value)}"
            for name, value in members.items()
        )
        + "}"
    )


# (members replacing those of a valid body, the one field that must be named, or None)
FIELD_RULES = [
    ({"amount": "0.01"}, None),
    ({"amount": Raw("12.5")}, None),
    ({"amount": Raw("3"), "currency": "EUR"}, None),
    ({"amount": "1000000"}, None),
    ({"amount": "1000000.00"}, None),
    ({"amount": "007.50"}, None),
    ({"amount": "1000000.01"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": Raw("-0.5")}, "amount"),
    ({"amount": "0.001"}, "amount"),
    ({"amount": Raw("12.345"), "currency": "EUR"}, "amount"),
    ({"amount": "100.5", "currency": "JPY"}, "amount"),
    ({"amount": "100.0", "currency": "JPY"}, None),
    ({"amount": Raw("5.5"), "currency": "JPY"}, "amount"),
    ({"amount": "1.0000000000000000000000000000001"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "-Infinity"}, "amount"),
    ({"amount": "1e3"}, "amount"),
    ({"amount": Raw("1E3")}, "amount"),
    ({"amount": Raw("1.5e2")}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": False}, "amount"),
    ({"amount": None}, "amount"),
    ({"amount": [12.5]}, "amount"),
    ({"amount": {"value": "12.50"}}, "amount"),
    ({"amount": "12,50"}, "amount"),
    ({"amount": " 12.50"}, "amount"),
    ({"amount": "+12.50"}, "amount"),
    ({"amount": ".5"}, "amount"),
    ({"amount": "12."}, "amount"),
    ({"amount": "١٢"}, "amount"),  # Arabic-Indic digits
    ({"amount": ""}, "amount"),
    ({"currency": "USD"}, None),
    ({"currency": "JPY", "amount": "500"}, None),
    ({"currency": "usd"}, "currency"),
    ({"currency": "XXX"}, "currency"),
    ({"currency": "CHF"}, "currency"),
    ({"currency": 840}, "currency"),
    ({"currency": None}, "currency"),
    ({"customer_id": "a"}, None),
    ({"customer_id": "A-z_0-9"}, None),
    ({"customer_id": "x" * 64}, None),
    ({"customer_id": "x" * 65}, "customer_id"),
    ({"customer_id": ""}, "customer_id"),
    ({"customer_id": "has space"}, "customer_id"),
    ({"customer_id": "café"}, "customer_id"),
    ({"customer_id": "abc\n"}, "customer_id"),
    ({"customer_id": 12345}, "customer_id"),
    ({"payment_method": "card"}, None),
    ({"payment_method": "bank_transfer"}, None),
    ({"payment_method": "wallet"}, None),
    ({"payment_method": "Card"}, "payment_method"),
    ({"payment_method": "cash"}, "payment_method"),
    ({"payment_method": ["card"]}, "payment_method"),
    ({"description": ""}, None),
    ({"description": "d" * 256}, None),
    ({"description": "é" * 256}, None),
    ({"description": "d" * 257}, "description"),
    ({"description": 5}, "description"),
    ({"description": None}, "description"),
    ({"description": Raw('"\\ud800"')}, "description"),  # lone surrogate
]


@pytest.mark.parametrize(("overrides", "failing"), FIELD_RULES, ids=repr)
def test_field_rules(overrides: dict[str, Any], failing: str | None) -> None:
    response = post(body_text(overrides), key=new_key())

    if failing is None:
        assert response.status == 201, response.body
        assert len(scan_items()) == 1
    else:
        assert_error(response, 400, "VALIDATION_ERROR")
        assert [d["field"] for d in response.body["error"]["details"]] == [failing]
        assert scan_items() == []


@pytest.mark.parametrize(
    ("key", "accepted"),
    [
        ("abcdefgh", True),
        ("A-Za-z0-9_-", True),
        ("k" * 128, True),
        ("k" * 7, False),
        ("k" * 129, False),
        ("has space1", False),
        ("key/with/slash", False),
        ("ключ-ключ-ключ", False),
        ("", False),
    ],
)
def test_idempotency_key_rule(key: str, accepted: bool) -> None:
    response = post(VALID_BODY, key=key)

    if accepted:
        assert response.status == 201
    else:
        assert_error(response, 400, "VALIDATION_ERROR")
        assert response.body["error"]["details"][0]["field"] == "Idempotency-Key"
        assert scan_items() == []


def test_two_different_idempotency_keys_in_one_request_are_rejected() -> None:
    event = api_event(
        "POST",
        "/process",
        VALID_BODY,
        {"Idempotency-Key": "second-key-1"},
        multi_value_headers={"Idempotency-Key": ["first-key-1", "second-key-1"]},
    )
    response = invoke(event)

    assert_error(response, 400, "VALIDATION_ERROR")
    assert response.body["error"]["details"] == [
        {"field": "Idempotency-Key", "issue": "must be sent once"}
    ]
    assert scan_items() == []


def test_body_over_16_kib_is_413_and_writes_nothing() -> None:
    padding = "x" * (16 * 1024)
    context = FakeContext()
    response = invoke(
        api_event("POST", "/process", {**VALID_BODY, "description": padding}), context
    )

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert scan_items() == []


def test_16_kib_limit_counts_bytes_and_applies_to_base64_bodies() -> None:
    def body_of(size: int) -> str:
        prefix = (
            '{"amount": "1.00", "currency": "USD", "customer_id": "c", "payment_method": "card"}'
        )
        return prefix + " " * (size - len(prefix))

    at_limit = post(body_of(16 * 1024), base64=True)
    over_limit = post(body_of(16 * 1024 + 1), base64=True)
    multibyte = post(
        '{"amount": "1.00", "currency": "USD", "customer_id": "c", "payment_method": "card", '
        '"description": "' + "é" * 8200 + '"}'  # 8,200 characters, 16,400 bytes
    )

    assert at_limit.status == 201
    assert_error(over_limit, 413, "PAYLOAD_TOO_LARGE")
    assert_error(multibyte, 413, "PAYLOAD_TOO_LARGE")
    assert len(scan_items()) == 1


def test_base64_encoded_body_is_accepted() -> None:
    response = post(VALID_BODY, key=new_key(), base64=True)

    assert response.status == 201
    assert response.body["amount"] == "12.50"


def test_invalid_base64_is_400_invalid_json() -> None:
    event = api_event("POST", "/process", "not*base64!")
    event["isBase64Encoded"] = True

    assert_error(invoke(event), 400, "INVALID_JSON")
    assert scan_items() == []


# -- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "allow"),
    [
        ("GET", "/process", 405, "METHOD_NOT_ALLOWED", "POST"),
        ("PUT", "/process", 405, "METHOD_NOT_ALLOWED", "POST"),
        ("POST", "/health", 405, "METHOD_NOT_ALLOWED", "GET"),
        ("DELETE", "/health", 405, "METHOD_NOT_ALLOWED", "GET"),
        ("GET", "/", 404, "NOT_FOUND", None),
        ("POST", "/payments", 404, "NOT_FOUND", None),
        ("GET", "/process/extra", 404, "NOT_FOUND", None),
    ],
)
def test_unknown_routes_and_methods_use_the_error_shape(
    method: str, path: str, status: int, code: str, allow: str | None
) -> None:
    context = FakeContext()
    response = invoke(api_event(method, path, VALID_BODY), context)

    assert_error(response, status, code)
    assert response.headers.get("Allow") == allow
    assert scan_items() == []


def test_greedy_proxy_resource_routes_by_path() -> None:
    event = api_event("POST", "/process", VALID_BODY)
    event["resource"] = "/{proxy+}"

    assert invoke(event).status == 201


def test_event_without_any_route_information_is_404() -> None:
    raw = invoke({})

    assert_error(raw, 404, "NOT_FOUND")


# -- health ----------------------------------------------------------------------------------


def test_health_is_200_with_the_region_and_needs_no_client_identity() -> None:
    response = invoke(api_event("GET", "/health", client=None))

    assert response.status == 200
    assert response.body == {"status": "ok", "region": REGION}
    assert scan_items() == []  # the probe reads; it never writes
