"""API Gateway's account setting lives once per account and region, in the account baseline,
with a role that can write every API's logs ("AWS::ApiGateway::Account": one per region per
account)."""

from __future__ import annotations

import json

import pytest

from payment_ops.emulator.iam_policy import Request, evaluate
from templates_src.build import ACCOUNT_BASELINE, PRIMARY, STANDBY, render_all
from templates_src.config import Config
from templates_src.iam import role_policy_documents

from .test_execution_role import ACCOUNT, resolve

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {item.file_name: json.loads(item.body) for item in render_all(Config())}


def _of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def test_no_environment_template_sets_the_region_wide_account_setting(templates):
    for name in (PRIMARY, STANDBY):
        assert _of_type(templates[name], "AWS::ApiGateway::Account") == {}, name
        # Nor a role for it: the stages log through the baseline's.
        roles = _of_type(templates[name], "AWS::IAM::Role")
        trusted = [
            s["Principal"]
            for r in roles.values()
            for s in r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        ]
        assert {"Service": ["apigateway.amazonaws.com"]} not in trusted


def test_the_baseline_sets_it_once_and_keeps_it_on_delete(templates):
    baseline = templates[ACCOUNT_BASELINE]
    [(_, account)] = _of_type(baseline, "AWS::ApiGateway::Account").items()
    [(role_id, role)] = _of_type(baseline, "AWS::IAM::Role").items()
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    for resource in (account, role):
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
        assert resource["UpdateReplacePolicy"] == "Retain"
    # No environment parameter: one setting whatever the environments.
    assert "Parameters" not in baseline


def _role(templates: dict[str, dict]) -> tuple[dict, list[dict]]:
    baseline = templates[ACCOUNT_BASELINE]
    [(logical_id, role)] = _of_type(baseline, "AWS::IAM::Role").items()
    properties = resolve(role["Properties"], {}, REGION)
    return properties["AssumeRolePolicyDocument"], [
        resolve(document, {}, REGION) for document in role_policy_documents(baseline, logical_id)
    ]


def test_the_role_writes_every_apis_execution_and_access_logs_and_nothing_else(templates):
    _, policies = _role(templates)
    groups = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
    for group in (
        "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",  # the name API Gateway chooses
        "/aws/apigateway/payment-dev-api-access",  # this environment's access logs
        "/aws/apigateway/payment-other-api-access",  # another environment's
    ):
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            request = Request(action, f"{groups}:{group}:log-stream:x")
            assert evaluate(request, policies).allowed, (action, group)
    foreign = Request(
        "logs:PutLogEvents", f"{groups}:/aws/lambda/payment-dev-processor:log-stream:x"
    )
    assert not evaluate(foreign, policies).allowed
    assert not evaluate(
        Request("logs:DeleteLogGroup", f"{groups}:/aws/apigateway/x"), policies
    ).allowed


def test_only_api_gateway_on_behalf_of_this_account_may_assume_it(templates):
    trust, _ = _role(templates)
    service = {"Service": "apigateway.amazonaws.com"}
    own = Request("sts:AssumeRole", principal=service, context={"aws:SourceAccount": ACCOUNT})
    assert evaluate(own, [trust]).allowed
    other = Request(
        "sts:AssumeRole", principal=service, context={"aws:SourceAccount": "444455556666"}
    )
    assert not evaluate(other, [trust]).allowed
