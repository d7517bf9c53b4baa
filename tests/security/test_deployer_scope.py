"""The execution role reaches only this product's APIs, web ACLs and buckets, and never the
break-glass purge role, evaluated as IAM evaluates it (``payment_ops.emulator.iam_policy``).

Condition keys as the Service Authorization Reference lists them: API Gateway's
``aws:RequestTag``/``aws:ResourceTag`` (inherited by a REST API's children, "API Gateway
resources that can be tagged") and ``aws:TagKeys`` on ``/tags``; WAF's ARNs
``regional/<type>/<name>/<id>``; S3's ``s3:ResourceAccount``."""

from __future__ import annotations

import json

import pytest

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import EXPLICIT_DENY, Request
from templates_src.build import render_all
from templates_src.config import Config
from templates_src.names import PROJECT

from .test_execution_role import ACCOUNT, execution_role

API = "arn:aws:apigateway:us-east-1::"
OURS = {"aws:ResourceTag/Project": PROJECT}
THEIRS = {"aws:ResourceTag/Project": "billing"}
OTHER_ACCOUNT = "210987654321"


@pytest.fixture(scope="module")
def role() -> iam_check.Role:
    return execution_role({i.file_name: json.loads(i.body) for i in render_all(Config())})


def _allowed(role, action: str, resource: str, context: dict | None = None) -> bool:
    return iam_check.decide(role, Request(action, resource, context or {})).allowed


# --- API Gateway ------------------------------------------------------------------------------


def test_apis_and_domains_are_created_only_with_this_products_tag(role):
    for collection in ("/restapis", "/domainnames"):
        tagged = {"aws:RequestTag/Project": PROJECT}
        assert _allowed(role, "apigateway:POST", API + collection, tagged)
        assert not _allowed(role, "apigateway:POST", API + collection)
        assert not _allowed(
            role, "apigateway:POST", API + collection, {"aws:RequestTag/Project": "billing"}
        )


@pytest.mark.parametrize(
    ("action", "path"),
    [
        ("apigateway:PUT", "/restapis/a1b2c3d4e5"),  # replace the whole API definition
        ("apigateway:DELETE", "/restapis/a1b2c3d4e5"),
        ("apigateway:PATCH", "/restapis/a1b2c3d4e5/stages/prod"),  # e.g. switch logging off
        ("apigateway:POST", "/restapis/a1b2c3d4e5/deployments"),
        ("apigateway:UpdateRestApiPolicy", "/restapis/a1b2c3d4e5"),
        ("apigateway:DELETE", "/domainnames/pay.example.com"),
    ],
)
def test_another_teams_api_is_out_of_reach_this_products_is_not(role, action, path):
    assert _allowed(role, action, API + path, OURS)
    assert not _allowed(role, action, API + path, THEIRS)
    assert not _allowed(role, action, API + path)  # an untagged API


def test_no_api_can_be_tagged_as_this_products_after_creation(role):
    """Tagging a foreign API with the Project tag would hand it to the deployer."""
    tags = API + "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Fz9y8x7w6v5"
    grab = Request("apigateway:PUT", tags, {"aws:TagKeys": ["Project"]})
    assert iam_check.decide(role, grab).result == EXPLICIT_DENY
    assert _allowed(role, "apigateway:PUT", tags, {"aws:TagKeys": ["CostCentre"]})


@pytest.mark.parametrize(
    ("action", "path"),
    [
        ("apigateway:GET", "/apikeys/k1a2b3?includeValue=true"),
        ("apigateway:GET", "/apikeys"),
        ("apigateway:POST", "/apikeys"),
        ("apigateway:POST", "/usageplans/u1/keys"),
        ("apigateway:PATCH", "/usageplans/u1"),
    ],
)
def test_api_keys_and_usage_plans_are_out_of_reach_even_tagged(role, action, path):
    """The shared key is gone; a key's value is a credential of whoever else uses keys."""
    request = Request(action, API + path, {**OURS, "aws:RequestTag/Project": PROJECT})
    assert iam_check.decide(role, request).result == EXPLICIT_DENY


