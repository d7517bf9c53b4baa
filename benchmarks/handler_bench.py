"""Benchmarks of the payment processor (not part of the test run).

1. Request path: median time of ``POST /process`` through ``handler.app.lambda_handler`` against
   one raw conditional ``PutItem`` of the same item (built by the same code, same size), on the
   same moto table, in one run, interleaved so that drift affects both alike. Goal: ratio
   <= 1.15 against the PutItem the handler itself sends (same client configuration, condition
   and ``ReturnValuesOnConditionCheckFailure``). Also reported, without a goal: against a bare
   conditional put (a default boto3 client, the condition only).
2. Cold start: ``import handler.app`` in a fresh interpreter (which builds its DynamoDB client
   at load and checks its service model) against ``import boto3`` plus creating one DynamoDB
   client. Goal: ratio <= 1.2.
3. Validation cost: the most expensive bodies that can be built within the 16 KiB limit
   (each answered 400, or 201 where the body is valid), median time through
   ``lambda_handler`` against a normal accepted request including its write. Goal: the worst
   <= 3x.

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

from templates_src import names

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "handler.json"
GOAL = 1.2
REQUEST_PATH_GOAL = 1.15
VALIDATION_GOAL = 3.0
REGION = "us-east-1"
SUFFIX = "bench"
TABLE = names.table(SUFFIX)
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "TABLE_NAME": TABLE,
    "AUDIT_BUCKET": names.resource(SUFFIX, names.AUDIT_BUCKET),
    "ENVIRONMENT_SUFFIX": SUFFIX,
    "CLIENT_AUTH": "iam",
    "CLIENT_ROLE_PREFIX": names.client_role(SUFFIX, ""),
}
# What API Gateway puts in identity.userArn for a signed request of the client "shop".
CLIENT_SESSION_ARN = f"arn:aws:sts::123456789012:assumed-role/{names.client_role(SUFFIX, 'shop')}/s"
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

        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        app.reset_runtime()
        raw_client = dynamodb_client(REGION)  # same configuration as the handler's client
        bare_client = boto3.client("dynamodb", region_name=REGION)
        handler_times, raw_times, bare_times = _time_request_path(
            app, raw_client, bare_client, samples, warmup
        )

    handler_median = statistics.median(handler_times)
    raw_median = statistics.median(raw_times)
    bare_median = statistics.median(bare_times)
    return {
        "samples": samples,
        "warmup": warmup,
        "handler_median_ms": round(handler_median * 1000, 4),
        "handler_p90_ms": round(_percentile(handler_times, 0.9) * 1000, 4),
        "raw_put_item_median_ms": round(raw_median * 1000, 4),
        "raw_put_item_p90_ms": round(_percentile(raw_times, 0.9) * 1000, 4),
        "ratio": round(handler_median / raw_median, 3),
        "bare_conditional_put_median_ms": round(bare_median * 1000, 4),
        "ratio_to_bare_conditional_put": round(handler_median / bare_median, 3),
        "goal": REQUEST_PATH_GOAL,
    }


def _time_request_path(
    app: Any, raw_client: Any, bare_client: Any, samples: int, warmup: int
) -> tuple[list[float], list[float], list[float]]:
    """Seconds of each request through the handler, each PutItem as the handler sends it and
    each bare conditional put, one of each per round (interleaved, so that drift affects all
    alike), the first ``warmup`` rounds left out."""
    handler_times: list[float] = []
    raw_times: list[float] = []
    bare_times: list[float] = []
    # The handler prints one log line per request: keep the formatting cost, drop the text.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for index in range(warmup + samples):
            request, payment, bare, context = _event(), _item(), _item(), Context()
            started = time.perf_counter()
            response = app.lambda_handler(request, context)
            handler_elapsed = time.perf_counter() - started
            assert response["statusCode"] == 201, response
            started = time.perf_counter()
            _raw_put(raw_client, payment)
            raw_elapsed = time.perf_counter() - started
            started = time.perf_counter()
            _bare_put(bare_client, bare)
            bare_elapsed = time.perf_counter() - started
            if index >= warmup:
                handler_times.append(handler_elapsed)
                raw_times.append(raw_elapsed)
                bare_times.append(bare_elapsed)
    return handler_times, raw_times, bare_times


def _event() -> dict[str, Any]:
    """``POST /process`` as API Gateway passes a signed request of the client "shop"."""
    return {
        "resource": "/process",
        "path": "/process",
        "httpMethod": "POST",
        "headers": {
            "Idempotency-Key": uuid.uuid4().hex,
            "Content-Type": "application/json",
        },
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "identity": {"userArn": CLIENT_SESSION_ARN},
        },
        "body": BODY,
        "isBase64Encoded": False,
    }


def _item() -> dict[str, Any]:
    """A new item for ``BODY``, built by the handler's own code (so of the handler's size)."""
    from handler.payments import new_payment
    from handler.validation import validate_payment

    request = validate_payment(json.loads(BODY), (uuid.uuid4().hex,))
    return new_payment(
        request,
        client_id="c",
        request_id=str(uuid.uuid4()),
        now=datetime.now(UTC),
    ).item


def _raw_put(client: Any, payment: dict[str, Any]) -> None:
    """The PutItem the handler sends: its condition and ``ReturnValuesOnConditionCheckFailure``."""
    client.put_item(
        TableName=TABLE,
        Item=payment,
        ConditionExpression="attribute_not_exists(payment_id)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _bare_put(client: Any, payment: dict[str, Any]) -> None:
    client.put_item(
        TableName=TABLE,
        Item=payment,
        ConditionExpression="attribute_not_exists(payment_id)",
    )


def _unknown_members(value: str) -> str:
    members, size = [], 2
    for index in range(10_000):
        member = f'"{index:x}":{value}'
        if size + len(member) + 1 > MAX_BODY:
            break
        members.append(member)
        size += len(member) + 1
    return "{" + ",".join(members) + "}"


MAX_BODY = 16 * 1024
NORMAL = json.loads(BODY)
# The most expensive bodies found within the 16 KiB limit, one per part of the parser and
# validator. Each is checked to fit the limit, so the handler does the work instead of a 413.
WORST_BODIES = {
    "amount: 16,250 digits then a letter (was 1.3 s)": json.dumps(
        {**NORMAL, "amount": "1" * 16_250 + "a"}
    ),
    "unknown members filling 16 KiB": _unknown_members("0"),
    "empty arrays filling 16 KiB": "[" + "[]," * 5_459 + "[]]",
    "16,000 open brackets": "[" * 16_000,
    "empty objects filling 16 KiB": "[" + "{}," * 5_459 + "{}]",
    "8,000 one-digit numbers": "[" + ",".join(["1"] * 8_000) + "]",
    "description of 128 one-digit groups (card scan)": json.dumps(
        {**NORMAL, "description": "1 " * 128}
    ),
    "16,000-digit number": '{"amount": ' + "1" * 16_000 + "}",
    "a string of 2,600 escaped characters": json.dumps({**NORMAL, "x": "\u00e9" * 2_600}),
    "16,000 spaces after a valid body": BODY + " " * 16_000,
}


def validation_cost(samples: int, warmup: int = 10) -> dict[str, Any]:
    os.environ.update(ENVIRONMENT)
    from moto import mock_aws

    with mock_aws():
        import boto3

        from handler import app

        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
        )
        app.reset_runtime()
        bodies = {"normal request (201, one write)": BODY, **WORST_BODIES}
        times: dict[str, list[float]] = {name: [] for name in bodies}
        statuses: dict[str, int] = {}
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for index in range(warmup + samples):  # interleaved, like the request path
                for name, body in bodies.items():
                    assert len(body.encode()) <= MAX_BODY, name
                    event = {
                        "resource": "/process",
                        "path": "/process",
                        "httpMethod": "POST",
                        "headers": {"Idempotency-Key": uuid.uuid4().hex},
                        "requestContext": {"requestId": str(uuid.uuid4())},
                        "body": body,
                        "isBase64Encoded": False,
                    }
                    started = time.perf_counter()
                    response = app.lambda_handler(event, Context())
                    elapsed = time.perf_counter() - started
                    statuses[name] = response["statusCode"]
                    if index >= warmup:
                        times[name].append(elapsed)
    normal = statistics.median(times["normal request (201, one write)"])
    cases = {
        name: {
            "status": statuses[name],
            "median_ms": round(statistics.median(values) * 1000, 4),
            "ratio": round(statistics.median(values) / normal, 3),
        }
        for name, values in times.items()
    }
    worst = max(WORST_BODIES, key=lambda name: cases[name]["ratio"])
    return {
        "samples": samples,
        "warmup": warmup,
        "normal_median_ms": round(normal * 1000, 4),
        "worst_case": worst,
        "worst_ratio": cases[worst]["ratio"],
        "cases": cases,
        "goal": VALIDATION_GOAL,
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
    parser.add_argument("--validation", type=int, default=200, help="timed rounds of bodies")
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
        "validation_cost": validation_cost(args.validation),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    path, cold = results["request_path"], results["cold_start"]
    no_gc, checks = cold["gc_disabled"], results["validation_cost"]
    rows = [
        ("request path", "POST /process", path["handler_median_ms"],
         "handler's PutItem", path["raw_put_item_median_ms"], path["ratio"], REQUEST_PATH_GOAL,
         path["samples"]),
        ("  (bare put)", "POST /process", path["handler_median_ms"],
         "bare cond. put", path["bare_conditional_put_median_ms"],
         path["ratio_to_bare_conditional_put"], None, path["samples"]),
        ("cold start", "import handler.app", cold["import_handler_app_median_ms"],
         "boto3 + client", cold["import_boto3_plus_client_median_ms"], cold["ratio"], GOAL,
         cold["samples"]),
        ("  (GC off)", "import handler.app", no_gc["import_handler_app_median_ms"],
         "boto3 + client", no_gc["import_boto3_plus_client_median_ms"], no_gc["ratio"], GOAL,
         cold["samples"]),
        ("validation", "worst body", checks["cases"][checks["worst_case"]]["median_ms"],
         "normal request", checks["normal_median_ms"], checks["worst_ratio"], VALIDATION_GOAL,
         checks["samples"]),
    ]  # fmt: skip
    print(f"{'benchmark':<13} {'measured':<19} {'median ms':>10}  {'baseline':<17} "
          f"{'median ms':>10} {'ratio':>6}  {'goal':<10} {'n':>5}")  # fmt: skip
    for name, what, value, base, base_value, ratio, goal, n in rows:
        verdict = "-" if goal is None else f"<={goal} " + ("ok" if ratio <= goal else "MISSED")
        print(f"{name:<13} {what:<19} {value:>10.3f}  {base:<17} {base_value:>10.3f} "
              f"{ratio:>6.3f}  {verdict:<10} {n:>5}")  # fmt: skip
    print(f"worst body: {checks['worst_case']}")
    shown = args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out
    print(f"python {results['python']} on {results['machine']}, {results['cpu_count']} CPUs; "
          f"figures in {shown}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
