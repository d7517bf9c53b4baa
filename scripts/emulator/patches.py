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
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.apigateway.models import Deployment, Method, RestAPI, apigateway_backends
from moto.awslambda.models import LambdaBackend, Permission
from moto.cloudformation import parsing
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.route53.models import HealthCheck, route53_backends
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


def _keep_stream_records(self: Any, function_arn: str, items: list, source: str) -> str:
    return ""  # nothing delivered: the records stay in the stream for a poller to read


def _delete_rest_api(cls, resource_name, cloudformation_json, account_id, region_name):  # noqa: ANN001
    apigateway_backends[account_id][region_name].delete_rest_api(resource_name)


def _delete_health_check(cls, resource_name, cloudformation_json, account_id, region_name):  # noqa: ANN001
    route53_backends[account_id][get_partition(region_name)].delete_health_check(resource_name)


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


def install() -> None:
    _patch_dynamic_references()
    _keep_method_validation()
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
    HealthCheck.delete_from_cloudformation_json = classmethod(_delete_health_check)  # type: ignore[assignment]
    FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]
