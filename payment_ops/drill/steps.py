"""The drill's steps, the same API calls in every mode: discover and check the pair, refuse an
already inverted check, invert it (always restored), probe, report. ``--restore`` alone is
``restore``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from payment_ops.deployment import names, stacksets
from templates_src import config as config_module

from . import discovery, inversion, probes, replication
from .report import Report

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class Hooks:
    """Test seams: called right after the primary health check was inverted."""

    after_inversion: Callable[[], None] = lambda: None


def restore(aws: Any, config: config_module.Config, out: TextIO) -> int:
    """``--restore``: the primary health check back to Inverted=false, nothing else."""
    name = names.stack_set(config.environment_suffix, "primary")
    admin = aws.client("cloudformation", config.primary_region)
    account = aws.client("sts", config.primary_region).get_caller_identity()["Account"]
    outputs = stacksets.instance_outputs(aws, admin, name, account, config.primary_region)
    found = [o["OutputValue"] for o in outputs if o["OutputKey"] == names.HEALTH_CHECK_OUTPUT]
    if not found:
        print(
            f"failover-drill: {name} in {config.primary_region} has no HealthCheckId output",
            file=sys.stderr,
        )
        return EXIT_FAILED
    inversion.restore(aws, found[0])
    print(f"health check {found[0]} ({config.primary_region}): Inverted=false", file=out)
    return EXIT_OK


def drill(
    aws: Any,
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
        report.check(
            "drill ran to the end", False, "interrupted (the health check is not left inverted)"
        )
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
    aws: Any,
    config: config_module.Config,
    mode: str,
    args: argparse.Namespace,
    out: TextIO,
    hooks: Hooks,
    report: Report,
) -> int:
    """The drill in order; each step records its checks in ``report``, a failed one ends it."""
    deployment = _deployed_pair(aws, config, report)
    if deployment is None:
        return EXIT_FAILED
    primary, secondary = deployment.primary, deployment.secondary
    report.replication_latency = replication.replication_latency(
        aws,
        table=deployment.table,
        primary_region=primary.region,
        receiving_region=secondary.region,
    )
    if _already_inverted(aws, primary, report):
        return EXIT_USAGE
    url = f"https://{deployment.domain_name}/health"
    if mode == "aws" and not _served_by_primary(url, primary, report):
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
            _emulator_probe(aws, config, deployment, args, report)
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


def _deployed_pair(
    aws: Any, config: config_module.Config, report: Report
) -> discovery.Deployment | None:
    """The deployment, or None after printing each reason it cannot be drilled."""
    deployment, problems = discovery.discover(aws, config)
    report.deployment = deployment
    for problem in problems:
        print(f"failover-drill: {problem}", file=sys.stderr)
    if problems or deployment is None:
        report.check("failover pair as deployed", False, f"{len(problems)} problem(s)")
        return None
    report.check(
        "failover pair as deployed",
        True,
        f"PRIMARY {deployment.primary.region}, SECONDARY {deployment.secondary.region}",
    )
    return deployment


def _already_inverted(aws: Any, primary: discovery.Side, report: Report) -> bool:
    """An inverted primary check at the start is another drill's (running or killed): the
    drill changes nothing and says how to put it back."""
    if not discovery.is_inverted(aws, primary.health_check_id):
        return False
    print(
        f"failover-drill: health check {primary.health_check_id} ({primary.region}) is "
        "already inverted: a drill is running or was killed. Nothing changed. Put it back "
        "with the same command and --restore",
        file=sys.stderr,
    )
    report.check("primary health check not inverted at the start", False)
    return True


def _served_by_primary(url: str, primary: discovery.Side, report: Report) -> bool:
    """On AWS, before anything changes: the domain answers from the primary region."""
    served = probes.served_region(url)
    if not report.check("domain served by the primary", served == primary.region, url):
        print(f"failover-drill: {url} answers {served or 'nothing'}", file=sys.stderr)
        return False
    return True


def _emulator_probe(
    aws: Any,
    config: config_module.Config,
    deployment: discovery.Deployment,
    args: argparse.Namespace,
    report: Report,
) -> None:
    primary, secondary = deployment.primary, deployment.secondary
    report.check(
        "primary health check reads inverted",
        discovery.is_inverted(aws, primary.health_check_id),
        primary.health_check_id,
    )
    problems = discovery.pair_problems(aws, deployment)
    report.check("failover pair unchanged while inverted", not problems, "; ".join(problems))
    counts = probes.LocalPayments(aws, config, deployment, args.function_logs).run(args.payments)
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
