"""The self-managed StackSet roles: an administration role in the administrator account and an
execution role in every target account.

The role names are fixed by CloudFormation StackSets (self-managed permissions look them up by
name). The execution role gets the services this product deploys, scoped to resources named
``payment-*`` wherever the service has resource-level permissions, instead of the
AdministratorAccess that the AWS sample template attaches.
"""

from __future__ import annotations

from typing import NamedTuple

from awacs import sts
from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    ArnLike,
    Condition,
    Deny,
    ForAllValuesStringEquals,
    ForAllValuesStringLike,
    ForAnyValueStringEquals,
    Null,
    Policy,
    Principal,
    Statement,
    StringEquals,
    StringNotEquals,
)
from troposphere import And, Equals, If, Join, Not, Output, Parameter, Ref, Sub, Template
from troposphere.iam import ManagedPolicy, Role
from troposphere.iam import Policy as InlinePolicy

from .boundary import (
    PERMISSIONS_BOUNDARY_NAME,
    permissions_boundary_arn,
    permissions_boundary_document,
)
from .common import suppress
from .config import MANAGED_BY, Config
from .names import (
    ACCESS_LOG_BUCKET,
    ANY_NAME,
    ANY_PARAMETER,
    API_LOG_PREFIX,
    AUDIT_BUCKET,
    LAMBDA_LOG_PREFIX,
    MANAGED_BY_TAG,
    PROJECT,
    PROJECT_TAG,
    TRAIL_LOG_PREFIX,
    WAF_LOG_PREFIX,
    pattern,
)
from .network import boundary_statements, execution_role_statements
from .purge_role import PURGE_ACTIONS, purge_role, purge_role_arn
from .routing import DOMAIN_PARAM, DOMAIN_PATTERN, HOSTED_ZONE_PARAM, HOSTED_ZONE_PATTERN

ADMINISTRATION_ROLE = "AWSCloudFormationStackSetAdministrationRole"
EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"
# The accounts whose execution roles the administration role may assume (deploy's --accounts).
TARGET_ACCOUNTS_PARAM = "TargetAccountIds"

_ARN = "arn:${AWS::Partition}"


def _regional(service: str, resource: str) -> Sub:
    return Sub(f"{_ARN}:{service}:*:${{AWS::AccountId}}:{resource}")


# (sid, service prefix, resources): every action of the service on exactly these resources.
# "*" only where the service has no resource-level permissions for creation (KMS keys and
# Route 53 health checks are named by ids AWS assigns), or the resource is the stack itself.
_GRANTS: list[tuple[str, str, list[object]]] = [
    # StackSetsPrerequisites (below) grants cloudformation:* and s3:* on "*".
    # Keys: granted below, only on keys tagged as this product's (KEY_STATEMENTS).
    ("PaymentsTable", "dynamodb", [_regional("dynamodb", f"table/{ANY_NAME}")]),
    (
        "Functions",
        "lambda",
        [
            _regional("lambda", f"function:{ANY_NAME}"),
            _regional("lambda", "event-source-mapping:*"),
        ],
    ),
    # APIs: only this product's, by tag (API_GATEWAY_STATEMENTS).
    # Certificates: only this product's, by tag (CERTIFICATE_STATEMENTS).
    # Roles: granted below, only with the permissions boundary (ROLE_STATEMENTS).
    (
        "LogGroups",
        "logs",
        [
            _regional("logs", f"log-group:{LAMBDA_LOG_PREFIX}{ANY_NAME}"),
            _regional("logs", f"log-group:{API_LOG_PREFIX}{ANY_NAME}"),
            _regional("logs", f"log-group:{WAF_LOG_PREFIX}{ANY_NAME}"),
            _regional("logs", f"log-group:{TRAIL_LOG_PREFIX}{ANY_NAME}"),
            # The stage's execution-log group, named by API Gateway after the API's generated
            # id ("Set up CloudWatch logging for REST APIs in API Gateway"): no suffix in it.
            _regional("logs", "log-group:API-Gateway-Execution-Logs_*"),
        ],
    ),
    # Web ACLs, IP sets, rule groups and regex sets named payment-* (an ARN is
    # regional/<type>/<name>/<id>: "Actions, resources, and condition keys for AWS WAF V2").
    (
        "WebAcl",
        "wafv2",
        [
            _regional("wafv2", f"regional/{kind}/{ANY_NAME}/*")
            for kind in ("webacl", "ipset", "rulegroup", "regexpatternset")
        ],
    ),
    ("EventRules", "events", [_regional("events", f"rule/{ANY_NAME}")]),
    ("Trail", "cloudtrail", [_regional("cloudtrail", f"trail/{ANY_NAME}")]),
    ("Topics", "sns", [_regional("sns", ANY_NAME)]),
    ("Queues", "sqs", [_regional("sqs", ANY_NAME)]),
    ("Alarms", "cloudwatch", [_regional("cloudwatch", f"alarm:{ANY_NAME}")]),
    # Route 53: health checks and the configured zone only (ROUTE53_STATEMENTS).
    ("Parameters", "ssm", [_regional("ssm", f"parameter/{ANY_PARAMETER}")]),
    # No Secrets Manager: nothing shared and secret is left (clients authenticate one by one).
]


