"""Audit writer: every payment inserted into the table becomes one S3 object, exactly once.

Entry point: ``handler.audit.lambda_handler``, fed by the table's stream through an event
source mapping with ``ReportBatchItemFailures``, bisect on error, bounded retries and an SQS
on-failure destination. The only AWS call is ``s3:PutObject`` with ``If-None-Match: *``:

* a redelivered record finds its object and gets ``412 Precondition Failed``, which means
  "already written": one object, one version, however often the stream delivers it;
* a record that cannot be written or cannot be understood is reported in
  ``batchItemFailures`` and retried, until the on-failure destination receives it. Nothing is
  dropped silently.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from handler.audit_key import audit_key
from handler.config import AuditSettings, InitOnce, s3_client
from handler.money import format_amount
from handler.observability import get_logger, metric_fields
from handler.sdk_features import S3_FEATURES, require_features

logger = get_logger("payment.audit")

AUDIT_SCHEMA_VERSION = 1
# The key is part of the object's identity: it must be safe as a path segment.
_PAYMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_CREATED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_ALREADY_WRITTEN = "PreconditionFailed"

_deserializer = TypeDeserializer()


class AuditRuntime(NamedTuple):
    settings: AuditSettings
    s3: Any

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AuditRuntime:
        settings = AuditSettings.from_environ(environ)
        s3 = s3_client(settings.region)
        require_features(s3, S3_FEATURES, logger)
        return cls(settings, s3)


_runtime = InitOnce(lambda: AuditRuntime.from_environ(os.environ))
runtime = _runtime.get
reset_runtime = _runtime.reset


class InvalidRecord(ValueError):
    """A stream record that is not a payment INSERT we can audit."""


class AuditObject(NamedTuple):
    key: str
    body: bytes
    payment_id: str


def audit_object(record: Mapping[str, Any]) -> AuditObject:
    """The object an INSERT record must become. Pure; raises InvalidRecord."""
    change = record.get("dynamodb")
    if not isinstance(change, Mapping) or not isinstance(change.get("NewImage"), Mapping):
        raise InvalidRecord("INSERT record without dynamodb.NewImage")
    try:
        payment = {
            name: _deserializer.deserialize(value) for name, value in change["NewImage"].items()
        }
    except Exception as exc:  # the deserializer raises several types for malformed values
        raise InvalidRecord(f"NewImage is not a DynamoDB item: {type(exc).__name__}") from None

    payment_id = payment.get("payment_id")
    if not isinstance(payment_id, str) or not _PAYMENT_ID.fullmatch(payment_id):
        raise InvalidRecord("NewImage has no usable payment_id")
    created_at = payment.get("created_at")
    try:
        created = datetime.strptime(created_at, _CREATED_AT_FORMAT)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidRecord("NewImage has no usable created_at") from None

    if isinstance(payment.get("amount"), Decimal) and isinstance(payment.get("currency"), str):
        payment["amount"] = format_amount(payment["amount"], payment["currency"])
    document = {
        "schema_version": AUDIT_SCHEMA_VERSION,
        "payment": payment,
        "stream": {
            "event_id": record.get("eventID"),
            "event_source_arn": record.get("eventSourceARN"),
            "aws_region": record.get("awsRegion"),
            "sequence_number": change.get("SequenceNumber"),
            "approximate_creation_date_time": change.get("ApproximateCreationDateTime"),
        },
    }
    body = json.dumps(document, default=_jsonable, sort_keys=True, separators=(",", ":"))
    return AuditObject(audit_key(payment_id, created), body.encode("ascii"), payment_id)


def lambda_handler(event: Any, context: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        # Not a stream batch at all: fail the invocation so it is retried and, in the end,
        # delivered to the on-failure destination.
        logger.error("event has no Records list")
        raise InvalidRecord("event has no Records list")

    current = runtime()
    counts = {"written": 0, "duplicate": 0, "skipped": 0, "failed": 0}
    failures: list[dict[str, str]] = []
    unidentified = 0
    for record in records:
        outcome = _handle(record, current)
        counts[outcome] += 1
        if outcome == "failed":
            sequence_number = _sequence_number(record)
            if sequence_number is None:
                unidentified += 1
            else:
                failures.append({"itemIdentifier": sequence_number})

    logger.info(
        "batch processed",
        extra={
            "fields": {
                "request_id": getattr(context, "aws_request_id", None),
                "records": len(records),
                **counts,
                **metric_fields(
                    {
                        "AuditWritten": counts["written"],
                        "AuditDuplicate": counts["duplicate"],
                        "AuditSkipped": counts["skipped"],
                        "AuditFailed": counts["failed"],
                    },
                    {"Environment": current.settings.environment_suffix},
                ),
            }
        },
    )
    if unidentified:
        # A failure that cannot be named cannot be reported item by item; failing the whole
        # invocation makes the event source mapping retry (and bisect) the batch instead.
        raise InvalidRecord(f"{unidentified} failed record(s) without a SequenceNumber")
    return {"batchItemFailures": failures}


def _handle(record: Any, current: AuditRuntime) -> str:
    """written | duplicate | skipped | failed. Never raises: one record cannot sink the batch."""
    where = _describe(record)
    try:
        if not isinstance(record, Mapping):
            raise InvalidRecord("record is not an object")
        event_name = record.get("eventName")
        if event_name in ("MODIFY", "REMOVE"):
            # The audit trail records creations; status changes and deletions are not
            # payments. Logged so that the choice is visible.
            logger.info("record skipped", extra={"fields": {**where, "event_name": event_name}})
            return "skipped"
        if event_name != "INSERT":
            raise InvalidRecord(f"unexpected eventName {str(event_name)[:32]!r}")
        target = audit_object(record)
        return _put(target, current, where)
    except InvalidRecord as exc:
        logger.error("invalid record", extra={"fields": {**where, "error": str(exc)}})
        return "failed"
    except Exception as exc:
        logger.exception(
            "record failed", extra={"fields": {**where, "error_type": type(exc).__name__}}
        )
        return "failed"


def _put(target: AuditObject, current: AuditRuntime, where: dict[str, Any]) -> str:
    fields = {**where, "payment_id": target.payment_id, "key": target.key}
    try:
        current.s3.put_object(
            Bucket=current.settings.bucket,
            Key=target.key,
            Body=target.body,
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=current.settings.kms_key_id,
            # One data key per bucket rather than per object: fewer KMS requests, same key.
            BucketKeyEnabled=True,
            # Create-only: the object of a redelivered record already exists.
            IfNoneMatch="*",
            # The bucket is under Object Lock, where S3 refuses a put without Content-MD5 or an
            # x-amz-checksum-* ("PutObject", Amazon S3 API Reference). Asked for explicitly, the
            # SDK computes it whatever its default (boto3 before 1.36, or
            # AWS_REQUEST_CHECKSUM_CALCULATION=when_required, sends none).
            ChecksumAlgorithm="SHA256",
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == _ALREADY_WRITTEN:
            logger.info("audit object already written", extra={"fields": fields})
            return "duplicate"
        # Includes 409 ConditionalRequestConflict (a concurrent write of the same key): the
        # retry will find the object and end as a duplicate.
        logger.error("audit write failed", extra={"fields": {**fields, "error_code": code}})
        return "failed"
    except (BotocoreConnectionError, HTTPClientError) as exc:
        logger.error(
            "audit write failed", extra={"fields": {**fields, "error_type": type(exc).__name__}}
        )
        return "failed"
    logger.info("audit object written", extra={"fields": fields})
    return "written"


def _sequence_number(record: Any) -> str | None:
    change = record.get("dynamodb") if isinstance(record, Mapping) else None
    value = change.get("SequenceNumber") if isinstance(change, Mapping) else None
    return value if isinstance(value, str) and value else None


def _describe(record: Any) -> dict[str, Any]:
    """Identifies a record in the log without copying its content."""
    if not isinstance(record, Mapping):
        return {"sequence_number": None}
    return {"event_id": record.get("eventID"), "sequence_number": _sequence_number(record)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"  # exact, never through float
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if hasattr(value, "value") and isinstance(value.value, (bytes, bytearray)):  # Binary
        return base64.b64encode(value.value).decode("ascii")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# Build the S3 client during Lambda's init phase rather than on the first batch.
_runtime.warm(logger)
