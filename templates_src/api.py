"""The regional REST API in front of the processor.

``POST /process`` needs the API key; ``GET /health`` does not, because Route 53 health checkers
cannot send headers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Template
from troposphere.apigateway import (
    AccessLogSetting,
    ApiKey,
    ApiStage,
    Deployment,
    EndpointConfiguration,
    GatewayResponse,
    Integration,
    Method,
    MethodSetting,
    Model,
    QuotaSettings,
    RequestValidator,
    Resource,
    RestApi,
    Stage,
    ThrottleSettings,
    UsagePlan,
    UsagePlanKey,
)
from troposphere.awslambda import Permission
from troposphere.logs import LogGroup

from . import iam, logs
from .common import STAGE_NAME, SUFFIX_PARAM, name, suppress, tags
from .config import Config

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "requestTime": "$context.requestTimeEpoch",
        "ip": "$context.identity.sourceIp",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "apiKeyId": "$context.identity.apiKeyId",
        "errorType": "$context.error.responseType",
        "xrayTraceId": "$context.xrayTraceId",
        # Evidence that every client spoke TLS 1.2 or later (PCI DSS 4.2.1).
        "tlsVersion": "$context.tlsVersion",
        "cipherSuite": "$context.cipherSuite",
    },
    sort_keys=True,
    separators=(",", ":"),
)


# The default execute-api endpoint of a REGIONAL API accepts TLS 1.0 unless told otherwise
# (API Gateway, "Choose a security policy for your REST API custom domain" and "Security
# policies for REST APIs in API Gateway"). This enhanced policy takes TLS 1.3 and 1.2 only; an
# enhanced policy requires an endpoint access mode, and STRICT also refuses requests whose SNI
# host does not match the endpoint (no domain fronting). Used on the API and the custom domain.
SECURITY_POLICY = "SecurityPolicy_TLS13_1_2_2021_06"
ENDPOINT_ACCESS_MODE = "STRICT"


# The gateway checks only that the body is a JSON object. Field rules stay in the handler,
# which names every failing field in `details` (CONTRACT §2); a gateway model that checked
# fields would reject with a message that names none of them.
PAYMENT_REQUEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "PaymentRequest",
    "description": "POST /process body: a JSON object; field rules are enforced by the handler",
    "type": "object",
}

# Gateway-generated errors in the contract's error shape: (status, code, message). Types and
# default statuses: "Gateway response types for API Gateway". REQUEST_TOO_LARGE is a body over
# the 10 MB REST API payload quota ("Amazon API Gateway quotas"), which never reaches the
# handler; the contract calls a too-large body PAYLOAD_TOO_LARGE whoever refuses it.
GATEWAY_ERRORS = {
    "BAD_REQUEST_BODY": ("400", "INVALID_JSON", "The request body must be a JSON object"),
    "INVALID_API_KEY": ("403", "FORBIDDEN", "A valid API key is required"),
    "MISSING_AUTHENTICATION_TOKEN": ("404", "NOT_FOUND", "No such route"),
    "REQUEST_TOO_LARGE": ("413", "PAYLOAD_TOO_LARGE", "The request body exceeds 10 MiB"),
    "THROTTLED": ("429", "RATE_LIMITED", "Too many requests"),
    "QUOTA_EXCEEDED": ("429", "QUOTA_EXCEEDED", "Daily request quota exceeded"),
    "DEFAULT_4XX": (None, "REQUEST_REJECTED", "The request was rejected"),
    "DEFAULT_5XX": (None, "INTERNAL_ERROR", "Internal error"),
}
RETRY_AFTER_S = {"THROTTLED": 1, "QUOTA_EXCEEDED": 3600}


@dataclass(frozen=True)
class Api:
    rest_api: RestApi
    stage: Stage
    api_key: ApiKey
    usage_plan: UsagePlan
    access_log_group: LogGroup


def api_name() -> Sub:
    return name("api")


def invoke_url(rest_api: RestApi) -> Sub:
    return Sub(
        f"https://${{{rest_api.title}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{STAGE_NAME}"
    )


def _gateway_responses(rest_api: RestApi) -> list[GatewayResponse]:
    responses = []
    for response_type, (status, code, message) in GATEWAY_ERRORS.items():
        body = json.dumps(
            {"error": {"code": code, "message": message, "request_id": "$context.requestId"}},
            separators=(",", ":"),
        )
        props: dict[str, object] = {
            "RestApiId": Ref(rest_api),
            "ResponseType": response_type,
            "ResponseTemplates": {"application/json": body},
        }
        if status:
            props["StatusCode"] = status
        if response_type in RETRY_AFTER_S:
            props["ResponseParameters"] = {
                "gatewayresponse.header.Retry-After": f"'{RETRY_AFTER_S[response_type]}'"
            }
        title = "".join(part.capitalize() for part in response_type.split("_")) + "Response"
        responses.append(GatewayResponse(title, **props))
    return responses


def _lambda_method(
    title: str, rest_api: RestApi, resource: Resource, verb: str, function: object, key: bool
) -> Method:
    return Method(
        title,
        RestApiId=Ref(rest_api),
        ResourceId=Ref(resource),
        HttpMethod=verb,
        AuthorizationType="NONE",
        ApiKeyRequired=key,
        Integration=Integration(
            Type="AWS_PROXY",
            IntegrationHttpMethod="POST",
            Uri=Sub(
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                f"functions/${{{function.title}.Arn}}/invocations"
            ),
        ),
    )


def _invoke_permission(title: str, rest_api: RestApi, function: object, verb: str, path: str):
    return Permission(
        title,
        Action="lambda:InvokeFunction",
        FunctionName=Ref(function),
        Principal="apigateway.amazonaws.com",
        SourceArn=Sub(
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            f"${{{rest_api.title}}}/{STAGE_NAME}/{verb}{path}"
        ),
    )


def _deployment_title(parts: list) -> str:
    """A deployment's logical ID changes with the API it deploys.

    CloudFormation never redeploys a REST API on its own: a new deployment is a new resource.
    """
    body = json.dumps([p.to_dict() for p in parts], sort_keys=True, default=str)
    return "ApiDeployment" + hashlib.sha256(body.encode()).hexdigest()[:10].upper()


def add_api(
    template: Template,
    config: Config,
    *,
    processor: object,
    api_key_value: object,
    app_key_arn: object,
) -> Api:
    rest_api = template.add_resource(
        RestApi(
            "PaymentApi",
            Name=api_name(),
            Description="Payment processing API",
            EndpointConfiguration=EndpointConfiguration(Types=["REGIONAL"]),
            ApiKeySourceType="HEADER",
            SecurityPolicy=SECURITY_POLICY,
            EndpointAccessMode=ENDPOINT_ACCESS_MODE,
            Tags=tags(),
        )
    )
    process = Resource(
        "ProcessResource",
        RestApiId=Ref(rest_api),
        ParentId=GetAtt(rest_api, "RootResourceId"),
        PathPart="process",
    )
    health = Resource(
        "HealthResource",
        RestApiId=Ref(rest_api),
        ParentId=GetAtt(rest_api, "RootResourceId"),
        PathPart="health",
    )
    model = Model(
        "PaymentRequestModel",
        RestApiId=Ref(rest_api),
        Name="PaymentRequest",
        ContentType="application/json",
        Description="POST /process request body",
        Schema=PAYMENT_REQUEST_SCHEMA,
    )
    validator = RequestValidator(
        "BodyValidator",
        RestApiId=Ref(rest_api),
        Name="body",
        ValidateRequestBody=True,
        ValidateRequestParameters=False,
    )
    post_process = _lambda_method("ProcessPostMethod", rest_api, process, "POST", processor, True)
    post_process.RequestValidatorId = Ref(validator)
    post_process.RequestModels = {"application/json": Ref(model)}
    get_health = suppress(
        _lambda_method("HealthGetMethod", rest_api, health, "GET", processor, False),
        checkov={
            "CKV_AWS_59": "GET /health is deliberately keyless: Route 53 health checkers cannot "
            "send an API key header. It returns only status and region, and the stage's "
            "throttling and WAF rate limit still apply."
        },
    )
    gateway_responses = _gateway_responses(rest_api)
    # Gateway responses, like methods, take effect only through a new deployment.
    api_parts = [process, health, model, validator, post_process, get_health, *gateway_responses]
    for part in api_parts:
        template.add_resource(part)

    deployment = template.add_resource(
        Deployment(
            _deployment_title(api_parts),
            RestApiId=Ref(rest_api),
            Description="Payment API deployment",
            DependsOn=[post_process.title, get_health.title]
            + [response.title for response in gateway_responses],
        )
    )

    access_log_group = logs.add_log_group(
        template,
        config,
        "ApiAccessLogGroup",
        Sub(f"/aws/apigateway/payment-${{{SUFFIX_PARAM}}}-api-access"),
        app_key_arn,
    )
    # "Set up CloudWatch logging for REST APIs in API Gateway": with execution logging on, API
    # Gateway writes to API-Gateway-Execution-Logs_{rest-api-id}/{stage_name} and creates the
    # group itself when it is missing, unencrypted, kept forever and outside the stack. Made here
    # first, it is encrypted, kept and retained like every log of who called (the name holds the
    # API's id, so a later deployment's new API never collides with a retained group).
    execution_log_group = logs.add_log_group(
        template,
        config,
        "ApiExecutionLogGroup",
        Sub(f"API-Gateway-Execution-Logs_${{{rest_api.title}}}/{STAGE_NAME}"),
        app_key_arn,
    )
    # Stages log through the region's account setting (AWS::ApiGateway::Account), which the
    # account baseline template owns: one per account and region, shared by every API.
    limits = config.api_limits
    stage_settings = dict(
        MetricsEnabled=True,
        LoggingLevel="ERROR",
        DataTraceEnabled=False,  # request bodies are payment data: never logged
        ThrottlingRateLimit=limits.rate_limit,
        ThrottlingBurstLimit=limits.burst_limit,
    )
    stage = template.add_resource(
        suppress(
            Stage(
                "ApiStage",
                StageName=STAGE_NAME,
                RestApiId=Ref(rest_api),
                DeploymentId=Ref(deployment),
                Description="Production stage",
                TracingEnabled=True,
                CacheClusterEnabled=False,
                AccessLogSetting=AccessLogSetting(
                    DestinationArn=iam.log_group_arn(access_log_group), Format=ACCESS_LOG_FORMAT
                ),
                MethodSettings=[
                    MethodSetting(ResourcePath="/*", HttpMethod="*", **stage_settings),
                    # Never cache POST /process: a cached answer would replay one payment's
                    # result to another request.
                    MethodSetting(
                        ResourcePath="/~1process",
                        HttpMethod="POST",
                        CachingEnabled=False,
                        **stage_settings,
                    ),
                ],
                Tags=tags(),
                # The group exists, encrypted and with its retention, before the stage's first
                # log line would make API Gateway create it without either.
                DependsOn=[execution_log_group.title],
            ),
            checkov={
                "CKV_AWS_120": "No response cache: POST /process must reach the handler every "
                "time (a cached response would replay one payment's answer to another request), "
                "and GET /health must report live state."
            },
            guard={
                "API_GW_CACHE_ENABLED_AND_ENCRYPTED": "No response cache to encrypt: a payment "
                "POST must never be answered from a cache (one payment's result replayed to "
                "another request; the handler answers Cache-Control: no-store), and GET /health "
                "must report live state.",
            },
        )
    )
    api_key = template.add_resource(
        ApiKey(
            "PaymentApiKey",
            Name=name("api-key"),
            Description="Client key for POST /process; the value lives in Secrets Manager",
            Enabled=True,
            Value=api_key_value,
            Tags=tags(),
        )
    )
    usage_plan = template.add_resource(
        UsagePlan(
            "ApiUsagePlan",
            UsagePlanName=name("usage-plan"),
            Description="Throttle and daily quota for payment API clients",
            ApiStages=[ApiStage(ApiId=Ref(rest_api), Stage=Ref(stage))],
            Throttle=ThrottleSettings(RateLimit=limits.rate_limit, BurstLimit=limits.burst_limit),
            Quota=QuotaSettings(Limit=limits.quota_per_day, Period="DAY"),
            Tags=tags(),
        )
    )
    template.add_resource(
        UsagePlanKey(
            "ApiUsagePlanKey",
            KeyId=Ref(api_key),
            KeyType="API_KEY",
            UsagePlanId=Ref(usage_plan),
        )
    )
    template.add_resource(
        _invoke_permission("ProcessInvokePermission", rest_api, processor, "POST", "/process")
    )
    template.add_resource(
        _invoke_permission("HealthInvokePermission", rest_api, processor, "GET", "/health")
    )
    return Api(rest_api, stage, api_key, usage_plan, access_log_group)