STACKSETS_PREREQUISITES_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html"

# "Grant self-managed permissions" (page above), "Control the resources that users can include
# in specific stack sets": whatever else it grants, the execution role must always allow
# cloudformation:* and s3:* on "*"; StackSets creates the instance stacks through CloudFormation
# and uses S3 (buckets of its own, so no bucket of this product can be named) to report
# stack-instance state. The sns:* the page used to require was dropped on 31 October 2022.
STACKSETS_PREREQUISITE_ACTIONS = ("cloudformation:*", "s3:*")
PREREQUISITES_METADATA = {
    "StackSetsPrerequisites": {
        "actions": list(STACKSETS_PREREQUISITE_ACTIONS),
        "resource": "*",
        "reason": "StackSets' documented minimum for a self-managed execution role: full "
        "CloudFormation to run the instance stacks, and the S3 actions StackSets uses to record "
        "stack-instance state in buckets it owns (so they cannot be scoped to this product's).",
        "source": STACKSETS_PREREQUISITES_PAGE,
    }
}

# The two StackSet roles keep inline policies (every other role has a customer managed one).
STACKSET_ROLE_INLINE_REASON = (
    "Inline on purpose: IAM keeps an inline policy in a strict one-to-one relationship with its "
    'role and deletes it with the role (IAM User Guide, "Managed policies and inline policies"), '
    "so the deployer's permissions can never be attached to another principal; and the execution "
    "role's policy, about 7,500 characters resolved, is over a managed policy's 6,144."
)
EXECUTION_ROLE_SUPPRESSIONS = {
    "CKV_AWS_108": "s3:* on * is the minimum StackSets documents for a self-managed execution "
    "role (Grant self-managed permissions: StackSets records stack-instance state in S3 "
    "buckets of its own, which no narrower Resource can name); the role is assumable only by "
    "the StackSet administration role.",
    "CKV_AWS_109": "The execution role is the deployment identity: it must create and update "
    "this product's IAM roles and key policies. It is limited to roles named "
    f"{ANY_NAME}, "
    "is assumable only by the StackSet administration role, and is used only by CloudFormation.",
    "CKV_AWS_111": "Deploying means writing resources: writes are limited to resources named "
    f"{ANY_NAME} wherever the service has resource-level permissions (KMS keys, Route 53 health "
    "checks and log delivery have none at creation).",
}


BOUNDARY_REASON = (
    "A permissions boundary is a ceiling that grants nothing by itself: each role's own policy "
    "names the exact resources, and the boundary caps the actions any payment role can ever "
    "use (the data-path calls), with iam and sts denied outright and destructive calls denied "
    "to all but the break-glass purge role."
)

EXECUTION_ROLE_PARLIAMENT = {
    "UNKNOWN_CONDITION_FOR_ACTION": "The PaymentBucketsOfTheseAccountsOnly deny names s3:* on "
    f"{ANY_NAME} buckets; the account-level S3 actions in s3:* carry no s3:ResourceAccount, and "
    "the deny's Null guard leaves them alone (they name no bucket).",
    "RESOURCE_MISMATCH": f"Each service grant is service:* on {ANY_NAME} resources, so the "
    "service's actions that IAM authorises on * only are not granted by it; the ones the "
    "resource handlers call are granted separately (HandlerActionsWithoutResourceLevel).",
    "RESOURCE_STAR": "KMS keys and Route 53 health checks get ids only when created, so their "
    "grants cannot name them in advance; the handler actions granted on * are the ones IAM "
    "authorises on * only (HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL, checked by a test); "
    "cloudformation:* and s3:* on * are StackSets' documented prerequisites (Metadata "
    "StackSetsPrerequisites).",
}


