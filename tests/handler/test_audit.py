"""The audit writer: each inserted payment becomes exactly one KMS-encrypted object, however
often the stream delivers it; failures are reported per record and never dropped."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import boto3
import pytest
from botocore.config import Config

from handler import audit
from handler.config import ConfigurationError
from handler.payments import new_payment
from handler.validation import validate_payment

from .conftest import (
    BUCKET,
    REGION,
    TABLE,
    VALID_BODY,
    FakeContext,
    Fault,
    Sleeps,
    api_event,
    invoke,
    new_key,
)

STREAM_ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/2026-01-01T00:00:00.000"


class AuditBucket(NamedTuple):
    s3: Any
    kms_key_arn: str

    def keys(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET)
        return sorted(entry["Key"] for entry in listing.get("Contents", []))

    def versions(self, key: str) -> list[dict[str, Any]]:
        listing = self.s3.list_object_versions(Bucket=BUCKET, Prefix=key)
        return [v for v in listing.get("Versions", []) if v["Key"] == key]

    def document(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


@pytest.fixture
def bucket(aws: None, monkeypatch: pytest.MonkeyPatch) -> AuditBucket:
    """The region's audit bucket (versioned, as the template makes it) and its KMS key."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    key_arn = boto3.client("kms", region_name=REGION).create_key(Description="audit")[
        "KeyMetadata"
    ]["Arn"]
    monkeypatch.setenv("AUDIT_KMS_KEY_ARN", key_arn)
    audit.reset_runtime()
    return AuditBucket(s3, key_arn)


def payment_item(
    amount: str = "12.50", created: datetime | None = None, **members: str
) -> dict[str, Any]:
    """An item exactly as the processor writes it."""
    request = validate_payment({**VALID_BODY, "amount": amount, **members}, (new_key(),))
    when = created or datetime(2026, 11, 24, 5, 21, 52, 123000, tzinfo=UTC)
    return new_payment(request, client_id="client", request_id=str(uuid.uuid4()), now=when).item


def stream_record(
    item: dict[str, Any] | None, sequence_number: str, event_name: str = "INSERT"
) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda delivers it."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795497712.0,
        "SequenceNumber": sequence_number,
        "SizeBytes": 300,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if item is not None:
        change["Keys"] = {"payment_id": item.get("payment_id", {"S": "unknown"})}
        if event_name != "REMOVE":
            change["NewImage"] = item
        if event_name != "INSERT":
            change["OldImage"] = item
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }


def deliver(*records: dict[str, Any]) -> dict[str, Any]:
    return audit.lambda_handler({"Records": list(records)}, FakeContext())


def key_of(item: dict[str, Any]) -> str:
    created = item["created_at"]["S"]
    return f"payments/{created[:4]}/{created[5:7]}/{created[8:10]}/{item['payment_id']['S']}.json"


# -- exactly once ----------------------------------------------------------------------------


def test_an_inserted_payment_becomes_one_kms_encrypted_json_object(bucket: AuditBucket) -> None:
    item = payment_item(description="Invoice 42")

    result = deliver(stream_record(item, "100"))

    assert result == {"batchItemFailures": []}
    key = f"payments/2026/11/24/{item['payment_id']['S']}.json"
    assert bucket.keys() == [key]
    head = bucket.s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == bucket.kms_key_arn
    assert head["ContentType"] == "application/json"
    payment = bucket.document(key)["payment"]
    assert payment["payment_id"] == item["payment_id"]["S"]
    assert payment["amount"] == "12.50"  # exact decimal string, never a float
    assert payment["created_at"] == "2026-11-24T05:21:52.123Z"
    assert payment["description"] == "Invoice 42"
    assert payment["request_hash"] == item["request_hash"]["S"]


def test_the_date_in_the_key_is_the_payments_not_the_delivery_time(bucket: AuditBucket) -> None:
    item = payment_item(created=datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=UTC))

    deliver(stream_record(item, "100"))

    assert bucket.keys() == [f"payments/2025/12/31/{item['payment_id']['S']}.json"]


