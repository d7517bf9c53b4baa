"""Load test of the local payment API over HTTP, then a count of what reached the table and S3.

N requests (default 2,000) at concurrency C (default 16) against ``scripts/local_api.py``, a mix
of new payments, replays (same Idempotency-Key, same body), conflicts (same key, another body)
and invalid bodies (not a JSON object; a field that fails its rule). Replays and conflicts reuse
keys whose first request has already been answered, so that every expected status is fixed.
Bounded in requests and time, and only ever sent to 127.0.0.1.

Afterwards, through boto3 against the emulator: accepted responses == items in the table ==
audit objects (one version each); every replay returned the first response; no 5xx. 429s (the
deployed stage throttling) are counted and write nothing, which the counts prove. Every request
is signed (Signature Version 4, ``execute-api``) with the local client's session from the info
file, as ``POST /process`` requires ("Control access to a REST API with IAM permissions").

    .venv/bin/python benchmarks/load.py                  # starts its own local API
    .venv/bin/python benchmarks/load.py --info-file F    # one started with --info-file F
    .venv/bin/python benchmarks/load.py --lift-limits    # capacity: throttling lifted, printed

Exit 0 when the verification passes, 1 when it fails, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from handler.audit_key import AUDIT_KEY_PREFIX
from payment_ops.localapi.child import LocalApiChild, LocalApiStartError
from payment_ops.localapi.signing import ClientCredentials, signed_headers

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_REQUESTS = 100_000
MAX_SECONDS = 3600
MIX = (  # kind, share
    ("payment", 0.70),
    ("replay", 0.12),
    ("conflict", 0.06),
    ("invalid_json", 0.06),
    ("invalid_field", 0.06),
)
EXPECTED = {
    "payment": {201},
    "replay": {200},
    "conflict": {409},
    "invalid_json": {400},
    "invalid_field": {400},
}
EXPECTED_CODE = {
    "conflict": "IDEMPOTENCY_KEY_REUSED",
    "invalid_json": "INVALID_JSON",
    "invalid_field": "VALIDATION_ERROR",
}
CURRENCIES = (("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0), ("CAD", 2), ("AUD", 2))


@dataclass
class Sample:
    kind: str
    status: int
    code: str | None
    seconds: float
    payment_id: str | None
    as_expected: bool


@dataclass
class Target:
    url: str
    credentials: ClientCredentials
    endpoint_url: str
    region: str
    table: str
    audit_bucket: str
    limits: list[str]


class LoadRun:
    def __init__(
        self,
        target: Target,
        requests: int,
        concurrency: int,
        seconds: float,
        seed: int,
        rate: float | None = None,
    ):
        self.target = target
        self.rate = rate  # requests per second over all workers; None: as fast as answered
        self.requests = requests
        self.concurrency = concurrency
        self.deadline_s = seconds
        self.random = random.Random(seed)
        self.run_id = uuid.uuid4().hex[:10]
        self.customer = f"load-{self.run_id}"  # marks this run's payments in the table
        split = urllib.parse.urlsplit(target.url)
        self.host, self.port, self.base = split.hostname, split.port or 80, split.path.rstrip("/")
        kinds = [kind for kind, _ in MIX]
        self.plan = self.random.choices(kinds, weights=[share for _, share in MIX], k=requests)
        self.samples: list[Sample] = []
        self.accepted: dict[str, tuple[str, dict, dict]] = {}  # payment_id -> key, body, response
        self.answered: list[str] = []  # payment ids whose 201 was received, for replays
        self.replays_mismatched = 0
        self._next = 0
        self._lock = threading.Lock()

    # -- requests -------------------------------------------------------------------------

    def _body(self, n: int) -> dict[str, Any]:
        currency, digits = self.random.choice(CURRENCIES)
        units = self.random.randint(1, 99_999)
        amount = str(units) if digits == 0 else f"{units // 100}.{units % 100:02d}"
        if amount in ("0", "0.00"):
            amount = "1"
        return {
            "amount": amount,
            "currency": currency,
            "customer_id": self.customer,
            "payment_method": self.random.choice(("card", "bank_transfer", "wallet")),
            "description": f"load test {self.run_id} #{n}",
        }

    def _take(self) -> tuple[int, str, str | None, Any, tuple | None] | None:
        """The next request: index, kind, Idempotency-Key, body, the original it refers to."""
        with self._lock:
            if self._next >= self.requests or time.monotonic() > self._stop_at:
                return None
            n = self._next
            self._next += 1
        if self.rate:
            # Open loop: request n leaves at n / rate, however slow the answers are.
            delay = self._started_at + n / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        with self._lock:
            kind = self.plan[n]
            original = None
            if kind in ("replay", "conflict"):
                if not self.answered:
                    kind = "payment"  # nothing answered yet to replay: a new payment instead
                else:
                    payment_id = self.random.choice(self.answered)
                    original = self.accepted[payment_id]
            body: Any = self._body(n)
        key = f"ld-{self.run_id}-{n}"
        if kind == "replay":
            key, body = original[0], original[1]
        elif kind == "conflict":
            key = original[0]
            body = {**original[1], "amount": "1" if original[1]["amount"] != "1" else "2"}
        elif kind == "invalid_json":
            body = self.random.choice(("[1, 2]", '"a string"', "not json", "{"))
        elif kind == "invalid_field":
            body = {**body, "currency": "XXX", "payment_method": "cash"}
        return n, kind, key, body, original

    def _worker(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            while (work := self._take()) is not None:
                _, kind, key, body, original = work
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                headers = signed_headers(
                    self.target.credentials,
                    self.target.region,
                    "POST",
                    f"{self.target.url}/process",
                    data,
                    {"Content-Type": "application/json", "Idempotency-Key": key},
                )
                started = time.perf_counter()
                try:
                    connection.request("POST", f"{self.base}/process", data, headers)
                    response = connection.getresponse()
                    raw = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                    status, raw = 0, json.dumps({"error": {"code": type(error).__name__}}).encode()
                seconds = time.perf_counter() - started
                self._record(kind, key, body, original, status, raw, seconds)
        finally:
            connection.close()

    def _record(
        self,
        kind: str,
        key: str,
        body: Any,
        original: tuple | None,
        status: int,
        raw: bytes,
        seconds: float,
    ) -> None:
        try:
            document = json.loads(raw) if raw else {}
        except ValueError:
            document = {}
        code = (document.get("error") or {}).get("code") if isinstance(document, dict) else None
        payment_id = document.get("payment_id") if isinstance(document, dict) else None
        expected = status in EXPECTED[kind] and code == EXPECTED_CODE.get(kind)
        with self._lock:
            if kind == "payment" and status == 201:
                if payment_id in self.accepted:
                    expected = False  # a second 201 for one payment: a duplicate
                else:
                    self.accepted[payment_id] = (key, body, document)
                    self.answered.append(payment_id)
            if kind == "replay" and status == 200:
                if document != original[2]:
                    self.replays_mismatched += 1
                    expected = False
            if status == 429:
                expected = True  # throttled as deployed: counted, and must have written nothing
            self.samples.append(Sample(kind, status, code, seconds, payment_id, expected))

    def run(self) -> float:
        self._started_at = time.monotonic()
        self._stop_at = self._started_at + self.deadline_s
        threads = [
            threading.Thread(target=self._worker, name=f"load-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    # -- verification ---------------------------------------------------------------------

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.target.region,
            endpoint_url=self.target.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def table_items(self) -> list[dict[str, Any]]:
        dynamodb = self.client("dynamodb")
        items, kwargs = [], {"TableName": self.target.table, "ConsistentRead": True}
        while True:
            page = dynamodb.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def audit_versions(self) -> Counter[str]:
        """payment_id -> number of object versions under the audit key prefix."""
        s3 = self.client("s3")
        versions: Counter[str] = Counter()
        kwargs = {"Bucket": self.target.audit_bucket, "Prefix": AUDIT_KEY_PREFIX}
        while True:
            page = s3.list_object_versions(**kwargs)
            for version in page.get("Versions", []):
                versions[version["Key"].rsplit("/", 1)[-1].removesuffix(".json")] += 1
            if not page.get("IsTruncated"):
                return versions
            kwargs["KeyMarker"] = page["NextKeyMarker"]
            kwargs["VersionIdMarker"] = page["NextVersionIdMarker"]

    def verify(self, audit_timeout_s: float) -> dict[str, Any]:
        accepted_responses = sum(1 for s in self.samples if s.status == 201)
        items = self.table_items()
        ours = {
            i["payment_id"]["S"]
            for i in items
            if i.get("customer_id", {}).get("S") == self.customer
        }
        accepted = set(self.accepted)
        all_ids = {i["payment_id"]["S"] for i in items}
        deadline = time.monotonic() + audit_timeout_s
        versions = self.audit_versions()
        while not accepted <= set(versions) and time.monotonic() < deadline:
            time.sleep(0.25)
            versions = self.audit_versions()
        audited = {p for p in accepted if versions.get(p)}
        replays = [s for s in self.samples if s.kind == "replay" and s.status == 200]
        checks = {
            "accepted_responses": accepted_responses,
            "accepted_payments": len(accepted),
            "items_in_table": len(ours),
            "audit_objects": len(audited),
            "audit_objects_with_more_than_one_version": sum(
                1 for p in accepted if versions.get(p, 0) > 1
            ),
            "replays_answered": len(replays),
            "replays_that_wrote_an_item": sum(1 for s in replays if s.payment_id not in accepted),
            "replays_not_identical_to_the_first_response": self.replays_mismatched,
            "responses_5xx": sum(1 for s in self.samples if s.status >= 500),
            "no_response": sum(1 for s in self.samples if s.status == 0),
            "unexpected_status": sum(1 for s in self.samples if not s.as_expected),
            "table_items_total": len(all_ids),
            "audit_objects_total": len(versions),
        }
        checks["passed"] = (
            accepted_responses == len(accepted) == len(ours) == len(audited)
            and ours == accepted
            and checks["audit_objects_with_more_than_one_version"] == 0
            and checks["replays_that_wrote_an_item"] == 0
            and checks["replays_not_identical_to_the_first_response"] == 0
            and checks["responses_5xx"] == 0
            and checks["no_response"] == 0
            and checks["unexpected_status"] == 0
        )
        return checks

    # -- report ---------------------------------------------------------------------------

    def report(self, wall_s: float, checks: dict[str, Any]) -> dict[str, Any]:
        latencies = sorted(s.seconds * 1000 for s in self.samples)
        by_code = Counter(f"{s.status} {s.code or ''}".strip() for s in self.samples)
        by_kind = Counter(s.kind for s in self.samples)
        return {
            "requests": len(self.samples),
            "planned": self.requests,
            "concurrency": self.concurrency,
            "seconds": round(wall_s, 3),
            "throughput_rps": round(len(self.samples) / wall_s, 1) if wall_s else 0.0,
            "latency_ms": {
                "p50": _percentile(latencies, 50),
                "p95": _percentile(latencies, 95),
                "p99": _percentile(latencies, 99),
                "max": round(latencies[-1], 2) if latencies else None,
                "mean": round(statistics.fmean(latencies), 2) if latencies else None,
            },
            "accepted_latency_ms_p50": _percentile(
                sorted(s.seconds * 1000 for s in self.samples if s.status == 201), 50
            ),
            "by_kind": dict(sorted(by_kind.items())),
            "by_status_and_code": dict(sorted(by_code.items())),
            "limits": self.target.limits,
            "verification": checks,
        }


def _percentile(values: list[float], percent: float) -> float | None:
    if not values:
        return None
    index = max(0, min(len(values) - 1, round(percent / 100 * len(values) + 0.5) - 1))
    return round(values[index], 2)


# -- a local API of our own -------------------------------------------------------------------


def _target(info: dict[str, Any]) -> Target:
    host = urllib.parse.urlsplit(info["url"]).hostname
    endpoint = urllib.parse.urlsplit(info["endpoint_url"]).hostname
    if host not in LOCAL_HOSTS or endpoint not in LOCAL_HOSTS:
        raise SystemExit(
            f"load: refusing {info['url']} / {info['endpoint_url']}: this test runs against "
            "127.0.0.1 only"
        )
    return Target(
        url=info["url"],
        credentials=ClientCredentials.from_dict(info["credentials"]),
        endpoint_url=info["endpoint_url"],
        region=info["region"],
        table=info["table"],
        audit_bucket=info["audit_bucket"],
        limits=list(info.get("limits") or []),
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python benchmarks/load.py", description=__doc__.split("\n")[0]
    )
    p.add_argument("--requests", type=int, default=2000, help="how many (default 2000)")
    p.add_argument("--concurrency", type=int, default=16, help="in flight at once (default 16)")
    p.add_argument(
        "--max-seconds", type=float, default=300, help="stop sending after this (default 300)"
    )
    p.add_argument("--info-file", type=Path, help="a running local API's --info-file")
    p.add_argument(
        "--lift-limits",
        action="store_true",
        help="start the local API with every throttle lifted, to measure capacity (printed)",
    )
    p.add_argument(
        "--rate",
        type=float,
        help="send at this many requests/s in all (default: as fast as the answers come)",
    )
    p.add_argument("--audit-timeout", type=float, default=60, help="seconds to wait for S3")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", type=Path, help="write the report here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS:
        print(f"load: error: --requests must be 1-{MAX_REQUESTS}", file=sys.stderr)
        return 2
    if not 1 <= args.concurrency <= 256 or not 0 < args.max_seconds <= MAX_SECONDS:
        print(
            f"load: error: --concurrency 1-256, --max-seconds up to {MAX_SECONDS}", file=sys.stderr
        )
        return 2
    if args.rate is not None and not 0 < args.rate <= 10_000:
        print("load: error: --rate must be above 0 and at most 10000", file=sys.stderr)
        return 2
    if args.info_file and args.lift_limits:
        print("load: error: --lift-limits applies to a local API this run starts", file=sys.stderr)
        return 2
    own: LocalApiChild | None = None
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        try:
            if args.info_file:
                info = json.loads(args.info_file.read_text())
            else:
                lifted = ["--rate-limit", "1000000", "--burst-limit", "1000000"]
                own = LocalApiChild(Path(tmp), "--quiet", *(lifted if args.lift_limits else []))
                try:
                    info = own.start()
                except LocalApiStartError as error:
                    raise SystemExit(f"load: {error}") from None
            target = _target(info)
            run = LoadRun(
                target, args.requests, args.concurrency, args.max_seconds, args.seed, args.rate
            )
            wall = run.run()
            checks = run.verify(args.audit_timeout)
        finally:
            if own is not None:
                own.stop()
    report = run.report(wall, checks)
    report["machine"] = machine()
    report["lifted_limits"] = bool(args.lift_limits)
    report["paced_rps"] = args.rate
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0 if checks["passed"] else 1


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def print_report(report: dict[str, Any]) -> None:
    latency = report["latency_ms"]
    checks = report["verification"]
    print(
        f"{report['requests']} requests at concurrency {report['concurrency']}"
        + (f", paced at {report['paced_rps']:g}/s," if report["paced_rps"] else "")
        + " in "
        f"{report['seconds']:.1f} s: {report['throughput_rps']:.1f} requests/s"
    )
    print(
        f"latency ms: p50 {latency['p50']}  p95 {latency['p95']}  p99 {latency['p99']}  "
        f"max {latency['max']}"
    )
    print("limits: " + ("; ".join(report["limits"]) or "none"))
    print("by kind: " + ", ".join(f"{k} {v}" for k, v in report["by_kind"].items()))
    print("by status: " + ", ".join(f"{k}: {v}" for k, v in report["by_status_and_code"].items()))
    print(
        f"accepted {checks['accepted_payments']} == table items {checks['items_in_table']} == "
        f"audit objects {checks['audit_objects']}; replays {checks['replays_answered']} "
        f"(new items from replays: {checks['replays_that_wrote_an_item']}); "
        f"5xx {checks['responses_5xx']}; unexpected {checks['unexpected_status']}"
    )
    print("verification: " + ("PASSED" if checks["passed"] else "FAILED"))


if __name__ == "__main__":
    sys.exit(main())
