"""The payment service of one region: functions, API, firewall, alarms, health check and custom
domain.

The primary template and the standby template compose the same service; they differ only in
where the table and the keys come from (their own resources in the primary, the local table
replica and the replica stack's keys in a standby region).
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Output, Ref, Template
from troposphere.route53 import HealthCheck

from . import api, compute, dns, kms, monitoring, names, network, routing, waf
from .common import Params
from .config import Config
from .data import TableRef
from .storage import BucketRef


@dataclass(frozen=True)
class Service:
    functions: compute.Functions
    api: api.Api
    health_check: HealthCheck
    domain: routing.CustomDomain
    url: object


def add_service(
    template: Template,
    config: Config,
    params: Params,
    *,
    keys: kms.KeyArns,
    table: TableRef,
    bucket: BucketRef,
    topic_arn: object,
    dead_letter_queue: object,
) -> Service:
    functions = compute.add_functions(
        template,
        config,
        params,
        keys=keys,
        table=table,
        bucket=bucket,
        dead_letter_queue=dead_letter_queue,
        network=network.add_network(template, config, table=table, bucket=bucket),
    )
    rest = api.add_api(
        template,
        config,
        processor=functions.processor,
        app_key_arn=keys.app,
    )
    acl = waf.add_waf(
        template, config, rest_api=rest.rest_api, stage=rest.stage, app_key_arn=keys.app
    )
    _alarms(
        template,
        config,
        topic_arn,
        functions=functions,
        rest=rest,
        acl=acl,
        dead_letter_queue=dead_letter_queue,
    )
    health_check = _health_check(template, topic_arn, rest)
    routing.add_domain_parameters(template)
    domain = routing.add_custom_domain(
        template, config, params, rest_api=rest.rest_api, stage=rest.stage
    )
    service = Service(functions, rest, health_check, domain, api.invoke_url(rest.rest_api))
    _outputs(template, service)
    return service


def _alarms(
    template: Template,
    config: Config,
    topic_arn: object,
    *,
    functions: compute.Functions,
    rest: api.Api,
    acl: object,
    dead_letter_queue: object,
) -> None:
    """What notifies ``topic_arn``: the functions', queues', API's and firewall's alarms, and
    the rules on key, role and backup changes."""
    monitoring.add_function_alarms(
        template,
        config,
        topic_arn,
        processor=functions.processor,
        audit_writer=functions.audit_writer,
    )
    monitoring.add_failure_queue_alarm(template, config, topic_arn, functions.failure_queue)
    monitoring.add_api_alarms(template, config, topic_arn, api.api_name())
    monitoring.add_handler_metric_alarms(template, config, topic_arn)
    monitoring.add_dead_letter_alarm(template, config, topic_arn, dead_letter_queue)
    monitoring.add_api_client_error_alarms(
        template, config, topic_arn, api.api_name(), rest.access_log_group
    )
    monitoring.add_waf_block_alarm(template, config, topic_arn, acl)
    monitoring.add_key_event_rule(template, topic_arn)
    monitoring.add_role_change_rule(template, topic_arn)
    monitoring.add_pitr_disabled_rule(template, topic_arn)


def _health_check(template: Template, topic_arn: object, rest: api.Api) -> HealthCheck:
    """The Route 53 health check of the regional API, and its alarm."""
    health_check = dns.add_health_check(template, rest.rest_api)
    monitoring.add_health_check_alarm(
        template,
        topic_arn,
        title="ApiHealthCheckAlarm",
        thing="api-health",
        region=Ref("AWS::Region"),
        health_check_id=Ref(health_check),
        condition=monitoring.add_health_metrics_condition(template),
    )
    return health_check


def _outputs(template: Template, service: Service) -> None:
    def output(title: str, description: str, value: object, condition: str | None = None):
        extra = {"Condition": condition} if condition else {}
        template.add_output(Output(title, Description=description, Value=value, **extra))

    functions, rest = service.functions, service.api
    output(names.API_URL_OUTPUT, "Invoke URL of the payment API stage in this region", service.url)
    output(names.API_ID_OUTPUT, "REST API id", Ref(rest.rest_api))
    output("ProcessorFunctionName", "Payment processor", Ref(functions.processor))
    output("AuditWriterFunctionName", "Audit writer", Ref(functions.audit_writer))
    output(
        "AuditFailureQueueUrl",
        "Stream records that could not be audited",
        Ref(functions.failure_queue),
    )
    output(
        names.HEALTH_CHECK_OUTPUT, "Route 53 health check of GET /health", Ref(service.health_check)
    )
    output(
        names.CUSTOM_DOMAIN_URL_OUTPUT,
        "URL of the custom domain (failover between the regions)",
        routing.domain_url(),
        routing.HAS_DOMAIN,
    )
    output(
        names.REGIONAL_DOMAIN_OUTPUT,
        "Regional endpoint of the custom domain in this region",
        GetAtt(service.domain.domain_name, "RegionalDomainName"),
        routing.HAS_DOMAIN,
    )
