"""The optional VPC (``--vpc``): off by default; on, the payment functions run in private
subnets with no way to the internet, reach DynamoDB and S3 through gateway endpoints limited to
this deployment's table and audit objects, and every role involved may do what AWS needs and no
more. Policies are evaluated with the project's IAM evaluator (``scripts/emulator/iam_policy``);
lint is cfn-lint's Python API through ``templates_src.linting``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import Request, evaluate
from templates_src import cli, linting
from templates_src.build import render_all
from templates_src.config import Config
from templates_src.iam import role_policy_documents
from tests.security.test_execution_role import ACCOUNT, every_call, execution_role, resolve

ROOT = Path(__file__).resolve().parents[2]
SERVICE_TEMPLATES = ("primary.template.json", "standby.template.json")
PAYMENT_FUNCTIONS = ("ProcessorFunction", "AuditWriterFunction")
REGION = "us-east-1"
SUFFIX = "dev"
# Stand-ins for the ids EC2 gives the stack's resources.
IDS = {
    "FunctionsSubnet1": "subnet-0aaaaaaaaaaaaaaa1",
    "FunctionsSubnet2": "subnet-0aaaaaaaaaaaaaaa2",
    "FunctionsSecurityGroup": "sg-0aaaaaaaaaaaaaaa1",
}
# Resource types that give a VPC a way out (or in) other than its endpoints.
EGRESS_TYPES = {
    "AWS::EC2::InternetGateway",
    "AWS::EC2::EgressOnlyInternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::Route",
    "AWS::EC2::TransitGatewayAttachment",
    "AWS::EC2::VPCPeeringConnection",
    "AWS::EC2::VPNGateway",
    "AWS::EC2::EIP",
}


def rendered(config: Config) -> dict[str, dict]:
    return {item.file_name: json.loads(item.body) for item in render_all(config)}


@pytest.fixture(scope="module")
def off() -> dict[str, dict]:
    return rendered(Config())


@pytest.fixture(scope="module")
def on() -> dict[str, dict]:
    return rendered(Config(vpc=True))


def of_type(template: dict, resource_type: str) -> dict[str, dict]:
    """Resources of one type, or of a service with ``AWS::<service>::``."""
    return {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] == resource_type
        or (resource_type.endswith("::") and r["Type"].startswith(resource_type))
    }


def with_ids(value):
    """Refs and GetAtt GroupId of the network resources replaced by EC2-style ids."""
    if isinstance(value, list):
        return [with_ids(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in IDS:
        return IDS[value["Ref"]]
    if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in IDS:
        return IDS[value["Fn::GetAtt"][0]]
    return {k: with_ids(v) for k, v in value.items()}


def parameters(template: dict) -> dict[str, str]:
    values = {k: str(p["Default"]) for k, p in template["Parameters"].items() if "Default" in p}
    return {**values, "EnvironmentSuffix": SUFFIX}


# --- off by default ------------------------------------------------------------------------


def test_the_vpc_is_off_by_default_and_nothing_of_it_is_built(off):
    assert Config().vpc is False
    for name, template in off.items():
        assert of_type(template, "AWS::EC2::") == {}, name
        for resource in of_type(template, "AWS::Lambda::Function").values():
            assert "VpcConfig" not in resource["Properties"]
    roles = json.dumps(off["stackset-roles.template.json"])
    # Neither the execution role nor the boundary grows; the purge role finds the enabled
    # regions (EC2 DescribeRegions) whatever the option.
    assert set(re.findall(r'"(ec2:[A-Za-z*]+)"', roles)) == {"ec2:DescribeRegions"}


def test_the_flag_turns_it_on_for_build_and_deploy():
    parser = cli._parser()
    assert cli.config_from(parser.parse_args(["build"])).vpc is False
    assert cli.config_from(parser.parse_args(["build", "--vpc"])).vpc is True
    # A build made without it is stale for a deploy with it (the manifest's inputs differ).
    assert Config(vpc=True).describe() != Config().describe()


# --- on: no way out ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICE_TEMPLATES)
def test_no_internet_gateway_nat_or_route_to_anywhere(on, name):
    template = on[name]
    types = {r["Type"] for r in of_type(template, "AWS::EC2::").values()}
    assert types == {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::VPCEndpoint",
    }
    assert not types & EGRESS_TYPES
    text = json.dumps(template["Resources"])
    assert "DestinationCidrBlock" not in text and "GatewayId" not in text
    subnets = of_type(template, "AWS::EC2::Subnet").values()
    assert [s["Properties"]["MapPublicIpOnLaunch"] for s in subnets] == [False, False]
    zones = [s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets]
    assert zones == [0, 1]  # two Availability Zones of the region
    # Every subnet uses the one route table, whose only routes are the endpoints'.
    [table] = of_type(template, "AWS::EC2::RouteTable")
    associations = of_type(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    assert {a["Properties"]["RouteTableId"]["Ref"] for a in associations} == {table}
    assert len(associations) == len(subnets)


@pytest.mark.parametrize("name", SERVICE_TEMPLATES)
def test_the_security_group_allows_no_inbound_and_only_https_out(on, name):
    template = on[name]
    [group] = of_type(template, "AWS::EC2::SecurityGroup").values()
    properties = group["Properties"]
    assert "SecurityGroupIngress" not in properties
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in properties[
        "SecurityGroupEgress"
    ]] == [("tcp", 443, 443)]  # fmt: skip
    # No rule added beside the group.
    assert not of_type(template, "AWS::EC2::SecurityGroupIngress")
    assert not of_type(template, "AWS::EC2::SecurityGroupEgress")


@pytest.mark.parametrize("name", SERVICE_TEMPLATES)
def test_every_network_resource_that_takes_tags_carries_the_projects(on, name):
    for title, resource in of_type(on[name], "AWS::EC2::").items():
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource["Type"]).schema
        if "Tags" not in schema["properties"]:
            continue  # SubnetRouteTableAssociation takes none
        keys = {tag["Key"] for tag in resource["Properties"]["Tags"]}
        assert keys == {"Environment", "EnvironmentSuffix", "ManagedBy", "Project"}, title


# --- on: exactly the endpoints the handlers need -------------------------------------------


def handler_clients() -> set[str]:
    """The AWS services the handlers create clients for (what the functions call)."""
    services = set()
    for path in (ROOT / "handler").glob("*.py"):
        services |= set(
            re.findall(r"boto3\.(?:client|resource)\(\s*\"([a-z0-9-]+)\"", path.read_text())
        )
    return services


@pytest.mark.parametrize("name", SERVICE_TEMPLATES)
def test_the_endpoints_are_exactly_the_services_the_handlers_call(on, name):
    endpoints = of_type(on[name], "AWS::EC2::VPCEndpoint").values()
    services = {e["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] for e in endpoints}
    assert handler_clients() == {"dynamodb", "s3"}  # the test reads the handlers, not a list
    assert services == handler_clients()
    for endpoint in endpoints:
        # Gateway endpoints (no hourly charge); an Interface endpoint would be billed.
        assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
        assert endpoint["Properties"]["ServiceName"]["Fn::Sub"].startswith(
            "com.amazonaws.${AWS::Region}."
        )


def endpoint_policy(template: dict, service: str) -> dict:
    [endpoint] = [
        e
        for e in of_type(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"]["ServiceName"]["Fn::Sub"].endswith(f".{service}")
    ]
    return resolve(endpoint["Properties"]["PolicyDocument"], parameters(template), REGION)


def test_the_endpoints_admit_only_the_handlers_calls_on_this_deployments_table_and_bucket(on):
    standby = on["standby.template.json"]  # names its table and bucket, so ARNs resolve
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/payment-{SUFFIX}-payments"
    bucket = f"arn:aws:s3:::payment-{SUFFIX}-audit-{ACCOUNT}-{REGION}"
    caller = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/payment-{SUFFIX}-processor-{REGION}"}
    mine = {"aws:PrincipalAccount": ACCOUNT}

    def allowed(service: str, action: str, resource: str, context=mine) -> bool:
        policy = endpoint_policy(standby, service)
        return evaluate(Request(action, resource, context, caller), [policy]).allowed

    assert allowed("dynamodb", "dynamodb:PutItem", table)
    assert allowed("dynamodb", "dynamodb:GetItem", table)
    assert not allowed("dynamodb", "dynamodb:Scan", table)
    assert not allowed("dynamodb", "dynamodb:GetItem", table.replace("payments", "other"))
    assert not allowed("dynamodb", "dynamodb:PutItem", table, {"aws:PrincipalAccount": "0" * 12})
    assert allowed("s3", "s3:PutObject", f"{bucket}/payments/2026/01/01/p.json")
    assert not allowed("s3", "s3:GetObject", f"{bucket}/payments/2026/01/01/p.json")
    assert not allowed("s3", "s3:PutObject", "arn:aws:s3:::somebody-else/payments/x.json")
    assert not allowed("s3", "s3:PutObject", f"{bucket}/other/x.json")
    # The primary names the same things through its own resources.
    primary = on["primary.template.json"]
    [dynamo] = endpoint_policy(primary, "dynamodb")["Statement"]
    assert dynamo["Resource"] == [{"Fn::GetAtt": ["PaymentsTable", "Arn"]}]
    [objects] = endpoint_policy(primary, "s3")["Statement"]
    assert objects["Resource"] == [
        {"Fn::Sub": ["${Bucket}/payments/*", {"Bucket": {"Fn::GetAtt": ["AuditBucket", "Arn"]}}]}
    ]


# --- on: the functions, their roles and the deployer ---------------------------------------


@pytest.mark.parametrize("name", SERVICE_TEMPLATES)
def test_both_payment_functions_run_in_the_private_subnets(on, name):
    template = on[name]
    subnets = sorted(of_type(template, "AWS::EC2::Subnet"))
    [group] = of_type(template, "AWS::EC2::SecurityGroup")
    for title in PAYMENT_FUNCTIONS:
        function = template["Resources"][title]
        config = function["Properties"]["VpcConfig"]
        assert sorted(s["Ref"] for s in config["SubnetIds"]) == subnets
        assert config["SecurityGroupIds"] == [{"Fn::GetAtt": [group, "GroupId"]}]
        skipped = {s["id"] for s in function["Metadata"]["checkov"]["skip"]}
        assert "CKV_AWS_117" not in skipped  # the "no VPC" exception no longer applies
    # The stream lookup answers CloudFormation through a pre-signed S3 URL of CloudFormation's
    # own, which the S3 endpoint (audit objects only) would refuse: it stays outside.
    stream = template["Resources"].get("TableStreamFunction")
    assert stream is None or "VpcConfig" not in stream["Properties"]


def function_role(templates: dict, name: str, title: str, region: str = REGION):
    template = templates[name]
    documents = resolve(
        with_ids(role_policy_documents(template, title)), parameters(template), region
    )
    boundary = resolve(
        next(
            r["Properties"]["PolicyDocument"]
            for r in templates["stackset-roles.template.json"]["Resources"].values()
            if r["Type"] == "AWS::IAM::ManagedPolicy"
        ),
        {},
        region,
    )
    return documents, boundary


@pytest.mark.parametrize("title", ("ProcessorRole", "AuditWriterRole"))
def test_the_roles_let_lambda_attach_the_functions_to_their_subnets_only(on, off, title):
    ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    interface = f"{ec2}:network-interface/eni-0123456789abcdef0"
    needed = [
        Request("ec2:DescribeNetworkInterfaces"),
        Request("ec2:DescribeSubnets"),
        Request("ec2:CreateNetworkInterface", interface),
        Request("ec2:CreateNetworkInterface", f"{ec2}:subnet/{IDS['FunctionsSubnet1']}"),
        Request("ec2:CreateNetworkInterface", f"{ec2}:subnet/{IDS['FunctionsSubnet2']}"),
        Request(
            "ec2:CreateNetworkInterface", f"{ec2}:security-group/{IDS['FunctionsSecurityGroup']}"
        ),
        Request("ec2:DeleteNetworkInterface", interface),
        Request("ec2:AssignPrivateIpAddresses", interface),
        Request("ec2:UnassignPrivateIpAddresses", interface),
    ]
    for name in SERVICE_TEMPLATES:
        identity, boundary = function_role(on, name, title)
        for request in needed:
            assert evaluate(request, identity, boundary).allowed, (name, request)
        for outside in (
            Request("ec2:CreateNetworkInterface", f"{ec2}:subnet/subnet-0bbbbbbbbbbbbbbb1"),
            Request("ec2:CreateNetworkInterface", f"{ec2}:security-group/sg-0bbbbbbbbbbbbbbb1"),
            Request("ec2:DeleteNetworkInterface", interface.replace(REGION, "eu-west-1")),
            Request("ec2:CreateVpc", f"{ec2}:vpc/*"),
        ):
            assert not evaluate(outside, identity, boundary).allowed, (name, outside)
        # Without the option, neither the role nor the boundary allows any of it.
        identity, boundary = function_role(off, name, title)
        assert not any(evaluate(r, identity, boundary).allowed for r in needed)


def test_the_execution_role_may_create_update_and_delete_the_network(on):
    role = execution_role(on)
    network_types = {"AWS::Lambda::Function"} | {
        r["Type"] for t in on.values() for r in of_type(t, "AWS::EC2::").values()
    }
    calls = [
        (name, logical_id, operation, request)
        for name, logical_id, operation, request in every_call(on)
        if on[name]["Resources"][logical_id]["Type"] in network_types
    ]
    assert any(request.action == "ec2:CreateVpcEndpoint" for *_, request in calls)
    assert any(request.action == "ec2:DescribeNetworkInterfaces" for *_, request in calls)
    denied = sorted(
        {
            f"{name} {logical_id} {operation}: {request.action}"
            for name, logical_id, operation, request in calls
            if not iam_check.decide(role, request).allowed
        }
    )
    assert denied == []


def test_the_execution_role_cannot_change_another_network_of_the_account(on):
    role = execution_role(on)
    vpc = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0ccccccccccccccc1"
    theirs = {"aws:ResourceTag/Project": "something-else"}
    ours = {"aws:ResourceTag/Project": "payment-infrastructure"}
    for action in ("ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteVpcEndpoints"):
        assert not iam_check.decide(role, Request(action, vpc, theirs)).allowed, action
        assert iam_check.decide(role, Request(action, vpc, ours)).allowed, action
    untagged = Request("ec2:CreateVpc", vpc, {})
    assert not iam_check.decide(role, untagged).allowed
    # Nothing of the network is granted without the option.
    without = json.dumps(rendered(Config())["stackset-roles.template.json"])
    assert set(re.findall(r'"(ec2:[A-Za-z*]+)"', without)) == {"ec2:DescribeRegions"}


# --- lint ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "primary, replicas",
    [
        ("us-east-1", ("us-west-2", "eu-west-1", "ap-southeast-2")),
        ("cn-north-1", ("cn-northwest-1",)),  # another partition
    ],
)
def test_every_template_with_the_vpc_is_lint_clean_in_every_region(primary, replicas):
    config = Config(vpc=True, primary_region=primary, replica_regions=replicas)
    findings = [
        str(finding)
        for item in render_all(config)
        for finding in linting.lint_template(item.file_name, item.body, item.regions)
    ]
    assert findings == []
