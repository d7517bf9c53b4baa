"""``python -m templates_src build``: a thin CLI; errors become one line and an exit code here.

Exit codes (CONTRACT §1): 0 written and lint-clean, 1 lint findings, 2 bad arguments or
configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import config as config_module
from .build import build

EXIT_OK = 0
EXIT_LINT = 1
EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line and exit 2, not argparse's usage block (the project's scripts
    share it, so every command fails the same way)."""

    def error(self, message: str) -> NoReturn:
        # Scripts and CI logs read the reason directly.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_config_arguments(parser: argparse.ArgumentParser, *, replica_help: str = "") -> None:
    """The configuration flags every command shares; ``config_from`` reads them."""
    parser.add_argument(
        "--environment-suffix",
        help="names every resource payment-<suffix>-<thing> "
        f"(default: $ENVIRONMENT_SUFFIX, else {config_module.DEFAULT_SUFFIX})",
    )
    parser.add_argument("--primary-region", help=f"default {config_module.DEFAULT_PRIMARY_REGION}")
    parser.add_argument(
        "--replica-regions",
        help=f"comma-separated{'; ' + replica_help if replica_help else ''} (default "
        + ",".join(config_module.DEFAULT_REPLICA_REGIONS)
        + ")",
    )
    parser.add_argument(
        "--object-lock-mode",
        choices=[config_module.GOVERNANCE, config_module.COMPLIANCE],
        help="Object Lock mode of the audit buckets (default: GOVERNANCE for a throw-away "
        "suffix such as dev or test-*, COMPLIANCE for any other)",
    )
    parser.add_argument(
        "--enable-cloudtrail",
        action="store_true",
        help="create a CloudTrail trail with the data events (for accounts without an "
        "organization trail)",
    )
    parser.add_argument(
        "--waf-off-reason",
        metavar="REASON",
        help="deploy without the web ACL; the reason is recorded in the templates "
        f"({config_module.WAF_REASON_RULE})",
    )


def config_from(args: argparse.Namespace) -> config_module.Config:
    """The configuration of ``add_config_arguments``' flags (and ``--alarm-email`` where a
    command has it), falling back to the environment; ConfigError when a value is wrong."""
    return config_module.from_inputs(
        environment_suffix=args.environment_suffix,
        primary_region=args.primary_region,
        replica_regions=args.replica_regions,
        alarm_email=getattr(args, "alarm_email", None),
        environ=os.environ,
        object_lock_mode=getattr(args, "object_lock_mode", None),
        enable_cloudtrail=getattr(args, "enable_cloudtrail", False),
        waf_off_reason=getattr(args, "waf_off_reason", None),
    )


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m templates_src",
        description="Generate and validate the payment infrastructure's CloudFormation.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    b = commands.add_parser("build", help="write the templates, handler zip and manifest")
    add_config_arguments(b)
    b.add_argument("--alarm-email", help="default of the AlarmEmail parameter (optional)")
    b.add_argument("--out", type=Path, default=Path("build"), help="output folder (default build/)")
    return parser


def _build(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.out.exists() and not args.out.is_dir():
        raise config_module.ConfigError(f"--out {args.out} exists and is not a folder")
    result = build(config, args.out)
    for note in result.notes:
        print(note, file=sys.stderr)
    for finding in result.findings:
        print(finding)
    if not result.clean:
        print(
            f"lint: {len(result.findings)} finding(s); files written to {args.out}/",
            file=sys.stderr,
        )
        return EXIT_LINT
    written = ", ".join(sorted([*result.manifest["files"], "manifest.json"]))
    print(f"built {args.out}/: {written}")
    print(
        f"lint clean: primary in {config.primary_region}, "
        f"replica and standby in {', '.join(config.replica_regions)}"
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _build(args)
    except config_module.ConfigError as error:
        print(f"python -m templates_src: error: {error}", file=sys.stderr)
        return EXIT_USAGE
