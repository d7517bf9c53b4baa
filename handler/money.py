"""Currencies and exact decimal amounts (never floats)."""

from __future__ import annotations

from decimal import Context, Decimal

# ISO 4217 minor units of the currencies the API accepts.
CURRENCY_DIGITS: dict[str, int] = {
    "AUD": 2,
    "CAD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "USD": 2,
}

MAX_AMOUNT = Decimal("1000000")

# DynamoDB numbers reach 10**125; quantizing one to two places must not hit the default
# 28-digit precision (which would raise, or round an amount).
_WIDE = Context(prec=200)


def fractional_digits(value: Decimal) -> int:
    """Significant fractional digits of a finite decimal: ``12.50`` has 1, ``100`` has 0.

    JSON does not distinguish ``12.5`` from ``12.50``, so trailing zeros carry no precision.
    Counted on the exact digits: ``Decimal.normalize`` would round to the context precision
    and could make ``1.000…0001`` look like ``1``.
    """
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "finite values only"
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing_zeros == len(digits):  # zero
        return 0
    return max(0, -(exponent + trailing_zeros))


def format_amount(value: Decimal, currency: str) -> str:
    """The amount as a plain decimal string with the currency's minor units: ``12.50``, ``1000``.

    A value the currency cannot hold exactly (or an unknown currency) is written out as it
    is: an amount is never rounded for display.
    """
    digits = CURRENCY_DIGITS.get(currency)
    if digits is None or fractional_digits(value) > digits:
        return f"{value:f}"
    return f"{value.quantize(Decimal(1).scaleb(-digits), context=_WIDE):f}"
