"""Fixtures for the Lambda handlers: an in-process moto account, the agreed table and bucket,
API Gateway events, a fake Lambda context, and faults injected into the real boto3 clients.

Nothing here replaces handler code: requests go through ``lambda_handler`` and real botocore
calls; faults are answered at botocore's ``before-send`` step, where the network would be.
"""

from __future__ import annotations

import base64 as b64
import collections
import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, NamedTuple

import boto3
import botocore.endpoint
import moto.dynamodb.models.table as moto_table
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.models import botocore_stubber

from handler import app, audit, stream_lookup

REGION = "us-east-1"
TABLE = "payment-test-payments"
BUCKET = "payment-test-audit-123456789012-us-east-1"
ACCOUNT = "123456789012"
CLIENT_ID = "acme"
CLIENT_ROLE_PREFIX = "payment-test-client-"

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "TABLE_NAME": TABLE,
    "AUDIT_BUCKET": BUCKET,
    "ENVIRONMENT_SUFFIX": "test",
    "CLIENT_AUTH": "iam",
    "CLIENT_ROLE_PREFIX": CLIENT_ROLE_PREFIX,
}


def role_session_arn(client_id: str, session: str = "pytest-session") -> str:
    """``$context.identity.userArn`` of a SigV4 request signed with a client role's session."""
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{CLIENT_ROLE_PREFIX}{client_id}/{session}"


VALID_BODY = {
    "amount": "12.50",
    "currency": "USD",
    "customer_id": "cust_123",
    "payment_method": "card",
}


class FakeContext:
    """The parts of the Lambda context object the handlers read."""

    def __init__(self, request_id: str | None = None, timeout_s: float = 60.0) -> None:
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.function_name = "payment-test-processor"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:123456789012:function:payment-test-processor"
        )
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Response(NamedTuple):
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    raw: dict[str, Any]
    # The id this request must be known by: API Gateway's request id, or Lambda's for an
    # invocation that did not come through API Gateway.
    request_id: str


def api_event(
    method: str = "POST",
    path: str = "/process",
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    base64: bool = False,
    client: str | None = CLIENT_ID,
    identity: dict[str, Any] | None = None,
    multi_value_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A REST API proxy event as API Gateway sends it (body: dict -> JSON, str/bytes as is).

    ``client``: the registered client whose role session signed the request (None: unsigned);
    ``identity``: members added to ``requestContext.identity`` as API Gateway would (e.g. a
    ``clientCert`` in mTLS mode).
    """
    if isinstance(body, dict):
        body = json.dumps(body)
    if base64 and body is not None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        body = b64.b64encode(raw).decode("ascii")
    headers = dict(headers or {})
    caller: dict[str, Any] = {"sourceIp": "203.0.113.9", "userAgent": "pytest"}
    if client is not None:
        caller.update(
            userArn=role_session_arn(client),
            accountId=ACCOUNT,
            caller=f"AROAEXAMPLE:{client}",
            accessKey="ASIAEXAMPLE",
        )
    caller.update(identity or {})
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": multi_value_headers
        or ({name: [value] for name, value in headers.items()} or None),
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "identity": caller,
        },
        "body": body,
        "isBase64Encoded": base64,
    }


def invoke(event: dict[str, Any], context: FakeContext | None = None) -> Response:
    context = context or FakeContext()
    raw = app.lambda_handler(event, context)
    assert raw["headers"]["Content-Type"] == "application/json"
    assert raw["isBase64Encoded"] is False
    request_id = (event.get("requestContext") or {}).get("requestId") or context.aws_request_id
    return Response(raw["statusCode"], raw["headers"], json.loads(raw["body"]), raw, request_id)


def post(body: Any = None, key: str | None = None, **kwargs: Any) -> Response:
    headers = dict(kwargs.pop("headers", None) or {})
    if key is not None:
        headers["Idempotency-Key"] = key
    return invoke(api_event("POST", "/process", body, headers, **kwargs))


def new_key() -> str:
    return "key-" + uuid.uuid4().hex


def scan_items(client: Any = None, table: str = TABLE) -> list[dict[str, Any]]:
    client = client or boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def create_payments_table(client: Any) -> str:
    """The table as the templates declare it (key, GSIs, stream view)."""
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("payment_id", "status", "created_at", "customer_id")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": partition, "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, partition in (("status-index", "status"), ("customer-index", "customer_id"))
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A private in-process AWS account. Environment changes end with the test, so they never
    leak into other test modules (the template tests read ENVIRONMENT_SUFFIX too)."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        app.reset_runtime()
        audit.reset_runtime()
        stream_lookup.reset_runtime()
        yield
        app.reset_runtime()
        audit.reset_runtime()
        stream_lookup.reset_runtime()


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(dynamodb: Any) -> str:
    """The payments table; returns its stream ARN."""
    return create_payments_table(dynamodb)


@pytest.fixture
def processor_client(table: str) -> Any:
    """The DynamoDB client the processor built for itself (the one to inject faults into)."""
    return app.runtime().store.client


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    """botocore's retry backoff, recorded instead of slept (only botocore.endpoint's clock)."""
    sleeps = Sleeps()
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=sleeps.sleep))
    return sleeps


@pytest.fixture
def atomic_conditional_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB evaluates a condition and writes atomically; moto's in-process table reads,
    checks and stores without a lock, so two threads can both "win". Give the emulator the
    service's guarantee so that concurrency tests exercise the handler, not moto's race."""
    lock = threading.Lock()
    original = moto_table.Table.put_item

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(moto_table.Table, "put_item", put_item)


