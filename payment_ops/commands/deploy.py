"""``python scripts/deploy.py``: deploy the payment system with CloudFormation StackSets.

Installed as ``payment-deploy``, and as ``payment-plan`` for ``--plan`` on its own.

Builds (or reuses an up-to-date ``build/``), shows the plan (what changes per stack set; a
stateful resource replaced or deleted stops the run unless ``--allow-replacement``), uploads
the handler zip to one artifact bucket per target region, creates or updates the replica stack
set and waits, then the primary stack set, then the standby stack set (the payment service in
the replica regions), then hands the standby health checks to the primary's alarms, then writes
``cfn-outputs/flat-outputs.json``. ``--domain-name`` with ``--hosted-zone-id`` puts the API
behind a custom domain with Route 53 failover from the primary to the first replica region.
A run with nothing changed starts no stack set operation.
``--plan`` prints the plan and changes nothing. Exit 0 on success, 1 when an operation fails
(the failing regions and their reasons are printed), 2 on bad arguments, a missing
prerequisite or a refused replacement (nothing changed)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from payment_ops import paths
from payment_ops.commands import exits
from payment_ops.deployment import arguments, names
from payment_ops.deployment.deploy import DeployRequest, plan, run
from payment_ops.deployment.errors import EXIT_OK, EXIT_USAGE, DeployError
from templates_src import config as config_module
from templates_src import routing
from templates_src.cli import (
    OneLineParser,
    add_concurrency_arguments,
    add_config_arguments,
    config_from,
)

OUTPUTS_FILE = Path("cfn-outputs") / "flat-outputs.json"
# The folder ``python -m templates_src build`` writes.
DEFAULT_BUILD_DIR = paths.project_dir() / "build"


def _add_domain_arguments(p: argparse.ArgumentParser) -> None:
    """The custom domain: failover routing and the mTLS truststore."""
    p.add_argument(
        "--domain-name",
        help="custom domain of the API, e.g. pay.example.com: Route 53 failover from the "
        "primary to the first replica region (needs --hosted-zone-id)",
    )
    p.add_argument("--hosted-zone-id", help="public Route 53 hosted zone that holds --domain-name")
    p.add_argument(
        "--truststore-version",
        help="with --client-auth mtls: the S3 version id of truststore/clients.pem in the "
        "primary artifact bucket (the client CA certificates the custom domain trusts)",
    )


def _add_change_arguments(p: argparse.ArgumentParser, plan_only: bool) -> None:
    """What a deploy may change beyond the stack sets' update, and whether it changes anything."""
    p.add_argument(
        "--bootstrap",
        action="store_true",
        help=f"create the StackSet roles (stack {names.ROLES_STACK}) if they are missing, "
        "or update that stack to this build",
    )
    p.add_argument(
        "--remove-unconfigured-regions",
        action="store_true",
        help="delete stack instances (and the table replica) in regions no longer configured",
    )
    if plan_only:
        p.set_defaults(plan=True)
    else:
        p.add_argument(
            "--plan",
            action="store_true",
            help="print what a deploy would change, per stack set, and change nothing",
        )
    p.add_argument(
        "--allow-replacement",
        action="store_true",
        help="go ahead even when the plan replaces or deletes a stateful resource "
        "(table, bucket, KMS key)",
    )


def parser(prog: str = "payment-deploy", *, plan_only: bool = False) -> argparse.ArgumentParser:
    """Deploy's flags; ``plan_only``: ``payment-plan``'s, which are the same without ``--plan``."""
    p = OneLineParser(prog=prog, description=__doc__.split("\n")[0])
    add_config_arguments(p)
    p.add_argument(
        "--alarm-email",
        help=f"subscribed to the alarm topics (required unless {arguments.NO_ALARM_SUBSCRIBER})",
    )
    arguments.add_alarm_subscriber_opt_out(p)
    add_concurrency_arguments(p)
    _add_domain_arguments(p)
    p.add_argument(
        "--accounts", help="comma-separated target account ids (default: the caller's, from STS)"
    )
    p.add_argument(
        "--endpoint-url",
        type=arguments.endpoint_url,
        help="send every AWS call here, e.g. the local emulator (or AWS_ENDPOINT_URL)",
    )
    p.add_argument(
        "--build-dir", type=Path, default=DEFAULT_BUILD_DIR, help="build folder (default build/)"
    )
    p.add_argument(
        "--outputs", type=Path, default=None, help=f"outputs file (default {OUTPUTS_FILE})"
    )
    _add_change_arguments(p, plan_only)
    arguments.add_wait_arguments(p)
    return p


