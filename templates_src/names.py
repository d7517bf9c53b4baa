"""The one owner of every name the generator and the tools share.

Resource names, template parameter and output names, tag keys, stack-set and stack names are
written here once; the templates (through ``common``), the proof against AWS's limits
(``naming``), deploy, plan, delete, the emulator, the local API, the drill and the tests read
them from here. Each name formula takes its parts as text, so the same function gives the
concrete name (``resource("dev", "payments")``) and the ``Fn::Sub`` text a template declares
(``resource(SUB_SUFFIX, "payments")``): the two cannot drift apart.

The audit object key layout is the handler's (``handler.audit.audit_key``): the Lambda package
imports nothing from here, and the tools import it from the handler.
"""

from __future__ import annotations

# Every resource that takes a name is payment-<suffix>-<thing>.
PREFIX = "payment"
# What every name of every deployment starts with: an EventBridge or log-group prefix match.
NAME_PREFIX = f"{PREFIX}-"
# An IAM or ARN wildcard over every name of every deployment (and the account's own names).
ANY_NAME = f"{NAME_PREFIX}*"
# The SSM parameters of every deployment, as an ARN names them (the path without its first /).
ANY_PARAMETER = f"{PREFIX}/*"

# --- template parameters ---------------------------------------------------------------------
SUFFIX_PARAM = "EnvironmentSuffix"
ARTIFACT_BUCKET_PARAM = "ArtifactBucketName"
ARTIFACT_PREFIX_PARAM = "ArtifactBucketPrefix"
CODE_KEY_PARAM = "HandlerCodeKey"
ALARM_EMAIL_PARAM = "AlarmEmail"
PROCESSOR_CONCURRENCY_PARAM = "ProcessorReservedConcurrency"
AUDIT_CONCURRENCY_PARAM = "AuditWriterReservedConcurrency"
ENABLE_WAF_PARAM = "EnableWaf"
WAF_EXCEPTION_PARAM = "WafExceptionReason"

# The ``Fn::Sub`` variables a template names a resource with.
SUB_SUFFIX = f"${{{SUFFIX_PARAM}}}"
SUB_ACCOUNT = "${AWS::AccountId}"
SUB_REGION = "${AWS::Region}"

# --- tags (CONTRACT §1) ----------------------------------------------------------------------
SUFFIX_TAG = "EnvironmentSuffix"
ENVIRONMENT_TAG = "Environment"
PROJECT_TAG = "Project"
MANAGED_BY_TAG = "ManagedBy"

# --- the <thing> of each named resource ------------------------------------------------------
TABLE = "payments"
PROCESSOR_FUNCTION = "processor"
AUDIT_WRITER_FUNCTION = "audit-writer"
API = "api"
AUDIT_BUCKET = "audit"
# "logs", not "access-logs": with a 20-character suffix, a 12-digit account and a 15-character
# region, "access-logs" made 70 of S3's 63 characters (Bucket naming rules).
ACCESS_LOG_BUCKET = "logs"
TRAIL_BUCKET = "trail"
# The optional CloudTrail trail, and its log group under CloudTrail's usual prefix.
TRAIL = "trail"
TRAIL_LOG_PREFIX = "/aws/cloudtrail/"
# "code", not "artifacts": a 20-character suffix leaves 4 characters for the word within the
# artifact prefix's limit (common.ARTIFACT_PREFIX_MAX).
CODE_BUCKET = "code"
# A client's role (and its stack) is payment-<suffix>-client-<client_id>.
CLIENT_ROLE = "client-"
# Log groups AWS names by service: the resource name follows the service's own prefix.
LAMBDA_LOG_PREFIX = "/aws/lambda/"
API_LOG_PREFIX = "/aws/apigateway/"
# WAF requires its CloudWatch log group names to start with aws-waf-logs- (AWS WAF Developer
# Guide, "Sending web ACL traffic logs to an Amazon CloudWatch Logs log group").
WAF_LOG_PREFIX = "aws-waf-logs-"

# --- outputs of the regional templates -------------------------------------------------------
TABLE_OUTPUT = "TableName"
AUDIT_BUCKET_OUTPUT = "AuditBucketName"
API_URL_OUTPUT = "ApiUrl"
API_ID_OUTPUT = "ApiId"
HEALTH_CHECK_OUTPUT = "HealthCheckId"
REGIONAL_DOMAIN_OUTPUT = "RegionalDomainName"
CUSTOM_DOMAIN_URL_OUTPUT = "CustomDomainUrl"

# --- stack sets and stacks -------------------------------------------------------------------
# The replica regions' keys and buckets come before the primary's global table; the standby
# service in the replica regions needs the table replica the primary made.
DEPLOY_ORDER = ("replica", "primary", "standby")
DELETE_ORDER = tuple(reversed(DEPLOY_ORDER))
# The StackSet roles' stack (deploy --bootstrap), one per account.
ROLES_STACK = f"{NAME_PREFIX}stackset-roles"
# The account baseline's stack set: one per account, shared by every environment, so outside
# the payment-<suffix>-* names an environment's discovery and delete act on.
ACCOUNT_BASELINE_STACK_SET = "PaymentAccountBaseline"
# StackSets names each instance's stack StackSet-<stack set name>-<36-character id>, as the
# stacks it creates show (the form is not a documented contract).
STACK_INSTANCE_PREFIX = "StackSet-"

