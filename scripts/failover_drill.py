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
running or was killed: ``--restore`` puts it back); 130 when interrupted (the check restored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import deploy as deploy_script  # noqa: E402
from scripts.deployment import names, stacksets  # noqa: E402
from scripts.deployment.aws import Aws, error_code  # noqa: E402
from scripts.drill import discovery, inversion, probes  # noqa: E402
from scripts.drill.report import Report  # noqa: E402
from templates_src import config as config_module  # noqa: E402
from templates_src.cli import OneLineParser  # noqa: E402

DEFAULT_DOMAIN = "pay.example.com"
STATE_DIR = ROOT / "build" / "failover-drill"
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DROPPED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class Hooks:
    """Test seams: called right after the primary health check was inverted."""

    after_inversion: Callable[[], None] = lambda: None


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python scripts/failover_drill.py", description=__doc__.split("\n")[0])
    p.add_argument("--environment-suffix", help="default $ENVIRONMENT_SUFFIX, else dev")
    p.add_argument("--primary-region", help=f"default {config_module.DEFAULT_PRIMARY_REGION}")
    p.add_argument(
        "--replica-regions",
        help="comma-separated; the first is the secondary region (default "
        + ",".join(config_module.DEFAULT_REPLICA_REGIONS)
        + ")",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--endpoint-url", help="drill a deployment in this running emulator")
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
        "--timeout", type=float, default=600.0, help="AWS: seconds to wait for each switch"
    )
    p.add_argument("--interval", type=float, default=5.0, help="AWS: seconds between probes")
    p.add_argument("--report", type=Path, help="write the result as JSON here")
    p.add_argument("--function-logs", help="emulator: the handlers' log lines go to this file")
    p.add_argument(
        "--restore",
        action="store_true",
        help="only set the primary health check back to Inverted=false (after a killed drill)",
    )
    return p


def main(
    argv: Sequence[str] | None = None, out: TextIO = sys.stdout, hooks: Hooks | None = None
) -> int:
    args = parser().parse_args(argv)
    if args.payments < 1 or args.timeout <= 0 or args.interval <= 0:
        return _usage("--payments, --timeout and --interval must be positive")
    try:
        config = config_module.from_inputs(
            environment_suffix=args.environment_suffix,
            primary_region=args.primary_region,
            replica_regions=args.replica_regions,
            environ=os.environ,
        )
    except config_module.ConfigError as error:
        return _usage(str(error))
    if args.aws and os.environ.get("AWS_ENDPOINT_URL"):
        return _usage("--aws: unset AWS_ENDPOINT_URL, it would send the calls elsewhere")
    if args.restore and not (args.aws or args.endpoint_url):
        return _usage("--restore needs --endpoint-url or --aws (a fresh emulator has no drill)")
    mode = "aws" if args.aws else "emulator"
    try:
        if args.aws or args.endpoint_url:
            aws = Aws(args.endpoint_url)
            if args.restore:
                return restore(aws, config, out)
            return drill(aws, config, mode, args, out, hooks or Hooks())
        with own_emulator(config, args, out) as aws:
            return drill(aws, config, mode, args, out, hooks or Hooks())
    except inversion.RestoreFailed as error:
        print(f"failover-drill: RESTORE FAILED: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as error:
        print("failover-drill: interrupted", file=sys.stderr)
        return getattr(error, "exit_code", EXIT_INTERRUPTED)
    except SetupError as error:
        print(f"failover-drill: {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # an AWS error: one line (the check is restored by then)
        if error_code(error) or type(error).__module__.startswith("botocore"):
            print(f"failover-drill: error: {error}", file=sys.stderr)
            return EXIT_FAILED
        raise


def _usage(message: str) -> int:
    print(f"python scripts/failover_drill.py: error: {message}", file=sys.stderr)
    return EXIT_USAGE


class SetupError(Exception):
    """The own emulator's deployment failed."""


@contextlib.contextmanager
def own_emulator(config: config_module.Config, args: argparse.Namespace, out: TextIO) -> Iterator:
    """A fresh emulator with the hosted zone and a deployment with the domain; stopped after."""
    from scripts.emulator import Emulator

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
        print(f"deploying payment-{config.environment_suffix} with {domain} ...", file=out)
        argv = [
            "--environment-suffix", config.environment_suffix,
            "--primary-region", config.primary_region,
            "--replica-regions", ",".join(config.replica_regions),
            "--endpoint-url", emulator.url,
            "--domain-name", domain,
            "--hosted-zone-id", zone_id,
            "--build-dir", str(args.build_dir),
            "--outputs", str(args.build_dir.parent / "flat-outputs.json"),
            "--poll", "0.05",
            "--bootstrap",
        ]  # fmt: skip
        log = io.StringIO()
        with contextlib.redirect_stderr(log):
            code = deploy_script.main(argv, out=log)
        if code != 0:
            raise SetupError("deploy failed:\n" + "\n".join(log.getvalue().splitlines()[-15:]))
        print("  " + log.getvalue().strip().splitlines()[-2], file=out, flush=True)
        yield aws


def restore(aws: Aws, config: config_module.Config, out: TextIO) -> int:
    """``--restore``: the primary health check back to Inverted=false, nothing else."""
    name = names.stack_set(config.environment_suffix, "primary")
    admin = aws.client("cloudformation", config.primary_region)
    account = aws.client("sts", config.primary_region).get_caller_identity()["Account"]
    outputs = stacksets.instance_outputs(aws, admin, name, account, config.primary_region)
    found = [o["OutputValue"] for o in outputs if o["OutputKey"] == "HealthCheckId"]
    if not found:
        print(f"failover-drill: {name} in {config.primary_region} has no HealthCheckId output")
        return EXIT_FAILED
    inversion.restore(aws, found[0])
    print(f"health check {found[0]} ({config.primary_region}): Inverted=false", file=out)
    return EXIT_OK


def drill(
    aws: Aws,
    config: config_module.Config,
    mode: str,
    args: argparse.Namespace,
    out: TextIO,
    hooks: Hooks,
) -> int:
    report = Report(
        mode, config.environment_suffix, config.primary_region, config.replica_regions[0]
    )
    try:
        report.exit_code = _steps(aws, config, mode, args, out, hooks, report)
    except KeyboardInterrupt as error:
        report.exit_code = getattr(error, "exit_code", EXIT_INTERRUPTED)
        report.check("drill ran to the end", False, "interrupted; health check restored")
        raise
    except Exception as error:
        report.exit_code = EXIT_FAILED
        report.check("drill ran to the end", False, f"{type(error).__name__}: {error}")
        raise
    finally:
        report.print_table(out)
        if args.report:
            report.write(args.report)
    return report.exit_code


def _steps(
    aws: Aws,
    config: config_module.Config,
    mode: str,
    args: argparse.Namespace,
    out: TextIO,
    hooks: Hooks,
    report: Report,
) -> int:
    deployment, problems = discovery.discover(aws, config)
    report.deployment = deployment
    for problem in problems:
        print(f"failover-drill: {problem}", file=sys.stderr)
    if problems or deployment is None:
        report.check("failover pair as deployed", False, f"{len(problems)} problem(s)")
        return EXIT_FAILED
    primary, secondary = deployment.primary, deployment.secondary
    report.check(
        "failover pair as deployed",
        True,
        f"PRIMARY {primary.region}, SECONDARY {secondary.region}",
    )
    if discovery.is_inverted(aws, primary.health_check_id):
        print(
            f"failover-drill: health check {primary.health_check_id} ({primary.region}) is "
            "already inverted: a drill is running or was killed. Nothing changed. Put it back "
            "with the same command and --restore",
            file=sys.stderr,
        )
        report.check("primary health check not inverted at the start", False)
        return EXIT_USAGE
    url = f"https://{deployment.domain_name}/health"
    if mode == "aws":
        served = probes.served_region(url)
        if not report.check("domain served by the primary", served == primary.region, url):
            print(f"failover-drill: {url} answers {served or 'nothing'}", file=sys.stderr)
            return EXIT_FAILED

    with inversion.inverted(aws, primary.health_check_id, out) as started:
        hooks.after_inversion()
        if mode == "aws":
            report.seconds_to_failover = probes.wait_for_region(
                url, secondary.region, started, args.timeout, args.interval, out
            )
            report.check(
                "domain fails over to the secondary",
                report.seconds_to_failover is not None,
                f"{secondary.region} answered" if report.seconds_to_failover else "timed out",
            )
        else:
            _emulator_probe(aws, deployment, args, report)
    report.check(
        "primary health check restored",
        not discovery.is_inverted(aws, primary.health_check_id),
        "Inverted=false",
    )
    if mode == "aws":
        report.seconds_to_failback = probes.wait_for_region(
            url, primary.region, time.monotonic(), args.timeout, args.interval, out
        )
        report.check(
            "domain fails back to the primary", report.seconds_to_failback is not None, url
        )
    return EXIT_OK if report.passed else EXIT_FAILED


def _emulator_probe(
    aws: Aws, deployment: discovery.Deployment, args: argparse.Namespace, report: Report
) -> None:
    primary, secondary = deployment.primary, deployment.secondary
    report.check(
        "primary health check reads inverted",
        discovery.is_inverted(aws, primary.health_check_id),
        primary.health_check_id,
    )
    problems = discovery.pair_problems(aws, deployment)
    report.check("failover pair unchanged while inverted", not problems, "; ".join(problems))
    counts = probes.LocalPayments(aws, deployment, args.function_logs).run(args.payments)
    report.payments = counts
    detail = "; ".join(counts.problems[:3])
    report.check(
        f"payments accepted by {secondary.region}",
        counts.accepted == counts.sent,
        detail or f"{counts.accepted} of {counts.sent}",
    )
    report.check(
        f"payments in the {secondary.region} table",
        counts.found_in_table == counts.accepted,
        f"{counts.found_in_table} of {counts.accepted} in {deployment.table}",
    )
    report.check(
        f"payments in the {secondary.region} audit bucket",
        counts.found_in_audit_bucket == counts.accepted,
        f"{counts.found_in_audit_bucket} of {counts.accepted} in {secondary.audit_bucket}",
    )


if __name__ == "__main__":
    sys.exit(main())
