"""Gaps in moto's existing CloudFormation behaviour, filled where CloudFormation differs.

- ``{{resolve:secretsmanager:...}}`` and ``{{resolve:ssm:...}}`` dynamic references: moto passes
  them through as text; CloudFormation resolves them before the resource sees its properties.
- REST APIs and Route 53 health checks: moto has no delete for them, so they outlived their
  stack; CloudFormation deletes them.
- API Gateway deployments and methods and Lambda permissions: moto creates them but gives them
  no physical id, so ``Ref`` to a deployment yielded the object instead of its id (a stage got a
  broken DeploymentId) and the stack listed them without a PhysicalResourceId.
- API Gateway methods: moto drops ``RequestValidatorId`` and ``RequestModels``, so ``GetMethod``
  did not show the body validation the template declares.
- DynamoDB stream records: with a stream mapping deployed, moto hands every new record to its
  own Lambda runtime (Docker, absent here) and then drops it, so no stream reader saw it. The
  records now stay in the stream, where Lambda's poller would read them on AWS.
- S3 bucket policies: moto ignores conditions, so a conditional Deny (TLS only, uploads only
  under KMS) denied every request. moto cannot see the request a condition is about, so
  statements with conditions are left out of its evaluation: the emulator does not enforce
  them (AWS does), rather than refusing everything.
- Resources whose ``Condition`` is false: moto listed each one in ListStackResources (and
  DescribeStackResources) as an entry without a logical id, type or physical id; CloudFormation
  does not list a resource it did not create.
- ``Custom::*`` types: moto sends every one to its CustomModel, which invokes the provider
  Lambda in Docker (absent here). A custom type with a project model (``Custom::TableStream``)
  is served by that model; other custom types still go to moto's.
- API Gateway custom domain names: moto gives every one CloudFront's hosted zone id
  (Z2FDTNDATAQYW2) as ``regionalHostedZoneId``, so an alias record to a regional domain named
  the wrong zone; it is now API Gateway's regional zone of the domain's region. GetBasePathMappings
  failed (KeyError, HTTP 500) for a domain without mappings, and mappings outlived their domain
  (a domain created again under the same name had them back); now the list is empty and the
  mappings go with their domain, as in AWS.
- Route 53 record sets from CloudFormation: deleting (or replacing) one record deleted every
  record of its name and type, so deleting the stack of one half of a failover pair (same name,
  other SetIdentifier) deleted the other stack's half too. Now only the record with the same
  name, type and SetIdentifier goes. Their names are stored fully qualified (trailing dot), as
  Route 53 lists them and as moto's ChangeResourceRecordSets already stores them; ``Ref`` stays
  the name as the template gives it.
- Route 53 ChangeResourceRecordSets DELETE: moto accepted one only for a record its own change
  journal held, which records from CloudFormation never enter ("Expected exactly one of
  [AliasTarget, all of [TTL, and ResourceRecords]] ..."), and a DELETE with a SetIdentifier
  removed every record of that SetIdentifier, whatever its name. Now, as in Route 53, a DELETE
  removes the zone's record of its name, type and SetIdentifier, however that record was made,
  when the values given are the record's; it is refused (InvalidChangeBatch) when there is no
  such record or the values differ. A batch applies whole or not at all.
- A stack update changed a resource whose condition is false (absent) as if it existed, from
  ``None``, and failed the stack; now such a resource stays absent.
- Route 53 health checks from CloudFormation: moto's model dropped EnableSNI, MeasureLatency,
  Inverted, Disabled, HealthThreshold, ChildHealthChecks, Regions and HealthCheckTags, and had no
  update (a stack update left the resource without its ids, and the check then outlived the
  stack). All are carried now, and an update changes the check in place (same id, tags as the
  template gives them), except a change of Type, MeasureLatency or RequestInterval, which Route 53
  cannot make: CloudFormation replaces the check then, and so does the emulator. A deleted
  check's tags go with it.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from moto.apigateway.models import (
    APIGatewayBackend,
    Deployment,
    DomainName,
    Method,
    RestAPI,
    apigateway_backends,
)
from moto.awslambda.models import LambdaBackend, Permission
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.route53.exceptions import DnsNameInvalidForZone, NoSuchHostedZone, Route53ClientError
from moto.route53.models import (
    FakeZone,
    HealthCheck,
    RecordSet,
    Route53Backend,
    route53_backends,
)
from moto.route53.utils import validate_domain_name
from moto.s3.models import FakeBucket
from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm.models import ssm_backends
from moto.utilities.utils import get_partition

DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm):([^}]*)\}\}")


def resolve_dynamic_references(value: Any, account_id: str, region_name: str) -> Any:
    """Every dynamic reference in ``value`` (any JSON shape) replaced by what it names."""
    if isinstance(value, dict):
        return {k: resolve_dynamic_references(v, account_id, region_name) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_dynamic_references(v, account_id, region_name) for v in value]
    if isinstance(value, str) and "{{resolve:" in value:
        return DYNAMIC_REFERENCE.sub(lambda m: _resolve(m, account_id, region_name), value)
    return value


def _resolve(match: re.Match, account_id: str, region_name: str) -> str:
    service, body = match.groups()
    if service == "ssm":
        name = body.split(":")[0]
        return ssm_backends[account_id][region_name].get_parameter(name).value
    # secret-id may be an ARN (colons included): split on the SecretString marker.
    secret_id, _, rest = body.partition(":SecretString:")
    json_key, version_stage, version_id = (rest.split(":") + ["", "", ""])[:3]
    secret = secretsmanager_backends[account_id][region_name].get_secret_value(
        secret_id, version_id or None, version_stage or None
    )
    text = secret["SecretString"]
    return str(json.loads(text)[json_key]) if json_key else text


def _patch_dynamic_references() -> None:
    original = parsing.parse_resource
    if getattr(original, "_resolves_dynamic_references", False):
        return

    def parse_resource(resource_json: dict, resources_map: Any) -> Any:
        parsed = original(resource_json, resources_map)
        if not parsed:
            return parsed
        resource_class, cleaned, resource_type = parsed
        cleaned = resolve_dynamic_references(
            cleaned, resources_map._account_id, resources_map._region_name
        )
        return resource_class, cleaned, resource_type

    parse_resource._resolves_dynamic_references = True  # type: ignore[attr-defined]
    parsing.parse_resource = parse_resource


def _give_physical_id(model: type, make_id: Any) -> None:
    """Wrap ``model``'s creation so the object carries the id CloudFormation would report."""
    create = model.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(create, "_gives_physical_id", False):
        return

    def create_with_id(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # noqa: ANN001
        resource = create(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        resource._physical_id = make_id(resource, resource_name, cloudformation_json["Properties"])
        return resource

    create_with_id._gives_physical_id = True  # type: ignore[attr-defined]
    model.create_from_cloudformation_json = classmethod(create_with_id)  # type: ignore[assignment]
    model.physical_resource_id = property(lambda self: getattr(self, "_physical_id", None))  # type: ignore[assignment]


def _keep_method_validation() -> None:
    create = Method.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(create, "_keeps_validation", False):
        return

    def create_with_validation(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001, E501
        method = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        props = cloudformation_json["Properties"]
        if props.get("RequestValidatorId") or props.get("RequestModels"):
            stored = (
                apigateway_backends[account_id][region_name]
                .get_resource(props["RestApiId"], props["ResourceId"])
                .resource_methods[props["HttpMethod"]]
            )
            stored.request_validator_id = props.get("RequestValidatorId")
            stored.request_models = props.get("RequestModels")
        return method

    create_with_validation._keeps_validation = True  # type: ignore[attr-defined]
    Method.create_from_cloudformation_json = classmethod(create_with_validation)  # type: ignore[assignment]


def _keep_rest_api_tags() -> None:
    """moto's RestApi model drops the template's Tags. API Gateway keeps them, and a REST API's
    children inherit them for access control ("API Gateway resources that can be tagged"), which
    the execution role's tag conditions rely on (iam_check.inherited_tags)."""
    create = RestAPI.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(create, "_keeps_tags", False):
        return

    def create_with_tags(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001, E501
        api = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        tags = cloudformation_json["Properties"].get("Tags") or []
        api.tags = {tag["Key"]: tag["Value"] for tag in tags}
        return api

    create_with_tags._keeps_tags = True  # type: ignore[attr-defined]
    RestAPI.create_from_cloudformation_json = classmethod(create_with_tags)  # type: ignore[assignment]


def _keep_stream_records(self: Any, function_arn: str, items: list, source: str) -> str:
    return ""  # nothing delivered: the records stay in the stream for a poller to read


def _delete_rest_api(cls, resource_name, cloudformation_json, account_id, region_name):  # noqa: ANN001
    apigateway_backends[account_id][region_name].delete_rest_api(resource_name)


def _delete_health_check(cls, resource_name, cloudformation_json, account_id, region_name):  # noqa: ANN001
    backend = route53_backends[account_id][get_partition(region_name)]
    backend.delete_health_check(resource_name)
    backend.resource_tags.pop(resource_name, None)


# What Route 53 cannot change on an existing check (the createOnlyProperties of CloudFormation's
# AWS::Route53::HealthCheck schema): a change to one of them replaces the check.
HEALTH_CHECK_CREATE_ONLY = ("type_", "measure_latency", "request_interval")


def _health_check_args(config: dict[str, Any]) -> dict[str, Any]:
    """A template's HealthCheckConfig as moto's backend takes it (CreateHealthCheck's)."""

    def integer(key: str) -> int | None:
        return None if config.get(key) is None else int(config[key])

    def boolean(key: str) -> bool | None:
        return None if config.get(key) is None else _boolean(config[key])

    return {
        "ip_address": config.get("IPAddress"),
        "port": integer("Port"),
        "type": config["Type"],
        "resource_path": config.get("ResourcePath"),
        "fqdn": config.get("FullyQualifiedDomainName"),
        "search_string": config.get("SearchString"),
        "request_interval": integer("RequestInterval"),
        "failure_threshold": integer("FailureThreshold"),
        "health_threshold": integer("HealthThreshold"),
        "measure_latency": boolean("MeasureLatency"),
        "inverted": boolean("Inverted"),
        "disabled": boolean("Disabled"),
        "enable_sni": boolean("EnableSNI"),
        "children": config.get("ChildHealthChecks") or [],
        "regions": config.get("Regions") or [],
    }


def _tag_health_check(backend: Route53Backend, check_id: str, tags: list[dict]) -> None:
    """The check's tags become exactly ``tags`` (HealthCheckTags)."""
    wanted = {tag["Key"]: tag["Value"] for tag in tags}
    gone = [key for key in backend.list_tags_for_resource(check_id) if key not in wanted]
    added = [{"Key": key, "Value": value} for key, value in wanted.items()]
    backend.change_tags_for_resource("healthcheck", check_id, added, gone)


def _create_health_check(
    cls: type[HealthCheck],
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> HealthCheck:
    props = cloudformation_json["Properties"]
    backend = route53_backends[account_id][get_partition(region_name)]
    check = backend.create_health_check(
        caller_reference=resource_name,
        health_check_args=_health_check_args(props["HealthCheckConfig"]),
    )
    _tag_health_check(backend, check.id, props.get("HealthCheckTags") or [])
    return check


def _update_health_check(
    cls: type[HealthCheck],
    original_resource: HealthCheck,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> HealthCheck:
    """In place (same id), as Route 53 updates a check, unless a property it cannot change
    changed: then a new check, and the old one goes."""
    props = cloudformation_json["Properties"]
    backend = route53_backends[account_id][get_partition(region_name)]
    check = backend.get_health_check(original_resource.id)
    args = _health_check_args(props["HealthCheckConfig"])
    # Built as on creation, so a property the template no longer gives is back to its default.
    updated = HealthCheck(check.id, check.caller_reference, args)
    if any(getattr(updated, name) != getattr(check, name) for name in HEALTH_CHECK_CREATE_ONLY):
        replacement = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        _delete_health_check(cls, check.id, cloudformation_json, account_id, region_name)
        return replacement
    updated.set_children(args["children"])
    updated.set_regions(args["regions"])
    updated.health_check_version = check.health_check_version
    vars(check).update(vars(updated))
    _tag_health_check(backend, check.id, props.get("HealthCheckTags") or [])
    return check


def _bucket_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(self.policy.decode())
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    kept = [s for s in statements if not s.get("Condition")]
    return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(
        action, resource
    )


def _serve_project_custom_types() -> None:
    """``Custom::X`` goes to the project model of that type when there is one (moto's own
    lookup sends every custom type to CustomModel before it looks at the model map)."""
    original = parsing.resource_class_from_type
    if getattr(original, "_serves_project_custom_types", False):
        return

    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type.startswith("Custom::"):
            model = parsing.get_model_map().get(resource_type)
            if model is not None:
                return model
        return original(resource_type)

    resource_class_from_type._serves_project_custom_types = True  # type: ignore[attr-defined]
    parsing.resource_class_from_type = resource_class_from_type


# API Gateway's regional hosted zone per region (AWS General Reference, "Amazon API Gateway
# endpoints and quotas"): the zone an alias record to a regional custom domain names.
APIGATEWAY_REGIONAL_HOSTED_ZONES = {
    "af-south-1": "Z2DHW2332DAMTN",
    "ap-east-1": "Z3FD1VL90ND7K5",
    "ap-east-2": "Z02909591O7FG9Q56HWB1",
    "ap-northeast-1": "Z1YSHQZHG15GKL",
    "ap-northeast-2": "Z20JF4UZKIW1U8",
    "ap-northeast-3": "Z22ILHG95FLSZ2",
    "ap-south-1": "Z3VO1THU9YC4UR",
    "ap-south-2": "Z0853509Q1135NJ66RUH",
    "ap-southeast-1": "ZL327KTPIQFUL",
    "ap-southeast-2": "Z2RPCDW04V8134",
    "ap-southeast-3": "Z10132843TYUYSLUG4HA3",
    "ap-southeast-4": "Z092189423Y7RJK61311D",
    "ap-southeast-5": "Z0314042F0KBUTZ3X5HF",
    "ap-southeast-6": "Z01392953RKV2Q3RBP0KU",
    "ap-southeast-7": "Z048508712PZLK5NKG8R0",
    "ca-central-1": "Z19DQILCV0OWEC",
    "ca-west-1": "Z04745493436AWVTG1OQY",
    "eu-central-1": "Z1U9ULNL0V5AJ3",
    "eu-central-2": "Z09222482MK253X48U76H",
    "eu-north-1": "Z3UWIKFBOOGXPP",
    "eu-south-1": "Z3BT4WSQ9TDYZV",
    "eu-south-2": "Z02499852UI5HEQ5JVWX3",
    "eu-west-1": "ZLY8HYME6SFDD",
    "eu-west-2": "ZJ5UAJN8Y3Z2Q",
    "eu-west-3": "Z3KY65QIEKYHQQ",
    "il-central-1": "Z07264553HBI44N5X2CKP",
    "me-central-1": "Z08780021BKYYY8U0YHTV",
    "me-south-1": "Z20ZBPC0SS8806",
    "mx-central-1": "Z00020171WIGL5M88SHRM",
    "sa-east-1": "ZCMLWB8V5SYIT",
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-gov-east-1": "Z3SE9ATJYCRCZJ",
    "us-gov-west-1": "Z1K6XKP9SAGWDV",
    "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC",
}
# For a region missing above: plainly the emulator's, never a real zone of another service.
UNKNOWN_REGIONAL_HOSTED_ZONE = "ZEMULATORUNKNOWNAPIGATEWAYZONE"


def regional_hosted_zone_id(region_name: str) -> str:
    return APIGATEWAY_REGIONAL_HOSTED_ZONES.get(region_name, UNKNOWN_REGIONAL_HOSTED_ZONE)


def _fix_domain_names() -> None:
    """API Gateway's regional hosted zone; base path mappings that live and die with their
    domain name."""
    create, delete = APIGatewayBackend.create_domain_name, APIGatewayBackend.delete_domain_name
    if getattr(create, "_fixed", False):
        return

    def create_domain_name(self: APIGatewayBackend, *args: Any, **kwargs: Any) -> DomainName:
        domain = create(self, *args, **kwargs)
        domain.regional_hosted_zone_id = regional_hosted_zone_id(self.region_name)
        # An empty mapping table: moto's lookups of a domain's mappings assume one.
        self.base_path_mappings.setdefault(domain.domain_name, {})
        return domain

    def delete_domain_name(self: APIGatewayBackend, domain_name: str) -> None:
        delete(self, domain_name)
        self.base_path_mappings.pop(domain_name, None)

    create_domain_name._fixed = True  # type: ignore[attr-defined]
    APIGatewayBackend.create_domain_name = create_domain_name  # type: ignore[method-assign]
    APIGatewayBackend.delete_domain_name = delete_domain_name  # type: ignore[method-assign]


def _fix_record_sets() -> None:
    """Record names fully qualified, ``Ref`` the template's name, delete and replace by name,
    type and SetIdentifier."""
    create = RecordSet.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(create, "_fixed", False):
        return

    def create_record_set(
        cls: type[RecordSet],
        resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> RecordSet:
        props = cloudformation_json["Properties"]
        name = props["Name"]
        qualified = {**props, "Name": name if name.endswith(".") else f"{name}."}
        record = create(
            cls,
            resource_name,
            {**cloudformation_json, "Properties": qualified},
            account_id,
            region_name,
            **kwargs,
        )
        record._physical_id = name
        return record

    def update_record_set(
        cls: type[RecordSet],
        original_resource: RecordSet,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> RecordSet:
        """Replaced: this record goes (not every record of its name), the new one comes."""
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    create_record_set._fixed = True  # type: ignore[attr-defined]
    RecordSet.create_from_cloudformation_json = classmethod(create_record_set)  # type: ignore[assignment]
    RecordSet.update_from_cloudformation_json = classmethod(update_record_set)  # type: ignore[assignment]
    RecordSet.delete = _delete_record_set  # type: ignore[method-assign]
    RecordSet.physical_resource_id = property(  # type: ignore[assignment]
        lambda self: getattr(self, "_physical_id", self.name)
    )


def _delete_record_set(self: RecordSet, account_id: str, region: str) -> None:
    """This record only: a record set is its name, type and SetIdentifier."""
    backend = route53_backends[account_id][get_partition(region)]
    zone = backend.get_hosted_zone_by_name(self.hosted_zone_name) if self.hosted_zone_name else None
    try:
        zone = zone or backend.get_hosted_zone(self.hosted_zone_id)
    except NoSuchHostedZone:
        return  # gone with its zone
    mine = (self.name, self.type, self.set_identifier)
    zone.rrsets = [r for r in zone.rrsets if (r.name, r.type, r.set_identifier) != mine]


def _fix_record_set_changes() -> None:
    """ChangeResourceRecordSets: a DELETE removes the record the zone holds with the change's
    name, type and SetIdentifier, when the values match; a batch applies whole or not at all."""
    original = Route53Backend.change_resource_record_sets
    if getattr(original, "_fixed", False):
        return

    def change_resource_record_sets(
        self: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]
    ) -> None:
        zone = self.get_hosted_zone(zoneid)
        records, journal = list(zone.rrsets), len(zone.rr_changes)
        try:
            for change in change_list:
                if change["Action"] == "DELETE":
                    _delete_change(zone, change)
                else:
                    original(self, zoneid, [change])
        except Exception:
            zone.rrsets = records
            del zone.rr_changes[journal:]
            raise

    change_resource_record_sets._fixed = True  # type: ignore[attr-defined]
    Route53Backend.change_resource_record_sets = change_resource_record_sets  # type: ignore[method-assign]


def _delete_change(zone: FakeZone, change: dict[str, Any]) -> None:
    requested = change["ResourceRecordSet"]
    name = requested["Name"]
    validate_domain_name(name, code="InvalidChangeBatch")
    if not (_fqdn(name) == _fqdn(zone.name) or _fqdn(name).endswith(f".{_fqdn(zone.name)}")):
        raise DnsNameInvalidForZone(name=name, zone_name=zone.name)
    key = (_fqdn(name), requested["Type"], requested.get("SetIdentifier"))
    described = f"[name='{_fqdn(name)}', type='{requested['Type']}'" + (
        f", set-identifier='{key[2]}']" if key[2] is not None else "]"
    )
    found = [r for r in zone.rrsets if (_fqdn(r.name), r.type, r.set_identifier) == key]
    if not found:
        raise Route53ClientError(
            "InvalidChangeBatch",
            f"[Tried to delete resource record set {described} but it was not found]",
        )
    if _record_values(requested) != _record_values(_as_requested(found[0])):
        raise Route53ClientError(
            "InvalidChangeBatch",
            f"[Tried to delete resource record set {described} but the values provided do not "
            "match the current values]",
        )
    zone.rrsets = [r for r in zone.rrsets if r not in found]
    zone.rr_changes.append(copy.deepcopy(change))


def _fqdn(name: str) -> str:
    """A DNS name as Route 53 compares it: case-insensitive, fully qualified."""
    return name.rstrip(".").lower() + "."


def _as_requested(record: RecordSet) -> dict[str, Any]:
    """A stored record in the shape of a change's ResourceRecordSet."""
    return {
        "TTL": record.ttl,
        "ResourceRecords": [
            value if isinstance(value, dict) else {"Value": value} for value in record.records or []
        ],
        "AliasTarget": record.alias_target,
        "HealthCheckId": record.health_check_id,
        "Weight": record.weight,
        "Region": record.region,
        "Failover": record.failover,
        "GeoLocation": record.geo_location,
        "MultiValueAnswer": record.multi_value_answer,
    }


def _record_values(record: dict[str, Any]) -> tuple:
    """What a DELETE must give as the record holds it, whichever way it was written (API or
    template: numbers and booleans may be text, alias names with or without the final dot)."""
    alias = record.get("AliasTarget")
    ttl, weight = record.get("TTL"), record.get("Weight")
    multi_value = record.get("MultiValueAnswer")
    return (
        None if ttl is None else int(ttl),
        tuple(sorted(str(r["Value"]) for r in record.get("ResourceRecords") or [])),
        None
        if alias is None
        else (
            alias["HostedZoneId"],
            _fqdn(alias["DNSName"]),
            _boolean(alias.get("EvaluateTargetHealth", False)),
        ),
        record.get("HealthCheckId"),
        None if weight is None else int(weight),
        record.get("Region"),
        record.get("Failover"),
        tuple(sorted((record.get("GeoLocation") or {}).items())),
        None if multi_value is None else _boolean(multi_value),
    )


def _boolean(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _list_only_created_resources() -> None:
    listed = cfn_models.Stack.stack_resources.fget

    def stack_resources(stack: cfn_models.Stack) -> list:
        # A resource skipped by its condition is None in moto's resource map.
        return [resource for resource in listed(stack) if resource is not None]

    cfn_models.Stack.stack_resources = property(stack_resources)  # type: ignore[assignment]


def _skip_updates_of_absent_resources() -> None:
    """A resource whose condition is false does not exist, so a change to its properties is
    nothing to update (CloudFormation user guide, "Conditions": a resource with a false
    condition is not created). moto updated it anyway, from ``None``, and failed the stack."""
    original = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id, resource_json, resources_map, *args, **kwargs):
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        return original(logical_id, resource_json, resources_map, *args, **kwargs)

    parsing.parse_and_update_resource = parse_and_update_resource


def install() -> None:
    _list_only_created_resources()
    _skip_updates_of_absent_resources()
    _serve_project_custom_types()
    _fix_domain_names()
    _fix_record_sets()
    _fix_record_set_changes()
    _patch_dynamic_references()
    _keep_method_validation()
    _keep_rest_api_tags()
    LambdaBackend.send_dynamodb_items = _keep_stream_records  # type: ignore[method-assign]
    _give_physical_id(Deployment, lambda deployment, name, props: deployment.id)
    _give_physical_id(
        Method,
        lambda method, name, props: (
            f"{props['RestApiId']}-{props['ResourceId']}-{props['HttpMethod']}"
        ),
    )
    _give_physical_id(Permission, lambda permission, name, props: name)
    RestAPI.delete_from_cloudformation_json = classmethod(_delete_rest_api)  # type: ignore[assignment]
    HealthCheck.create_from_cloudformation_json = classmethod(_create_health_check)  # type: ignore[assignment]
    HealthCheck.update_from_cloudformation_json = classmethod(_update_health_check)  # type: ignore[assignment]
    HealthCheck.delete_from_cloudformation_json = classmethod(_delete_health_check)  # type: ignore[assignment]
    FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]