def test_no_secrets_manager_access_remains(role):
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:payment-dev-api-key-AbCdEf"
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:CreateSecret"):
        assert not _allowed(role, action, secret)


def test_the_account_logging_setting_stays_reachable(role):
    assert _allowed(role, "apigateway:PATCH", API + "/account")
    assert _allowed(role, "apigateway:GET", API + "/account")


# --- WAF --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["webacl", "ipset", "rulegroup", "regexpatternset"])
def test_waf_resources_are_this_products_by_name(role, kind):
    base = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/{kind}"
    for action in ("wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:GetWebACL"):
        assert _allowed(role, action, f"{base}/payment-dev-api/0a1b2c3d")
        assert not _allowed(role, action, f"{base}/checkout-acl/0a1b2c3d")
    assert not _allowed(
        role, "wafv2:DeleteWebACL", f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/x/1"
    )


# --- S3: this account's payment-* buckets only ------------------------------------------------


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", "arn:aws:s3:::payment-dev-audit-123456789012-us-east-1/payments/p.json"),
        ("s3:PutBucketPolicy", "arn:aws:s3:::payment-dev-code-123456789012-us-east-1"),
        ("s3:DeleteBucket", "arn:aws:s3:::payment-dev-logs-123456789012-us-east-1"),
    ],
)
def test_a_payment_bucket_of_another_account_is_refused(role, action, resource):
    foreign = Request(action, resource, {"s3:ResourceAccount": OTHER_ACCOUNT})
    assert iam_check.decide(role, foreign).result == EXPLICIT_DENY
    assert _allowed(role, action, resource, {"s3:ResourceAccount": ACCOUNT})


def test_stacksets_own_buckets_stay_as_documented(role):
    """StackSets' S3 calls on buckets of its own (not payment-*) keep the prerequisite."""
    assert _allowed(role, "s3:PutObject", "arn:aws:s3:::stacksets-state-bucket/instance.json")


def test_the_administrator_accounts_artifacts_are_readable_when_it_is_another_account():
    """Code of the functions lives in the administrator account's artifact bucket."""
    templates = {i.file_name: json.loads(i.body) for i in render_all(Config())}
    parameters = templates["stackset-roles.template.json"]
    # The administrator account is a parameter: with one given, the If picks it.
    statement = next(
        s
        for s in parameters["Resources"]["ExecutionRole"]["Properties"]["Policies"][0][
            "PolicyDocument"
        ]["Statement"]
        if s["Sid"] == "PaymentBucketsOfTheseAccountsOnly"
    )
    accounts = statement["Condition"]["StringNotEquals"]["s3:ResourceAccount"]
    assert {"Ref": "AWS::AccountId"} in accounts
    assert {
        "Fn::If": ["SameAccount", {"Ref": "AWS::AccountId"}, {"Ref": "AdministratorAccountId"}]
    } in (accounts)


# --- the break-glass role is not the deployer's -----------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "iam:UpdateAssumeRolePolicy",  # trust itself, then assume
        "iam:PutRolePolicy",
        "iam:DeleteRole",
        "iam:TagRole",
        "sts:AssumeRole",
    ],
)
def test_the_deployer_cannot_touch_or_assume_the_purge_role(role, action):
    purge = f"arn:aws:iam::{ACCOUNT}:role/payment-data-purge"
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/payment-permissions-boundary"
    request = Request(action, purge, {"iam:PermissionsBoundary": boundary})
    assert iam_check.decide(role, request).result == EXPLICIT_DENY
    # The roles it does manage stay managed.
    if action.startswith("iam:"):
        workload = f"arn:aws:iam::{ACCOUNT}:role/payment-dev-processor-us-east-1"
        assert iam_check.decide(role, Request(action, workload, request.context)).allowed
