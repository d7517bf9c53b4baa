"""The emulator's regional failover types, checked through boto3 as a user would: the
``Custom::TableStream`` lookup, the DNS-validated certificate, the regional custom domain with its
base path mapping, the PRIMARY/SECONDARY alias record pair, and health check inversion.

Stacks are small hand-written templates, one per region, so a failure points at one type."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from payment_ops.emulator import Emulator
from templates_src import config as config_module
from templates_src import regions

from .conftest import ACCOUNT, PRIMARY, REPLICA, Aws, operation_outcome

pytestmark = pytest.mark.integration

CODE_BUCKET = f"routing-code-{ACCOUNT}"
CODE_KEY = "stream-lookup.zip"
ZONE = "example.com"
DOMAIN = f"pay.{ZONE}"
# A zone of its own for the record pair deleted through the API.
PAIR_ZONE = "pair.example.org"
STAGE = "prod"
# API Gateway's regional hosted zones as AWS publishes them (General Reference).
API_GATEWAY_ZONES = {PRIMARY: "Z1UJRXOUMOOFQ8", REPLICA: "Z2OJLYMUO9EFXC"}
ROLES = {PRIMARY: "PRIMARY", REPLICA: "SECONDARY"}


def _upload_code(aws) -> dict[str, str]:
    """The provider function's code: any zip in S3 (the emulator runs the project's
    handler/stream_lookup.py that the function's Handler names, not the zip)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", "def handler(event, context):\n    return None\n")
    aws("s3").create_bucket(Bucket=CODE_BUCKET)
    aws("s3").put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=archive.getvalue())
    return {"S3Bucket": CODE_BUCKET, "S3Key": CODE_KEY}


@pytest.fixture(scope="module")
def code(aws) -> dict[str, str]:
    return _upload_code(aws)


def _provider(code: dict[str, str]) -> dict[str, dict]:
    """A role and the Lambda function a ``Custom::TableStream`` names as its ServiceToken."""
    return {
        "ProviderRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "Provider": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "handler.stream_lookup.lambda_handler",
                "Role": {"Fn::GetAtt": ["ProviderRole", "Arn"]},
                "Code": code,
            },
        },
    }


def _table(name: str, stream: bool = True) -> dict:
    properties = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    }
    if stream:
        properties["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def _table_stream(table_name: object) -> dict:
    return {
        "Type": "Custom::TableStream",
        "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]},
            "TableName": table_name,
        },
    }


def _stream_template(code: dict[str, str], resources: dict, table: str) -> str:
    return json.dumps(
        {
            "Resources": {
                **_provider(code),
                **resources,
                "Stream": _table_stream({"Ref": table}),
            },
            "Outputs": {
                "StreamRef": {"Value": {"Ref": "Stream"}},
                "StreamAtt": {"Value": {"Fn::GetAtt": ["Stream", "StreamArn"]}},
            },
        }
    )


def _outputs(aws, region: str, stack: str) -> dict[str, str]:
    [described] = aws("cloudformation", region).describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


# --- Custom::TableStream -------------------------------------------------------------------


def test_table_stream_is_the_stream_of_the_table_in_the_stacks_own_region(aws, code):
    table = "routing-payments"
    streams = {}
    for region in (PRIMARY, REPLICA):
        aws("cloudformation", region).create_stack(
            StackName="table-stream",
            TemplateBody=_stream_template(code, {"Table": _table(table)}, "Table"),
            Capabilities=["CAPABILITY_IAM"],
        )
        streams[region] = aws("dynamodb", region).describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        outputs = _outputs(aws, region, "table-stream")
        assert outputs == {"StreamRef": streams[region], "StreamAtt": streams[region]}
    # Each region's replica has its own stream: the lookup did not cross regions.
    assert streams[PRIMARY] != streams[REPLICA]
    assert f":{REPLICA}:" in streams[REPLICA]


