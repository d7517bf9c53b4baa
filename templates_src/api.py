"""The regional REST API in front of the processor.

``POST /process`` takes registered clients only ("Identity and access management for Amazon API
Gateway"): in ``iam`` mode the method has ``AuthorizationType: AWS_IAM``, so API Gateway
verifies each request's SigV4 signature ("Control access to a REST API with IAM permissions"),
and the REST API's resource policy denies every principal but the client roles
``payment-<suffix>-client-*`` of this account ("API Gateway resource policies"). In ``mtls``
mode the custom domain verifies the client certificate ("Configuring mutual TLS authentication
for a REST API", ``routing.py``) and the method is open to the network; the handler refuses a
request without a client's certificate (the default endpoint carries none). ``GET /health``
stays open: Route 53 health checkers sign nothing and present no certificate. No API key: a
shared secret is not an identity, and stage throttling replaces the usage plan's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Template
from troposphere.apigateway import (
    AccessLogSetting,
    Deployment,
    EndpointConfiguration,
    GatewayResponse,
    Integration,
    Method,
    MethodSetting,
    Model,
    RequestValidator,
    Resource,
    RestApi,
    Stage,
)
from troposphere.awslambda import Permission
from troposphere.logs import LogGroup

from . import iam, logs, names
from .common import STAGE_NAME, name, suppress, tags
from .config import CLIENT_AUTH_IAM, Config

# Who called, by mode ("$context Variables for data models, authorizers, mapping templates, and
# CloudWatch access logging"): the signing principal's ARN, or the client certificate's subject.
CALLER_LOG_FIELDS = {
    "iam": {"userArn": "$context.identity.userArn"},
    "mtls": {"clientCertSubjectDN": "$context.identity.clientCert.subjectDN"},
}
ACCESS_LOG_FIELDS = {
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
    "errorType": "$context.error.responseType",
    "xrayTraceId": "$context.xrayTraceId",
    # Evidence that every client spoke TLS 1.2 or later (PCI DSS 4.2.1).
    "tlsVersion": "$context.tlsVersion",
    "cipherSuite": "$context.cipherSuite",
}


def access_log_format(client_auth: str) -> str:
    fields = {**ACCESS_LOG_FIELDS, **CALLER_LOG_FIELDS[client_auth]}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


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
    # API Gateway answers an unknown route and an unsigned request to an AWS_IAM method with
    # the same type: the message names both, the status stays API Gateway's 403.
    "MISSING_AUTHENTICATION_TOKEN": (
        "403",
        "MISSING_AUTHENTICATION_TOKEN",
        "No such route, or the request is not signed (SigV4)",
    ),
    "INVALID_SIGNATURE": ("403", "INVALID_SIGNATURE", "The request signature does not match"),
    "EXPIRED_TOKEN": ("403", "EXPIRED_TOKEN", "The security token of the request has expired"),
    # The resource policy refused the principal: a signer that is not a registered client.
    "ACCESS_DENIED": ("403", "CLIENT_NOT_AUTHORIZED", "The caller is not a registered client"),
    "REQUEST_TOO_LARGE": ("413", "PAYLOAD_TOO_LARGE", "The request body exceeds 10 MiB"),
    "THROTTLED": ("429", "RATE_LIMITED", "Too many requests"),
    "DEFAULT_4XX": (None, "REQUEST_REJECTED", "The request was rejected"),
    "DEFAULT_5XX": (None, "INTERNAL_ERROR", "Internal error"),
}
RETRY_AFTER_S = {"THROTTLED": 1}


@dataclass(frozen=True)
class Api:
    rest_api: RestApi
    stage: Stage
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


def resource_policy(config: Config) -> dict:
    """The REST API's resource policy ("API Gateway resource policies"; ``execute-api:/stage/
    VERB/path`` names this API's own methods without its id, which the policy cannot reference).

    ``iam``: only this account's client roles may invoke ``POST /process`` (an explicit deny
    for every other principal, whatever their own policies allow); ``mtls``: the method is
    open and the certificate decides. ``GET /health`` is open in both.
    """
    health = f"execute-api:/{STAGE_NAME}/GET/health"
    process = f"execute-api:/{STAGE_NAME}/POST/process"
    statements: list[dict] = [
        {
            "Sid": "HealthCheckersMayProbe",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": health,
        }
    ]
    if config.client_auth == CLIENT_AUTH_IAM:
        statements += [
            {
                "Sid": "AccountPrincipalsMayProcess",
                "Effect": "Allow",
                "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": "execute-api:Invoke",
                "Resource": process,
            },
            {
                "Sid": "OnlyClientRolesMayProcess",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": process,
                "Condition": {
                    "ArnNotLike": {
                        "aws:PrincipalArn": Sub(
                            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                            f"{names.client_role(names.SUB_SUFFIX, '*')}"
                        )
                    }
                },
            },
        ]
    else:
        statements.append(
            {
                "Sid": "CertificateHoldersMayProcess",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": process,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _lambda_method(
    title: str,
    rest_api: RestApi,
    resource: Resource,
    verb: str,
    function: object,
    authorization: str,
) -> Method:
    return Method(
        title,
        RestApiId=Ref(rest_api),
        ResourceId=Ref(resource),
        HttpMethod=verb,
        AuthorizationType=authorization,
        ApiKeyRequired=False,
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


def _rest_api(config: Config) -> RestApi:
    return RestApi(
        "PaymentApi",
        Name=api_name(),
        Description="Payment processing API",
        EndpointConfiguration=EndpointConfiguration(Types=["REGIONAL"]),
        Policy=resource_policy(config),
        SecurityPolicy=SECURITY_POLICY,
        EndpointAccessMode=ENDPOINT_ACCESS_MODE,
        Tags=tags(),
    )


def _path(title: str, rest_api: RestApi, path_part: str) -> Resource:
    return Resource(
        title,
        RestApiId=Ref(rest_api),
        ParentId=GetAtt(rest_api, "RootResourceId"),
        PathPart=path_part,
    )


def _request_model(rest_api: RestApi) -> Model:
    return Model(
        "PaymentRequestModel",
        RestApiId=Ref(rest_api),
        Name="PaymentRequest",
        ContentType="application/json",
        Description="POST /process request body",
        Schema=PAYMENT_REQUEST_SCHEMA,
    )


def _body_validator(rest_api: RestApi) -> RequestValidator:
    return RequestValidator(
        "BodyValidator",
        RestApiId=Ref(rest_api),
        Name="body",
        ValidateRequestBody=True,
        ValidateRequestParameters=False,
    )


def _process_method(
    config: Config,
    rest_api: RestApi,
    process: Resource,
    processor: object,
    model: Model,
    validator: RequestValidator,
) -> Method:
    """``POST /process``: signed (``iam``) or open to the network (``mtls``), body checked."""
    authorization = "AWS_IAM" if config.client_auth == CLIENT_AUTH_IAM else "NONE"
    post_process = _lambda_method(
        "ProcessPostMethod", rest_api, process, "POST", processor, authorization
    )
    if authorization == "NONE":
        post_process = suppress(
            post_process,
            checkov={
                "CKV_AWS_59": "mTLS mode: the custom domain verifies the client certificate "
                "and the handler refuses a request without one (403 CLIENT_NOT_AUTHORIZED), "
                "including any through the default endpoint."
            },
        )
    post_process.RequestValidatorId = Ref(validator)
    post_process.RequestModels = {"application/json": Ref(model)}
    return post_process


def _health_method(rest_api: RestApi, health: Resource, processor: object) -> Method:
    return suppress(
        _lambda_method("HealthGetMethod", rest_api, health, "GET", processor, "NONE"),
        checkov={
            "CKV_AWS_59": "GET /health is deliberately open: Route 53 health checkers cannot "
            "sign a request or present a certificate. It returns only status and region, and "
            "the stage's throttling and WAF rate limit still apply."
        },
    )


def _log_groups(
    template: Template, config: Config, rest_api: RestApi, app_key_arn: object
) -> tuple[LogGroup, LogGroup]:
    """The stage's access-log group and its execution-log group."""
    access_log_group = logs.add_log_group(
        template,
        config,
        "ApiAccessLogGroup",
        Sub(f"{names.API_LOG_PREFIX}{names.resource(names.SUB_SUFFIX, 'api-access')}"),
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
    return access_log_group, execution_log_group


def _method_settings(config: Config) -> list[MethodSetting]:
    # Stages log through the region's account setting (AWS::ApiGateway::Account), which the
    # account baseline template owns: one per account and region, shared by every API.
    # Stage throttling applies to every caller together ("Throttle requests to your REST APIs
    # for better throughput in API Gateway"): the limits the usage plan used to give.
    limits = config.api_limits
    stage_settings = dict(
        MetricsEnabled=True,
        LoggingLevel="ERROR",
        DataTraceEnabled=False,  # request bodies are payment data: never logged
        ThrottlingRateLimit=limits.rate_limit,
        ThrottlingBurstLimit=limits.burst_limit,
    )
    return [
        MethodSetting(ResourcePath="/*", HttpMethod="*", **stage_settings),
        # Never cache POST /process: a cached answer would replay one payment's
        # result to another request.
        MethodSetting(
            ResourcePath="/~1process",
            HttpMethod="POST",
            CachingEnabled=False,
            **stage_settings,
        ),
    ]


def _stage(
    config: Config,
    rest_api: RestApi,
    deployment: Deployment,
    access_log_group: LogGroup,
    execution_log_group: LogGroup,
) -> Stage:
    return suppress(
        Stage(
            "ApiStage",
            StageName=STAGE_NAME,
            RestApiId=Ref(rest_api),
            DeploymentId=Ref(deployment),
            Description="Production stage",
            TracingEnabled=True,
            CacheClusterEnabled=False,
            AccessLogSetting=AccessLogSetting(
                DestinationArn=iam.log_group_arn(access_log_group),
                Format=access_log_format(config.client_auth),
            ),
            MethodSettings=_method_settings(config),
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


def add_api(
    template: Template,
    config: Config,
    *,
    processor: object,
    app_key_arn: object,
) -> Api:
    """The REST API, its routes and gateway responses, the deployment of them, the stage with
    its log groups, and the processor's invoke permissions."""
    rest_api = template.add_resource(_rest_api(config))
    process = _path("ProcessResource", rest_api, "process")
    health = _path("HealthResource", rest_api, "health")
    model = _request_model(rest_api)
    validator = _body_validator(rest_api)
    post_process = _process_method(config, rest_api, process, processor, model, validator)
    get_health = _health_method(rest_api, health, processor)
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
    access_log_group, execution_log_group = _log_groups(template, config, rest_api, app_key_arn)
    stage = template.add_resource(
        _stage(config, rest_api, deployment, access_log_group, execution_log_group)
    )
    template.add_resource(
        _invoke_permission("ProcessInvokePermission", rest_api, processor, "POST", "/process")
    )
    template.add_resource(
        _invoke_permission("HealthInvokePermission", rest_api, processor, "GET", "/health")
    )
    return Api(rest_api, stage, access_log_group)
