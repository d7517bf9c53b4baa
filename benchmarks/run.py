"""Every benchmark of the project in one run: ``benchmarks/results.json`` and a readable table.

Runs, each as its own process with this interpreter, one after the other (never in parallel, so
that none steals CPU from another's measurement):

1. ``build_vs_lint.py`` - ``templates_src build`` against bare cfn-lint over the same templates;
2. ``handler_bench.py`` - ``import handler.app`` against boto3 + one client; ``POST /process``
   through the handler against one raw conditional PutItem;
3. ``deploy_figures.py`` - stack set operations and API calls of deploy.py for a first deploy,
   a no-op redeploy and a code-only change, against the emulator;
4. ``load.py`` three times, each against a fresh local API: with the deployed throttling as
   fast as answers come (most requests are 429s, which must write nothing), paced at 45 req/s
   (under the deployed 50/s: what a well-behaved client meets), and with the throttling lifted
   (the local stack's capacity; printed as such).

Each benchmark measures its ratios side by side in one run and reports medians; the machine
is recorded. Not part of the test run (minutes, and the figures depend on the machine).

    .venv/bin/python benchmarks/run.py            # the full run, a few minutes
    .venv/bin/python benchmarks/run.py --quick    # tiny sizes: checks the plumbing only

Exit 0 when every benchmark ran and every load test verified, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS_DIR = BENCH / "results"
SUMMARY = BENCH / "results.json"


def _steps(quick: bool, out: Path) -> list[tuple[str, list[str], Path]]:
    """name, arguments after the script, the JSON file it writes."""
    load_n = ["--requests", "100", "--concurrency", "4"] if quick else []
    return [
        (
            "build_vs_lint",
            ["build_vs_lint.py", "--runs", "1" if quick else "5"],
            RESULTS_DIR / "build_vs_lint.json",
        ),
        (
            "handler",
            ["handler_bench.py", "--requests", "200" if quick else "2000"]
            + ["--cold-starts", "3" if quick else "25", "--out", str(out / "handler.json")],
            out / "handler.json",
        ),
        ("deploy", ["deploy_figures.py", "--json", str(out / "deploy.json")], out / "deploy.json"),
        ("load", ["load.py", *load_n, "--json", str(out / "load.json")], out / "load.json"),
        (
            "load_paced",
            ["load.py", "--rate", "45", *load_n, "--json", str(out / "load_paced.json")],
            out / "load_paced.json",
        ),
        (
            "load_lifted",
            ["load.py", "--lift-limits", *load_n, "--json", str(out / "load_lifted.json")],
            out / "load_lifted.json",
        ),
    ]


def run(quick: bool, only: set[str] | None) -> tuple[dict[str, Any], bool]:
    out = RESULTS_DIR if not quick else Path(os.environ.get("TMPDIR", "/tmp")) / "bench-quick"
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    figures: dict[str, Any] = {}
    ok = True
    for name, argv, result in _steps(quick, out):
        if only and name not in only:
            continue
        if quick and name == "build_vs_lint":
            continue  # it always writes benchmarks/results/; a quick run must not overwrite it
        print(f"== {name}: {' '.join(argv)}", flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(BENCH / argv[0]), *argv[1:]],
            cwd=ROOT,
            env=env,
            text=True,
            capture_output=True,
            timeout=1800,
        )
        seconds = round(time.perf_counter() - started, 1)
        print(done.stdout.rstrip(), flush=True)
        if done.returncode != 0:
            ok = False
            print(done.stderr.rstrip()[-3000:], file=sys.stderr, flush=True)
        try:
            data = json.loads(result.read_text())
        except (OSError, ValueError):
            data = None
            ok = False
        figures[name] = {
            "exit_code": done.returncode,
            "seconds": seconds,
            "file": str(result.relative_to(ROOT)) if result.is_relative_to(ROOT) else str(result),
            "figures": data,
        }
    return figures, ok


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of each benchmark, for the table and for results.json."""
    rows: dict[str, Any] = {}
    lint = (figures.get("build_vs_lint") or {}).get("figures")
    if lint:
        rows["build_vs_lint"] = _build_vs_lint_row(lint)
    handler = (figures.get("handler") or {}).get("figures")
    if handler:
        rows.update(_handler_rows(handler))
    deploy = (figures.get("deploy") or {}).get("figures")
    if deploy:
        rows.update(_deploy_rows(deploy))
    for name in ("load", "load_paced", "load_lifted"):
        load = (figures.get(name) or {}).get("figures")
        if load:
            rows[name] = _load_row(load)
    return rows


