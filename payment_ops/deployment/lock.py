"""One deploy or delete of a suffix at a time: a lease on an S3 object, written conditionally.

Two runs of one suffix would each act on a plan made before the other's changes. The lock is
the object ``locks/deployment.json`` in the primary region's artifact bucket (deploy's own
bucket, there before any stack set and after a plain delete):

- taken with ``PutObject`` ``If-None-Match: *``: S3 writes it only if no object has that key,
  so of two runs exactly one succeeds and the other gets ``412 Precondition Failed`` (or
  ``409 ConditionalRequestConflict`` while the first write is in flight);
- a lease: it names its holder (host, pid, command, start) and lasts ``lease_s`` from its last
  write (S3's ``LastModified``, compared with S3's own ``Date`` so the hosts' clocks do not
  matter); the holder renews it while it waits on operations;
- an expired lease is taken over with ``PutObject`` ``If-Match: <its ETag>``, which S3 applies
  only if the object is still the one read, so one taker wins;
- released in ``finally`` by deleting the version this run wrote (another run's version, after
  a takeover, is never touched).

Sources: "How to prevent object overwrites with conditional writes" and "How to perform
conditional deletes" (Amazon S3 User Guide), "Deleting object versions from a
versioning-enabled bucket" (a DELETE with a version id removes that version only).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TextIO

from .aws import Aws, error_code
from .errors import EXIT_FAILED, EXIT_USAGE, DeployError

KEY = "locks/deployment.json"
LEASE_S = 900.0  # renewed every third of it while the run waits; a dead run blocks 15 min
CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
GONE = ("NoSuchBucket", "NoSuchKey", "NoSuchVersion", "404", "NotFound")


def _describe(holder: dict[str, Any]) -> str:
    return (
        f"{holder.get('command', '?')} on {holder.get('host', '?')} (pid {holder.get('pid', '?')})"
        f" since {holder.get('started_at', '?')}"
    )


class Lock:
    """The lease of one run; ``acquire`` then ``release`` (in ``finally``)."""

    def __init__(
        self,
        aws: Aws,
        region: str,
        bucket: str,
        command: str,
        *,
        lease_s: float = LEASE_S,
        out: TextIO = sys.stdout,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.s3 = aws.client("s3", region)
        self.bucket, self.command, self.lease_s, self.out, self.clock = (
            bucket,
            command,
            lease_s,
            out,
            clock,
        )
        self.holder = {
            "command": command,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lease_s": lease_s,
            "token": str(uuid.uuid4()),
        }
        self.etag: str | None = None
        self.version: str | None = None
        self._written = 0.0

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{KEY}"

    def _put(self, **condition: str) -> None:
        response = self.s3.put_object(
            Bucket=self.bucket,
            Key=KEY,
            Body=json.dumps(self.holder, sort_keys=True).encode(),
            ContentType="application/json",
            **condition,
        )
        self.etag, self.version = response["ETag"], response.get("VersionId")
        self._written = self.clock()

    def acquire(self) -> None:
        """Take the lock or raise DeployError (exit 2) naming who holds it."""
        try:
            self._put(IfNoneMatch="*")
            return
        except Exception as error:
            if error_code(error) not in CONFLICT:
                raise
        current = self._read()
        if current is None:  # released in between: try once more, conditionally as before
            self._put(IfNoneMatch="*")
            return
        holder, etag, expired = current
        if not expired:
            raise DeployError(
                f"payment deployment locked by {_describe(holder)} ({self.where}); nothing "
                "changed. Wait for that run to finish; if it is gone, the lock expires "
                f"{holder.get('lease_s', LEASE_S):.0f} s after its last renewal",
                EXIT_USAGE,
            )
        stale = self._version_of(etag)
        try:
            self._put(IfMatch=etag)
        except Exception as error:
            if error_code(error) not in CONFLICT:
                raise
            raise DeployError(
                f"payment deployment lock {self.where} was taken over by another run just now; "
                "nothing changed. Re-run when it has finished",
                EXIT_USAGE,
            ) from error
        print(f"took over the expired lock of {_describe(holder)}", file=self.out, flush=True)
        self._delete_version(stale)

    def renew_if_due(self) -> None:
        """Called while the run waits: rewrite the lease once a third of it has passed."""
        if self.etag is None or self.clock() - self._written < self.lease_s / 3:
            return
        previous = self.version
        # A new body, so a new ETag: the next condition tells this write from the last one.
        self.holder["renewals"] = self.holder.get("renewals", 0) + 1
        try:
            self._put(IfMatch=self.etag)
        except Exception as error:
            if error_code(error) not in CONFLICT:
                raise
            raise DeployError(
                f"lost the deployment lock {self.where} to another run; stopping", EXIT_FAILED
            ) from error
        if previous:
            self._delete_version(previous)

    def release(self) -> None:
        if self.etag is None:
            return
        try:
            if self.version:
                self._delete_version(self.version)
            else:  # an unversioned bucket: delete only if the object is still this run's
                self.s3.delete_object(Bucket=self.bucket, Key=KEY, IfMatch=self.etag)
        except Exception as error:
            if error_code(error) not in GONE + CONFLICT:
                raise
        self.etag = self.version = None

    def sleeping(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """``sleep`` that keeps the lease while the run waits on operations."""

        def wait(seconds: float) -> None:
            self.renew_if_due()
            sleep(seconds)

        return wait

    def _read(self) -> tuple[dict[str, Any], str, bool] | None:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=KEY)
        except Exception as error:
            if error_code(error) in GONE:
                return None
            raise
        try:
            holder = json.loads(response["Body"].read())
        except ValueError:
            holder = {}
        lease = float(holder.get("lease_s", LEASE_S)) if isinstance(holder, dict) else LEASE_S
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        now = parsedate_to_datetime(date) if date else datetime.now(UTC)
        expired = response["LastModified"] + timedelta(seconds=lease) <= now
        return (holder if isinstance(holder, dict) else {}), response["ETag"], expired

    def _version_of(self, etag: str) -> str | None:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=KEY, IfMatch=etag)
        except Exception as error:
            if error_code(error) in GONE + CONFLICT:
                return None
            raise
        return head.get("VersionId")

    def _delete_version(self, version: str | None) -> None:
        if not version:
            return
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=KEY, VersionId=version)
        except Exception as error:
            if error_code(error) not in GONE:
                raise