# Actions the CloudFormation resource handlers of this product's resource types call (their
# provider schemas' handler permissions) that IAM authorises on "*" only, so the service
# statements above, scoped to payment-* resources, cannot grant them. Kept honest by
# tests/security/test_execution_role.py, which recomputes the list from the provider schemas
# shipped with cfn-lint and parliament's IAM action database.
HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL = (
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingActivities",
    "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScheduledActions",
    "cloudwatch:PutMetricData",
    "dynamodb:DescribeEndpoints",
    "dynamodb:DescribeLimits",
    "dynamodb:DescribeReservedCapacity",
    "dynamodb:DescribeReservedCapacityOfferings",
    "kms:ListAliases",
    "lambda:CreateEventSourceMapping",
    "logs:CreateLogDelivery",
    "logs:DeleteIndexPolicy",
    "logs:DeleteLogDelivery",
    "logs:DeleteResourcePolicy",
    "logs:DescribeIndexPolicies",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:PutIndexPolicy",
    "logs:PutResourcePolicy",
    "route53:ListHostedZones",
    "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes",
    "sns:Unsubscribe",
)


# Regions introduced after 20 March 2019, disabled until an account enables them ("Enable or
# disable AWS Regions in your account", AWS Account Management Reference Guide).
OPT_IN_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2",
        "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
    }
)  # fmt: skip


def cloudformation_principals(config: Config) -> list[str]:
    """Who may assume the administration role: CloudFormation, and in each opt-in target
    region its regional service principal, which StackSets uses there ("Prepare to perform
    StackSet operations in AWS Regions that are disabled by default")."""
    regional = [
        f"cloudformation.{region}.amazonaws.com"
        for region in sorted(set(config.regions) & OPT_IN_REGIONS)
    ]
    return ["cloudformation.amazonaws.com", *regional]


_PAYMENT_ROLES = Sub(f"{_ARN}:iam::${{AWS::AccountId}}:role/{ANY_NAME}")

