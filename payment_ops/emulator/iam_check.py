"""The emulator's StackSet runner acts as the execution role.

Self-managed StackSets create, update and delete every instance stack as the target account's
``AWSCloudFormationStackSetExecutionRole`` ("Grant self-managed permissions",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html),
so a resource the role may not write fails on AWS with the service's AccessDenied message. moto
never assumes the role; here, before each resource of an instance stack is created, updated or
deleted, the calls CloudFormation makes for it are evaluated against the role's policies as
deployed (inline, managed, permissions boundary) with ``iam_policy.evaluate``:

- the resource type's handler permissions from its provider schema as cfn-lint ships it
  (``handlers.create/update/delete.permissions``, "Resource type schema" in the CloudFormation
  CLI user guide), for the services this product uses (a schema also lists the calls of
  features it does not use: VPC lookups, EFS mounts, Kinesis destinations);
- what the guides document beyond the schemas: StackSets' own calls (full CloudFormation and the
  S3 actions it uses for stack-instance state, on the page above); service-linked roles created
  on first use (``iam:CreateServiceLinkedRole`` with ``iam:AWSServiceName``: "Using
  service-linked roles for DynamoDB global tables", "Using service-linked roles for API
  Gateway"); dynamic references (``secretsmanager:GetSecretValue``, "Get values stored in other
  services using dynamic references"); custom resources (``lambda:InvokeFunction`` on the
  ServiceToken, "Custom resources"); ``iam:PassRole`` with ``iam:PassedToService``.

Resources: the resource's own ARN where its properties name it, ``*`` for actions that IAM
authorises on ``*`` only (the service authorization reference, as parliament's database holds
it), otherwise the best the emulator can do (documented in ``ANY_RESOURCE``).

An instance stack whose account has no execution role is not checked here (the stack set tests
that exercise other rules deploy without one); deploy.py itself refuses to run without the roles.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .iam_policy import Decision, Request, access_denied_message, evaluate

EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"

# The services of this product's resources; handler permissions of other services belong to
# features the templates do not use.
PRODUCT_SERVICES = frozenset(
    {
        "acm", "apigateway", "application-autoscaling", "cloudformation", "cloudtrail",
        "cloudwatch", "dynamodb", "ec2", "events", "iam", "kms", "lambda", "logs", "route53",
        "s3", "secretsmanager", "sns", "sqs", "ssm", "wafv2",
    }
)  # fmt: skip

# Handler permissions for features this product's resources do not use: the global table is
# on-demand (BillingMode PAY_PER_REQUEST), so its handler registers no scaling targets or
# policies (it still describes them).
UNUSED_FEATURES = {
    "AWS::DynamoDB::GlobalTable": (
        "application-autoscaling:Delete*",
        "application-autoscaling:Deregister*",
        "application-autoscaling:Put*",
        "application-autoscaling:Register*",
    ),
    # WAF logs go to a CloudWatch Logs group (authorised by the group's resource policy), not
    # to Firehose, the destination its service-linked role AWSServiceRoleForWAFV2Logging serves.
    "AWS::WAFv2::LoggingConfiguration": (
        "iam:CreateServiceLinkedRole",
        "iam:DescribeOrganization",
    ),
    # The trail is a single-account trail (IsOrganizationTrail false): CloudTrail creates its
    # service-linked role AWSServiceRoleForCloudTrail only for organization trails ("Using
    # service-linked roles for AWS CloudTrail").
    "AWS::CloudTrail::Trail": ("iam:CreateServiceLinkedRole",),
    # The web ACL is associated with an API Gateway stage, never a Verified Access instance.
    "AWS::WAFv2::WebACLAssociation": ("ec2:*VerifiedAccessInstance*",),
    # The optional VPC (templates_src/network.py): IPv4 only, default tenancy, no encryption
    # control.
    "AWS::EC2::Subnet": ("ec2:AssociateSubnetCidrBlock", "ec2:DisassociateSubnetCidrBlock"),
    "AWS::EC2::VPC": ("ec2:CreateVpcEncryptionControl", "ec2:ModifyVpcTenancy"),
}

# Role actions whose request context carries the role's boundary ("IAM and AWS STS condition
# context keys": iam:PermissionsBoundary); absent when the role has none.
BOUNDARY_CONDITIONED = frozenset(
    {
        "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
    }
)  # fmt: skip

# Where a call's resource is another resource the emulator cannot name (a key chosen by
# another property, a stream), the request is checked against every statement that grants the
# action whatever its Resource, and against explicit denies on "*". More lenient than AWS; never
# stricter.
ANY_RESOURCE = "*?any-resource"

# StackSets' own calls in the target account (page above: full CloudFormation, and S3 for
# stack-instance state; the bucket is AWS's, so the documented case is "Resource": "*").
STACKSET_S3_CALLS = ("s3:GetObject", "s3:PutObject")

_DYNAMODB_REPLICATION = (
    "replication.dynamodb.amazonaws.com",
    "AWSServiceRoleForDynamoDBReplication",
)
_API_GATEWAY = ("ops.apigateway.amazonaws.com", "AWSServiceRoleForAPIGateway")
SERVICE_LINKED_ROLES = {
    # Created by the first global table (replicas) in an account.
    "AWS::DynamoDB::GlobalTable": _DYNAMODB_REPLICATION,
    # Created by API Gateway for a custom domain and, in a fresh account, for the first API.
    "AWS::ApiGateway::DomainName": _API_GATEWAY,
    "AWS::ApiGateway::RestApi": _API_GATEWAY,
}

# Roles passed by a property, and the service they are passed to.
PASSED_ROLES = {
    "AWS::Lambda::Function": ("Role", "lambda.amazonaws.com"),
    "AWS::ApiGateway::Account": ("CloudWatchRoleArn", "apigateway.amazonaws.com"),
    # "Sending events to CloudWatch Logs" (CloudTrail user guide): iam:PassRole for the role.
    "AWS::CloudTrail::Trail": ("CloudWatchLogsRoleArn", "cloudtrail.amazonaws.com"),
}

_DYNAMIC_SECRET = re.compile(r"\{\{resolve:secretsmanager:([^:}]+(?::[^:}]+){0,6})")


class AccessDenied(Exception):
    """A resource the execution role may not write: the instance stack fails with it."""

    def __init__(self, logical_id: str, message: str) -> None:
        super().__init__(
            f'{logical_id}: Resource handler returned message: "{message}" '
            "(HandlerErrorCode: AccessDenied)"
        )
        self.message = str(self)


@dataclass(frozen=True)
class Role:
    arn: str
    identity: tuple[dict, ...]
    boundary: dict | None

    def session_arn(self, account: str, partition: str) -> str:
        return f"arn:{partition}:sts::{account}:assumed-role/{EXECUTION_ROLE}/StackSet"

    def decide(self, request: Request) -> Decision:
        return evaluate(request, self.identity, self.boundary)


@dataclass(frozen=True)
class Acting:
    role: Role
    account: str
    region: str
    partition: str


_acting: contextvars.ContextVar[Acting | None] = contextvars.ContextVar("acting", default=None)


def _document(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    from urllib.parse import unquote

    text = str(value)
    return json.loads(unquote(text) if text.startswith("%7B") else text)


def execution_role(account: str, partition: str = "aws") -> Role | None:
    """The execution role as deployed in the emulator's IAM, with every policy it carries."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account][partition]
    role = next((r for r in backend.roles.values() if r.name == EXECUTION_ROLE), None)
    if role is None:
        return None
    identity = [_document(doc) for doc in role.policies.values()]
    identity += [_document(p.document) for p in role.managed_policies.values()]
    boundary = None
    if role.permissions_boundary_arn:
        policy = backend.managed_policies.get(role.permissions_boundary_arn)
        # A boundary that does not exist allows nothing.
        boundary = _document(policy.document) if policy else {"Statement": []}
    return Role(role.arn, tuple(identity), boundary)


