"""CloudWatch alarms, the security-event rules, and the encrypted SNS topic they notify.

Alarms reach someone (PCI DSS v4.0 10.7.2: failures of critical security controls are detected,
alerted and addressed): every metric the handlers emit about a failure, the asynchronous
dead-letter queue, 4XX/403 spikes, WAF blocks, and, through EventBridge rules on CloudTrail
events, a KMS key disabled or scheduled for deletion and any change to a ``payment-*`` IAM role
(PCI DSS 10.2.1.5, 10.2.1.7). EventBridge sees "AWS API Call via CloudTrail" events only where a
trail records management events (the account's organization trail, or ``trail.py``'s).
"""

from __future__ import annotations

from awacs import sns as sns_actions
from awacs.aws import Allow, ArnLike, Condition, Policy, Principal, Statement, StringEquals
from troposphere import Equals, GetAtt, Not, Ref, Sub, Template
from troposphere.cloudwatch import Alarm, Metric, MetricDataQuery, MetricDimension, MetricStat
from troposphere.events import Rule, Target
from troposphere.logs import MetricFilter, MetricTransformation
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from . import names
from .common import (
    STAGE_NAME,
    SUFFIX_PARAM,
    WAF_ENABLED,
    Params,
    deny_insecure_transport,
    name,
    tags,
)
from .config import Config

# The namespace of the handlers' own metrics (handler/observability.py METRIC_NAMESPACE) and the
# failure reasons the processor answers with a 5XX (handler/errors.py).
HANDLER_NAMESPACE = "PaymentInfrastructure"
PAYMENT_5XX_REASONS = ("SERVICE_UNAVAILABLE", "INTERNAL_ERROR")
# IAM is a global service: its CloudTrail events reach EventBridge in us-east-1 only
# ("Receiving events from a global service", EventBridge user guide).
GLOBAL_EVENTS_REGION = "us-east-1"
IN_GLOBAL_EVENTS_REGION = "InGlobalServiceEventsRegion"
RULE_ARNS = (
    f"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/"
    f"{names.resource(names.SUB_SUFFIX, '*')}"
)

HAS_ALARM_EMAIL = "HasAlarmEmail"
FIVE_MINUTES = 300
ONE_MINUTE = 60
# Route 53 publishes health-check metrics in us-east-1 only: alarms on them can live nowhere else.
HEALTH_METRICS_REGION = "us-east-1"
IN_HEALTH_METRICS_REGION = "InHealthCheckMetricsRegion"


def add_alarm_topic(template: Template, params: Params, app_key_arn: object) -> Topic:
    template.add_condition(HAS_ALARM_EMAIL, Not(Equals(Ref(params.alarm_email), "")))
    topic = template.add_resource(
        Topic(
            "AlarmTopic",
            TopicName=name("alarms"),
            DisplayName=name("alarms"),
            KmsMasterKeyId=app_key_arn,
            Tags=tags(),
        )
    )
    template.add_resource(
        TopicPolicy(
            "AlarmTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="CloudWatchAlarmsOfThisAccountPublish",
                        Effect=Allow,
                        Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(
                            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))
                        ),
                    ),
                    Statement(
                        # The security-event rules of this deployment, and only they.
                        Sid="EventBridgeRulesOfThisDeploymentPublish",
                        Effect=Allow,
                        Principal=Principal("Service", "events.amazonaws.com"),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(ArnLike("aws:SourceArn", Sub(RULE_ARNS))),
                    ),
                    deny_insecure_transport("sns", [Ref(topic)]),
                ],
            ),
        )
    )
    template.add_resource(
        SubscriptionResource(
            "AlarmEmailSubscription",
            Condition=HAS_ALARM_EMAIL,
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(params.alarm_email),
        )
    )
    return topic


def _dimensions(**dims: object) -> list[MetricDimension]:
    return [MetricDimension(Name=k, Value=v) for k, v in dims.items()]


