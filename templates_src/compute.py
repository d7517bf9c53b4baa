"""The Lambda functions: the payment processor and the audit writer fed by the table stream."""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Policy
from troposphere import GetAtt, If, NoValue, Ref, Sub, Template
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
from troposphere.cloudformation import CustomResource
from troposphere.iam import Role
from troposphere.logs import LogGroup
from troposphere.sqs import Queue, QueuePolicy

from handler.audit_key import AUDIT_KEY_PREFIX

from . import data, iam, kms, logs, names
from .common import (
    AUDIT_WRITER_RESERVED,
    PROCESSOR_RESERVED,
    SUFFIX_PARAM,
    Params,
    code_bucket,
    deny_insecure_transport,
    disposable,
    name,
    suppress,
    tags,
)
from .config import Config
from .data import TableRef
from .network import Network, eni_statements
from .storage import BucketRef

PROCESSOR_HANDLER = "handler.app.lambda_handler"
AUDIT_WRITER_HANDLER = "handler.audit.lambda_handler"
TABLE_STREAM_HANDLER = "handler.stream_lookup.lambda_handler"
TABLE_STREAM_TYPE = "Custom::TableStream"

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
    "CKV_AWS_115": "Reserved concurrency is the operator's choice (ProcessorReservedConcurrency, "
    "AuditWriterReservedConcurrency; none by default): Lambda keeps 100 concurrent executions "
    "per account and region unreserved and a new account may have 10 or 50 in all, so a fixed "
    "reservation fails the stack there; deploy checks the account before it reserves any.",
}
# The same findings as AWS Guard Rules Registry rules (cfn-guard).
FUNCTION_GUARD_SUPPRESSIONS = {
    "LAMBDA_INSIDE_VPC": FUNCTION_SUPPRESSIONS["CKV_AWS_117"],
    "LAMBDA_CONCURRENCY_CHECK": FUNCTION_SUPPRESSIONS["CKV_AWS_115"]
    + " The audit writer stays unreserved by default (README: a cap below the stream's shard "
    "count holds the audit trail behind); a reservation, when asked, is a parameter the rule "
    "cannot read as a number.",
}


# Lambda's asynchronous retries: CloudFormation invokes the provider asynchronously, and a failed
# invocation (the answer could not be delivered) is retried twice, about one and two minutes
# later ("Asynchronous invocation", AWS Lambda Developer Guide).
ASYNC_RETRY_DELAYS_S = (60, 120)


def table_stream_service_timeout(config: Config) -> int:
    """How long CloudFormation waits for the stream lookup's answer before failing the stack.

    Without ``ServiceTimeout`` it waits 3600 s: a provider that cannot run would hold the stack
    an hour ("AWS::CloudFormation::CustomResource", ServiceTimeout: 1 to 3600 seconds, default
    3600). Enough for the first invocation and Lambda's two retries, each its full timeout."""
    return 3 * config.lambda_timeout_s + sum(ASYNC_RETRY_DELAYS_S)


class TableStream(CustomResource):
    """``Custom::TableStream``: answered by handler/stream_lookup.py."""

    resource_type = TABLE_STREAM_TYPE
    props = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (int, False),
        "TableName": (str, True),
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
    return logs.add_log_group(
        template,
        config,
        title,
        Sub(names.function_log_group(names.SUB_SUFFIX, thing)),
        app_key_arn,
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
    reserved_concurrency: object | None,
    dead_letter_queue: Queue,
    network: Network | None = None,
) -> Function:
    reservation = (
        {}
        if reserved_concurrency is None
        else {"ReservedConcurrentExecutions": reserved_concurrency}
    )
    in_vpc = {} if network is None else {"VpcConfig": network.vpc_config()}
    suppressions, guard_suppressions = _function_suppressions(network)
    return template.add_resource(
        suppress(
            Function(
                title,
                FunctionName=name(thing),
                Description=description,
                Runtime=config.lambda_runtime,
                Architectures=["arm64"],
                Handler=handler,
                Code=Code(S3Bucket=code_bucket(params), S3Key=Ref(params.code_key)),
                MemorySize=config.lambda_memory_mb,
                Timeout=config.lambda_timeout_s,
                Role=GetAtt(role, "Arn"),
                KmsKeyArn=app_key_arn,
                Environment=Environment(
                    Variables={"ENVIRONMENT_SUFFIX": Ref(SUFFIX_PARAM), **environment}
                ),
                TracingConfig=TracingConfig(Mode="Active"),
                **reservation,
                **in_vpc,
                # Catches asynchronous invocations (the API and the stream invoke synchronously and
                # have their own failure paths), so no invocation is ever dropped silently.
                DeadLetterConfig=DeadLetterConfig(TargetArn=GetAtt(dead_letter_queue, "Arn")),
                Tags=tags(),
                # The log group (with retention and KMS) must exist before the function can log,
                # otherwise Lambda creates an unencrypted one that never expires.
                DependsOn=[log_group.title],
            ),
            checkov=suppressions,
            guard=guard_suppressions,
        )
    )