def _build_vs_lint_row(lint: dict[str, Any]) -> dict[str, Any]:
    """The goals are build_vs_lint.py's own, as it recorded them."""
    median, goal = lint["median_seconds"], lint["goal_ratio_to_bare_cfn_lint"]
    return {
        "bare_cfn_lint_median_s": median["bare_cfn_lint"],
        "first_build_median_s": median["first_build"],
        "noop_build_median_s": median["noop_build"],
        "ratio_first_build": lint["ratio_to_bare_cfn_lint"]["first_build"],
        "ratio_noop_build": lint["ratio_to_bare_cfn_lint"]["noop_build"],
        "runs": lint["runs"],
        "goal_first_build": f"<= {goal['first_build']}",
        "goal_noop_build": f"<= {goal['noop_build']}",
    }


def _handler_rows(handler: dict[str, Any]) -> dict[str, Any]:
    """The cold start and the request path rows, in that order, with handler_bench.py's goals."""
    path, cold = handler["request_path"], handler["cold_start"]
    return {
        "cold_start": {
            "import_handler_app_median_ms": cold["import_handler_app_median_ms"],
            "import_boto3_plus_client_median_ms": cold["import_boto3_plus_client_median_ms"],
            "ratio": cold["ratio"],
            "samples": cold["samples"],
            "goal": f"<= {cold['goal']}",
        },
        "request_path": {
            "handler_median_ms": path["handler_median_ms"],
            "raw_put_item_median_ms": path["raw_put_item_median_ms"],
            "ratio": path["ratio"],
            "samples": path["samples"],
            "goal": f"<= {path['goal']}",
        },
    }


def _deploy_rows(deploy: dict[str, Any]) -> dict[str, Any]:
    """One row per deploy run present, then the emulator's type coverage."""
    rows: dict[str, Any] = {}
    for label in ("first deploy", "no-op redeploy", "code-only change"):
        if label in deploy:
            entry = deploy[label]
            rows[f"deploy: {label}"] = {
                "stack_set_operations": entry["stack_set_operations"],
                "api_calls": entry["api_calls"],
                "seconds": entry["seconds"],
            }
    if "emulator_type_coverage" in deploy:
        rows["emulator_type_coverage"] = deploy["emulator_type_coverage"]
    return rows


def _load_row(load: dict[str, Any]) -> dict[str, Any]:
    checks = load["verification"]
    return {
        "requests": load["requests"],
        "concurrency": load["concurrency"],
        "throughput_rps": load["throughput_rps"],
        "p50_ms": load["latency_ms"]["p50"],
        "p95_ms": load["latency_ms"]["p95"],
        "p99_ms": load["latency_ms"]["p99"],
        "throttled_429": sum(
            n for code, n in load["by_status_and_code"].items() if code.startswith("429")
        ),
        "accepted": checks["accepted_payments"],
        "items": checks["items_in_table"],
        "audit_objects": checks["audit_objects"],
        "responses_5xx": checks["responses_5xx"],
        "verified": checks["passed"],
        "limits": load["limits"],
        "paced_rps": load.get("paced_rps"),
    }


