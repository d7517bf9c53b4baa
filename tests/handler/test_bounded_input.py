"""Hostile and careless bodies: every one answered 400 with the reason, nothing written, and
nothing echoed that should not be (card numbers). Cost is measured in
``benchmarks/handler_bench.py``; here only the outcomes are asserted."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.card_numbers import contains_card_number
from handler.errors import ErrorCode, PaymentError
from handler.validation import (
    MAX_AMOUNT_CHARS,
    MAX_JSON_DEPTH,
    MAX_JSON_MEMBERS,
    JsonNumber,
    parse_json_body,
    validate_payment,
)

from .conftest import VALID_BODY, api_event, invoke, new_key, post, scan_items
from .test_contract import assert_error

# -- an oracle for card numbers, written independently of handler.card_numbers ----------------

_GROUPED_DIGITS = re.compile(r"[0-9]+(?:[ -][0-9]+)*")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def has_card_number(text: str) -> bool:
    """Brute force: any stretch of whole digit groups (single space or dash between groups)
    with 13-19 digits passing Luhn. Quadratic, which is fine for a test."""
    for start in range(len(text)):
        if start > 0 and text[start - 1].isascii() and text[start - 1].isdigit():
            continue
        for end in range(start + 1, len(text) + 1):
            if end < len(text) and text[end].isascii() and text[end].isdigit():
                continue
            candidate = text[start:end]
            if not _GROUPED_DIGITS.fullmatch(candidate):
                continue
            digits = re.sub("[ -]", "", candidate)
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                return True
    return False


def description_ok(text: str) -> bool:
    """What the contract accepts as a description (for the generated requests elsewhere)."""
    return len(text) <= 256 and "\ufffd" not in text and not has_card_number(text)


def with_check_digit(prefix: str) -> str:
    return next(prefix + str(d) for d in range(10) if luhn_valid(prefix + str(d)))


TEST_CARD_NUMBERS = [
    "4111111111111111",  # Visa
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "5555 5555 5555 4444",  # Mastercard
    "3782 822463 10005",  # American Express, 15 digits
    "6011-1111-1111-1117",  # Discover
    "4222222222222",  # 13 digits
    with_check_digit("601100000000000000"),  # 19 digits
]


def body_with_description(description: str) -> dict[str, Any]:
    return {**VALID_BODY, "description": description}


@pytest.mark.usefixtures("table")
@pytest.mark.parametrize("number", TEST_CARD_NUMBERS)
@pytest.mark.parametrize("template", ["{}", "refund for card {} as agreed", "ref:{}."])
def test_a_card_number_in_the_description_is_refused_without_echoing_it(
    number: str, template: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = post(body_with_description(template.format(number)), key=new_key())

    assert_error(response, 400, "VALIDATION_ERROR")
    [detail] = response.body["error"]["details"]
    assert detail["field"] == "description"
    assert "card number" in detail["issue"]
    digits = number.replace(" ", "").replace("-", "")
    logged = capsys.readouterr().out
    for text in (response.raw["body"], logged):
        assert re.sub("[ -]", "", text).find(digits) == -1
        assert number not in text
    assert scan_items() == []


@pytest.mark.usefixtures("table")
@pytest.mark.parametrize(
    "description",
    [
        "4111 1111 1111 1112",  # fails Luhn
        "order 1234567890123",  # 13 digits, fails Luhn
        "call +1 415 555 0100",
        "411111111111",  # Luhn-valid but 12 digits: too short for a card
        "invoice 41111111111111111111",  # 20 digits in one run: a reference, not a card
        "4111  1111  1111  1111",  # groups of 4, never 13 digits between single separators
        "2026-12-02 order 77",
    ],
)
def test_digit_runs_that_are_not_card_numbers_pass(description: str) -> None:
    response = post(body_with_description(description), key=new_key())

    assert response.status == 201, response.body
    [item] = scan_items()
    assert item["description"] == {"S": description}


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("0123456789 -x"), max_size=60)
    | st.lists(st.sampled_from(TEST_CARD_NUMBERS + ["12", " ", "-", "a", "9"]), max_size=6).map(
        "".join
    )
)
def test_card_number_detection_agrees_with_a_brute_force_reading(text: str) -> None:
    assert contains_card_number(text) == has_card_number(text)


# -- nesting, long numbers, encodings ---------------------------------------------------------


@pytest.mark.usefixtures("table")
@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        '{"a":' * 1000 + "1" + "}" * 1000,
        '{"amount": ' + "[" * 1000 + "]" * 1000 + "}",
        "[" * 16_000,  # never closed
    ],
    ids=["arrays", "objects", "inside-a-member", "unterminated"],
)
def test_deep_nesting_is_400_invalid_json_saying_so(body: str) -> None:
    response = post(body, key=new_key())

    assert_error(response, 400, "INVALID_JSON")
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.body["error"]["message"]
    assert scan_items() == []


@pytest.mark.usefixtures("table")
def test_thousands_of_unknown_members_are_refused_as_one_reason() -> None:
    members = ",".join(f'"m{index}": 0' for index in range(1500))
    response = post("{" + members + "}", key=new_key())

    assert_error(response, 400, "INVALID_JSON")
    assert f"at most {MAX_JSON_MEMBERS}" in response.body["error"]["message"]
    assert len(response.raw["body"]) < 300  # not a detail per member


@pytest.mark.usefixtures("table")
def test_a_few_unknown_members_are_still_named_one_by_one() -> None:
    extra = {f"m{index}": 0 for index in range(MAX_JSON_MEMBERS - len(VALID_BODY))}
    response = post({**VALID_BODY, **extra}, key=new_key())

    assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in response.body["error"]["details"]] == list(extra)


@pytest.mark.usefixtures("table")
def test_brackets_inside_strings_are_not_nesting() -> None:
    response = post(body_with_description("[" * 200 + '{"}\\"' + "]" * 50), key=new_key())

    assert response.status == 201, response.body


@pytest.mark.usefixtures("table")
def test_shallow_nesting_in_a_field_is_that_fields_validation_error() -> None:
    response = post({**VALID_BODY, "amount": [[["12.50"]]]}, key=new_key())

    assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in response.body["error"]["details"]] == ["amount"]


@pytest.mark.usefixtures("table")
@pytest.mark.parametrize(
    "body",
    ["1" * 16_200, '{"amount": ' + "1" * 16_200 + "}", '{"x": -0.' + "0" * 16_000 + "1}"],
    ids=["whole-body", "amount", "fraction"],
)
def test_a_number_thousands_of_digits_long_is_named_as_such(body: str) -> None:
    response = post(body, key=new_key())

    assert_error(response, 400, "INVALID_JSON")
    message = response.body["error"]["message"]
    assert "a number of" in message and "characters" in message
    assert "must be a JSON object" not in message
    assert scan_items() == []


@pytest.mark.usefixtures("table")
@pytest.mark.parametrize(
    "amount",
    ["1" * 16_250 + "a", "1" * (MAX_AMOUNT_CHARS + 1), "0." + "0" * 60 + "1", "1" * 500 + "e5"],
)
def test_an_overlong_amount_string_is_the_amounts_validation_error(amount: str) -> None:
    response = post({**VALID_BODY, "amount": amount}, key=new_key())

    assert_error(response, 400, "VALIDATION_ERROR")
    [detail] = response.body["error"]["details"]
    assert detail == {"field": "amount", "issue": f"must be at most {MAX_AMOUNT_CHARS} characters"}


@pytest.mark.usefixtures("table")
def test_insignificant_zeros_within_the_cap_are_still_accepted() -> None:
    amount = "12.5" + "0" * (MAX_AMOUNT_CHARS - 4)
    response = post({**VALID_BODY, "amount": amount}, key=new_key())

    assert response.status == 201
    assert response.body["amount"] == "12.50"


@pytest.mark.usefixtures("table")
@pytest.mark.parametrize(
    ("body", "base64"),
    [
        (b'{"amount": "12.50", "currency": "USD", "customer_id": "c\xff", '
         b'"payment_method": "card"}', True),
        (b'{"description": "caf\xc3"}', True),
        ('{"amount": "12.50", "currency": "USD", "customer_id": "c", "payment_method": "card", '
         '"description": "caf\ufffd"}', False),
    ],
    ids=["invalid-byte-base64", "truncated-sequence-base64", "replacement-character-text"],
)  # fmt: skip
def test_a_body_that_is_not_utf8_is_refused_not_stored_with_replacements(
    body: Any, base64: bool
) -> None:
    response = post(body, key=new_key(), base64=base64)

    assert_error(response, 400, "INVALID_JSON")
    assert "not valid UTF-8" in response.body["error"]["message"]
    assert scan_items() == []


@pytest.mark.usefixtures("table")
def test_an_escaped_replacement_character_in_the_description_is_refused() -> None:
    body = json.dumps(body_with_description("caf\ufffd"))  # ASCII JSON: written as \ufffd
    response = post(body, key=new_key())

    assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in response.body["error"]["details"]] == ["description"]


def test_parse_json_body_is_the_one_reusable_parser() -> None:
    """What the local gateway calls: bytes or text in, the document or the domain error out."""
    document = parse_json_body(b'{"amount": 12.50, "n": [1, {"x": null}]}')
    assert isinstance(document["amount"], JsonNumber) and document["amount"].text == "12.50"
    assert parse_json_body('"text"') == "text"
    for bad in (b"\xff", "[" * 1000, "1" * 16_200, '{"a": NaN}', '{"a": 1, "a": 2}', "{"):
        with pytest.raises(PaymentError) as raised:
            parse_json_body(bad)
        assert raised.value.code is ErrorCode.INVALID_JSON


# -- validation outcome for long inputs (cost is the benchmark's) ----------------------------


def amount_rule(text: str) -> bool:
    """CONTRACT §2 for a USD amount string, with this API's length cap."""
    if len(text) > MAX_AMOUNT_CHARS or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return False
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        return False
    return 0 < value <= 1_000_000 and value == value.quantize(Decimal("0.01"))


