"""Optional (``--vpc``, off by default): the payment processor and the audit writer in a VPC
with no way to the internet.

What the two functions call at runtime (``handler/``): DynamoDB ``GetItem``/``PutItem`` on the
payments table (the processor) and S3 ``PutObject`` under ``payments/`` in the audit bucket
(the audit writer). Everything else around them is done by the Lambda service outside the VPC:
CloudWatch Logs receives what the functions print, metrics included (embedded metric format);
X-Ray segments are recorded by Lambda (the handlers carry no X-Ray SDK); the environment is
decrypted with KMS before the handler starts; dead letters and the stream's on-failure queue are
sent to SQS by Lambda; the stream is read by Lambda's event source mapping; SSE-KMS of audit
objects is S3 calling KMS. So the VPC needs no interface endpoint (AWS PrivateLink, billed per
AZ-hour and per GB), only the two gateway endpoints, which cost nothing ("Gateway endpoints for
Amazon DynamoDB"; "Gateway endpoints for Amazon S3"; "Access AWS services through AWS
PrivateLink", AWS PrivateLink guide). A handler that starts calling another service needs an
interface endpoint for it here (``tests/templates/test_vpc.py`` compares the clients the
handlers create with the endpoints).

The VPC has two private subnets in the region's first two Availability Zones, one route table
with only the local route and the gateway endpoints' prefix-list routes, no internet gateway and
no NAT gateway. Each endpoint's policy admits only those calls on this deployment's table and
audit bucket, by principals of this account. The functions' security group allows no inbound
traffic and outbound TCP 443 only. Its destination is ``0.0.0.0/0`` because CloudFormation
cannot name the AWS-managed prefix lists of the gateway endpoints (their ``pl-`` ids differ per
region and ``AWS::EC2::VPCEndpoint`` returns none): the route table is what confines the
traffic, to the two endpoints.

Lambda creates the functions' network interfaces with the execution role ("Giving Lambda
functions access to resources in an Amazon VPC", AWS Lambda Developer Guide): the roles get the
permissions of ``AWSLambdaVPCAccessExecutionRole`` without its log actions, each scoped as far
as that page allows (``eni_statements``); the permissions boundary and the StackSet execution
role gain what they need only when the option is on (``boundary_statements``,
``execution_role_statements``).
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import dynamodb, s3
from awacs.aws import Action, Allow, Condition, Policy, Principal, Statement, StringEquals
from troposphere import GetAtt, GetAZs, Ref, Select, Sub, Template
from troposphere.awslambda import VPCConfig
from troposphere.ec2 import (
    VPC,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    SubnetRouteTableAssociation,
    VPCEndpoint,
)

from handler.audit_key import AUDIT_KEY_PREFIX

from .common import tags
from .config import Config
from .data import TableRef
from .names import PROJECT
from .storage import BucketRef

VPC_CIDR = "10.0.0.0/24"
# One /26 per Availability Zone: Lambda's network interfaces are shared per subnet and
# security group, so a handful of addresses is plenty.
SUBNET_CIDRS = ("10.0.0.0/26", "10.0.0.64/26")
HTTPS = 443

# The calls each gateway endpoint admits: exactly the handlers' calls through it.
DYNAMODB_CALLS = (dynamodb.GetItem, dynamodb.PutItem)
S3_CALLS = (s3.PutObject,)

_EC2 = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}"


@dataclass(frozen=True)
class Network:
    subnets: tuple[Subnet, ...]
    security_group: SecurityGroup

    def vpc_config(self) -> VPCConfig:
        return VPCConfig(
            SubnetIds=[Ref(subnet) for subnet in self.subnets],
            SecurityGroupIds=[GetAtt(self.security_group, "GroupId")],
        )


def add_network(
    template: Template, config: Config, *, table: TableRef, bucket: BucketRef
) -> Network | None:
    """The VPC the payment functions run in, or None when the option is off."""
    if not config.vpc:
        return None
    vpc = _add_vpc(template)
    routes = template.add_resource(RouteTable("FunctionsRouteTable", VpcId=Ref(vpc), Tags=tags()))
    subnets = _add_subnets(template, vpc, routes)
    security_group = _add_security_group(template, vpc)
    _add_gateway_endpoints(template, vpc, routes, table=table, bucket=bucket)
    return Network(tuple(subnets), security_group)


def _add_vpc(template: Template) -> VPC:
    return template.add_resource(
        VPC(
            "FunctionsVpc",
            CidrBlock=VPC_CIDR,
            # DNS resolution inside the VPC: the SDK resolves the services' public names,
            # which the gateway endpoints' routes then carry.
            EnableDnsSupport=True,
            EnableDnsHostnames=True,
            Tags=tags(),
        )
    )


def _add_subnets(template: Template, vpc: VPC, routes: RouteTable) -> list[Subnet]:
    """One private subnet per ``SUBNET_CIDRS`` entry, each in its own Availability Zone and
    routed by ``routes`` alone."""
    subnets = []
    for index, cidr in enumerate(SUBNET_CIDRS):
        subnet = template.add_resource(
            Subnet(
                f"FunctionsSubnet{index + 1}",
                VpcId=Ref(vpc),
                CidrBlock=cidr,
                AvailabilityZone=Select(index, GetAZs("")),
                MapPublicIpOnLaunch=False,
                Tags=tags(),
            )
        )
        template.add_resource(
            SubnetRouteTableAssociation(
                f"FunctionsSubnet{index + 1}Routes",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(routes),
            )
        )
        subnets.append(subnet)
    return subnets


def _add_security_group(template: Template, vpc: VPC) -> SecurityGroup:
    """No inbound rule; outbound TCP 443 only (the module docstring says why to 0.0.0.0/0)."""
    return template.add_resource(
        SecurityGroup(
            "FunctionsSecurityGroup",
            GroupDescription="Payment functions: no inbound, HTTPS out to the VPC endpoints",
            VpcId=Ref(vpc),
            SecurityGroupEgress=[
                SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=HTTPS,
                    ToPort=HTTPS,
                    CidrIp="0.0.0.0/0",
                    Description="HTTPS only; the route table reaches nothing but the "
                    "DynamoDB and S3 gateway endpoints",
                )
            ],
            Tags=tags(),
        )
    )


def _add_gateway_endpoints(
    template: Template, vpc: VPC, routes: RouteTable, *, table: TableRef, bucket: BucketRef
) -> None:
    """The DynamoDB and S3 gateway endpoints, each admitting only the handlers' calls on this
    deployment's table or audit objects, by principals of this account."""
    this_account = Condition(StringEquals("aws:PrincipalAccount", Ref("AWS::AccountId")))
    _gateway_endpoint(
        template,
        "DynamoDbEndpoint",
        "dynamodb",
        vpc,
        routes,
        Statement(
            Sid="OnlyThePaymentsTable",
            Effect=Allow,
            Principal=Principal("*"),
            Action=list(DYNAMODB_CALLS),
            Resource=[table.arn],
            Condition=this_account,
        ),
    )
    _gateway_endpoint(
        template,
        "S3Endpoint",
        "s3",
        vpc,
        routes,
        Statement(
            Sid="OnlyTheAuditObjects",
            Effect=Allow,
            Principal=Principal("*"),
            Action=list(S3_CALLS),
            Resource=[Sub(f"${{Bucket}}/{AUDIT_KEY_PREFIX}*", Bucket=bucket.arn)],
            Condition=this_account,
        ),
    )