def test_table_stream_follows_an_update_to_another_table(aws, code):
    """Runs after the test above: the us-east-1 stack exists."""
    resources = {"Table": _table("routing-payments"), "Other": _table("routing-other")}
    aws("cloudformation").update_stack(
        StackName="table-stream",
        TemplateBody=_stream_template(code, resources, "Other"),
        Capabilities=["CAPABILITY_IAM"],
    )
    other = aws("dynamodb").describe_table(TableName="routing-other")["Table"]["LatestStreamArn"]
    assert _outputs(aws, PRIMARY, "table-stream") == {"StreamRef": other, "StreamAtt": other}


def test_table_stream_of_a_table_without_a_stream_fails_and_rolls_back(aws, code):
    """Deployed as the project deploys, through a stack set: the instance stack rolls back and
    the operation result names the table and the region."""
    aws("dynamodb", REPLICA).create_table(
        TableName="routing-streamless",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    template = json.dumps(
        {"Resources": {**_provider(code), "Stream": _table_stream("routing-streamless")}}
    )
    cfn = aws("cloudformation")
    cfn.create_stack_set(
        StackSetName="streamless", TemplateBody=template, Capabilities=["CAPABILITY_IAM"]
    )
    operation = cfn.create_stack_instances(
        StackSetName="streamless", Accounts=[ACCOUNT], Regions=[REPLICA]
    )["OperationId"]
    assert operation_outcome(cfn, "streamless", operation)["Status"] == "FAILED"
    [result] = cfn.list_stack_set_operation_results(
        StackSetName="streamless", OperationId=operation
    )["Summaries"]
    assert result["Status"] == "FAILED"
    assert "routing-streamless" in result["StatusReason"]
    assert REPLICA in result["StatusReason"]
    assert "no enabled stream" in result["StatusReason"]
    # Rolled back: the provider function the instance stack made is gone again.
    functions = aws("lambda", REPLICA).list_functions()["Functions"]
    assert [f["FunctionName"] for f in functions if "streamless" in f["FunctionName"]] == []
    stacks = aws("cloudformation", REPLICA).list_stacks()["StackSummaries"]
    assert [
        s["StackStatus"] for s in stacks if s["StackName"].startswith("StackSet-streamless")
    ] == ["ROLLBACK_COMPLETE"]


def test_table_stream_of_a_missing_table_fails_naming_table_and_region(aws, code):
    template = json.dumps({"Resources": {**_provider(code), "Stream": _table_stream("no-table")}})
    with pytest.raises(ClientError) as raised:
        aws("cloudformation", "eu-west-1").create_stack(
            StackName="missing-table", TemplateBody=template, Capabilities=["CAPABILITY_IAM"]
        )
    message = raised.value.response["Error"]["Message"]
    assert "[FAILED]" in message and "no-table" in message and "eu-west-1" in message


# In the emulator's process, where the provider runs: every PUT of its answer is refused.
REFUSED_DELIVERY = (
    "from handler import stream_lookup\n"
    "stream_lookup.deliver = lambda *a, **k: stream_lookup.Delivery(False, 4, 'refused')\n"
)


def test_a_table_stream_whose_provider_never_answers_fails_as_its_service_timeout(aws):
    # The real provider runs; here its answer cannot be delivered, in an emulator of its own.
    with Emulator(setup=REFUSED_DELIVERY) as refusing:
        silent = Aws(refusing.url)
        stream = _table_stream("routing-payments")
        stream["Properties"]["ServiceTimeout"] = 360
        resources = {**_provider(_upload_code(silent)), "Stream": stream}
        with pytest.raises(ClientError) as raised:
            silent("cloudformation", PRIMARY).create_stack(
                StackName="silent-provider",
                TemplateBody=json.dumps({"Resources": resources}),
                Capabilities=["CAPABILITY_IAM"],
            )
    message = raised.value.response["Error"]["Message"]
    assert "did not receive a response" in message and "ServiceTimeout of 360 seconds" in message


@pytest.mark.parametrize("timeout", [0, 3601, "ten"])
def test_a_table_stream_service_timeout_outside_1_to_3600_is_refused(aws, code, timeout):
    stream = _table_stream("routing-payments")
    stream["Properties"]["ServiceTimeout"] = timeout
    template = json.dumps({"Resources": {**_provider(code), "Stream": stream}})
    with pytest.raises(ClientError, match="ServiceTimeout must be a whole number"):
        aws("cloudformation", PRIMARY).create_stack(
            StackName=f"bad-timeout-{timeout}",
            TemplateBody=template,
            Capabilities=["CAPABILITY_IAM"],
        )


def test_the_built_table_stream_has_a_service_timeout_far_below_the_hour():
    config = config_module.from_inputs(environment_suffix="routing", environ={})
    standby = json.loads(regions.build_standby(config).to_json())
    stream = standby["Resources"]["PaymentsTableStream"]["Properties"]
    assert 1 <= stream["ServiceTimeout"] <= 600


# --- certificate, custom domain, base path mapping, failover records -----------------------


def _api_resources() -> dict[str, dict]:
    """A REST API with a GET /health route, deployed to its stage."""
    return {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "routing-api"}},
        "HealthMethod": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "HttpMethod": "GET",
                "AuthorizationType": "NONE",
                "Integration": {
                    "Type": "HTTP_PROXY",
                    "IntegrationHttpMethod": "GET",
                    "Uri": "https://backend.example.com/health",
                },
            },
        },
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "DependsOn": "HealthMethod",
            "Properties": {"RestApiId": {"Ref": "Api"}},
        },
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "StageName": STAGE,
                "DeploymentId": {"Ref": "Deployment"},
            },
        },
    }


