"""Regional failover in the templates: the standby service in every replica region, the failover
record pair, the routing that exists only with a domain, and health alarms where the metric is.

Conditions are evaluated from the template's own JSON with given parameter values and region,
by the evaluator deploy's plan uses (scripts/deployment/plan.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.deployment import plan
from templates_src.build import render
from templates_src.config import Config
from templates_src.linting import lint_template
from templates_src.regions import build_primary, build_replica, build_standby

from .conftest import of_type

ROUTING_TYPES = (
    "AWS::CertificateManager::Certificate",
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::BasePathMapping",
    "AWS::Route53::RecordSet",
)
DOMAIN = {"HostedZoneId": "Z0123456789ABCDEFGHIJ", "DomainName": "pay.example.com"}
TABLE_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:"
    "table/payment-${EnvironmentSuffix}-payments"
}


def created(template: dict, region: str, **values: str) -> set[str]:
    """Logical ids CloudFormation creates for these parameter values in ``region``."""
    return set(plan.resolved_resources(template, values, region=region))


def _routing(template: dict) -> set[str]:
    return {n for t in ROUTING_TYPES for n in of_type(template, t)}


def _statements(role: dict) -> dict[str, dict]:
    document = role["Properties"]["Policies"][0]["PolicyDocument"]
    return {s["Sid"]: s for s in document["Statement"]}


# -- the standby service ---------------------------------------------------------------------


def test_standby_runs_the_same_service_as_the_primary(primary, standby):
    service_types = {
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
        "AWS::WAFv2::WebACL",
        "AWS::Route53::HealthCheck",
        "AWS::SQS::Queue",
    }
    for resource_type in service_types:
        assert set(of_type(standby, resource_type)) >= set(of_type(primary, resource_type)), (
            resource_type
        )
    # Same routes, same client authentication, same client limits: a client's signed replay
    # after a failover is let in by the standby as by the primary.
    for method in ("ProcessPostMethod", "HealthGetMethod"):
        assert (
            standby["Resources"][method]["Properties"]["AuthorizationType"]
            == primary["Resources"][method]["Properties"]["AuthorizationType"]
        )
    assert standby["Resources"]["ProcessPostMethod"]["Properties"]["AuthorizationType"] == "AWS_IAM"
    assert (
        standby["Resources"]["PaymentApi"]["Properties"]["Policy"]
        == primary["Resources"]["PaymentApi"]["Properties"]["Policy"]
    )
    assert (
        standby["Resources"]["ApiStage"]["Properties"]["MethodSettings"]
        == primary["Resources"]["ApiStage"]["Properties"]["MethodSettings"]
    )
    primary_alarms = {
        a["Properties"]["AlarmName"]["Fn::Sub"]
        for a in of_type(primary, "AWS::CloudWatch::Alarm").values()
    }
    standby_alarms = {
        a["Properties"]["AlarmName"]["Fn::Sub"]
        for a in of_type(standby, "AWS::CloudWatch::Alarm").values()
    }
    table_level = {
        name
        for name in primary_alarms
        if "replication-latency" in name or "table-throttles" in name or "api-health-" in name
    }
    assert standby_alarms == primary_alarms - table_level  # the replica stack has the table's


def test_standby_never_declares_the_table_keys_or_buckets(standby):
    types = {r["Type"] for r in standby["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::DynamoDB::")}
    assert "AWS::KMS::Key" not in types and "AWS::S3::Bucket" not in types
    assert "AWS::SecretsManager::Secret" not in types


def test_standby_functions_use_the_local_table_replica_and_its_stream(standby):
    resources = standby["Resources"]
    processor = resources["ProcessorFunction"]["Properties"]
    assert processor["Environment"]["Variables"]["TABLE_NAME"] == {
        "Fn::Sub": "payment-${EnvironmentSuffix}-payments"
    }
    write = _statements(resources["ProcessorRole"])["OneConditionalWritePerPayment"]
    assert write["Resource"] == [TABLE_ARN]

    lookup = resources["PaymentsTableStream"]
    assert lookup["Type"] == "Custom::TableStream"
    assert lookup["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["TableStreamFunction", "Arn"]}
    assert lookup["Properties"]["TableName"] == {"Fn::Sub": "payment-${EnvironmentSuffix}-payments"}
    assert _statements(resources["TableStreamRole"])["DescribeLocalTableReplica"] == {
        "Sid": "DescribeLocalTableReplica",
        "Effect": "Allow",
        "Action": ["dynamodb:DescribeTable"],
        "Resource": [TABLE_ARN],
    }
    stream = {"Fn::GetAtt": ["PaymentsTableStream", "StreamArn"]}
    assert resources["AuditWriterStreamMapping"]["Properties"]["EventSourceArn"] == stream
    read = _statements(resources["AuditWriterRole"])["ReadPaymentsStream"]
    assert read["Resource"] == [stream]


def test_standby_imports_exactly_what_the_replica_stack_exports(replica, standby):
    exported = {
        output["Export"]["Name"]["Fn::Sub"]
        for output in replica["Outputs"].values()
        if "Export" in output
    }
    imported = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"Fn::ImportValue"}:
                imported.add(node["Fn::ImportValue"]["Fn::Sub"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(standby["Resources"])
    assert imported and imported <= exported
    assert standby["Resources"]["ProcessorFunction"]["Properties"]["KmsKeyArn"] == {
        "Fn::ImportValue": {"Fn::Sub": "payment-${EnvironmentSuffix}-app-key-arn"}
    }


def test_standby_code_comes_from_the_artifact_bucket_of_its_own_region(standby):
    code = standby["Resources"]["ProcessorFunction"]["Properties"]["Code"]
    assert code["S3Bucket"] == {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"}


def test_every_replica_region_gets_the_standby_and_the_first_takes_the_secondary_record():
    config = Config(replica_regions=("us-west-2", "eu-west-1"))
    standby = json.loads(render(build_standby(config)))
    assert standby["Parameters"]["SecondaryRegion"]["Default"] == "us-west-2"
    with_domain = {r: created(standby, r, **DOMAIN) for r in config.replica_regions}
    assert "ApiFailoverSecondaryRecord" in with_domain["us-west-2"]
    assert "ApiFailoverSecondaryRecord" not in with_domain["eu-west-1"]
    # The other replica regions still serve on their own domain endpoint and invoke URL.
    assert {"ApiDomainName", "ProcessorFunction", "PaymentApi"} <= with_domain["eu-west-1"]
    primary = json.loads(render(build_primary(config)))
    assert {"HealthCheckIdUsWest2", "HealthCheckIdEuWest1"} <= set(primary["Parameters"])


# -- routing ---------------------------------------------------------------------------------


def test_routing_exists_only_with_a_domain(primary, standby):
    for template, region in ((primary, "us-east-1"), (standby, "us-west-2")):
        routing = _routing(template)
        assert len(routing) == 4
        assert not routing & created(template, region)
        assert routing <= created(template, region, **DOMAIN)
        # Half a configuration creates nothing (and the rule below refuses it).
        assert not routing & created(template, region, HostedZoneId=DOMAIN["HostedZoneId"])
        assert not routing & created(template, region, DomainName=DOMAIN["DomainName"])
        rule = template["Rules"]["DomainAndHostedZoneTogether"]
        assertion = rule["Assertions"][0]["Assert"]
        for values, allowed in (
            ({}, True),
            (DOMAIN, True),
            ({"DomainName": DOMAIN["DomainName"]}, False),
            ({"HostedZoneId": DOMAIN["HostedZoneId"]}, False),
        ):
            assert plan.evaluate(template, assertion, values, region=region) is allowed, values


def test_failover_records_form_a_primary_secondary_pair(primary, standby):
    first = primary["Resources"]["ApiFailoverPrimaryRecord"]["Properties"]
    second = standby["Resources"]["ApiFailoverSecondaryRecord"]["Properties"]
    assert (first["Failover"], second["Failover"]) == ("PRIMARY", "SECONDARY")
    for record in (first, second):
        assert record["Type"] == "A"
        assert record["Name"] == {"Ref": "DomainName"}
        assert record["HostedZoneId"] == {"Ref": "HostedZoneId"}
        assert record["HealthCheckId"] == {"Ref": "ApiHealthCheck"}  # its own region's check
        assert record["AliasTarget"] == {
            "DNSName": {"Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]},
            "HostedZoneId": {"Fn::GetAtt": ["ApiDomainName", "RegionalHostedZoneId"]},
            "EvaluateTargetHealth": False,
        }
    assert first["SetIdentifier"] != second["SetIdentifier"]
    domain = primary["Resources"]["ApiDomainName"]["Properties"]
    assert domain["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["SecurityPolicy"] == "SecurityPolicy_TLS13_1_2_2021_06"
    assert domain["RegionalCertificateArn"] == {"Ref": "ApiCertificate"}
    certificate = primary["Resources"]["ApiCertificate"]["Properties"]
    assert certificate["ValidationMethod"] == "DNS"
    assert certificate["DomainValidationOptions"] == [
        {"DomainName": {"Ref": "DomainName"}, "HostedZoneId": {"Ref": "HostedZoneId"}}
    ]
    mapping = primary["Resources"]["ApiBasePathMapping"]["Properties"]
    assert mapping["Stage"] == {"Ref": "ApiStage"} and "BasePath" not in mapping


@pytest.mark.parametrize("which", ["primary", "standby"])
def test_lint_clean_with_the_routing_switched_on(which):
    """cfn-lint checks the built templates as they are (no domain); here the same template with
    a domain as its default, so the routing resources are linted as they would be created."""
    config = Config()
    template = json.loads(
        render({"primary": build_primary, "standby": build_standby}[which](config))
    )
    for name, value in DOMAIN.items():
        template["Parameters"][name]["Default"] = value
    regions = (config.primary_region,) if which == "primary" else config.replica_regions
    assert lint_template(f"{which}-with-domain", json.dumps(template, indent=2), regions) == []


# -- health alarms where Route 53 publishes the metric ----------------------------------------


def test_health_check_alarms_live_in_us_east_1(primary, standby):
    for template in (primary, standby):
        alarm = template["Resources"]["ApiHealthCheckAlarm"]
        assert alarm["Properties"]["Namespace"] == "AWS/Route53"
        assert alarm["Properties"]["MetricName"] == "HealthCheckStatus"
        assert alarm["Properties"]["Dimensions"] == [
            {"Name": "HealthCheckId", "Value": {"Ref": "ApiHealthCheck"}}
        ]
        assert "ApiHealthCheckAlarm" in created(template, "us-east-1")
        assert "ApiHealthCheckAlarm" not in created(template, "us-west-2")
    standby_alarm = primary["Resources"]["StandbyHealthCheckUsWest2Alarm"]
    assert standby_alarm["Properties"]["Dimensions"] == [
        {"Name": "HealthCheckId", "Value": {"Ref": "HealthCheckIdUsWest2"}}
    ]
    # Only once the deploy script has handed over the standby's check id.
    assert "StandbyHealthCheckUsWest2Alarm" not in created(primary, "us-east-1")
    some_id = "0b3f4c2e-7a1d-4e5f-9c8b-1a2b3c4d5e6f"
    assert "StandbyHealthCheckUsWest2Alarm" in created(
        primary, "us-east-1", HealthCheckIdUsWest2=some_id
    )
    assert "StandbyHealthCheckUsWest2Alarm" not in created(
        primary, "eu-west-1", HealthCheckIdUsWest2=some_id
    )


def test_replica_template_still_holds_only_the_foundation(replica):
    assert not _routing(replica)
    assert "AWS::Lambda::Function" not in {r["Type"] for r in replica["Resources"].values()}
    assert json.loads(render(build_replica(Config())))["Outputs"]["AppKeyArn"]["Export"]
