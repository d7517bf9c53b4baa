"""The break-glass role ``payment-data-purge`` (``Config.purge_role_name``): the one principal
that may remove or unlock the data the deployer cannot touch.

What it is for (README "Security", break-glass):

- ``delete.py --purge-data`` of a throw-away environment: GOVERNANCE-locked audit versions are
  removed with ``s3:BypassGovernanceRetention``, which the audit buckets' policies deny to every
  other principal; the table, buckets, log groups and keys are deleted.
- Changing an audit bucket's lifecycle, versioning, Object Lock configuration or bucket policy,
  which those policies deny to everyone else (the StackSet execution role included).

IAM is global, so the role is created once per account, by the StackSet roles stack
(``--bootstrap``), never by a StackSet instance. Its trust is this account's principals
*with MFA* (``aws:MultiFactorAuthPresent``, "AWS global condition context keys", IAM User Guide):
a person who signed in with MFA, never a service session. The StackSet roles and the payment
workload roles are refused outright, whatever their account's policies grant (an explicit deny
in a role trust policy wins, "Policy evaluation logic"). It carries the permissions boundary,
which allows the actions below to this role only (``templates_src.boundary``).
"""

from __future__ import annotations

from awacs import sts
from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Bool,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Sub
from troposphere.iam import Policy as InlinePolicy
from troposphere.iam import Role

from .boundary import permissions_boundary_arn
from .common import suppress
from .config import MANAGED_BY, Config
from .names import (
    ACCESS_LOG_BUCKET,
    ANY_NAME,
    API_LOG_PREFIX,
    AUDIT_BUCKET,
    LAMBDA_LOG_PREFIX,
    MANAGED_BY_TAG,
    NAME_PREFIX,
    PROJECT,
    PROJECT_TAG,
    TRAIL_BUCKET,
    pattern,
)

PURGE_ROLE = "DataPurgeRole"
_ARN = "arn:${AWS::Partition}"

# The buckets whose history is locked (audit, trail) or logged (access logs), as storage.py and
# trail.py name them: payment-<suffix>-<thing>-<account>-<region>.
AUDIT_BUCKET_PATTERNS = tuple(pattern(t) for t in (AUDIT_BUCKET, ACCESS_LOG_BUCKET, TRAIL_BUCKET))

# What a purge reads to find the retained data and prove nothing is deployed any more
# (delete.py, scripts/deployment/discovery.py and retained.py): read-only, on "*" because these
# list calls have no resource-level permissions or search the whole account.
FIND_ACTIONS = (
    "cloudformation:DescribeStacks",
    "cloudformation:ListStackSets",
    "dynamodb:ListTables",
    "ec2:DescribeRegions",
    "kms:ListAliases",
    "logs:DescribeLogGroups",
    "s3:ListAllMyBuckets",
)
# Whether a stack set of the suffix still has instances: on this account's stack sets.
STACK_SET_ACTIONS = ("cloudformation:DescribeStackSet", "cloudformation:ListStackInstances")
TABLE_ACTIONS = ("dynamodb:DeleteTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable")
OBJECT_ACTIONS = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:GetObjectVersion",
)
BUCKET_ACTIONS = (
    "s3:DeleteBucket",
    "s3:GetBucketTagging",
    "s3:ListBucket",
    "s3:ListBucketVersions",
)
# The audit buckets' settings their policies lock (storage.RETENTION_SETTINGS_ACTIONS) and the
# reads that go with them.
BREAK_GLASS_BUCKET_ACTIONS = (
    "s3:DeleteBucketPolicy",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:GetLifecycleConfiguration",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
)
LOG_GROUP_ACTIONS = ("logs:DeleteLogGroup",)
KEY_ACTIONS = ("kms:DescribeKey", "kms:ListResourceTags", "kms:ScheduleKeyDeletion")
ALIAS_ACTIONS = ("kms:DeleteAlias",)

# Every action the role may use: the boundary allows exactly these to this role.
PURGE_ACTIONS = tuple(
    sorted(
        {
            *FIND_ACTIONS,
            *STACK_SET_ACTIONS,
            *TABLE_ACTIONS,
            *OBJECT_ACTIONS,
            *BUCKET_ACTIONS,
            *BREAK_GLASS_BUCKET_ACTIONS,
            *LOG_GROUP_ACTIONS,
            *KEY_ACTIONS,
            *ALIAS_ACTIONS,
        }
    )
)


def purge_role_arn(config: Config) -> Sub:
    return Sub(f"{_ARN}:iam::${{AWS::AccountId}}:role/{config.purge_role_name}")


def _actions(names: tuple[str, ...]) -> list[Action]:
    return [Action(*name.split(":")) for name in names]


def _this_account() -> Condition:
    """S3 ARNs carry no account: ``s3:ResourceAccount`` (Service Authorization Reference,
    "Actions, resources, and condition keys for Amazon S3") keeps the grant to this account's
    buckets of the same names."""
    return Condition(StringEquals("s3:ResourceAccount", Sub("${AWS::AccountId}")))


def _regional(resource: str) -> Sub:
    return Sub(f"{_ARN}:{resource}")


