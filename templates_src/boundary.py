"""The permissions boundary every role of this product carries.

A permissions boundary caps what a role can ever be granted: its effective permissions are the
intersection of its policies and the boundary ("Permissions boundaries for IAM entities", IAM
User Guide). The StackSet execution role may create and change roles only when they carry this
boundary (``iam:PermissionsBoundary``), so it cannot make a ``payment-*`` role with
administrator rights and pass it to a function: the worst it can create is a role limited to the
data-path calls below.

The managed policy lives in the StackSet roles template (one per account, created by
``--bootstrap`` before any environment); the region templates name it by ARN.
"""

from __future__ import annotations

from awacs.aws import Action, Allow, Deny, Policy, Statement
from troposphere import Sub

PERMISSIONS_BOUNDARY_NAME = "payment-permissions-boundary"

# The calls the product's own roles make (functions, the stream lookup, API Gateway's logging
# role). A new role that needs more must widen this list on purpose; tests/security proves
# every action of every role the templates create is inside it.
WORKLOAD_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
    "dynamodb:PutItem",
    # The API clients' roles (templates_src/clients.py): the resource policy grants POST
    # /process to the account, so the role's own policy decides, within this boundary.
    "execute-api:Invoke",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:PutLogEvents",
    "s3:PutObject",
    "sqs:SendMessage",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
)


def permissions_boundary_arn() -> Sub:
    return Sub(
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{PERMISSIONS_BOUNDARY_NAME}"
    )


def permissions_boundary_document() -> Policy:
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="WorkloadCalls",
                Effect=Allow,
                Action=[Action(*action.split(":")) for action in WORKLOAD_ACTIONS],
                Resource=["*"],  # the roles' own policies name the resources
            ),
            Statement(
                # Never, whatever a role's policy says: no identity, no key or data deletion.
                Sid="NeverEscalateOrDestroy",
                Effect=Deny,
                Action=[
                    Action("iam", "*"),
                    Action("sts", "*"),
                    Action("organizations", "*"),
                    Action("kms", "ScheduleKeyDeletion"),
                    Action("kms", "PutKeyPolicy"),
                    Action("s3", "DeleteObjectVersion"),
                    Action("dynamodb", "DeleteTable"),
                ],
                Resource=["*"],
            ),
        ],
    )
