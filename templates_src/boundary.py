"""The permissions boundary every role of this product carries.

A permissions boundary caps what a role can ever be granted: its effective permissions are the
intersection of its policies and the boundary ("Permissions boundaries for IAM entities", IAM
User Guide). The StackSet execution role may create and change roles only when they carry this
boundary (``iam:PermissionsBoundary``), so it cannot make a ``payment-*`` role with
administrator rights and pass it to a function: the worst it can create is a role limited to the
data-path calls below.

The managed policy lives in the StackSet roles template (one per account, created by
``--bootstrap`` before any environment); the region templates name it by ARN. The break-glass
purge role (``templates_src.purge_role``) carries it too: the boundary allows the purge calls to
that one role and denies the destructive ones to every other.
"""

from __future__ import annotations

from collections.abc import Sequence

from awacs.aws import Action, Allow, ArnEquals, ArnNotEquals, Condition, Deny, Policy, Statement
from troposphere import Sub

from .names import PERMISSIONS_BOUNDARY

PERMISSIONS_BOUNDARY_NAME = PERMISSIONS_BOUNDARY

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


# Denied to every role under the boundary but the purge role: deleting data or keys.
DESTRUCTIVE_ACTIONS = (
    "dynamodb:DeleteTable",
    "kms:ScheduleKeyDeletion",
    "s3:BypassGovernanceRetention",
    "s3:DeleteObjectVersion",
)


def permissions_boundary_document(
    purge_role: object, purge_actions: tuple[str, ...], extra: Sequence[Statement] = ()
) -> Policy:
    """The ceiling: the workload calls for every role; the purge and break-glass calls for the
    purge role alone (``aws:PrincipalArn`` is the role's ARN in each of its sessions, "AWS
    global condition context keys", IAM User Guide); identity and organization calls for none.
    ``extra``: what an option adds (templates_src/network.py).

    The execution role may create roles named ``payment-*`` but never the purge role (its
    ``ProtectThePurgeRole`` deny), so no role it creates can match the purge role's ARN."""
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="WorkloadCalls",
                Effect=Allow,
                Action=[Action(*action.split(":")) for action in WORKLOAD_ACTIONS],
                Resource=["*"],  # the roles' own policies name the resources
            ),
            *extra,
            Statement(
                Sid="PurgeAndBreakGlassForThePurgeRoleOnly",
                Effect=Allow,
                Action=[Action(*action.split(":")) for action in purge_actions],
                Resource=["*"],  # the purge role's own policy names the resources
                Condition=Condition(ArnEquals("aws:PrincipalArn", purge_role)),
            ),
            Statement(
                # Never, whatever a role's policy says: no identity or organization change.
                Sid="NeverEscalate",
                Effect=Deny,
                Action=[
                    Action("iam", "*"),
                    Action("sts", "*"),
                    Action("organizations", "*"),
                    Action("kms", "PutKeyPolicy"),
                ],
                Resource=["*"],
            ),
            Statement(
                # No key or data deletion, except by the purge role.
                Sid="NeverDestroyUnlessPurging",
                Effect=Deny,
                Action=[Action(*action.split(":")) for action in DESTRUCTIVE_ACTIONS],
                Resource=["*"],
                Condition=Condition(ArnNotEquals("aws:PrincipalArn", purge_role)),
            ),
        ],
    )
