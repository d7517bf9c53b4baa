"""The local API over HTTP, as a new user tries it from the README; the load test's smoke run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime
from typing import Any

import pytest

from handler.audit_key import audit_key
from payment_ops.localapi.deployed import Limit, read_api
from payment_ops.localapi.gateway import Gateway, HttpRequest, LimitOverride
from payment_ops.localapi.signing import ClientCredentials

from .conftest import ROOT, LocalApiProcess

pytestmark = pytest.mark.integration

BODY = {"amount": "12.50", "currency": "USD", "customer_id": "cust_123", "payment_method": "card"}


def _key() -> str:
    return "test-" + uuid.uuid4().hex


def _post(
    local_api: LocalApiProcess,
    body: Any,
    key: str | None = None,
    signed_as: ClientCredentials | None = None,
    tamper: bytes | None = None,
    **headers: str,
):
    """POST /process signed with the printed credentials, unless ``signed_as`` says whose."""
    headers = {"Content-Type": "application/json", **headers}
    if key:
        headers["Idempotency-Key"] = key
    return local_api.request(
        "POST",
        "/process",
        body,
        headers,
        signed_as=signed_as or local_api.printed_credentials,
        tamper=tamper,
    )


def _item(local_api: LocalApiProcess, payment_id: str) -> dict | None:
    return (
        local_api.aws("dynamodb")
        .get_item(
            TableName=local_api.info["table"],
            Key={"payment_id": {"S": payment_id}},
            ConsistentRead=True,
        )
        .get("Item")
    )


def _item_count(local_api: LocalApiProcess) -> int:
    return local_api.aws("dynamodb").scan(TableName=local_api.info["table"], Select="COUNT")[
        "Count"
    ]


def _assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"]


def test_start_up_prints_the_url_the_credentials_and_a_curl_that_works(
    local_api: LocalApiProcess,
) -> None:
    output = local_api.output
    assert f"ready: {local_api.url}" in output
    assert local_api.url.startswith("http://127.0.0.1:") and local_api.url.endswith("/prod")
    lines = [line.strip() for line in output.splitlines()]
    exports = next(line for line in lines if line.startswith("export AWS_ACCESS_KEY_ID="))
    curl = next(line for line in lines if line.startswith("curl "))
    assert f"'{local_api.url}/process'" in curl
    assert '--aws-sigv4 "aws:amz:us-east-1:execute-api"' in curl
    # The two lines as printed, run as printed: the first payment of a new user.
    done = subprocess.run(
        f"{exports}; {curl}", shell=True, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert '"status":"ACCEPTED"' in done.stdout, done.stdout
    # The info file carries the same session, for scripts; no API key any more.
    assert local_api.info["credentials"]["access_key_id"] in exports
    assert "api_key" not in local_api.info


def test_a_signed_payment_is_accepted_and_stored_with_its_client(
    local_api: LocalApiProcess,
) -> None:
    response = _post(local_api, BODY, _key())
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    item = _item(local_api, response.body["payment_id"])
    assert item is not None
    assert item["amount"] == {"N": "12.50"}
    assert item["customer_id"] == {"S": "cust_123"}
    assert item["client_id"] == {"S": "local"}


def test_a_replay_returns_the_same_payment_and_writes_nothing(local_api: LocalApiProcess) -> None:
    key = _key()
    first = _post(local_api, BODY, key)
    count = _item_count(local_api)
    again = _post(local_api, BODY, key)
    other = _post(local_api, {**BODY, "amount": "13.00"}, key)
    assert (first.status, again.status, other.status) == (201, 200, 409)
    assert again.body == first.body
    _assert_error_shape(other.body, "IDEMPOTENCY_KEY_REUSED")
    assert _item_count(local_api) == count


def test_another_client_with_the_same_key_gets_its_own_payment(
    local_api: LocalApiProcess,
) -> None:
    key = _key()
    mine = _post(local_api, BODY, key)
    theirs = _post(local_api, BODY, key, signed_as=local_api.client_session("other"))
    assert (mine.status, theirs.status) == (201, 201)
    assert theirs.body["payment_id"] != mine.body["payment_id"]
    item = _item(local_api, theirs.body["payment_id"])
    assert item is not None and item["client_id"] == {"S": "other"}


def test_a_revoked_clients_session_is_refused_at_its_next_request(
    local_api: LocalApiProcess,
) -> None:
    """CLIENT_AUTH.md: revoke deletes the role; IAM evaluates the session's permissions on every
    request, so the session, still within its hour, stops working."""
    session = local_api.client_session("leaving")
    assert _post(local_api, BODY, _key(), signed_as=session).status == 201
    local_api.clients().revoke("leaving")
    count = _item_count(local_api)
    response = _post(local_api, BODY, _key(), signed_as=session)
    assert response.status == 403
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert _item_count(local_api) == count


def test_an_unsigned_payment_is_refused_and_writes_nothing(local_api: LocalApiProcess) -> None:
    count = _item_count(local_api)
    response = local_api.request(
        "POST", "/process", BODY, {"Content-Type": "application/json", "Idempotency-Key": _key()}
    )
    assert response.status == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert _item_count(local_api) == count


def test_a_body_changed_after_signing_is_refused_and_writes_nothing(
    local_api: LocalApiProcess,
) -> None:
    count = _item_count(local_api)
    tampered = json.dumps({**BODY, "amount": "9999.00"}).encode()
    response = _post(local_api, BODY, _key(), tamper=tampered)
    assert response.status == 403
    assert response.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert _item_count(local_api) == count


def test_a_session_the_emulator_never_issued_is_refused(local_api: LocalApiProcess) -> None:
    forged = ClientCredentials.from_dict(
        {**local_api.printed_credentials.as_dict(), "access_key_id": "ASIAFORGED0000000000"}
    )
    response = _post(local_api, BODY, _key(), signed_as=forged)
    assert response.status == 403
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("GET", "/process"), ("DELETE", "/health"), ("POST", "/")],
)
def test_unknown_routes_are_403_missing_authentication_token_in_the_contract_shape(
    local_api: LocalApiProcess, method: str, path: str
) -> None:
    response = local_api.request(method, path, signed_as=local_api.printed_credentials)
    # API Gateway's answer to an unknown route, signed or not, as the API customises it.
    assert response.status == 403
    _assert_error_shape(response.body, "MISSING_AUTHENTICATION_TOKEN")


def test_health_needs_no_signature(local_api: LocalApiProcess) -> None:
    response = local_api.request("GET", "/health")
    assert response.status == 200
    assert response.body == {"status": "ok", "region": local_api.info["region"]}


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "not json"])
def test_a_body_that_is_not_a_json_object_is_400_invalid_json(
    local_api: LocalApiProcess, body: str
) -> None:
    response = _post(local_api, body, _key())
    assert response.status == 400
    _assert_error_shape(response.body, "INVALID_JSON")


def test_an_accepted_payment_reaches_the_audit_bucket_through_the_stream(
    local_api: LocalApiProcess,
) -> None:
    response = _post(local_api, BODY, _key())
    assert response.status == 201
    payment = response.body
    created = payment["created_at"]
    key = audit_key(payment["payment_id"], datetime.strptime(created[:10], "%Y-%m-%d"))
    s3 = local_api.aws("s3")
    bucket = local_api.info["audit_bucket"]
    deadline = time.monotonic() + 20
    while True:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
        if listed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [o["Key"] for o in listed] == [key]
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"


def test_the_stages_execution_log_group_exists_encrypted_and_kept_a_year(
    local_api: LocalApiProcess,
) -> None:
    """Deployed by the template before the stage, so API Gateway never makes its own unencrypted
    one ("Set up CloudWatch logging for REST APIs in API Gateway")."""
    name = f"API-Gateway-Execution-Logs_{_api_id(local_api)}/prod"
    groups = local_api.aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [name]
    # The key is the template's (tests/templates); moto's CloudFormation model of a log group
    # drops KmsKeyId (it reads "kmsKeyId"), so the emulator cannot show it here.
    assert groups[0]["retentionInDays"] >= 365


def test_throttling_answers_the_deployed_429(local_api: LocalApiProcess) -> None:
    """The deployed stage throttle as read back, and a tiny bucket to hit it without a flood."""

    def aws(service: str, region: str) -> Any:
        return local_api.aws(service)

    api = read_api(aws, local_api.info["region"], _api_id(local_api), "prod")
    template = json.loads((local_api.build / "primary.template.json").read_text())
    [declared] = [
        setting
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Stage"
        for setting in r["Properties"]["MethodSettings"]
        if setting["ResourcePath"] == "/*"
    ]
    assert api.stage_throttles["*/*"] == Limit(
        float(declared["ThrottlingRateLimit"]), int(declared["ThrottlingBurstLimit"])
    )

    class Answer:
        def invoke(self, event: dict) -> dict:
            return {"statusCode": 200, "headers": {}, "body": "{}"}

    functions = {m.function_arn: Answer() for r in api.resources for m in r.methods.values()}
    gateway = Gateway(api, functions, LimitOverride(Limit(0.0, 2)))  # type: ignore[arg-type]
    request = HttpRequest("GET", "/prod/health", [], [], b"")
    statuses = [gateway.handle(request).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    throttled = gateway.handle(request)
    assert dict(throttled.headers)["Retry-After"] == "1"
    assert b'"code":"RATE_LIMITED"' in throttled.body


def test_the_load_test_smoke_run_loses_and_duplicates_nothing(
    local_api: LocalApiProcess, tmp_path
) -> None:
    info = tmp_path / "info.json"
    info.write_text(json.dumps(local_api.info))
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "load.py"),
            "--info-file",
            str(info),
            "--requests",
            "60",
            "--concurrency",
            "4",
            "--max-seconds",
            "60",
            "--json",
            str(tmp_path / "load.json"),
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verification: PASSED" in done.stdout


def test_ctrl_c_stops_everything_and_frees_the_ports(local_api: LocalApiProcess) -> None:
    """Last in the module: it ends the module's local API."""
    api_port = int(local_api.url.split(":")[2].split("/")[0])
    emulator_port = int(local_api.info["endpoint_url"].rsplit(":", 1)[1])
    assert local_api.interrupt() == 0
    assert local_api.output.rstrip().endswith("stopped")
    assert "Traceback" not in local_api.output
    for port in (api_port, emulator_port):
        with socket.socket() as probe:
            # Connections of the tests may linger in TIME_WAIT; nobody may listen any more.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
            probe.listen()


def test_a_busy_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "local_api.py"), "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in done.stderr


def _api_id(local_api: LocalApiProcess) -> str:
    apis = local_api.aws("apigateway").get_rest_apis()["items"]
    return next(a["id"] for a in apis if a["name"] == "payment-local-api")
