"""Proof, at init, that the runtime's SDK knows the request members the handlers rely on.

The functions use the boto3/botocore bundled with the Lambda Python runtime, which AWS updates
on its own schedule and does not pin ("Lambda runtimes": the included SDK version is listed
per runtime and changes with runtime updates). Two members are newer than some of those SDKs:

* ``PutItem`` ``ReturnValuesOnConditionCheckFailure`` (DynamoDB, June 2023): the stored item
  comes back with a failed condition, so a replay costs no second read;
* ``PutObject`` ``IfNoneMatch`` (S3 conditional writes, August 2024): the audit writer's
  "write once" guarantee.

An SDK without them rejects every call with a parameter validation error: every payment would
answer 500, and every audit record would go to the dead-letter queue. Failing the init instead
names the cause once, before any request is accepted.

Why a check rather than shipping the tested SDK in the zip (measured on this project's pinned
versions): boto3 + botocore + s3transfer + their dependencies compress to 17.3 MB, against
tens of kilobytes for the handler itself, uploaded to every region's artifact bucket on each
change and unpacked on each cold start; the check reads two members of the service models the
clients have already loaded, which costs microseconds (``benchmarks/handler_bench.py`` times the
init that includes it). The zip stays free of third-party code, and a runtime that falls behind
is refused loudly rather than served wrongly.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import botocore


class Feature(NamedTuple):
    operation: str
    member: str
    why: str


DYNAMODB_FEATURES = (
    Feature("PutItem", "ReturnValuesOnConditionCheckFailure", "replay without a second read"),
)
S3_FEATURES = (
    Feature("PutObject", "IfNoneMatch", "write-once audit objects"),
    Feature("PutObject", "ChecksumAlgorithm", "puts into a bucket under Object Lock"),
)


class SdkFeatureMissing(Exception):
    """The runtime's botocore lacks a request member the code sends."""


def require_features(client: Any, features: tuple[Feature, ...], logger: logging.Logger) -> None:
    """Raise SdkFeatureMissing, after one ERROR log line, unless ``client``'s service model has
    every member of ``features``."""
    model = client.meta.service_model
    missing = [
        feature
        for feature in features
        if feature.member not in model.operation_model(feature.operation).input_shape.members
    ]
    if not missing:
        return
    names = ", ".join(f"{model.service_name} {f.operation}.{f.member} ({f.why})" for f in missing)
    message = (
        f"the runtime's botocore {botocore.__version__} lacks {names}: deploy with a runtime "
        "whose SDK has it, or ship a newer boto3 in the package"
    )
    logger.error("sdk feature missing", extra={"fields": {"error": message}})
    raise SdkFeatureMissing(message)
