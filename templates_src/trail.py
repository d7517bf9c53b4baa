"""An optional CloudTrail trail, for accounts without an organization trail (off by default).

PCI DSS v4.0 10.2.1 wants every individual access to cardholder data logged: the payments table
and the audit buckets are data-plane resources, whose reads and writes CloudTrail records only as
*data events*, which no trail records unless asked. Most organizations already run an
organization trail (``aws cloudtrail describe-trails`` shows ``IsOrganizationTrail: true``);
this trail is for the accounts that do not. It is multi-region (the table has a replica in
every region of the deployment and IAM events are global), records management events (which
the EventBridge security rules need: "AWS API Call via CloudTrail" events exist only where a trail
records them), validates its log files, and writes to its own versioned, encrypted bucket under
the same Object Lock as the audit buckets. CloudTrail bills data events per event recorded.
"""

from __future__ import annotations

from awacs import s3 as s3_actions
from awacs.aws import Allow, Condition, Policy, Principal, Statement, StringEquals
from troposphere import Equals, GetAtt, Ref, Sub, Template
from troposphere.cloudtrail import AdvancedEventSelector, AdvancedFieldSelector, Trail
from troposphere.s3 import Bucket, BucketPolicy

from . import iam, logs, names, storage
from .common import add_parameter_group, arn, name, retain, suppress, switch_parameter, tags
from .config import Config

ENABLE_TRAIL_PARAM = "EnableCloudTrail"
TRAIL_ENABLED = "CloudTrailEnabled"
TRAIL_BUCKET = "TrailBucket"
TRAIL_LOG_GROUP = "AuditTrailLogGroup"
TRAIL_LOG_GROUP_NAME = f"{names.TRAIL_LOG_PREFIX}{names.resource(names.SUB_SUFFIX, names.TRAIL)}"
TRAIL_ARN = (
    "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:"
    f"trail/{names.resource(names.SUB_SUFFIX, names.TRAIL)}"
)


TRAIL_SUPPRESSIONS = {
    "CLOUD_TRAIL_ENCRYPTION_ENABLED": "The trail is encrypted: KMSKeyId is the audit key's ARN "
    "(a GetAtt of the key this template creates, whose policy lets only this trail use it). "
    "The rule accepts only a literal string, which a key created in the same template cannot "
    "be.",
    "CLOUDTRAIL_S3_DATAEVENTS_ENABLED": "The trail records S3 data events, with advanced event "
    "selectors scoped to this deployment's audit and access-log buckets (and the payments "
    "table), which the rule does not read: it wants basic EventSelectors over every bucket of "
    "the account. All buckets would also log the trail's own deliveries and bill for other "
    "teams' buckets; an organization trail is the place for account-wide data events.",
}


def _selector(name_: str, **fields: list[str] | dict[str, list[object]]) -> AdvancedEventSelector:
    selectors = []
    for field_name, values in fields.items():
        if isinstance(values, dict):
            selectors.append(AdvancedFieldSelector(Field=field_name, **values))
        else:
            selectors.append(AdvancedFieldSelector(Field=field_name, Equals=values))
    return AdvancedEventSelector(Name=name_, FieldSelectors=selectors)


def _enable_parameter(template: Template, config: Config) -> None:
    """The switch (off by default), its condition and its group in the console's form."""
    enable = switch_parameter(
        template,
        ENABLE_TRAIL_PARAM,
        config.enable_cloudtrail,
        "Create a multi-region CloudTrail trail with data events for the payments table and "
        "the audit buckets. Leave false where an organization trail already records them (aws "
        "cloudtrail describe-trails: IsOrganizationTrail).",
    )
    template.add_condition(TRAIL_ENABLED, Equals(Ref(enable), "true"))
    add_parameter_group(template, "Audit trail (optional)", {enable: "CloudTrail trail"})


def _trail_bucket(config: Config, key_arn: object, access_log_bucket: object) -> Bucket:
    return suppress(
        storage.locked_bucket(
            config,
            TRAIL_BUCKET,
            Sub(storage.TRAIL_NAME),
            key_arn,
            access_log_bucket,
            storage.TRAIL_LOG_PREFIX,
            condition=TRAIL_ENABLED,
        ),
        guard={
            "S3_BUCKET_REPLICATION_ENABLED": "The trail is multi-region: this one bucket "
            "receives every region's events, under Object Lock. A second copy in another "
            "region or account is what an organization trail's log-archive account is for; "
            "this trail exists only for accounts without one.",
        },
    )


