"""Deploy waits for the API-key secret's replicas to be InSync before the standby reads them.
Secrets Manager replicates asynchronously; the emulator's replicas are in sync at once, so the
sequence is replayed with botocore's Stubber and a clock that advances only when it sleeps."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.stub import Stubber

from payment_ops.deployment.errors import DeployError
from payment_ops.deployment.operations import Waiter
from payment_ops.deployment.replication import wait_for_secret_replicas

from .test_waiting import Clock

SECRET = "payment-dev-api-key"
REGIONS = ("us-west-2", "eu-west-1")


@pytest.fixture
def secretsmanager():
    client = boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _described(**statuses: str) -> dict:
    return {
        "Name": SECRET,
        "ReplicationStatus": [
            {"Region": region.replace("_", "-"), "Status": status}
            for region, status in statuses.items()
        ],
    }


def _waiter(clock: Clock, timeout_s: float = 60.0) -> Waiter:
    return Waiter(
        cfn=None, timeout_s=timeout_s, poll_s=5.0, out=io.StringIO(), sleep=clock.sleep, clock=clock
    )


def test_waits_while_a_replica_is_in_progress_then_goes_on(secretsmanager):
    client, stubber = secretsmanager
    for answer in (
        _described(us_west_2="InSync", eu_west_1="InProgress"),
        _described(us_west_2="InSync", eu_west_1="InProgress"),
        _described(us_west_2="InSync", eu_west_1="InSync"),
    ):
        stubber.add_response("describe_secret", answer, {"SecretId": SECRET})
    clock = Clock()
    waiter = _waiter(clock)

    wait_for_secret_replicas(client, SECRET, REGIONS, waiter)

    assert clock.sleeps == [5.0, 5.0]
    assert "waiting for the replica in eu-west-1" in waiter.out.getvalue()
    assert "replicas in sync in us-west-2, eu-west-1" in waiter.out.getvalue()


def test_a_failed_replica_stops_the_deploy_naming_its_region(secretsmanager):
    client, stubber = secretsmanager
    answer = _described(us_west_2="InSync", eu_west_1="Failed")
    answer["ReplicationStatus"][1]["StatusMessage"] = "a secret with this name already exists"
    stubber.add_response("describe_secret", answer, {"SecretId": SECRET})
    clock = Clock()

    with pytest.raises(DeployError, match="replication to eu-west-1 failed: a secret with"):
        wait_for_secret_replicas(client, SECRET, REGIONS, _waiter(clock))
    assert clock.sleeps == []


def test_a_region_the_secret_is_not_replicated_to_stops_at_once(secretsmanager):
    client, stubber = secretsmanager
    stubber.add_response("describe_secret", _described(us_west_2="InSync"), {"SecretId": SECRET})

    with pytest.raises(DeployError, match="not replicated to eu-west-1"):
        wait_for_secret_replicas(client, SECRET, REGIONS, _waiter(Clock()))


def test_a_replica_never_in_sync_times_out_saying_so(secretsmanager):
    client, stubber = secretsmanager
    for _ in range(3):
        stubber.add_response(
            "describe_secret",
            _described(us_west_2="InProgress", eu_west_1="InSync"),
            {"SecretId": SECRET},
        )
    clock = Clock()

    with pytest.raises(DeployError, match="us-west-2 still InProgress after 10 s"):
        wait_for_secret_replicas(client, SECRET, REGIONS, _waiter(clock, timeout_s=10.0))
    assert clock.sleeps == [5.0, 5.0]
