"""The local gateway's decisions on a synthetic deployed API: no emulator, no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import pytest

from payment_ops.localapi.deployed import DeployedApi, GatewayResponse, Limit, Method, Resource
from payment_ops.localapi.gateway import Gateway, HttpRequest, LimitOverride
from payment_ops.localapi.iam_auth import Sessions
from payment_ops.localapi.signing import ClientCredentials, signed_headers
from payment_ops.localapi.throttle import TokenBucket

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"
HOST = "127.0.0.1:8080"
ROLE_SESSION = "arn:aws:sts::123456789012:assumed-role/payment-t-client-shop/shop-1"
CLIENT = ClientCredentials(
    access_key_id="ASIAEXAMPLECLIENT01",
    secret_access_key="client-secret",
    session_token="client-session-token",
    expiration=(datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    assumed_role_arn=ROLE_SESSION,
)
SCHEMA = {"type": "object"}
REJECTED_TEMPLATE = '{"error":{"code":"REJECTED","request_id":"$context.requestId"}}'


def _api(**changes: Any) -> DeployedApi:
    process = Method("POST", "AWS_IAM", "AWS_PROXY", FUNCTION, True, {"application/json": SCHEMA})
    health = Method("GET", "NONE", "AWS_PROXY", FUNCTION, False)
    item = Method("ANY", "NONE", "AWS_PROXY", FUNCTION, False)
    values: dict[str, Any] = dict(
        region="us-east-1",
        account="123456789012",
        api_id="api1",
        name="payment-t-api",
        stage="prod",
        stage_variables={},
        binary_media_types=(),
        resources=(
            Resource("r0", "/", {}),
            Resource("r1", "/process", {"POST": process}),
            Resource("r2", "/health", {"GET": health}),
            Resource("r3", "/items/{id}", {"ANY": item}),
        ),
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
    api = api or _api()
    sessions = Sessions(api.account)
    sessions.add(CLIENT)
    gateway = Gateway(api, {FUNCTION: recorder}, sessions=sessions, **kwargs)  # type: ignore[dict-item]
    return gateway, recorder


def _request(method: str, path: str, body: bytes = b"", **headers: str) -> HttpRequest:
    return HttpRequest(method, path, [("a", "1")], [("Host", HOST), *headers.items()], body)


def _signed(
    body: bytes, credentials: ClientCredentials = CLIENT, region: str = "us-east-1", **headers: str
) -> HttpRequest:
    """POST /prod/process?a=1 signed as a client would sign it, then sent as signed."""
    url = f"http://{HOST}/prod/process?a=1"
    signed = signed_headers(credentials, region, "POST", url, body, headers)
    return _request("POST", "/prod/process", body, **signed)


def test_the_proxy_event_has_the_route_the_signer_and_the_body() -> None:
    gateway, recorder = _gateway()
    response = gateway.handle(_signed(b'{"x": 1}'))
    assert response.status == 200
    [event] = recorder.events
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/process",
        "/process",
        "POST",
    )
    identity = event["requestContext"]["identity"]
    assert identity["userArn"] == ROLE_SESSION
    assert (identity["accountId"], identity["accessKey"]) == ("123456789012", CLIENT.access_key_id)
    assert identity["apiKeyId"] is None
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
    refused = gateway.handle(_signed(b"[1]"))
    assert (refused.status, refused.error_type) == (400, "BAD_REQUEST_BODY")
    # No model for text/plain: API Gateway does not validate, the function decides.
    passed = gateway.handle(_signed(b"[1]", **{"Content-Type": "text/plain"}))
    assert passed.status == 200
    assert len(recorder.events) == 1


def test_stage_throttle_and_override() -> None:
    api = _api(stage_throttles={"*/*": Limit(0, 1)})
    gateway, _ = _gateway(api)
    statuses = [gateway.handle(_request("GET", "/prod/health")).status for _ in range(2)]
    assert statuses == [200, 429]
    lifted, _ = _gateway(api, override=LimitOverride(Limit(1e9, 10**9)))
    assert {lifted.handle(_request("GET", "/prod/health")).status for _ in range(5)} == {200}
    assert "OVERRIDDEN" in lifted.describe_limits()[0]


def _refusal(response: Any) -> tuple[int, str | None, str]:
    return response.status, response.error_type, dict(response.headers)["x-amzn-ErrorType"]


def test_an_unsigned_request_to_an_iam_method_is_missing_authentication_token() -> None:
    gateway, recorder = _gateway(_api(gateway_responses={}))
    response = gateway.handle(_request("POST", "/prod/process", b"{}"))
    assert _refusal(response) == (
        403,
        "MISSING_AUTHENTICATION_TOKEN",
        "MissingAuthenticationTokenException",
    )
    # No gateway response deployed for it: API Gateway's own body.
    assert json.loads(response.body) == {"message": "Missing Authentication Token"}
    assert recorder.events == []


def test_a_body_changed_after_signing_is_refused_and_reaches_nothing() -> None:
    gateway, recorder = _gateway(_api(gateway_responses={}))
    request = _signed(b'{"amount": "1.00"}')
    request.body = b'{"amount": "9999.00"}'
    response = gateway.handle(request)
    assert _refusal(response) == (403, "INVALID_SIGNATURE", "InvalidSignatureException")
    assert json.loads(response.body)["message"].startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert recorder.events == []


def test_a_signed_header_changed_after_signing_is_refused() -> None:
    gateway, recorder = _gateway()
    request = _signed(b"{}", **{"Idempotency-Key": "key-00000001"})
    request.headers = [
        (k, "key-00000002" if k == "Idempotency-Key" else v) for k, v in request.headers
    ]
    assert gateway.handle(request).error_type == "INVALID_SIGNATURE"
    assert recorder.events == []


def test_a_claimed_body_hash_does_not_stand_in_for_the_body() -> None:
    """X-Amz-Content-SHA256: UNSIGNED-PAYLOAD, signed: the body is still what is hashed."""
    gateway, recorder = _gateway()
    request = _signed(b'{"a": 1}', **{"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert gateway.handle(request).error_type == "INVALID_SIGNATURE"
    assert recorder.events == []


def test_a_wrong_secret_an_unknown_key_or_another_token_is_refused() -> None:
    gateway, recorder = _gateway(_api(gateway_responses={}))
    wrong_secret = ClientCredentials(**{**CLIENT.as_dict(), "secret_access_key": "guess"})
    assert gateway.handle(_signed(b"{}", wrong_secret)).error_type == "INVALID_SIGNATURE"
    unknown = ClientCredentials(**{**CLIENT.as_dict(), "access_key_id": "ASIAUNKNOWN000000000"})
    response = gateway.handle(_signed(b"{}", unknown))
    assert _refusal(response) == (403, "ACCESS_DENIED", "AccessDeniedException")
    assert json.loads(response.body) == {
        "message": "The security token included in the request is invalid."
    }
    other_token = ClientCredentials(**{**CLIENT.as_dict(), "session_token": "someone-else"})
    assert gateway.handle(_signed(b"{}", other_token)).error_type == "ACCESS_DENIED"
    assert recorder.events == []


def test_a_signature_for_another_region_is_refused() -> None:
    gateway, recorder = _gateway()
    assert gateway.handle(_signed(b"{}", region="us-west-2")).error_type == "INVALID_SIGNATURE"
    assert recorder.events == []


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(timedelta(minutes=-4), True), (timedelta(minutes=-6), False), (timedelta(minutes=6), False)],
    ids=["4-min-old", "6-min-old", "6-min-ahead"],
)
def test_a_signature_outside_five_minutes_of_the_clock_is_refused(
    monkeypatch: pytest.MonkeyPatch, offset: timedelta, accepted: bool
) -> None:
    gateway, recorder = _gateway(_api(gateway_responses={}))
    signed_at = datetime.now(UTC).replace(tzinfo=None) + offset
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at)
    response = gateway.handle(_signed(b"{}"))
    if accepted:
        assert response.status == 200 and len(recorder.events) == 1
    else:
        assert _refusal(response) == (403, "INVALID_SIGNATURE", "InvalidSignatureException")
        assert json.loads(response.body)["message"].startswith("Signature ")
        assert recorder.events == []


def test_an_expired_session_is_refused() -> None:
    expired = ClientCredentials(
        **{
            **CLIENT.as_dict(),
            "access_key_id": "ASIAEXPIREDSESSION01",
            "expiration": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
        }
    )
    gateway, recorder = _gateway()
    gateway.sessions.add(expired)
    response = gateway.handle(_signed(b"{}", expired))
    assert _refusal(response) == (403, "EXPIRED_TOKEN", "ExpiredTokenException")
    assert recorder.events == []


def test_an_authorization_header_that_is_not_sigv4_is_refused() -> None:
    gateway, recorder = _gateway()
    response = gateway.handle(
        _request("POST", "/prod/process", b"{}", Authorization="Bearer abc", **{"X-Amz-Date": "x"})
    )
    assert _refusal(response) == (403, "INVALID_SIGNATURE", "IncompleteSignatureException")
    assert recorder.events == []


def test_a_refusal_renders_the_apis_gateway_response() -> None:
    gateway, _ = _gateway()
    response = gateway.handle(_request("POST", "/prod/process", b"{}"))
    body = json.loads(response.body)
    assert body["error"]["code"] == "REJECTED"  # DEFAULT_4XX's template, as deployed
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
    response = gateway.handle(_signed(deep))
    assert response.status == 200
    assert len(recorder.events) == 1