def _custom_domain_resources(zone_id: str, project: str) -> dict[str, dict]:
    """The DNS-validated certificate, the regional custom domain and its base path mapping."""
    tags = [{"Key": "Project", "Value": project}]
    return {
        "Certificate": {
            "Type": "AWS::CertificateManager::Certificate",
            "Properties": {
                "DomainName": DOMAIN,
                "ValidationMethod": "DNS",
                "DomainValidationOptions": [{"DomainName": DOMAIN, "HostedZoneId": zone_id}],
                "Tags": tags,
            },
        },
        "Domain": {
            "Type": "AWS::ApiGateway::DomainName",
            "Properties": {
                "DomainName": DOMAIN,
                "RegionalCertificateArn": {"Ref": "Certificate"},
                "EndpointConfiguration": {"Types": ["REGIONAL"]},
                "SecurityPolicy": "TLS_1_2",
                "Tags": tags,
            },
        },
        "Mapping": {
            "Type": "AWS::ApiGateway::BasePathMapping",
            "Properties": {
                "DomainName": {"Ref": "Domain"},
                "RestApiId": {"Ref": "Api"},
                "Stage": {"Ref": "Stage"},
            },
        },
    }


def _failover_resources(zone_id: str, role: str) -> dict[str, dict]:
    """The health check of the API and the failover alias record (``role``) it gates."""
    return {
        "HealthCheck": {
            "Type": "AWS::Route53::HealthCheck",
            "Properties": {
                "HealthCheckConfig": {
                    "Type": "HTTPS",
                    "FullyQualifiedDomainName": {
                        "Fn::Sub": "${Api}.execute-api.${AWS::Region}.amazonaws.com"
                    },
                    "Port": 443,
                    "ResourcePath": f"/{STAGE}/health",
                }
            },
        },
        "Record": {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneId": zone_id,
                "Name": DOMAIN,
                "Type": "A",
                "SetIdentifier": {"Fn::Sub": f"payment-{role.lower()}-${{AWS::Region}}"},
                "Failover": role,
                "HealthCheckId": {"Ref": "HealthCheck"},
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": ["Domain", "RegionalDomainName"]},
                    "HostedZoneId": {"Fn::GetAtt": ["Domain", "RegionalHostedZoneId"]},
                    "EvaluateTargetHealth": False,
                },
            },
        },
    }


def _routing_template(zone_id: str, role: str, project: str = "routing-test") -> str:
    return json.dumps(
        {
            "Resources": {
                **_api_resources(),
                **_custom_domain_resources(zone_id, project),
                **_failover_resources(zone_id, role),
            },
            "Outputs": {
                "CertificateArn": {"Value": {"Ref": "Certificate"}},
                "DomainRef": {"Value": {"Ref": "Domain"}},
                "RecordRef": {"Value": {"Ref": "Record"}},
            },
        }
    )