def domain_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The custom-domain parameters of the primary and standby stack sets (empty: no domain)."""
    domain = (args.domain_name or "").strip().lower().rstrip(".")
    # As the Route 53 API prints it (/hostedzone/Z...) or as the console shows it (Z...).
    zone = (args.hosted_zone_id or "").strip().removeprefix("/hostedzone/")
    if bool(domain) != bool(zone):
        raise DeployError(
            "--domain-name and --hosted-zone-id go together: give both for failover routing, "
            "or neither",
            EXIT_USAGE,
        )
    if not re.match(routing.DOMAIN_PATTERN, domain):
        raise DeployError(f"--domain-name {domain!r} is not a DNS name", EXIT_USAGE)
    if not re.match(routing.HOSTED_ZONE_PATTERN, zone):
        raise DeployError(f"--hosted-zone-id {zone!r} is not a hosted zone id", EXIT_USAGE)
    parameters = {routing.HOSTED_ZONE_PARAM: zone, routing.DOMAIN_PARAM: domain}
    version = (getattr(args, "truststore_version", None) or "").strip()
    mtls = getattr(args, "client_auth", None) == config_module.CLIENT_AUTH_MTLS
    # mTLS without a domain is the configuration's refusal (config_from, before this).
    if mtls and not version:
        raise DeployError(
            "--client-auth mtls needs --domain-name, --hosted-zone-id and --truststore-version",
            EXIT_USAGE,
        )
    if version and not mtls:
        raise DeployError("--truststore-version goes with --client-auth mtls only", EXIT_USAGE)
    if version:
        if not re.match(routing.TRUSTSTORE_VERSION_PATTERN, version):
            raise DeployError(
                f"--truststore-version {version!r} is not an S3 version id", EXIT_USAGE
            )
        parameters[routing.TRUSTSTORE_VERSION_PARAM] = version
    return parameters


def accounts(value: str | None) -> tuple[str, ...]:
    """``--accounts a,b``: the ids (checked by ``DeployRequest``); not given: none."""
    if not value:
        return ()
    given = tuple(a.strip() for a in value.split(",") if a.strip())
    if not given:
        raise DeployError(f"--accounts: not a 12-digit account id: {value!r}", EXIT_USAGE)
    return given


def request_from(args: argparse.Namespace) -> DeployRequest:
    """The deploy these flags ask for, validated before anything is read or changed."""
    return DeployRequest(
        config=config_from(args),
        domain=domain_parameters(args),
        build_dir=args.build_dir,
        outputs_file=args.outputs or Path.cwd() / OUTPUTS_FILE,
        accounts=accounts(args.accounts),
        endpoint_url=args.endpoint_url,
        bootstrap=args.bootstrap,
        remove_unconfigured_regions=args.remove_unconfigured_regions,
        allow_replacement=args.allow_replacement,
        no_alarm_subscriber=args.no_alarm_subscriber,
        timeout_s=args.timeout,
        poll_s=args.poll,
    )


def main(
    argv: Sequence[str] | None = None,
    out: TextIO = sys.stdout,
    *,
    prog: str = "payment-deploy",
    plan_only: bool = False,
) -> int:
    args = parser(prog, plan_only=plan_only).parse_args(argv)
    started = time.monotonic()

    def body() -> int:
        request = request_from(args)
        if args.plan:
            plan(request, out)
            return EXIT_OK
        run(request, out)
        print(f"done in {time.monotonic() - started:.1f} s", file=out)
        return EXIT_OK

    return exits.run(
        "deploy",
        body,
        interrupted="interrupted; operations already started continue in AWS - re-run to converge",
    )


def plan_main(
    argv: Sequence[str] | None = None, out: TextIO = sys.stdout, *, prog: str = "payment-plan"
) -> int:
    """``payment-plan``: ``deploy --plan`` as its own command."""
    return main(argv, out, prog=prog, plan_only=True)
