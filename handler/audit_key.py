"""The audit object key layout (CONTRACT §2): ``payments/YYYY/MM/DD/<payment_id>.json``.

Owned here, by the code that writes the objects; the templates grant ``s3:PutObject`` under
``AUDIT_KEY_PREFIX`` only, and the tools and tests that read the objects build the key here.
Standard library only, so the generator can import it without the Lambda's dependencies.
"""

from __future__ import annotations

from datetime import datetime

AUDIT_KEY_PREFIX = "payments/"


def audit_key(payment_id: str, created: datetime) -> str:
    """The key of one payment's object, dated by the payment, never by the clock: a record
    redelivered after midnight must find the object written before it."""
    return f"{AUDIT_KEY_PREFIX}{created:%Y/%m/%d}/{payment_id}.json"