# IAM actions whose request carries the role's (new) boundary as iam:PermissionsBoundary
# ("IAM condition keys": iam:PermissionsBoundary).
BOUNDED_ROLE_ACTIONS = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
OTHER_ROLE_ACTIONS = (
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
# The customer managed policies of this product's roles (templates_src/iam.py), whose names
# start payment-: the calls of the AWS::IAM::ManagedPolicy handler (its resource schema). No
# TagPolicy: the resource type takes no tags. Attaching one to a role is iam:AttachRolePolicy,
# granted only with the boundary above; the boundary itself stays denied (KeepTheBoundary).
_PAYMENT_POLICIES = Sub(f"{_ARN}:iam::${{AWS::AccountId}}:policy/{ANY_NAME}")
POLICY_ACTIONS = (
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListEntitiesForPolicy",
    "iam:ListPolicyVersions",
)
# The services this product's roles are passed to: functions, API Gateway's logging role, and
# the optional trail's CloudWatch Logs role.
PASSED_TO_SERVICES = (
    "apigateway.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "lambda.amazonaws.com",
)


def _actions(names: tuple[str, ...]) -> list[Action]:
    return [Action(*name.split(":")) for name in names]


def _health_check_statements() -> list[Statement]:
    return [
        Statement(
            Sid="CreateHealthChecks",
            Effect=Allow,
            Action=[Action("route53", "CreateHealthCheck")],
            Resource=["*"],  # Route 53 authorises creation on * only
        ),
        Statement(
            Sid="HealthChecks",
            Effect=Allow,
            Action=[
                Action("route53", n)
                for n in (
                    "ChangeTagsForResource",
                    "DeleteHealthCheck",
                    "GetHealthCheck",
                    "ListTagsForResource",
                    "UpdateHealthCheck",
                )
            ],
            Resource=[Sub(f"{_ARN}:route53:::healthcheck/*")],
        ),
    ]


def _zone_read_statements(zone_arn: Sub) -> list[Statement]:
    """The configured zone's records, and the status of the changes made to them."""
    return [
        Statement(
            Sid="ReadTheConfiguredZone",
            Effect=Allow,
            Action=[Action("route53", n) for n in ("GetHostedZone", "ListResourceRecordSets")],
            Resource=[zone_arn],
        ),
        Statement(
            Sid="ChangeChangeStatus",
            Effect=Allow,
            Action=[Action("route53", "GetChange")],
            Resource=[Sub(f"{_ARN}:route53:::change/*")],
        ),
    ]


def _record_change_statements(zone_arn: Sub, domain: object) -> list[Statement]:
    """Record changes for the configured name only: its A/AAAA alias records and its ACM
    validation CNAMEs."""
    names = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    types = "route53:ChangeResourceRecordSetsRecordTypes"
    return [
        Statement(
            Sid="FailoverRecordsOfTheConfiguredName",
            Effect=Allow,
            Action=[Action("route53", "ChangeResourceRecordSets")],
            Resource=[zone_arn],
            # Like, not Equals: without a configured name the value is the wildcard "*".
            Condition=Condition(
                [
                    ForAllValuesStringLike(names, domain),
                    ForAllValuesStringEquals(types, ["A", "AAAA"]),
                ]
            ),
        ),
        Statement(
            Sid="CertificateValidationRecords",
            Effect=Allow,
            Action=[Action("route53", "ChangeResourceRecordSets")],
            Resource=[zone_arn],
            Condition=Condition(
                [
                    ForAllValuesStringLike(names, Sub("_*.${Name}", Name=domain)),
                    ForAllValuesStringEquals(types, ["CNAME"]),
                ]
            ),
        ),
    ]


def route53_statements(zone: object, domain: object) -> list[Statement]:
    """Health checks, and record changes only in the configured hosted zone, only for the
    configured name (A/AAAA alias records) and its ACM validation records (CNAME
    ``_<token>.<name>``), by Route 53's record condition keys ("Using IAM policy conditions
    for fine-grained access control to manage resource record sets")."""
    zone_arn = Sub(f"{_ARN}:route53:::hostedzone/${{Zone}}", Zone=zone)
    return (
        _health_check_statements()
        + _zone_read_statements(zone_arn)
        + _record_change_statements(zone_arn, domain)
    )


def certificate_statements() -> list[Statement]:
    """The custom domain's certificates only: requested with this product's Project tag,
    changed and deleted only while they carry it (ACM's aws:RequestTag / aws:ResourceTag)."""
    return [
        Statement(
            Sid="RequestCertificatesTaggedAsThisProducts",
            Effect=Allow,
            Action=[Action("acm", "RequestCertificate")],
            Resource=["*"],  # a certificate has no ARN before it is requested
            Condition=Condition(StringEquals(f"aws:RequestTag/{PROJECT_TAG}", PROJECT)),
        ),
        Statement(
            Sid="ManageOnlyThisProductsCertificates",
            Effect=Allow,
            Action=[Action("acm", "*")],
            Resource=[_regional("acm", "certificate/*")],
            Condition=Condition(StringEquals(f"aws:ResourceTag/{PROJECT_TAG}", PROJECT)),
        ),
    ]


def _apigateway(path: str) -> Sub:
    return Sub(f"{_ARN}:apigateway:*::{path}")


def api_gateway_statements() -> list[Statement]:
    """This product's APIs and custom domains only, by tag ("Using tags to control access to
    API Gateway REST API resources"; condition keys from "Actions, resources, and condition
    keys for Amazon API Gateway Management"):

    - created (``POST /restapis``, ``POST /domainnames``) only with the Project tag
      (``aws:RequestTag``);
    - used, changed and deleted only while they carry it (``aws:ResourceTag``). A REST API's
      resources, methods, deployments and stages, and a domain's base path mappings, inherit
      their parent's tags for access control ("API Gateway resources that can be tagged"), so
      one condition covers the whole API;
    - tags (``/tags/<arn>``, a resource type with no tag condition keys) may be read, set and
      removed, but the Project tag never set after creation: tagging someone else's API as
      this product's would hand it to the deployer;
    - the account's logging setting (``/account``, no tags exist for it).

    ``/apikeys`` and ``/usageplans`` explicitly denied: nothing of this product uses them, and
    an API key's value is a credential (``GET /apikeys/<id>?includeValue=true``).

    Long because the statements are the list above, in its order, and each allow sits next to
    the deny that bounds it (``Tags`` and ``NeverTagAnApiAsThisProducts``): split, a reviewer
    would have to join them again to see what the deployer may do to an API."""
    tag = f"aws:ResourceTag/{PROJECT_TAG}"
    return [
        Statement(
            Sid="CreateApisTaggedAsThisProducts",
            Effect=Allow,
            Action=[Action("apigateway", "POST")],
            Resource=[_apigateway("/restapis"), _apigateway("/domainnames")],
            Condition=Condition(StringEquals(f"aws:RequestTag/{PROJECT_TAG}", PROJECT)),
        ),
        Statement(
            Sid="OnlyThisProductsApis",
            Effect=Allow,
            Action=[Action("apigateway", "*")],
            Resource=[_apigateway("/restapis/*"), _apigateway("/domainnames/*")],
            Condition=Condition(StringEquals(tag, PROJECT)),
        ),
        Statement(
            Sid="Tags",
            Effect=Allow,
            Action=[Action("apigateway", verb) for verb in ("GET", "PUT", "DELETE")],
            Resource=[_apigateway("/tags/*")],
        ),
        Statement(
            Sid="NeverTagAnApiAsThisProducts",
            Effect=Deny,
            Action=[Action("apigateway", "PUT")],
            Resource=[_apigateway("/tags/*")],
            Condition=Condition(ForAnyValueStringEquals("aws:TagKeys", [PROJECT_TAG])),
        ),
        Statement(
            # API key values are credentials and nothing of this product uses keys or usage
            # plans any more: no reading, creating or changing them, whatever else is granted.
            Sid="NoApiKeysOrUsagePlans",
            Effect=Deny,
            Action=[Action("apigateway", "*")],
            Resource=[
                _apigateway(path)
                for path in ("/apikeys", "/apikeys/*", "/usageplans", "/usageplans/*")
            ],
        ),
        Statement(
            Sid="AccountLoggingSetting",
            Effect=Allow,
            Action=[Action("apigateway", verb) for verb in ("GET", "PATCH")],
            Resource=[_apigateway("/account")],
        ),
    ]


def s3_account_statements(administrator: object) -> list[Statement]:
    """S3 ARNs name no account, so ``payment-*`` would match buckets of that name in any
    account. ``s3:ResourceAccount`` (the bucket owner's account, "Actions, resources, and
    condition keys for Amazon S3") limits every S3 call on such a bucket to this account and
    the administrator account (whose artifact bucket holds the functions' code). Denied only
    when S3 supplies the key (``Null`` false): StackSets' own S3 calls on buckets of its own
    (the prerequisite ``s3:*`` on ``*``) are not ``payment-*`` and stay as documented."""
    return [
        Statement(
            Sid="PaymentBucketsOfTheseAccountsOnly",
            Effect=Deny,
            Action=[Action("s3", "*")],
            Resource=[Sub(f"{_ARN}:s3:::{ANY_NAME}"), Sub(f"{_ARN}:s3:::{ANY_NAME}/*")],
            Condition=Condition(
                [
                    Null("s3:ResourceAccount", "false"),
                    StringNotEquals("s3:ResourceAccount", [Ref("AWS::AccountId"), administrator]),
                ]
            ),
        )
    ]


def purge_role_protection(config: Config) -> list[Statement]:
    """The purge role is named ``payment-*`` like the roles the deployer manages: without this
    deny, the deployer could rewrite its trust policy and assume it."""
    return [
        Statement(
            Sid="ProtectThePurgeRole",
            Effect=Deny,
            Action=[Action("iam", "*"), Action("sts", "*")],
            Resource=[purge_role_arn(config)],
        )
    ]


def key_statements() -> list[Statement]:
    """Keys of this product only: created with its Project tag, used and changed only while
    they carry it ("ABAC for AWS KMS": aws:RequestTag, aws:ResourceTag), aliases payment-*."""
    return [
        Statement(
            Sid="CreateKeysTaggedAsThisProducts",
            Effect=Allow,
            Action=[Action("kms", "CreateKey")],
            Resource=["*"],  # a key has no ARN before it exists
            Condition=Condition(StringEquals(f"aws:RequestTag/{PROJECT_TAG}", PROJECT)),
        ),
        Statement(
            Sid="ManageOnlyThisProductsKeys",
            Effect=Allow,
            Action=[Action("kms", "*")],
            Resource=[_regional("kms", "key/*")],
            Condition=Condition(StringEquals(f"aws:ResourceTag/{PROJECT_TAG}", PROJECT)),
        ),
        Statement(
            Sid="ThisProductsAliases",
            Effect=Allow,
            Action=[Action("kms", n) for n in ("CreateAlias", "DeleteAlias", "UpdateAlias")],
            Resource=[_regional("kms", f"alias/{ANY_NAME}")],
        ),
    ]


def data_protection_statements() -> list[Statement]:
    """Explicit denies that keep the data out of the deployer's reach, whatever else it is
    granted (an explicit deny wins over every allow: "Policy evaluation logic").

    ``s3:DeleteBucket`` stays allowed: S3 deletes only an empty bucket ("Deleting a general
    purpose bucket"), audit objects are locked and their versions cannot be deleted (below), and
    a failed first create must be able to remove the empty buckets it made
    (``RetainExceptOnCreate``), or every retry fails "already exists"."""
    audit_buckets = [
        Sub(f"{_ARN}:s3:::{pattern(AUDIT_BUCKET)}"),
        Sub(f"{_ARN}:s3:::{pattern(ACCESS_LOG_BUCKET)}"),
    ]
    return [
        Statement(
            # Audit objects (and their access logs) are never deleted or unlocked by a deploy.
            Sid="NeverDeleteAuditObjectVersions",
            Effect=Deny,
            Action=[
                Action("s3", "DeleteObjectVersion"),
                Action("s3", "BypassGovernanceRetention"),
                Action("s3", "PutObjectRetention"),
                Action("s3", "PutObjectLegalHold"),
            ],
            Resource=[Sub("${Bucket}/*", Bucket=bucket) for bucket in audit_buckets],
        ),
        Statement(
            # A point-in-time export copies every payment out of the table.
            Sid="NeverExportPayments",
            Effect=Deny,
            Action=[Action("dynamodb", "ExportTableToPointInTime")],
            Resource=["*"],
        ),
        Statement(
            # A function URL is a second, unauthenticated way past the API, WAF and usage plan.
            Sid="NoFunctionUrls",
            Effect=Deny,
            Action=[
                Action("lambda", "CreateFunctionUrlConfig"),
                Action("lambda", "UpdateFunctionUrlConfig"),
            ],
            Resource=["*"],
        ),
    ]


def role_statements() -> list[Statement]:
    """Role management for this product's roles, never without the permissions boundary."""
    boundary = permissions_boundary_arn()
    return [
        Statement(
            Sid="RolesOnlyWithTheBoundary",
            Effect=Allow,
            Action=_actions(BOUNDED_ROLE_ACTIONS),
            Resource=[_PAYMENT_ROLES],
            Condition=Condition(ArnEquals("iam:PermissionsBoundary", boundary)),
        ),
        Statement(
            Sid="RoleLifecycle",
            Effect=Allow,
            Action=_actions(OTHER_ROLE_ACTIONS),
            Resource=[_PAYMENT_ROLES],
        ),
        Statement(
            Sid="ThisProductsRolePolicies",
            Effect=Allow,
            Action=_actions(POLICY_ACTIONS),
            Resource=[_PAYMENT_POLICIES],
        ),
        Statement(
            Sid="PassRolesToTheirServices",
            Effect=Allow,
            Action=[Action("iam", "PassRole")],
            Resource=[_PAYMENT_ROLES],
            Condition=Condition(StringEquals("iam:PassedToService", list(PASSED_TO_SERVICES))),
        ),
        Statement(
            # Whatever else is granted: the boundary stays on every role and stays as it is.
            Sid="KeepTheBoundary",
            Effect=Deny,
            Action=[
                Action("iam", "DeleteRolePermissionsBoundary"),
                Action("iam", "CreatePolicyVersion"),
                Action("iam", "DeletePolicy"),
                Action("iam", "DeletePolicyVersion"),
                Action("iam", "SetDefaultPolicyVersion"),
            ],
            Resource=[_PAYMENT_ROLES, boundary],
        ),
    ]


class _RoleParameters(NamedTuple):
    """The template's parameters, in the console's two groups."""

    admin_account: Parameter
    target_accounts: Parameter
    hosted_zone: Parameter
    domain_name: Parameter


def _trust_parameters(template: Template) -> tuple[Parameter, Parameter]:
    """Who may deploy through the roles: the administrator account and the target accounts."""
    admin_account = template.add_parameter(
        Parameter(
            "AdministratorAccountId",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^\d{12}$",
            ConstraintDescription="a 12-digit AWS account id, or empty for this account",
            Description="Account whose administration role may assume the execution role; "
            "empty means the account this stack is created in.",
        )
    )
    target_accounts = template.add_parameter(
        Parameter(
            TARGET_ACCOUNTS_PARAM,
            Type="CommaDelimitedList",
            Default="",
            Description="Accounts the administration role may deploy to (their execution "
            "roles); empty means only the account this stack is created in.",
        )
    )
    return admin_account, target_accounts


def _domain_parameters(template: Template) -> tuple[Parameter, Parameter]:
    """The custom domain whose records the execution role may change, if any."""
    hosted_zone = template.add_parameter(
        Parameter(
            HOSTED_ZONE_PARAM,
            Type="String",
            Default="",
            # As the service templates and deploy's --hosted-zone-id take it: a zone deploy
            # accepts is one the roles accept.
            AllowedPattern=HOSTED_ZONE_PATTERN,
            ConstraintDescription="a Route 53 hosted zone id, or empty",
            Description="The one hosted zone whose records the execution role may change (the "
            "custom domain's zone); empty (with DomainName): any zone of the account, alias "
            "and validation records only.",
        )
    )
    domain_name = template.add_parameter(
        Parameter(
            DOMAIN_PARAM,
            Type="String",
            Default="",
            AllowedPattern=DOMAIN_PATTERN,
            ConstraintDescription="a lower-case domain name without the trailing dot, or empty",
            Description="The custom domain the execution role may point (and validate) in "
            "HostedZoneId; empty: any name.",
        )
    )
    return hosted_zone, domain_name


def _set_interface(template: Template, params: _RoleParameters) -> None:
    """The console's parameter form: the two groups and their labels."""
    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {
                        "Label": {"default": "StackSet trust"},
                        "Parameters": [params.admin_account.title, params.target_accounts.title],
                    },
                    {
                        "Label": {"default": "Custom domain (optional)"},
                        "Parameters": [params.hosted_zone.title, params.domain_name.title],
                    },
                ],
                "ParameterLabels": {
                    params.admin_account.title: {"default": "Administrator account id (optional)"},
                    params.target_accounts.title: {"default": "Target account ids (optional)"},
                    params.hosted_zone.title: {"default": "Hosted zone id (optional)"},
                    params.domain_name.title: {"default": "Domain name (optional)"},
                },
            }
        }
    )


