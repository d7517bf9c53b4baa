"""Least-privilege roles, one per function, every statement scoped to exact ARNs.

Each role grants exactly the calls its handler makes (see ``handler/``): the processor does one
conditional ``PutItem`` and ``GetItem`` on the table; the audit writer reads the stream and puts
objects under ``payments/`` in its region's audit bucket.

Each role's permissions are a customer managed policy of its own (``AWS::IAM::ManagedPolicy``,
named like the role), attached to that role only, never an inline policy: IAM's best practice
"Use customer managed policies instead of inline policies" (IAM user guide, "Security best
practices in IAM"; also "Managed policies and inline policies"), because a managed policy is
versioned (an update can be rolled back to the previous version) and can be reviewed and
audited as a resource of its own. The role lists the policy in ``ManagedPolicyArns``, so
CloudFormation creates the policy first and the role is complete, its permissions attached,
before a function or event source mapping that uses it is created.
"""

from __future__ import annotations

from collections.abc import Sequence

from awacs import dynamodb, kms, logs, s3, sqs, xray
from awacs.aws import Allow, Condition, PolicyDocument, Statement, StringEquals
from awacs.helpers.trust import make_simple_assume_policy
from troposphere import GetAtt, Ref, Sub, Template
from troposphere.iam import ManagedPolicy, Role

from . import names
from .boundary import permissions_boundary_arn
from .common import tags


def log_group_arn(log_group: object, suffix: str = "") -> Sub:
    """A log group's ARN without the ``:*`` that ``GetAtt Arn`` appends (API Gateway and IAM
    resources want the bare group, or the group followed by a path of their own)."""
    return Sub(
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Name}" + suffix,
        Name=Ref(log_group),
    )


def _logs_statement(log_group: object) -> Statement:
    return Statement(
        Sid="WriteOwnLogGroup",
        Effect=Allow,
        Action=[logs.CreateLogStream, logs.PutLogEvents],
        Resource=[log_group_arn(log_group, ":log-stream:*")],
    )


def _xray_statement() -> Statement:
    # X-Ray trace segments have no resource-level permissions: "*" is the narrowest AWS offers.
    return Statement(
        Sid="SendTraces",
        Effect=Allow,
        Action=[xray.PutTraceSegments, xray.PutTelemetryRecords],
        Resource=["*"],
    )


