"""``python -m templates_src build``: a thin CLI; errors become one line and an exit code here.

Exit codes (CONTRACT §1): 0 written and lint-clean, 1 lint findings, 2 bad arguments or
configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import config as config_module
from . import up_to_date

# naming, build and linting are imported where used: they load troposphere, cfn-lint and
# multiprocessing, which a build that finds build/ up to date never needs.

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
        "--vpc",
        action="store_true",
        help="run the payment functions in a VPC with no internet egress (gateway endpoints "
        "for DynamoDB and S3; off by default)",
    )
    parser.add_argument(
        "--client-auth",
        choices=list(config_module.CLIENT_AUTH_MODES),
        help="how POST /process authenticates each client: iam (SigV4 with the client's role; "
        "the default) or mtls (client certificates on the custom domain; needs --domain-name)",
    )
    parser.add_argument(
        "--waf-off-reason",
        metavar="REASON",
        help="deploy without the web ACL; the reason is recorded in the templates "
        f"({config_module.WAF_REASON_RULE})",
    )


def _reservation(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"{number}: at least 1 (leave the flag out to reserve none)"
        )
    return number


def add_concurrency_arguments(parser: argparse.ArgumentParser) -> None:
    """Reserved concurrency, none unless asked (Lambda keeps 100 of each account and region's
    concurrency unreserved; a new account may have 10 or 50 in all)."""
    parser.add_argument(
        "--processor-reserved-concurrency",
        type=_reservation,
        metavar="N",
        help="reserve N concurrent executions for (and cap) the payment processor in each "
        f"region, 1-{config_module.PROCESSOR_CONCURRENCY_MAX} (default: none reserved)",
    )
    parser.add_argument(
        "--audit-writer-reserved-concurrency",
        type=_reservation,
        metavar="N",
        help="reserve N for the audit writer in each region, "
        f"1-{config_module.AUDIT_CONCURRENCY_MAX}; keep it at least the table stream's shard "
        "count (default: none reserved)",
    )


def config_from(args: argparse.Namespace) -> config_module.Config:
    """The configuration of ``add_config_arguments``' flags (and of ``--alarm-email`` and
    ``add_concurrency_arguments``' flags where a command has them), falling back to the
    environment; ConfigError when a value is wrong, or when a name or parameter value it makes
    would break an AWS limit in one of its regions."""
    config = config_module.from_inputs(
        environment_suffix=args.environment_suffix,
        primary_region=args.primary_region,
        replica_regions=args.replica_regions,
        alarm_email=getattr(args, "alarm_email", None),
        processor_reserved_concurrency=getattr(args, "processor_reserved_concurrency", None),
        audit_writer_reserved_concurrency=getattr(args, "audit_writer_reserved_concurrency", None),
        environ=os.environ,
        object_lock_mode=getattr(args, "object_lock_mode", None),
        enable_cloudtrail=getattr(args, "enable_cloudtrail", False),
        waf_off_reason=getattr(args, "waf_off_reason", None),
        vpc=getattr(args, "vpc", False),
        client_auth=getattr(args, "client_auth", None),
        # deploy's --domain-name; build's names the domain the templates are meant for.
        domain_name=getattr(args, "domain_name", None),
    )
    from . import naming

    naming.verify(config)
    return config


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m templates_src",
        description="Generate and validate the payment infrastructure's CloudFormation.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    b = commands.add_parser("build", help="write the templates, handler zip and manifest")
    add_config_arguments(b)
    b.add_argument("--alarm-email", help="default of the AlarmEmail parameter (optional)")
    b.add_argument(
        "--domain-name",
        help="the custom domain the stacks will be deployed with (given to deploy); required "
        "with --client-auth mtls",
    )
    add_concurrency_arguments(b)
    b.add_argument("--out", type=Path, default=Path("build"), help="output folder (default build/)")
    b.add_argument(
        "--no-lint-cache",
        action="store_true",
        help="lint every template with cfn-lint, not reusing results of earlier builds",
    )
    return parser


def ensure_writable_folder(folder: Path, flag: str = "--out") -> None:
    """Prove that ``folder`` can take the build before anything is built: a folder that cannot
    be written is bad input (exit 2), not a lint finding. A folder made only for the probe is
    removed again, so a refused build leaves nothing behind."""
    if folder.exists() and not folder.is_dir():
        raise config_module.ConfigError(f"{flag} {folder} exists and is not a folder")
    created = []
    try:
        for path in reversed([folder, *folder.parents]):
            if not path.exists():
                path.mkdir()
                created.append(path)
        # As root, os.access says yes to read-only mounts; only a real write tells.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        for path in reversed(created):
            path.rmdir()
        raise config_module.ConfigError(
            f"{flag} {folder} is not writable: {error.strerror or error}"
        ) from None


def _build(args: argparse.Namespace) -> int:
    flags = {k: v for k, v in vars(args).items() if k not in ("out", "no_lint_cache")}
    key = up_to_date.inputs_key(flags, os.environ)
    if not args.no_lint_cache and up_to_date.up_to_date(args.out, key):
        print(f"up to date {args.out}/: sources, flags and cfn-lint as last built, lint clean")
        return EXIT_OK
    # Before anything else: the lint server imports cfn-lint and loads its rules while this
    # process checks the configuration and renders the templates.
    from . import linting

    linting.start_server()
    config = config_from(args)
    ensure_writable_folder(args.out)
    from .build import build

    result = build(config, args.out, use_lint_cache=not args.no_lint_cache, inputs_key=key)
    for file_name, reused in result.lint_reused.items():
        how = "reused from the lint cache" if reused else "linted"
        print(f"lint: {file_name}: {how}", file=sys.stderr)
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
