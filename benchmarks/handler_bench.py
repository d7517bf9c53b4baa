"""Benchmarks of the payment processor (not part of the test run).

1. Request path: median time of ``POST /process`` through ``handler.app.lambda_handler`` against
   one raw conditional ``PutItem`` of the same kind of item, on the same moto table, in one run,
   interleaved so that drift affects both alike. Goal: ratio <= 1.2 (one write, nothing else).
2. Cold start: ``import handler.app`` in a fresh interpreter (which builds its DynamoDB client
   at load) against ``import boto3`` plus creating one DynamoDB client. Goal: ratio <= 1.2.

Run: ``.venv/bin/python benchmarks/handler_bench.py [--requests N] [--cold-starts N]``.
Writes ``benchmarks/results/handler.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "handler.json"
GOAL = 1.2
REGION = "us-east-1"
TABLE = "payment-bench-payments"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "TABLE_NAME": TABLE,
    "AUDIT_BUCKET": "payment-bench-audit",
    "ENVIRONMENT_SUFFIX": "bench",
}
BODY = json.dumps(
    {"amount": "12.50", "currency": "USD", "customer_id": "cust_123", "payment_method": "card"}
)


class Context:
    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())


def request_path(samples: int, warmup: int = 100) -> dict[str, Any]:
    os.environ.update(ENVIRONMENT)
    from moto import mock_aws

    with mock_aws():
        import boto3

        from handler import app
        from handler.config import dynamodb_client
        from handler.payments import new_payment
        from handler.validation import validate_payment

        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        app.reset_runtime()
        raw_client = dynamodb_client(REGION)  # same configuration as the handler's client

        def event() -> dict[str, Any]:
            return {
                "resource": "/process",
                "path": "/process",
                "httpMethod": "POST",
                "headers": {
                    "Idempotency-Key": uuid.uuid4().hex,
                    "Content-Type": "application/json",
                },
                "requestContext": {"requestId": str(uuid.uuid4()), "identity": {"apiKeyId": "k"}},
                "body": BODY,
                "isBase64Encoded": False,
            }

        def item() -> dict[str, Any]:
            request = validate_payment(json.loads(BODY), (uuid.uuid4().hex,))
            return new_payment(
                request,
                api_key_id="k",
                client_id="c",
                request_id=str(uuid.uuid4()),
                now=datetime.now(UTC),
            ).item

        def raw_put(payment: dict[str, Any]) -> None:
            raw_client.put_item(
                TableName=TABLE,
                Item=payment,
                ConditionExpression="attribute_not_exists(payment_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )

        handler_times: list[float] = []
        raw_times: list[float] = []
        # The handler prints one log line per request: keep the formatting cost, drop the text.
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for index in range(warmup + samples):
                request, payment, context = event(), item(), Context()
                started = time.perf_counter()
                response = app.lambda_handler(request, context)
                handler_elapsed = time.perf_counter() - started
                assert response["statusCode"] == 201, response
                started = time.perf_counter()
                raw_put(payment)
                raw_elapsed = time.perf_counter() - started
                if index >= warmup:
                    handler_times.append(handler_elapsed)
                    raw_times.append(raw_elapsed)

    handler_median = statistics.median(handler_times)
    raw_median = statistics.median(raw_times)
    return {
        "samples": samples,
        "warmup": warmup,
        "handler_median_ms": round(handler_median * 1000, 4),
        "handler_p90_ms": round(_percentile(handler_times, 0.9) * 1000, 4),
        "raw_put_item_median_ms": round(raw_median * 1000, 4),
        "raw_put_item_p90_ms": round(_percentile(raw_times, 0.9) * 1000, 4),
        "ratio": round(handler_median / raw_median, 3),
        "goal": GOAL,
    }


COLD_HANDLER = (
    "import time; t = time.perf_counter(); import handler.app; print(time.perf_counter() - t)"
)
COLD_BASELINE = (
    "import time; t = time.perf_counter(); import boto3; "
    "boto3.client('dynamodb', region_name='us-east-1'); print(time.perf_counter() - t)"
)


def cold_start(samples: int, warmup: int = 3) -> dict[str, Any]:
    """Median import cost in fresh interpreters, measured inside each child (interpreter
    start-up is the same for both and excluded; whole-process wall time is reported too).

    The same pair is also run with the garbage collector disabled: the handler's few extra
    module objects can tip CPython into one full collection during init, which explains most
    of the difference and is worth seeing separately.
    """
    env = {**os.environ, **ENVIRONMENT, "PYTHONPATH": str(REPO)}
    variants = {
        "handler": COLD_HANDLER,
        "baseline": COLD_BASELINE,
        "handler_no_gc": "import gc; gc.disable(); " + COLD_HANDLER,
        "baseline_no_gc": "import gc; gc.disable(); " + COLD_BASELINE,
    }
    inner: dict[str, list[float]] = {name: [] for name in variants}
    wall: dict[str, list[float]] = {name: [] for name in variants}
    for index in range(warmup + samples):  # interleaved: all see the same machine state
        for name, code in variants.items():
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
            elapsed = time.perf_counter() - started
            if index >= warmup:
                inner[name].append(float(out.strip().splitlines()[-1]))
                wall[name].append(elapsed)
    median = {name: statistics.median(values) for name, values in inner.items()}
    return {
        "samples": samples,
        "warmup": warmup,
        "import_handler_app_median_ms": round(median["handler"] * 1000, 2),
        "import_boto3_plus_client_median_ms": round(median["baseline"] * 1000, 2),
        "ratio": round(median["handler"] / median["baseline"], 3),
        "process_wall_handler_median_ms": round(statistics.median(wall["handler"]) * 1000, 2),
        "process_wall_baseline_median_ms": round(statistics.median(wall["baseline"]) * 1000, 2),
        "gc_disabled": {
            "import_handler_app_median_ms": round(median["handler_no_gc"] * 1000, 2),
            "import_boto3_plus_client_median_ms": round(median["baseline_no_gc"] * 1000, 2),
            "ratio": round(median["handler_no_gc"] / median["baseline_no_gc"], 3),
        },
        "goal": GOAL,
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests (default 2000)")
    parser.add_argument("--cold-starts", type=int, default=25, help="fresh interpreters each")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": {name: _version(name) for name in ("boto3", "botocore", "moto")},
        "request_path": request_path(args.requests),
        "cold_start": cold_start(args.cold_starts),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    path, cold = results["request_path"], results["cold_start"]
    no_gc = cold["gc_disabled"]
    rows = [
        ("request path", "POST /process", path["handler_median_ms"],
         "raw PutItem", path["raw_put_item_median_ms"], path["ratio"], path["samples"]),
        ("cold start", "import handler.app", cold["import_handler_app_median_ms"],
         "boto3 + client", cold["import_boto3_plus_client_median_ms"], cold["ratio"],
         cold["samples"]),
        ("  (GC off)", "import handler.app", no_gc["import_handler_app_median_ms"],
         "boto3 + client", no_gc["import_boto3_plus_client_median_ms"], no_gc["ratio"],
         cold["samples"]),
    ]  # fmt: skip
    print(f"{'benchmark':<13} {'measured':<19} {'median ms':>10}  {'baseline':<15} "
          f"{'median ms':>10} {'ratio':>6}  {'goal':<8} {'n':>5}")  # fmt: skip
    for name, what, value, base, base_value, ratio, n in rows:
        verdict = f"<={GOAL} " + ("ok" if ratio <= GOAL else "MISSED")
        print(f"{name:<13} {what:<19} {value:>10.3f}  {base:<15} {base_value:>10.3f} "
              f"{ratio:>6.3f}  {verdict:<8} {n:>5}")  # fmt: skip
    shown = args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out
    print(f"python {results['python']} on {results['machine']}, {results['cpu_count']} CPUs; "
          f"figures in {shown}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