def _trail_bucket_policy(bucket: Bucket) -> BucketPolicy:
    source = Condition(StringEquals("aws:SourceArn", Sub(TRAIL_ARN)))
    return retain(
        BucketPolicy(
            "TrailBucketPolicy",
            Condition=TRAIL_ENABLED,
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    storage.tls_only(bucket),
                    # "Amazon S3 bucket policy for CloudTrail" (CloudTrail user guide).
                    Statement(
                        Sid="CloudTrailChecksTheBucketAcl",
                        Effect=Allow,
                        Principal=Principal("Service", "cloudtrail.amazonaws.com"),
                        Action=[s3_actions.GetBucketAcl],
                        Resource=[GetAtt(bucket, "Arn")],
                        Condition=source,
                    ),
                    Statement(
                        Sid="CloudTrailWritesThisTrailsLogs",
                        Effect=Allow,
                        Principal=Principal("Service", "cloudtrail.amazonaws.com"),
                        Action=[s3_actions.PutObject],
                        Resource=[Sub(f"${{{bucket.title}.Arn}}/AWSLogs/${{AWS::AccountId}}/*")],
                        Condition=Condition(
                            [
                                StringEquals("s3:x-amz-acl", "bucket-owner-full-control"),
                                StringEquals("aws:SourceArn", Sub(TRAIL_ARN)),
                            ]
                        ),
                    ),
                ],
            ),
        )
    )


def _event_selectors(config: Config) -> list[AdvancedEventSelector]:
    """Management events, and data events of the payments table (every region's replica) and
    of the audit and access-log buckets."""
    table_arns = [
        arn("dynamodb", f"table/{names.table(names.SUB_SUFFIX)}", region=region)
        for region in config.regions
    ]
    bucket_prefixes = [
        Sub(
            "arn:${AWS::Partition}:s3:::"
            + names.resource(names.SUB_SUFFIX, f"{thing}-{names.SUB_ACCOUNT}-")
        )
        for thing in (names.AUDIT_BUCKET, names.ACCESS_LOG_BUCKET)
    ]
    return [
        _selector("Management events", eventCategory=["Management"]),
        _selector(
            "Payments table",
            eventCategory=["Data"],
            **{"resources.type": ["AWS::DynamoDB::Table"]},
            **{"resources.ARN": {"Equals": table_arns}},
        ),
        _selector(
            "Audit and access-log buckets",
            eventCategory=["Data"],
            **{"resources.type": ["AWS::S3::Object"]},
            **{"resources.ARN": {"StartsWith": bucket_prefixes}},
        ),
    ]


def add_trail(
    template: Template,
    config: Config,
    *,
    key_arn: object,
    log_key_arn: object,
    access_log_bucket: object,
) -> Trail:
    """The trail, its bucket and its log group, all under the ``CloudTrailEnabled`` condition.

    The log group (CloudWatch Logs, "Sending events to CloudWatch Logs", CloudTrail user guide)
    makes the events searchable within minutes (Logs Insights, metric filters); the bucket stays
    the complete, validated, locked record."""
    _enable_parameter(template, config)
    bucket = template.add_resource(_trail_bucket(config, key_arn, access_log_bucket))
    policy = template.add_resource(_trail_bucket_policy(bucket))
    log_group = logs.add_log_group(
        template,
        config,
        TRAIL_LOG_GROUP,
        Sub(TRAIL_LOG_GROUP_NAME),
        log_key_arn,
        condition=TRAIL_ENABLED,
    )
    logs_role = iam.trail_logs_role(template, log_group=log_group, condition=TRAIL_ENABLED)
    return template.add_resource(
        suppress(
            Trail(
                "AuditTrail",
                Condition=TRAIL_ENABLED,
                DependsOn=[policy.title],
                TrailName=name("trail"),
                S3BucketName=Ref(bucket),
                KMSKeyId=key_arn,
                CloudWatchLogsLogGroupArn=GetAtt(log_group, "Arn"),
                CloudWatchLogsRoleArn=GetAtt(logs_role, "Arn"),
                IsLogging=True,
                IsMultiRegionTrail=True,
                IncludeGlobalServiceEvents=True,
                EnableLogFileValidation=True,
                AdvancedEventSelectors=_event_selectors(config),
                Tags=tags(),
            ),
            guard=TRAIL_SUPPRESSIONS,
        )
    )
