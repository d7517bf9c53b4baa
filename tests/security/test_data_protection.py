"""Explicit denies keep the data out of the deployer's reach: an explicit deny wins over every
allow ("Policy evaluation logic"), so no grant added later can undo them."""

from __future__ import annotations

import json

import pytest

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import EXPLICIT_DENY, Request
from templates_src.build import render_all
from templates_src.config import Config

from .test_execution_role import ACCOUNT, execution_role

AUDIT = f"arn:aws:s3:::payment-dev-audit-{ACCOUNT}-us-east-1"
ACCESS_LOGS = f"arn:aws:s3:::payment-dev-logs-{ACCOUNT}-us-east-1"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payment-dev-payments"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:payment-dev-processor"


@pytest.fixture(scope="module")
def role() -> iam_check.Role:
    return execution_role({i.file_name: json.loads(i.body) for i in render_all(Config())})


@pytest.mark.parametrize(
    "request_",
    [
        Request("s3:DeleteObjectVersion", f"{AUDIT}/payments/2026/01/01/p.json"),
        Request("s3:BypassGovernanceRetention", f"{AUDIT}/payments/2026/01/01/p.json"),
        Request("s3:PutObjectRetention", f"{AUDIT}/payments/2026/01/01/p.json"),
        Request("s3:DeleteObjectVersion", f"{ACCESS_LOGS}/logs/x"),
        Request("dynamodb:ExportTableToPointInTime", TABLE),
        Request("lambda:CreateFunctionUrlConfig", FUNCTION),
        Request("lambda:UpdateFunctionUrlConfig", FUNCTION),
    ],
    ids=lambda r: r.action,
)
def test_data_destroying_or_exfiltrating_calls_are_explicitly_denied(role, request_):
    # s3:* on * (StackSets' prerequisite) would allow most of these: the deny wins.
    assert iam_check.decide(role, request_).result == EXPLICIT_DENY


def test_the_deny_is_scoped_to_the_audit_trail(role):
    artifacts = f"arn:aws:s3:::payment-dev-code-{ACCOUNT}-us-east-1/code.zip"
    assert iam_check.decide(role, Request("s3:DeleteObjectVersion", artifacts)).allowed
