"""The local API serving a replica region's standby (``--region``): the same contract, answered
from that region, written to that region's table replica and audit bucket."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from handler.audit_key import AUDIT_KEY_PREFIX
from payment_ops.localapi.child import LocalApiStartError

from .conftest import LocalApiProcess, start_local_api

pytestmark = pytest.mark.integration

STANDBY = "us-west-2"
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

    headers = {"Content-Type": "application/json", "x-api-key": standby_api.printed_key}
    assert (
        standby_api.request("POST", "/process", BODY, {"Content-Type": "application/json"}).status
        == 403
    )
    key = "standby-" + uuid.uuid4().hex
    first = standby_api.request("POST", "/process", BODY, {**headers, "Idempotency-Key": key})
    again = standby_api.request("POST", "/process", BODY, {**headers, "Idempotency-Key": key})
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
