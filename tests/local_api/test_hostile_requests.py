"""What a hostile or broken client sends, over a raw socket to the local API: every answer is the
API's JSON error with one request id, and nothing that was refused is written.

The local API runs with a 1 s body deadline (``--read-timeout 1``), so a body that never
arrives is refused after one second rather than the default ten.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from payment_ops.localapi.signing import signed_headers

from .conftest import ROOT, LocalApiProcess, start_local_api

pytestmark = pytest.mark.integration

BODY = json.dumps(
    {"amount": "12.50", "currency": "USD", "customer_id": "cust_123", "payment_method": "card"}
).encode()
TEN_MIB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApiProcess]:
    running = start_local_api(tmp_path_factory.mktemp("local-api"), "--read-timeout", "1")
    try:
        yield running
    finally:
        running.kill()


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: dict
    closed: bool  # the server closed the connection after answering


def _raw(local_api: LocalApiProcess, head: str, body: bytes = b"", half_close=False) -> RawResponse:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` as given;
    read one response. ``half_close`` ends the client's side after sending, as a client that
    gives up does."""
    split = urllib.parse.urlsplit(local_api.url)
    with socket.create_connection((split.hostname, split.port), timeout=30) as conn:
        head = head.replace("{stage}", split.path)
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            assert chunk, f"connection dropped without an answer: {data!r}"
            data += chunk
        raw_head, _, rest = data.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(rest) < length:
            chunk = conn.recv(65536)
            assert chunk, "connection dropped in the middle of the answer"
            rest += chunk
        # A server that closes says so ("Connection: close", RFC 9112 §9.6), then does.
        closed = headers.get("connection", "").lower() == "close"
        if closed:
            assert conn.recv(1) == b"", "said it closes, yet kept the connection open"
    return RawResponse(int(lines[0].split()[1]), headers, json.loads(rest), closed)


def _post_head(local_api: LocalApiProcess, *framing: str, body: bytes = BODY) -> str:
    """POST /process signed for ``body`` with the printed credentials; ``framing`` (the
    headers under test) is added after signing, unsigned, as a broken client's proxy might."""
    stage = urllib.parse.urlsplit(local_api.url).path
    signed = signed_headers(
        local_api.printed_credentials,
        local_api.info["region"],
        "POST",
        f"http://127.0.0.1{stage}/process",
        body,
        {"Content-Type": "application/json", "Idempotency-Key": f"hostile-{uuid.uuid4().hex}"},
    )
    return "\n".join(
        [
            "POST {stage}/process HTTP/1.1",
            "Host: 127.0.0.1",
            *(f"{name}: {value}" for name, value in signed.items()),
            *framing,
        ]
    )


def _items(local_api: LocalApiProcess) -> int:
    table = local_api.aws("dynamodb")
    return table.scan(TableName=local_api.info["table"], Select="COUNT", ConsistentRead=True)[
        "Count"
    ]


def _assert_one_id(response: RawResponse, code: str) -> None:
    assert response.headers["content-type"] == "application/json"
    assert set(response.body) == {"error"} and response.body["error"]["code"] == code
    # One request, one id: the header the client logs is the id in the body it reads.
    assert response.body["error"]["request_id"] == response.headers["x-amzn-requestid"]


def test_a_body_shorter_than_its_content_length_is_400_and_writes_nothing(local_api) -> None:
    before = _items(local_api)
    # The client stays connected and waits: the server must not wait for it forever, and must
    # not take the bytes that did arrive as the request.
    response = _raw(local_api, _post_head(local_api, f"Content-Length: {len(BODY) + 10}"), BODY)
    assert response.status == 400 and response.closed
    _assert_one_id(response, "REQUEST_REJECTED")
    # The client gives up and closes its side: what arrived is still not a request.
    gave_up = _raw(
        local_api, _post_head(local_api, f"Content-Length: {len(BODY) + 10}"), BODY, True
    )
    assert gave_up.status == 400 and gave_up.closed
    _assert_one_id(gave_up, "REQUEST_REJECTED")
    assert _items(local_api) == before