def _add_parameters(template: Template) -> _RoleParameters:
    params = _RoleParameters(*_trust_parameters(template), *_domain_parameters(template))
    _set_interface(template, params)
    return params


def _add_conditions(template: Template, params: _RoleParameters) -> None:
    template.add_condition("SameAccount", Equals(Ref(params.admin_account), ""))
    # Without a configured zone the role may still change only A/AAAA alias and validation
    # CNAME records, in any zone; with one, only that zone and that name.
    template.add_condition(
        "ZoneConfigured",
        And(Not(Equals(Ref(params.hosted_zone), "")), Not(Equals(Ref(params.domain_name), ""))),
    )
    template.add_condition("OnlyThisAccount", Equals(Join("", Ref(params.target_accounts)), ""))


def _role_tags() -> list[dict[str, str]]:
    return [
        {"Key": PROJECT_TAG, "Value": PROJECT},
        {"Key": MANAGED_BY_TAG, "Value": MANAGED_BY},
    ]


def _administration_trust(config: Config) -> Policy:
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", cloudformation_principals(config)),
                Action=[sts.AssumeRole],
                # Only for this account's stack sets ("Cross-service confused deputy
                # prevention", IAM User Guide).
                Condition=Condition(
                    [
                        StringEquals("aws:SourceAccount", Ref("AWS::AccountId")),
                        ArnLike(
                            "aws:SourceArn",
                            Sub(f"{_ARN}:cloudformation:*:${{AWS::AccountId}}:stackset/*"),
                        ),
                    ]
                ),
            )
        ],
    )


