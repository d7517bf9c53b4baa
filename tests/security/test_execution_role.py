"""The StackSet execution role allows every call CloudFormation makes for this product's
resources, evaluated as IAM evaluates it.

For every resource of the primary, replica and standby templates (and the account baseline),
each handler permission of its provider schema (cfn-lint's copy) and each call the guides add
(service-linked roles, passed roles, dynamic references, custom-resource invocation) is
evaluated with ``payment_ops.emulator.iam_policy`` against the execution role as rendered, on the
ARN the template produces where it can be computed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import Request
from templates_src.build import render_all
from templates_src.config import Config
from templates_src.stackset_roles import HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL

ACCOUNT = "123456789012"
PARTITION = "aws"
SUFFIX = "dev"
# The custom domain, configured the same in the roles stack and the service stacks.
DOMAIN = {"HostedZoneId": "Z0123456789ABCDEFGHIJ", "DomainName": "pay.example.com"}
SERVICE_TEMPLATES = (
    "primary.template.json",
    "replica.template.json",
    "standby.template.json",
    "account-baseline.template.json",
)


def resolve(
    value: Any, parameters: dict[str, str], region: str, false: frozenset[str] = frozenset()
) -> Any:
    """Intrinsic functions that name things: Sub and Ref of parameters and pseudo parameters,
    and If (true unless named in ``false``). References to other resources stay unresolved
    (their ARNs are not computable before they exist)."""
    pseudo = {
        "AWS::Partition": PARTITION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": region,
        "AWS::URLSuffix": "amazonaws.com",
        **parameters,
    }
    if isinstance(value, list):
        return [resolve(v, parameters, region, false) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in pseudo:
        return pseudo[value["Ref"]]
    if set(value) == {"Fn::If"}:
        name, when_true, when_false = value["Fn::If"]
        return resolve(when_false if name in false else when_true, parameters, region, false)
    if set(value) == {"Fn::Sub"}:
        text, names = (
            (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        )
        names = {k: resolve(v, parameters, region, false) for k, v in names.items()}
        known = {**pseudo, **names}
        if not all(isinstance(v, str) for v in names.values()):
            return value
        missing = [m for m in re.findall(r"\$\{([^}!]+)\}", text) if m not in known]
        if missing:
            return value
        return re.sub(r"\$\{([^}!]+)\}", lambda m: str(known[m.group(1)]), text)
    return {k: resolve(v, parameters, region, false) for k, v in value.items()}


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {item.file_name: json.loads(item.body) for item in render_all(Config())}


def execution_role(
    templates: dict[str, dict], region: str = "us-east-1", false: frozenset[str] = frozenset()
) -> iam_check.Role:
    roles = templates["stackset-roles.template.json"]
    properties = resolve(roles["Resources"]["ExecutionRole"]["Properties"], DOMAIN, region, false)
    identity = tuple(policy["PolicyDocument"] for policy in properties.get("Policies", []))
    boundary = None
    if "PermissionsBoundary" in properties:
        [boundary_policy] = [
            r["Properties"]["PolicyDocument"]
            for r in roles["Resources"].values()
            if r["Type"] == "AWS::IAM::ManagedPolicy"
        ]
        boundary = resolve(boundary_policy, {}, region)
    return iam_check.Role(
        f"arn:aws:iam::{ACCOUNT}:role/{iam_check.EXECUTION_ROLE}", identity, boundary
    )


def parent_tags(template: dict, properties: dict, parameters: dict, region: str) -> dict:
    """The tags an API Gateway child resource inherits for access control from the REST API or
    domain it names ("API Gateway resources that can be tagged"), as the template tags them."""
    for key in ("RestApiId", "DomainName"):
        named = properties.get(key)
        if isinstance(named, dict) and set(named) == {"Ref"}:
            parent = template["Resources"].get(named["Ref"], {})
            tags = resolve(parent.get("Properties", {}).get("Tags", []), parameters, region)
            return {t["Key"]: t["Value"] for t in tags if isinstance(t.get("Value"), str)}
    return {}


def every_call(templates: dict[str, dict], region: str = "us-east-1"):
    """(template, logical id, operation, request) for every resource of the service templates."""
    acting = iam_check.Acting(None, ACCOUNT, region, PARTITION)  # type: ignore[arg-type]
    for name in SERVICE_TEMPLATES:
        template = templates[name]
        parameters = {
            key: str(spec["Default"])
            for key, spec in template.get("Parameters", {}).items()
            if "Default" in spec
        }
        parameters["EnvironmentSuffix"] = SUFFIX
        parameters.update(DOMAIN)
        for logical_id, resource in template["Resources"].items():
            properties = resolve(resource.get("Properties", {}), parameters, region)
            parents = parent_tags(template, resource.get("Properties", {}), parameters, region)
            # CloudFormation never calls the delete handler of a Retain resource; it does for
            # RetainExceptOnCreate, when the create that made it rolls back.
            retained = resource.get("DeletionPolicy") == "Retain"
            for operation in ("create", "update") if retained else ("create", "update", "delete"):
                for request in iam_check.requests_for(
                    resource["Type"], properties, operation, acting, parent_tags=parents
                ):
                    yield name, logical_id, operation, request


def test_every_handler_permission_of_every_resource_is_allowed(templates):
    role = execution_role(templates)
    denied = sorted(
        {
            f"{name} {logical_id} {operation}: {request.action} on {request.resource}"
            for name, logical_id, operation, request in every_call(templates)
            if not iam_check.decide(role, request).allowed
        }
    )
    assert denied == []


def test_the_evaluation_covers_service_linked_roles_passed_roles_and_invocations(templates):
    """The calls beyond the schemas are really part of what is evaluated."""
    calls = {
        (request.action, json.dumps(dict(request.context))) for *_, request in every_call(templates)
    }
    assert (
        "iam:CreateServiceLinkedRole",
        '{"iam:AWSServiceName": "replication.dynamodb.amazonaws.com"}',
    ) in calls
    assert (
        "iam:CreateServiceLinkedRole",
        '{"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}',
    ) in calls
    assert ("iam:PassRole", '{"iam:PassedToService": "lambda.amazonaws.com"}') in calls
    assert any(action == "lambda:InvokeFunction" for action, _ in calls)


def test_stacksets_prerequisites_are_granted_exactly_as_documented(templates):
    """F1: "Grant self-managed permissions": cloudformation:* and s3:* on "*", no more."""
    role = templates["stackset-roles.template.json"]["Resources"]["ExecutionRole"]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [prerequisites] = [s for s in statements if s["Sid"] == "StackSetsPrerequisites"]
    assert prerequisites["Action"] == ["cloudformation:*", "s3:*"]
    assert prerequisites["Resource"] == ["*"] and "Condition" not in prerequisites
    assert "stacksets-prereqs-self-managed" in role["Metadata"]["StackSetsPrerequisites"]["source"]
    acting = iam_check.Acting(None, ACCOUNT, "eu-west-1", PARTITION)  # type: ignore[arg-type]
    evaluated = execution_role(templates, "eu-west-1")
    for request in iam_check.stackset_requests("StackSet-payment-dev-primary-1", "create", acting):
        assert iam_check.decide(evaluated, request).allowed, request


def test_only_the_two_service_linked_roles_may_be_created(templates):
    """F2: API Gateway's and DynamoDB replication's service-linked roles, nothing else."""
    role = execution_role(templates)
    for service, name in (
        ("ops.apigateway.amazonaws.com", "AWSServiceRoleForAPIGateway"),
        ("replication.dynamodb.amazonaws.com", "AWSServiceRoleForDynamoDBReplication"),
    ):
        arn = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/{name}"
        request = Request("iam:CreateServiceLinkedRole", arn, {"iam:AWSServiceName": service})
        assert iam_check.decide(role, request).allowed
    other = "elasticmapreduce.amazonaws.com"
    arn = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{other}/AWSServiceRoleForEMRCleanup"
    assert not iam_check.decide(
        role, Request("iam:CreateServiceLinkedRole", arn, {"iam:AWSServiceName": other})
    ).allowed


def test_role_management_stays_on_this_products_roles(templates):
    role = execution_role(templates)
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PassRole"):
        outside = Request(action, f"arn:aws:iam::{ACCOUNT}:role/other")
        assert not iam_check.decide(role, outside).allowed, action


def test_the_execution_role_trusts_only_the_administration_role(templates):
    role = templates["stackset-roles.template.json"]["Resources"]["ExecutionRole"]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    principal = statement["Principal"]["AWS"]["Fn::Sub"]
    assert principal[0].endswith(":role/AWSCloudFormationStackSetAdministrationRole")


def test_nothing_is_granted_on_star_that_no_handler_needs_there(templates):
    needed_on_star = {
        request.action for *_, request in every_call(templates) if request.resource == "*"
    }
    unneeded = set(HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL) - needed_on_star
    assert unneeded == set()
