"""The emulator behaves as CloudFormation does where the StackSet roles stack relies on it:
an update reaches a role's inline policy, a list parameter reads back as given, and
``UsePreviousValue`` keeps a parameter that had its default. Checked through boto3."""

from __future__ import annotations

import json

# --- the emulator, as CloudFormation behaves -------------------------------------------------


def _role_template(*sids: str) -> dict:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "payment-role-update-check",
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
                            "PolicyName": "check",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Sid": sid,
                                        "Effect": "Deny",
                                        "Action": "s3:*",
                                        "Resource": "*",
                                    }
                                    for sid in sids
                                ],
                            },
                        }
                    ],
                },
            }
        }
    }


def test_a_stack_update_changes_the_inline_policy_of_its_role(aws):
    cfn, iam = aws("cloudformation"), aws("iam")
    name = "payment-role-update-check"
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(_role_template("First")),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cfn.update_stack(
        StackName=name,
        TemplateBody=json.dumps(_role_template("First", "Second")),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    document = iam.get_role_policy(RoleName=name, PolicyName="check")["PolicyDocument"]
    assert [s["Sid"] for s in document["Statement"]] == ["First", "Second"]


def test_a_comma_delimited_list_parameter_reads_back_as_given(aws):
    template = {
        "Parameters": {"Accounts": {"Type": "CommaDelimitedList", "Default": ""}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName="payment-list-parameter-check",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Accounts", "ParameterValue": "111122223333,444455556666"}],
    )
    stack = cfn.describe_stacks(StackName="payment-list-parameter-check")["Stacks"][0]
    assert stack["Parameters"] == [
        {"ParameterKey": "Accounts", "ParameterValue": "111122223333,444455556666"}
    ]
    cfn.delete_stack(StackName="payment-list-parameter-check")


def test_use_previous_value_keeps_a_parameter_that_had_its_default(aws):
    template = {
        "Parameters": {
            "Zone": {"Type": "String", "Default": ""},
            "Name": {"Type": "String", "Default": "first"},
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    cfn = aws("cloudformation")
    name = "payment-previous-value-check"
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "given"}],
    )
    template["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue"}
    cfn.update_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Zone", "UsePreviousValue": True},
            {"ParameterKey": "Name", "UsePreviousValue": True},
        ],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "Zone": "",
        "Name": "given",
    }