def _kms_via(sid: str, key_arn: object, service: str, actions: list) -> Statement:
    """Use of a key only through the AWS service that holds the data it protects."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=actions,
        Resource=[key_arn],
        Condition=Condition(
            StringEquals("kms:ViaService", Sub(f"{service}.${{AWS::Region}}.amazonaws.com"))
        ),
    )


def _dead_letter_statements(dead_letter_queue: object, app_key_arn: object) -> list[Statement]:
    return [
        Statement(
            Sid="SendAsyncFailuresToDeadLetterQueue",
            Effect=Allow,
            Action=[sqs.SendMessage],
            Resource=[GetAtt(dead_letter_queue, "Arn")],
        ),
        _kms_via("EncryptDeadLetters", app_key_arn, "sqs", [kms.GenerateDataKey, kms.Decrypt]),
    ]


def role_policy(
    template: Template, title: str, policy_name: Sub, description: Sub, statements: list
) -> ManagedPolicy:
    """The customer managed policy of one role (the role attaches it by ``ManagedPolicyArns``)."""
    return template.add_resource(
        ManagedPolicy(
            title,
            ManagedPolicyName=policy_name,
            Description=description,
            PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
        )
    )


def _role(template: Template, title: str, role_name: str, statements: list[Statement]) -> Role:
    # IAM is global: the region keeps the roles of the primary and standby regions apart.
    own_name = names.regional_role(names.SUB_SUFFIX, role_name, names.SUB_REGION)
    policy = role_policy(
        template,
        f"{title}Policy",
        Sub(own_name),
        Sub(f"{names.SUB_DEPLOYMENT}: what the {role_name} role may do"),
        statements,
    )
    return template.add_resource(
        Role(
            title,
            RoleName=Sub(own_name),
            Description=Sub(f"{names.SUB_DEPLOYMENT}: {role_name} execution role"),
            AssumeRolePolicyDocument=make_simple_assume_policy("lambda.amazonaws.com"),
            PermissionsBoundary=permissions_boundary_arn(),
            ManagedPolicyArns=[Ref(policy)],
            Tags=tags(),
        )
    )


def role_policy_documents(template: dict, role: str) -> list[dict]:
    """Every permissions policy document of one role of a built template: inline ones, and the
    managed policies of the same template that its ``ManagedPolicyArns`` refer to."""
    resources = template["Resources"]
    properties = resources[role]["Properties"]
    documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    for arn in properties.get("ManagedPolicyArns", []):
        target = resources.get(arn.get("Ref", "")) if isinstance(arn, dict) else None
        if target and target["Type"] == "AWS::IAM::ManagedPolicy":
            documents.append(target["Properties"]["PolicyDocument"])
    return documents


def processor_role(
    template: Template,
    *,
    table_arn: object,
    table_key_arn: object,
    app_key_arn: object,
    log_group: object,
    dead_letter_queue: object,
    extra: Sequence[Statement] = (),
) -> Role:
    """``extra``: statements of an option (the VPC's network interfaces)."""
    return _role(
        template,
        "ProcessorRole",
        "processor",
        [
            Statement(
                Sid="OneConditionalWritePerPayment",
                Effect=Allow,
                Action=[dynamodb.PutItem, dynamodb.GetItem],
                Resource=[table_arn],
            ),
            _kms_via(
                "UseTableKeyThroughDynamoDB",
                table_key_arn,
                "dynamodb",
                [kms.Decrypt, kms.Encrypt, kms.GenerateDataKey, kms.DescribeKey],
            ),
            _kms_via("DecryptEnvironment", app_key_arn, "lambda", [kms.Decrypt]),
            *_dead_letter_statements(dead_letter_queue, app_key_arn),
            _logs_statement(log_group),
            _xray_statement(),
            *extra,
        ],
    )


def audit_writer_role(
    template: Template,
    *,
    stream_arn: object,
    table_key_arn: object,
    bucket_arn: object,
    audit_key_arn: object,
    app_key_arn: object,
    queue: object,
    dead_letter_queue: object,
    log_group: object,
    object_prefix: str,
    extra: Sequence[Statement] = (),
) -> Role:
    return _role(
        template,
        "AuditWriterRole",
        "audit-writer",
        [
            *_read_stream_statements(stream_arn, table_key_arn),
            *_write_audit_statements(bucket_arn, object_prefix, audit_key_arn),
            *_failed_batch_statements(queue, app_key_arn),
            _kms_via("DecryptEnvironment", app_key_arn, "lambda", [kms.Decrypt]),
            Statement(
                Sid="SendAsyncFailuresToDeadLetterQueue",
                Effect=Allow,
                Action=[sqs.SendMessage],
                Resource=[GetAtt(dead_letter_queue, "Arn")],
            ),
            _logs_statement(log_group),
            _xray_statement(),
            *extra,
        ],
    )


def _read_stream_statements(stream_arn: object, table_key_arn: object) -> list[Statement]:
    """What Lambda's poller needs of the audit writer's role to read the table's stream."""
    return [
        Statement(
            Sid="ReadPaymentsStream",
            Effect=Allow,
            Action=[dynamodb.DescribeStream, dynamodb.GetRecords, dynamodb.GetShardIterator],
            Resource=[stream_arn],
        ),
        Statement(
            # Lambda's stream poller lists the table's streams; ListStreams has no
            # resource-level permissions, so "*" is the narrowest AWS offers.
            Sid="FindPaymentsStream",
            Effect=Allow,
            Action=[dynamodb.ListStreams],
            Resource=["*"],
        ),
        _kms_via("DecryptStreamRecords", table_key_arn, "dynamodb", [kms.Decrypt]),
    ]


def _write_audit_statements(
    bucket_arn: object, object_prefix: str, audit_key_arn: object
) -> list[Statement]:
    """New audit objects under ``object_prefix``, encrypted with the audit key through S3."""
    return [
        Statement(
            Sid="WriteAuditObjects",
            Effect=Allow,
            Action=[s3.PutObject],
            Resource=[Sub(f"${{Bucket}}/{object_prefix}*", Bucket=bucket_arn)],
        ),
        _kms_via("EncryptAuditObjects", audit_key_arn, "s3", [kms.GenerateDataKey, kms.Decrypt]),
    ]


def _failed_batch_statements(queue: object, app_key_arn: object) -> list[Statement]:
    """The stream mapping's on-failure queue: pointers to batches that could not be audited."""
    return [
        Statement(
            Sid="SendFailedBatchesToQueue",
            Effect=Allow,
            Action=[sqs.SendMessage],
            Resource=[GetAtt(queue, "Arn")],
        ),
        _kms_via("EncryptFailureMessages", app_key_arn, "sqs", [kms.GenerateDataKey, kms.Decrypt]),
    ]


def table_stream_role(
    template: Template,
    *,
    table_arn: object,
    app_key_arn: object,
    log_group: object,
    dead_letter_queue: object,
) -> Role:
    """The custom resource that finds this region's table stream only describes the table."""
    return _role(
        template,
        "TableStreamRole",
        "table-stream",
        [
            Statement(
                Sid="DescribeLocalTableReplica",
                Effect=Allow,
                Action=[dynamodb.DescribeTable],
                Resource=[table_arn],
            ),
            _kms_via("DecryptEnvironment", app_key_arn, "lambda", [kms.Decrypt]),
            *_dead_letter_statements(dead_letter_queue, app_key_arn),
            _logs_statement(log_group),
            _xray_statement(),
        ],
    )


def trail_logs_role(template: Template, *, log_group: object, condition: str) -> Role:
    """What CloudTrail needs to deliver the trail's events to its log group: create its log
    streams (named ``<account>_CloudTrail_<region>``) and put events in them ("Role policy
    document for CloudTrail to use CloudWatch Logs for monitoring", CloudTrail user guide).
    The trust is that guide's: the CloudTrail service principal."""
    own_name = names.regional_role(names.SUB_SUFFIX, "trail-logs", names.SUB_REGION)
    policy = role_policy(
        template,
        "TrailLogsRolePolicy",
        Sub(own_name),
        Sub(f"{names.SUB_DEPLOYMENT}: what CloudTrail may do with the trail's log group"),
        [
            Statement(
                Sid="DeliverTrailEventsToOwnLogGroup",
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=[log_group_arn(log_group, ":log-stream:${AWS::AccountId}_CloudTrail_*")],
            )
        ],
    )
    policy.Condition = condition
    return template.add_resource(
        Role(
            "TrailLogsRole",
            Condition=condition,
            RoleName=Sub(own_name),
            Description=Sub(f"{names.SUB_DEPLOYMENT}: CloudTrail delivers to CloudWatch Logs"),
            AssumeRolePolicyDocument=make_simple_assume_policy("cloudtrail.amazonaws.com"),
            PermissionsBoundary=permissions_boundary_arn(),
            ManagedPolicyArns=[Ref(policy)],
            Tags=tags(),
        )
    )
