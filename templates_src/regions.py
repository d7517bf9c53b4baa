"""The region templates, each a short composition of the concerns: the primary, and in every
replica region the replica (keys, bucket) and the standby (the payment service)."""

from __future__ import annotations

from troposphere import (
    And,
    Condition,
    Equals,
    Export,
    GetAtt,
    ImportValue,
    Not,
    Output,
    Parameter,
    Ref,
    Sub,
    Template,
)

from . import compute, data, kms, monitoring, names, params, routing, storage, trail
from .common import add_parameter_group, add_parameters
from .config import Config
from .service import add_service


def _template(description: str) -> Template:
    template = Template(Description=description)
    template.set_version("2010-09-09")
    return template


def _output(template: Template, title: str, description: str, value: object) -> None:
    template.add_output(Output(title, Description=description, Value=value))


def _key_outputs(template: Template, keys: kms.Keys, *, export: bool = False) -> None:
    """``export``: the standby stack in the same region imports them."""
    for use, key in (("Table", keys.table), ("Audit", keys.audit), ("App", keys.app)):
        extra = {"Export": Export(export_name(f"{use.lower()}-key-arn"))} if export else {}
        template.add_output(
            Output(
                f"{use}KeyArn",
                Description=f"KMS key ARN: {kms.USES[use.lower()]}",
                Value=kms.key_arn(key),
                **extra,
            )
        )


def build_primary(config: Config) -> Template:
    """The primary region: the global table, the payment API and its functions."""
    template = _template(
        "Payment processing, primary region: DynamoDB global table with replicas in "
        f"{', '.join(config.replica_regions)}, payment API, Lambda functions, audit bucket, "
        "alarms, health check and the PRIMARY failover record of the optional custom domain."
    )
    p = add_parameters(template, config, with_code=True)
    keys = kms.add_keys(template, config)
    key_arns = kms.arns(keys)
    table = data.add_payments_table(template, config, keys)
    access_logs = storage.add_access_log_bucket(template, config)
    bucket = storage.add_audit_bucket(template, config, key_arns.audit, access_logs)
    topic = monitoring.add_alarm_topic(template, p, key_arns.app)
    service = add_service(
        template,
        config,
        p,
        keys=key_arns,
        table=data.table_ref(table),
        bucket=storage.bucket_ref(bucket),
        topic_arn=Ref(topic),
        dead_letter_queue=compute.add_dead_letter_queue(template, key_arns.app),
    )
    routing.add_failover_record(
        template,
        role=routing.PRIMARY,
        domain=service.domain,
        health_check=service.health_check,
        condition=routing.HAS_DOMAIN,
    )
    trail.add_trail(
        template,
        config,
        key_arn=key_arns.audit,
        log_key_arn=key_arns.app,
        access_log_bucket=access_logs,
    )
    _standby_health_alarms(template, config, Ref(topic))
    monitoring.add_table_throttle_alarm(template, config, Ref(topic), Ref(table))
    monitoring.add_replication_alarms(template, config, Ref(topic), Ref(table))
    params.add_parameters(
        template,
        {
            "table-name": ("Name of the payments global table", Ref(table)),
            "bucket-name": ("Audit bucket of this region", Ref(bucket)),
            "api-url": ("Invoke URL of the payment API stage", service.url),
        },
    )

    _output(template, names.TABLE_OUTPUT, "Payments global table", Ref(table))
    _output(template, "TableArn", "Payments table ARN in this region", GetAtt(table, "Arn"))
    _output(template, "TableStreamArn", "Payments table stream ARN", GetAtt(table, "StreamArn"))
    _output(template, names.AUDIT_BUCKET_OUTPUT, "Audit bucket of this region", Ref(bucket))
    _output(template, "AccessLogBucketName", "Access logs of the audit bucket", Ref(access_logs))
    _output(template, "AlarmTopicArn", "SNS topic of the alarms", Ref(topic))
    _key_outputs(template, keys)
    return template


def standby_health_check_parameter(region: str) -> str:
    """The primary's parameter that carries the standby health check id of ``region``."""
    return f"HealthCheckId{monitoring.region_title(region)}"


