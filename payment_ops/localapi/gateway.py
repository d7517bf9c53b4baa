"""What API Gateway does with a request before and after the Lambda proxy integration.

In API Gateway's order: find the resource and method (else MISSING_AUTHENTICATION_TOKEN),
authenticate the caller of an ``AWS_IAM`` method by its Signature Version 4 signature
(``iam_auth``: MISSING_AUTHENTICATION_TOKEN, ACCESS_DENIED, EXPIRED_TOKEN, INVALID_SIGNATURE),
apply the stage's throttle (THROTTLED), validate the body against the method's model
(BAD_REQUEST_BODY), then build the REST proxy event, with the signer's assumed-role ARN as
``requestContext.identity.userArn``, invoke the function and turn its answer into HTTP. Every
refusal is the API's own gateway response, as deployed: status, headers and body template.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonschema

from payment_ops.deployment.partition import partition

from .deployed import DeployedApi, Limit, Method, Resource
from .functions import LocalFunction
from .iam_auth import Caller, Refusal, Sessions, authenticate
from .iam_invoke import InvokeAuthorizer, method_arn
from .throttle import TokenBucket

# API Gateway's own defaults, for a response type the API does not customise.
DEFAULT_STATUS = {
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "ACCESS_DENIED": 403,
    "EXPIRED_TOKEN": 403,
    "INVALID_SIGNATURE": 403,
    "THROTTLED": 429,
    "BAD_REQUEST_BODY": 400,
    "REQUEST_TOO_LARGE": 413,
    "DEFAULT_5XX": 502,
}
DEFAULT_MESSAGE = {
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "THROTTLED": "Too Many Requests",
    "BAD_REQUEST_BODY": "Invalid request body",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "DEFAULT_5XX": "Internal server error",
}
ERROR_TYPE = {
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "THROTTLED": "TooManyRequestsException",
    "BAD_REQUEST_BODY": "BadRequestException",
    "REQUEST_TOO_LARGE": "RequestTooLargeException",
    "DEFAULT_5XX": "InternalServerErrorException",
}
# "Amazon API Gateway quotas", REST APIs: payload size 10 MB (answered REQUEST_TOO_LARGE).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# The verbs a REST API method can have ("PutMethod": httpMethod); ANY stands for these alone.
HTTP_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})


def new_request_id() -> str:
    """API Gateway's ``$context.requestId``: a UUID, returned as ``x-amzn-RequestId``."""
    return str(uuid.uuid4())


@dataclass
class HttpRequest:
    method: str
    path: str  # without the query string
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    # One id per request, from its arrival: the proxy event's requestContext.requestId, the
    # x-amzn-RequestId header and every gateway-generated error body carry the same one.
    request_id: str = field(default_factory=new_request_id)

    def header(self, name: str) -> str | None:
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return values[-1] if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    # For the access log: the gateway response type when the gateway answered itself, and why.
    error_type: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class LimitOverride:
    """Replaces every deployed throttle of the stage: for capacity measurements only."""

    limit: Limit


