"""Preflight: every target region is enabled for the account, before anything is created.

Regions introduced after 20 March 2019 are disabled until an account enables them, and
CloudFormation creates a stack instance only in a region enabled for the target account *and*
the administrator account ("Prepare to perform StackSet operations in AWS Regions that are
disabled by default", https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
stacksets-opt-in-regions.html). Without this check the first stack set operation fails in that
region after the regions before it were deployed.

The account's view comes from ``account:ListRegions`` ("Enable or disable AWS Regions in your
account", AWS Account Management Reference Guide: ``RegionOptStatus`` ENABLED,
ENABLED_BY_DEFAULT, ENABLING, DISABLING, DISABLED); where the caller may not call the Account
API, from ``ec2:DescribeRegions`` with ``AllRegions`` (``OptInStatus`` opt-in-not-required,
opted-in, not-opted-in).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import EXIT_USAGE, DeployError

ENABLED_ACCOUNT_STATUSES = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})
ENABLED_EC2_STATUSES = frozenset({"opt-in-not-required", "opted-in"})


def _error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def _from_account(account: Any) -> dict[str, str]:
    statuses: dict[str, str] = {}
    kwargs: dict[str, str] = {}
    while True:
        page = account.list_regions(**kwargs)
        for region in page.get("Regions", []):
            statuses[region["RegionName"]] = region["RegionOptStatus"]
        if not page.get("NextToken"):
            return statuses
        kwargs = {"NextToken": page["NextToken"]}


def _from_ec2(ec2: Any) -> dict[str, str]:
    regions = ec2.describe_regions(AllRegions=True)["Regions"]
    return {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required") for r in regions}


def region_statuses(account: Any, ec2: Any) -> tuple[dict[str, str], frozenset[str]]:
    """Every region's opt-in status and the statuses that mean enabled (``account`` None:
    from EC2 alone, the caller's own account's view)."""
    if account is None:
        return _from_ec2(ec2), ENABLED_EC2_STATUSES
    try:
        return _from_account(account), ENABLED_ACCOUNT_STATUSES
    except Exception as error:
        if _error_code(error) not in {"AccessDeniedException", "AccessDenied", "UnknownOperation"}:
            raise
    return _from_ec2(ec2), ENABLED_EC2_STATUSES


def not_enabled(regions: Iterable[str], account: Any, ec2: Any) -> dict[str, str]:
    """The target regions the account has not enabled, with the status AWS reports for each
    (``unknown`` for a region AWS does not list for the account)."""
    statuses, enabled = region_statuses(account, ec2)
    return {
        region: statuses.get(region, "unknown")
        for region in regions
        if statuses.get(region) not in enabled
    }


def require_enabled(regions: Iterable[str], account: Any, ec2: Any, account_id: str = "") -> None:
    """Raise a usage error (exit 2, nothing changed) naming every target region not enabled."""
    missing = not_enabled(regions, account, ec2)
    if not missing:
        return
    listed = ", ".join(f"{region} ({status})" for region, status in missing.items())
    whose = f"account {account_id}" if account_id else "this account"
    raise DeployError(
        f"target region(s) not enabled for {whose}: {listed}. Enable them first "
        "(aws account enable-region --region-name REGION) and wait until they are ENABLED; "
        "nothing was changed",
        EXIT_USAGE,
    )
