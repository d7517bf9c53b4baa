"""Parse and validate a `POST /process` request. Pure: no I/O, no clock, no randomness.

Every rule of CONTRACT §2 is checked and *every* failing field is reported at once, so a
client fixes its request in one round trip.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from handler.errors import ErrorCode, FieldIssue, PaymentError
from handler.http import ApiRequest
from handler.money import CURRENCY_DIGITS, MAX_AMOUNT, format_amount, fractional_digits

MAX_BODY_BYTES = 16 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
PAYMENT_METHODS = ("card", "bank_transfer", "wallet")
MAX_DESCRIPTION_CHARS = 256

_REQUIRED = ("amount", "currency", "customer_id", "payment_method")

# Explicit ASCII classes: `\d` would also accept other scripts' digits.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_EXPONENT_FORM = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+")
_NON_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,128}")

_AMOUNT_SHAPE = 'must be a positive decimal, as a string such as "12.50" or a JSON number'
_CURRENCIES = ", ".join(sorted(CURRENCY_DIGITS))


class JsonNumber:
    """A JSON number token exactly as written, so money never passes through float."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class PaymentRequest(NamedTuple):
    amount: Decimal
    currency: str
    customer_id: str
    payment_method: str
    description: str | None
    idempotency_key: str | None

    @property
    def amount_text(self) -> str:
        """The canonical amount: ``12.5`` and ``12.50`` are the same USD payment."""
        return format_amount(self.amount, self.currency)


def parse_payment_request(request: ApiRequest) -> PaymentRequest:
    body = decode_body(request.body, request.body_is_base64)
    document = parse_json_object(body)
    return validate_payment(document, request.headers.get(IDEMPOTENCY_HEADER.lower(), ()))


