"""``python scripts/clients.py``: add, update, revoke and list the payment API's clients.

Each client is an IAM role ``payment-<suffix>-client-<client_id>`` (its own stack in the primary
region) that the client's own AWS principals assume, with the external id, to sign
``POST /process`` requests. ``update`` is the rotation: give the old and the new principal, let
the client switch, then update with the new one only. ``revoke`` deletes the role (asks first
unless ``--yes``). Exit 0 on success, 1 when a stack operation fails, 2 on bad input (one line,
nothing changed)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from payment_ops.commands import exits
from payment_ops.deployment import arguments
from payment_ops.deployment import clients as clients_module
from payment_ops.deployment.aws import Aws
from payment_ops.deployment.errors import EXIT_OK, EXIT_USAGE, DeployError
from templates_src import config as config_module
from templates_src.cli import OneLineParser

PROG = "clients"


def parser(prog: str = "payment-clients") -> argparse.ArgumentParser:
    p = OneLineParser(prog=prog, description=__doc__.split("\n")[0])
    p.add_argument(
        "--environment-suffix",
        help=f"the environment (default: $ENVIRONMENT_SUFFIX, else {config_module.DEFAULT_SUFFIX})",
    )
    p.add_argument(
        "--primary-region",
        help=f"where the client stacks live (default {config_module.DEFAULT_PRIMARY_REGION})",
    )
    p.add_argument(
        "--replica-regions",
        help="comma-separated; the client may call POST /process in these and the primary (default "
        + ",".join(config_module.DEFAULT_REPLICA_REGIONS)
        + ")",
    )
    p.add_argument(
        "--endpoint-url",
        type=arguments.endpoint_url,
        help="send every AWS call here (an emulator)",
    )
    commands = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command, text in (
        ("add", "register a new client"),
        ("update", "change a client's principals or external id"),
    ):
        c = commands.add_parser(command, help=text)
        c.add_argument("--client-id", required=True, help="1-28 of a-z, 0-9, '-', a letter first")
        c.add_argument(
            "--trusted-principal",
            action="append",
            required=True,
            metavar="ARN",
            help="the client's AWS account, role or user that may assume the role (repeat it)",
        )
        c.add_argument("--external-id", required=True, help="the id the client gives in AssumeRole")
    revoke = commands.add_parser("revoke", help="delete a client's role: its sessions stop working")
    revoke.add_argument("--client-id", required=True)
    revoke.add_argument("--yes", action="store_true", help="revoke without asking")
    commands.add_parser("list", help="the environment's clients")
    return p


def confirm_revoke(client_id: str, yes: bool, stdin: TextIO, out: TextIO) -> None:
    if yes:
        return
    if not stdin.isatty():
        raise DeployError(
            "refusing to revoke without confirmation: stdin is not interactive; pass --yes",
            EXIT_USAGE,
        )
    print(f"Type the client id ({client_id}) to revoke it: ", end="", file=out, flush=True)
    if stdin.readline().strip() != client_id:
        raise DeployError("not confirmed; nothing revoked", EXIT_USAGE)


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    config = config_module.from_inputs(
        environment_suffix=args.environment_suffix,
        primary_region=args.primary_region,
        replica_regions=args.replica_regions,
        environ=os.environ,
    )
    spec = None
    if args.command in ("add", "update"):
        spec = clients_module.client_spec(args.client_id, args.trusted_principal, args.external_id)
    if args.command == "revoke":
        clients_module.validate_client_id(args.client_id)
        confirm_revoke(args.client_id, args.yes, stdin, out)
    clients = clients_module.Clients(Aws(args.endpoint_url), config)
    if args.command == "add":
        client = clients.add(spec)
        print(f"added client {client.client_id}: role {client.role_arn}", file=out)
        print(f"trusted: {', '.join(client.trusted_principals)}", file=out)
    elif args.command == "update":
        client, changed = clients.update(spec)
        print(
            f"{'updated' if changed else 'unchanged'} client {client.client_id}: "
            f"role {client.role_arn}",
            file=out,
        )
        print(f"trusted: {', '.join(client.trusted_principals)}", file=out)
    elif args.command == "revoke":
        clients.revoke(args.client_id)
        print(f"revoked client {args.client_id}: its role is deleted", file=out)
    else:
        for client in clients.list():
            print(
                f"{client.client_id}\t{client.role_arn}\t{','.join(client.trusted_principals)}",
                file=out,
            )


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    *,
    prog: str = "payment-clients",
) -> int:
    args = parser(prog).parse_args(argv)

    def body() -> int:
        run(args, stdin, out)
        return EXIT_OK

    return exits.run(
        PROG, body, interrupted="interrupted; a stack operation already started continues"
    )
