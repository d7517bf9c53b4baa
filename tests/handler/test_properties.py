"""Generated requests, thousands of them: never a 5xx, never a write for a rejected request,
every failing field named (and only those), every valid request accepted exactly.

One table serves all examples of a test; each example leaves it empty again.
"""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import Any, NamedTuple

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.money import CURRENCY_DIGITS, format_amount
from handler.payments import payment_id_for, request_hash
from handler.validation import PAYMENT_METHODS, JsonNumber, validate_payment

from .conftest import TABLE, AwsCalls, FakeContext, api_event, invoke, scan_items
from .test_bounded_input import description_ok

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = ("amount", "currency", "customer_id", "payment_method", "description")
KEY_HEADER_SPELLINGS = ("Idempotency-Key", "idempotency-key", "IDEMPOTENCY-KEY", "iDempotency-kEY")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,128}")


class Raw(NamedTuple):
    """A JSON number token written as is (the handler must read it without float)."""

    text: str


def encode(document: dict[str, Any]) -> str:
    return (
        "{"
        + ",".join(
            f"{json.dumps(name)}:{v.text if isinstance(v, Raw) else json.dumps(v)}"
            for name, v in document.items()
        )
        + "}"
    )


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
not_a_string = st.none() | st.booleans() | st.integers() | st.lists(json_scalars, max_size=2)


# -- amounts ---------------------------------------------------------------------------------


def valid_amounts(digits: int) -> st.SearchStrategy[Any]:
    smallest = Decimal(1).scaleb(-digits)
    values = st.decimals(min_value=smallest, max_value=Decimal(1_000_000), places=digits)
    return st.tuples(values, st.integers(0, 3), st.booleans()).map(
        # Written as a JSON string or number, with or without insignificant trailing zeros.
        lambda t: _spell(t[0], t[1], as_number=t[2])
    )


def _spell(value: Decimal, trailing_zeros: int, as_number: bool) -> Any:
    text = f"{value:f}"
    if trailing_zeros:
        text += ("" if "." in text else ".") + "0" * trailing_zeros
    return Raw(text) if as_number else text


def amount_value(spelled: Any) -> Decimal:
    return Decimal(spelled.text if isinstance(spelled, Raw) else spelled)


# Invalid whatever the currency.
invalid_amounts = st.one_of(
    st.booleans(),
    st.none(),
    st.lists(json_scalars, max_size=2),
    st.dictionaries(st.text(max_size=5), json_scalars, max_size=2),
    st.decimals(max_value=Decimal(0), places=2, allow_nan=False, allow_infinity=False).map(
        lambda d: f"{d:f}"
    ),
    st.decimals(min_value=Decimal("1000000.01"), max_value=Decimal(10**12), places=2).map(
        lambda d: Raw(f"{d:f}")
    ),
    # Three to six significant fractional digits: more than any currency allows.
    st.tuples(st.integers(0, 999_999), st.integers(3, 6), st.integers(1, 9)).map(
        lambda t: f"{t[0]}.{'0' * (t[1] - 1)}{t[2]}"
    ),
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "inf",
            "1e3",
            "1E+2",
            "12,50",
            " 1.00",
            "",
            "0x10",
            "١٢",
            "12.5.0",
            "+1",
            "1_000",
        ]
    ),
    st.sampled_from([Raw("1e3"), Raw("2.5E-1"), Raw("-1"), Raw("0"), Raw("1.001")]),
    st.text(max_size=12).filter(lambda t: not PLAIN_DECIMAL.fullmatch(t)),
)
# Valid for two-digit currencies, invalid for JPY.
jpy_fractions = st.tuples(st.integers(0, 999_999), st.integers(1, 99)).map(
    lambda t: f"{t[0]}.{t[1]:02d}".rstrip("0")
)


# -- request bodies --------------------------------------------------------------------------


class Case(NamedTuple):
    body: str
    headers: dict[str, str]
    base64: bool
    failing: set[str]
    currency: Any
    amount: Any


def _member(
    draw: st.DrawFn,
    document: dict[str, Any],
    failing: set[str],
    name: str,
    valid: st.SearchStrategy[Any],
    invalid: st.SearchStrategy[Any],
    required: bool = True,
) -> None:
    """Field ``name`` valid (mostly), invalid or absent; ``failing`` gets it unless it passes."""
    mode = draw(st.sampled_from(["valid"] * 8 + ["invalid", "invalid", "absent"]))
    if mode == "valid":
        document[name] = draw(valid)
    elif mode == "invalid":
        document[name] = draw(invalid)
        failing.add(name)
    elif required:
        failing.add(name)