def _assume_execution_role_policy(targets: object) -> InlinePolicy:
    return InlinePolicy(
        PolicyName="assume-execution-role",
        PolicyDocument=Policy(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Sid="AssumeExecutionRoleInTargetAccounts",
                    Effect=Allow,
                    Action=[sts.AssumeRole],
                    # The role name is the one StackSets fixes; the accounts are the configured
                    # targets only.
                    Resource=[Sub(f"{_ARN}:iam::*:role/{EXECUTION_ROLE}")],
                    Condition=Condition(StringEquals("aws:ResourceAccount", targets)),
                )
            ],
        ),
    )


def _administration_role(config: Config, targets: object) -> Role:
    """The administrator account's role: CloudFormation assumes it, it assumes the execution
    role of the target accounts."""
    return suppress(
        Role(
            "AdministrationRole",
            RoleName=ADMINISTRATION_ROLE,
            Description="Assumed by CloudFormation StackSets to reach the target accounts",
            AssumeRolePolicyDocument=_administration_trust(config),
            Policies=[_assume_execution_role_policy(targets)],
            Tags=_role_tags(),
        ),
        guard={"IAM_NO_INLINE_POLICY_CHECK": STACKSET_ROLE_INLINE_REASON},
    )


def _execution_trust(administrator: object) -> Policy:
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal(
                    "AWS",
                    Sub(f"{_ARN}:iam::${{Admin}}:role/{ADMINISTRATION_ROLE}", Admin=administrator),
                ),
                Action=[sts.AssumeRole],
            )
        ],
    )


