"""The two region templates, each a short composition of the concerns."""

from __future__ import annotations

from troposphere import GetAtt, Output, Ref, Template

from . import api, compute, data, dns, kms, monitoring, params, secrets, storage, waf
from .common import add_parameters
from .config import Config


def _template(description: str) -> Template:
    template = Template(Description=description)
    template.set_version("2010-09-09")
    return template


def _output(template: Template, title: str, description: str, value: object) -> None:
    template.add_output(Output(title, Description=description, Value=value))


def _key_outputs(template: Template, keys: kms.Keys) -> None:
    for use, key in (("Table", keys.table), ("Audit", keys.audit), ("App", keys.app)):
        _output(template, f"{use}KeyArn", f"KMS key ARN: {kms.USES[use.lower()]}", kms.key_arn(key))


def build_primary(config: Config) -> Template:
    """The primary region: the global table, the payment API and its functions."""
    template = _template(
        "Payment processing, primary region: DynamoDB global table with replicas in "
        f"{', '.join(config.replica_regions)}, payment API, Lambda functions, audit bucket, "
        "alarms and health check."
    )
    p = add_parameters(template, config, with_code=True)
    keys = kms.add_keys(template, config)
    table = data.add_payments_table(template, config, keys)
    access_logs = storage.add_access_log_bucket(template)
    bucket = storage.add_audit_bucket(template, config, kms.key_arn(keys.audit), access_logs)
    functions = compute.add_functions(template, config, p, keys=keys, table=table, bucket=bucket)
    secret = secrets.add_api_key_secret(template, config, keys)
    rest = api.add_api(
        template,
        config,
        processor=functions.processor,
        api_key_value=secrets.api_key_reference(secret),
        app_key_arn=kms.key_arn(keys.app),
    )
    waf.add_waf(
        template,
        config,
        rest_api=rest.rest_api,
        stage=rest.stage,
        app_key_arn=kms.key_arn(keys.app),
    )
    topic = monitoring.add_alarm_topic(template, p, kms.key_arn(keys.app))
    monitoring.add_function_alarms(
        template, config, topic, processor=functions.processor, audit_writer=functions.audit_writer
    )
    monitoring.add_failure_queue_alarm(template, config, topic, functions.failure_queue)
    monitoring.add_api_alarms(template, config, topic, api.api_name())
    monitoring.add_table_throttle_alarm(template, config, topic, Ref(table))
    monitoring.add_replication_alarms(template, config, topic, Ref(table))
    health_check = dns.add_health_check(template, rest.rest_api)
    api_url = api.invoke_url(rest.rest_api)
    params.add_parameters(
        template,
        {
            "table-name": ("Name of the payments global table", Ref(table)),
            "bucket-name": ("Audit bucket of this region", Ref(bucket)),
            "api-url": ("Invoke URL of the payment API stage", api_url),
            "api-key-secret-arn": (
                "ARN of the Secrets Manager secret that holds the API key value",
                Ref(secret),
            ),
        },
    )

    _output(template, "ApiUrl", "Invoke URL of the payment API stage", api_url)
    _output(template, "ApiId", "REST API id", Ref(rest.rest_api))
    _output(
        template, "ApiKeyId", "Id of the API key (its value is in the secret)", Ref(rest.api_key)
    )
    _output(template, "ApiKeySecretArn", "Secret holding the API key value", Ref(secret))
    _output(template, "TableName", "Payments global table", Ref(table))
    _output(template, "TableArn", "Payments table ARN in this region", GetAtt(table, "Arn"))
    _output(template, "TableStreamArn", "Payments table stream ARN", GetAtt(table, "StreamArn"))
    _output(template, "AuditBucketName", "Audit bucket of this region", Ref(bucket))
    _output(template, "AccessLogBucketName", "Access logs of the audit bucket", Ref(access_logs))
    _output(template, "ProcessorFunctionName", "Payment processor", Ref(functions.processor))
    _output(template, "AuditWriterFunctionName", "Audit writer", Ref(functions.audit_writer))
    _output(
        template,
        "AuditFailureQueueUrl",
        "Stream records that could not be audited",
        Ref(functions.failure_queue),
    )
    _output(template, "AlarmTopicArn", "SNS topic of the alarms", Ref(topic))
    _output(template, "HealthCheckId", "Route 53 health check of GET /health", Ref(health_check))
    _key_outputs(template, keys)
    return template


def build_replica(config: Config) -> Template:
    """A replica region: the keys and bucket the table replica and audit trail need, alarms.

    The table replica itself comes from the primary's global table: declaring a table here
    would create a second, unrelated table.
    """
    template = _template(
        "Payment processing, replica region: KMS keys for the global table replica, audit "
        "bucket, alarms and SSM parameters. Deploy before the primary region."
    )
    p = add_parameters(template, config, with_code=False)
    keys = kms.add_keys(template, config)
    access_logs = storage.add_access_log_bucket(template)
    bucket = storage.add_audit_bucket(template, config, kms.key_arn(keys.audit), access_logs)
    topic = monitoring.add_alarm_topic(template, p, kms.key_arn(keys.app))
    table_name = data.table_name()
    monitoring.add_table_throttle_alarm(template, config, topic, table_name)
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
    _output(template, "AuditBucketName", "Audit bucket of this region", Ref(bucket))
    _output(template, "AccessLogBucketName", "Access logs of the audit bucket", Ref(access_logs))
    _output(template, "AlarmTopicArn", "SNS topic of the alarms", Ref(topic))
    _key_outputs(template, keys)
    return template
