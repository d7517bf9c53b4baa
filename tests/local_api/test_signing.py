"""A client's session from STS, its signature, the gateway knowing the session as STS does, and
execute-api:Invoke decided by the role's policies: against moto's STS and IAM in this process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from payment_ops.localapi.iam_auth import Caller, Refusal, Sessions, authenticate
from payment_ops.localapi.iam_invoke import InvokeAuthorizer
from payment_ops.localapi.signing import assume_client_role, signed_headers

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/payment-t-client-shop"
URL = "http://127.0.0.1:8080/prod/process"
API = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123"


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("sts", region_name="us-east-1")


def _check(headers: dict[str, str], body: bytes, sessions: Sessions) -> Caller | Refusal:
    return authenticate(
        method="POST",
        path="/prod/process",
        query=[],
        headers=[("Host", "127.0.0.1:8080"), *headers.items()],
        body=body,
        region="us-east-1",
        sessions=sessions,
    )


def test_a_session_sts_issued_is_known_without_being_registered(sts: Any) -> None:
    session = assume_client_role(sts, ROLE, "shop-1", external_id="x-1")
    assert session.assumed_role_arn == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/payment-t-client-shop/shop-1"
    )
    body = b'{"amount": "1.00"}'
    headers = signed_headers(session, "us-east-1", "POST", URL, body, {"Idempotency-Key": "k"})
    assert headers["X-Amz-Security-Token"] == session.session_token
    caller = _check(headers, body, Sessions(ACCOUNT))
    assert caller == Caller(session.access_key_id, ACCOUNT, session.assumed_role_arn)


def test_a_session_sts_never_issued_is_unknown(sts: Any) -> None:
    session = assume_client_role(sts, ROLE, "shop-1")
    forged = type(session)(**{**session.as_dict(), "access_key_id": "ASIANEVERISSUED00000"})
    headers = signed_headers(forged, "us-east-1", "POST", URL, b"{}")
    refusal = _check(headers, b"{}", Sessions(ACCOUNT))
    assert isinstance(refusal, Refusal) and refusal.response_type == "ACCESS_DENIED"


def _role(iam: Any, name: str, statements: list[dict], boundary: str | None = None) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **extra)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(policy))


def test_invoke_is_decided_by_the_roles_policy_within_its_boundary(sts: Any) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    allow = [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{API}/*"}]
    narrow = iam.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                     "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]  # fmt: skip
    _role(iam, "payment-t-client-shop", allow)
    _role(iam, "payment-t-client-capped", allow, boundary=narrow)
    _role(iam, "payment-t-client-none", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    authorizer = InvokeAuthorizer(lambda: iam)

    def refusal(role: str) -> str | None:
        session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s"
        return authorizer.refusal(session, f"{API}/prod/POST/process")

    assert refusal("payment-t-client-shop") is None
    assert refusal("payment-t-client-capped") == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/payment-t-client-capped/s is not authorized "
        f"to perform: execute-api:Invoke on resource: {API}/prod/POST/process"
    )
    assert refusal("payment-t-client-none") is not None
    iam.delete_role_policy(RoleName="payment-t-client-shop", PolicyName="invoke")
    iam.delete_role(RoleName="payment-t-client-shop")  # revoked
    assert refusal("payment-t-client-shop") is not None
