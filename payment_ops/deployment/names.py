"""Names of everything the scripts create or look for: ``payment-<suffix>-<thing>``."""

from __future__ import annotations

from templates_src import common

PROJECT_TAG = ("Project", "payment-infrastructure")
ROLES_STACK = "payment-stackset-roles"


# The replica regions' keys and buckets come before the primary's global table; the standby
# service in the replica regions needs the table replica the primary made.
DEPLOY_ORDER = ("replica", "primary", "standby")
DELETE_ORDER = tuple(reversed(DEPLOY_ORDER))


def stack_set(suffix: str, kind: str) -> str:
    """``kind`` is one of ``DEPLOY_ORDER``."""
    return common.stack_set_name(suffix, kind)


def artifact_prefix(suffix: str, account: str) -> str:
    # The StackSet execution role may touch payment-* buckets only. The generator owns the
    # formula, so its configuration check proves the very names deploy uses.
    return common.artifact_prefix(suffix, account)


def artifact_bucket(suffix: str, account: str, region: str) -> str:
    """``<prefix>-<region>``: the standby template finds its region's bucket by the prefix."""
    return common.artifact_bucket(suffix, account, region)


def audit_bucket(suffix: str, account: str, region: str) -> str:
    return f"payment-{suffix}-audit-{account}-{region}"


def table(suffix: str) -> str:
    return f"payment-{suffix}-payments"


# The account baseline's stack set: one per account, shared by every environment, so outside
# the payment-<suffix>-* names an environment's discovery and delete act on.
ACCOUNT_BASELINE_STACK_SET = "PaymentAccountBaseline"
