"""The partition of a region (``aws``, ``aws-cn``, ``aws-us-gov``, ...) and its DNS suffix.

ARNs start ``arn:<partition>:`` and endpoints end in the partition's DNS suffix
(``amazonaws.com``, ``amazonaws.com.cn`` in China). Both come from botocore's own partition data
(the endpoint rule sets' ``partitions.json``), the table the SDK itself resolves endpoints with,
so no region is special-cased here. Source: "Amazon Resource Names (ARNs)" in the IAM User Guide
(the partition element) and "Service endpoints" in the AWS General Reference.
"""

from __future__ import annotations

import functools

import boto3
from botocore.loaders import create_loader


@functools.cache
def partition(region: str) -> str:
    """``aws`` for us-east-1, ``aws-cn`` for cn-north-1, ``aws-us-gov`` for us-gov-west-1."""
    return boto3.session.Session().get_partition_for_region(region)


@functools.cache
def dns_suffix(region: str) -> str:
    """``amazonaws.com``, or ``amazonaws.com.cn`` in the China regions."""
    wanted = partition(region)
    for entry in create_loader().load_data("partitions")["partitions"]:
        if entry["id"] == wanted:
            return entry["outputs"]["dnsSuffix"]
    raise ValueError(f"no DNS suffix known for partition {wanted!r} of region {region!r}")


def arn(
    region: str, service: str, resource: str, *, account: str = "", in_region: bool = True
) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>``; global services (S3 bucket
    ARNs, IAM) leave the region out with ``in_region=False``."""
    return f"arn:{partition(region)}:{service}:{region if in_region else ''}:{account}:{resource}"
