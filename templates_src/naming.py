"""Every concrete name and parameter value of a deployment, proved against AWS's limits at
configuration time, before anything is built or created.

The names are not written here a second time: the templates are rendered for the configuration
and each physical name they declare is resolved (suffix, a 12-digit account, each target region)
and checked against its rule; the names the deploy script makes itself (stack sets, their
stacks, the artifact buckets) come from ``names``, which deploy calls too. Parameter
values are the ones deploy passes, checked against the template's own ``AllowedPattern``,
lengths and ranges, which CloudFormation enforces when the stack set reaches each region -
that is, after the regions before it are already deployed.

Each rule names the AWS page it comes from; where cfn-lint's provider schema (AWS's published
resource schema) sets a length or pattern for the property, that is checked too.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from . import common, names, package
from .cfn_graph import SUB_VARIABLE, sub_parts
from .config import Config, ConfigError

# Every AWS account id has 12 digits, so the lengths proved with this one hold for all.
EXAMPLE_ACCOUNT = "123456789012"
# What deploy passes before the standby health checks exist, and the shape of one that does.
EXAMPLE_HEALTH_CHECK_ID = "abcdef01-2345-6789-abcd-ef0123456789"


@dataclass(frozen=True)
class Rule:
    what: str
    max_length: int | None  # None: AWS documents no length limit for this name
    characters: str  # a regular expression the whole name must match
    source: str
    min_length: int = 1


S3_BUCKET = Rule(
    "S3 bucket name",
    common.BUCKET_NAME_MAX,
    r"[a-z0-9][a-z0-9.-]*[a-z0-9]",
    "Amazon S3 User Guide, General purpose bucket naming rules",
    min_length=3,
)
IAM_ROLE = Rule(
    "IAM role name",
    64,
    r"[\w+=,.@-]+",
    "IAM User Guide, IAM and AWS STS quotas (IAM name requirements)",
)
IAM_POLICY = Rule(
    "IAM managed policy name",
    128,
    r"[\w+=,.@-]+",
    "IAM User Guide, IAM and AWS STS quotas (IAM name requirements)",
)
LAMBDA_FUNCTION = Rule(
    "Lambda function name",
    64,
    r"[a-zA-Z0-9_-]+",
    "AWS Lambda API Reference, CreateFunction (FunctionName)",
)
LOG_GROUP = Rule(
    "CloudWatch Logs log group name",
    512,
    r"[.\-_/#A-Za-z0-9]+",
    "Amazon CloudWatch Logs API Reference, CreateLogGroup",
)
SQS_QUEUE = Rule(
    "SQS queue name",
    80,
    r"[A-Za-z0-9_-]+",
    "Amazon SQS API Reference, CreateQueue (QueueName)",
)
SNS_TOPIC = Rule(
    "SNS topic name",
    256,
    r"[A-Za-z0-9_-]+",
    "Amazon SNS API Reference, CreateTopic (Name)",
)
SNS_DISPLAY_NAME = Rule(
    "SNS topic display name",
    100,
    r"[A-Za-z0-9_\- \t]+",
    "AWS::SNS::Topic, DisplayName",
)
SECRET = Rule(
    "Secrets Manager secret name",
    512,
    r"[A-Za-z0-9/_+=.@-]+",
    "AWS Secrets Manager API Reference, CreateSecret (Name)",
)
KMS_ALIAS = Rule(
    "KMS alias name",
    256,
    r"alias/(?!aws/)[a-zA-Z0-9/_-]+",
    "AWS KMS API Reference, CreateAlias (AliasName)",
)
SSM_PARAMETER = Rule(
    "SSM parameter name",
    # The page counts the name with its ARN (about 60 characters); the name alone is held
    # to what is left.
    1011 - 64,
    r"/[a-zA-Z0-9_.\-/]+",
    "AWS Systems Manager User Guide, Requirements and constraints for parameter names",
)
ALARM = Rule(
    "CloudWatch alarm name",
    255,
    r"[ -~]+",
    "Amazon CloudWatch API Reference, PutMetricAlarm (AlarmName)",
)
WAF_NAME = Rule(
    "AWS WAF web ACL name",
    128,
    r"[\w-]+",
    "AWS WAFV2 API Reference, CreateWebACL (Name)",
)
API_GATEWAY_NAME = Rule(
    "API Gateway name",
    None,
    r"[ -~]+",
    "Amazon API Gateway REST API Reference (no length limit documented)",
)
DYNAMODB_TABLE = Rule(
    "DynamoDB table name",
    255,
    r"[a-zA-Z0-9_.-]+",
    "Amazon DynamoDB Developer Guide, Supported data types and naming rules",
    min_length=3,
)
SET_IDENTIFIER = Rule(
    "Route 53 record set identifier",
    128,
    r"[ -~]+",
    "Amazon Route 53 API Reference, ResourceRecordSet (SetIdentifier)",
)
TAG_VALUE = Rule(
    "Route 53 tag value",
    256,
    r"[\s\S]*",
    "Amazon Route 53 API Reference, Tag (Value)",
)
EVENT_RULE = Rule(
    "EventBridge rule name",
    64,
    r"[\.\-_A-Za-z0-9]+",
    "Amazon EventBridge API Reference, PutRule (Name)",
)
TRAIL_NAME = Rule(
    "CloudTrail trail name",
    128,
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?",
    "AWS CloudTrail API Reference, CreateTrail (Name)",
    min_length=3,
)
EXPORT_NAME = Rule(
    "CloudFormation export name",
    255,  # no separate limit is documented for exports: the output-name quota is applied
    r"[A-Za-z0-9:-]+",
    "AWS CloudFormation User Guide, Understand CloudFormation quotas; Outputs (Export)",
)
STACK_SET_NAME = Rule(
    "stack set name",
    128,
    r"[a-zA-Z][-a-zA-Z0-9]*",
    "AWS CloudFormation API Reference, CreateStackSet (StackSetName)",
)
STACK_NAME = Rule(
    "stack name",
    128,
    r"[a-zA-Z][-a-zA-Z0-9]*",
    "AWS CloudFormation API Reference, CreateStack (StackName)",
)

# The property that names each resource type the templates declare.
NAME_RULES: dict[tuple[str, str], Rule] = {
    ("AWS::S3::Bucket", "BucketName"): S3_BUCKET,
    ("AWS::IAM::Role", "RoleName"): IAM_ROLE,
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"): IAM_POLICY,
    ("AWS::Lambda::Function", "FunctionName"): LAMBDA_FUNCTION,
    ("AWS::Logs::LogGroup", "LogGroupName"): LOG_GROUP,
    ("AWS::SQS::Queue", "QueueName"): SQS_QUEUE,
    ("AWS::SNS::Topic", "TopicName"): SNS_TOPIC,
    ("AWS::SNS::Topic", "DisplayName"): SNS_DISPLAY_NAME,
    ("AWS::SecretsManager::Secret", "Name"): SECRET,
    ("AWS::KMS::Alias", "AliasName"): KMS_ALIAS,
    ("AWS::SSM::Parameter", "Name"): SSM_PARAMETER,
    ("AWS::CloudWatch::Alarm", "AlarmName"): ALARM,
    ("AWS::WAFv2::WebACL", "Name"): WAF_NAME,
    ("AWS::ApiGateway::RestApi", "Name"): API_GATEWAY_NAME,
    ("AWS::DynamoDB::GlobalTable", "TableName"): DYNAMODB_TABLE,
    # The custom resource looks the table up by the table's own name.
    ("Custom::TableStream", "TableName"): DYNAMODB_TABLE,
    ("AWS::Route53::RecordSet", "SetIdentifier"): SET_IDENTIFIER,
    ("AWS::Events::Rule", "Name"): EVENT_RULE,
    ("AWS::CloudTrail::Trail", "TrailName"): TRAIL_NAME,
}
# StackSets names each instance's stack StackSet-<stack set name>-<36-character id>, as the
# stacks it creates show (the form is not a documented contract; checking it is conservative).
STACK_INSTANCE_ID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Name:
    """One concrete name: where it comes from, its value, its rule."""

    where: str  # e.g. "replica template AuditBucket.BucketName in eu-west-1"
    value: str | None  # None: the template's expression could not be resolved
    rule: Rule
    resource_type: str = ""  # with ``prop``: where the provider schema says more
    prop: str = ""
    # Where a template declares it: (template kind, logical id, property); empty for the
    # names deploy makes itself.
    declared_at: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    where: str
    value: str
    limit: str  # what the value breaks, with its source

    def __str__(self) -> str:
        return f"{self.where} would be {self.value!r} ({len(self.value)} characters): {self.limit}"


def parameter_values(config: Config, account: str = EXAMPLE_ACCOUNT) -> dict[str, dict[str, str]]:
    """Template file -> the parameter values deploy passes for ``config`` (scripts/deploy.py
    ``_specs``; tests/templates/test_naming.py holds the two together). The custom-domain
    values and the health check ids are validated by deploy against the same patterns."""
    from . import regions, routing
    from .build import PRIMARY, REPLICA, STANDBY

    suffix = config.environment_suffix
    code_key = package.content_key(b"")  # the length and shape of every content key
    replica = {names.SUFFIX_PARAM: suffix, names.ALARM_EMAIL_PARAM: config.alarm_email}
    code_bucket = names.artifact_bucket(suffix, account, config.primary_region)
    primary = {
        **replica,
        names.ARTIFACT_BUCKET_PARAM: code_bucket,
        names.CODE_KEY_PARAM: code_key,
        **{
            regions.standby_health_check_parameter(region): EXAMPLE_HEALTH_CHECK_ID
            for region in config.replica_regions
        },
    }
    standby = {
        names.SUFFIX_PARAM: suffix,
        names.ARTIFACT_PREFIX_PARAM: names.artifact_prefix(suffix, account),
        names.CODE_KEY_PARAM: code_key,
        routing.SECONDARY_REGION_PARAM: config.replica_regions[0],
    }
    return {REPLICA: replica, PRIMARY: primary, STANDBY: standby}


def concrete_names(
    config: Config, account: str = EXAMPLE_ACCOUNT, rendered_templates: list | None = None
) -> list[Name]:
    """Every physical name of the deployment, in every region it is made in."""
    from .build import render_all

    values = parameter_values(config, account)
    found: list[Name] = []
    for rendered in rendered_templates or render_all(config):
        template = json.loads(rendered.body)
        given = values.get(rendered.file_name, {})
        parameters = {
            key: str(given.get(key, spec.get("Default", "")))
            for key, spec in template.get("Parameters", {}).items()
        }
        kind = rendered.file_name.removesuffix(".template.json")
        ids = _sample_ids(template)
        for region in rendered.regions:
            context = {**ids, **parameters, "AWS::AccountId": account, "AWS::Region": region}
            found.extend(_template_names(template, kind, region, context))
    suffix = config.environment_suffix
    for kind in names.DEPLOY_ORDER:
        stack_set = names.stack_set(suffix, kind)
        found.append(Name(f"stack set {stack_set}", stack_set, STACK_SET_NAME))
        found.append(
            Name(
                f"the stacks of stack set {stack_set}",
                names.stack_instance_prefix(stack_set) + STACK_INSTANCE_ID,
                STACK_NAME,
            )
        )
    for region in config.regions:
        bucket = names.artifact_bucket(suffix, account, region)
        found.append(Name(f"artifact bucket in {region}", bucket, S3_BUCKET))
    return found


# Resources whose generated id has a fixed shape, so a name built from their ``Ref`` can be
# checked before deploy: a REST API id is 10 characters of [a-z0-9] ("Set up CloudWatch logging
# for REST APIs in API Gateway" names the execution-log group
# API-Gateway-Execution-Logs_{rest-api-id}/{stage-name}; the API ids in the API Gateway
# developer guide's examples, e.g. a1b2c3d4e5, are that shape).
SAMPLE_IDS = {"AWS::ApiGateway::RestApi": "a1b2c3d4e5"}


def _sample_ids(template: dict) -> dict[str, str]:
    """``Ref`` values, of the right length, for the resources in SAMPLE_IDS."""
    return {
        logical_id: SAMPLE_IDS[resource["Type"]]
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") in SAMPLE_IDS
    }


def _template_names(
    template: dict, kind: str, region: str, context: Mapping[str, str]
) -> Iterator[Name]:
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        for (resource_type, prop), rule in NAME_RULES.items():
            if resource["Type"] == resource_type and prop in properties:
                where = f"{kind} template {logical_id}.{prop} in {region}"
                value = resolve(properties[prop], context)
                declared_at = (kind, logical_id, prop)
                yield Name(where, value, rule, resource_type, prop, declared_at)
        for tag in properties.get("HealthCheckTags", []):
            if tag.get("Key") == "Name":
                where = f"{kind} template {logical_id} tag Name in {region}"
                declared_at = (kind, logical_id, "HealthCheckTags.Name")
                value = resolve(tag["Value"], context)
                yield Name(where, value, TAG_VALUE, declared_at=declared_at)
    for output_id, output in template.get("Outputs", {}).items():
        if "Export" in output:
            where = f"{kind} template export of {output_id} in {region}"
            declared_at = (kind, output_id, "Export.Name")
            value = resolve(output["Export"]["Name"], context)
            yield Name(where, value, EXPORT_NAME, declared_at=declared_at)


def resolve(value: object, context: Mapping[str, str]) -> str | None:
    """A name expression as CloudFormation would evaluate it; None when it depends on
    something only a deployed stack knows (another resource, an import)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" and argument in context:
            return context[argument]
        if function == "Fn::Sub":
            text, variables = sub_parts(argument)
            scope = dict(context)
            for key, expression in variables.items():
                scope[key] = resolve(expression, context)
            missing = [v for v in SUB_VARIABLE.findall(text) if scope.get(v) is None]
            if missing:
                return None
            return SUB_VARIABLE.sub(lambda m: scope[m.group(1)], text)
    return None