def test_redelivery_never_makes_a_second_object_or_version(bucket: AuditBucket) -> None:
    items = [payment_item(amount=f"{n}.00") for n in (1, 2, 3)]
    batch = [stream_record(item, str(100 + n)) for n, item in enumerate(items)]

    results = [deliver(*batch) for _ in range(3)]
    results.append(deliver(batch[1], batch[1]))  # the same record twice in one batch

    assert all(result == {"batchItemFailures": []} for result in results)
    assert bucket.keys() == sorted(key_of(item) for item in items)
    for item in items:
        assert len(bucket.versions(key_of(item))) == 1


def test_an_existing_object_is_kept_as_written_first(bucket: AuditBucket) -> None:
    item = payment_item()
    first = stream_record(item, "100")
    deliver(first)
    original = bucket.document(key_of(item))

    again = stream_record(item, "100")  # a redelivery carries a new event id
    assert deliver(again) == {"batchItemFailures": []}

    assert bucket.document(key_of(item)) == original
    assert len(bucket.versions(key_of(item))) == 1


# -- failures --------------------------------------------------------------------------------


def test_a_partial_batch_failure_reports_only_the_failed_record_then_completes(
    bucket: AuditBucket, retry_sleeps: Sleeps
) -> None:
    items = [payment_item(amount=f"{n}.00") for n in (1, 2, 3)]
    batch = [stream_record(item, str(100 + n)) for n, item in enumerate(items)]
    s3 = audit.runtime().s3
    failing_id = items[1]["payment_id"]["S"]

    with Fault(
        s3, "PutObject", status=500, code="InternalError", when=lambda r: failing_id in r.url
    ):
        first = deliver(*batch)

    assert first == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert bucket.keys() == sorted([key_of(items[0]), key_of(items[2])])

    # Lambda retries from the failed record: the rest of the batch comes again.
    retry = deliver(*batch[1:])

    assert retry == {"batchItemFailures": []}
    assert bucket.keys() == sorted(key_of(item) for item in items)
    for item in items:
        assert len(bucket.versions(key_of(item))) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [(409, "ConditionalRequestConflict"), (403, "AccessDenied"), (503, "SlowDown")],
)
def test_a_write_error_is_reported_for_retry(
    bucket: AuditBucket, retry_sleeps: Sleeps, status: int, code: str
) -> None:
    item = payment_item()
    with Fault(audit.runtime().s3, "PutObject", status=status, code=code):
        result = deliver(stream_record(item, "7"))

    assert result == {"batchItemFailures": [{"itemIdentifier": "7"}]}
    assert bucket.keys() == []


def test_modify_and_remove_records_are_skipped_not_failed(bucket: AuditBucket) -> None:
    item = payment_item()

    result = deliver(stream_record(item, "1", "MODIFY"), stream_record(item, "2", "REMOVE"))

    assert result == {"batchItemFailures": []}
    assert bucket.keys() == []


def _without(item: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != name}


MALFORMED = {
    "no NewImage": lambda item: {**stream_record(item, "5"), "dynamodb": {"SequenceNumber": "5"}},
    "no payment_id": lambda item: stream_record(_without(item, "payment_id"), "5"),
    "unsafe payment_id": lambda item: stream_record(
        {**item, "payment_id": {"S": "../../etc/passwd"}}, "5"
    ),
    "no created_at": lambda item: stream_record(_without(item, "created_at"), "5"),
    "created_at not a timestamp": lambda item: stream_record(
        {**item, "created_at": {"S": "yesterday"}}, "5"
    ),
    "not DynamoDB JSON": lambda item: stream_record({**item, "amount": {"N": "twelve"}}, "5"),
    "unknown type": lambda item: stream_record({**item, "amount": {"X": "1"}}, "5"),
    "unknown event name": lambda item: {**stream_record(item, "5"), "eventName": "UPSERT"},
    "no event name": lambda item: _without(stream_record(item, "5"), "eventName"),
}


