"""Waiting on stack set operations as CloudFormation really runs them: asynchronously, one at a
time. The emulator finishes every operation at once, so these tests replay CloudFormation's
answers with botocore's Stubber (which checks every request against the API model) on a real
client, and a clock that advances only when the waiter sleeps."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from payment_ops.deployment.errors import DeployError
from payment_ops.deployment.operations import Waiter

STACK_SET = "payment-dev-replica"
OPERATION = "11111111-2222-3333-4444-555555555555"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def cfn():
    client = boto3.client(
        "cloudformation",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _waiter(client, clock: Clock, timeout: float = 600.0) -> tuple[Waiter, io.StringIO]:
    out = io.StringIO()
    waiter = Waiter(client, timeout_s=timeout, poll_s=10, out=out, sleep=clock.sleep, clock=clock)
    return waiter, out


def _poll(stubber: Stubber, status: str, regions: dict[str, tuple[str, str | None]]) -> None:
    stubber.add_response(
        "describe_stack_set_operation",
        {
            "StackSetOperation": {
                "OperationId": OPERATION,
                "Action": "UPDATE",
                "Status": status,
                "CreationTimestamp": NOW,
            }
        },
        {"StackSetName": STACK_SET, "OperationId": OPERATION},
    )
    summaries = []
    for region, (region_status, reason) in regions.items():
        summary = {"Account": "123456789012", "Region": region, "Status": region_status}
        if reason:
            summary["StatusReason"] = reason
        summaries.append(summary)
    stubber.add_response(
        "list_stack_set_operation_results",
        {"Summaries": summaries},
        {"StackSetName": STACK_SET, "OperationId": OPERATION},
    )


def test_progress_per_region_and_elapsed_time_until_the_operation_ends(cfn):
    client, stubber = cfn
    clock = Clock()
    _poll(stubber, "RUNNING", {"us-west-2": ("PENDING", None), "eu-west-1": ("PENDING", None)})
    _poll(stubber, "RUNNING", {"us-west-2": ("RUNNING", None), "eu-west-1": ("PENDING", None)})
    _poll(stubber, "RUNNING", {"us-west-2": ("RUNNING", None), "eu-west-1": ("PENDING", None)})
    _poll(
        stubber, "SUCCEEDED", {"us-west-2": ("SUCCEEDED", None), "eu-west-1": ("SUCCEEDED", None)}
    )
    waiter, out = _waiter(client, clock)

    operation = waiter.wait(STACK_SET, OPERATION)

    assert operation["Status"] == "SUCCEEDED"
    lines = out.getvalue().splitlines()
    # A line per change of state (not per poll), each with the elapsed time.
    assert lines == [
        f"  {STACK_SET}: UPDATE RUNNING [    0 s] us-west-2 PENDING, eu-west-1 PENDING",
        f"  {STACK_SET}: UPDATE RUNNING [   10 s] us-west-2 RUNNING, eu-west-1 PENDING",
        f"  {STACK_SET}: UPDATE SUCCEEDED [   30 s] us-west-2 SUCCEEDED, eu-west-1 SUCCEEDED",
    ]
    assert clock.sleeps == [10, 10, 10]


def test_a_long_unchanged_operation_still_shows_it_is_alive(cfn):
    client, stubber = cfn
    clock = Clock()
    for _ in range(13):
        _poll(stubber, "RUNNING", {"us-west-2": ("RUNNING", None)})
    _poll(stubber, "SUCCEEDED", {"us-west-2": ("SUCCEEDED", None)})
    waiter, out = _waiter(client, clock)

    waiter.wait(STACK_SET, OPERATION)

    times = [line.split("[")[1].split("]")[0].strip() for line in out.getvalue().splitlines()]
    assert times == ["0 s", "60 s", "120 s", "130 s"]


def test_a_failed_operation_names_each_failed_region_and_its_reason(cfn):
    client, stubber = cfn
    _poll(
        stubber,
        "FAILED",
        {
            "us-west-2": ("FAILED", "Resource handler returned message: alias already exists"),
            "eu-west-1": ("CANCELLED", "Cancelled since failure tolerance has exceeded"),
            "ap-south-1": ("SUCCEEDED", None),
        },
    )
    waiter, _ = _waiter(client, Clock())

    with pytest.raises(DeployError) as failure:
        waiter.wait(STACK_SET, OPERATION)

    message = str(failure.value)
    assert "us-west-2 (123456789012): FAILED: Resource handler returned message: alias" in message
    assert "eu-west-1 (123456789012): CANCELLED: Cancelled since failure tolerance" in message
    assert "ap-south-1" not in message
    assert failure.value.exit_code == 1


def test_waiting_stops_at_the_timeout_and_says_to_re_run(cfn):
    client, stubber = cfn
    clock = Clock()
    for _ in range(4):
        _poll(stubber, "RUNNING", {"us-west-2": ("RUNNING", None)})
    waiter, _ = _waiter(client, clock, timeout=30)

    with pytest.raises(DeployError, match="still RUNNING after 30 s.*re-run"):
        waiter.wait(STACK_SET, OPERATION)


def test_operation_in_progress_is_retried_with_the_same_operation_id(cfn):
    client, stubber = cfn
    expected = {
        "StackSetName": STACK_SET,
        "Accounts": ["123456789012"],
        "Regions": ["us-west-2"],
        "OperationId": OPERATION,
    }
    for _ in range(2):
        stubber.add_client_error(
            "update_stack_instances",
            service_error_code="OperationInProgressException",
            service_message="Another Operation on StackSet is in progress",
            expected_params=expected,
        )
    stubber.add_response("update_stack_instances", {"OperationId": OPERATION}, expected)
    clock = Clock()
    waiter, out = _waiter(client, clock)

    started = waiter.start(
        STACK_SET,
        client.update_stack_instances,
        Accounts=["123456789012"],
        Regions=["us-west-2"],
        OperationId=OPERATION,
    )

    assert started == OPERATION
    assert out.getvalue().count("another operation is running; retrying in 10 s") == 2
    assert clock.sleeps == [10, 10]


def test_operation_in_progress_gives_up_at_the_timeout(cfn):
    client, stubber = cfn
    for _ in range(3):
        stubber.add_client_error(
            "update_stack_set", service_error_code="OperationInProgressException"
        )
    waiter, _ = _waiter(client, Clock(), timeout=20)

    with pytest.raises(DeployError, match="another operation was still running after 20 s"):
        waiter.start(STACK_SET, client.update_stack_set, TemplateBody="{}")


def test_other_errors_are_not_retried(cfn):
    client, stubber = cfn
    stubber.add_client_error("update_stack_set", service_error_code="StackSetNotFoundException")
    clock = Clock()
    waiter, _ = _waiter(client, clock)

    with pytest.raises(Exception, match="StackSetNotFoundException"):
        waiter.start(STACK_SET, client.update_stack_set, TemplateBody="{}")
    assert clock.sleeps == []


def test_a_re_run_first_waits_for_the_operation_an_interrupted_run_left_running(cfn):
    client, stubber = cfn
    stubber.add_response(
        "list_stack_set_operations",
        {
            "Summaries": [
                {"OperationId": "0" * 8, "Action": "CREATE", "Status": "SUCCEEDED"},
                {"OperationId": OPERATION, "Action": "UPDATE", "Status": "RUNNING"},
            ]
        },
        {"StackSetName": STACK_SET},
    )
    _poll(stubber, "RUNNING", {"us-west-2": ("RUNNING", None)})
    _poll(stubber, "FAILED", {"us-west-2": ("FAILED", "Resource creation cancelled")})
    waiter, out = _waiter(client, Clock())

    # A failure of the earlier run is reported, not raised: this run retries what it attempted.
    assert waiter.wait_for_running(STACK_SET) is True
    assert f"waiting for earlier operation {OPERATION}" in out.getvalue()
    assert "earlier operation did not succeed" in out.getvalue()


def test_nothing_running_means_no_waiting(cfn):
    client, stubber = cfn
    stubber.add_response(
        "list_stack_set_operations",
        {"Summaries": [{"OperationId": OPERATION, "Action": "UPDATE", "Status": "SUCCEEDED"}]},
        {"StackSetName": STACK_SET},
    )
    waiter, out = _waiter(client, Clock())

    assert waiter.wait_for_running(STACK_SET) is False
    assert out.getvalue() == ""