# --- what CloudFormation calls for one resource -----------------------------------------------


@functools.lru_cache(maxsize=512)
def handler_permissions(resource_type: str, operation: str) -> tuple[str, ...]:
    """``handlers.<operation>.permissions`` of the provider schema, this product's services."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    except ResourceNotFoundError:
        return ()
    actions = schema.get("handlers", {}).get(operation, {}).get("permissions", [])
    unused = UNUSED_FEATURES.get(resource_type, ())
    wanted = [
        action
        for listed in actions
        if listed.split(":")[0] in PRODUCT_SERVICES
        for action in _expand(listed)
        if not any(re.fullmatch(p.replace("*", ".*"), action) for p in unused)
    ]
    return tuple(dict.fromkeys(wanted))


def _expand(action: str) -> list[str]:
    """A schema's ``service:Describe*`` is every action it names (IAM's own expansion)."""
    if "*" not in action:
        return [action]
    import parliament

    return [f"{a['service']}:{a['action']}" for a in parliament.expand_action(action)]


@functools.lru_cache(maxsize=4096)
def star_only(action: str) -> bool:
    """IAM authorises the action on ``*`` only (no resource type in the service authorization
    reference)."""
    import parliament

    service, _, name = action.partition(":")
    for entry in parliament.iam_definition:
        if entry["prefix"] != service:
            continue
        pattern = re.compile(re.escape(name).replace(r"\*", ".*") + "$", re.IGNORECASE)
        privileges = [p for p in entry["privileges"] if pattern.match(p["privilege"])]
        return bool(privileges) and all(
            all(t["resource_type"] == "" for t in p["resource_types"]) for p in privileges
        )
    return False


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def own_arn(
    resource_type: str, properties: dict, physical_id: str | None, acting: Acting
) -> str | None:
    """The ARN of the resource itself, where its properties (or physical id) name it.

    Long because it is one lookup table, a branch per resource type with its service's ARN
    format, each independent of the others: a reader finds a type's ARN in one place."""
    p, r, a = acting.partition, acting.region, acting.account
    name = lambda key: _text(properties.get(key)) or physical_id  # noqa: E731
    if resource_type == "AWS::DynamoDB::GlobalTable" and name("TableName"):
        return f"arn:{p}:dynamodb:{r}:{a}:table/{name('TableName')}"
    if resource_type == "AWS::S3::Bucket" and name("BucketName"):
        return f"arn:{p}:s3:::{name('BucketName')}"
    if resource_type == "AWS::S3::BucketPolicy" and _text(properties.get("Bucket")):
        return f"arn:{p}:s3:::{properties['Bucket']}"
    if resource_type in ("AWS::Lambda::Function", "AWS::Lambda::Permission"):
        function = (
            name("FunctionName")
            if resource_type == "AWS::Lambda::Function"
            else _text(properties.get("FunctionName"))  # a permission's id is not a function
        )
        if function:
            return function if function.startswith("arn:") else (
                f"arn:{p}:lambda:{r}:{a}:function:{function}"
            )  # fmt: skip
    if resource_type == "AWS::IAM::Role" and name("RoleName"):
        path = _text(properties.get("Path")) or "/"
        return f"arn:{p}:iam::{a}:role{path}{name('RoleName')}"
    if resource_type == "AWS::IAM::ManagedPolicy" and _text(properties.get("ManagedPolicyName")):
        path = _text(properties.get("Path")) or "/"
        return f"arn:{p}:iam::{a}:policy{path}{properties['ManagedPolicyName']}"
    if resource_type == "AWS::Logs::LogGroup" and name("LogGroupName"):
        return f"arn:{p}:logs:{r}:{a}:log-group:{name('LogGroupName')}"
    if resource_type == "AWS::SNS::Topic" and _text(properties.get("TopicName")):
        return f"arn:{p}:sns:{r}:{a}:{properties['TopicName']}"
    if resource_type == "AWS::SNS::Subscription" and _text(properties.get("TopicArn")):
        return properties["TopicArn"]
    if resource_type == "AWS::SNS::TopicPolicy" and properties.get("Topics"):
        return _text(properties["Topics"][0])
    if resource_type == "AWS::SQS::Queue" and _text(properties.get("QueueName")):
        return f"arn:{p}:sqs:{r}:{a}:{properties['QueueName']}"
    if resource_type == "AWS::CloudWatch::Alarm" and name("AlarmName"):
        return f"arn:{p}:cloudwatch:{r}:{a}:alarm:{name('AlarmName')}"
    if resource_type == "AWS::SSM::Parameter" and name("Name"):
        return f"arn:{p}:ssm:{r}:{a}:parameter/{name('Name').lstrip('/')}"
    if resource_type == "AWS::SecretsManager::Secret" and _text(properties.get("Name")):
        # Secrets Manager appends six random characters to the name.
        return f"arn:{p}:secretsmanager:{r}:{a}:secret:{properties['Name']}-AbCdEf"
    if resource_type == "AWS::CertificateManager::Certificate":
        return f"arn:{p}:acm:{r}:{a}:certificate/{physical_id or 'new-certificate'}"
    if resource_type == "AWS::Route53::HealthCheck":
        return f"arn:{p}:route53:::healthcheck/{physical_id or 'new-health-check'}"
    if resource_type == "AWS::Route53::RecordSet" and _text(properties.get("HostedZoneId")):
        return f"arn:{p}:route53:::hostedzone/{properties['HostedZoneId']}"
    if resource_type == "AWS::KMS::Key":
        # A new key's id is AWS's choice; any id stands for it.
        return f"arn:{p}:kms:{r}:{a}:key/{physical_id or 'new-key'}"
    if resource_type == "AWS::KMS::Alias" and _text(properties.get("AliasName")):
        return f"arn:{p}:kms:{r}:{a}:{properties['AliasName']}"
    if resource_type == "AWS::WAFv2::WebACL" and _text(properties.get("Name")):
        # regional/webacl/<name>/<id>: the id is WAF's choice.
        return f"arn:{p}:wafv2:{r}:{a}:regional/webacl/{properties['Name']}/{physical_id or 'new'}"
    if resource_type == "AWS::Events::Rule" and _text(properties.get("Name")):
        return f"arn:{p}:events:{r}:{a}:rule/{properties['Name']}"
    if resource_type == "AWS::CloudTrail::Trail" and _text(properties.get("TrailName")):
        return f"arn:{p}:cloudtrail:{r}:{a}:trail/{properties['TrailName']}"
    if resource_type == "AWS::WAFv2::WebACLAssociation" and _text(properties.get("WebACLArn")):
        return properties["WebACLArn"]
    if resource_type == "AWS::WAFv2::LoggingConfiguration":
        return _text(properties.get("ResourceArn"))
    if resource_type.startswith("AWS::ApiGateway::"):
        return _apigateway_arn(resource_type, properties, physical_id, acting)
    return None