@pytest.mark.parametrize("malformation", MALFORMED)
def test_a_malformed_insert_is_reported_not_dropped(
    bucket: AuditBucket, malformation: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = payment_item(amount="1.00"), payment_item(amount="2.00")

    result = deliver(
        stream_record(good, "4"), MALFORMED[malformation](bad), stream_record(good, "6")
    )

    assert result == {"batchItemFailures": [{"itemIdentifier": "5"}]}
    assert bucket.keys() == [key_of(good)]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(line["level"] == "ERROR" and line["sequence_number"] == "5" for line in logged)


def test_a_failure_that_cannot_be_identified_fails_the_whole_batch(bucket: AuditBucket) -> None:
    good = payment_item()
    anonymous = stream_record(payment_item(amount="3.00"), "9")
    del anonymous["dynamodb"]["SequenceNumber"]
    del anonymous["dynamodb"]["NewImage"]

    with pytest.raises(audit.InvalidRecord):
        deliver(stream_record(good, "8"), anonymous)
    # Written before the failure and harmless to write again when the batch is retried.
    assert bucket.keys() == [key_of(good)]


def test_an_event_without_records_fails_the_invocation(bucket: AuditBucket) -> None:
    with pytest.raises(audit.InvalidRecord):
        audit.lambda_handler({"unexpected": True}, FakeContext())


def test_a_misconfigured_writer_fails_the_invocation_so_records_are_retried(
    bucket: AuditBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_KMS_KEY_ARN")
    audit.reset_runtime()

    with pytest.raises(ConfigurationError, match="AUDIT_KMS_KEY_ARN"):
        deliver(stream_record(payment_item(), "1"))
    assert bucket.keys() == []


# -- end to end ------------------------------------------------------------------------------


def _lambda_stream_event(stream_arn: str) -> dict[str, Any]:
    """Read the table's stream and shape the records as Lambda's event source mapping does."""
    # botocore sends Streams calls to an account-based host (<account>.streams-ddb...) that
    # moto 5.2 does not serve; the classic regional endpoint reaches the same emulated stream.
    streams = boto3.client(
        "dynamodbstreams",
        region_name=REGION,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records.extend(streams.get_records(ShardIterator=iterator)["Records"])
    for record in records:
        change = record["dynamodb"]
        change["ApproximateCreationDateTime"] = change["ApproximateCreationDateTime"].timestamp()
        record["eventSourceARN"] = stream_arn
    return {"Records": records}


def test_an_accepted_payment_reaches_the_audit_bucket_through_the_stream(
    table: str, bucket: AuditBucket
) -> None:
    key = new_key()
    accepted = invoke(api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": key}))
    replayed = invoke(api_event("POST", "/process", VALID_BODY, {"Idempotency-Key": key}))
    assert (accepted.status, replayed.status) == (201, 200)

    event = _lambda_stream_event(table)
    assert [record["eventName"] for record in event["Records"]] == ["INSERT"]  # one write
    assert audit.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    assert audit.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}  # redelivered

    payment = accepted.body
    created = payment["created_at"]
    object_key = (
        f"payments/{created[:4]}/{created[5:7]}/{created[8:10]}/{payment['payment_id']}.json"
    )
    assert bucket.keys() == [object_key]
    assert len(bucket.versions(object_key)) == 1
    stored = bucket.document(object_key)["payment"]
    assert {name: stored[name] for name in payment} == payment
    assert stored["client_id"] == "acme"  # the client whose role session signed the request
    assert Decimal(stored["amount"]) == Decimal(VALID_BODY["amount"])


def test_each_batch_logs_its_counts_as_embedded_metrics(
    bucket: AuditBucket, capsys: pytest.CaptureFixture[str]
) -> None:
    item = payment_item()
    deliver(stream_record(item, "1"), stream_record(item, "2", "MODIFY"))
    capsys.readouterr()

    deliver(
        stream_record(item, "1"),
        stream_record(payment_item(amount="2.00"), "3"),
        {**stream_record(item, "4"), "eventName": "?"},
    )

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [summary] = [line for line in lines if line["message"] == "batch processed"]
    assert summary["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "PaymentInfrastructure"
    assert summary["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Environment"]]
    assert summary["Environment"] == "test"
    counts = {
        name: summary[name]
        for name in ("AuditWritten", "AuditDuplicate", "AuditSkipped", "AuditFailed")
    }
    assert counts == {"AuditWritten": 1, "AuditDuplicate": 1, "AuditSkipped": 0, "AuditFailed": 1}
