"""scripts/clients.py against the emulator: a client is an IAM role, made, rotated and revoked by
its own stack, and the role is what IAM holds (read back with boto3, not from the tool).

The role's trust and permissions follow "How to use an external ID when granting access to your
AWS resources to a third party" (IAM User Guide) and "Control access for invoking an API"
(API Gateway: the execute-api:Invoke resource format).
"""

from __future__ import annotations

import contextlib
import io
import json
import urllib.parse
from typing import Any

import pytest

from payment_ops.commands import clients as clients_script

from .conftest import ACCOUNT, PRIMARY, REPLICA, Result, run_cli

SUFFIX = "clients"
OLD = "arn:aws:iam::210987654321:role/acme-payments"
NEW = "arn:aws:iam::210987654321:role/acme-payments-2"
ROLE = "payment-clients-client-acme"


def run(emulator: Any, *argv: str, stdin: Any = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = clients_script.main(
            ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url, *argv],
            stdin=stdin or io.StringIO(""),
            out=out,
        )
    return Result(code, out.getvalue(), err.getvalue())


def client_args(*principals: str, client_id: str = "acme") -> list[str]:
    flags = [f"--trusted-principal={p}" for p in principals]
    return ["--client-id", client_id, *flags, "--external-id", "acme-external-7f3a"]


def document(value: Any) -> dict:
    return json.loads(urllib.parse.unquote(value)) if isinstance(value, str) else value


def trusted(aws: Any) -> list[str]:
    trust = document(aws("iam").get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"])
    (statement,) = trust["Statement"]
    principal = statement["Principal"]["AWS"]
    return sorted([principal] if isinstance(principal, str) else principal)


def test_add_makes_the_role_only_the_clients_principals_assume(emulator, aws):
    result = run(emulator, "add", *client_args(OLD))

    assert result.code == 0, result.err
    role = aws("iam").get_role(RoleName=ROLE)["Role"]
    assert role["Arn"] in result.out
    assert role["MaxSessionDuration"] == 3600
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        f"arn:aws:iam::{ACCOUNT}:policy/payment-permissions-boundary"
    )
    trust = document(role["AssumeRolePolicyDocument"])
    (statement,) = trust["Statement"]
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-external-7f3a"}}
    assert trusted(aws) == [OLD]

    iam = aws("iam")
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == []  # no inline policy
    (attached,) = iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert attached["PolicyName"] == ROLE  # the customer managed policy named like the role
    version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
    policy = document(
        iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"][
            "Document"
        ]
    )
    (allow,) = policy["Statement"]
    assert allow["Effect"] == "Allow"
    assert allow["Action"] == ["execute-api:Invoke"]
    assert sorted(allow["Resource"]) == sorted(
        f"arn:aws:execute-api:{region}:{ACCOUNT}:*/prod/POST/process"
        for region in (PRIMARY, REPLICA)
    )
    stack = aws("cloudformation").describe_stacks(StackName=ROLE)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_add_of_an_existing_client_is_refused(emulator, aws):
    result = run(emulator, "add", *client_args(NEW))

    assert result.code == 2
    assert "client acme exists" in result.err and "use update" in result.err
    assert trusted(aws) == [OLD]


def test_rotation_trusts_both_principals_then_the_new_one_only(emulator, aws):
    overlap = run(emulator, "update", *client_args(OLD, NEW))
    assert overlap.code == 0, overlap.err
    assert trusted(aws) == sorted([OLD, NEW])

    same = run(emulator, "update", *client_args(OLD, NEW))
    assert same.code == 0 and same.out.startswith("unchanged client acme")

    done = run(emulator, "update", *client_args(NEW))
    assert done.code == 0, done.err
    assert trusted(aws) == [NEW]


def test_list_names_each_client_with_its_role_and_principals(emulator, aws):
    result = run(emulator, "list")

    assert result.code == 0
    assert result.out.splitlines() == [f"acme\tarn:aws:iam::{ACCOUNT}:role/{ROLE}\t{NEW}"]


def test_revoke_asks_unless_told_and_then_deletes_the_role(emulator, aws):
    refused = run(emulator, "revoke", "--client-id", "acme")
    assert refused.code == 2 and "--yes" in refused.err
    assert aws("iam").get_role(RoleName=ROLE)["Role"]["RoleName"] == ROLE

    revoked = run(emulator, "revoke", "--client-id", "acme", "--yes")

    assert revoked.code == 0, revoked.err
    with pytest.raises(aws("iam").exceptions.NoSuchEntityException):
        aws("iam").get_role(RoleName=ROLE)
    assert run(emulator, "list").out == ""


def test_update_or_revoke_of_an_unknown_client_is_exit_2(emulator):
    assert run(emulator, "update", *client_args(NEW, client_id="globex")).code == 2
    assert run(emulator, "revoke", "--client-id", "globex", "--yes").code == 2


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (client_args(OLD, client_id="Acme"), "invalid client id 'Acme'"),
        (client_args(OLD, client_id="a" * 29), "invalid client id"),
        (client_args("arn:aws:iam::210987654321:group/ops"), "is not an account, role or user ARN"),
        (client_args(OLD, OLD), "given twice"),
        (
            ["--client-id", "acme", f"--trusted-principal={OLD}", "--external-id", "x"],
            "--external-id",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2_with_nothing_made(emulator, aws, args, reason):
    result = run_cli(
        "clients.py", ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url, "add", *args]
    )

    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], result.err
    stacks = aws("cloudformation").describe_stacks()["Stacks"]
    assert [s for s in stacks if s["StackName"].startswith("payment-clients-client-")] == []


def test_an_endpoint_that_is_not_a_url_is_one_line_and_exit_2(emulator, aws):
    """The same check as deploy's and delete's --endpoint-url (arguments.endpoint_url)."""
    result = run_cli("clients.py", ["--endpoint-url", "notaurl", "list"])
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "notaurl" in lines[0], result.err