def purge_policy() -> Policy:
    """The break-glass role's one policy: a statement per action tuple above, scoped to this
    product's resources wherever IAM allows it (the find calls are on ``*``, FIND_ACTIONS).

    Long because it is one flat policy document that a reviewer checks statement by statement
    against the tuples the boundary allows this role (``PURGE_ACTIONS``); split, the tuples
    would be spread over helpers that each hold a statement or two."""
    buckets = [Sub(f"{_ARN}:s3:::{ANY_NAME}")]
    audit_buckets = [Sub(f"{_ARN}:s3:::{pattern}") for pattern in AUDIT_BUCKET_PATTERNS]
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="FindRetainedData",
                Effect=Allow,
                Action=_actions(FIND_ACTIONS),
                Resource=["*"],
            ),
            Statement(
                Sid="ReadStackSets",
                Effect=Allow,
                Action=_actions(STACK_SET_ACTIONS),
                Resource=[_regional("cloudformation:*:${AWS::AccountId}:stackset/*")],
            ),
            Statement(
                Sid="DeleteTables",
                Effect=Allow,
                Action=_actions(TABLE_ACTIONS),
                Resource=[_regional(f"dynamodb:*:${{AWS::AccountId}}:table/{ANY_NAME}")],
            ),
            Statement(
                Sid="EmptyAndDeleteBuckets",
                Effect=Allow,
                Action=_actions(BUCKET_ACTIONS),
                Resource=buckets,
                Condition=_this_account(),
            ),
            Statement(
                Sid="RemoveObjectVersions",
                Effect=Allow,
                Action=_actions(OBJECT_ACTIONS),
                Resource=[Sub("${Bucket}/*", Bucket=bucket) for bucket in buckets],
                Condition=_this_account(),
            ),
            Statement(
                Sid="BreakGlassAuditBucketSettings",
                Effect=Allow,
                Action=_actions(BREAK_GLASS_BUCKET_ACTIONS),
                Resource=audit_buckets,
                Condition=_this_account(),
            ),
            Statement(
                Sid="DeleteLogGroups",
                Effect=Allow,
                Action=_actions(LOG_GROUP_ACTIONS),
                Resource=[
                    _regional(f"logs:*:${{AWS::AccountId}}:log-group:{prefix}*")
                    for prefix in (LAMBDA_LOG_PREFIX + NAME_PREFIX, API_LOG_PREFIX + NAME_PREFIX)
                ],
            ),
            Statement(
                # DeleteAlias is authorised on the alias and on its key ("Controlling access to
                # aliases", AWS KMS Developer Guide).
                Sid="DeleteAliases",
                Effect=Allow,
                Action=_actions(ALIAS_ACTIONS),
                Resource=[
                    _regional(f"kms:*:${{AWS::AccountId}}:alias/{ANY_NAME}"),
                    _regional("kms:*:${AWS::AccountId}:key/*"),
                ],
            ),
            Statement(
                Sid="RetireThisProductsKeys",
                Effect=Allow,
                Action=_actions(KEY_ACTIONS),
                Resource=[_regional("kms:*:${AWS::AccountId}:key/*")],
                Condition=Condition(StringEquals(f"aws:ResourceTag/{PROJECT_TAG}", PROJECT)),
            ),
        ],
    )


def purge_trust() -> Policy:
    account_root = Sub(f"{_ARN}:iam::${{AWS::AccountId}}:root")
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="PeopleOfThisAccountWithMfa",
                Effect=Allow,
                Principal=Principal("AWS", account_root),
                Action=[sts.AssumeRole],
                Condition=Condition(Bool("aws:MultiFactorAuthPresent", "true")),
            ),
            Statement(
                # Never the deployer or a workload, whatever their own policies say.
                Sid="NeverTheDeployerOrAWorkload",
                Effect=Deny,
                Principal=Principal("AWS", "*"),
                Action=[sts.AssumeRole],
                Condition=Condition(
                    ArnLike(
                        "aws:PrincipalArn",
                        [
                            Sub(f"{_ARN}:iam::*:role/AWSCloudFormationStackSet*"),
                            Sub(f"{_ARN}:iam::*:role/{ANY_NAME}"),
                        ],
                    )
                ),
            ),
        ],
    )


PARLIAMENT_REASONS = {
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION": "Changing the audit buckets' policies and lifecycle "
    "is this role's purpose (the break-glass path, README Security): it is assumable only with "
    "MFA, never by the deployer or a workload, and the role-change rule alarms on any change "
    "to it.",
}


def purge_role(config: Config, boundary_title: str) -> Role:
    return suppress(
        Role(
            PURGE_ROLE,
            RoleName=config.purge_role_name,
            Description="Break-glass: purge a throw-away environment's data, change audit-bucket "
            "retention settings (MFA required)",
            # One hour: a break-glass session is short.
            MaxSessionDuration=3600,
            PermissionsBoundary=permissions_boundary_arn(),
            AssumeRolePolicyDocument=purge_trust(),
            Policies=[
                InlinePolicy(PolicyName="purge-and-break-glass", PolicyDocument=purge_policy())
            ],
            Tags=[
                {"Key": PROJECT_TAG, "Value": PROJECT},
                {"Key": MANAGED_BY_TAG, "Value": MANAGED_BY},
            ],
            DependsOn=[boundary_title],
        ),
        parliament=PARLIAMENT_REASONS,
    )
