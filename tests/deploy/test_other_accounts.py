"""Outputs of stacks in another target account are read there, with the StackSet execution
role of that account (assumed through STS), never with the administrator's credentials; when
the role cannot be assumed, the outputs are skipped and a line says which. Call sequences
replayed with botocore's Stubber on real clients."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from payment_ops.deployment import outputs as deploy_outputs
from payment_ops.deployment.aws import Aws
from templates_src import config as config_module
from templates_src import names

ADMIN = "111111111111"
TARGET = "222222222222"
ROLE = f"arn:aws:iam::{TARGET}:role/AWSCloudFormationStackSetExecutionRole"
CONFIG = config_module.from_inputs(environment_suffix="dev", environ={})
REGIONS = {"primary": "us-east-1", "replica": "us-west-2", "standby": "us-west-2"}


@pytest.fixture
def aws(monkeypatch) -> Aws:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIAADMINISTRATOR",
        "AWS_SECRET_ACCESS_KEY": "admin-secret",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return Aws()


def _stub_admin(aws: Aws, assume: dict | None) -> tuple[Stubber, Stubber]:
    sts = Stubber(aws.client("sts", "us-east-1"))
    sts.add_response(
        "get_caller_identity",
        {
            "Account": ADMIN,
            "Arn": f"arn:aws:iam::{ADMIN}:user/deployer",
            "UserId": "AIDAEXAMPLEDEPLOYER",
        },
    )
    if assume is None:
        sts.add_client_error(
            "assume_role", "AccessDenied", "not authorized to perform: sts:AssumeRole"
        )
    else:
        sts.add_response(
            "assume_role",
            {"Credentials": assume},
            {
                "RoleArn": ROLE,
                "RoleSessionName": "payment-deploy-outputs",
                "DurationSeconds": 900,
            },
        )
    admin_cfn = Stubber(aws.client("cloudformation", "us-east-1"))
    for kind, region in REGIONS.items():
        admin_cfn.add_response(
            "describe_stack_instance",
            {
                "StackInstance": {
                    "StackId": f"arn:aws:cloudformation:{region}:{TARGET}:stack/StackSet-{kind}/1"
                }
            },
            {
                "StackSetName": names.stack_set("dev", kind),
                "StackInstanceAccount": TARGET,
                "StackInstanceRegion": region,
            },
        )
    return sts, admin_cfn


CREDENTIALS = {
    "AccessKeyId": "ASIATARGETACCOUNT",
    "SecretAccessKey": "target-secret",
    "SessionToken": "target-token",
    "Expiration": datetime(2026, 12, 2, tzinfo=UTC),
}


def test_outputs_in_another_account_are_read_with_its_execution_role(aws):
    sts, admin_cfn = _stub_admin(aws, CREDENTIALS)
    with sts, admin_cfn:
        target = aws.in_account(TARGET, "us-east-1")
        stubs = []
        for kind, region in REGIONS.items():
            client = target.client("cloudformation", region)
            if not any(s.client is client for s in stubs):
                stubs.append(Stubber(client))
            stub = next(s for s in stubs if s.client is client)
            stub.add_response(
                "describe_stacks",
                {
                    "Stacks": [
                        {
                            "StackName": kind,
                            "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                            "StackStatus": "CREATE_COMPLETE",
                            "Outputs": [{"OutputKey": "TableName", "OutputValue": kind}],
                        }
                    ]
                },
                {"StackName": f"arn:aws:cloudformation:{region}:{TARGET}:stack/StackSet-{kind}/1"},
            )
        for stub in stubs:
            stub.activate()
        out = io.StringIO()
        outputs = deploy_outputs.flat_outputs(aws, admin_cfn.client, CONFIG, TARGET, out)
        for stub in stubs:
            stub.assert_no_pending_responses()
        sts.assert_no_pending_responses()
        admin_cfn.assert_no_pending_responses()

    assert outputs == {"TableName": "primary", "us-west-2.TableName": "standby"}
    # The reads in the target account were signed with the assumed role's credentials.
    for stub in stubs:
        assert stub.client._request_signer._credentials.access_key == "ASIATARGETACCOUNT"
    assert "skipped" not in out.getvalue()


def test_outputs_of_an_account_whose_role_cannot_be_assumed_are_skipped_and_said(aws):
    sts, admin_cfn = _stub_admin(aws, None)
    # Only the first instance is looked up: the account's role is refused once, for the run.
    with sts, admin_cfn:
        out = io.StringIO()
        outputs = deploy_outputs.flat_outputs(aws, admin_cfn.client, CONFIG, TARGET, out)
    assert outputs == {}
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"skipped the outputs of payment-dev-primary in {TARGET} us-east-1")
    assert f"cannot assume {ROLE}: AccessDenied" in lines[0]
