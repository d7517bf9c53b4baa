"""The execution role reaches only this product's certificates: requested with the Project
tag, changed or deleted only while they carry it (ACM supports aws:RequestTag and
aws:ResourceTag)."""

from __future__ import annotations

import json

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import Request
from templates_src.build import render_all
from templates_src.config import Config
from templates_src.names import PROJECT

from .test_execution_role import ACCOUNT, execution_role

CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def test_certificates_only_with_and_while_carrying_this_products_tag():
    role = execution_role({i.file_name: json.loads(i.body) for i in render_all(Config())})
    ours = {"aws:RequestTag/Project": PROJECT}
    assert iam_check.decide(role, Request("acm:RequestCertificate", "*", ours)).allowed
    assert not iam_check.decide(role, Request("acm:RequestCertificate", "*")).allowed
    tagged = {"aws:ResourceTag/Project": PROJECT}
    for action in ("acm:DeleteCertificate", "acm:ExportCertificate", "acm:RenewCertificate"):
        assert not iam_check.decide(role, Request(action, CERTIFICATE)).allowed, action
        assert iam_check.decide(role, Request(action, CERTIFICATE, tagged)).allowed, action