@pytest.fixture(scope="module")
def zone_id(aws) -> str:
    created = aws("route53").create_hosted_zone(Name=ZONE, CallerReference="routing-test")
    return created["HostedZone"]["Id"].split("/")[-1]


@pytest.fixture(scope="module")
def routing(aws, zone_id) -> dict[str, str]:
    """One routing stack per region, PRIMARY in us-east-1 and SECONDARY in us-west-2:
    region -> stack name."""
    stacks = {}
    for region, role in ROLES.items():
        stacks[region] = f"routing-{role.lower()}"
        aws("cloudformation", region).create_stack(
            StackName=stacks[region], TemplateBody=_routing_template(zone_id, role)
        )
    return stacks


def _physical_id(aws, region: str, stack: str, logical_id: str) -> str:
    return aws("cloudformation", region).describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id
    )["StackResourceDetail"]["PhysicalResourceId"]


def _failover_records(aws, zone_id: str) -> dict[str, dict]:
    records = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["Failover"]: r for r in records if r["Type"] == "A"}


def test_certificate_is_issued_for_the_domain_in_each_region(aws, zone_id, routing):
    zone_records = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)[
        "ResourceRecordSets"
    ]
    cnames = {
        (r["Name"], r["ResourceRecords"][0]["Value"]) for r in zone_records if r["Type"] == "CNAME"
    }
    for region, stack in routing.items():
        arn = _outputs(aws, region, stack)["CertificateArn"]
        assert arn.startswith(f"arn:aws:acm:{region}:{ACCOUNT}:certificate/")
        certificate = aws("acm", region).describe_certificate(CertificateArn=arn)["Certificate"]
        assert certificate["DomainName"] == DOMAIN
        assert certificate["Status"] == "ISSUED"
        [validation] = certificate["DomainValidationOptions"]
        assert validation["ValidationMethod"] == "DNS"
        assert validation["ValidationStatus"] == "SUCCESS"
        # CloudFormation wrote ACM's validation record into the hosted zone.
        record = validation["ResourceRecord"]
        assert (record["Name"], record["Value"]) in cnames
        tags = aws("acm", region).list_tags_for_certificate(CertificateArn=arn)["Tags"]
        assert tags == [{"Key": "Project", "Value": "routing-test"}]


def test_custom_domain_is_regional_with_the_regions_certificate(aws, routing):
    for region, stack in routing.items():
        outputs = _outputs(aws, region, stack)
        assert outputs["DomainRef"] == DOMAIN
        domain = aws("apigateway", region).get_domain_name(domainName=DOMAIN)
        assert domain["regionalCertificateArn"] == outputs["CertificateArn"]
        assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
        assert domain["securityPolicy"] == "TLS_1_2"
        assert domain["regionalHostedZoneId"] == API_GATEWAY_ZONES[region]
        assert domain["regionalDomainName"].endswith(f".execute-api.{region}.amazonaws.com")
        assert domain["tags"] == {"Project": "routing-test"}


def test_base_path_mapping_maps_the_root_to_the_api_stage(aws, routing):
    for region, stack in routing.items():
        apigateway = aws("apigateway", region)
        api_id = _physical_id(aws, region, stack, "Api")
        assert apigateway.get_stage(restApiId=api_id, stageName=STAGE)["stageName"] == STAGE
        mappings = apigateway.get_base_path_mappings(domainName=DOMAIN)["items"]
        assert mappings == [{"basePath": "(none)", "restApiId": api_id, "stage": STAGE}]