def _apigateway_arn(
    resource_type: str, properties: dict, physical_id: str | None, acting: Acting
) -> str:
    """API Gateway authorises by resource path ("Control access to the API Gateway management
    API": arn:aws:apigateway:region::/restapis/...)."""
    base = f"arn:{acting.partition}:apigateway:{acting.region}::"
    api = _text(properties.get("RestApiId"))
    top = {
        "AWS::ApiGateway::RestApi": "/restapis",
        "AWS::ApiGateway::ApiKey": "/apikeys",
        "AWS::ApiGateway::UsagePlan": "/usageplans",
        "AWS::ApiGateway::Account": "/account",
    }
    if resource_type in top:
        own = (
            f"/{physical_id}" if physical_id and resource_type != "AWS::ApiGateway::Account" else ""
        )
        return base + top[resource_type] + own
    if resource_type in ("AWS::ApiGateway::DomainName", "AWS::ApiGateway::BasePathMapping"):
        domain = _text(properties.get("DomainName")) or physical_id or "*"
        return f"{base}/domainnames/{domain}"
    if resource_type == "AWS::ApiGateway::UsagePlanKey":
        return f"{base}/usageplans/{_text(properties.get('UsagePlanId')) or '*'}/keys"
    return f"{base}/restapis/{api or '*'}/*"


