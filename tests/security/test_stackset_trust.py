"""Who may assume the StackSet roles, evaluated as IAM evaluates a trust policy."""

from __future__ import annotations

import json

from payment_ops.emulator.iam_policy import Request, evaluate
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


def test_cloudformation_may_assume_the_administration_role_only_for_this_accounts_stack_sets():
    trust = _admin_trust(Config())
    assert evaluate(_assume("cloudformation.amazonaws.com", **_context()), [trust]).allowed
    other = {**_context(), "aws:SourceAccount": "444455556666"}
    assert not evaluate(_assume("cloudformation.amazonaws.com", **other), [trust]).allowed
    foreign_arn = {
        **_context(),
        "aws:SourceArn": "arn:aws:cloudformation:us-east-1:444455556666:stackset/x:1",
    }
    assert not evaluate(_assume("cloudformation.amazonaws.com", **foreign_arn), [trust]).allowed
    no_source = _assume("cloudformation.amazonaws.com")
    assert not evaluate(no_source, [trust]).allowed


def test_the_administration_role_reaches_only_the_configured_target_accounts():
    template = json.loads(build_stackset_roles(Config()).to_json())
    role = template["Resources"]["AdministrationRole"]["Properties"]
    [policy] = [resolve(p["PolicyDocument"], {}, "us-east-1") for p in role["Policies"]]

    def assume(account: str) -> bool:
        execution = f"arn:aws:iam::{account}:role/AWSCloudFormationStackSetExecutionRole"
        request = Request("sts:AssumeRole", execution, {"aws:ResourceAccount": account})
        return evaluate(request, [policy]).allowed

    assert assume(ACCOUNT)  # no targets configured: this account only
    assert not assume("444455556666")
    # With TargetAccountIds given, exactly those accounts.
    [raw] = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert raw["Condition"]["StringEquals"]["aws:ResourceAccount"] == {
        "Fn::If": ["OnlyThisAccount", [{"Ref": "AWS::AccountId"}], {"Ref": "TargetAccountIds"}]
    }
