"""The execution role reaches only this product's keys ("ABAC for AWS KMS"): it creates keys
only with the Project tag, and decrypts, re-keys, disables or deletes only keys carrying it."""

from __future__ import annotations

import json

import pytest

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import Request
from templates_src.build import render_all
from templates_src.config import Config
from templates_src.names import PROJECT

from .test_execution_role import ACCOUNT, execution_role

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OURS = {"aws:ResourceTag/Project": PROJECT}
THEIRS = {"aws:ResourceTag/Project": "billing"}


@pytest.fixture(scope="module")
def role() -> iam_check.Role:
    return execution_role({i.file_name: json.loads(i.body) for i in render_all(Config())})


def test_keys_are_created_only_with_this_products_tag(role):
    assert iam_check.decide(
        role, Request("kms:CreateKey", "*", {"aws:RequestTag/Project": PROJECT})
    ).allowed
    assert not iam_check.decide(role, Request("kms:CreateKey", "*")).allowed
    assert not iam_check.decide(
        role, Request("kms:CreateKey", "*", {"aws:RequestTag/Project": "billing"})
    ).allowed


@pytest.mark.parametrize(
    "action",
    [
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:DisableKey",
        "kms:ScheduleKeyDeletion",
        "kms:PutKeyPolicy",
        "kms:CreateGrant",
    ],
)
def test_other_accounts_keys_are_out_of_reach_and_ours_are_not(role, action):
    assert not iam_check.decide(role, Request(action, KEY, THEIRS)).allowed
    assert not iam_check.decide(role, Request(action, KEY)).allowed  # untagged
    assert iam_check.decide(role, Request(action, KEY, OURS)).allowed


def test_aliases_only_under_payment(role):
    alias = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/"
    assert iam_check.decide(role, Request("kms:CreateAlias", alias + "payment-dev-table")).allowed
    assert not iam_check.decide(role, Request("kms:DeleteAlias", alias + "aws/s3")).allowed
    assert not iam_check.decide(role, Request("kms:UpdateAlias", alias + "billing")).allowed
