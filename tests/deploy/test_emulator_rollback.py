"""DeletionPolicy on a failed creation, as CloudFormation honours it: ``Retain`` stays,
``RetainExceptOnCreate`` goes with the rollback; and a failed first deploy re-runs clean."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from templates_src import names

from .conftest import ACCOUNT, REPLICA, deploy_args, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "rollback"
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def _topics(aws, region: str) -> set[str]:
    return {t["TopicArn"].rsplit(":", 1)[1] for t in aws("sns", region).list_topics()["Topics"]}


def _policies_template(alias: str) -> str:
    """Two topics (Retain, RetainExceptOnCreate) and, after both, an alias that may be taken."""
    return json.dumps(
        {
            "Resources": {
                "Kept": {
                    "Type": "AWS::SNS::Topic",
                    "DeletionPolicy": "Retain",
                    "Properties": {"TopicName": "rb-kept"},
                },
                "Gone": {
                    "Type": "AWS::SNS::Topic",
                    "DeletionPolicy": "RetainExceptOnCreate",
                    "Properties": {"TopicName": "rb-gone"},
                },
                "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": KEY_POLICY}},
                "Alias": {
                    "Type": "AWS::KMS::Alias",
                    "DependsOn": ["Kept", "Gone"],
                    "Properties": {"AliasName": alias, "TargetKeyId": {"Ref": "Key"}},
                },
            }
        }
    )


def test_a_failed_creation_keeps_retain_and_deletes_retain_except_on_create(aws):
    kms = aws("kms", REPLICA)
    kms.create_alias(
        AliasName="alias/rb-taken", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"]
    )
    cfn = aws("cloudformation")
    cfn.create_stack_set(
        StackSetName="rb-policies", TemplateBody=_policies_template("alias/rb-taken")
    )

    operation = cfn.create_stack_instances(
        StackSetName="rb-policies", Accounts=[ACCOUNT], Regions=[REPLICA]
    )["OperationId"]

    results = cfn.list_stack_set_operation_results(
        StackSetName="rb-policies", OperationId=operation
    )["Summaries"]
    assert [r["Status"] for r in results] == ["FAILED"]
    assert "AlreadyExists" in results[0]["StatusReason"]
    topics = _topics(aws, REPLICA)
    assert "rb-kept" in topics  # Retain: outside any stack now, as CloudFormation leaves it
    assert "rb-gone" not in topics  # RetainExceptOnCreate: the creating operation rolled back


def test_retain_except_on_create_keeps_the_resource_when_the_stack_is_deleted(aws):
    cfn = aws("cloudformation", REPLICA)
    cfn.create_stack(StackName="rb-delete", TemplateBody=_policies_template("alias/rb-free"))

    cfn.delete_stack(StackName="rb-delete")

    assert {"rb-kept", "rb-gone"} <= _topics(aws, REPLICA)


def test_an_update_that_removes_a_retained_resource_keeps_it(aws):
    cfn = aws("cloudformation", REPLICA)
    template = json.loads(_policies_template("alias/rb-update"))
    template["Resources"]["Gone"]["Properties"]["TopicName"] = "rb-removed"
    cfn.create_stack(StackName="rb-update", TemplateBody=json.dumps(template))
    del template["Resources"]["Gone"]

    cfn.update_stack(StackName="rb-update", TemplateBody=json.dumps(template))

    assert "rb-removed" in _topics(aws, REPLICA)
    listed = cfn.list_stack_resources(StackName="rb-update")["StackResourceSummaries"]
    assert "Gone" not in {r["LogicalResourceId"] for r in listed}


def test_a_failed_first_deploy_re_runs_clean(aws, emulator, tmp_path):
    # Something outside the deployment holds a name the replica template creates after its
    # named buckets and keys: the first deploy fails there and rolls back.
    # (An SSM parameter: a table, bucket or key alias in the way is refused before any change.)
    kms = aws("kms", REPLICA)
    ssm = aws("ssm", REPLICA)
    conflict = f"/payment/{SUFFIX}/bucket-name"  # made after the audit bucket it names
    ssm.put_parameter(Name=conflict, Value="someone else's", Type="String")
    args = deploy_args(emulator.url, SUFFIX, tmp_path, "--bootstrap")

    first = run_deploy(args)

    assert first.code == 1
    assert REPLICA in first.err and "AlreadyExists" in first.err
    # Nothing the failed creation made is left to collide with the retry.
    for bucket in (
        names.audit_bucket(SUFFIX, ACCOUNT, REPLICA),
        names.access_log_bucket(SUFFIX, ACCOUNT, REPLICA),
    ):
        with pytest.raises(ClientError):
            aws("s3", REPLICA).head_bucket(Bucket=bucket)

    ssm.delete_parameter(Name=conflict)
    second = run_deploy(args)

    assert second.code == 0, second.err
    assert "already exists" not in (second.out + second.err).lower()
    aws("dynamodb", REPLICA).describe_table(TableName=names.table(SUFFIX))
    # The keys of the rolled-back creation are scheduled for deletion, not left enabled.
    enabled_ours = []
    for key in kms.list_keys()["Keys"]:
        tags = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
        state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
        if {"TagKey": "EnvironmentSuffix", "TagValue": SUFFIX} in tags and state == "Enabled":
            enabled_ours.append(key["KeyId"])
    assert len(enabled_ours) == 3  # the table, audit and app keys of the stack that stands
