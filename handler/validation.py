"""Parse and validate a `POST /process` request. Pure: no I/O, no clock, no randomness.

Every rule of CONTRACT §2 is checked and *every* failing field is reported at once, so a
client fixes its request in one round trip.

Bounded cost: every step is linear in its input, and every value's length is checked before
any regular expression sees it (the expressions are full matches without nested or
overlapping repetition, so they cannot backtrack). The body is capped at 16 KiB before it is
decoded, its nesting depth is measured in one pass before the JSON parser (which recurses)
runs, and number tokens are capped while parsing. ``benchmarks/handler_bench.py`` records the
worst request this allows against a normal one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from itertools import accumulate
from typing import Any, NamedTuple

from handler.card_numbers import contains_card_number
from handler.errors import ErrorCode, FieldIssue, PaymentError
from handler.http import ApiRequest
from handler.money import CURRENCY_DIGITS, MAX_AMOUNT, format_amount, fractional_digits

MAX_BODY_BYTES = 16 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
PAYMENT_METHODS = ("card", "bank_transfer", "wallet")
MAX_DESCRIPTION_CHARS = 256
MAX_CUSTOMER_ID_CHARS = 64
MIN_IDEMPOTENCY_KEY_CHARS = 8
MAX_IDEMPOTENCY_KEY_CHARS = 128
# The longest amount is "1000000.00" (10 characters). Insignificant zeros are accepted, and
# decimal libraries keep a value's scale when they print it (a .NET decimal has up to 28
# fractional digits: "1000000." + 28 zeros is 36 characters); 40 leaves room for a sign.
MAX_AMOUNT_CHARS = 40
# A payment document is one object of scalars (depth 1); a few levels more still get the
# precise "is not a known field" or "must be a decimal" answer instead of a parse error.
MAX_JSON_DEPTH = 32
# A payment request has five fields. A body of thousands of unknown members would otherwise
# cost a detail each, in the answer and in the work; a few extra still get named one by one.
MAX_JSON_MEMBERS = 32
# RFC 8259 section 9 lets a parser limit numbers; the only number this API reads is an amount.
# Longer tokens are refused while parsing, before anything converts them.
MAX_JSON_NUMBER_CHARS = 100

_REQUIRED = ("amount", "currency", "customer_id", "payment_method")

# Explicit ASCII classes: `\d` would also accept other scripts' digits. Each expression is
# used with fullmatch, on a value whose length was checked first.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# One way to match any input (no two repetitions compete for the same digits): linear.
_EXPONENT_FORM = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")
_NON_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_KEY_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
# A JSON string token (the standard unrolled form: no backtracking) and a bracket.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_REPLACEMENT_CHARACTER = "\ufffd"

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
    # The canonical amount: ``12.5`` and ``12.50`` are the same USD payment. Formatted once
    # here; the item and the request fingerprint both use it.
    amount_text: str


def parse_payment_request(request: ApiRequest) -> PaymentRequest:
    body = decode_body(request.body, request.body_is_base64)
    document = parse_json_object(body)
    return validate_payment(document, request.headers.get(IDEMPOTENCY_HEADER.lower(), ()))


def decode_body(body: str | None, is_base64: bool) -> bytes:
    """The request body as the client sent it, size-checked before anything parses it.

    API Gateway passes a text payload as a string and, for binary media types, the bytes in
    base64 with ``isBase64Encoded`` ("Binary media types for REST APIs in API Gateway").
    """
    if body is None:
        return b""
    # Cheap upper bound first (every character is at least one byte; base64 is 4 for 3):
    # never decode megabytes only to reject them.
    encoded_limit = 4 * -(-MAX_BODY_BYTES // 3) if is_base64 else MAX_BODY_BYTES
    if len(body) > encoded_limit:
        raise _too_large()
    if is_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise PaymentError(ErrorCode.INVALID_JSON, "request body is not valid base64") from None
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 byte sequence produces one
            raise _not_utf8() from None
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    return raw


def parse_json_body(raw: bytes | str) -> Any:
    """Parse a request body the way this API reads JSON; raises PaymentError(INVALID_JSON).

    The one parser for every entry point (the Lambda handler and the local gateway), so both
    refuse the same bodies with the same reason, at a cost linear in the body:

    * bytes must be UTF-8, strictly; a body holding U+FFFD is refused as well, because that
      is the mark a lenient decoder leaves where the bytes were not UTF-8, and a payment must
      not be stored with the client's text silently replaced;
    * nesting deeper than ``MAX_JSON_DEPTH`` is refused before parsing (the parser recurses,
      and how deep it can go depends on the caller's stack);
    * number tokens longer than ``MAX_JSON_NUMBER_CHARS`` are refused; numbers come back as
      :class:`JsonNumber` (the exact text), so money never passes through float;
    * objects of more than ``MAX_JSON_MEMBERS`` members are refused;
    * ``NaN``/``Infinity`` tokens and repeated member names are refused.

    It does not check the size: the caller decides what is too large (413).
    """
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8() from None
    else:
        text = raw
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _not_utf8() from None
    if _REPLACEMENT_CHARACTER in text:
        raise _not_utf8("it contains U+FFFD, the mark of bytes that were not UTF-8")
    depth = _nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise PaymentError(
            ErrorCode.INVALID_JSON,
            f"request body is not valid JSON for this API: nested deeper than "
            f"{MAX_JSON_DEPTH} levels",
        )
    try:
        return json.loads(
            text,
            parse_float=_json_number,
            parse_int=_json_number,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_members,
        )
    except json.JSONDecodeError as exc:
        raise PaymentError(
            ErrorCode.INVALID_JSON,
            f"request body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})",
        ) from None
    except ValueError as exc:  # our hooks: NaN/Infinity, repeated members, long numbers
        raise PaymentError(
            ErrorCode.INVALID_JSON, f"request body is not valid JSON: {exc}"
        ) from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    document = parse_json_body(raw)
    if not isinstance(document, dict):
        raise PaymentError(
            ErrorCode.INVALID_JSON, f"request body must be a JSON object, not {_kind(document)}"
        )
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
        amount_text=format_amount(values["amount"], values["currency"]),
    )


# Each check returns (value, None) or (None, issue); issues describe the rule, not the input.


def _amount(value: Any, currency: str | None) -> tuple[Decimal | None, str | None]:
    if isinstance(value, bool):
        return None, _AMOUNT_SHAPE + ", not a boolean"
    if isinstance(value, JsonNumber):
        text = value.text
    elif isinstance(value, str):
        text = value
    else:
        return None, _AMOUNT_SHAPE
    if len(text) > MAX_AMOUNT_CHARS:
        return None, f"must be at most {MAX_AMOUNT_CHARS} characters"
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


def _currency(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str) and len(value) <= 3:
        if value in CURRENCY_DIGITS:
            return value, None
        if value.upper() in CURRENCY_DIGITS:
            return None, f"must be upper case: {value.upper()}"
    return None, f"must be one of {_CURRENCIES}"


def _customer_id(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str) and _key_shaped(value, 1, MAX_CUSTOMER_ID_CHARS):
        return value, None
    return None, f"must be 1-{MAX_CUSTOMER_ID_CHARS} characters of A-Z, a-z, 0-9, _ and -"


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
    if _REPLACEMENT_CHARACTER in value:  # written as the \ufffd escape
        return None, "must not contain U+FFFD, the mark of text damaged before it arrived"
    if contains_card_number(value):
        # Never the digits themselves: the answer and the log stay out of PCI DSS scope.
        return None, "looks like a card number; card data must not be sent in a description"
    return value, None


def _idempotency_key(values: tuple[str, ...]) -> tuple[str | None, str | None]:
    if not values:
        return None, None
    if len(values) > 1:
        return None, "must be sent once"
    if not _key_shaped(values[0], MIN_IDEMPOTENCY_KEY_CHARS, MAX_IDEMPOTENCY_KEY_CHARS):
        return None, (
            f"must be {MIN_IDEMPOTENCY_KEY_CHARS}-{MAX_IDEMPOTENCY_KEY_CHARS} characters of "
            "A-Z, a-z, 0-9, _ and -"
        )
    return values[0], None


def _key_shaped(value: str, shortest: int, longest: int) -> bool:
    # Length first: the expression then never sees more than `longest` characters.
    return shortest <= len(value) <= longest and _KEY_CHARACTERS.fullmatch(value) is not None


def _nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, in linear C-speed passes (no Python loop
    per character).

    Only an approximation for text that is not JSON (an unterminated string counts its
    brackets); such text fails to parse either way.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0  # cannot be too deep: the common case costs two counts
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub('""', text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _json_number(text: str) -> JsonNumber:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise ValueError(
            f"a number of {len(text)} characters; this API reads numbers of at most "
            f"{MAX_JSON_NUMBER_CHARS}"
        )
    return JsonNumber(text)


def _kind(document: Any) -> str:
    if isinstance(document, list):
        return "an array"
    if isinstance(document, str):
        return "a string"
    if isinstance(document, JsonNumber):
        return "a number"
    if isinstance(document, bool):
        return "a boolean"
    return "null"


def _not_utf8(why: str = "") -> PaymentError:
    suffix = f" ({why})" if why else ""
    return PaymentError(ErrorCode.INVALID_JSON, f"request body is not valid UTF-8{suffix}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_JSON_MEMBERS:
        # Before the loop below, and before each member becomes a "not a known field" detail.
        raise ValueError(
            f"an object of {len(pairs)} members; this API reads objects of at most "
            f"{MAX_JSON_MEMBERS}"
        )
    # Parsers disagree on which of two repeated members wins; an ambiguous payment is refused.
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise ValueError(f"member {json.dumps(name[:64])} appears more than once")
        document[name] = value
    return document


def _too_large() -> PaymentError:
    return PaymentError(ErrorCode.PAYLOAD_TOO_LARGE, f"request body exceeds {MAX_BODY_BYTES} bytes")
