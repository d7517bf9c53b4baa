"""The REST API, functions and stream mapping as deployed: read back from the emulator, not assumed.

Everything the local gateway does comes from here: which paths and methods exist, how each one
authorizes its caller (``authorizationType``), which Lambda function each one invokes, the
stage's throttling, the gateway responses and the request validators. A change to the templates
changes the local API after the next deploy, with no edit in this package.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations
_LAMBDA_URI = re.compile(
    r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(.+)/invocations$"
)


@dataclass(frozen=True)
class Limit:
    """A token bucket's refill rate (requests per second) and size (burst)."""

    rate: float
    burst: int


@dataclass(frozen=True)
class Method:
    http_method: str
    authorization_type: str  # NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
    integration_type: str
    function_arn: str | None  # the function an AWS_PROXY integration invokes
    validate_body: bool
    # Content type -> JSON schema of the body, for the methods whose validator checks bodies.
    body_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    resource_id: str
    path: str
    methods: dict[str, Method]


@dataclass(frozen=True)
class GatewayResponse:
    response_type: str
    status: int | None  # None: the type's default status
    headers: dict[str, str]  # static values only ('...' in the response parameters)
    templates: dict[str, str]


@dataclass(frozen=True)
class DeployedApi:
    region: str
    account: str
    api_id: str
    name: str
    stage: str
    stage_variables: dict[str, str]
    binary_media_types: tuple[str, ...]
    resources: tuple[Resource, ...]
    # "<resource path>/<METHOD>" ("*/*" for every method) -> the stage's throttle
    stage_throttles: dict[str, Limit]
    gateway_responses: dict[str, GatewayResponse]


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    region: str
    handler: str  # module.function
    environment: dict[str, str]
    timeout_s: int
    memory_mb: int


@dataclass(frozen=True)
class StreamMapping:
    """The event source mapping from the table's stream to the audit writer."""

    uuid: str
    stream_arn: str
    function_arn: str
    batch_size: int
    batching_window_s: float
    starting_position: str
    maximum_retry_attempts: int
    report_batch_item_failures: bool
    on_failure_arn: str | None
    enabled: bool


def _limit(rate: Any, burst: Any) -> Limit | None:
    if rate is None and burst is None:
        return None
    return Limit(float(rate or 0), int(burst or 0))


def read_api(aws: Any, region: str, api_id: str, stage: str) -> DeployedApi:
    """``aws(service, region)`` returns a boto3 client on the emulator (or AWS)."""
    apigateway = aws("apigateway", region)
    api = apigateway.get_rest_api(restApiId=api_id)
    models = {m["name"]: m for m in _items(apigateway.get_models, restApiId=api_id)}
    validators = {v["id"]: v for v in _items(apigateway.get_request_validators, restApiId=api_id)}

    resources = []
    for item in _items(apigateway.get_resources, restApiId=api_id):
        methods = {}
        for http_method in item.get("resourceMethods") or {}:
            method = apigateway.get_method(
                restApiId=api_id, resourceId=item["id"], httpMethod=http_method
            )
            methods[http_method] = _method(method, validators, models)
        resources.append(Resource(item["id"], item["path"], methods))

    stage_info = apigateway.get_stage(restApiId=api_id, stageName=stage)
    stage_throttles = {}
    for key, setting in (stage_info.get("methodSettings") or {}).items():
        limit = _limit(setting.get("throttlingRateLimit"), setting.get("throttlingBurstLimit"))
        if limit is not None:
            stage_throttles[key] = limit

    responses = {}
    for item in _items(apigateway.get_gateway_responses, restApiId=api_id):
        parameters = item.get("responseParameters") or {}
        headers = {
            name.removeprefix("gatewayresponse.header."): value[1:-1]
            for name, value in parameters.items()
            if name.startswith("gatewayresponse.header.")
            and len(value) >= 2
            and value[0] == value[-1] == "'"
        }
        responses[item["responseType"]] = GatewayResponse(
            item["responseType"],
            int(item["statusCode"]) if item.get("statusCode") else None,
            headers,
            dict(item.get("responseTemplates") or {}),
        )
    account = aws("sts", region).get_caller_identity()["Account"]
    return DeployedApi(
        region=region,
        account=account,
        api_id=api_id,
        name=api.get("name", api_id),
        stage=stage,
        stage_variables=dict(stage_info.get("variables") or {}),
        binary_media_types=tuple(api.get("binaryMediaTypes") or ()),
        resources=tuple(resources),
        stage_throttles=stage_throttles,
        gateway_responses=responses,
    )


def _method(method: dict, validators: dict[str, dict], models: dict[str, dict]) -> Method:
    integration = method.get("methodIntegration") or {}
    match = _LAMBDA_URI.match(integration.get("uri") or "")
    validator = validators.get(method.get("requestValidatorId") or "") or {}
    schemas = {}
    if validator.get("validateRequestBody"):
        for content_type, model_name in (method.get("requestModels") or {}).items():
            model = models.get(model_name)
            if model and model.get("schema"):
                schemas[content_type.lower()] = json.loads(model["schema"])
    return Method(
        http_method=method["httpMethod"],
        authorization_type=method.get("authorizationType") or "NONE",
        integration_type=integration.get("type", ""),
        function_arn=match.group(1) if match else None,
        validate_body=bool(validator.get("validateRequestBody")),
        body_schemas=schemas,
    )


def read_function(aws: Any, function_arn: str) -> Function:
    region = function_arn.split(":")[3]
    config = aws("lambda", region).get_function_configuration(FunctionName=function_arn)
    return Function(
        name=config["FunctionName"],
        arn=config["FunctionArn"],
        region=region,
        handler=config["Handler"],
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        timeout_s=int(config.get("Timeout") or 3),
        memory_mb=int(config.get("MemorySize") or 128),
    )


def read_stream_mappings(aws: Any, region: str, stream_arn: str) -> list[StreamMapping]:
    """The event source mappings that read ``stream_arn`` (the audit writer's, as deployed)."""
    mappings = []
    client = aws("lambda", region)
    for item in _items(client.list_event_source_mappings, EventSourceArn=stream_arn):
        if item.get("EventSourceArn") != stream_arn:
            continue  # moto ignores the filter
        destination = ((item.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        mappings.append(
            StreamMapping(
                uuid=item["UUID"],
                stream_arn=stream_arn,
                function_arn=item["FunctionArn"],
                batch_size=int(item.get("BatchSize") or 100),
                batching_window_s=float(item.get("MaximumBatchingWindowInSeconds") or 0),
                starting_position=item.get("StartingPosition") or "TRIM_HORIZON",
                maximum_retry_attempts=int(
                    -1 if item.get("MaximumRetryAttempts") is None else item["MaximumRetryAttempts"]
                ),
                report_batch_item_failures="ReportBatchItemFailures"
                in (item.get("FunctionResponseTypes") or []),
                on_failure_arn=destination,
                enabled=item.get("State", "Enabled") in ("Enabled", "Enabling", "Creating"),
            )
        )
    return mappings


def _items(call: Any, **kwargs: Any) -> list[dict]:
    """Every item of an API Gateway list call (``position`` paging) or a Lambda list call."""
    items: list[dict] = []
    while True:
        page = call(**kwargs)
        items.extend(page.get("items") or page.get("item") or page.get("EventSourceMappings") or [])
        token = page.get("position") or page.get("NextMarker")
        if not token or token == kwargs.get("position") or token == kwargs.get("Marker"):
            return items
        kwargs["position" if "position" in page else "Marker"] = token
