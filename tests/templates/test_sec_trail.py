"""The optional CloudTrail trail: off by default, data events for the table in every region and
for the audit buckets, management events for the security rules, its bucket locked."""

from __future__ import annotations

import json

from templates_src.build import render
from templates_src.config import Config
from templates_src.iam import role_policy_documents
from templates_src.regions import build_primary


def test_the_trail_is_off_by_default_and_everything_of_it_is_conditional(primary):
    assert primary["Parameters"]["EnableCloudTrail"]["Default"] == "false"
    assert primary["Conditions"]["CloudTrailEnabled"] == {
        "Fn::Equals": [{"Ref": "EnableCloudTrail"}, "true"]
    }
    for title in ("AuditTrail", "TrailBucket", "TrailBucketPolicy"):
        assert primary["Resources"][title]["Condition"] == "CloudTrailEnabled"
    on = json.loads(render(build_primary(Config(enable_cloudtrail=True))))
    assert on["Parameters"]["EnableCloudTrail"]["Default"] == "true"


def test_the_trail_records_data_events_of_the_table_in_every_region_and_the_audit_buckets():
    config = Config(replica_regions=("us-west-2", "eu-west-1"))
    template = json.loads(render(build_primary(config)))
    props = template["Resources"]["AuditTrail"]["Properties"]
    assert props["IsMultiRegionTrail"] is True
    assert props["IncludeGlobalServiceEvents"] is True
    assert props["EnableLogFileValidation"] is True
    selectors = {s["Name"]: s["FieldSelectors"] for s in props["AdvancedEventSelectors"]}
    assert selectors["Management events"] == [{"Field": "eventCategory", "Equals": ["Management"]}]
    table = {f["Field"]: f for f in selectors["Payments table"]}
    assert table["resources.type"]["Equals"] == ["AWS::DynamoDB::Table"]
    regions = [arn["Fn::Sub"][1]["TargetRegion"] for arn in table["resources.ARN"]["Equals"]]
    assert regions == list(config.regions)
    buckets = {f["Field"]: f for f in selectors["Audit and access-log buckets"]}
    assert buckets["resources.type"]["Equals"] == ["AWS::S3::Object"]
    prefixes = [p["Fn::Sub"] for p in buckets["resources.ARN"]["StartsWith"]]
    assert any("-audit-" in p for p in prefixes) and any("-logs-" in p for p in prefixes)


def test_the_trail_bucket_is_locked_like_the_audit_buckets_and_admits_only_this_trail(primary):
    bucket = primary["Resources"]["TrailBucket"]["Properties"]
    audit = primary["Resources"]["AuditBucket"]["Properties"]
    assert bucket["ObjectLockConfiguration"] == audit["ObjectLockConfiguration"]
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    statements = primary["Resources"]["TrailBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    for statement in statements:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
            source = statement["Condition"]["StringEquals"]["aws:SourceArn"]["Fn::Sub"]
            assert source.endswith(":trail/payment-${EnvironmentSuffix}-trail")


def test_the_trail_also_delivers_to_its_own_log_group_through_a_role_for_that_group_only(primary):
    """CloudTrail writes to CloudWatch Logs as a role it assumes ("Sending events to CloudWatch
    Logs"); the group is kept, encrypted and masked like every log group."""
    resources = primary["Resources"]
    trail = resources["AuditTrail"]["Properties"]
    assert trail["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": ["AuditTrailLogGroup", "Arn"]}
    assert trail["CloudWatchLogsRoleArn"] == {"Fn::GetAtt": ["TrailLogsRole", "Arn"]}
    group = resources["AuditTrailLogGroup"]
    assert group["Condition"] == "CloudTrailEnabled"
    assert group["DeletionPolicy"] == "RetainExceptOnCreate"
    assert group["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/cloudtrail/payment-${EnvironmentSuffix}-trail"
    }
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["AppKey", "Arn"]}
    assert group["Properties"]["RetentionInDays"] >= 365
    assert "DataProtectionPolicy" in group["Properties"]
    role = resources["TrailLogsRole"]
    assert role["Condition"] == resources["TrailLogsRolePolicy"]["Condition"] == "CloudTrailEnabled"
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["cloudtrail.amazonaws.com"]}
    [document] = role_policy_documents(primary, "TrailLogsRole")
    [statement] = document["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    [resource] = statement["Resource"]
    assert resource["Fn::Sub"][0].endswith(
        ":log-group:${Name}:log-stream:${AWS::AccountId}_CloudTrail_*"
    )
    assert resource["Fn::Sub"][1] == {"Name": {"Ref": "AuditTrailLogGroup"}}