def _alarm(
    template: Template,
    topic_arn: object,
    title: str,
    thing: str,
    description: str,
    *,
    threshold: float,
    namespace: str | None = None,
    metric: str | None = None,
    dimensions: dict[str, object] | None = None,
    statistic: str | None = "Sum",
    extended_statistic: str | None = None,
    metrics: list[MetricDataQuery] | None = None,
    comparison: str = "GreaterThanThreshold",
    evaluation_periods: int = 1,
    period: int = FIVE_MINUTES,
    condition: str | None = None,
    missing_data: str = "notBreaching",
) -> Alarm:
    props: dict[str, object] = dict(
        AlarmName=name(thing),
        AlarmDescription=description,
        ComparisonOperator=comparison,
        Threshold=threshold,
        EvaluationPeriods=evaluation_periods,
        TreatMissingData=missing_data,
        AlarmActions=[topic_arn],
        OKActions=[topic_arn],
        Tags=tags(),
    )
    if metrics is not None:
        props["Metrics"] = metrics
    else:
        props.update(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=_dimensions(**(dimensions or {})),
            Period=period,
        )
        if extended_statistic:
            props["ExtendedStatistic"] = extended_statistic
        else:
            props["Statistic"] = statistic
    if condition:
        props["Condition"] = condition
    return template.add_resource(Alarm(title, **props))


def add_table_throttle_alarm(
    template: Template, config: Config, topic_arn: object, table_name: object
) -> Alarm:
    """Throttled read and write events of this region's replica (the table's real throttle
    metrics, not the account-wide ``UserErrors``)."""

    def events(query_id: str, metric: str) -> MetricDataQuery:
        return MetricDataQuery(
            Id=query_id,
            ReturnData=False,
            MetricStat=MetricStat(
                Metric=Metric(
                    Namespace="AWS/DynamoDB",
                    MetricName=metric,
                    Dimensions=_dimensions(TableName=table_name),
                ),
                Period=FIVE_MINUTES,
                Stat="Sum",
            ),
        )

    return _alarm(
        template,
        topic_arn,
        "TableThrottleAlarm",
        "table-throttles",
        "Payments table throttled read or write events in 5 minutes",
        threshold=config.thresholds.dynamodb_throttles,
        metrics=[
            events("reads", "ReadThrottleEvents"),
            events("writes", "WriteThrottleEvents"),
            MetricDataQuery(
                Id="throttled",
                Label="Throttled events",
                Expression="reads + writes",
                ReturnData=True,
            ),
        ],
    )


def add_function_alarms(
    template: Template,
    config: Config,
    topic_arn: object,
    *,
    processor: object,
    audit_writer: object,
) -> None:
    _processor_alarms(template, config, topic_arn, {"FunctionName": Ref(processor)})
    _audit_writer_alarms(template, config, topic_arn, {"FunctionName": Ref(audit_writer)})


def _processor_alarms(
    template: Template, config: Config, topic_arn: object, processor_dims: dict[str, object]
) -> None:
    """Errors, a p99 duration near the timeout, and any throttle of the payment processor."""
    t = config.thresholds
    _alarm(
        template,
        topic_arn,
        "ProcessorErrorsAlarm",
        "processor-errors",
        "Payment processor errors in 5 minutes",
        threshold=t.processor_errors,
        namespace="AWS/Lambda",
        metric="Errors",
        dimensions=processor_dims,
    )
    _alarm(
        template,
        topic_arn,
        "ProcessorDurationAlarm",
        "processor-duration",
        f"Payment processor p99 duration approaching the {config.lambda_timeout_s} s timeout",
        threshold=t.processor_duration_p99_ms,
        namespace="AWS/Lambda",
        metric="Duration",
        dimensions=processor_dims,
        extended_statistic="p99",
    )
    _alarm(
        template,
        topic_arn,
        "ProcessorThrottlesAlarm",
        "processor-throttles",
        "Payment processor invocations throttled",
        threshold=t.lambda_throttles,
        namespace="AWS/Lambda",
        metric="Throttles",
        dimensions=processor_dims,
        comparison="GreaterThanOrEqualToThreshold",
    )