def name_problems(name: Name) -> list[str]:
    """What ``name`` breaks: its AWS rule, and the provider schema's constraint."""
    value, rule = name.value, name.rule
    if value is None:
        return [f"cannot be worked out before deploy (check {rule.what} by hand)"]
    problems = []
    if rule.max_length is not None and not rule.min_length <= len(value) <= rule.max_length:
        problems.append(
            f"{rule.what}s are {rule.min_length}-{rule.max_length} characters ({rule.source})"
        )
    if not re.fullmatch(rule.characters, value):
        problems.append(f"not a valid {rule.what} ({rule.source})")
    if problems:
        return problems  # the schema would only say the same again
    max_length, pattern = schema_constraint(name.resource_type, name.prop)
    if max_length is not None and len(value) > max_length:
        problems.append(f"over {max_length} characters ({name.resource_type} provider schema)")
    if pattern is not None and not re.search(pattern, value):
        problems.append(f"does not match {pattern} ({name.resource_type} provider schema)")
    return problems


@functools.cache
def schema_constraint(resource_type: str, prop: str) -> tuple[int | None, str | None]:
    """maxLength and pattern of a property in AWS's resource schema as cfn-lint ships it
    (none for custom resources, or where the schema says nothing)."""
    if not resource_type.startswith("AWS::"):
        return None, None
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    spec = schema.get("properties", {}).get(prop, {})
    reference = spec.get("$ref", "")
    if reference.startswith("#/definitions/"):
        spec = schema.get("definitions", {}).get(reference.removeprefix("#/definitions/"), {})
    return spec.get("maxLength"), spec.get("pattern")