def _document(draw: st.DrawFn, failing: set[str]) -> dict[str, Any]:
    """The request's members, each valid, invalid or absent, plus unknown ones (all failing)."""
    document: dict[str, Any] = {}
    _member(
        draw,
        document,
        failing,
        "currency",
        st.sampled_from(sorted(CURRENCY_DIGITS)),
        st.text(max_size=4).filter(lambda t: t not in CURRENCY_DIGITS) | not_a_string,
    )
    currency = document.get("currency")
    digits = CURRENCY_DIGITS.get(currency, 2) if "currency" not in failing else 2
    invalid = invalid_amounts | jpy_fractions if currency == "JPY" else invalid_amounts
    _member(draw, document, failing, "amount", valid_amounts(digits), invalid)
    _member(
        draw,
        document,
        failing,
        "customer_id",
        st.from_regex(CUSTOMER_ID, fullmatch=True),
        st.text(max_size=70).filter(lambda t: not CUSTOMER_ID.fullmatch(t)) | not_a_string,
    )
    _member(
        draw,
        document,
        failing,
        "payment_method",
        st.sampled_from(PAYMENT_METHODS),
        st.text(max_size=15).filter(lambda t: t not in PAYMENT_METHODS) | not_a_string,
    )
    _member(
        draw,
        document,
        failing,
        "description",
        # No card number and no U+FFFD: both are refused (see test_bounded_input).
        st.text(max_size=256).filter(description_ok),
        st.text(min_size=257, max_size=300)
        | not_a_string
        | st.just(Raw('"lone \\udc80 surrogate"')),
        required=False,
    )
    extras = draw(
        st.just({})
        | st.dictionaries(
            st.text(max_size=10).filter(lambda n: n not in FIELDS), json_values, max_size=2
        )
    )
    document.update(extras)
    failing.update(extras)
    return document


def _headers(draw: st.DrawFn, failing: set[str]) -> dict[str, str]:
    """Arbitrary headers, and an Idempotency-Key in any spelling: none, valid or invalid."""
    headers = draw(
        st.dictionaries(
            st.text(
                st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12
            ).filter(lambda n: n.lower() != "idempotency-key"),
            st.text(max_size=20),
            max_size=3,
        )
    )
    key_mode = draw(st.sampled_from(["none", "valid", "valid", "valid", "invalid"]))
    if key_mode != "none":
        spelling = draw(st.sampled_from(KEY_HEADER_SPELLINGS))
        if key_mode == "valid":
            headers[spelling] = draw(st.from_regex(IDEMPOTENCY_KEY, fullmatch=True))
        else:
            headers[spelling] = draw(
                st.text(max_size=140).filter(lambda k: not IDEMPOTENCY_KEY.fullmatch(k))
            )
            failing.add("Idempotency-Key")
    return headers


@st.composite
def cases(draw: st.DrawFn) -> Case:
    failing: set[str] = set()
    document = _document(draw, failing)
    order = draw(st.permutations(list(document)))
    headers = _headers(draw, failing)
    return Case(
        body=encode({name: document[name] for name in order}),
        headers=headers,
        base64=draw(st.booleans()),
        failing=failing,
        currency=document.get("currency"),
        amount=document.get("amount"),
    )


def assert_error_shape(response: Any) -> None:
    error = response.body["error"]
    assert error["request_id"] == response.request_id
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    for detail in error.get("details", []):
        assert set(detail) == {"field", "issue"}
        assert isinstance(detail["field"], str) and detail["issue"]


@pytest.mark.usefixtures("table")
@settings(FUZZ, max_examples=1500)
@given(case=cases())
def test_generated_requests_name_exactly_the_failing_fields(
    case: Case, processor_calls: AwsCalls, dynamodb: Any
) -> None:
    processor_calls.counts.clear()
    context = FakeContext()
    event = api_event("POST", "/process", case.body, case.headers, base64=case.base64)

    response = invoke(event, context)
    event_label = "accepted" if not case.failing else f"{len(case.failing)} failing field(s)"
    hypothesis.event(event_label)

    if case.failing:
        assert response.status == 400, response.body
        assert_error_shape(response)
        assert response.body["error"]["code"] == "VALIDATION_ERROR"
        named = [detail["field"] for detail in response.body["error"]["details"]]
        assert sorted(named) == sorted(case.failing)
        assert processor_calls.total == 0  # rejected before any I/O: nothing written anywhere
    else:
        assert response.status == 201, response.body
        assert response.body["amount"] == format_amount(amount_value(case.amount), case.currency)
        item = dynamodb.get_item(
            TableName=TABLE, Key={"payment_id": {"S": response.body["payment_id"]}}
        )["Item"]
        assert Decimal(item["amount"]["N"]) == amount_value(case.amount)
        dynamodb.delete_item(TableName=TABLE, Key={"payment_id": item["payment_id"]})
    assert scan_items(dynamodb) == []