def _prerequisite_statement() -> Statement:
    return Statement(
        # Required whatever the template (Metadata says why).
        Sid="StackSetsPrerequisites",
        Effect=Allow,
        Action=_actions(STACKSETS_PREREQUISITE_ACTIONS),
        Resource=["*"],
    )


def _service_grant_statements() -> list[Statement]:
    """Every action of each service in ``_GRANTS`` on exactly its resources."""
    return [
        Statement(Sid=sid, Effect=Allow, Action=[Action(service, "*")], Resource=resources)
        for sid, service, resources in _GRANTS
    ]


def _handler_actions_statement() -> Statement:
    return Statement(
        # Handler calls that IAM authorises on "*" only (see
        # HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL).
        Sid="HandlerActionsWithoutResourceLevel",
        Effect=Allow,
        Action=_actions(HANDLER_ACTIONS_WITHOUT_RESOURCE_LEVEL),
        Resource=["*"],
    )


def _service_linked_role_statements() -> list[Statement]:
    """The two service-linked roles the deployed services create on first use, and no other."""
    return [
        Statement(
            # The first global table in an account creates DynamoDB's replication
            # service-linked role; nothing else may be made.
            Sid="DynamoDbReplicationServiceRole",
            Effect=Allow,
            Action=[Action("iam", "CreateServiceLinkedRole")],
            Resource=[
                Sub(
                    f"{_ARN}:iam::${{AWS::AccountId}}:role/aws-service-role/"
                    "replication.dynamodb.amazonaws.com/"
                    "AWSServiceRoleForDynamoDBReplication"
                )
            ],
            Condition=Condition(
                StringEquals("iam:AWSServiceName", "replication.dynamodb.amazonaws.com")
            ),
        ),
        Statement(
            # API Gateway creates its service-linked role for a custom domain and, in a fresh
            # account, for the first API ("Using service-linked roles for API Gateway").
            Sid="ApiGatewayServiceRole",
            Effect=Allow,
            Action=[Action("iam", "CreateServiceLinkedRole")],
            Resource=[
                Sub(
                    f"{_ARN}:iam::${{AWS::AccountId}}:role/aws-service-role/"
                    "ops.apigateway.amazonaws.com/"
                    "AWSServiceRoleForAPIGateway"
                )
            ],
            Condition=Condition(StringEquals("iam:AWSServiceName", "ops.apigateway.amazonaws.com")),
        ),
    ]