def _audit_writer_alarms(
    template: Template, config: Config, topic_arn: object, audit_dims: dict[str, object]
) -> None:
    """Any audit writer error, and an audit trail falling behind the stream."""
    _alarm(
        template,
        topic_arn,
        "AuditWriterErrorsAlarm",
        "audit-writer-errors",
        "Audit writer errors in 5 minutes (records are retried, then sent to the failure queue)",
        threshold=0,
        namespace="AWS/Lambda",
        metric="Errors",
        dimensions=audit_dims,
    )
    _alarm(
        template,
        topic_arn,
        "AuditWriterIteratorAgeAlarm",
        "audit-writer-iterator-age",
        "The audit trail is falling behind the payments table stream",
        threshold=config.thresholds.stream_iterator_age_ms,
        namespace="AWS/Lambda",
        metric="IteratorAge",
        dimensions=audit_dims,
        statistic="Maximum",
    )


def add_failure_queue_alarm(template: Template, config: Config, topic_arn: object, queue: object):
    return _alarm(
        template,
        topic_arn,
        "AuditFailureQueueAlarm",
        "audit-failures",
        "Stream records that could not be audited are waiting in the failure queue",
        threshold=config.thresholds.failed_records,
        namespace="AWS/SQS",
        metric="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": GetAtt(queue, "QueueName")},
        statistic="Maximum",
    )


def add_api_alarms(template: Template, config: Config, topic_arn: object, api_name: object) -> None:
    t = config.thresholds
    dims = {"ApiName": api_name, "Stage": STAGE_NAME}
    _alarm(
        template,
        topic_arn,
        "Api5xxAlarm",
        "api-5xx",
        "Payment API 5XX responses in 5 minutes",
        threshold=t.api_5xx,
        namespace="AWS/ApiGateway",
        metric="5XXError",
        dimensions=dims,
    )
    _alarm(
        template,
        topic_arn,
        "ApiLatencyAlarm",
        "api-latency",
        "Payment API p99 latency",
        threshold=t.api_latency_p99_ms,
        namespace="AWS/ApiGateway",
        metric="Latency",
        dimensions=dims,
        extended_statistic="p99",
        evaluation_periods=2,
    )


def add_replication_alarms(
    template: Template, config: Config, topic_arn: object, table_name: object
) -> None:
    """Replication latency to each replica region: the recovery point if this region fails."""
    for region in config.replica_regions:
        _alarm(
            template,
            topic_arn,
            f"ReplicationLatency{region_title(region)}Alarm",
            f"replication-latency-{region}",
            f"Average replication latency of the payments table to {region}",
            threshold=config.thresholds.replication_latency_ms,
            namespace="AWS/DynamoDB",
            metric="ReplicationLatency",
            dimensions={"TableName": table_name, "ReceivingRegion": region},
            statistic="Average",
            evaluation_periods=3,
        )


def add_health_metrics_condition(template: Template) -> str:
    template.add_condition(
        IN_HEALTH_METRICS_REGION, Equals(Ref("AWS::Region"), HEALTH_METRICS_REGION)
    )
    return IN_HEALTH_METRICS_REGION


def add_health_check_alarm(
    template: Template,
    topic_arn: object,
    *,
    title: str,
    thing: str,
    region: object,
    health_check_id: object,
    condition: str,
) -> Alarm:
    """The API of ``region`` fails its Route 53 health check (the failover record then answers
    with the other region). Missing data keeps the alarm's state rather than paging on the
    minutes before a new check first reports."""
    return _alarm(
        template,
        topic_arn,
        title,
        thing,
        Sub(
            "Route 53 health check of the payment API in ${Region} reports unhealthy", Region=region
        ),
        threshold=1,
        namespace="AWS/Route53",
        metric="HealthCheckStatus",
        dimensions={"HealthCheckId": health_check_id},
        statistic="Minimum",
        comparison="LessThanThreshold",
        evaluation_periods=2,
        period=ONE_MINUTE,
        condition=condition,
        missing_data="missing",
    )


