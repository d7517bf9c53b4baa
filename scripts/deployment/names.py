"""Names of everything the scripts create or look for: ``payment-<suffix>-<thing>``."""

from __future__ import annotations

PROJECT_TAG = ("Project", "payment-infrastructure")
ROLES_STACK = "payment-stackset-roles"


def stack_set(suffix: str, kind: str) -> str:
    """``kind`` is ``replica`` or ``primary``."""
    return f"payment-{suffix}-{kind}"


def artifact_bucket(suffix: str, account: str, region: str) -> str:
    # The StackSet execution role may touch payment-* buckets only.
    return f"payment-{suffix}-artifacts-{account}-{region}"


def audit_bucket(suffix: str, account: str, region: str) -> str:
    return f"payment-{suffix}-audit-{account}-{region}"


def table(suffix: str) -> str:
    return f"payment-{suffix}-payments"