def _standby_health_alarms(template: Template, config: Config, topic_arn: object) -> None:
    """Alarms on the standby regions' health checks, where their metrics are (us-east-1).

    The standby stacks deploy after this one, so the deploy script passes their health check
    ids in on the run that creates them; empty means no alarm yet."""
    parameters = {}
    for region in config.replica_regions:
        parameter = template.add_parameter(
            Parameter(
                standby_health_check_parameter(region),
                Type="String",
                Default="",
                AllowedPattern=r"^$|^[0-9a-f-]{36}$",
                ConstraintDescription="a Route 53 health check id, or empty",
                Description=f"Route 53 health check of the standby API in {region} (set by the "
                "deploy script from the standby stack); empty: no alarm on it.",
            )
        )
        parameters[parameter] = f"Health check id in {region}"
        condition = f"AlarmOn{parameter.title}"
        template.add_condition(
            condition,
            And(
                Condition(monitoring.IN_HEALTH_METRICS_REGION),
                Not(Equals(Ref(parameter), "")),
            ),
        )
        monitoring.add_health_check_alarm(
            template,
            topic_arn,
            title=f"StandbyHealthCheck{monitoring.region_title(region)}Alarm",
            thing=f"api-health-{region}",
            region=region,
            health_check_id=Ref(parameter),
            condition=condition,
        )
    add_parameter_group(template, "Standby health checks (set by the deploy script)", parameters)


def export_name(thing: str) -> Sub:
    return Sub(names.resource(names.SUB_SUFFIX, thing))


def build_replica(config: Config) -> Template:
    """A replica region's foundation: the keys and bucket the table replica and audit trail need.

    The table replica itself comes from the primary's global table: declaring a table here
    would create a second, unrelated table. The standby service of the region is a template of
    its own (``build_standby``), deployed after the primary created the replica.
    """
    template = _template(
        "Payment processing, replica region: KMS keys for the global table replica, audit "
        "bucket, alarm topic and SSM parameters. Deploy before the primary region."
    )
    p = add_parameters(template, config, with_code=False)
    keys = kms.add_keys(template, config)
    access_logs = storage.add_access_log_bucket(template, config)
    bucket = storage.add_audit_bucket(template, config, kms.key_arn(keys.audit), access_logs)
    topic = monitoring.add_alarm_topic(template, p, kms.key_arn(keys.app))
    table_name = data.table_name()
    monitoring.add_table_throttle_alarm(template, config, Ref(topic), table_name)
    params.add_parameters(
        template,
        {
            "table-name": (
                "Name of the payments global table (replica in this region)",
                table_name,
            ),
            "bucket-name": ("Audit bucket of this region", Ref(bucket)),
        },
    )
    _output(template, names.AUDIT_BUCKET_OUTPUT, "Audit bucket of this region", Ref(bucket))
    _output(template, "AccessLogBucketName", "Access logs of the audit bucket", Ref(access_logs))
    template.add_output(
        Output(
            "AlarmTopicArn",
            Description="SNS topic of the alarms",
            Value=Ref(topic),
            Export=Export(export_name("alarm-topic-arn")),
        )
    )
    _key_outputs(template, keys, export=True)
    return template


def build_standby(config: Config) -> Template:
    """A replica region's standby payment service on the local table replica.

    Deployed after the primary: it needs the table replica (whose stream it reads), which the
    primary creates.
    """
    template = _template(
        "Payment processing, standby in a replica region: payment API, Lambda functions on the "
        "local table replica and its stream, alarms, health check and the SECONDARY failover "
        "record of the optional custom domain. Deploy after the primary region."
    )
    p = add_parameters(
        template, config, with_code=True, artifact_bucket_per_region=True, with_alarm_email=False
    )
    key_arns = kms.KeyArns(
        table=ImportValue(export_name("table-key-arn")),
        audit=ImportValue(export_name("audit-key-arn")),
        app=ImportValue(export_name("app-key-arn")),
    )
    topic_arn = ImportValue(export_name("alarm-topic-arn"))
    dead_letter_queue = compute.add_dead_letter_queue(template, key_arns.app)
    stream = compute.add_table_stream(
        template,
        config,
        p,
        keys=key_arns,
        table_arn=data.local_table_arn(),
        dead_letter_queue=dead_letter_queue,
    )
    service = add_service(
        template,
        config,
        p,
        keys=key_arns,
        table=data.local_replica(GetAtt(stream, "StreamArn")),
        bucket=storage.local_audit_bucket(),
        topic_arn=topic_arn,
        dead_letter_queue=dead_letter_queue,
    )
    routing.add_secondary_region_parameter(template, config.replica_regions[0])
    routing.add_failover_record(
        template,
        role=routing.SECONDARY,
        domain=service.domain,
        health_check=service.health_check,
        condition=routing.SECONDARY_HERE,
    )
    params.add_parameters(
        template,
        {"api-url": ("Invoke URL of the standby payment API stage", service.url)},
    )
    _output(
        template,
        "TableStreamArn",
        "Stream of the table replica in this region",
        GetAtt(stream, "StreamArn"),
    )
    return template
