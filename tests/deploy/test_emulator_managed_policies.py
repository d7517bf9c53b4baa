"""The emulator's CloudFormation treats customer managed policies as CloudFormation does.

A role's ``ManagedPolicyArns`` are attached when the role is created and follow stack updates;
a policy whose document changes gets a new default version; deleting the stack detaches and
deletes the policy, so the same stack can be created again ("AWS::IAM::Role",
"AWS::IAM::ManagedPolicy", CloudFormation Template Reference; "Versioning IAM policies", IAM
User Guide). moto attached nothing, kept the first document, and left the policy behind.
"""

from __future__ import annotations

import json

import pytest

from .conftest import ACCOUNT

STACK = "payment-managed-policy-check"
ROLE = "payment-managed-policy-check"
POLICY = "payment-managed-policy-check"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}"


def _template(*sids: str, attached: bool = True) -> str:
    role = {
        "RoleName": ROLE,
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
    }
    if attached:
        role["ManagedPolicyArns"] = [{"Ref": "Policy"}]
    return json.dumps(
        {
            "Resources": {
                "Policy": {
                    "Type": "AWS::IAM::ManagedPolicy",
                    "Properties": {
                        "ManagedPolicyName": POLICY,
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Sid": sid, "Effect": "Deny", "Action": "s3:*", "Resource": "*"}
                                for sid in sids
                            ],
                        },
                    },
                },
                "Role": {"Type": "AWS::IAM::Role", "Properties": role},
            }
        }
    )


def _wait(cfn, verb: str) -> None:
    cfn.get_waiter(f"stack_{verb}_complete").wait(
        StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )


def _attached(iam) -> list[str]:
    return [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    ]


def _default_sids(iam) -> list[str]:
    version = iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    document = json.loads(document) if isinstance(document, str) else document
    return [s["Sid"] for s in document["Statement"]]


@pytest.fixture(scope="module")
def clients(aws):
    return aws("cloudformation"), aws("iam")


def test_a_role_is_created_with_its_managed_policy_attached(clients):
    cfn, iam = clients
    cfn.create_stack(
        StackName=STACK, TemplateBody=_template("First"), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    _wait(cfn, "create")
    assert _attached(iam) == [POLICY_ARN]
    assert _default_sids(iam) == ["First"]


def test_a_changed_document_becomes_the_policys_new_default_version(clients):
    cfn, iam = clients
    cfn.update_stack(
        StackName=STACK,
        TemplateBody=_template("First", "Second"),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    _wait(cfn, "update")
    assert _default_sids(iam) == ["First", "Second"]
    assert len(iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]) == 2
    assert _attached(iam) == [POLICY_ARN]


def test_an_update_that_drops_the_arn_detaches_the_policy(clients):
    cfn, iam = clients
    cfn.update_stack(
        StackName=STACK,
        TemplateBody=_template("First", "Second", attached=False),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    _wait(cfn, "update")
    assert _attached(iam) == []


def test_deleting_the_stack_removes_role_and_policy_and_it_can_be_created_again(clients):
    cfn, iam = clients
    cfn.update_stack(
        StackName=STACK, TemplateBody=_template("First"), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    _wait(cfn, "update")
    cfn.delete_stack(StackName=STACK)
    _wait(cfn, "delete")
    names = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert POLICY not in names
    assert ROLE not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    cfn.create_stack(
        StackName=STACK, TemplateBody=_template("Again"), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    _wait(cfn, "create")
    assert _attached(iam) == [POLICY_ARN] and _default_sids(iam) == ["Again"]
