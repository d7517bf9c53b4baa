"""ARNs and URLs that deploy writes take the partition of the region they are for: an artifact
bucket policy in China names ``arn:aws-cn:``, a template URL there ends ``amazonaws.com.cn``."""

from __future__ import annotations

import json

import pytest

from payment_ops.deployment import artifacts, partition


@pytest.mark.parametrize(
    ("region", "arn_prefix", "dns"),
    [
        ("us-east-1", "arn:aws:", "amazonaws.com"),
        ("cn-north-1", "arn:aws-cn:", "amazonaws.com.cn"),
        ("us-gov-west-1", "arn:aws-us-gov:", "amazonaws.com"),
    ],
)
def test_bucket_policy_and_template_url_use_the_regions_partition(region, arn_prefix, dns):
    policy = json.loads(
        artifacts._tls_only_policy("payment-dev-artifacts", region, ["111122223333"])
    )
    arns = [
        *[
            r
            for s in policy["Statement"]
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        ],
        *[
            p
            for s in policy["Statement"]
            if isinstance(s["Principal"], dict)
            for p in s["Principal"]["AWS"]
        ],
    ]
    assert arns and all(a.startswith(arn_prefix) for a in arns), arns
    assert f"{arn_prefix}s3:::payment-dev-artifacts/*" in arns
    assert f"{arn_prefix}iam::111122223333:root" in arns
    url = artifacts.object_url("payment-dev-artifacts", region, "templates/p.json")
    assert url == f"https://payment-dev-artifacts.s3.{region}.{dns}/templates/p.json"


def test_execution_role_arn_in_an_other_partition():
    role = partition.arn("cn-northwest-1", "iam", "role/R", account="111122223333", in_region=False)
    assert role == "arn:aws-cn:iam::111122223333:role/R"