# --- names of the product, not of one deployment: payment-<thing>, no suffix -----------------
# The managed policy every role of the product carries as its permissions boundary.
PERMISSIONS_BOUNDARY = f"{NAME_PREFIX}permissions-boundary"
# The break-glass role's default name (Config.purge_role_name): it matches ANY_NAME, so the
# deployer's grants on payment-* roles need their explicit deny of it.
PURGE_ROLE = f"{NAME_PREFIX}data-purge"
# The account baseline as a plain stack, as taskcat's runs create it (deploy uses the stack set).
ACCOUNT_BASELINE_STACK = f"{NAME_PREFIX}account-baseline"
# API Gateway's CloudWatch role (and its policy) of the account baseline, one per region.
API_LOGGING_ROLE = f"{NAME_PREFIX}apigateway-cloudwatch"
# The Project tag's value on every resource (CONTRACT §1).
PROJECT = f"{NAME_PREFIX}infrastructure"
# The log groups' data protection policy (templates_src/logs.py).
CARD_NUMBER_POLICY = f"{NAME_PREFIX}card-numbers"
# The common name of a client's CA is this and the client id (mTLS; handler/clients.py keeps a
# copy, the Lambda package imports nothing from here).
CLIENT_CA_PREFIX = f"{NAME_PREFIX}client-ca-"


def resource(suffix: str, thing: str) -> str:
    """``payment-<suffix>-<thing>``, the name of every resource that takes one."""
    return f"{deployment(suffix)}-{thing}"


def deployment(suffix: str) -> str:
    """``payment-<suffix>``: how descriptions and messages name one deployment."""
    return f"{PREFIX}-{suffix}"


def prefix(suffix: str) -> str:
    """What every name of the deployment ``suffix`` starts with."""
    return resource(suffix, "")


def pattern(thing: str) -> str:
    """``payment-*-<thing>-*``: an IAM wildcard over the ``thing`` of every deployment, as
    ``regional_bucket`` names them (``pattern(AUDIT_BUCKET)``: every audit bucket)."""
    return f"{ANY_NAME}-{thing}-*"


def parameter(suffix: str, leaf: str) -> str:
    """``/payment/<suffix>/<leaf>``: one of the deployment's SSM parameters (params.py)."""
    return f"/{PREFIX}/{suffix}/{leaf}"


def api_logging_role(region: str) -> str:
    """IAM is global: one API Gateway logging role (and policy) per region keeps a region's
    account setting independent of the others'."""
    return f"{API_LOGGING_ROLE}-{region}"


def regional_bucket(suffix: str, thing: str, account: str, region: str) -> str:
    """Bucket names are global: account and region make them unique per deployment and
    region (``payment-<suffix>-<thing>-<account>-<region>``)."""
    return resource(suffix, f"{thing}-{account}-{region}")


def regional_role(suffix: str, thing: str, region: str) -> str:
    """IAM is global: the region keeps the roles of the primary and standby regions apart."""
    return resource(suffix, f"{thing}-{region}")


def table(suffix: str) -> str:
    """The payments global table (the same name in every region it has a replica in)."""
    return resource(suffix, TABLE)


def audit_bucket(suffix: str, account: str, region: str) -> str:
    """A region's audit bucket, made by the replica stack (or the primary's)."""
    return regional_bucket(suffix, AUDIT_BUCKET, account, region)


def access_log_bucket(suffix: str, account: str, region: str) -> str:
    """The access logs of a region's audit bucket."""
    return regional_bucket(suffix, ACCESS_LOG_BUCKET, account, region)


def key_alias(suffix: str, use: str) -> str:
    """``alias/payment-<suffix>-<use>``: the alias of one of a region's keys."""
    return f"alias/{resource(suffix, use)}"


def log_group_prefixes(suffix: str) -> tuple[str, ...]:
    """The start of every log group name the templates create, by the service's prefix."""
    return tuple(
        f"{service}{prefix(suffix)}"
        for service in (LAMBDA_LOG_PREFIX, API_LOG_PREFIX, WAF_LOG_PREFIX)
    )


def function_log_group(suffix: str, thing: str) -> str:
    """Lambda writes a function's logs to /aws/lambda/<function name> ("Working with Lambda
    function logs", AWS Lambda Developer Guide)."""
    return f"{LAMBDA_LOG_PREFIX}{resource(suffix, thing)}"


def client_role(suffix: str, client_id: str) -> str:
    """One API client's IAM role, and the stack that holds it."""
    return resource(suffix, f"{CLIENT_ROLE}{client_id}")


def stack_set(suffix: str, kind: str) -> str:
    """The stack set of one template kind (one of ``DEPLOY_ORDER``)."""
    return resource(suffix, kind)


def stack_instance_prefix(stack_set_name: str) -> str:
    """What the name of every stack the stack set ``stack_set_name`` creates starts with."""
    return f"{STACK_INSTANCE_PREFIX}{stack_set_name}-"


def artifact_prefix(suffix: str, account: str) -> str:
    """Deploy's artifact buckets are ``<prefix>-<region>`` (the standby stack set gives all its
    regions one ``ArtifactBucketPrefix``)."""
    return resource(suffix, f"{CODE_BUCKET}-{account}")


def artifact_bucket(suffix: str, account: str, region: str) -> str:
    """The bucket in ``region`` that holds the handler package (Lambda reads code only from a
    bucket in the function's own region)."""
    return regional_bucket(suffix, CODE_BUCKET, account, region)


# How a template's descriptions name its deployment: payment-${EnvironmentSuffix}.
SUB_DEPLOYMENT = deployment(SUB_SUFFIX)
