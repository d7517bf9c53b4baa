"""The event source mapping, locally: the table's stream polled and fed to the audit writer.

As Lambda does for a DynamoDB stream with the deployed mapping's settings: batches of up to
``BatchSize`` records in the Lambda event shape, in order per shard; with
``ReportBatchItemFailures`` a batch resumes from its first failed record, a failed invocation
retries the whole batch; after ``MaximumRetryAttempts`` the batch goes to the on-failure
destination (an SQS message naming the records, as Lambda sends it) and the shard moves on.
Nothing is dropped silently.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from botocore.config import Config

from .deployed import StreamMapping
from .functions import LocalFunction

RETRY_DELAY_S = 0.5  # between attempts of a failed batch; Lambda backs off similarly


class StreamPoller:
    def __init__(
        self,
        mapping: StreamMapping,
        function: LocalFunction,
        client_factory: Callable[..., Any],
        log: TextIO,
        idle_s: float = 0.2,
    ) -> None:
        self.mapping = mapping
        self.function = function
        self.region = mapping.stream_arn.split(":")[3]
        # botocore would send Streams calls to an account-based host (<account>.streams-ddb...)
        # that moto does not serve; the regional endpoint reaches the same stream.
        self.streams = client_factory(
            "dynamodbstreams", self.region, Config(account_id_endpoint_mode="disabled")
        )
        self.sqs = client_factory("sqs", self.region, None)
        self.log = log
        self.idle_s = max(idle_s, 0.05)
        self.delivered = 0
        self.sent_to_failure_destination = 0
        self._iterators: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)

    def start(self) -> StreamPoller:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception as error:  # the emulator went away or hiccupped: try again
                print(f"stream: {type(error).__name__}: {error}", file=self.log, flush=True)
                busy = False
            if not busy:
                self._stop.wait(self.idle_s)

    def poll_once(self) -> bool:
        """One batch per shard; True when any shard had records."""
        description = self.streams.describe_stream(StreamArn=self.mapping.stream_arn)
        busy = False
        for shard in description["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.mapping.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType=self.mapping.starting_position,
                )["ShardIterator"]
            page = self.streams.get_records(
                ShardIterator=self._iterators[shard_id], Limit=self.mapping.batch_size
            )
            records = [self._lambda_record(r) for r in page["Records"]]
            if records:
                busy = True
                self._deliver(records)
            if page.get("NextShardIterator"):
                self._iterators[shard_id] = page["NextShardIterator"]
        return busy

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = created.timestamp()
        return {
            "eventID": record.get("eventID"),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion") or self.region,
            "dynamodb": change,
            "eventSourceARN": self.mapping.stream_arn,
        }

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        attempts = 0
        while records and not self._stop.is_set():
            try:
                result = self.function.invoke({"Records": records})
                failed = self._failed_from(result, records)
            except Exception as error:
                print(
                    f"stream: {self.function.function.name} failed: {type(error).__name__}",
                    file=self.log,
                    flush=True,
                )
                failed = 0
            if failed is None:
                self.delivered += len(records)
                return
            self.delivered += failed
            records = records[failed:]
            attempts += 1
            limit = self.mapping.maximum_retry_attempts
            if limit >= 0 and attempts > limit:
                self._to_failure_destination(records, attempts)
                return
            self._stop.wait(RETRY_DELAY_S)

    def _failed_from(self, result: Any, records: list[dict[str, Any]]) -> int | None:
        """Index of the first record to retry, None when the batch succeeded."""
        if not self.mapping.report_batch_item_failures:
            return None
        failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return None
        sequence_numbers = [r["dynamodb"].get("SequenceNumber") for r in records]
        indexes = [
            sequence_numbers.index(f.get("itemIdentifier"))
            for f in failures
            if f.get("itemIdentifier") in sequence_numbers
        ]
        # An identifier that names no record of the batch makes Lambda retry the whole batch.
        return min(indexes) if len(indexes) == len(failures) else 0

    def _to_failure_destination(self, records: list[dict[str, Any]], attempts: int) -> None:
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        message = {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
                "functionArn": self.function.function.arn,
            },
            "DDBStreamBatchInfo": {
                "streamArn": self.mapping.stream_arn,
                "startSequenceNumber": first.get("SequenceNumber"),
                "endSequenceNumber": last.get("SequenceNumber"),
                "batchSize": len(records),
            },
        }
        destination = self.mapping.on_failure_arn
        if destination and destination.split(":")[2] == "sqs":
            _, _, _, region, account, name = destination.split(":", 5)
            url = self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
            self.sqs.send_message(QueueUrl=url["QueueUrl"], MessageBody=json.dumps(message))
        self.sent_to_failure_destination += len(records)
        print(
            f"stream: {len(records)} record(s) sent to {destination or 'nowhere'} after "
            f"{attempts} attempts",
            file=self.log,
            flush=True,
        )