class Gateway:
    def __init__(
        self,
        api: DeployedApi,
        functions: dict[str, LocalFunction],
        override: LimitOverride | None = None,
        sessions: Sessions | None = None,
        authorizer: InvokeAuthorizer | None = None,
    ) -> None:
        self.api = api
        self.functions = functions
        self.override = override
        # The role sessions whose signatures can be verified; by default the emulator's.
        self.sessions = sessions or Sessions(api.account, partition(api.region))
        # execute-api:Invoke against the signer's IAM policies; None: authentication only.
        self.authorizer = authorizer
        self._stage_buckets: dict[str, TokenBucket] = {}
        # The buckets are created up front: lazily creating them would need a lock per request.
        for resource in api.resources:
            for http_method in resource.methods:
                limit = self._stage_limit(resource.path, http_method)
                if limit is not None:
                    self._stage_buckets[f"{resource.path}/{http_method}"] = TokenBucket(limit)

    # -- limits as deployed ---------------------------------------------------------------

    def _stage_limit(self, path: str, http_method: str) -> Limit | None:
        if self.override is not None:
            return self.override.limit
        # Method settings are keyed "<path with / as ~1, no leading />/<METHOD>", or "*/*".
        key = f"{path.lstrip('/').replace('/', '~1')}/{http_method}"
        return self.api.stage_throttles.get(key) or self.api.stage_throttles.get("*/*")

    def describe_limits(self) -> list[str]:
        """One line per limit in force, for the start-up banner."""
        lines = []
        if self.override is not None:
            deployed = [
                f"stage {key} {limit.rate:g}/s burst {limit.burst}"
                for key, limit in sorted(self.api.stage_throttles.items())
            ]
            lines.append(
                f"OVERRIDDEN for this run: every throttle {self.override.limit.rate:g}/s burst "
                f"{self.override.limit.burst} (deployed: {'; '.join(deployed) or 'none'})"
            )
        else:
            for key, limit in sorted(self.api.stage_throttles.items()):
                lines.append(f"stage {self.api.stage} {key}: {limit.rate:g}/s, burst {limit.burst}")
        return lines

    # -- the request path -----------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        """API Gateway's steps, each answering with the API's gateway response when it refuses:
        the route, the caller, the stage's throttle and the body, then the integration."""
        request_id = request.request_id
        matched = self._match(request)
        if matched is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        resource, method, path_parameters = matched
        route = f"{resource.path}/{method.http_method}"
        caller = self._caller(request, resource, method)
        if isinstance(caller, HttpResponse):
            return caller
        refused = self._admission_refusal(request, method, route)
        if refused is not None:
            return refused
        function = self.functions.get(method.function_arn or "")
        if method.integration_type != "AWS_PROXY" or function is None:
            return self.gateway_response(
                "DEFAULT_5XX", request_id, f"no local integration for {route}"
            )
        event = self._event(request, resource, path_parameters, caller, request_id)
        try:
            result = function.invoke(event)
            return self._proxy_response(result, request_id)
        except Exception as error:  # the function failed: API Gateway answers 502
            return self.gateway_response(
                "DEFAULT_5XX", request_id, f"{type(error).__name__} in the function", status=502
            )

    def _caller(
        self, request: HttpRequest, resource: Resource, method: Method
    ) -> Caller | HttpResponse | None:
        """The signer of an ``AWS_IAM`` method's request (None for a method without
        authorization), or the refusal: not authenticated, or not allowed to invoke."""
        request_id = request.request_id
        if method.authorization_type == "AWS_IAM":
            checked = authenticate(
                method=request.method,
                path=request.path,
                query=request.query,
                headers=request.headers,
                body=request.body,
                region=self.api.region,
                sessions=self.sessions,
            )
            if isinstance(checked, Refusal):
                return self.gateway_response(
                    checked.response_type,
                    request_id,
                    checked.message,
                    error_message=checked.message,
                    error_type=checked.error_type,
                )
            denied = self._denied(checked, request, resource)
            if denied is not None:
                return self.gateway_response(
                    "ACCESS_DENIED",
                    request_id,
                    denied,
                    error_message=denied,
                    error_type="AccessDeniedException",
                )
            return checked
        if method.authorization_type != "NONE":
            # CUSTOM and COGNITO_USER_POOLS authorizers are not emulated: refuse, never let
            # a request through that AWS would have authorized differently.
            return self.gateway_response(
                "DEFAULT_5XX", request_id, f"{method.authorization_type} is not emulated"
            )
        return None

    def _admission_refusal(
        self, request: HttpRequest, method: Method, route: str
    ) -> HttpResponse | None:
        """The stage's throttle, then the payload quota and the method's request validator."""
        request_id = request.request_id
        stage_bucket = self._stage_buckets.get(route)
        if stage_bucket is not None and not stage_bucket.take():
            return self.gateway_response("THROTTLED", request_id)

        if len(request.body) > MAX_PAYLOAD_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE", request_id)
        problem = self._invalid_body(method, request)
        if problem is not None:
            return self.gateway_response("BAD_REQUEST_BODY", request_id, problem)
        return None

    def _denied(self, caller: Caller, request: HttpRequest, resource: Resource) -> str | None:
        if self.authorizer is None:
            return None
        api = self.api
        arn = method_arn(
            partition(api.region), api.region, api.account, api.api_id, api.stage,
            request.method, resource.path,
        )  # fmt: skip
        return self.authorizer.refusal(caller.user_arn, arn)

    def _match(self, request: HttpRequest) -> tuple[Resource, Method, dict[str, str]] | None:
        # The stage is the first path segment, as in https://<api>.execute-api.../<stage>/...
        parts = [p for p in request.path.split("/") if p]
        if not parts or parts[0] != self.api.stage:
            return None
        segments = parts[1:]
        best: tuple[int, Resource, dict[str, str]] | None = None
        for resource in self.api.resources:
            parameters = _match_path(resource.path, segments)
            if parameters is None:
                continue
            literal = sum(1 for p in resource.path.split("/") if p and not p.startswith("{"))
            if best is None or literal > best[0]:
                best = (literal, resource, parameters)
        if best is None:
            return None
        _, resource, parameters = best
        method = resource.methods.get(request.method)
        if method is None and request.method in HTTP_METHODS:
            method = resource.methods.get("ANY")
        if method is None:
            # "Gateway response types for API Gateway": MISSING_AUTHENTICATION_TOKEN covers "the
            # client attempts to invoke an unsupported API method or resource", a verb that no
            # method of the API can have (PROPFIND, BREW) included.
            return None
        return resource, method, parameters

    def _invalid_body(self, method: Method, request: HttpRequest) -> str | None:
        if not method.validate_body or not method.body_schemas:
            return None
        content_type = (request.header("content-type") or "application/json").split(";")[0]
        schema = method.body_schemas.get(content_type.strip().lower())
        if schema is None:
            schema = method.body_schemas.get("$default")
        if schema is None:
            return None
        try:
            document = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return "Invalid request body"
        except RecursionError:
            # Nested deeper than this process's parser goes (about 1,000 levels fit in the
            # handler's 16 KiB). API Gateway documents no nesting limit for model validation,
            # so the gateway does not invent a refusal of its own: the function decides, and
            # the handler answers 400 INVALID_JSON with the reason.
            return None
        errors = sorted(
            jsonschema.Draft4Validator(schema).iter_errors(document), key=lambda e: list(e.path)
        )
        if errors:
            return "[" + ", ".join(e.message for e in errors) + "]"
        return None

    def _event(
        self,
        request: HttpRequest,
        resource: Resource,
        path_parameters: dict[str, str],
        caller: Caller | None,
        request_id: str,
    ) -> dict[str, Any]:
        """The REST API proxy event, as API Gateway builds it for a Lambda proxy integration."""
        headers, multi_headers = _single_and_multi(request.headers)
        query, multi_query = _single_and_multi(request.query)
        body, is_base64 = self._event_body(request)
        return {
            "resource": resource.path,
            "path": "/" + "/".join([p for p in request.path.split("/") if p][1:]),
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": self.api.stage_variables or None,
            "requestContext": self._request_context(request, resource, caller, request_id),
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _event_body(self, request: HttpRequest) -> tuple[str | None, bool]:
        """The body as text, or base64 for a content type among the API's binary media types."""
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        binary = any(
            _media_matches(pattern, content_type) for pattern in self.api.binary_media_types
        )
        if not request.body:
            return None, False
        if binary:
            return base64.b64encode(request.body).decode("ascii"), True
        return request.body.decode("utf-8", errors="replace"), False

    def _request_context(
        self, request: HttpRequest, resource: Resource, caller: Caller | None, request_id: str
    ) -> dict[str, Any]:
        """The event's ``requestContext``: the API, stage and request, and who sent it."""
        now = datetime.now(UTC)
        return {
            "accountId": self.api.account,
            "apiId": self.api.api_id,
            "resourceId": resource.resource_id,
            "resourcePath": resource.path,
            "httpMethod": request.method,
            "stage": self.api.stage,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "domainName": request.header("host") or "127.0.0.1",
            "domainPrefix": (request.header("host") or "127").split(".")[0],
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.header("user-agent"),
                # No method of this API requires an API key.
                "apiKey": None,
                "apiKeyId": None,
                # The signer, for an AWS_IAM method: "Control access to a REST API with
                # IAM permissions"; the handler derives the client id from userArn.
                "accessKey": caller.access_key_id if caller else None,
                "accountId": caller.account_id if caller else None,
                "caller": None,
                "user": None,
                "userArn": caller.user_arn if caller else None,
            },
        }

    def _proxy_response(self, result: Any, request_id: str) -> HttpResponse:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            # API Gateway: "Malformed Lambda proxy response", 502.
            return self.gateway_response(
                "DEFAULT_5XX", request_id, "Malformed Lambda proxy response", status=502
            )
        headers: list[tuple[str, str]] = []
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((name, str(v)) for v in values)
        seen = {name.lower() for name, _ in headers}
        for name, value in (result.get("headers") or {}).items():
            if name.lower() not in seen:
                headers.append((name, str(value)))
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        headers.append(("x-amzn-RequestId", request_id))
        return HttpResponse(result["statusCode"], headers, data)

    def gateway_response(
        self,
        response_type: str,
        request_id: str,
        message: str | None = None,
        status: int | None = None,
        error_message: str | None = None,
        error_type: str | None = None,
    ) -> HttpResponse:
        """The API's gateway response of ``response_type`` (or its DEFAULT_4XX/5XX), rendered.

        ``error_message`` is ``$context.error.message`` when it is not the type's default (an
        authentication refusal says why); ``error_type`` likewise for ``x-amzn-ErrorType``."""
        default_status = DEFAULT_STATUS.get(response_type, 500)
        fallback = "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX"
        configured = self.api.gateway_responses.get(response_type)
        general = self.api.gateway_responses.get(fallback)
        code = status or (configured.status if configured and configured.status else None)
        code = code or (general.status if general and general.status else None) or default_status
        headers = {
            **(general.headers if general else {}),
            **(configured.headers if configured else {}),
        }
        templates = (configured.templates if configured else {}) or (
            general.templates if general else {}
        )
        default_message = error_message or DEFAULT_MESSAGE.get(response_type, "Error")
        template = templates.get("application/json")
        if template is None:
            body = json.dumps({"message": default_message})
        else:
            body = _render(
                template,
                {
                    "$context.requestId": request_id,
                    "$context.extendedRequestId": request_id,
                    "$context.error.responseType": response_type,
                    "$context.error.messageString": json.dumps(default_message),
                    "$context.error.message": default_message,
                    "$context.error.validationErrorString": message or "",
                    "$context.stage": self.api.stage,
                    "$context.apiId": self.api.api_id,
                },
            )
        response_headers = [
            ("Content-Type", "application/json"),
            *headers.items(),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error_type or ERROR_TYPE.get(response_type, "Exception")),
        ]
        return HttpResponse(
            code, response_headers, body.encode(), error_type=response_type, detail=message
        )


def _render(template: str, values: dict[str, str]) -> str:
    # Longest names first: $context.error.message must not eat $context.error.messageString.
    for name in sorted(values, key=len, reverse=True):
        template = template.replace(name, values[name])
    return template


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Repeated names as the proxy event gives them: the last value, and every value in order."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _match_path(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = [p for p in template.split("/") if p]
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(segments):
                return None
            parameters[part[1:-2]] = "/".join(segments[index:])
            return parameters
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = segments[index]
        elif part != segments[index]:
            return None
    return parameters if len(parts) == len(segments) else None


def _media_matches(pattern: str, content_type: str) -> bool:
    pattern = pattern.replace("~1", "/").lower()
    if pattern == "*/*":
        return True
    if pattern.endswith("/*"):
        return content_type.startswith(pattern[:-1])
    return pattern == content_type