def _gateway_endpoint(
    template: Template,
    title: str,
    service: str,
    vpc: VPC,
    routes: RouteTable,
    statement: Statement,
) -> VPCEndpoint:
    """A gateway endpoint adds a route to the service's prefix list in ``routes``; its policy
    is a ceiling on every call through it ("Control access to VPC endpoints using endpoint
    policies", AWS PrivateLink guide)."""
    return template.add_resource(
        VPCEndpoint(
            title,
            VpcEndpointType="Gateway",
            ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
            VpcId=Ref(vpc),
            RouteTableIds=[Ref(routes)],
            PolicyDocument=Policy(Version="2012-10-17", Statement=[statement]),
            Tags=tags(),
        )
    )


# The execution-role permissions "Giving Lambda functions access to resources in an Amazon VPC"
# lists (those of AWSLambdaVPCAccessExecutionRole without its log actions).
ENI_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)


def _actions(names: tuple[str, ...]) -> list[Action]:
    return [Action(*name.split(":")) for name in names]


def eni_statements(network: Network) -> list[Statement]:
    """What Lambda needs of a function's role to attach it to ``network``, scoped as the Lambda
    guide allows: the describe calls only work on ``*``; a new interface only in this VPC's
    subnets with its security group; the interfaces themselves are named by ids Lambda picks,
    so they are this account's in this region."""
    interfaces = Sub(f"{_EC2}:network-interface/*")
    return [
        Statement(
            Sid="LambdaDescribesTheNetwork",
            Effect=Allow,
            Action=_actions(("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")),
            Resource=["*"],
        ),
        Statement(
            Sid="LambdaCreatesInterfacesInTheFunctionSubnets",
            Effect=Allow,
            Action=_actions(("ec2:CreateNetworkInterface",)),
            Resource=[
                interfaces,
                *[
                    Sub(f"{_EC2}:subnet/${{Subnet}}", Subnet=Ref(subnet))
                    for subnet in network.subnets
                ],
                Sub(
                    f"{_EC2}:security-group/${{Group}}",
                    Group=GetAtt(network.security_group, "GroupId"),
                ),
            ],
        ),
        Statement(
            Sid="LambdaManagesItsInterfaces",
            Effect=Allow,
            Action=_actions(
                (
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:DeleteNetworkInterface",
                    "ec2:UnassignPrivateIpAddresses",
                )
            ),
            Resource=[interfaces],
        ),
    ]


