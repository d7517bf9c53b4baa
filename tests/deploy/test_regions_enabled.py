"""The opt-in preflight: AWS's answers from botocore's Stubber (each request is checked against
the API model), so the test sees the exact calls and the one-line refusal."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from payment_ops.deployment.errors import EXIT_USAGE, DeployError
from payment_ops.deployment.regions_enabled import not_enabled, require_enabled


def _clients():
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("account"), session.client("ec2")


def test_a_disabled_opt_in_region_is_named_with_its_status():
    account, ec2 = _clients()
    with Stubber(account) as stub, Stubber(ec2):
        stub.add_response(
            "list_regions",
            {
                "Regions": [
                    {"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
                    {"RegionName": "ap-east-1", "RegionOptStatus": "DISABLED"},
                ],
                "NextToken": "page-2",
            },
            {},
        )
        stub.add_response(
            "list_regions",
            {"Regions": [{"RegionName": "eu-south-1", "RegionOptStatus": "ENABLED"}]},
            {"NextToken": "page-2"},
        )
        with pytest.raises(DeployError) as raised:
            require_enabled(["us-east-1", "ap-east-1", "eu-south-1"], account, ec2, "111122223333")
        stub.assert_no_pending_responses()
    assert raised.value.exit_code == EXIT_USAGE
    message = str(raised.value)
    assert "\n" not in message
    assert "target region(s) not enabled for account 111122223333: ap-east-1 (DISABLED)" in message
    assert "eu-south-1" not in message and "nothing was changed" in message


def test_enabled_regions_pass_and_ec2_answers_when_the_account_api_is_denied():
    account, ec2 = _clients()
    with Stubber(account) as account_stub, Stubber(ec2) as ec2_stub:
        account_stub.add_client_error("list_regions", "AccessDeniedException", http_status_code=403)
        ec2_stub.add_response(
            "describe_regions",
            {
                "Regions": [
                    {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
                    {"RegionName": "me-south-1", "OptInStatus": "opted-in"},
                    {"RegionName": "il-central-1", "OptInStatus": "not-opted-in"},
                ]
            },
            {"AllRegions": True},
        )
        assert not_enabled(["us-east-1", "me-south-1", "il-central-1"], account, ec2) == {
            "il-central-1": "not-opted-in"
        }
        ec2_stub.assert_no_pending_responses()


def test_an_enabling_region_is_not_yet_enabled():
    account, ec2 = _clients()
    with Stubber(account) as stub, Stubber(ec2):
        stub.add_response(
            "list_regions",
            {"Regions": [{"RegionName": "ap-east-1", "RegionOptStatus": "ENABLING"}]},
            {},
        )
        assert not_enabled(["ap-east-1"], account, ec2) == {"ap-east-1": "ENABLING"}


def test_other_errors_are_not_mistaken_for_a_denied_account_api():
    account, ec2 = _clients()
    with Stubber(account) as stub, Stubber(ec2):
        stub.add_client_error("list_regions", "ThrottlingException", http_status_code=400)
        with pytest.raises(Exception, match="ThrottlingException"):
            not_enabled(["us-east-1"], account, ec2)
