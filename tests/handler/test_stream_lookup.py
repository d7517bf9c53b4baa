"""``Custom::TableStream`` as CloudFormation sees it: each request goes through
``stream_lookup.lambda_handler`` against moto's DynamoDB, and the answer is whatever arrives at
a real HTTP server on 127.0.0.1 standing in for the presigned S3 ResponseURL."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import pytest
from botocore.exceptions import ReadTimeoutError

from handler import stream_lookup
from handler.config import DYNAMODB_CLIENT_CONFIG

from .conftest import REGION, TABLE, AwsCalls, FakeContext, Fault, Sleeps, create_payments_table

STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/payment-test-replica/"
    "0f6e7a10-aaaa-bbbb-cccc-0123456789ab"
)
LOGICAL_ID = "PaymentsTableStream"
SERVICE_TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:payment-test-table-stream"
# Stands in for the presigned URL's signature: it must reach no log line and no Reason.
SIGNATURE = "Zm9yZ2VkLXNpZ25hdHVyZS1kby1ub3QtbG9n"
RESPONSE_FIELDS = {
    "Status",
    "Reason",
    "PhysicalResourceId",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "NoEcho",
    "Data",
}


class Received(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)


class ResponseServer:
    """The presigned S3 URL: records every request; answers the queued statuses, then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                server.received.append(
                    Received("PUT", self.path, dict(self.headers.items()), self.rfile.read(length))
                )
                self.send_response(server.statuses.pop(0) if server.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass  # the test's output is the handler's log, not the server's

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        port = self._httpd.server_address[1]
        return (
            f"http://127.0.0.1:{port}/cloudformation-custom-resource-response-useast1/"
            f"{uuid.uuid4()}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={SIGNATURE}"
        )

    @property
    def answer(self) -> Received:
        [received] = self.received
        return received

    def __enter__(self) -> ResponseServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def cloudformation(aws: None) -> Iterator[ResponseServer]:
    with ResponseServer() as server:
        yield server


def cfn_event(
    request_type: str,
    url: str,
    *,
    table: str | None = TABLE,
    physical_id: str | None = None,
    properties: Any = None,
) -> dict[str, Any]:
    """A request as CloudFormation sends it to the ServiceToken's function."""
    if properties is None:
        properties = {"ServiceToken": SERVICE_TOKEN}
        if table is not None:
            properties["TableName"] = table
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": SERVICE_TOKEN,
        "ResponseURL": url,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": LOGICAL_ID,
        "ResourceType": "Custom::TableStream",
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = dict(properties) if isinstance(properties, dict) else {}
    return event


def answer(server: ResponseServer, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the function; return what CloudFormation received, checked against the request."""
    returned = stream_lookup.lambda_handler(event, FakeContext())
    received = server.answer
    body = received.body
    assert received.method == "PUT"
    assert set(body) == RESPONSE_FIELDS
    assert body["StackId"] == event["StackId"]
    assert body["RequestId"] == event["RequestId"]
    assert body["LogicalResourceId"] == event["LogicalResourceId"]
    assert body["NoEcho"] is False
    assert body["PhysicalResourceId"]
    assert returned == body
    return body


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# -- Create and Update -----------------------------------------------------------------------


def test_create_answers_the_stream_arn_of_the_local_replica(
    dynamodb: Any, table: str, cloudformation: ResponseServer
) -> None:
    body = answer(cloudformation, cfn_event("Create", cloudformation.url))

    stream_arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == stream_arn
    assert body["Data"] == {"StreamArn": stream_arn}


def test_the_answer_is_a_put_s3_accepts_for_a_presigned_url(
    table: str, cloudformation: ResponseServer
) -> None:
    url = cloudformation.url
    answer(cloudformation, cfn_event("Create", url))

    received = cloudformation.answer
    # The URL was signed without a Content-Type: sending one would break the signature.
    assert received.headers["Content-Type"] == ""
    assert int(received.headers["Content-Length"]) == len(received.raw)
    target = urllib.parse.urlsplit(url)
    assert received.path == f"{target.path}?{target.query}"  # signature and all, unaltered
    assert len(received.raw) <= 4096  # CloudFormation's limit for the whole body


def test_update_after_the_table_was_replaced_answers_the_new_stream(
    dynamodb: Any, table: str, cloudformation: ResponseServer
) -> None:
    old_arn = table
    dynamodb.delete_table(TableName=TABLE)
    new_arn = create_payments_table(dynamodb)
    assert new_arn != old_arn

    body = answer(cloudformation, cfn_event("Update", cloudformation.url, physical_id=old_arn))

    # A new physical id: CloudFormation treats it as a replacement, and the event source
    # mapping that reads GetAtt StreamArn follows the new stream.
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == new_arn
    assert body["Data"] == {"StreamArn": new_arn}


@pytest.mark.parametrize("how", ["never enabled", "disabled later"])
def test_a_table_without_an_enabled_stream_fails_naming_the_table(
    dynamodb: Any, cloudformation: ResponseServer, how: str
) -> None:
    if how == "never enabled":
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
        )
    else:
        # DynamoDB keeps reporting a disabled stream's LatestStreamArn for a day.
        create_payments_table(dynamodb)
        dynamodb.update_table(TableName=TABLE, StreamSpecification={"StreamEnabled": False})

    body = answer(cloudformation, cfn_event("Create", cloudformation.url))

    assert body["Status"] == "FAILED"
    assert TABLE in body["Reason"] and REGION in body["Reason"]
    assert "no enabled stream" in body["Reason"]
    assert body["Data"] == {}


def test_a_missing_table_fails_naming_table_and_region(
    aws: None, cloudformation: ResponseServer
) -> None:
    body = answer(cloudformation, cfn_event("Create", cloudformation.url))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        f"table {TABLE} has no replica in {REGION} yet: deploy the primary region first"
    )


def test_a_failed_update_keeps_the_physical_id(aws: None, cloudformation: ResponseServer) -> None:
    old_arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/2026-01-01T00:00:00"

    body = answer(cloudformation, cfn_event("Update", cloudformation.url, physical_id=old_arn))

    # Another id would read as a replacement; a failed update must leave the resource as it was.
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == old_arn


@pytest.mark.parametrize(
    "properties",
    [
        {"ServiceToken": SERVICE_TOKEN},
        {"ServiceToken": SERVICE_TOKEN, "TableName": ""},
        {"ServiceToken": SERVICE_TOKEN, "TableName": "   "},
        {"ServiceToken": SERVICE_TOKEN, "TableName": ["not", "a", "name"]},
        "not an object",
    ],
    ids=["missing", "empty", "blank", "not-a-string", "no-properties"],
)
def test_a_missing_or_blank_table_name_fails(
    table: str, cloudformation: ResponseServer, properties: Any
) -> None:
    body = answer(cloudformation, cfn_event("Create", cloudformation.url, properties=properties))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == "the TableName property is missing or blank"


def test_an_unknown_request_type_fails(table: str, cloudformation: ResponseServer) -> None:
    body = answer(cloudformation, cfn_event("Replace", cloudformation.url))

    assert body["Status"] == "FAILED"
    assert "RequestType" in body["Reason"]


# -- Delete ----------------------------------------------------------------------------------


def test_delete_succeeds_with_the_same_physical_id_without_calling_dynamodb(
    table: str, cloudformation: ResponseServer
) -> None:
    calls = AwsCalls(stream_lookup.runtime().dynamodb)

    body = answer(cloudformation, cfn_event("Delete", cloudformation.url, physical_id=table))

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == table
    assert body["Data"] == {}
    assert calls.total == 0


def test_the_delete_after_a_failed_create_succeeds_with_its_placeholder(
    dynamodb: Any, cloudformation: ResponseServer
) -> None:
    created = answer(cloudformation, cfn_event("Create", cloudformation.url))
    assert created["Status"] == "FAILED"
    placeholder = created["PhysicalResourceId"]
    cloudformation.received.clear()

    # Rollback; the table appearing meanwhile changes nothing about what there is to delete.
    create_payments_table(dynamodb)
    event = cfn_event("Delete", cloudformation.url, physical_id=placeholder)
    deleted = answer(cloudformation, event)

    assert deleted["Status"] == "SUCCESS"
    assert deleted["PhysicalResourceId"] == placeholder


def test_delete_succeeds_even_without_a_region_configured(
    cloudformation: ResponseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    body = answer(cloudformation, cfn_event("Delete", cloudformation.url, physical_id="x"))

    assert body["Status"] == "SUCCESS"


# -- the unexpected always gets an answer ----------------------------------------------------


def lookup_client() -> Any:
    return stream_lookup.runtime().dynamodb


def test_an_unexpected_python_error_is_still_answered_failed(
    table: str,
    cloudformation: ResponseServer,
    retry_sleeps: Sleeps,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Fault(lookup_client(), "DescribeTable", raise_error=RuntimeError("socket pool gone")):
        body = answer(cloudformation, cfn_event("Create", cloudformation.url))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == "RuntimeError: socket pool gone"
    [line] = log_lines(capsys)
    assert line["level"] == "ERROR"
    assert line["error_type"] == "RuntimeError"
    assert "Traceback" in line["exception"]  # the operator gets the whole story


@pytest.mark.parametrize("code", ["AccessDeniedException", "ValidationException"])
def test_an_aws_error_is_answered_failed_with_its_code(
    table: str, cloudformation: ResponseServer, retry_sleeps: Sleeps, code: str
) -> None:
    with Fault(lookup_client(), "DescribeTable", code=code) as fault:
        body = answer(cloudformation, cfn_event("Create", cloudformation.url))

    assert body["Status"] == "FAILED"
    assert code in body["Reason"] and "DescribeTable" in body["Reason"]
    assert fault.attempts == 1


def test_an_unreachable_dynamodb_is_answered_failed_after_bounded_retries(
    table: str, cloudformation: ResponseServer, retry_sleeps: Sleeps
) -> None:
    error = ReadTimeoutError(endpoint_url=f"https://dynamodb.{REGION}.amazonaws.com")
    with Fault(lookup_client(), "DescribeTable", raise_error=error) as fault:
        body = answer(cloudformation, cfn_event("Create", cloudformation.url))

    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("ReadTimeoutError: ")
    assert fault.attempts == DYNAMODB_CLIENT_CONFIG.retries["total_max_attempts"]


def test_missing_configuration_is_answered_failed(
    table: str, cloudformation: ResponseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    body = answer(cloudformation, cfn_event("Create", cloudformation.url))

    assert body["Status"] == "FAILED"
    assert body["Reason"] == "ConfigurationError: missing environment variables: AWS_REGION"


def test_a_reason_never_carries_the_response_url(
    table: str, cloudformation: ResponseServer, retry_sleeps: Sleeps
) -> None:
    url = cloudformation.url
    with Fault(lookup_client(), "DescribeTable", raise_error=ValueError(f"bad {url}")):
        body = answer(cloudformation, cfn_event("Create", url))

    assert body["Reason"] == "ValueError: bad <ResponseURL>"


# -- delivering the answer -------------------------------------------------------------------


def test_a_response_server_error_is_retried_until_delivered(
    table: str, cloudformation: ResponseServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation.statuses = [500]
    event = cfn_event("Create", cloudformation.url)

    returned = stream_lookup.lambda_handler(event, FakeContext())

    first, second = cloudformation.received
    assert first.raw == second.raw
    assert second.body == returned
    assert returned["Status"] == "SUCCESS"
    [line] = log_lines(capsys)
    assert line["delivered"] is True
    assert line["delivery_attempts"] == 2


def test_a_refused_response_fails_the_invocation_without_retrying(
    table: str, cloudformation: ResponseServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # 403: the presigned URL expired or was altered; asking again cannot change that.
    cloudformation.statuses = [403]

    with pytest.raises(stream_lookup.ResponseNotDelivered, match="HTTP 403"):
        stream_lookup.lambda_handler(cfn_event("Create", cloudformation.url), FakeContext())

    assert len(cloudformation.received) == 1
    [line] = log_lines(capsys)
    assert line["level"] == "ERROR"
    assert line["delivered"] is False
    assert line["delivery_error"] == "HTTP 403"


def test_delivery_gives_up_after_bounded_attempts(cloudformation: ResponseServer) -> None:
    cloudformation.statuses = [503] * 10
    sleeps: list[float] = []

    delivery = stream_lookup.deliver(cloudformation.url, {"Status": "SUCCESS"}, sleep=sleeps.append)

    assert delivery == stream_lookup.Delivery(False, stream_lookup.RESPONSE_ATTEMPTS, "HTTP 503")
    assert len(cloudformation.received) == stream_lookup.RESPONSE_ATTEMPTS
    assert sleeps == list(stream_lookup.RESPONSE_BACKOFF_S)


def test_a_refused_connection_is_retried() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []

    delivery = stream_lookup.deliver(f"http://127.0.0.1:{port}/r", {}, sleep=sleeps.append)

    assert delivery.delivered is False
    assert delivery.attempts == stream_lookup.RESPONSE_ATTEMPTS
    assert delivery.error == "URLError"
    assert len(sleeps) == stream_lookup.RESPONSE_ATTEMPTS - 1


NO_USABLE_URL = "the request has no usable ResponseURL"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:not-a-port/r", stream_lookup.Delivery(False, 1, "InvalidURL")),
        ("http://127.0.0.1/r\nHost: elsewhere", stream_lookup.Delivery(False, 1, "InvalidURL")),
        # urllib cannot even parse it: refused before any attempt, and deliver does not raise.
        ("http://[::1/r", stream_lookup.Delivery(False, 0, NO_USABLE_URL)),
    ],
    ids=["bad-port", "control-character", "unclosed-bracket"],
)
def test_a_url_that_cannot_be_sent_to_is_not_retried(
    url: str, expected: stream_lookup.Delivery
) -> None:
    """No retry can repair the URL itself: at most one attempt, no backoff, the reason named."""
    sleeps: list[float] = []

    delivery = stream_lookup.deliver(url, {}, sleep=sleeps.append)

    assert delivery == expected
    assert sleeps == []


def test_delivery_stops_at_the_deadline(cloudformation: ResponseServer) -> None:
    now = [100.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds + stream_lookup.RESPONSE_TIMEOUT_S  # as if each attempt timed out

    cloudformation.statuses = [500] * 10
    delivery = stream_lookup.deliver(
        cloudformation.url, {}, deadline=107.0, sleep=sleep, clock=lambda: now[0]
    )

    assert delivery.delivered is False
    assert delivery.attempts == 2  # the third would start after the deadline
    assert len(cloudformation.received) == 2


def test_the_lambda_deadline_bounds_delivery(table: str, cloudformation: ResponseServer) -> None:
    # Less time left than the margin kept for the log line: no attempt is started.
    context = FakeContext(timeout_s=stream_lookup.DEADLINE_MARGIN_S / 2)
    started = time.monotonic()

    with pytest.raises(stream_lookup.ResponseNotDelivered):
        stream_lookup.lambda_handler(cfn_event("Create", cloudformation.url), context)

    assert cloudformation.received == []
    assert time.monotonic() - started < stream_lookup.RESPONSE_TIMEOUT_S


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (None, "no usable ResponseURL"),
        ("", "no usable ResponseURL"),
        ("file:///etc/passwd", "no usable ResponseURL"),
        ("ftp://127.0.0.1/r", "no usable ResponseURL"),
        ("http://127.0.0.1:not-a-port/r", "InvalidURL"),
    ],
)
def test_no_usable_response_url_fails_the_invocation(aws: None, url: Any, error: str) -> None:
    event = cfn_event("Delete", "placeholder", physical_id="x")
    event["ResponseURL"] = url

    with pytest.raises(stream_lookup.ResponseNotDelivered, match=error):
        stream_lookup.lambda_handler(event, FakeContext())


# -- logging ---------------------------------------------------------------------------------


def test_one_log_line_per_invocation_naming_request_and_outcome(
    table: str, cloudformation: ResponseServer, capsys: pytest.CaptureFixture[str]
) -> None:
    context = FakeContext()
    event = cfn_event("Create", cloudformation.url)
    stream_lookup.lambda_handler(event, context)

    [line] = log_lines(capsys)
    assert line["message"] == "custom resource answered"
    assert line["logger"] == "payment.table_stream"
    assert line["request_id"] == context.aws_request_id
    assert line["cfn_request_id"] == event["RequestId"]
    assert line["request_type"] == "Create"
    assert line["logical_resource_id"] == LOGICAL_ID
    assert line["table_name"] == TABLE
    assert line["region"] == REGION
    assert line["outcome"] == "SUCCESS"
    assert line["physical_resource_id"] == table
    assert line["delivered"] is True


def test_the_response_url_never_reaches_the_log(
    dynamodb: Any,
    cloudformation: ResponseServer,
    retry_sleeps: Sleeps,
    capsys: pytest.CaptureFixture[str],
) -> None:
    urls = []

    def run(event: dict[str, Any]) -> None:
        urls.append(event["ResponseURL"])
        try:
            stream_lookup.lambda_handler(event, FakeContext())
        except stream_lookup.ResponseNotDelivered:
            pass

    run(cfn_event("Create", cloudformation.url))  # no table yet: FAILED
    arn = create_payments_table(dynamodb)
    run(cfn_event("Create", cloudformation.url))  # SUCCESS
    run(cfn_event("Delete", cloudformation.url, physical_id=arn))
    with Fault(lookup_client(), "DescribeTable", raise_error=RuntimeError("boom")):
        run(cfn_event("Update", cloudformation.url, physical_id=arn))
    cloudformation.statuses = [500, 403]
    run(cfn_event("Create", cloudformation.url))  # retried, then refused

    output = capsys.readouterr()
    logged = output.out + output.err
    assert len(output.out.splitlines()) == len(urls)  # one line per invocation
    assert SIGNATURE not in logged
    for url in urls:
        assert url not in logged
        assert url.split("?", 1)[0] not in logged
