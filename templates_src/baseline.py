"""The account baseline: settings that exist once per account and region, not per environment.

``AWS::ApiGateway::Account`` is API Gateway's one CloudWatch-role setting for every API of the
account in a region ("AWS::ApiGateway::Account", CloudFormation template reference: "you only
need to create one AWS::ApiGateway::Account resource per region per account"). Declared by each
environment's service template, a second environment (or a taskcat run) re-points it at its own
role, and deleting either environment removes the role the others log through. Here it is
declared once, with a role that may write the logs of every API of this product, and both are
retained: deleting the baseline stack must not switch off logging for the region.

Deployed to every target region of every target account, before the service templates (deploy
applies it as the ``PaymentAccountBaseline`` stack set, ``names.ACCOUNT_BASELINE_STACK_SET``).
"""

from __future__ import annotations

from awacs import logs, sts
from awacs.aws import Allow, Condition, Policy, Principal, Statement, StringEquals
from troposphere import GetAtt, Output, Ref, Sub, Template
from troposphere.apigateway import Account
from troposphere.iam import ManagedPolicy, Role

from .boundary import permissions_boundary_arn
from .common import retain
from .config import MANAGED_BY, Config
from .names import (
    ANY_NAME,
    API_LOG_PREFIX,
    MANAGED_BY_TAG,
    PROJECT,
    PROJECT_TAG,
    SUB_REGION,
    api_logging_role,
)

API_GATEWAY_ACCOUNT = "ApiGatewayAccount"
CLOUDWATCH_ROLE = "ApiGatewayCloudWatchRole"


def _logs_arn(resource: str) -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def _write_logs_policy() -> ManagedPolicy:
    # A customer managed policy, not an inline one (iam.py says why), retained with the role.
    return retain(
        ManagedPolicy(
            f"{CLOUDWATCH_ROLE}Policy",
            ManagedPolicyName=Sub(api_logging_role(SUB_REGION)),
            Description="API Gateway account setting: what the CloudWatch role may do",
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="WriteApiLogs",
                        Effect=Allow,
                        Action=[
                            logs.CreateLogGroup,
                            logs.CreateLogStream,
                            logs.DescribeLogStreams,
                            logs.PutLogEvents,
                            logs.GetLogEvents,
                            logs.FilterLogEvents,
                        ],
                        Resource=[
                            _logs_arn("log-group:API-Gateway-Execution-Logs_*"),
                            _logs_arn(f"log-group:{API_LOG_PREFIX}{ANY_NAME}"),
                        ],
                    ),
                    Statement(
                        # DescribeLogGroups has no resource-level permissions.
                        Sid="FindLogGroups",
                        Effect=Allow,
                        Action=[logs.DescribeLogGroups],
                        Resource=["*"],
                    ),
                ],
            ),
        )
    )


def _cloudwatch_role(policy: ManagedPolicy) -> Role:
    return retain(
        Role(
            CLOUDWATCH_ROLE,
            # IAM is global: one role per region keeps a region's setting independent.
            RoleName=Sub(api_logging_role(SUB_REGION)),
            Description="API Gateway account setting: write every payment API's logs",
            PermissionsBoundary=permissions_boundary_arn(),
            AssumeRolePolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", "apigateway.amazonaws.com"),
                        Action=[sts.AssumeRole],
                        # Only on behalf of this account (confused deputy).
                        Condition=Condition(
                            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))
                        ),
                    )
                ],
            ),
            ManagedPolicyArns=[Ref(policy)],
            Tags=[
                {"Key": PROJECT_TAG, "Value": PROJECT},
                {"Key": MANAGED_BY_TAG, "Value": MANAGED_BY},
            ],
        )
    )


def apigateway_cloudwatch_role(template: Template) -> Role:
    """What API Gateway needs to write execution and access logs ("Set up CloudWatch logging
    for REST APIs in API Gateway"): the permissions of the managed policy
    AmazonAPIGatewayPushToCloudWatchLogs, scoped to the execution-log groups API Gateway names
    (``API-Gateway-Execution-Logs_<api id>/<stage>``) and this product's access-log groups."""
    policy = template.add_resource(_write_logs_policy())
    return template.add_resource(_cloudwatch_role(policy))


def build_account_baseline(config: Config) -> Template:
    """Once per account and region: API Gateway's CloudWatch role setting."""
    del config  # the same in every region; the argument keeps the builders' shape
    template = Template(
        Description="Payment infrastructure account baseline (once per account and region): "
        "API Gateway's CloudWatch Logs role setting, shared by every API in the region. "
        "Retained on delete."
    )
    template.set_version("2010-09-09")
    role = apigateway_cloudwatch_role(template)
    template.add_resource(
        retain(Account(API_GATEWAY_ACCOUNT, CloudWatchRoleArn=GetAtt(role, "Arn")))
    )
    template.add_output(
        Output(
            "ApiGatewayCloudWatchRoleArn",
            Description="Role API Gateway writes every API's logs with in this region",
            Value=GetAtt(role, "Arn"),
        )
    )
    return template
