"""The emulator's StackSet runner acts as the execution role, as self-managed StackSets do on
AWS ("Grant self-managed permissions"): a resource the role may not write fails the instance
with AWS's AccessDenied message, and the role the roles template deploys is enough for StackSets'
own calls and the service-linked roles API Gateway and DynamoDB create."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from templates_src.build import render
from templates_src.config import Config
from templates_src.names import PROJECT
from templates_src.stackset_roles import build_stackset_roles
from tests.deploy.conftest import emulator_with

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def cfn() -> Iterator:
    with emulator_with(AWS_DEFAULT_REGION=REGION) as running:
        client = boto3.client("cloudformation", region_name=REGION, endpoint_url=running.url)
        client.create_stack(
            StackName="payment-stackset-roles",
            TemplateBody=render(build_stackset_roles(Config())),
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        yield client


def _deploy(cfn, name: str, resources: dict) -> dict:
    """One stack set with one instance in this account; the instance's operation result."""
    cfn.create_stack_set(
        StackSetName=name,
        TemplateBody=json.dumps({"Resources": resources}),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    operation = cfn.create_stack_instances(StackSetName=name, Accounts=[ACCOUNT], Regions=[REGION])
    [result] = cfn.list_stack_set_operation_results(
        StackSetName=name, OperationId=operation["OperationId"]
    )["Summaries"]
    return result


def _parameter(name: str) -> dict:
    return {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": name, "Type": "String", "Value": "v"},
    }


def test_a_resource_of_this_product_is_created_as_the_execution_role(cfn):
    # Fails without StackSets' prerequisites (s3 on "*" for instance state).
    result = _deploy(cfn, "allowed", {"Flag": _parameter("/payment/dev/flag")})
    assert result["Status"] == "SUCCEEDED", result.get("StatusReason")


def test_a_resource_outside_the_role_fails_with_aws_access_denied_message(cfn):
    result = _deploy(cfn, "denied", {"Flag": _parameter("/other/flag")})
    assert result["Status"] == "FAILED"
    reason = result["StatusReason"]
    assert (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/AWSCloudFormationStackSetExecutionRole/"
        in reason
    )
    assert (
        f"is not authorized to perform: ssm:PutParameter on resource: "
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/other/flag" in reason
    )
    assert "because no identity-based policy allows the ssm:PutParameter action" in reason
    assert reason.split(": ", 1)[1].startswith("Flag: Resource handler returned message")
    # Nothing was made.
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=cfn.meta.endpoint_url)
    assert ssm.describe_parameters()["Parameters"] == [] or all(
        p["Name"] != "/other/flag" for p in ssm.describe_parameters()["Parameters"]
    )


def test_an_api_in_a_fresh_account_may_create_api_gateways_service_linked_role(cfn):
    # Fails without the ApiGatewayServiceRole statement: iam:CreateServiceLinkedRole for
    # ops.apigateway.amazonaws.com.
    api = {
        "Type": "AWS::ApiGateway::RestApi",
        "Properties": {"Name": "payment-dev-api", "Tags": [{"Key": "Project", "Value": PROJECT}]},
    }
    result = _deploy(cfn, "api", {"Api": api})
    assert result["Status"] == "SUCCEEDED", result.get("StatusReason")


def test_an_api_without_this_products_tag_is_refused(cfn):
    """The execution role creates and changes only APIs carrying the Project tag."""
    api = {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "payment-dev-untagged"}}
    result = _deploy(cfn, "untagged-api", {"Api": api})
    assert result["Status"] == "FAILED"
    reason = result["StatusReason"]
    assert "is not authorized to perform: apigateway:" in reason
    assert "on resource: arn:aws:apigateway:us-east-1::/restapis" in reason


def test_a_role_outside_this_product_is_refused(cfn):
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": "admin-backdoor",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
        },
    }
    result = _deploy(cfn, "backdoor", {"Backdoor": role})
    assert result["Status"] == "FAILED"
    assert (
        "iam:CreateRole on resource: arn:aws:iam::123456789012:role/admin-backdoor"
        in (result["StatusReason"])
    )


def test_a_product_role_without_the_permissions_boundary_is_refused(cfn):
    """The escalation path of a payment-* role with no boundary fails like on AWS."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": "payment-dev-unbounded",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "admin",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                    },
                }
            ],
        },
    }
    result = _deploy(cfn, "unbounded", {"Unbounded": role})
    assert result["Status"] == "FAILED"
    assert (
        "iam:CreateRole on resource: arn:aws:iam::123456789012:role/payment-dev-unbounded"
        in (result["StatusReason"])
    )
    bounded = {
        **role,
        "Properties": {
            **role["Properties"],
            "RoleName": "payment-dev-bounded",
            "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/payment-permissions-boundary",
        },
    }
    assert _deploy(cfn, "bounded", {"Bounded": bounded})["Status"] == "SUCCEEDED"
