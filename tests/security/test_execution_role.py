"""The StackSet execution role grants what CloudFormation's resource handlers actually call.

StackSets in the emulator never assume the role, so a missing permission would only show on a
real account. Instead: the provider schemas shipped with cfn-lint list each resource type's
handler permissions, and parliament's IAM database says which actions IAM authorises on "*"
only. Every such action of the services this product deploys must be granted on "*".
"""

from __future__ import annotations

import json

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from parliament import analyze_policy_string

from templates_src.build import render_all
from templates_src.config import Config
from templates_src.stackset_roles import HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL

# The product's services. Handler permissions of other services belong to optional features or
# to resource types this product never targets (a web ACL association's handler, for one, lists
# the permissions for every kind of resource a web ACL can protect).
SERVICES = {
    "acm", "apigateway", "application-autoscaling", "cloudwatch", "dynamodb", "iam", "kms",
    "lambda", "logs", "route53", "s3", "secretsmanager", "sns", "sqs", "ssm", "wafv2",
}  # fmt: skip
# Granted on "*" as a whole service by statements of their own.
WHOLE_SERVICE_ON_STAR = {"kms", "route53"}


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {item.file_name: json.loads(item.body) for item in render_all(Config())}


def _handler_actions(templates: dict[str, dict]) -> set[str]:
    types = {
        resource["Type"]
        for name in ("primary.template.json", "replica.template.json", "standby.template.json")
        for resource in templates[name]["Resources"].values()
    }
    actions = set()
    for resource_type in types:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
        for handler in ("create", "read", "update", "delete"):
            for action in schema.get("handlers", {}).get(handler, {}).get("permissions", []):
                if action.split(":")[0] in SERVICES:
                    actions.add(action)
    return actions


def _needing_star(actions: set[str]) -> set[str]:
    """The actions parliament says must be granted on "*" (no resource-level permissions)."""
    needing = set()
    for action in sorted(actions):
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "arn:aws:s3:::x"}],
        }
        analysed = analyze_policy_string(
            json.dumps(policy), ignore_private_auditors=True, include_community_auditors=False
        )
        for finding in analysed.findings:
            if finding.issue == "RESOURCE_MISMATCH":
                needing |= {d["action"] for d in finding.detail if d["required_format"] == "*"}
    return needing


def _granted_on_star(templates: dict[str, dict]) -> set[str]:
    role = templates["stackset-roles.template.json"]["Resources"]["ExecutionRole"]
    granted = set()
    for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
        if statement["Resource"] == ["*"]:
            granted |= set(statement["Action"])
    return granted


def test_every_handler_action_iam_authorises_only_on_star_is_granted_on_star(templates):
    needed = {
        action
        for action in _needing_star(_handler_actions(templates))
        if action.split(":")[0] not in WHOLE_SERVICE_ON_STAR
    }
    granted = _granted_on_star(templates)
    assert needed <= granted, f"missing on *: {sorted(needed - granted)}"
    # and nothing on "*" that the handlers do not need:
    assert set(HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL) == needed


def test_pass_role_and_role_management_stay_on_this_products_roles(templates):
    role = templates["stackset-roles.template.json"]["Resources"]["ExecutionRole"]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    for statement in statements:
        if any(action.startswith("iam:") for action in statement["Action"]):
            assert statement["Resource"] != ["*"], statement["Sid"]
    (slr,) = [s for s in statements if s["Sid"] == "DynamoDbReplicationServiceRole"]
    assert slr["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "replication.dynamodb.amazonaws.com"}
    }


def test_the_execution_role_trusts_only_the_administration_role(templates):
    role = templates["stackset-roles.template.json"]["Resources"]["ExecutionRole"]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    principal = statement["Principal"]["AWS"]["Fn::Sub"]
    assert principal[0].endswith(":role/AWSCloudFormationStackSetAdministrationRole")
