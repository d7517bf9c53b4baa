"""moto's EC2 and Lambda as CloudFormation and Lambda present them, for the optional VPC
(``templates_src/network.py``).

- ``AWS::EC2::SecurityGroup`` ``SecurityGroupEgress``: moto ignored the property, so every group
  kept EC2's default rule (all traffic to anywhere), more open than AWS. CloudFormation adds that
  default only when the template gives no egress rule of its own ("AWS::EC2::SecurityGroup",
  CloudFormation Template Reference); with rules, the group holds exactly those.
- ``AWS::EC2::Subnet``: moto made the first subnet of an Availability Zone its default subnet,
  giving it public IPs on launch whatever ``MapPublicIpOnLaunch`` said. A subnet CloudFormation
  creates is never a default subnet and maps public IPs only when the property is true (its
  default is false: "AWS::EC2::Subnet"; "Default VPCs", Amazon VPC User Guide).
- A function's ``VpcConfig``: moto answered ``VpcId: vpc-123abc`` for every function; Lambda
  answers the VPC of the function's subnets ("VpcConfigResponse", AWS Lambda API Reference).
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.ec2.exceptions import InvalidSubnetIdError
from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup
from moto.ec2.models.subnets import Subnet


def _egress_args(rule: dict[str, Any]) -> dict[str, Any]:
    ranges = []
    if "CidrIp" in rule:
        ranges.append({"CidrIp": rule["CidrIp"], "Description": rule.get("Description", "")})
    if "CidrIpv6" in rule:
        ranges.append({"CidrIpv6": rule["CidrIpv6"], "Description": rule.get("Description", "")})
    prefix_lists = (
        [{"PrefixListId": rule["DestinationPrefixListId"]}]
        if "DestinationPrefixListId" in rule
        else []
    )
    groups = (
        [{"GroupId": rule["DestinationSecurityGroupId"]}]
        if "DestinationSecurityGroupId" in rule
        else []
    )
    return {
        "ip_protocol": str(rule["IpProtocol"]),
        "from_port": rule.get("FromPort"),
        "to_port": rule.get("ToPort"),
        "ip_ranges": ranges,
        "source_groups": groups,
        "prefix_list_ids": prefix_lists,
    }


def _honour_egress_rules() -> None:
    create = SecurityGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_with_egress(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # type: ignore[no-untyped-def]  # noqa: E501
        group = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        rules = (cloudformation_json.get("Properties") or {}).get("SecurityGroupEgress")
        if rules:
            backend = ec2_backends[account_id][region_name]
            group.egress_rules = []  # the default rule is not added when rules are given
            for rule in rules:
                backend.authorize_security_group_egress(
                    group.id, **_egress_args(rule), vpc_id=group.vpc_id
                )
        return group

    SecurityGroup.create_from_cloudformation_json = classmethod(create_with_egress)  # type: ignore[method-assign,assignment]


def _subnets_as_declared() -> None:
    create = Subnet.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_as_declared(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # type: ignore[no-untyped-def]  # noqa: E501
        subnet = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json.get("Properties") or {}
        subnet.default_for_az = False
        subnet.map_public_ip_on_launch = (
            str(properties.get("MapPublicIpOnLaunch", False)).lower() == "true"
        )
        return subnet

    Subnet.create_from_cloudformation_json = classmethod(create_as_declared)  # type: ignore[method-assign,assignment]


def _vpc_of_the_subnets() -> None:
    stored = LambdaFunction.vpc_config.fget  # type: ignore[attr-defined]

    def vpc_config(self: LambdaFunction) -> dict[str, Any] | None:
        config = stored(self)
        if config and config.get("SubnetIds"):
            try:
                subnet = ec2_backends[self.account_id][self.region].get_subnet(
                    config["SubnetIds"][0]
                )
            except InvalidSubnetIdError:
                return config
            config["VpcId"] = subnet.vpc_id
        return config

    LambdaFunction.vpc_config = property(vpc_config)  # type: ignore[method-assign,assignment]


def install() -> None:
    _honour_egress_rules()
    _subnets_as_declared()
    _vpc_of_the_subnets()