def region_title(region: str) -> str:
    return "".join(part.capitalize() for part in region.split("-"))


def add_handler_metric_alarms(template: Template, config: Config, topic_arn: object) -> None:
    """Alarms on the metrics the handlers emit (Embedded Metric Format, ``Environment`` and, for
    payments, ``Reason`` dimensions): a payment answered 5XX, an audit record not written."""
    environment = Ref(SUFFIX_PARAM)
    t = config.thresholds

    def failed(reason: str) -> MetricDataQuery:
        return MetricDataQuery(
            Id=reason.lower(),
            ReturnData=False,
            MetricStat=MetricStat(
                Metric=Metric(
                    Namespace=HANDLER_NAMESPACE,
                    MetricName="PaymentFailed",
                    Dimensions=_dimensions(Environment=environment, Reason=reason),
                ),
                Period=FIVE_MINUTES,
                Stat="Sum",
            ),
        )

    _alarm(
        template,
        topic_arn,
        "PaymentFailedAlarm",
        "payments-failed",
        "Payments answered with a 5XX (service unavailable or internal error) in 5 minutes",
        threshold=t.payments_failed,
        metrics=[
            *(failed(reason) for reason in PAYMENT_5XX_REASONS),
            MetricDataQuery(
                Id="failed",
                Label="Payments failed",
                Expression=" + ".join(
                    f"FILL({reason.lower()}, 0)" for reason in PAYMENT_5XX_REASONS
                ),
                ReturnData=True,
            ),
        ],
    )
    _alarm(
        template,
        topic_arn,
        "AuditFailedAlarm",
        "audit-failed",
        "Stream records the audit writer could not write in 5 minutes (retried, then queued)",
        threshold=t.audit_failed,
        namespace=HANDLER_NAMESPACE,
        metric="AuditFailed",
        dimensions={"Environment": environment},
    )


def add_dead_letter_alarm(template: Template, config: Config, topic_arn: object, queue) -> Alarm:
    return _alarm(
        template,
        topic_arn,
        "AsyncDeadLetterAlarm",
        "async-dead-letters",
        "Asynchronous invocations that failed for good are waiting in the dead-letter queue",
        threshold=config.thresholds.async_dead_letters,
        namespace="AWS/SQS",
        metric="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": GetAtt(queue, "QueueName")},
        statistic="Maximum",
    )


def add_api_client_error_alarms(
    template: Template, config: Config, topic_arn: object, api_name: object, access_log_group
) -> None:
    """4XX spikes (API Gateway's metric) and 403 spikes (a metric filter on the access log,
    which records each response's status; API Gateway publishes no per-status metric)."""
    t = config.thresholds
    _alarm(
        template,
        topic_arn,
        "Api4xxAlarm",
        "api-4xx",
        "Payment API 4XX responses in 5 minutes",
        threshold=t.api_4xx,
        namespace="AWS/ApiGateway",
        metric="4XXError",
        dimensions={"ApiName": api_name, "Stage": STAGE_NAME},
    )
    namespace = Sub(f"{HANDLER_NAMESPACE}/${{{SUFFIX_PARAM}}}")
    template.add_resource(
        MetricFilter(
            "ApiForbiddenMetricFilter",
            LogGroupName=Ref(access_log_group),
            FilterPattern='{ $.status = "403" }',
            MetricTransformations=[
                MetricTransformation(
                    MetricNamespace=namespace,
                    MetricName="ApiForbidden",
                    MetricValue="1",
                    DefaultValue=0,
                )
            ],
        )
    )
    _alarm(
        template,
        topic_arn,
        "Api403Alarm",
        "api-403",
        "Payment API requests refused with 403 (missing or wrong credentials, WAF) in 5 minutes",
        threshold=t.api_403,
        namespace=namespace,
        metric="ApiForbidden",
        dimensions={},
    )