def _function_suppressions(network: Network | None) -> tuple[dict[str, str], dict[str, str]]:
    """The checkov and cfn-guard findings a function accepts, with their reasons."""
    suppressions = dict(FUNCTION_SUPPRESSIONS)
    guard_suppressions = dict(FUNCTION_GUARD_SUPPRESSIONS)
    if network is not None:
        # In the VPC the findings are met, not accepted.
        del suppressions["CKV_AWS_117"]
        del guard_suppressions["LAMBDA_INSIDE_VPC"]
    return suppressions, guard_suppressions


def add_functions(
    template: Template,
    config: Config,
    params: Params,
    *,
    keys: kms.KeyArns,
    table: TableRef,
    bucket: BucketRef,
    dead_letter_queue: Queue,
    network: Network | None = None,
) -> Functions:
    """The processor and the audit writer on ``table``'s stream in this region (in
    ``network`` when given)."""
    app_key_arn = keys.app
    failure_queue = _failure_queue(template, "AuditFailureQueue", "audit-failures", app_key_arn)
    processor_logs = _log_group(template, config, "ProcessorLogGroup", "processor", app_key_arn)
    audit_logs = _log_group(template, config, "AuditWriterLogGroup", "audit-writer", app_key_arn)
    processor_role, audit_role = _execution_roles(
        template,
        keys=keys,
        table=table,
        bucket=bucket,
        log_groups=(processor_logs, audit_logs),
        failure_queue=failure_queue,
        dead_letter_queue=dead_letter_queue,
        network=network,
    )
    processor = _processor(
        template,
        config,
        params,
        role=processor_role,
        log_group=processor_logs,
        keys=keys,
        table=table,
        bucket=bucket,
        dead_letter_queue=dead_letter_queue,
        network=network,
    )
    audit_writer = _audit_writer(
        template,
        config,
        params,
        role=audit_role,
        log_group=audit_logs,
        keys=keys,
        table=table,
        bucket=bucket,
        dead_letter_queue=dead_letter_queue,
        network=network,
    )
    _add_stream_mapping(template, audit_writer, table, failure_queue)
    return Functions(
        processor, audit_writer, processor_logs, audit_logs, failure_queue, dead_letter_queue
    )


def _execution_roles(
    template: Template,
    *,
    keys: kms.KeyArns,
    table: TableRef,
    bucket: BucketRef,
    log_groups: tuple[LogGroup, LogGroup],
    failure_queue: Queue,
    dead_letter_queue: Queue,
    network: Network | None,
) -> tuple[Role, Role]:
    """The processor's and the audit writer's roles, each scoped to what its function touches
    (and allowed to attach its network interfaces in ``network`` when given)."""
    processor_logs, audit_logs = log_groups
    attach = [] if network is None else eni_statements(network)
    processor_role = iam.processor_role(
        template,
        table_arn=table.arn,
        table_key_arn=keys.table,
        app_key_arn=keys.app,
        log_group=processor_logs,
        dead_letter_queue=dead_letter_queue,
        extra=attach,
    )
    audit_role = iam.audit_writer_role(
        template,
        stream_arn=table.stream_arn,
        table_key_arn=keys.table,
        bucket_arn=bucket.arn,
        audit_key_arn=keys.audit,
        app_key_arn=keys.app,
        queue=failure_queue,
        dead_letter_queue=dead_letter_queue,
        log_group=audit_logs,
        object_prefix=AUDIT_KEY_PREFIX,
        extra=attach,
    )
    return processor_role, audit_role


