"""``python scripts/failover_drill.py``: a failover drill for the payment API's Route 53 pair.

Reads the deployment (stack set parameters and outputs), checks the failover record pair, inverts
the primary region's health check so Route 53 fails the domain over to the SECONDARY record,
shows that the secondary region serves, and always puts the check back (also on Ctrl-C/SIGTERM).

Modes: by default it starts its own emulator, creates the hosted zone, deploys with the domain
and drills there (one self-contained command); ``--endpoint-url URL`` drills an emulator
deployment that exists; ``--aws`` drills the real account of the configured credentials. In AWS
the domain itself is probed (``GET https://<domain>/health`` until the secondary region answers,
then the primary again, both timed); in an emulator, with no DNS, payments go to the secondary
region's API through the local API Gateway and are followed into its table and audit bucket.

Exit 0 when every check passed; 1 when a check failed or the pair is not as deployed (then
nothing changed); 2 on bad arguments, or when the primary check is already inverted (a drill is
running or was killed: ``--restore`` puts it back); 130 on Ctrl-C/SIGINT, 143 on SIGTERM (the
check restored first).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from payment_ops import paths
from payment_ops.commands import exits
from payment_ops.deployment import arguments, deploy, names
from payment_ops.deployment.aws import Aws
from payment_ops.deployment.errors import DeployError
from payment_ops.drill import discovery
from payment_ops.drill.steps import (
    EXIT_USAGE,
    Hooks,
    drill,
    restore,
)
from templates_src import config as config_module
from templates_src import routing
from templates_src.cli import OneLineParser, add_config_arguments, config_from

DEFAULT_DOMAIN = "pay.example.com"
STATE_DIR = paths.project_dir() / "build" / "failover-drill"
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DROPPED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
__all__ = ["Hooks", "drill", "main", "parser", "restore"]


def parser(prog: str = "payment-drill") -> argparse.ArgumentParser:
    p = OneLineParser(prog=prog, description=__doc__.split("\n")[0])
    add_config_arguments(p, replica_help="the first is the secondary region")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint-url",
        type=arguments.endpoint_url,
        help="drill a deployment in this running emulator",
    )
    where.add_argument(
        "--aws", action="store_true", help="drill the real account of the configured credentials"
    )
    p.add_argument(
        "--domain-name",
        default=DEFAULT_DOMAIN,
        help=f"own emulator only: the domain to deploy with (default {DEFAULT_DOMAIN}, its "
        "hosted zone is the parent domain)",
    )
    p.add_argument(
        "--build-dir",
        type=Path,
        default=STATE_DIR / "build",
        help="own emulator only: deploy's build folder",
    )
    p.add_argument("--payments", type=int, default=5, help="emulator: payments sent (default 5)")
    p.add_argument(
        "--timeout",
        type=arguments.seconds,
        default=600.0,
        help="AWS: seconds to wait for each switch (default 600)",
    )
    p.add_argument(
        "--interval",
        type=arguments.seconds,
        default=5.0,
        help="AWS: seconds between probes (default 5)",
    )
    p.add_argument("--report", type=Path, help="write the result as JSON here")
    p.add_argument("--function-logs", help="emulator: the handlers' log lines go to this file")
    p.add_argument(
        "--restore",
        action="store_true",
        help="only set the primary health check back to Inverted=false (after a killed drill)",
    )
    return p


def main(
    argv: Sequence[str] | None = None,
    out: TextIO = sys.stdout,
    hooks: Hooks | None = None,
    *,
    prog: str = "payment-drill",
) -> int:
    args = parser(prog).parse_args(argv)
    if args.payments < 1:
        return _usage(prog, "--payments must be positive")
    try:
        config = config_from(args)
    except config_module.ConfigError as error:
        return _usage(prog, str(error))
    if args.aws and os.environ.get("AWS_ENDPOINT_URL"):
        return _usage(prog, "--aws: unset AWS_ENDPOINT_URL, it would send the calls elsewhere")
    if args.restore and not (args.aws or args.endpoint_url):
        return _usage(
            prog, "--restore needs --endpoint-url or --aws (a fresh emulator has no drill)"
        )
    mode = "aws" if args.aws else "emulator"

    def body() -> int:
        if args.aws or args.endpoint_url:
            aws = Aws(args.endpoint_url)
            if args.restore:
                return restore(aws, config, out)
            return drill(aws, config, mode, args, out, hooks or Hooks())
        with own_emulator(config, args, out) as aws:
            return drill(aws, config, mode, args, out, hooks or Hooks())

    # An AWS error is one line: the check is restored by then.
    return exits.run("failover-drill", body)


def _usage(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


class SetupError(DeployError):
    """The own emulator's deployment failed."""

    label = ""  # the message says what failed


@contextlib.contextmanager
def own_emulator(config: config_module.Config, args: argparse.Namespace, out: TextIO) -> Iterator:
    """A fresh emulator with the hosted zone and a deployment with the domain; stopped after."""
    from payment_ops.emulator import Emulator

    for name in DROPPED:  # real credentials never go to the emulator
        os.environ.pop(name, None)
    os.environ.update(EMULATOR_CREDENTIALS)
    domain = args.domain_name.strip().lower().rstrip(".")
    if "." not in domain:
        raise SetupError(f"--domain-name {domain!r} has no parent domain for the hosted zone")
    zone_name = domain.split(".", 1)[1]
    with Emulator() as emulator:
        aws = Aws(emulator.url)
        print(f"emulator: {emulator.url}", file=out, flush=True)
        zone = aws.client("route53", discovery.ROUTE53_REGION).create_hosted_zone(
            Name=zone_name, CallerReference=f"failover-drill-{uuid.uuid4()}"
        )["HostedZone"]["Id"]
        zone_id = zone.rsplit("/", 1)[-1]
        print(
            f"deploying {names.deployment(config.environment_suffix)} with {domain} ...", file=out
        )
        request = deploy.DeployRequest(
            config=config,
            domain={routing.HOSTED_ZONE_PARAM: zone_id, routing.DOMAIN_PARAM: domain},
            build_dir=args.build_dir,
            outputs_file=args.build_dir.parent / "flat-outputs.json",
            endpoint_url=emulator.url,
            bootstrap=True,
            no_alarm_subscriber=True,  # the drill's own emulator: nobody to alarm
            poll_s=0.05,
        )
        log = io.StringIO()
        try:
            deployed = deploy.run(request, log)
        except Exception as error:
            described = exits.describe("deploy", error)
            if described is None:
                raise
            tail = [*log.getvalue().splitlines()[-14:], described[0]]
            raise SetupError("deploy failed:\n" + "\n".join(tail)) from None
        print("  " + deployed.summary(), file=out, flush=True)
        yield aws
