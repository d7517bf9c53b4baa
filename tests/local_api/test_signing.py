"""A client's session from STS, its signature, and the gateway knowing the session as STS does:
against moto's STS in this process, no network."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.localapi.iam_auth import Caller, Refusal, Sessions, authenticate
from scripts.localapi.signing import assume_client_role, signed_headers

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/payment-t-client-shop"
URL = "http://127.0.0.1:8080/prod/process"


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