def test_failover_records_alias_each_regions_custom_domain(aws, zone_id, routing):
    records = _failover_records(aws, zone_id)
    assert sorted(records) == ["PRIMARY", "SECONDARY"]
    for region, stack in routing.items():
        role = ROLES[region]
        record = records[role]
        domain = aws("apigateway", region).get_domain_name(domainName=DOMAIN)
        assert record["Name"] == f"{DOMAIN}."
        assert record["SetIdentifier"] == f"payment-{role.lower()}-{region}"
        assert record["HealthCheckId"] == _physical_id(aws, region, stack, "HealthCheck")
        alias = record["AliasTarget"]
        # Route 53 may give the alias target fully qualified (trailing dot).
        assert alias["DNSName"].rstrip(".") == domain["regionalDomainName"]
        assert alias["HostedZoneId"] == API_GATEWAY_ZONES[region]
        assert alias["EvaluateTargetHealth"] is False
        assert "TTL" not in record and "ResourceRecords" not in record
        assert _outputs(aws, region, stack)["RecordRef"] == DOMAIN
    health_checks = {h["Id"] for h in aws("route53").list_health_checks()["HealthChecks"]}
    assert {records[role]["HealthCheckId"] for role in records} <= health_checks


def test_a_tag_update_keeps_the_certificate_and_the_regional_domain_name(aws, zone_id, routing):
    """In place, as CloudFormation updates them: the alias record keeps pointing at a live
    regional domain name with the same certificate."""
    before = _outputs(aws, REPLICA, routing[REPLICA])
    regional = aws("apigateway", REPLICA).get_domain_name(domainName=DOMAIN)["regionalDomainName"]
    aws("cloudformation", REPLICA).update_stack(
        StackName=routing[REPLICA],
        TemplateBody=_routing_template(zone_id, ROLES[REPLICA], project="routing-renamed"),
    )
    assert _outputs(aws, REPLICA, routing[REPLICA]) == before
    domain = aws("apigateway", REPLICA).get_domain_name(domainName=DOMAIN)
    assert domain["regionalDomainName"] == regional
    assert domain["regionalCertificateArn"] == before["CertificateArn"]
    assert domain["tags"] == {"Project": "routing-renamed"}
    acm = aws("acm", REPLICA)
    tags = acm.list_tags_for_certificate(CertificateArn=before["CertificateArn"])["Tags"]
    assert tags == [{"Key": "Project", "Value": "routing-renamed"}]
    [certificate] = acm.list_certificates()["CertificateSummaryList"]
    assert certificate["CertificateArn"] == before["CertificateArn"]


def test_deleting_one_regions_stack_leaves_the_other_regions_routing(aws, zone_id, routing):
    secondary_before = _failover_records(aws, zone_id)["SECONDARY"]
    primary_check = _physical_id(aws, PRIMARY, routing[PRIMARY], "HealthCheck")
    primary_certificate = _outputs(aws, PRIMARY, routing[PRIMARY])["CertificateArn"]

    aws("cloudformation", PRIMARY).delete_stack(StackName=routing[PRIMARY])

    assert _failover_records(aws, zone_id) == {"SECONDARY": secondary_before}
    with pytest.raises(ClientError) as raised:
        aws("apigateway", PRIMARY).get_domain_name(domainName=DOMAIN)
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError):
        aws("acm", PRIMARY).describe_certificate(CertificateArn=primary_certificate)
    health_checks = {h["Id"] for h in aws("route53").list_health_checks()["HealthChecks"]}
    assert primary_check not in health_checks
    assert secondary_before["HealthCheckId"] in health_checks
    # The standby region still answers under the name.
    standby = aws("apigateway", REPLICA)
    assert standby.get_domain_name(domainName=DOMAIN)["regionalDomainName"] == secondary_before[
        "AliasTarget"
    ]["DNSName"].rstrip(".")
    assert [m["stage"] for m in standby.get_base_path_mappings(domainName=DOMAIN)["items"]] == [
        STAGE
    ]
    certificate = _outputs(aws, REPLICA, routing[REPLICA])["CertificateArn"]
    status = aws("acm", REPLICA).describe_certificate(CertificateArn=certificate)["Certificate"]
    assert status["Status"] == "ISSUED"