def parameter_problems(template: dict, values: Mapping[str, str], where: str) -> Iterator[Problem]:
    """Each value that breaks its parameter's constraints, which CloudFormation checks only
    when the stack is created in a region (AWS CloudFormation User Guide, Parameters)."""
    for key, value in values.items():
        spec = template.get("Parameters", {}).get(key)
        if spec is None:
            continue
        text = str(value)
        label = f"{where} parameter {key}"
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, text):
            yield Problem(label, text, f"does not match its AllowedPattern {pattern}")
        if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
            yield Problem(label, text, f"longer than its MaxLength {spec['MaxLength']}")
        if "MinLength" in spec and len(text) < int(spec["MinLength"]):
            yield Problem(label, text, f"shorter than its MinLength {spec['MinLength']}")
        if "AllowedValues" in spec and text not in [str(v) for v in spec["AllowedValues"]]:
            yield Problem(label, text, f"not one of its AllowedValues {spec['AllowedValues']}")
        if spec.get("Type") == "Number":
            try:
                number = float(text)
            except ValueError:
                yield Problem(label, text, "not a number")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                yield Problem(label, text, f"below its MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                yield Problem(label, text, f"above its MaxValue {spec['MaxValue']}")


def problems(config: Config, account: str = EXAMPLE_ACCOUNT) -> list[Problem]:
    """Every name and parameter value of ``config`` that AWS would refuse."""
    from .build import render_all

    rendered_templates = render_all(config)
    found = [
        Problem(name.where, name.value or "?", limit)
        for name in concrete_names(config, account, rendered_templates)
        for limit in name_problems(name)
    ]
    values = parameter_values(config, account)
    for rendered in rendered_templates:
        if rendered.file_name in values:
            kind = rendered.file_name.removesuffix(".template.json")
            found.extend(
                parameter_problems(
                    json.loads(rendered.body), values[rendered.file_name], f"{kind} template"
                )
            )
    return found


@functools.lru_cache(maxsize=32)
def verify(config: Config) -> None:
    """ConfigError naming the first value AWS would refuse (and how many more there are)."""
    found = problems(config)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ConfigError(
            f"environment suffix {config.environment_suffix!r} with regions "
            f"{', '.join(config.regions)}: {found[0]}{more}"
        )