# -- arbitrary input -------------------------------------------------------------------------

arbitrary_bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: ("base64", base64.b64encode(b).decode())),
    json_values.map(json.dumps),
    st.dictionaries(st.text(max_size=15), json_values, max_size=6).map(json.dumps),
    st.fixed_dictionaries({name: json_values for name in FIELDS}).map(json.dumps),
    st.text(max_size=300).map(lambda t: ("base64", t)),  # mostly not base64 at all
    st.integers(16 * 1024 + 1, 20_000).map(lambda n: '{"description": "' + "x" * n + '"}'),
)
arbitrary_headers = st.none() | st.dictionaries(
    st.sampled_from(KEY_HEADER_SPELLINGS) | st.text(max_size=15),
    st.text(max_size=140),
    max_size=4,
)


@pytest.mark.usefixtures("table")
@settings(FUZZ, max_examples=1200)
@given(body=arbitrary_bodies, headers=arbitrary_headers, keep_context=st.booleans())
def test_arbitrary_requests_never_cause_a_5xx_or_a_write(
    body: Any,
    headers: dict[str, str] | None,
    keep_context: bool,
    processor_calls: AwsCalls,
    dynamodb: Any,
) -> None:
    processor_calls.counts.clear()
    is_base64 = isinstance(body, tuple)
    event = api_event("POST", "/process", body[1] if is_base64 else body, headers or {})
    event["isBase64Encoded"] = is_base64
    event["headers"] = headers  # as generated, None included
    if not keep_context:
        del event["requestContext"]
    context = FakeContext()

    response = invoke(event, context)
    hypothesis.event(f"{response.status} {response.body.get('error', {}).get('code')}")

    assert response.status < 500
    if response.status >= 400:
        assert_error_shape(response)
        # Without the request context there is no authenticated client: refused before parsing.
        expected = (
            {"INVALID_JSON", "VALIDATION_ERROR", "PAYLOAD_TOO_LARGE"}
            if keep_context
            else {"CLIENT_NOT_AUTHORIZED"}
        )
        assert response.body["error"]["code"] in expected
        assert processor_calls.total == 0
        assert scan_items(dynamodb) == []
    else:  # pragma: no cover - a random body is practically never a valid payment
        dynamodb.delete_item(
            TableName=TABLE, Key={"payment_id": {"S": response.body["payment_id"]}}
        )


# -- pure properties of the idempotency fingerprint -----------------------------------------


@st.composite
def equivalent_spellings(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """One payment, written twice: amount as string or number, with or without trailing zeros."""
    currency = draw(st.sampled_from(sorted(CURRENCY_DIGITS)))
    digits = CURRENCY_DIGITS[currency]
    value = draw(
        st.decimals(
            min_value=Decimal(1).scaleb(-digits), max_value=Decimal(1_000_000), places=digits
        )
    )
    base = {
        "currency": currency,
        "customer_id": draw(st.from_regex(CUSTOMER_ID, fullmatch=True)),
        "payment_method": draw(st.sampled_from(PAYMENT_METHODS)),
    }
    if draw(st.booleans()):
        base["description"] = draw(st.text(max_size=256).filter(description_ok))

    def spelled() -> dict[str, Any]:
        trailing_zeros, as_number = draw(st.integers(0, 3)), draw(st.booleans())
        return {**base, "amount": _spell(value, trailing_zeros, as_number)}

    return spelled(), spelled()


def _validated(document: dict[str, Any], key: str) -> Any:
    members = dict(document)
    if isinstance(members["amount"], Raw):
        members["amount"] = JsonNumber(members["amount"].text)
    return validate_payment(members, (key,))


@settings(FUZZ, max_examples=1000)
@given(pair=equivalent_spellings(), key=st.from_regex(IDEMPOTENCY_KEY, fullmatch=True))
def test_the_same_payment_spelled_differently_has_one_fingerprint(
    pair: tuple[dict[str, Any], dict[str, Any]], key: str
) -> None:
    first, second = (_validated(document, key) for document in pair)

    assert request_hash(first) == request_hash(second)
    assert first.amount_text == second.amount_text
    assert payment_id_for(first.idempotency_key, "client") == payment_id_for(
        second.idempotency_key, "client"
    )


@settings(FUZZ, max_examples=300)
@given(pair=equivalent_spellings(), other=st.sampled_from(["1", "4", "999999", "1000000"]))
def test_a_different_amount_has_a_different_fingerprint(
    pair: tuple[dict[str, Any], dict[str, Any]], other: str
) -> None:
    original = _validated(pair[0], "same-key-123")
    changed = _validated({**pair[0], "amount": other}, "same-key-123")

    assert (original.amount == changed.amount) == (request_hash(original) == request_hash(changed))