def add_waf_block_alarm(template: Template, config: Config, topic_arn: object, acl) -> Alarm:
    return _alarm(
        template,
        topic_arn,
        "WafBlockedAlarm",
        "waf-blocked",
        "Requests blocked by the payment API's web ACL in 5 minutes",
        threshold=config.thresholds.waf_blocked,
        namespace="AWS/WAFV2",
        metric="BlockedRequests",
        dimensions={"WebACL": acl.Name, "Region": Ref("AWS::Region"), "Rule": "ALL"},
        condition=WAF_ENABLED,
    )


def _event_rule(
    template: Template, title: str, thing: str, description: str, pattern: dict, topic_arn, **kw
) -> Rule:
    return template.add_resource(
        Rule(
            title,
            Name=name(thing),
            Description=description,
            EventPattern=pattern,
            State="ENABLED",
            Targets=[Target(Id="AlarmTopic", Arn=topic_arn)],
            Tags=tags(),
            **kw,
        )
    )


def add_key_event_rule(template: Template, topic_arn: object) -> Rule:
    """A KMS key of this account and region disabled or scheduled for deletion: the data it
    encrypts becomes unreadable (every key of the region, since the event names the key only by
    the id or alias the caller used)."""
    return _event_rule(
        template,
        "KeyDisabledOrDeletedRule",
        "kms-key-events",
        "A KMS key was disabled or scheduled for deletion",
        {
            "source": ["aws.kms"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["kms.amazonaws.com"],
                "eventName": ["DisableKey", "ScheduleKeyDeletion"],
            },
        },
        topic_arn,
    )


ROLE_CHANGES = (
    "AttachRolePolicy",
    "CreateRole",
    "DeleteRole",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DetachRolePolicy",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "UpdateAssumeRolePolicy",
    "UpdateRole",
)


def add_role_change_rule(template: Template, topic_arn: object) -> Rule:
    """Any change to a ``payment-*`` role (its policies, trust or boundary). IAM events arrive
    in us-east-1 only, so only the stack there has this rule."""
    template.add_condition(
        IN_GLOBAL_EVENTS_REGION, Equals(Ref("AWS::Region"), GLOBAL_EVENTS_REGION)
    )
    return _event_rule(
        template,
        "PaymentRoleChangedRule",
        "iam-role-events",
        f"A {names.ANY_NAME} IAM role was created, changed or deleted",
        {
            "source": ["aws.iam"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["iam.amazonaws.com"],
                "eventName": list(ROLE_CHANGES),
                "requestParameters": {"roleName": [{"prefix": names.NAME_PREFIX}]},
            },
        },
        topic_arn,
        Condition=IN_GLOBAL_EVENTS_REGION,
    )


def add_pitr_disabled_rule(template: Template, topic_arn: object) -> Rule:
    """Point-in-time recovery switched off on a table of this region. It cannot be denied to the
    deployer: ``dynamodb:UpdateContinuousBackups`` has no condition key for the enabled flag
    (Service Authorization Reference, "Actions, resources, and condition keys for Amazon
    DynamoDB"), and the global table's create and update handlers call it to turn PITR on. So
    the call that turns it off is an alarm (the request's
    ``pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled``, UpdateContinuousBackups in
    the DynamoDB API Reference)."""
    return _event_rule(
        template,
        "PitrDisabledRule",
        "pitr-events",
        "Point-in-time recovery was switched off on a payment table",
        {
            "source": ["aws.dynamodb"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["dynamodb.amazonaws.com"],
                "eventName": ["UpdateContinuousBackups"],
                "requestParameters": {
                    "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": [False]}
                },
            },
        },
        topic_arn,
    )