@pytest.mark.parametrize(
    "framing",
    [
        ["Content-Length: -1"],
        ["Content-Length: abc"],
        [f"Content-Length: +{len(BODY)}"],
        [f"Content-Length: {len(BODY)}", f"Content-Length: {len(BODY) + 1}"],
        [f"Content-Length: {len(BODY)}", "Transfer-Encoding: chunked"],
        ["Transfer-Encoding: gzip"],
    ],
    ids=["negative", "not-a-number", "signed", "two-lengths", "length-and-chunked", "gzip"],
)
def test_untrustworthy_framing_is_400_and_writes_nothing(local_api, framing: list[str]) -> None:
    before = _items(local_api)
    response = _raw(local_api, _post_head(local_api, *framing), BODY, half_close=True)
    assert response.status == 400 and response.closed
    _assert_one_id(response, "REQUEST_REJECTED")
    assert _items(local_api) == before


def test_a_broken_chunked_body_is_400_and_a_whole_one_is_accepted(local_api) -> None:
    before = _items(local_api)
    chunked = _post_head(local_api, "Transfer-Encoding: chunked")
    broken = _raw(local_api, chunked, b"zz\r\n" + BODY + b"\r\n0\r\n\r\n", half_close=True)
    assert broken.status == 400
    _assert_one_id(broken, "REQUEST_REJECTED")
    cut = _raw(local_api, chunked, b"%x\r\n" % len(BODY) + BODY[:10], half_close=True)
    assert cut.status == 400
    assert _items(local_api) == before
    whole = _raw(local_api, chunked, b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n")
    assert whole.status == 201 and not whole.closed
    assert _items(local_api) == before + 1


@pytest.mark.parametrize(
    "framing", [f"Content-Length: {TEN_MIB + 1}", "Transfer-Encoding: chunked"]
)
def test_over_api_gateways_10_mib_is_413_payload_too_large(local_api, framing: str) -> None:
    """The REQUEST_TOO_LARGE gateway response as deployed, answered before the body is read."""
    body = b"%x\r\n" % (TEN_MIB + 1) if framing.startswith("Transfer") else b""
    response = _raw(local_api, _post_head(local_api, framing), body)
    assert response.status == 413 and response.closed
    _assert_one_id(response, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("method", ["PATCH", "PROPFIND", "BREW"])
def test_a_method_the_api_does_not_have_is_the_apis_json_403(local_api, method: str) -> None:
    response = _raw(
        local_api, f"{method} {{stage}}/process HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 0"
    )
    assert response.status == 403 and not response.closed
    _assert_one_id(response, "MISSING_AUTHENTICATION_TOKEN")


@pytest.mark.parametrize("opening", ['{"a":', "["], ids=["objects", "arrays"])
def test_json_nested_a_thousand_deep_is_400_invalid_json_with_the_reason(
    local_api, opening: str
) -> None:
    closing = "}" if opening.startswith("{") else "]"
    deep = (opening * 1000 + "1" + closing * 1000).encode()
    before = _items(local_api)
    response = _raw(
        local_api, _post_head(local_api, f"Content-Length: {len(deep)}", body=deep), deep
    )
    assert response.status == 400 and not response.closed
    assert response.body["error"]["code"] == "INVALID_JSON"
    assert "nest" in response.body["error"]["message"]
    assert _items(local_api) == before


def test_the_proxy_event_request_id_is_the_response_header(local_api) -> None:
    """The id the gateway gives the function is the one it returns to the client."""
    response = _raw(local_api, "GET {stage}/health HTTP/1.1\nHost: 127.0.0.1")
    assert response.status == 200
    request_id = response.headers["x-amzn-requestid"]
    uuid.UUID(request_id)  # API Gateway's request ids are UUIDs
    lines = (local_api.build.parent / "functions.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert [line for line in logged if line.get("request_id") == request_id]


def test_a_handler_error_carries_the_id_of_the_response_header(local_api) -> None:
    body = b'{"amount": "-1"}'
    response = _raw(
        local_api, _post_head(local_api, f"Content-Length: {len(body)}", body=body), body
    )
    assert response.status == 400
    _assert_one_id(response, "VALIDATION_ERROR")


def test_a_bad_environment_suffix_is_one_line_and_exit_2_before_anything_starts() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "local_api.py"), "--environment-suffix", "BAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""  # no "deploying ...": nothing was started
    assert done.stderr == (
        "local_api: error: invalid environment suffix 'BAD': 1-20 characters of a-z, 0-9 and "
        "'-', starting with a letter\n"
    )