def _processor(
    template: Template,
    config: Config,
    params: Params,
    *,
    role: Role,
    log_group: LogGroup,
    keys: kms.KeyArns,
    table: TableRef,
    bucket: BucketRef,
    dead_letter_queue: Queue,
    network: Network | None,
) -> Function:
    """The payment API's function: it writes payments to ``table``."""
    return _function(
        template,
        config,
        params,
        title="ProcessorFunction",
        thing=names.PROCESSOR_FUNCTION,
        handler=PROCESSOR_HANDLER,
        description="Payment API: POST /process and GET /health",
        role=role,
        log_group=log_group,
        app_key_arn=keys.app,
        environment={
            "TABLE_NAME": table.name,
            "AUDIT_BUCKET": bucket.name,
            # How the handler names the client API Gateway authenticated (handler/clients.py).
            "CLIENT_AUTH": config.client_auth,
            "CLIENT_ROLE_PREFIX": name(names.CLIENT_ROLE),
        },
        reserved_concurrency=If(PROCESSOR_RESERVED, Ref(params.processor_concurrency), NoValue),
        dead_letter_queue=dead_letter_queue,
        network=network,
    )


def _audit_writer(
    template: Template,
    config: Config,
    params: Params,
    *,
    role: Role,
    log_group: LogGroup,
    keys: kms.KeyArns,
    table: TableRef,
    bucket: BucketRef,
    dead_letter_queue: Queue,
    network: Network | None,
) -> Function:
    """The stream consumer: it writes every accepted payment to the audit bucket."""
    return _function(
        template,
        config,
        params,
        title="AuditWriterFunction",
        thing=names.AUDIT_WRITER_FUNCTION,
        handler=AUDIT_WRITER_HANDLER,
        description="Writes every accepted payment from the table stream to the audit bucket",
        role=role,
        log_group=log_group,
        app_key_arn=keys.app,
        environment={
            "TABLE_NAME": table.name,
            "AUDIT_BUCKET": bucket.name,
            "AUDIT_KMS_KEY_ARN": keys.audit,
        },
        reserved_concurrency=If(AUDIT_WRITER_RESERVED, Ref(params.audit_concurrency), NoValue),
        dead_letter_queue=dead_letter_queue,
        network=network,
    )


def _add_stream_mapping(
    template: Template, audit_writer: Function, table: TableRef, failure_queue: Queue
) -> EventSourceMapping:
    """The audit writer reads ``table``'s stream; a batch it cannot write goes to
    ``failure_queue`` as pointers."""
    return template.add_resource(
        EventSourceMapping(
            "AuditWriterStreamMapping",
            FunctionName=Ref(audit_writer),
            EventSourceArn=table.stream_arn,
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


def add_dead_letter_queue(template: Template, app_key_arn: object) -> Queue:
    """Where every function's failed asynchronous invocations go."""
    return _failure_queue(template, "AsyncDeadLetterQueue", "async-dlq", app_key_arn)


def _failure_queue(template: Template, title: str, thing: str, app_key_arn: object) -> Queue:
    queue = template.add_resource(
        disposable(
            Queue(
                title,
                QueueName=name(thing),
                KmsMasterKeyId=app_key_arn,
                MessageRetentionPeriod=FAILURE_QUEUE_RETENTION_S,
                Tags=tags(),
            )
        )
    )
    template.add_resource(
        QueuePolicy(
            f"{title}Policy",
            Queues=[Ref(queue)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[deny_insecure_transport("sqs", [GetAtt(queue, "Arn")])],
            ),
        )
    )
    return queue


def add_table_stream(
    template: Template,
    config: Config,
    params: Params,
    *,
    keys: kms.KeyArns,
    table_arn: object,
    dead_letter_queue: Queue,
) -> CustomResource:
    """The stream ARN of this region's table replica, looked up when the stack deploys.

    A replica region's template cannot know it: the stream is named by the time the primary's
    global table created the replica. ``GetAtt <this>.StreamArn`` gives it to the stream mapping.
    """
    log_group = _log_group(template, config, "TableStreamLogGroup", "table-stream", keys.app)
    role = iam.table_stream_role(
        template,
        table_arn=table_arn,
        app_key_arn=keys.app,
        log_group=log_group,
        dead_letter_queue=dead_letter_queue,
    )
    function = _function(
        template,
        config,
        params,
        title="TableStreamFunction",
        thing="table-stream",
        handler=TABLE_STREAM_HANDLER,
        description="CloudFormation custom resource: the stream ARN of this region's table replica",
        role=role,
        log_group=log_group,
        app_key_arn=keys.app,
        environment={},
        # One lookup per stack create or update: nothing worth reserving for.
        reserved_concurrency=None,
        dead_letter_queue=dead_letter_queue,
    )
    return template.add_resource(
        TableStream(
            "PaymentsTableStream",
            ServiceToken=GetAtt(function, "Arn"),
            ServiceTimeout=table_stream_service_timeout(config),
            TableName=data.table_name(),
        )
    )
