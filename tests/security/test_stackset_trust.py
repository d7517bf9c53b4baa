"""Who may assume the StackSet roles, evaluated as IAM evaluates a trust policy."""

from __future__ import annotations

import json

from scripts.emulator.iam_policy import Request, evaluate
from templates_src.config import Config
from templates_src.stackset_roles import build_stackset_roles

from .test_execution_role import resolve

ACCOUNT = "123456789012"


def _admin_trust(config: Config) -> dict:
    template = json.loads(build_stackset_roles(config).to_json())
    role = template["Resources"]["AdministrationRole"]["Properties"]
    return resolve(role["AssumeRolePolicyDocument"], {}, config.primary_region)


def _assume(service: str, **context: str) -> Request:
    return Request("sts:AssumeRole", principal={"Service": service}, context=context)


def _context(region: str = "us-east-1") -> dict[str, str]:
    return {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stackset/payment-dev-x:1",
    }


def test_an_opt_in_target_region_gets_its_regional_cloudformation_principal():
    """F7: StackSets reaches a region disabled by default through cloudformation.<region>."""
    trust = _admin_trust(Config(replica_regions=("ap-east-1", "us-west-2")))
    regional = _assume("cloudformation.ap-east-1.amazonaws.com", **_context("ap-east-1"))
    assert evaluate(regional, [trust]).allowed
    assert evaluate(_assume("cloudformation.amazonaws.com", **_context()), [trust]).allowed
    # Only the configured opt-in regions: not every regional principal.
    other = _assume("cloudformation.me-south-1.amazonaws.com", **_context("me-south-1"))
    assert not evaluate(other, [trust]).allowed


def test_regions_enabled_by_default_need_no_regional_principal():
    trust = _admin_trust(Config())
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": ["cloudformation.amazonaws.com"]}