long_amounts = st.one_of(
    st.text(alphabet=st.sampled_from("0123456789.eE-+ a"), max_size=30),
    st.tuples(
        st.integers(0, 20_000), st.sampled_from(["", "a", ".", ".5", "e5", "e", "1.2.3"])
    ).map(lambda t: "1" * t[0] + t[1]),
    st.tuples(st.integers(0, 60), st.integers(0, 60)).map(
        lambda t: "0" * t[0] + "12.5" + "0" * t[1]
    ),
)


@settings(max_examples=300, deadline=None)
@given(amount=long_amounts, description_length=st.integers(0, 5000))
def test_validation_is_right_for_inputs_of_any_length(amount: str, description_length: int) -> None:
    description = "x" * description_length
    document = {**VALID_BODY, "amount": amount, "description": description}
    expected = {name for name, ok in (
        ("amount", amount_rule(amount)), ("description", description_length <= 256)
    ) if not ok}  # fmt: skip

    try:
        validate_payment(document, (new_key(),))
        failing: set[str] = set()
    except PaymentError as error:
        assert error.code is ErrorCode.VALIDATION_ERROR
        failing = {detail.field for detail in error.details}

    assert failing == expected


@pytest.mark.usefixtures("table")
@pytest.mark.parametrize(
    "key", ["k" * 16_000, "k" * 129 + "!" * 5000], ids=["long", "long-and-invalid"]
)
def test_an_overlong_idempotency_key_is_its_validation_error(key: str) -> None:
    response = invoke(api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": key}))

    assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in response.body["error"]["details"]] == ["Idempotency-Key"]