class AwsCalls:
    """Counts the AWS operations a client starts (attempts and retries count once)."""

    def __init__(self, client: Any) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        client.meta.events.register("before-call", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@pytest.fixture
def processor_calls(processor_client: Any) -> AwsCalls:
    return AwsCalls(processor_client)


class _RawBody(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


class Fault:
    """Answers an operation of a real client with an AWS error, or raises a transport error,
    where the network would be, so the SDK's retry logic sees it. Counts the attempts."""

    def __init__(
        self,
        client: Any,
        operation: str,
        *,
        status: int = 400,
        code: str = "ThrottlingException",
        raise_error: Exception | None = None,
        times: int | None = None,
        when: Any = None,
    ) -> None:
        self.client = client
        self.event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        self.status = status
        self.code = code
        self.raise_error = raise_error
        self.remaining = times
        self.when = when
        self.attempts = 0

    def __enter__(self) -> Fault:
        self.client.meta.events.register_first(self.event, self, unique_id=id(self))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.meta.events.unregister(self.event, unique_id=id(self))

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.when is not None and not self.when(request):
            return None
        if self.remaining is not None:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
        self.attempts += 1
        if self.raise_error is not None:
            raise self.raise_error  # also ends the event chain: moto never sees the request
        # botocore calls every before-send handler and uses the first response. Point the
        # request at a host nobody serves, so that moto (later in the chain) does not execute
        # it as well: the injected failure must mean "the service did nothing".
        request.url = "https://fault-injection.invalid/"
        if self.client.meta.service_model.protocol == "rest-xml":
            body = (
                f"<Error><Code>{self.code}</Code><Message>injected</Message>"
                "<RequestId>FAULT</RequestId></Error>"
            ).encode()
            headers = {"Content-Type": "application/xml"}
        else:
            body = json.dumps(
                {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "injected"}
            ).encode()
            headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": self.code}
        return AWSResponse(request.url, self.status, headers, _RawBody(body))


class LostResponse:
    """The write reaches the table and is applied (moto executes the very request the SDK
    sent), then the answer is lost on the way back: a read timeout, a dropped connection, or a
    5xx. The SDK sees only the failure, as it would on the network, and retries as configured.

    ``times``: how many attempts are treated so (None: all of them); later attempts go through.
    """

    def __init__(
        self,
        client: Any,
        operation: str = "PutItem",
        *,
        error: Exception | None = None,
        status: int | None = None,
        times: int | None = None,
    ) -> None:
        self.client = client
        self.event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        self.error = error
        self.status = status
        self.remaining = times
        self.applied = 0

    def __enter__(self) -> LostResponse:
        self.client.meta.events.register_first(self.event, self, unique_id=id(self))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.meta.events.unregister(self.event, unique_id=id(self))

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if self.remaining is not None:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
        botocore_stubber(event_name=event_name, request=request)  # the table applies it
        self.applied += 1
        if self.error is not None:
            raise self.error
        request.url = "https://fault-injection.invalid/"
        body = json.dumps(
            {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "lost"}
        ).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, self.status or 500, headers, _RawBody(body))
