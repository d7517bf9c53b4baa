"""The StackSet roles stack follows the build: ``deploy --bootstrap`` creates it with the
parameters the flags give, and updates a stack made from an older template; a deploy without
``--bootstrap`` only says, in one ``note:`` line, that the stack is out of date.

First the two emulator behaviours this relies on (CloudFormation's, checked through boto3),
then one deployment walked in file order: a roles stack made directly from an older template,
a deploy that reports it, a deploy that updates it, a deploy with nothing to update, and a
roles stack created afresh with the account and custom-domain parameters.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from botocore.stub import Stubber

from payment_ops.commands import deploy as deploy_script
from payment_ops.deployment import artifacts, names, roles
from payment_ops.deployment.aws import Aws as DeployAws
from payment_ops.deployment.errors import DeployError
from payment_ops.deployment.operations import Waiter
from templates_src import build as build_module
from templates_src.cli import config_from
from templates_src.stackset_roles import ADMINISTRATION_ROLE, EXECUTION_ROLE

from .conftest import ACCOUNT, deploy_args, run_deploy

SUFFIX = "roles"
STACK = names.ROLES_STACK
EXECUTION_POLICY = "deploy-payment-infrastructure"
# A deny the first deploy does not need: an execution role without it still deploys.
DROPPED_SID = "NoFunctionUrls"
ZONE = "roles.example.com"
DOMAIN = f"pay.{ZONE}"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roles-bootstrap")


@pytest.fixture(scope="module")
def built(emulator, work: Path) -> dict:
    """The roles template of this deployment's build, built as deploy builds it."""
    args = deploy_script.parser().parse_args(deploy_args(emulator.url, SUFFIX, work))
    build = artifacts.ensure_build(config_from(args), work / "build", io.StringIO())
    return json.loads(build.path(build_module.STACKSET_ROLES).read_text())


def _older(template: dict) -> dict:
    """The built template as an earlier release had it: one statement fewer."""
    older = copy.deepcopy(template)
    policy = older["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]
    statements = policy["PolicyDocument"]["Statement"]
    kept = [s for s in statements if s.get("Sid") != DROPPED_SID]
    assert len(kept) == len(statements) - 1, "the statement to drop is in the build"
    policy["PolicyDocument"]["Statement"] = kept
    return older


def _execution_sids(aws) -> list[str]:
    document = aws("iam").get_role_policy(RoleName=EXECUTION_ROLE, PolicyName=EXECUTION_POLICY)[
        "PolicyDocument"
    ]
    return [s.get("Sid") for s in document["Statement"]]


def _stack(aws) -> dict:
    return aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]


def _parameters(aws) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in _stack(aws).get("Parameters", [])}


def _held_template(aws) -> dict:
    return aws("cloudformation").get_template(StackName=STACK)["TemplateBody"]


def _notes(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("note:") and STACK in line]


# --- the emulator, as CloudFormation behaves -------------------------------------------------


def _role_template(*sids: str) -> dict:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "payment-role-update-check",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "check",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Sid": sid,
                                        "Effect": "Deny",
                                        "Action": "s3:*",
                                        "Resource": "*",
                                    }
                                    for sid in sids
                                ],
                            },
                        }
                    ],
                },
            }
        }
    }


def test_a_stack_update_changes_the_inline_policy_of_its_role(aws):
    cfn, iam = aws("cloudformation"), aws("iam")
    name = "payment-role-update-check"
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(_role_template("First")),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cfn.update_stack(
        StackName=name,
        TemplateBody=json.dumps(_role_template("First", "Second")),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    document = iam.get_role_policy(RoleName=name, PolicyName="check")["PolicyDocument"]
    assert [s["Sid"] for s in document["Statement"]] == ["First", "Second"]


def test_a_comma_delimited_list_parameter_reads_back_as_given(aws):
    template = {
        "Parameters": {"Accounts": {"Type": "CommaDelimitedList", "Default": ""}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName="payment-list-parameter-check",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Accounts", "ParameterValue": "111122223333,444455556666"}],
    )
    stack = cfn.describe_stacks(StackName="payment-list-parameter-check")["Stacks"][0]
    assert stack["Parameters"] == [
        {"ParameterKey": "Accounts", "ParameterValue": "111122223333,444455556666"}
    ]
    cfn.delete_stack(StackName="payment-list-parameter-check")


def test_use_previous_value_keeps_a_parameter_that_had_its_default(aws):
    template = {
        "Parameters": {
            "Zone": {"Type": "String", "Default": ""},
            "Name": {"Type": "String", "Default": "first"},
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    cfn = aws("cloudformation")
    name = "payment-previous-value-check"
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "given"}],
    )
    template["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue"}
    cfn.update_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Zone", "UsePreviousValue": True},
            {"ParameterKey": "Name", "UsePreviousValue": True},
        ],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "Zone": "",
        "Name": "given",
    }


