"""The reserved-concurrency preflight, against botocore's Stubber (moto has no
GetAccountSettings): Lambda keeps 100 unreserved per account and region, so deploy must stop
before anything is created when the reservations asked for would leave fewer."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.stub import Stubber

from payment_ops.deployment import preflight
from payment_ops.deployment.errors import EXIT_USAGE, DeployError
from templates_src.config import Config

ACCOUNT = "123456789012"


class StubbedAws:
    """One real Lambda client per region, each behind a Stubber that checks every request
    against the API model and fails on any call not expected."""

    def __init__(self, regions: tuple[str, ...]) -> None:
        self.clients = {
            region: boto3.client(
                "lambda",
                region_name=region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            for region in regions
        }
        self.stubbers = {region: Stubber(client) for region, client in self.clients.items()}

    def client(self, service: str, region: str):
        assert service == "lambda"
        return self.clients[region]

    def settings(self, region: str, quota: int, unreserved: int) -> None:
        self.stubbers[region].add_response(
            "get_account_settings",
            {
                "AccountLimit": {
                    "ConcurrentExecutions": quota,
                    "UnreservedConcurrentExecutions": unreserved,
                },
                "AccountUsage": {},
            },
            {},
        )

    def held(self, region: str, function: str, reserved: int | None) -> None:
        if reserved is None:
            self.stubbers[region].add_client_error(
                "get_function_concurrency",
                "ResourceNotFoundException",
                expected_params={"FunctionName": function},
            )
        else:
            self.stubbers[region].add_response(
                "get_function_concurrency",
                {"ReservedConcurrentExecutions": reserved},
                {"FunctionName": function},
            )

    def __enter__(self):
        for stubber in self.stubbers.values():
            stubber.activate()
        return self

    def __exit__(self, *exc):
        for stubber in self.stubbers.values():
            stubber.deactivate()
        if exc[0] is None:
            for stubber in self.stubbers.values():
                stubber.assert_no_pending_responses()


def test_nothing_reserved_by_default_makes_no_call():
    aws = StubbedAws(("us-east-1", "us-west-2"))
    with aws:  # any call would fail: nothing is stubbed
        preflight.reserved_concurrency(aws, Config(), (ACCOUNT,), ACCOUNT, io.StringIO())


def test_a_new_account_with_a_quota_of_150_is_refused_with_the_numbers():
    config = Config(processor_reserved_concurrency=100)
    aws = StubbedAws(config.regions)
    aws.settings("us-east-1", quota=1000, unreserved=1000)
    aws.held("us-east-1", "payment-dev-processor", None)
    aws.settings("us-west-2", quota=150, unreserved=150)
    aws.held("us-west-2", "payment-dev-processor", None)
    with aws, pytest.raises(DeployError) as error:
        preflight.reserved_concurrency(aws, config, (ACCOUNT,), ACCOUNT, io.StringIO())
    message = str(error.value)
    assert error.value.exit_code == EXIT_USAGE
    assert "us-west-2: reserving 100 would leave 50 of the account's 150" in message
    assert "at least 100 unreserved" in message and "Nothing changed" in message
    assert "us-east-1" not in message  # that region can give it
    assert "\n" not in message


def test_a_redeploy_counts_the_reservation_its_functions_already_hold():
    config = Config(processor_reserved_concurrency=100, audit_writer_reserved_concurrency=5)
    aws = StubbedAws(config.regions)
    for region in config.regions:
        # This deployment holds 105 of 205; asking for the same again leaves 100 free.
        aws.settings(region, quota=205, unreserved=100)
        aws.held(region, "payment-dev-processor", 100)
        aws.held(region, "payment-dev-audit-writer", 5)
    with aws:
        preflight.reserved_concurrency(aws, config, (ACCOUNT,), ACCOUNT, io.StringIO())


def test_one_more_than_the_account_can_give_is_refused():
    config = Config(processor_reserved_concurrency=100, audit_writer_reserved_concurrency=6)
    aws = StubbedAws(config.regions)
    for region in config.regions:
        aws.settings(region, quota=205, unreserved=100)
        aws.held(region, "payment-dev-processor", 100)
        aws.held(region, "payment-dev-audit-writer", 5)
    with aws, pytest.raises(DeployError, match="would leave 99 of the account's 205"):
        preflight.reserved_concurrency(aws, config, (ACCOUNT,), ACCOUNT, io.StringIO())


def test_other_target_accounts_are_named_as_not_checked():
    config = Config(processor_reserved_concurrency=10)
    out = io.StringIO()
    aws = StubbedAws(config.regions)
    with aws:
        preflight.reserved_concurrency(aws, config, ("210987654321",), ACCOUNT, out)
    assert "not checked" in out.getvalue() and "210987654321" in out.getvalue()
