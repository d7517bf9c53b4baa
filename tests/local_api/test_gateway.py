"""The local gateway's decisions on a synthetic deployed API: no emulator, no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from payment_ops.localapi.deployed import (
    DeployedApi,
    GatewayResponse,
    Limit,
    Method,
    Quota,
    Resource,
    UsagePlan,
)
from payment_ops.localapi.gateway import Gateway, HttpRequest, LimitOverride
from payment_ops.localapi.throttle import QuotaCounter, TokenBucket

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"
KEY_VALUE, KEY_ID = "k" * 40, "keyid"
SCHEMA = {"type": "object"}
REJECTED_TEMPLATE = '{"error":{"code":"REJECTED","request_id":"$context.requestId"}}'


def _api(**changes: Any) -> DeployedApi:
    process = Method("POST", True, "AWS_PROXY", FUNCTION, True, {"application/json": SCHEMA})
    health = Method("GET", False, "AWS_PROXY", FUNCTION, False)
    item = Method("ANY", False, "AWS_PROXY", FUNCTION, False)
    values: dict[str, Any] = dict(
        region="us-east-1",
        account="123456789012",
        api_id="api1",
        name="payment-t-api",
        stage="prod",
        stage_variables={},
        api_key_source="HEADER",
        binary_media_types=(),
        resources=(
            Resource("r0", "/", {}),
            Resource("r1", "/process", {"POST": process}),
            Resource("r2", "/health", {"GET": health}),
            Resource("r3", "/items/{id}", {"ANY": item}),
        ),
        api_keys={KEY_VALUE: KEY_ID},
        usage_plans=(UsagePlan("p", "plan", Limit(50, 100), None, frozenset({KEY_ID}), {}),),
        stage_throttles={},
        gateway_responses={
            "DEFAULT_4XX": GatewayResponse(
                "DEFAULT_4XX",
                None,
                {},
                {"application/json": REJECTED_TEMPLATE},
            ),
            "THROTTLED": GatewayResponse(
                "THROTTLED",
                429,
                {"Retry-After": "1"},
                {"application/json": '{"error":{"code":"RATE_LIMITED"}}'},
            ),
        },
    )
    values.update(changes)
    return DeployedApi(**values)


class Recorder:
    def __init__(self, result: Any = None) -> None:
        self.events: list[dict] = []
        self.result = result or {"statusCode": 200, "headers": {"X-A": "1"}, "body": "{}"}

    def invoke(self, event: dict) -> Any:
        self.events.append(event)
        return self.result


def _gateway(api: DeployedApi | None = None, **kwargs: Any) -> tuple[Gateway, Recorder]:
    recorder = Recorder(kwargs.pop("result", None))
    return Gateway(api or _api(), {FUNCTION: recorder}, **kwargs), recorder  # type: ignore[dict-item]


def _request(method: str, path: str, body: bytes = b"", **headers: str) -> HttpRequest:
    return HttpRequest(method, path, [("a", "1")], list(headers.items()), body)


def test_the_proxy_event_has_the_route_the_key_id_and_the_body() -> None:
    gateway, recorder = _gateway()
    response = gateway.handle(
        _request("POST", "/prod/process", b'{"x": 1}', **{"x-api-key": KEY_VALUE})
    )
    assert response.status == 200
    [event] = recorder.events
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/process",
        "/process",
        "POST",
    )
    assert event["requestContext"]["identity"]["apiKeyId"] == KEY_ID
    assert event["requestContext"]["path"] == "/prod/process"
    assert event["queryStringParameters"] == {"a": "1"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": 1}', False)
    assert ("X-A", "1") in response.headers


def test_path_parameters_and_any_method() -> None:
    gateway, recorder = _gateway()
    assert gateway.handle(_request("DELETE", "/prod/items/42")).status == 200
    assert recorder.events[0]["pathParameters"] == {"id": "42"}
    assert recorder.events[0]["resource"] == "/items/{id}"


def test_unknown_stage_route_or_method_is_missing_authentication_token() -> None:
    gateway, recorder = _gateway()
    for method, path in (("GET", "/dev/health"), ("GET", "/prod/nope"), ("PUT", "/prod/health")):
        response = gateway.handle(_request(method, path))
        assert (response.status, response.error_type) == (403, "MISSING_AUTHENTICATION_TOKEN")
        # No MISSING_AUTHENTICATION_TOKEN response deployed: DEFAULT_4XX's template applies.
        assert json.loads(response.body)["error"]["code"] == "REJECTED"
    assert recorder.events == []


def test_body_validation_applies_only_to_a_content_type_with_a_model() -> None:
    gateway, recorder = _gateway()
    key = {"x-api-key": KEY_VALUE}
    refused = gateway.handle(_request("POST", "/prod/process", b"[1]", **key))
    assert (refused.status, refused.error_type) == (400, "BAD_REQUEST_BODY")
    # No model for text/plain: API Gateway does not validate, the function decides.
    passed = gateway.handle(
        _request("POST", "/prod/process", b"[1]", **key, **{"Content-Type": "text/plain"})
    )
    assert passed.status == 200
    assert len(recorder.events) == 1


def test_throttles_quota_and_override() -> None:
    api = _api(stage_throttles={"*/*": Limit(0, 1)})
    gateway, _ = _gateway(api)
    statuses = [gateway.handle(_request("GET", "/prod/health")).status for _ in range(2)]
    assert statuses == [200, 429]
    lifted, _ = _gateway(api, override=LimitOverride(Limit(1e9, 10**9)))
    assert {lifted.handle(_request("GET", "/prod/health")).status for _ in range(5)} == {200}
    assert "OVERRIDDEN" in lifted.describe_limits()[0]

    plan = UsagePlan("p", "plan", None, Quota(1, "DAY"), frozenset({KEY_ID}), {})
    gateway, _ = _gateway(_api(usage_plans=(plan,)))
    key = {"x-api-key": KEY_VALUE}
    first = gateway.handle(_request("POST", "/prod/process", b"{}", **key))
    second = gateway.handle(_request("POST", "/prod/process", b"{}", **key))
    assert (first.status, second.status, second.error_type) == (200, 429, "QUOTA_EXCEEDED")


def test_a_key_in_no_usage_plan_of_the_stage_is_refused() -> None:
    gateway, _ = _gateway(_api(usage_plans=()))
    response = gateway.handle(_request("POST", "/prod/process", b"{}", **{"x-api-key": KEY_VALUE}))
    assert (response.status, response.error_type) == (403, "INVALID_API_KEY")
    body = json.loads(response.body)
    assert body["error"]["code"] == "REJECTED"
    assert body["error"]["request_id"] == dict(response.headers)["x-amzn-RequestId"]


def test_a_malformed_proxy_response_or_a_crash_is_502() -> None:
    gateway, _ = _gateway(result={"body": "no status"})
    assert gateway.handle(_request("GET", "/prod/health")).status == 502

    class Crash:
        def invoke(self, event: dict) -> Any:
            raise RuntimeError("boom")

    crashing = Gateway(_api(), {FUNCTION: Crash()})  # type: ignore[dict-item]
    response = crashing.handle(_request("GET", "/prod/health"))
    assert response.status == 502 and b"boom" not in response.body


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(Limit(2.0, 2), clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert [bucket.take(), bucket.take()] == [True, False]


def test_quota_resets_with_the_period() -> None:
    today = [datetime(2026, 11, 24, 23, 59, tzinfo=UTC)]
    counter = QuotaCounter(Quota(1, "DAY"), now=lambda: today[0])
    assert [counter.take(), counter.take()] == [True, False]
    today[0] += timedelta(minutes=2)
    assert counter.take()


def test_any_stands_for_api_gateways_verbs_only() -> None:
    gateway, recorder = _gateway()
    assert gateway.handle(_request("PATCH", "/prod/items/42")).status == 200
    response = gateway.handle(_request("BREW", "/prod/items/42"))
    assert (response.status, response.error_type) == (403, "MISSING_AUTHENTICATION_TOKEN")
    assert len(recorder.events) == 1


def test_the_request_id_is_one_from_the_event_to_the_header() -> None:
    gateway, recorder = _gateway()
    request = _request("GET", "/prod/health")
    response = gateway.handle(request)
    [event] = recorder.events
    assert event["requestContext"]["requestId"] == request.request_id
    assert dict(response.headers)["x-amzn-RequestId"] == request.request_id
    refused = _request("GET", "/prod/nope")
    body = json.loads(gateway.handle(refused).body)
    assert body["error"]["request_id"] == refused.request_id


def test_json_too_deep_for_the_gateways_parser_goes_to_the_function() -> None:
    gateway, recorder = _gateway()
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = gateway.handle(_request("POST", "/prod/process", deep, **{"x-api-key": KEY_VALUE}))
    assert response.status == 200
    assert len(recorder.events) == 1