_RECORD_ACTIONS = {"create": "CREATE", "update": "UPSERT", "delete": "DELETE"}


def _record_context(name: str, record_type: str, operation: str) -> dict[str, Any]:
    """Route 53's condition keys for ChangeResourceRecordSets ("Using IAM policy conditions
    for fine-grained access control to manage resource record sets"): names lower case
    without the trailing dot."""
    return {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [name.lower().rstrip(".")],
        "route53:ChangeResourceRecordSetsRecordTypes": [record_type],
        "route53:ChangeResourceRecordSetsActions": [_RECORD_ACTIONS[operation]],
    }


def _with_record_context(
    request: Request, resource_type: str, properties: dict, operation: str
) -> Request:
    if resource_type != "AWS::Route53::RecordSet" or request.action != (
        "route53:ChangeResourceRecordSets"
    ):
        return request
    name, record_type = _text(properties.get("Name")), _text(properties.get("Type"))
    if not (name and record_type):
        return request
    return Request(request.action, request.resource, _record_context(name, record_type, operation))


def _validation_record_requests(properties: dict, acting: Acting) -> list[Request]:
    """DNS validation: CloudFormation writes ACM's CNAME ``_<token>.<domain>`` into the zone
    named by DomainValidationOptions ("AWS::CertificateManager::Certificate")."""
    requests = []
    for option in properties.get("DomainValidationOptions") or []:
        zone, domain = _text(option.get("HostedZoneId")), _text(option.get("DomainName"))
        if zone and domain:
            requests.append(
                Request(
                    "route53:ChangeResourceRecordSets",
                    f"arn:{acting.partition}:route53:::hostedzone/{zone}",
                    _record_context(f"_0a1b2c3d4e5f.{domain}", "CNAME", "create"),
                )
            )
    return requests


