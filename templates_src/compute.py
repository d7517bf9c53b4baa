"""The Lambda functions: the payment processor and the audit writer fed by the table stream."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Template
from troposphere.awslambda import (
    Code,
    DeadLetterConfig,
    DestinationConfig,
    Environment,
    EventSourceMapping,
    Function,
    OnFailure,
    TracingConfig,
)
from troposphere.logs import LogGroup
from troposphere.sqs import Queue

from . import iam, kms
from .common import AUDIT_PREFIX, SUFFIX_PARAM, Params, disposable, name, suppress, tags
from .config import Config

PROCESSOR_HANDLER = "handler.app.lambda_handler"
AUDIT_WRITER_HANDLER = "handler.audit.lambda_handler"

# Stream consumption: bounded retries, then the batch's pointers go to the on-failure queue;
# bisecting isolates a bad record instead of blocking the shard behind it.
STREAM_BATCH_SIZE = 100
STREAM_MAX_RETRIES = 5
STREAM_MAX_RECORD_AGE_S = 86_400  # a stream keeps records for 24 hours
FAILURE_QUEUE_RETENTION_S = 1_209_600  # 14 days, the SQS maximum


# Accepted checkov findings on both functions, with the reasons a reviewer would weigh.
FUNCTION_SUPPRESSIONS = {
    "CKV_AWS_117": "No VPC: the functions reach only AWS APIs (DynamoDB, S3, KMS, SQS) over "
    "TLS with IAM auth; a VPC would add NAT or endpoint cost and cold-start latency without "
    "protecting any private network resource.",
}


@dataclass(frozen=True)
class Functions:
    processor: Function
    audit_writer: Function
    processor_log_group: LogGroup
    audit_writer_log_group: LogGroup
    failure_queue: Queue
    dead_letter_queue: Queue


def _log_group(template: Template, config: Config, title: str, thing: str, app_key_arn) -> LogGroup:
    # Function logs are operational and short-lived (7 days by default) and carry no request
    # bodies; the record of every payment is the retained, versioned audit bucket, and the API
    # access and WAF logs (who called) are kept for a year.
    return template.add_resource(
        disposable(
            LogGroup(
                title,
                LogGroupName=Sub(f"/aws/lambda/payment-${{{SUFFIX_PARAM}}}-{thing}"),
                RetentionInDays=config.log_retention_days,
                KmsKeyId=app_key_arn,
                Tags=tags(),
            )
        )
    )


def _function(
    template: Template,
    config: Config,
    params: Params,
    *,
    title: str,
    thing: str,
    handler: str,
    description: str,
    role: object,
    log_group: LogGroup,
    app_key_arn: object,
    environment: dict[str, object],
    reserved_concurrency: object,
    dead_letter_queue: Queue,
) -> Function:
    return template.add_resource(
        suppress(
            Function(
                title,
                FunctionName=name(thing),
                Description=description,
                Runtime=config.lambda_runtime,
                Architectures=["arm64"],
                Handler=handler,
                Code=Code(S3Bucket=Ref(params.artifact_bucket), S3Key=Ref(params.code_key)),
                MemorySize=config.lambda_memory_mb,
                Timeout=config.lambda_timeout_s,
                Role=GetAtt(role, "Arn"),
                KmsKeyArn=app_key_arn,
                Environment=Environment(
                    Variables={"ENVIRONMENT_SUFFIX": Ref(SUFFIX_PARAM), **environment}
                ),
                TracingConfig=TracingConfig(Mode="Active"),
                ReservedConcurrentExecutions=reserved_concurrency,
                # Catches asynchronous invocations (the API and the stream invoke synchronously and
                # have their own failure paths), so no invocation is ever dropped silently.
                DeadLetterConfig=DeadLetterConfig(TargetArn=GetAtt(dead_letter_queue, "Arn")),
                Tags=tags(),
                # The log group (with retention and KMS) must exist before the function can log,
                # otherwise Lambda creates an unencrypted one that never expires.
                DependsOn=[log_group.title],
            ),
            checkov=FUNCTION_SUPPRESSIONS,
        )
    )


def add_functions(
    template: Template,
    config: Config,
    params: Params,
    *,
    keys: kms.Keys,
    table: object,
    bucket: object,
) -> Functions:
    app_key_arn = kms.key_arn(keys.app)
    table_key_arn = kms.key_arn(keys.table)
    audit_key_arn = kms.key_arn(keys.audit)

    failure_queue = template.add_resource(
        disposable(
            Queue(
                "AuditFailureQueue",
                QueueName=name("audit-failures"),
                KmsMasterKeyId=app_key_arn,
                MessageRetentionPeriod=FAILURE_QUEUE_RETENTION_S,
                Tags=tags(),
            )
        )
    )
    dead_letter_queue = template.add_resource(
        disposable(
            Queue(
                "AsyncDeadLetterQueue",
                QueueName=name("async-dlq"),
                KmsMasterKeyId=app_key_arn,
                MessageRetentionPeriod=FAILURE_QUEUE_RETENTION_S,
                Tags=tags(),
            )
        )
    )
    processor_logs = _log_group(template, config, "ProcessorLogGroup", "processor", app_key_arn)
    audit_logs = _log_group(template, config, "AuditWriterLogGroup", "audit-writer", app_key_arn)

    processor_role = iam.processor_role(
        template,
        table=table,
        table_key_arn=table_key_arn,
        app_key_arn=app_key_arn,
        log_group=processor_logs,
        dead_letter_queue=dead_letter_queue,
    )
    audit_role = iam.audit_writer_role(
        template,
        table=table,
        table_key_arn=table_key_arn,
        bucket=bucket,
        audit_key_arn=audit_key_arn,
        app_key_arn=app_key_arn,
        queue=failure_queue,
        dead_letter_queue=dead_letter_queue,
        log_group=audit_logs,
        object_prefix=AUDIT_PREFIX,
    )

    processor = _function(
        template,
        config,
        params,
        title="ProcessorFunction",
        thing="processor",
        handler=PROCESSOR_HANDLER,
        description="Payment API: POST /process and GET /health",
        role=processor_role,
        log_group=processor_logs,
        app_key_arn=app_key_arn,
        environment={"TABLE_NAME": Ref(table), "AUDIT_BUCKET": Ref(bucket)},
        reserved_concurrency=Ref(params.processor_concurrency),
        dead_letter_queue=dead_letter_queue,
    )
    audit_writer = _function(
        template,
        config,
        params,
        title="AuditWriterFunction",
        thing="audit-writer",
        handler=AUDIT_WRITER_HANDLER,
        description="Writes every accepted payment from the table stream to the audit bucket",
        role=audit_role,
        log_group=audit_logs,
        app_key_arn=app_key_arn,
        environment={
            "TABLE_NAME": Ref(table),
            "AUDIT_BUCKET": Ref(bucket),
            "AUDIT_KMS_KEY_ARN": audit_key_arn,
        },
        reserved_concurrency=Ref(params.audit_concurrency),
        dead_letter_queue=dead_letter_queue,
    )
    template.add_resource(
        EventSourceMapping(
            "AuditWriterStreamMapping",
            FunctionName=Ref(audit_writer),
            EventSourceArn=GetAtt(table, "StreamArn"),
            # TRIM_HORIZON: a consumer that starts late still audits everything the stream holds.
            StartingPosition="TRIM_HORIZON",
            BatchSize=STREAM_BATCH_SIZE,
            MaximumBatchingWindowInSeconds=1,
            MaximumRetryAttempts=STREAM_MAX_RETRIES,
            MaximumRecordAgeInSeconds=STREAM_MAX_RECORD_AGE_S,
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DestinationConfig=DestinationConfig(
                OnFailure=OnFailure(Destination=GetAtt(failure_queue, "Arn"))
            ),
            Tags=tags(),
        )
    )
    return Functions(
        processor, audit_writer, processor_logs, audit_logs, failure_queue, dead_letter_queue
    )
