"""Card numbers in free text: a payment's description must never carry one.

A primary account number (PAN) put into ``description`` would be stored in the table, copied
to every replica, written to the audit trail and kept for years: all of that would come into
PCI DSS scope (requirement 3: protect stored account data). So a description that contains
one is refused, and the refusal never repeats the digits.

What counts as a card number: 13 to 19 ASCII digits (ISO/IEC 7812 PAN lengths) that pass the
Luhn check, written together or in groups separated by single spaces or dashes
("4111 1111 1111 1111", "4111-1111-1111-1111"). Within a longer run of grouped digits every
stretch of whole groups is tried, so a number followed by an expiry group is still found;
an ungrouped run of more than 19 digits is a reference number, not a card.

Cost: one pass over the text, plus at most seven window checks per group start (a window of
13-19 digits ends at a group boundary), each O(1) through prefix sums: linear in the text.
No regular expression is involved.
"""

from __future__ import annotations

from bisect import bisect_left

MIN_DIGITS = 13
MAX_DIGITS = 19
SEPARATORS = frozenset(" -")
_DIGITS = "0123456789"
# Luhn doubling: 2d, less 9 when that is two digits.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def contains_card_number(text: str) -> bool:
    """Whether ``text`` contains a Luhn-valid 13-19 digit number, grouped or not."""
    if sum(text.count(digit) for digit in _DIGITS) < MIN_DIGITS:
        return False  # the common case: far too few digits to hold a card number
    digits: list[int] = []
    group_starts: list[int] = [0]
    after_separator = False
    for char in text:
        if "0" <= char <= "9":
            digits.append(ord(char) - 48)
            after_separator = False
        elif char in SEPARATORS and digits and not after_separator:
            group_starts.append(len(digits))
            after_separator = True
        else:
            if _run_holds_card_number(digits, group_starts):
                return True
            digits, group_starts, after_separator = [], [0], False
    return _run_holds_card_number(digits, group_starts)


def _run_holds_card_number(digits: list[int], group_starts: list[int]) -> bool:
    count = len(digits)
    if count < MIN_DIGITS:
        return False
    bounds = sorted({*group_starts, count})
    # prefix[p][i]: the Luhn sum of digits[:i] when the digits whose index has parity p are
    # the doubled ones. A window [start, end) doubles every second digit from its right end,
    # i.e. the indexes with the parity of `end`.
    prefix = ([0], [0])
    for index, digit in enumerate(digits):
        doubled = _DOUBLED[digit]
        prefix[0].append(prefix[0][-1] + (doubled if index % 2 == 0 else digit))
        prefix[1].append(prefix[1][-1] + (doubled if index % 2 == 1 else digit))
    last = len(bounds)
    for i, start in enumerate(bounds):
        # Only windows of 13-19 digits: at most seven ends per start, found by bisection.
        j = bisect_left(bounds, start + MIN_DIGITS, i + 1)
        while j < last and bounds[j] - start <= MAX_DIGITS:
            end = bounds[j]
            sums = prefix[end % 2]
            if (sums[end] - sums[start]) % 10 == 0:
                return True
            j += 1
    return False