def table(rows: dict[str, Any]) -> str:
    lines = [f"{'benchmark':<28} {'measured':<36} {'baseline / detail':<40} {'ratio':>6}  goal"]

    def add(name: str, measured: str, baseline: str, ratio: str = "", goal: str = "") -> None:
        lines.append(f"{name:<28} {measured:<36} {baseline:<40} {ratio:>6}  {goal}")

    if "build_vs_lint" in rows:
        r = rows["build_vs_lint"]
        add("first build vs cfn-lint", f"first build {r['first_build_median_s']:.2f} s",
            f"bare cfn-lint {r['bare_cfn_lint_median_s']:.2f} s",
            f"{r['ratio_first_build']:.2f}", r["goal_first_build"])  # fmt: skip
        add("no-op build vs cfn-lint", f"no-op build {r['noop_build_median_s']:.2f} s",
            f"bare cfn-lint {r['bare_cfn_lint_median_s']:.2f} s",
            f"{r['ratio_noop_build']:.3f}", r["goal_noop_build"])  # fmt: skip
    if "cold_start" in rows:
        r = rows["cold_start"]
        add("cold start (import)", f"handler.app {r['import_handler_app_median_ms']:.1f} ms",
            f"boto3 + one client {r['import_boto3_plus_client_median_ms']:.1f} ms",
            f"{r['ratio']:.2f}", r["goal"])  # fmt: skip
    if "request_path" in rows:
        r = rows["request_path"]
        add("request path", f"POST /process {r['handler_median_ms']:.2f} ms",
            f"raw conditional PutItem {r['raw_put_item_median_ms']:.2f} ms",
            f"{r['ratio']:.2f}", r["goal"])  # fmt: skip
    for label in ("first deploy", "no-op redeploy", "code-only change"):
        r = rows.get(f"deploy: {label}")
        if r:
            add(f"deploy: {label}",
                f"{r['stack_set_operations']} stack set operations",
                f"{r['api_calls']} AWS API calls, {r['seconds']:.2f} s", "",
                "0 operations" if label == "no-op redeploy" else "")  # fmt: skip
    if "emulator_type_coverage" in rows:
        r = rows["emulator_type_coverage"]
        add("emulator type coverage", f"{r['created']}/{r['declared']} types created",
            f"{r['percent']} %")  # fmt: skip
    for name, label in (
        ("load", "load, deployed limits"),
        ("load_paced", "load, paced 45/s, deployed"),
        ("load_lifted", "load, limits lifted"),
    ):
        r = rows.get(name)
        if r:
            add(label, f"{r['requests']} req, c={r['concurrency']}: {r['throughput_rps']} req/s",
                f"p50 {r['p50_ms']} / p95 {r['p95_ms']} / p99 {r['p99_ms']} ms")  # fmt: skip
            add("", f"429: {r['throttled_429']}, 5xx: {r['responses_5xx']}",
                f"accepted {r['accepted']} = items {r['items']} = audit {r['audit_objects']}",
                "", "verified" if r["verified"] else "NOT VERIFIED")  # fmt: skip
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    versions = {}
    for name in ("boto3", "botocore", "moto", "cfn-lint", "troposphere"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes; results not kept")
    parser.add_argument(
        "--only",
        help="comma-separated: build_vs_lint, handler, deploy, load, load_paced, load_lifted",
    )
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",")} if args.only else None
    started = time.perf_counter()
    figures, ok = run(args.quick, only)
    rows = summary(figures)
    rendered = table(rows)
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "quick": args.quick,
        "summary": rows,
        "runs": {
            name: {k: v for k, v in entry.items() if k != "figures"}
            for name, entry in figures.items()
        },
        "table": rendered.splitlines(),
    }
    print()
    print(rendered)
    m = result["machine"]
    print(f"python {m['python']} on {m['platform']}, {m['cpus']} CPUs; {result['seconds']} s")
    if not args.quick and not only:
        SUMMARY.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(f"written to {SUMMARY.relative_to(ROOT)}")
    return 0 if ok and all(r.get("verified", True) for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
