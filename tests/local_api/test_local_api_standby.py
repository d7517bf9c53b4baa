"""The local API serving a replica region's standby (``--region``): the same contract, answered
from that region, written to that region's table replica and audit bucket; a payment made in the
primary region is found again through the standby by the same client."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from handler.audit_key import AUDIT_KEY_PREFIX
from payment_ops.localapi.child import LocalApiStartError
from payment_ops.localapi.deployed import read_api, read_function
from payment_ops.localapi.functions import LocalFunction
from payment_ops.localapi.gateway import Gateway, HttpRequest
from payment_ops.localapi.iam_auth import Sessions
from payment_ops.localapi.signing import ClientCredentials, signed_headers

from .conftest import LocalApiProcess, start_local_api

pytestmark = pytest.mark.integration

PRIMARY, STANDBY = "us-east-1", "us-west-2"
BODY = {
    "amount": "7.25",
    "currency": "EUR",
    "customer_id": "cust_standby",
    "payment_method": "card",
}


@pytest.fixture(scope="module")
def standby_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApiProcess]:
    running = start_local_api(
        tmp_path_factory.mktemp("local-api-standby"), "--region", STANDBY, "--quiet"
    )
    try:
        yield running
    finally:
        running.kill()


def test_the_standby_answers_from_its_region_and_keeps_the_contract(standby_api):
    assert standby_api.info["region"] == STANDBY
    health = standby_api.request("GET", "/health")
    assert (health.status, health.body["region"]) == (200, STANDBY)

    headers = {"Content-Type": "application/json"}
    assert standby_api.request("POST", "/process", BODY, headers).status == 403
    key = "standby-" + uuid.uuid4().hex
    signed_as = standby_api.printed_credentials  # signed for us-west-2, the served region
    first = standby_api.request(
        "POST", "/process", BODY, {**headers, "Idempotency-Key": key}, signed_as=signed_as
    )
    again = standby_api.request(
        "POST", "/process", BODY, {**headers, "Idempotency-Key": key}, signed_as=signed_as
    )
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body

    payment_id = first.body["payment_id"]
    item = standby_api.aws("dynamodb").get_item(  # a client of the standby's region
        TableName=standby_api.info["table"], Key={"payment_id": {"S": payment_id}}
    )["Item"]
    assert item["currency"] == {"S": "EUR"}
    bucket = standby_api.info["audit_bucket"]
    assert bucket.endswith(f"-{STANDBY}")
    s3 = standby_api.aws("s3")
    deadline = time.monotonic() + 30
    keys: list[str] = []
    while time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=AUDIT_KEY_PREFIX).get("Contents", [])
        keys = [o["Key"] for o in listed]
        if any(k.endswith(f"/{payment_id}.json") for k in keys):
            break
        time.sleep(0.2)
    assert [k for k in keys if k.endswith(f"/{payment_id}.json")], keys


def _primary_gateway(standby_api: LocalApiProcess, *sessions: ClientCredentials) -> Gateway:
    """The primary region's API of the same emulator deployment, served in this process (as the
    failover drill serves one), knowing ``sessions``."""
    endpoint = standby_api.info["endpoint_url"]

    def aws(service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    outputs = json.loads((standby_api.build.parent / "local-flat-outputs.json").read_text())
    api = read_api(aws, PRIMARY, outputs["ApiId"], "prod")
    functions = {
        m.function_arn: LocalFunction(read_function(aws, m.function_arn), endpoint)
        for r in api.resources
        for m in r.methods.values()
        if m.function_arn
    }
    known = Sessions(api.account)
    for session in sessions:
        known.add(session)
    return Gateway(api, functions, sessions=known)  # type: ignore[arg-type]


def test_a_replay_through_the_standby_finds_the_clients_payment_and_no_one_elses(
    standby_api: LocalApiProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLIENT_AUTH.md: the Idempotency-Key's scope is the client, the same in every region."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # the handler's clients, in this process
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mine, theirs = standby_api.client_session("local"), standby_api.client_session("other")
    key = "failover-" + uuid.uuid4().hex
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    body = json.dumps(BODY).encode()
    signed = signed_headers(mine, PRIMARY, "POST", "http://127.0.0.1/prod/process", body, headers)
    first = _primary_gateway(standby_api, mine).handle(
        HttpRequest("POST", "/prod/process", [], [("Host", "127.0.0.1"), *signed.items()], body)
    )
    assert first.status == 201, first.body
    payment = json.loads(first.body)

    # The global table replicates the item to the standby's replica; the emulator keeps each
    # region's replica apart, so the test copies it as replication would.
    item = standby_api.aws_in("dynamodb", PRIMARY).get_item(
        TableName=standby_api.info["table"], Key={"payment_id": {"S": payment["payment_id"]}}
    )["Item"]
    standby_api.aws("dynamodb").put_item(TableName=standby_api.info["table"], Item=item)

    again = standby_api.request("POST", "/process", BODY, headers, signed_as=mine)
    assert (again.status, again.body) == (200, payment)
    other = standby_api.request("POST", "/process", BODY, headers, signed_as=theirs)
    assert other.status == 201
    assert other.body["payment_id"] != payment["payment_id"]


def test_a_region_without_a_deployment_is_refused_naming_it(tmp_path):
    running = LocalApiProcess(tmp_path, "--region", "eu-west-1")
    try:
        with pytest.raises(LocalApiStartError):
            running.start(90)
    finally:
        running.kill()
    # Refused from the configuration, before an emulator or a deploy: one line, exit 2.
    assert running.output == (
        "local_api: error: --region 'eu-west-1' is not a region of this deployment "
        "(us-east-1, us-west-2)\n"
    )
    assert running.proc is not None and running.proc.wait(10) == 2