def decode_body(body: str | None, is_base64: bool) -> bytes:
    """The request body as the client sent it, size-checked before anything parses it."""
    if body is None:
        return b""
    # Cheap upper bound first (every character is at least one byte; base64 is 4 for 3):
    # never decode megabytes only to reject them.
    encoded_limit = 4 * -(-MAX_BODY_BYTES // 3) if is_base64 else MAX_BODY_BYTES
    if len(body) > encoded_limit:
        raise _too_large()
    try:
        raw = base64.b64decode(body, validate=True) if is_base64 else body.encode("utf-8")
    except (binascii.Error, ValueError):
        raise PaymentError(
            ErrorCode.INVALID_JSON, "request body is not valid base64 or UTF-8"
        ) from None
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    return raw


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PaymentError(ErrorCode.INVALID_JSON, "request body is not valid UTF-8") from None
    try:
        document = json.loads(
            text,
            parse_float=JsonNumber,
            parse_int=JsonNumber,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_members,
        )
    except json.JSONDecodeError as exc:
        raise PaymentError(
            ErrorCode.INVALID_JSON,
            f"request body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})",
        ) from None
    except (ValueError, RecursionError) as exc:
        # ValueError: our hooks (NaN/Infinity tokens, repeated member names).
        # RecursionError: thousands of nested brackets still fit in 16 KiB.
        message = str(exc) if isinstance(exc, ValueError) else "nesting too deep"
        raise PaymentError(
            ErrorCode.INVALID_JSON, f"request body is not valid JSON: {message}"
        ) from None
    if not isinstance(document, dict):
        raise PaymentError(ErrorCode.INVALID_JSON, "request body must be a JSON object")
    return document


def validate_payment(
    document: Mapping[str, Any], idempotency_keys: tuple[str, ...] = ()
) -> PaymentRequest:
    # The currency decides how many fractional digits the amount may have.
    currency, _ = _currency(document.get("currency"))
    checks: dict[str, Callable[[Any], tuple[Any, str | None]]] = {
        "amount": lambda value: _amount(value, currency),
        "currency": _currency,
        "customer_id": _customer_id,
        "payment_method": _payment_method,
        "description": _description,
    }
    values: dict[str, Any] = {}
    issues: list[FieldIssue] = []
    for name, check in checks.items():  # contract order
        if name not in document:
            if name in _REQUIRED:
                issues.append(FieldIssue(name, "is required"))
            continue
        values[name], issue = check(document[name])
        if issue:
            issues.append(FieldIssue(name, issue))
    # Then the client's extra members, in the order it sent them.
    issues.extend(
        FieldIssue(name, "is not a known field") for name in document if name not in checks
    )
    idempotency_key, key_issue = _idempotency_key(idempotency_keys)
    if key_issue:
        issues.append(FieldIssue(IDEMPOTENCY_HEADER, key_issue))

    if issues:
        count = len(issues)
        raise PaymentError(
            ErrorCode.VALIDATION_ERROR,
            f"{count} field{'s' if count > 1 else ''} failed validation",
            tuple(issues),
        )
    return PaymentRequest(
        amount=values["amount"],
        currency=values["currency"],
        customer_id=values["customer_id"],
        payment_method=values["payment_method"],
        description=values.get("description"),
        idempotency_key=idempotency_key,
    )


# Each check returns (value, None) or (None, issue); issues describe the rule, not the input.


def _currency(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str) and value in CURRENCY_DIGITS:
        return value, None
    if isinstance(value, str) and value.upper() in CURRENCY_DIGITS:
        return None, f"must be upper case: {value.upper()}"
    return None, f"must be one of {_CURRENCIES}"


def _amount(value: Any, currency: str | None) -> tuple[Decimal | None, str | None]:
    if isinstance(value, bool):
        return None, _AMOUNT_SHAPE + ", not a boolean"
    if isinstance(value, JsonNumber):
        text = value.text
    elif isinstance(value, str):
        text = value
    else:
        return None, _AMOUNT_SHAPE
    if not _PLAIN_DECIMAL.fullmatch(text):
        if _EXPONENT_FORM.fullmatch(text):
            return None, 'exponent notation is not allowed; write a plain decimal such as "12.50"'
        if text.strip().lstrip("+-").lower() in _NON_FINITE:
            return None, "must be a finite decimal"
        return None, _AMOUNT_SHAPE
    amount = Decimal(text)
    if amount <= 0:
        return None, "must be greater than 0"
    if amount > MAX_AMOUNT:
        return None, f"must be at most {MAX_AMOUNT}"
    # With an invalid currency (reported on its own) the widest precision any currency allows
    # still applies.
    allowed = CURRENCY_DIGITS[currency] if currency else max(CURRENCY_DIGITS.values())
    if fractional_digits(amount) > allowed:
        if allowed == 0:
            return None, f"{currency} amounts have no fractional digits"
        owner = currency or "any currency"
        return None, f"at most {allowed} fractional digits are allowed for {owner}"
    return amount, None


def _customer_id(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str) and _CUSTOMER_ID.fullmatch(value):
        return value, None
    return None, "must be 1-64 characters of A-Z, a-z, 0-9, _ and -"


def _payment_method(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str) and value in PAYMENT_METHODS:
        return value, None
    return None, f"must be one of {', '.join(PAYMENT_METHODS)}"


def _description(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, str):
        return None, f"must be a string of at most {MAX_DESCRIPTION_CHARS} characters"
    if len(value) > MAX_DESCRIPTION_CHARS:
        return None, f"must be at most {MAX_DESCRIPTION_CHARS} characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escaped as \udXXX in the JSON
        return None, "must be valid Unicode text"
    return value, None


def _idempotency_key(values: tuple[str, ...]) -> tuple[str | None, str | None]:
    if not values:
        return None, None
    if len(values) > 1:
        return None, "must be sent once"
    if not _IDEMPOTENCY_KEY.fullmatch(values[0]):
        return None, "must be 8-128 characters of A-Z, a-z, 0-9, _ and -"
    return values[0], None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two repeated members wins; an ambiguous payment is refused.
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise ValueError(f"member {json.dumps(name[:64])} appears more than once")
        document[name] = value
    return document


def _too_large() -> PaymentError:
    return PaymentError(ErrorCode.PAYLOAD_TOO_LARGE, f"request body exceeds {MAX_BODY_BYTES} bytes")