def tag_context(properties: dict) -> dict[str, str]:
    """The resource's tags as the request carries them: aws:RequestTag/<key> when they are
    set (create, tag) and aws:ResourceTag/<key> once the resource has them ("Controlling
    access to AWS resources using tags")."""
    tags = properties.get("Tags")
    pairs = {}
    if isinstance(tags, list):
        pairs = {t["Key"]: t["Value"] for t in tags if isinstance(t, dict) and "Key" in t}
    elif isinstance(tags, dict):
        pairs = dict(tags)
    context: dict[str, str] = {}
    for key, value in pairs.items():
        if isinstance(value, str):
            context[f"aws:RequestTag/{key}"] = value
            context[f"aws:ResourceTag/{key}"] = value
    if context:
        context["aws:TagKeys"] = sorted(pairs)  # type: ignore[assignment]
    return context


# API Gateway resources created into a collection: until the service names the new one, the
# create handler's calls other than the POST itself are on the resource it makes.
_APIGATEWAY_COLLECTIONS = frozenset(
    {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan"}
)


def inherited_tags(resource_type: str, properties: dict, acting: Acting) -> dict[str, str]:
    """The tags an API Gateway child resource inherits for access control: a REST API's
    resources, methods, deployments and stages its API's, a base path mapping its domain's
    ("API Gateway resources that can be tagged"), as the emulator's API Gateway holds them."""
    if not resource_type.startswith("AWS::ApiGateway::") or resource_type in (
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::DomainName",
    ):
        return {}
    from moto.apigateway.models import apigateway_backends

    backend = apigateway_backends[acting.account][acting.region]
    api = backend.apis.get(_text(properties.get("RestApiId")) or "")
    if api is not None:
        return dict(api.tags or {})
    domain = backend.domain_names.get(_text(properties.get("DomainName")) or "")
    return dict((domain.tags or {}) if domain is not None else {})


def _went_with_its_api(resource_type: str, properties: dict) -> bool:
    """A REST API's child whose API this stack already deleted: DeleteRestApi removed it with
    the API, so CloudFormation's delete finds nothing and makes no call that needs a grant
    (moto deletes a stack's resources in its own order, not children first)."""
    api = properties.get("RestApiId")
    return resource_type.startswith("AWS::ApiGateway::") and isinstance(api, dict)


def _names_a_role(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            re.search(r"Role(Arn)?$", key) or _names_a_role(item) for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_names_a_role(item) for item in value)
    return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


_ATTACHMENT = re.compile(r"iam:(?:Attach|Detach)(Group|User|Role)Policy")


def _policy_attachment_used(action: str, properties: dict) -> bool:
    """A managed policy's handler attaches it to (and detaches it from) the groups, users and
    roles its ``Groups``, ``Users`` and ``Roles`` list, nothing else ("AWS::IAM::ManagedPolicy",
    CloudFormation template reference); a policy that a role attaches through its own
    ``ManagedPolicyArns`` lists none, and the role's handler makes the attach call."""
    match = _ATTACHMENT.fullmatch(action)
    return match is None or bool(properties.get(f"{match.group(1)}s"))


@dataclass(frozen=True)
class _Subject:
    """The resource whose calls ``requests_for`` lists."""

    resource_type: str
    properties: dict
    physical_id: str | None
    arn: str | None  # own_arn
    service: str  # the IAM prefix of the resource type's own service


def requests_for(
    resource_type: str,
    properties: dict,
    operation: str,
    acting: Acting,
    physical_id: str | None = None,
    parent_tags: dict[str, str] | None = None,
) -> list[Request]:
    """Every call CloudFormation makes, as the execution role, to ``operation`` this resource
    (``parent_tags``: the tags it inherits for access control, ``inherited_tags``): its
    handler's permissions as the resource calls them, then the calls the guides add."""
    service = resource_type.split("::")[1].lower() if "::" in resource_type else ""
    service = {"certificatemanager": "acm", "cloudwatch": "cloudwatch"}.get(service, service)
    subject = _Subject(
        resource_type,
        properties,
        physical_id,
        own_arn(resource_type, properties, physical_id, acting),
        service,
    )
    requests = [
        _conditioned_request(action, subject, acting)
        or _handler_request(action, subject, parent_tags)
        for action in handler_permissions(resource_type, operation)
        if not _not_called(action, subject)
    ]
    if resource_type == "AWS::IAM::ManagedPolicy":
        requests = [r for r in requests if _policy_attachment_used(r.action, properties)]
    requests = [_with_record_context(r, resource_type, properties, operation) for r in requests]
    if resource_type == "AWS::CertificateManager::Certificate" and operation == "create":
        requests = [r for r in requests if r.action != "route53:ChangeResourceRecordSets"]
        requests += _validation_record_requests(properties, acting)
    return (
        requests
        + _custom_resource_requests(resource_type, properties, operation)
        + _service_linked_role_requests(resource_type, operation, acting)
        + _dynamic_reference_requests(properties, operation, acting)
    )


def _not_called(action: str, subject: _Subject) -> bool:
    """A handler permission this resource's handler does not call (a feature it does not
    use), or calls with another request (made elsewhere)."""
    properties = subject.properties
    if (
        subject.resource_type == "AWS::Lambda::Function"
        and action.startswith("ec2:")
        and not properties.get("VpcConfig")
    ):
        # Lambda looks up subnets and security groups, and CloudFormation waits for the
        # network interfaces on delete, only for a function with VpcConfig ("Giving Lambda
        # functions access to resources in an Amazon VPC"; AWS::Lambda::Function VpcConfig).
        return True
    if action == "iam:CreateServiceLinkedRole" and subject.resource_type in SERVICE_LINKED_ROLES:
        # requested by _service_linked_role_requests, with the service name the role is for
        return True
    if action == "iam:PassRole":
        passed_key = PASSED_ROLES.get(subject.resource_type, (None, ""))[0]
        # the feature that passes a role (replication, delivery logs) is unused
        return passed_key is None and not _names_a_role(properties)
    # called only when an update removes the boundary
    return (
        subject.resource_type == "AWS::IAM::Role"
        and action == "iam:DeleteRolePermissionsBoundary"
        and bool(_text(properties.get("PermissionsBoundary")))
    )


def _conditioned_request(action: str, subject: _Subject, acting: Acting) -> Request | None:
    """The calls whose request carries a context of its own, or a resource other than the
    resource's: the role passed (``iam:PassedToService``), a role's boundary, a Route 53
    change."""
    properties = subject.properties
    if action == "iam:PassRole":
        # A role is passed to the service behind the resource type.
        passed_key, passed_to = PASSED_ROLES.get(
            subject.resource_type, (None, f"{subject.service}.amazonaws.com")
        )
        role = _text(properties.get(passed_key)) if passed_key else None
        context = {"iam:PassedToService": passed_to}
        return Request(action, role or ANY_RESOURCE, context)
    if subject.resource_type == "AWS::IAM::Role":
        boundary = _text(properties.get("PermissionsBoundary"))
        if action in BOUNDARY_CONDITIONED and boundary:
            return Request(
                action, subject.arn or ANY_RESOURCE, {"iam:PermissionsBoundary": boundary}
            )
    if action == "route53:GetChange":
        return Request(action, f"arn:{acting.partition}:route53:::change/C0123456789")
    return None


def _handler_request(action: str, subject: _Subject, parent_tags: dict[str, str] | None) -> Request:
    """A handler call on the resource itself where its service authorises it there, with the
    resource's tags (and those it inherits) as the request's context."""
    arn, service = subject.arn, subject.service
    if star_only(action):
        resource = "*"
    elif action.split(":")[0] == service and arn:
        resource = arn
        if (
            subject.resource_type in _APIGATEWAY_COLLECTIONS
            and subject.physical_id is None
            and action != "apigateway:POST"
        ):
            resource = f"{arn}/new-resource-id"
    else:
        resource = ANY_RESOURCE
    own = action.split(":")[0] == service
    context = tag_context(subject.properties) if own else {}
    if own and parent_tags:
        inherited = {f"aws:ResourceTag/{k}": v for k, v in parent_tags.items()}
        context = {**inherited, **context}
    return Request(action, resource, context)


def _custom_resource_requests(
    resource_type: str, properties: dict, operation: str
) -> list[Request]:
    """CloudFormation invokes a custom resource's ServiceToken function ("Custom
    resources"); a token that names no function adds no call here."""
    if resource_type.startswith("Custom::") and operation in ("create", "update", "delete"):
        token = _text(properties.get("ServiceToken"))
        if token is None or ":lambda:" in token:
            return [Request("lambda:InvokeFunction", token or ANY_RESOURCE)]
    return []


def _service_linked_role_requests(
    resource_type: str, operation: str, acting: Acting
) -> list[Request]:
    """The service-linked role a resource's first create makes ("Using service-linked roles
    for DynamoDB global tables", "Using service-linked roles for API Gateway")."""
    if operation != "create" or resource_type not in SERVICE_LINKED_ROLES:
        return []
    service_name, role_name = SERVICE_LINKED_ROLES[resource_type]
    return [
        Request(
            "iam:CreateServiceLinkedRole",
            f"arn:{acting.partition}:iam::{acting.account}:role/aws-service-role/"
            f"{service_name}/{role_name}",
            {"iam:AWSServiceName": service_name},
        )
    ]


def _dynamic_reference_requests(properties: dict, operation: str, acting: Acting) -> list[Request]:
    """``secretsmanager:GetSecretValue`` for each ``{{resolve:secretsmanager:...}}`` in the
    properties ("Get values stored in other services using dynamic references")."""
    if operation not in ("create", "update"):
        return []
    p, r, a = acting.partition, acting.region, acting.account
    requests = []
    for text in _strings(properties):
        for secret in _DYNAMIC_SECRET.findall(text):
            secret_id = secret.split(":SecretString")[0]
            if "${" in secret_id:  # named by a resource not yet resolved
                requests.append(Request("secretsmanager:GetSecretValue", ANY_RESOURCE))
                continue
            target = secret_id if secret_id.startswith("arn:") else (
                f"arn:{p}:secretsmanager:{r}:{a}:secret:{secret_id}-AbCdEf"
            )  # fmt: skip
            requests.append(Request("secretsmanager:GetSecretValue", target))
    return requests


def stackset_requests(stack_name: str, operation: str, acting: Acting) -> list[Request]:
    """StackSets' own calls for one instance stack (the self-managed prerequisites page)."""
    p, r, a = acting.partition, acting.region, acting.account
    stack = f"arn:{p}:cloudformation:{r}:{a}:stack/{stack_name}/*"
    verb = {"create": "CreateStack", "update": "UpdateStack", "delete": "DeleteStack"}[operation]
    calls = [
        Request(f"cloudformation:{verb}", stack),
        Request("cloudformation:DescribeStacks", stack),
    ]
    return calls + [Request(action, "*") for action in STACKSET_S3_CALLS]  # fmt: skip


def decide(role: Role, request: Request) -> Decision:
    if request.resource != ANY_RESOURCE:
        return role.decide(request)
    relaxed = tuple(_any_resource_view(doc) for doc in role.identity)
    boundary = _any_resource_view(role.boundary) if role.boundary is not None else None
    return evaluate(Request(request.action, "*", request.context), relaxed, boundary)


def _any_resource_view(document: dict) -> dict:
    """The policy as seen by a request whose resource is unknown: allows cover every resource,
    denies only when they name "*"."""
    out = []
    for statement in _document(document).get("Statement", []):
        statement = dict(statement)
        if statement.get("Effect") == "Allow":
            statement.pop("NotResource", None)
            statement["Resource"] = "*"
            # Nor are its tags known: conditions on them hold.
            statement["Condition"] = {
                operator: {
                    k: v for k, v in keys.items() if not k.lower().startswith("aws:resourcetag/")
                }
                for operator, keys in dict(statement.get("Condition") or {}).items()
            }
        out.append(statement)
    return {"Statement": out}


def check(logical_id: str, requests: list[Request]) -> None:
    """Raise AccessDenied for the first request the acting execution role may not make."""
    acting = _acting.get()
    if acting is None:
        return
    for request in requests:
        decision = decide(acting.role, request)
        if not decision.allowed:
            shown = request if request.resource != ANY_RESOURCE else Request(request.action, "*")
            principal = acting.role.session_arn(acting.account, acting.partition)
            raise AccessDenied(logical_id, access_denied_message(principal, shown, decision))


@contextlib.contextmanager
def acting_as_execution_role(
    account: str, region: str, stack_name: str, operation: str
) -> Iterator[None]:
    """Run an instance stack's operation as the execution role of ``account``."""
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    role = execution_role(account, partition)
    if role is None:
        yield
        return
    acting = Acting(role, account, region, partition)
    token = _acting.set(acting)
    try:
        check(stack_name, stackset_requests(stack_name, operation, acting))
        yield
    finally:
        _acting.reset(token)


def _resolved_without_creating(value: Any, resources_map: Any) -> Any:
    """Refs and GetAtt Arn to resources the stack still holds. moto's own resolver would
    create a resource already deleted again, so on delete only what exists is looked up."""
    if isinstance(value, list):
        return [_resolved_without_creating(v, resources_map) for v in value]
    if not isinstance(value, dict):
        return value
    held = resources_map._parsed_resources
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name in resources_map.resolved_parameters:
            return resources_map.resolved_parameters[name]
        target = held.get(name)
        return getattr(target, "physical_resource_id", value) if target is not None else value
    if set(value) == {"Fn::GetAtt"} and isinstance(value["Fn::GetAtt"], list):
        name, attribute = value["Fn::GetAtt"][0], value["Fn::GetAtt"][1]
        target = held.get(name)
        try:
            return target.get_cfn_attribute(attribute) if target is not None else value
        except Exception:  # noqa: BLE001 - an attribute the model lacks stays unresolved
            return value
    return {k: _resolved_without_creating(v, resources_map) for k, v in value.items()}


# --- hooks into moto's resource parsing ------------------------------------------------------


def install() -> None:
    """Check each resource before moto creates, updates or deletes it."""
    from moto.cloudformation import parsing

    create, update = parsing.parse_and_create_resource, parsing.parse_and_update_resource
    delete = parsing.ResourceMap._delete_resource

    def checked_create(logical_id, resource_json, resources_map, account_id, region_name):  # type: ignore[no-untyped-def]
        _check_create(logical_id, resource_json, resources_map)
        return create(logical_id, resource_json, resources_map, account_id, region_name)

    def checked_update(logical_id, resource_json, resources_map, account_id, region_name):  # type: ignore[no-untyped-def]
        _check_update(logical_id, resource_json, resources_map)
        return update(logical_id, resource_json, resources_map, account_id, region_name)

    def checked_delete(self, parsed_resource, resource_json):  # type: ignore[no-untyped-def]
        _check_delete(self, parsed_resource, resource_json)
        return delete(self, parsed_resource, resource_json)

    parsing.parse_and_create_resource = checked_create
    parsing.parse_and_update_resource = checked_update
    parsing.ResourceMap._delete_resource = checked_delete


def _resolved(resource_json: dict, resources_map: Any) -> dict:
    """The resource's properties as moto resolves them before it creates or updates it."""
    from moto.cloudformation import parsing

    try:
        return parsing.clean_json(resource_json.get("Properties", {}) or {}, resources_map)
    except Exception:  # noqa: BLE001 - unresolvable yet: check what can be named
        return resource_json.get("Properties", {}) or {}


def _check_create(logical_id: str, resource_json: dict, resources_map: Any) -> None:
    """A resource whose Condition is false is not created: nothing to check."""
    acting = _acting.get()
    condition = resource_json.get("Condition")
    if acting is None or (condition and not resources_map.lazy_condition_map[condition]):
        return
    properties = _resolved(resource_json, resources_map)
    kind = resource_json["Type"]
    parents = inherited_tags(kind, properties, acting)
    check(logical_id, requests_for(kind, properties, "create", acting, parent_tags=parents))


def _check_update(logical_id: str, resource_json: dict, resources_map: Any) -> None:
    acting = _acting.get()
    if acting is None:
        return
    properties = _resolved(resource_json, resources_map)
    original = resources_map._parsed_resources.get(logical_id)
    physical = getattr(original, "physical_resource_id", None)
    kind = resource_json["Type"]
    parents = inherited_tags(kind, properties, acting)
    check(logical_id, requests_for(kind, properties, "update", acting, physical, parents))


def _check_delete(resources_map: Any, parsed_resource: Any, resource_json: dict) -> None:
    acting = _acting.get()
    if acting is None:
        return
    physical = getattr(parsed_resource, "physical_resource_id", None)
    properties = _resolved_without_creating(resource_json.get("Properties") or {}, resources_map)
    held_boundary = getattr(parsed_resource, "permissions_boundary_arn", None)
    if resource_json["Type"] == "AWS::IAM::Role" and held_boundary:
        # The request carries the boundary the role has now (IAM's state).
        properties = {**properties, "PermissionsBoundary": held_boundary}
    logical_id = getattr(parsed_resource, "logical_resource_id", "resource")
    kind = resource_json["Type"]
    parents = inherited_tags(kind, properties, acting)
    if not _went_with_its_api(kind, properties):
        check(logical_id, requests_for(kind, properties, "delete", acting, physical, parents))
