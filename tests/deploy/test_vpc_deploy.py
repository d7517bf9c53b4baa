"""``deploy.py --vpc`` against the emulator: the payment functions of every region run in a
VPC with no way to the internet, created by the StackSet execution role (whose every call the
emulator evaluates, EC2 included), and checked through boto3 as AWS would answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from templates_src import names

from .conftest import PRIMARY, REPLICA, deploy_args, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "test-vpc"
FUNCTIONS = ("processor", "audit-writer")


@pytest.fixture(scope="module")
def deployed(emulator, tmp_path_factory: pytest.TempPathFactory) -> None:
    work: Path = tmp_path_factory.mktemp("vpc")
    args = deploy_args(emulator.url, SUFFIX, work, "--alarm-email", "oncall@example.com")
    result = run_deploy([*args, "--vpc", "--bootstrap"])
    assert result.code == 0, result.err[-3000:]


@pytest.mark.parametrize("region", (PRIMARY, REPLICA))
def test_the_payment_functions_run_in_a_vpc_with_no_way_out(deployed, aws, region):
    ec2, functions = aws("ec2", region), aws("lambda", region)
    vpcs = set()
    for thing in FUNCTIONS:
        config = functions.get_function_configuration(FunctionName=names.resource(SUFFIX, thing))
        vpc = config["VpcConfig"]
        subnets = ec2.describe_subnets(SubnetIds=vpc["SubnetIds"])["Subnets"]
        assert len({s["AvailabilityZone"] for s in subnets}) == 2
        assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
        assert {s["VpcId"] for s in subnets} == {vpc["VpcId"]}
        [group] = ec2.describe_security_groups(GroupIds=vpc["SecurityGroupIds"])["SecurityGroups"]
        assert group["IpPermissions"] == []
        assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group[
            "IpPermissionsEgress"
        ]] == [("tcp", 443, 443)]  # fmt: skip
        vpcs.add(vpc["VpcId"])
    [vpc_id] = vpcs  # both functions share the one VPC
    attached = {"Name": "attachment.vpc-id", "Values": [vpc_id]}
    assert ec2.describe_internet_gateways(Filters=[attached])["InternetGateways"] == []
    in_vpc = {"Name": "vpc-id", "Values": [vpc_id]}
    nat = ec2.describe_nat_gateways(Filters=[in_vpc])["NatGateways"]
    assert [n for n in nat if n["State"] != "deleted"] == []
    for table in ec2.describe_route_tables(Filters=[in_vpc])["RouteTables"]:
        for route in table["Routes"]:
            assert route.get("DestinationCidrBlock") in (None, "10.0.0.0/24"), route
            assert not route.get("GatewayId", "local").startswith("igw-"), route
    endpoints = ec2.describe_vpc_endpoints(Filters=[in_vpc])["VpcEndpoints"]
    assert sorted((e["VpcEndpointType"], e["ServiceName"]) for e in endpoints) == [
        ("Gateway", f"com.amazonaws.{region}.dynamodb"),
        ("Gateway", f"com.amazonaws.{region}.s3"),
    ]


def test_an_execution_role_without_the_network_permissions_fails_the_deploy(
    deployed, emulator, aws, tmp_path, monkeypatch
):
    """The emulator evaluates the EC2 calls as the execution role: a roles stack built without
    the network statements makes the VPC's first resource fail with AccessDenied."""
    from templates_src import stackset_roles

    monkeypatch.setattr(stackset_roles, "execution_role_statements", lambda config: [])
    args = deploy_args(emulator.url, "test-vpc-denied", tmp_path, "--alarm-email", "a@b.example")
    result = run_deploy([*args, "--vpc", "--bootstrap"])
    assert result.code == 1
    assert "(HandlerErrorCode: AccessDenied)" in result.err
    # The VPC is the first network resource; EC2 refuses its first call.
    assert re.search(r"FunctionsVpc: .*not authorized to perform: ec2:\w+", result.err)