def _deployer_statements(
    config: Config, params: _RoleParameters, administrator: object
) -> list[Statement]:
    """The execution role's policy, statement group by statement group."""
    return (
        [_prerequisite_statement()]
        + _service_grant_statements()
        + route53_statements(
            If("ZoneConfigured", Ref(params.hosted_zone), "*"),
            If("ZoneConfigured", Ref(params.domain_name), "*"),
        )
        + api_gateway_statements()
        + key_statements()
        + certificate_statements()
        + data_protection_statements()
        + s3_account_statements(administrator)
        + role_statements()
        + execution_role_statements(config)
        + purge_role_protection(config)
        + [_handler_actions_statement()]
        + _service_linked_role_statements()
    )


def _execution_role(config: Config, params: _RoleParameters, administrator: object) -> Role:
    """Each target account's role: the administration role assumes it, CloudFormation deploys
    the payment stacks with it."""
    return suppress(
        Role(
            "ExecutionRole",
            RoleName=EXECUTION_ROLE,
            Description="Assumed by the StackSet administration role to create payment stacks",
            AssumeRolePolicyDocument=_execution_trust(administrator),
            Policies=[
                InlinePolicy(
                    PolicyName=f"deploy-{PROJECT}",
                    PolicyDocument=Policy(
                        Version="2012-10-17",
                        Statement=_deployer_statements(config, params, administrator),
                    ),
                )
            ],
            Tags=_role_tags(),
            Metadata=PREREQUISITES_METADATA,
        ),
        checkov=EXECUTION_ROLE_SUPPRESSIONS,
        parliament=EXECUTION_ROLE_PARLIAMENT,
        guard={"IAM_NO_INLINE_POLICY_CHECK": STACKSET_ROLE_INLINE_REASON},
    )


def _permissions_boundary(config: Config) -> ManagedPolicy:
    return suppress(
        ManagedPolicy(
            "PermissionsBoundary",
            ManagedPolicyName=PERMISSIONS_BOUNDARY_NAME,
            Description="Permissions boundary of every role the payment templates create",
            PolicyDocument=permissions_boundary_document(
                purge_role_arn(config), PURGE_ACTIONS, boundary_statements(config)
            ),
        ),
        checkov={"CKV_AWS_111": BOUNDARY_REASON},
        parliament={"RESOURCE_STAR": BOUNDARY_REASON},
    )


def build_stackset_roles(config: Config) -> Template:
    """The StackSet roles template: parameters and conditions, the administration role, the
    execution role, the permissions boundary and the break-glass purge role."""
    template = Template(
        Description="Self-managed StackSet roles for the payment infrastructure: the "
        "administration role (administrator account) and the execution role (target accounts)."
    )
    template.set_version("2010-09-09")
    params = _add_parameters(template)
    _add_conditions(template, params)
    targets = If("OnlyThisAccount", [Ref("AWS::AccountId")], Ref(params.target_accounts))
    administrator = If("SameAccount", Ref("AWS::AccountId"), Ref(params.admin_account))
    admin_role = template.add_resource(_administration_role(config, targets))
    execution_role = template.add_resource(_execution_role(config, params, administrator))
    boundary = template.add_resource(_permissions_boundary(config))
    # IAM is global: the break-glass role is made once per account, here, not by a stack set.
    template.add_resource(purge_role(config, boundary.title))
    template.add_output(Output("AdministrationRoleArn", Value=Sub(f"${{{admin_role.title}.Arn}}")))
    template.add_output(Output("ExecutionRoleArn", Value=Sub(f"${{{execution_role.title}.Arn}}")))
    return template