def boundary_statements(config: Config) -> list[Statement]:
    """The ENI calls inside the permissions boundary, only when the functions run in a VPC
    (the boundary caps actions; each role's policy names the resources)."""
    if not config.vpc:
        return []
    return [
        Statement(
            Sid="LambdaAttachesFunctionsToTheVpc",
            Effect=Allow,
            Action=_actions(ENI_ACTIONS),
            Resource=["*"],
        )
    ]


# What CloudFormation calls for the network's resources (the handler permissions of the
# AWS::EC2::VPC, Subnet, RouteTable, SubnetRouteTableAssociation, SecurityGroup and
# VPCEndpoint provider schemas, and the Lambda function's VPC lookups), split by how IAM can
# scope them. tests/templates/test_vpc.py evaluates every one against the execution role.
NETWORK_DESCRIBE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
)
NETWORK_CREATE_ACTIONS = (
    "ec2:CreateRouteTable",
    "ec2:CreateSecurityGroup",
    "ec2:CreateSubnet",
    "ec2:CreateTags",
    "ec2:CreateVpc",
    "ec2:CreateVpcEndpoint",
)
NETWORK_CHANGE_ACTIONS = (
    "ec2:AssociateRouteTable",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:DeleteRouteTable",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteSubnet",
    "ec2:DeleteTags",
    "ec2:DeleteVpc",
    "ec2:DeleteVpcEndpoints",
    "ec2:DisassociateRouteTable",
    "ec2:ModifySubnetAttribute",
    "ec2:ModifyVpcAttribute",
    "ec2:ModifyVpcEndpoint",
    "ec2:ReplaceRouteTableAssociation",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
)


def execution_role_statements(config: Config) -> list[Statement]:
    """What the StackSet execution role needs to create the network, only when it is on.

    Describe calls are authorised on ``*`` only. New network resources only with the project's
    tag (``aws:RequestTag``); every change or deletion only of resources carrying it
    (``aws:ResourceTag``), so no other network of the account can be altered."""
    if not config.vpc:
        return []
    return [
        Statement(
            Sid="DescribeNetwork",
            Effect=Allow,
            Action=_actions(NETWORK_DESCRIBE_ACTIONS),
            Resource=["*"],
        ),
        Statement(
            Sid="CreateTaggedNetwork",
            Effect=Allow,
            Action=_actions(NETWORK_CREATE_ACTIONS),
            Resource=["*"],
            Condition=Condition(StringEquals("aws:RequestTag/Project", PROJECT)),
        ),
        Statement(
            Sid="ChangeOnlyTaggedNetwork",
            Effect=Allow,
            Action=_actions(NETWORK_CHANGE_ACTIONS),
            Resource=["*"],
            Condition=Condition(StringEquals("aws:ResourceTag/Project", PROJECT)),
        ),
    ]