# --- call sequences: an update that finds nothing to do, an update that rolls back ---------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def offline(monkeypatch, tmp_path) -> tuple[DeployAws, artifacts.Build, dict]:
    """Clients with no endpoint and no credentials of the machine, and a build of a small roles
    template; every call is answered by a Stubber."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    template = {
        "Parameters": {"TargetAccountIds": {"Type": "CommaDelimitedList", "Default": ""}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    (tmp_path / build_module.STACKSET_ROLES).write_text(json.dumps(template))
    return DeployAws(), artifacts.Build(tmp_path, {}), template


def _stub_older_stack(aws: DeployAws) -> tuple[Stubber, Stubber]:
    iam = Stubber(aws.client("iam", "us-east-1"))
    for role in (ADMINISTRATION_ROLE, EXECUTION_ROLE):
        iam.add_response(
            "get_role",
            {
                "Role": {
                    "Path": "/",
                    "RoleName": role,
                    "RoleId": "AROAEXAMPLEROLEID0001",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                    "CreateDate": "2026-01-01T00:00:00Z",
                }
            },
            {"RoleName": role},
        )
    cfn = Stubber(aws.client("cloudformation", "us-east-1"))
    cfn.add_response("describe_stacks", {"Stacks": [_described("CREATE_COMPLETE")]})
    older = {"Resources": {}}
    cfn.add_response("get_template", {"TemplateBody": json.dumps(older)})
    return iam, cfn


def _described(status: str, reason: str = "") -> dict:
    stack = {
        "StackName": STACK,
        "StackStatus": status,
        "CreationTime": "2026-01-01T00:00:00Z",
        "Parameters": [{"ParameterKey": "TargetAccountIds", "ParameterValue": ACCOUNT}],
    }
    return {**stack, "StackStatusReason": reason} if reason else stack


def test_an_update_with_nothing_to_perform_is_not_an_error(offline):
    aws, build, template = offline
    iam, cfn = _stub_older_stack(aws)
    cfn.add_client_error(
        "update_stack",
        "ValidationError",
        "No updates are to be performed.",
        expected_params={
            "StackName": STACK,
            "TemplateBody": json.dumps(template),
            # Not given by this run: the stack's own value is kept, not reset to the default.
            "Parameters": [{"ParameterKey": "TargetAccountIds", "UsePreviousValue": True}],
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "Tags": [{"Key": "Project", "Value": names.PROJECT_TAG[1]}],
        },
    )
    clock, out = FakeClock(), io.StringIO()
    waiter = Waiter(None, timeout_s=60, poll_s=5, out=out, sleep=clock.sleep, clock=clock)
    with iam, cfn:
        roles.ensure_roles(aws, build, "us-east-1", True, waiter, out, {})
        cfn.assert_no_pending_responses()
    assert f"updating StackSet roles: stack {STACK} in us-east-1 (template)" in out.getvalue()


def test_an_update_that_rolls_back_stops_the_deploy_with_its_reason(offline):
    aws, build, template = offline
    iam, cfn = _stub_older_stack(aws)
    cfn.add_response(
        "update_stack", {"StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{STACK}/1"}
    )
    cfn.add_response("describe_stacks", {"Stacks": [_described("UPDATE_IN_PROGRESS")]})
    reason = "Resource ExecutionRole: AccessDenied"
    cfn.add_response(
        "describe_stacks", {"Stacks": [_described("UPDATE_ROLLBACK_COMPLETE", reason)]}
    )
    clock, out = FakeClock(), io.StringIO()
    waiter = Waiter(None, timeout_s=60, poll_s=5, out=out, sleep=clock.sleep, clock=clock)
    with iam, cfn, pytest.raises(DeployError) as raised:
        roles.ensure_roles(aws, build, "us-east-1", True, waiter, out, {})
    assert "UPDATE_ROLLBACK_COMPLETE" in str(raised.value) and reason in str(raised.value)
    assert clock.now == 5  # polled once, by the fake clock


# --- one deployment, in file order -----------------------------------------------------------


@pytest.fixture(scope="module")
def domain_flags(aws) -> list[str]:
    """The custom domain every deploy here is given (the roles stack confines Route 53 to it)."""
    zone = aws("route53").create_hosted_zone(Name=ZONE, CallerReference="roles-bootstrap")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    return ["--domain-name", DOMAIN, "--hosted-zone-id", zone_id]


def test_bootstrap_creates_the_roles_stack_with_the_accounts_and_domain_given(
    emulator, aws, work, domain_flags
):
    argv = deploy_args(emulator.url, SUFFIX, work, "--bootstrap", "--accounts", ACCOUNT)
    result = run_deploy([*argv, *domain_flags])
    # The execution role, confined to that zone and name, deploys the custom domain.
    assert result.code == 0, result.err
    assert f"creating StackSet roles: stack {STACK}" in result.out
    assert _parameters(aws) == {
        "AdministratorAccountId": "",
        "TargetAccountIds": ACCOUNT,
        "HostedZoneId": domain_flags[-1],
        "DomainName": DOMAIN,
    }


@pytest.fixture(scope="module")
def older_roles_stack(aws, built) -> dict:
    """The roles as an earlier release's bootstrap left them: the stack updated, directly, to
    the older template, its parameters kept."""
    older = _older(built)
    aws("cloudformation").update_stack(
        StackName=STACK,
        TemplateBody=json.dumps(older),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": key, "UsePreviousValue": True} for key in built["Parameters"]],
    )
    assert DROPPED_SID not in _execution_sids(aws)
    return older


def test_without_bootstrap_an_older_roles_stack_is_one_note_and_left_as_it_is(
    emulator, aws, work, domain_flags, older_roles_stack
):
    before = _stack(aws)
    result = run_deploy([*deploy_args(emulator.url, SUFFIX, work), *domain_flags])
    assert result.code == 0, result.err
    notes = _notes(result.out)
    assert len(notes) == 1 and "out of date" in notes[0] and "--bootstrap" in notes[0], notes
    assert _held_template(aws) == older_roles_stack
    assert _stack(aws) == before
    assert DROPPED_SID not in _execution_sids(aws)


def test_bootstrap_updates_an_older_roles_stack_to_the_built_template(
    emulator, aws, work, built, domain_flags, older_roles_stack
):
    parameters = _parameters(aws)
    result = run_deploy([*deploy_args(emulator.url, SUFFIX, work, "--bootstrap"), *domain_flags])
    assert result.code == 0, result.err
    assert f"updating StackSet roles: stack {STACK}" in result.out
    assert not _notes(result.out)
    assert _held_template(aws) == built
    assert _stack(aws)["StackStatus"] == "UPDATE_COMPLETE"
    # Without --accounts the accounts the stack had are kept, not reset to the default.
    assert _parameters(aws) == parameters
    # What the update is for: the execution role itself carries the statement again.
    assert DROPPED_SID in _execution_sids(aws)


def test_bootstrap_with_the_roles_stack_up_to_date_changes_nothing(
    emulator, aws, work, domain_flags
):
    before = _stack(aws)
    result = run_deploy([*deploy_args(emulator.url, SUFFIX, work, "--bootstrap"), *domain_flags])
    assert result.code == 0, result.err
    assert "StackSet roles" not in result.out
    assert _stack(aws) == before
