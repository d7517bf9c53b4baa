"""Reserved concurrency on the emulator as AWS keeps it: GetAccountSettings answers, a
reservation that leaves fewer than 100 unreserved is refused, and deploy's preflight stops a
deployment whose reservations the account cannot give before anything is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from payment_ops.emulator import lambda_concurrency
from templates_src import names

from .conftest import PRIMARY, deploy_args, emulator_with, run_deploy

pytestmark = pytest.mark.integration

LAMBDA_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",'
    ' "Principal": {"Service": "lambda.amazonaws.com"}}]}'
)


SMALL_QUOTA = 150  # a new account's: at most 50 concurrent executions can be reserved


@pytest.fixture(scope="module")
def emulator():
    """This module's emulator is a new account: its quota is read in the emulator's own
    process, so it is set in that process's environment before it starts."""
    with emulator_with(**{lambda_concurrency.QUOTA_VARIABLE: str(SMALL_QUOTA)}) as small:
        yield small


@pytest.fixture
def small_account() -> int:
    return SMALL_QUOTA


def _function(aws, name: str, **extra) -> dict:
    role = aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
    return aws("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        **extra,
    )


def test_account_settings_report_the_quota_less_every_reservation(aws, small_account) -> None:
    client = aws("lambda")
    before = client.get_account_settings()["AccountLimit"]
    assert before["ConcurrentExecutions"] == small_account
    _function(aws, "concurrency-reserving")
    client.put_function_concurrency(
        FunctionName="concurrency-reserving", ReservedConcurrentExecutions=20
    )
    after = client.get_account_settings()["AccountLimit"]
    assert after["UnreservedConcurrentExecutions"] == before["UnreservedConcurrentExecutions"] - 20
    client.delete_function(FunctionName="concurrency-reserving")


def test_a_reservation_below_the_floor_of_100_is_refused(aws, small_account) -> None:
    client = aws("lambda")
    _function(aws, "concurrency-greedy")
    with pytest.raises(client.exceptions.InvalidParameterValueException, match=r"\[100\]"):
        client.put_function_concurrency(
            FunctionName="concurrency-greedy", ReservedConcurrentExecutions=51
        )
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(
        FunctionName="concurrency-greedy"
    )
    client.delete_function(FunctionName="concurrency-greedy")


def test_deploy_that_would_leave_under_100_unreserved_stops_before_any_change(
    emulator, aws, small_account, tmp_path: Path
) -> None:
    suffix = "conc"
    argv = deploy_args(emulator.url, suffix, tmp_path, "--bootstrap")
    result = run_deploy([*argv, "--processor-reserved-concurrency", "60"])
    assert result.code == 2, result.err
    (line,) = result.err.strip().splitlines()
    assert "100" in line and PRIMARY in line and "Traceback" not in result.err
    held = aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"]
    assert not [s for s in held if s["StackSetName"].startswith(names.prefix(suffix))]
    assert not [
        f for f in aws("lambda").list_functions()["Functions"]
        if f["FunctionName"].startswith(names.prefix(suffix))
    ]  # fmt: skip
