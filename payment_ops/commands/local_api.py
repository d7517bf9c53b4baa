"""``python scripts/local_api.py``: the payment API on 127.0.0.1, from the real templates.

Starts the local AWS emulator (or uses ``--endpoint-url``), deploys the stack sets into it with
the real deploy code, then serves the REST API *as deployed* there: its routes, their
authorization (``POST /process`` verifies the caller's Signature Version 4 signature), the
stage's throttling and the gateway responses; each request becomes an API Gateway proxy event
for the deployed function's handler, run in this process with the function's environment. The
table's stream drives the audit writer. Prints the base URL, the (throw-away) credentials of a
session of the client ``local`` and a signed ``curl`` to try; Ctrl-C stops everything.
Exit 0 after Ctrl-C, 2 on bad arguments or a busy port, 1 when the deploy fails.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from payment_ops.localapi.body import DEFAULT_TIMEOUT_S
from payment_ops.localapi.server import STATE_DIR, LocalApi, StartError, options_from
from templates_src import config as config_module
from templates_src.cli import OneLineParser


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def parser(prog: str = "payment-local-api") -> argparse.ArgumentParser:
    p = OneLineParser(prog=prog, description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=8080, help="HTTP port on 127.0.0.1 (default 8080)")
    p.add_argument(
        "--endpoint-url",
        help="use this running emulator (scripts/local_aws.py) instead of starting one",
    )
    p.add_argument(
        "--emulator-port",
        type=int,
        default=5000,
        help="port of the emulator this command starts (default 5000; 0 picks a free one)",
    )
    p.add_argument("--environment-suffix", default="local", help="default local")
    p.add_argument("--primary-region", help="default us-east-1")
    p.add_argument("--replica-regions", help="comma-separated, default us-west-2")
    p.add_argument(
        "--region",
        help="serve this region's API: the primary (default) or a replica region's standby",
    )
    p.add_argument(
        "--build-dir",
        type=Path,
        default=STATE_DIR / "build",
        help="build folder for this deployment (default build/local-api/build)",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        help="replace every deployed throttle with this rate (requests/s); printed at start. "
        "For capacity measurements: the deployed limits are what AWS enforces",
    )
    p.add_argument("--burst-limit", type=int, help="burst for --rate-limit")
    p.add_argument(
        "--function-logs",
        default="-",
        help="where the functions' JSON log lines go: - (stdout, default), off, or a file",
    )
    p.add_argument(
        "--read-timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds a client has to send a request's whole body, else 400 and nothing "
        f"reaches the function (default {DEFAULT_TIMEOUT_S:g})",
    )
    p.add_argument("--quiet", action="store_true", help="no access log line per request")
    p.add_argument("--info-file", type=Path, help="write URL, credentials and names here as JSON")
    return p


def _check_configuration(args: argparse.Namespace) -> None:
    """The build's own configuration rules (suffix, regions), checked here so that a bad value
    is one line and exit 2 instead of a failed deploy; ``--region`` must be one of them."""
    config = config_module.from_inputs(
        environment_suffix=args.environment_suffix,
        primary_region=args.primary_region,
        replica_regions=args.replica_regions,
    )
    if args.region is not None and args.region not in config.regions:
        raise config_module.ConfigError(
            f"--region {args.region!r} is not a region of this deployment "
            f"({', '.join(config.regions)})"
        )


def main(argv: Sequence[str] | None = None, *, prog: str = "payment-local-api") -> int:
    args = parser(prog).parse_args(argv)
    if not 0 <= args.port <= 65535 or not 0 <= args.emulator_port <= 65535:
        print("local_api: error: ports are 0-65535", file=sys.stderr)
        return 2
    try:
        _check_configuration(args)
    except config_module.ConfigError as error:
        # Before the emulator starts or anything is deployed: a bad value changes nothing.
        print(f"local_api: error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    # SIGTERM ends the run as Ctrl-C does (a supervisor, a test harness); SIGINT is restored
    # in case the shell started us in the background with it ignored.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.default_int_handler)
    local_api = LocalApi(options_from(args))
    try:
        local_api.start()
    except OSError as error:
        print(f"local_api: error: cannot listen on 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return 2
    except StartError as error:
        print(f"local_api: error: {error}", file=sys.stderr)
        return 1 if str(error).startswith("deploy failed") else 2
    except KeyboardInterrupt:
        print("local_api: interrupted while starting; stopped", file=sys.stderr)
        return 130
    try:
        if args.info_file:
            args.info_file.parent.mkdir(parents=True, exist_ok=True)
            args.info_file.write_text(json.dumps(local_api.info(), indent=2) + "\n")
        print(local_api.banner(), flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        local_api.stop()
        print("stopped", flush=True)
    return 0