def test_a_domain_name_without_mappings_lists_none_and_mappings_go_with_their_domain(aws):
    apigateway = aws("apigateway", "eu-west-1")
    name = f"standalone.{ZONE}"
    apigateway.create_domain_name(domainName=name, endpointConfiguration={"types": ["REGIONAL"]})
    assert apigateway.get_base_path_mappings(domainName=name)["items"] == []
    api_id = apigateway.create_rest_api(name="standalone")["id"]
    apigateway.create_base_path_mapping(domainName=name, restApiId=api_id)
    apigateway.delete_domain_name(domainName=name)
    # The same name again is a new domain name: no mapping of the old one comes back.
    created = apigateway.create_domain_name(
        domainName=name, endpointConfiguration={"types": ["REGIONAL"]}
    )
    assert apigateway.get_base_path_mappings(domainName=name)["items"] == []
    assert created["regionalHostedZoneId"] == "ZLY8HYME6SFDD"  # API Gateway's, eu-west-1


def _record_pair_template(zone_id: str) -> str:
    """A PRIMARY/SECONDARY alias pair under one name, the PRIMARY with a health check."""

    def record(role: str, target: str, health_check: bool) -> dict:
        properties = {
            "HostedZoneId": zone_id,
            "Name": f"pair.{PAIR_ZONE}",
            "Type": "A",
            "SetIdentifier": f"pair-{role.lower()}",
            "Failover": role,
            "AliasTarget": {
                "DNSName": target,
                "HostedZoneId": API_GATEWAY_ZONES[PRIMARY],
                "EvaluateTargetHealth": False,
            },
        }
        if health_check:
            properties["HealthCheckId"] = {"Ref": "HealthCheck"}
        return {"Type": "AWS::Route53::RecordSet", "Properties": properties}

    check = {"Type": "HTTPS", "FullyQualifiedDomainName": f"primary.{PAIR_ZONE}", "Port": 443}
    return json.dumps(
        {
            "Resources": {
                "HealthCheck": {
                    "Type": "AWS::Route53::HealthCheck",
                    "Properties": {"HealthCheckConfig": check},
                },
                "Primary": record("PRIMARY", "d-primary.execute-api.us-east-1.amazonaws.com", True),
                "Secondary": record(
                    "SECONDARY", "d-secondary.execute-api.us-west-2.amazonaws.com", False
                ),
            }
        }
    )


def test_a_cloudformation_record_deleted_through_the_api_goes_alone(aws):
    """Exactly as ListResourceRecordSets gives it, as the failover drill breaks a pair: only that
    record goes, its partner under the same name stays, and the stack's own delete later does
    not trip over the missing record."""
    route53 = aws("route53")
    zone_id = route53.create_hosted_zone(Name=PAIR_ZONE, CallerReference="record-pair")[
        "HostedZone"
    ]["Id"].split("/")[-1]
    cfn = aws("cloudformation", "eu-west-1")
    cfn.create_stack(StackName="record-pair", TemplateBody=_record_pair_template(zone_id))
    pair = _failover_records(aws, zone_id)
    assert sorted(pair) == ["PRIMARY", "SECONDARY"]

    def change(action: str, record: dict) -> None:
        route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": record}]},
        )

    # Route 53 refuses a DELETE whose values are not the record's, and changes nothing.
    with pytest.raises(ClientError) as refused:
        change("DELETE", {**pair["PRIMARY"], "HealthCheckId": "not-its-check"})
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert _failover_records(aws, zone_id) == pair

    change("DELETE", pair["PRIMARY"])
    assert _failover_records(aws, zone_id) == {"SECONDARY": pair["SECONDARY"]}
    # Gone: a second DELETE of it is refused as Route 53 refuses it.
    with pytest.raises(ClientError) as refused:
        change("DELETE", pair["PRIMARY"])
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"

    cfn.delete_stack(StackName="record-pair")
    stacks = cfn.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == "record-pair"] == [
        "DELETE_COMPLETE"
    ]
    assert _failover_records(aws, zone_id) == {}


# --- health checks -------------------------------------------------------------------------


