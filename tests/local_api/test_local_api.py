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

from .conftest import ROOT, LocalApiProcess

pytestmark = pytest.mark.integration

BODY = {"amount": "12.50", "currency": "USD", "customer_id": "cust_123", "payment_method": "card"}


def _key() -> str:
    return "test-" + uuid.uuid4().hex


def _post(local_api: LocalApiProcess, body: Any, key: str | None = None, **headers: str):
    headers = {"Content-Type": "application/json", **headers}
    if key:
        headers["Idempotency-Key"] = key
    return local_api.request("POST", "/process", body, headers)


def _assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"]


def test_start_up_prints_the_url_the_key_and_a_curl_that_works(
    local_api: LocalApiProcess,
) -> None:
    output = local_api.output
    assert f"ready: {local_api.url}" in output
    assert local_api.url.startswith("http://127.0.0.1:") and local_api.url.endswith("/prod")
    curl = next(line.strip() for line in output.splitlines() if line.strip().startswith("curl "))
    assert f"'{local_api.url}/process'" in curl and local_api.printed_key in curl
    # The curl as printed, run as printed: the first payment of a new user.
    done = subprocess.run(curl, shell=True, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert '"status":"ACCEPTED"' in done.stdout


def test_a_payment_with_the_printed_key_is_accepted_and_stored(
    local_api: LocalApiProcess,
) -> None:
    response = _post(local_api, BODY, _key(), **{"x-api-key": local_api.printed_key})
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    payment_id = response.body["payment_id"]
    item = local_api.aws("dynamodb").get_item(
        TableName=local_api.info["table"],
        Key={"payment_id": {"S": payment_id}},
        ConsistentRead=True,
    )["Item"]
    assert item["amount"] == {"N": "12.50"}
    assert item["customer_id"] == {"S": "cust_123"}


def test_a_replay_returns_the_same_payment_and_writes_nothing(local_api: LocalApiProcess) -> None:
    key, headers = _key(), {"x-api-key": local_api.printed_key}
    first = _post(local_api, BODY, key, **headers)
    again = _post(local_api, BODY, key, **headers)
    other = _post(local_api, {**BODY, "amount": "13.00"}, key, **headers)
    assert (first.status, again.status, other.status) == (201, 200, 409)
    assert again.body == first.body
    _assert_error_shape(other.body, "IDEMPOTENCY_KEY_REUSED")


@pytest.mark.parametrize("key", [None, "not-the-key"], ids=["missing", "invalid"])
def test_post_without_a_valid_key_is_refused_in_the_contract_shape(
    local_api: LocalApiProcess, key: str | None
) -> None:
    headers = {"x-api-key": key} if key else {}
    response = _post(local_api, BODY, _key(), **headers)
    assert response.status == 403
    _assert_error_shape(response.body, "FORBIDDEN")
    assert response.headers["x-amzn-errortype"] == "ForbiddenException"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("GET", "/process"), ("DELETE", "/health"), ("POST", "/")],
)
def test_unknown_routes_are_404_in_the_contract_shape(
    local_api: LocalApiProcess, method: str, path: str
) -> None:
    response = local_api.request(method, path, headers={"x-api-key": local_api.printed_key})
    assert response.status == 404
    _assert_error_shape(response.body, "NOT_FOUND")


def test_health_needs_no_key(local_api: LocalApiProcess) -> None:
    response = local_api.request("GET", "/health")
    assert response.status == 200
    assert response.body == {"status": "ok", "region": local_api.info["region"]}


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "not json"])
def test_a_body_that_is_not_a_json_object_is_400_invalid_json(
    local_api: LocalApiProcess, body: str
) -> None:
    response = _post(local_api, body, _key(), **{"x-api-key": local_api.printed_key})
    assert response.status == 400
    _assert_error_shape(response.body, "INVALID_JSON")


def test_an_accepted_payment_reaches_the_audit_bucket_through_the_stream(
    local_api: LocalApiProcess,
) -> None:
    response = _post(local_api, BODY, _key(), **{"x-api-key": local_api.printed_key})
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
    """The deployed usage plan as read back, and a tiny bucket to hit it without a flood."""

    def aws(service: str, region: str) -> Any:
        return local_api.aws(service)

    api = read_api(aws, local_api.info["region"], _api_id(local_api), "prod")
    template = json.loads((local_api.build / "primary.template.json").read_text())
    declared = next(
        r["Properties"]["Throttle"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::UsagePlan"
    )
    [plan] = api.usage_plans
    assert plan.throttle == Limit(float(declared["RateLimit"]), int(declared["BurstLimit"]))
    assert "*/*" in api.stage_throttles

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