def test_health_check_inversion_round_trip(aws):
    route53 = aws("route53")
    check_id = route53.create_health_check(
        CallerReference="inversion",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": f"api.{ZONE}",
            "Port": 443,
            "ResourcePath": "/health",
        },
    )["HealthCheck"]["Id"]

    def config() -> dict:
        return route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]

    assert config()["Inverted"] is False
    route53.update_health_check(HealthCheckId=check_id, Inverted=True)
    assert config()["Inverted"] is True
    assert config()["ResourcePath"] == "/health"  # the rest of the check is untouched
    route53.update_health_check(HealthCheckId=check_id, Inverted=False)
    assert config()["Inverted"] is False


def _health_check_template(enable_sni: bool, measure_latency: bool, tags: dict[str, str]) -> str:
    return json.dumps(
        {
            "Resources": {
                "HealthCheck": {
                    "Type": "AWS::Route53::HealthCheck",
                    "Properties": {
                        "HealthCheckConfig": {
                            "Type": "HTTPS",
                            "FullyQualifiedDomainName": f"api.{ZONE}",
                            "Port": 443,
                            "ResourcePath": "/prod/health",
                            "RequestInterval": 30,
                            "FailureThreshold": 3,
                            "EnableSNI": enable_sni,
                            "MeasureLatency": measure_latency,
                        },
                        "HealthCheckTags": [{"Key": k, "Value": v} for k, v in tags.items()],
                    },
                }
            }
        }
    )


def _health_check(aws, check_id: str) -> tuple[dict, dict[str, str]]:
    """The check's HealthCheckConfig and its tags."""
    route53 = aws("route53")
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    tag_set = route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id)
    return config, {t["Key"]: t["Value"] for t in tag_set["ResourceTagSet"]["Tags"]}


def test_a_cloudformation_health_check_carries_sni_latency_and_tags_and_updates_in_place(aws):
    """As templates_src/dns.py declares its check: EnableSNI, MeasureLatency, HealthCheckTags."""
    cfn = aws("cloudformation", "eu-west-1")
    tags = {"Name": "payment-hc-api-health", "Environment": "hc", "Project": "payment"}
    cfn.create_stack(
        StackName="health-check", TemplateBody=_health_check_template(True, True, tags)
    )
    check_id = _physical_id(aws, "eu-west-1", "health-check", "HealthCheck")
    config, carried = _health_check(aws, check_id)
    assert (config["EnableSNI"], config["MeasureLatency"], config["Inverted"]) == (
        True,
        True,
        False,
    )
    assert (config["Port"], config["ResourcePath"]) == (443, "/prod/health")
    assert carried == tags

    # SNI off, one tag changed, one gone: Route 53 changes these on the check itself.
    retagged = {"Name": "payment-hc-api-health", "Environment": "hc2"}
    cfn.update_stack(
        StackName="health-check", TemplateBody=_health_check_template(False, True, retagged)
    )
    assert _physical_id(aws, "eu-west-1", "health-check", "HealthCheck") == check_id
    config, carried = _health_check(aws, check_id)
    assert (config["EnableSNI"], config["MeasureLatency"]) == (False, True)
    assert carried == retagged

    cfn.delete_stack(StackName="health-check")
    checks = {h["Id"] for h in aws("route53").list_health_checks()["HealthChecks"]}
    assert check_id not in checks


def test_a_measure_latency_change_replaces_the_health_check(aws):
    """MeasureLatency cannot change on an existing check (CloudFormation's create-only
    property): a new check, and the old one goes, tags and all."""
    cfn = aws("cloudformation", "eu-west-1")
    tags = {"Name": "latency"}
    cfn.create_stack(StackName="latency", TemplateBody=_health_check_template(True, False, tags))
    before = _physical_id(aws, "eu-west-1", "latency", "HealthCheck")
    cfn.update_stack(StackName="latency", TemplateBody=_health_check_template(True, True, tags))
    after = _physical_id(aws, "eu-west-1", "latency", "HealthCheck")
    assert after != before
    config, carried = _health_check(aws, after)
    assert (config["EnableSNI"], config["MeasureLatency"], carried) == (True, True, tags)
    checks = {h["Id"] for h in aws("route53").list_health_checks()["HealthChecks"]}
    assert before not in checks and after in checks
    cfn.delete_stack(StackName="latency")
