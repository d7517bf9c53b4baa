"""``python scripts/delete.py``: delete the payment system's stack sets; optionally its data.

Deletes the stack instances (standby services, then the primary, then the replicas), waits, and
deletes the three stack sets.
The table, audit buckets, artifact buckets and KMS keys are retained and listed. With
``--purge-data`` (confirmed by ``--yes`` or interactively) they are removed too, in every
region: buckets emptied of every version and delete marker, deletion protection turned off and
the table's replicas deleted, keys scheduled for deletion. Exit 0 on success (also when there
was nothing to delete), 1 when an operation fails, 2 on bad arguments or a refused purge.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from payment_ops.commands import exits
from payment_ops.deployment import (
    arguments,
    artifacts,
    discovery,
    names,
    retained,
    stacksets,
)
from payment_ops.deployment import lock as lock_module
from payment_ops.deployment.aws import Aws
from payment_ops.deployment.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    DeployError,
)
from payment_ops.deployment.operations import OPERATION_PREFERENCES, Waiter
from templates_src import config as config_module
from templates_src.cli import OneLineParser, add_config_arguments, config_from


def parser(prog: str = "payment-delete") -> argparse.ArgumentParser:
    p = OneLineParser(prog=prog, description=__doc__.split("\n")[0])
    add_config_arguments(
        p,
        replica_help="where to look for retained data (instances are found wherever they are)",
    )
    p.add_argument(
        "--endpoint-url",
        type=arguments.endpoint_url,
        help="send every AWS call here, e.g. the local emulator (or AWS_ENDPOINT_URL)",
    )
    p.add_argument(
        "--purge-data", action="store_true", help="also delete the retained table, buckets and keys"
    )
    p.add_argument("--yes", action="store_true", help="confirm --purge-data without asking")
    arguments.add_wait_arguments(p)
    return p


def confirm_purge(suffix: str, yes: bool, stdin: TextIO, out: TextIO) -> None:
    """Destroying data needs a yes; without a terminal to ask on, only ``--yes`` gives it."""
    if yes:
        return
    if not stdin.isatty():
        raise DeployError(
            "refusing --purge-data without confirmation: stdin is not interactive; "
            "pass --yes to delete the retained data",
            EXIT_USAGE,
        )
    print(
        f"--purge-data permanently deletes the payments table, audit and artifact buckets and "
        f"schedules the KMS keys of {names.deployment(suffix)} for deletion, in every region.",
        file=out,
    )
    print(f"Type the environment suffix ({suffix}) to confirm: ", end="", file=out, flush=True)
    try:
        answer = stdin.readline()  # "" at end of input (Ctrl-D): not a yes
    except KeyboardInterrupt:
        print(file=out)
        raise DeployError(
            "interrupted at the confirmation; nothing deleted", EXIT_INTERRUPTED
        ) from None
    if answer.strip() != suffix:
        raise DeployError("not confirmed; nothing deleted", EXIT_USAGE)


def delete_stack_set(cfn: object, waiter: Waiter, name: str, out: TextIO) -> bool:
    """Delete the instances, then the stack set; False when it did not exist."""
    if stacksets.describe(cfn, name) is None:
        print(f"{name}: stack set does not exist", file=out)
        return False
    waiter.wait_for_running(name)
    instances = stacksets.list_instances(cfn, name)
    if instances:
        regions = sorted({i["Region"] for i in instances})
        print(f"{name}: deleting instances in {', '.join(regions)}", file=out, flush=True)
        operation = waiter.start(
            name,
            cfn.delete_stack_instances,  # type: ignore[attr-defined]
            Accounts=sorted({i["Account"] for i in instances}),
            Regions=regions,
            RetainStacks=False,
            OperationPreferences=OPERATION_PREFERENCES,
        )
        waiter.wait(name, operation)
    waiter.start(name, _delete_set(cfn))
    print(f"{name}: stack set deleted", file=out)
    return True


def _delete_set(cfn: object):  # DeleteStackSet returns no OperationId; adapt it for Waiter.start
    def call(StackSetName: str, OperationId: str) -> dict:  # noqa: N803 - AWS parameter names
        cfn.delete_stack_set(StackSetName=StackSetName)  # type: ignore[attr-defined]
        return {"OperationId": OperationId}

    return call


def delete(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    config = config_from(args)
    suffix = config.environment_suffix
    aws = Aws(args.endpoint_url)
    admin_region = config.primary_region
    account = aws.client("sts", admin_region).get_caller_identity()["Account"]
    cfn = aws.client("cloudformation", admin_region)
    waiter = Waiter(cfn, timeout_s=args.timeout, poll_s=args.poll, out=out)
    # The lock deploy takes, where deploy keeps it; without that bucket no deploy has run
    # here since the last purge, and there is no lock to take.
    bucket = names.artifact_bucket(suffix, account, admin_region)
    lock = None
    if artifacts.bucket_ready(aws, bucket, admin_region):
        lock = lock_module.Lock(aws, admin_region, bucket, "delete.py", out=out)
        lock.acquire()
        waiter.sleep = lock.sleeping(waiter.sleep)
    try:
        _delete_locked(args, config, aws, account, cfn, waiter, stdin, out)
    finally:
        if lock:
            lock.release()


def _check_layout(
    args: argparse.Namespace,
    suffix: str,
    admin_region: str,
    found: discovery.Found,
    stdin: TextIO,
    out: TextIO,
) -> None:
    """Refuse a deployment run from another region, or a purge while any of it is elsewhere;
    with --purge-data, the confirmation. Before anything changes."""
    elsewhere = found.without(admin_region)
    if elsewhere.stack_sets and not any(s.region == admin_region for s in found.stack_sets):
        raise DeployError(
            f"{names.deployment(suffix)} is deployed from "
            f"{', '.join(elsewhere.admin_regions())}, not from {admin_region} "
            f"(--primary-region): {elsewhere.describe()}; nothing changed. "
            f"Re-run with {discovery.layout_flags(elsewhere)}",
            EXIT_USAGE,
        )
    if args.purge_data and elsewhere:
        raise _refuse_purge(suffix, elsewhere, "nothing changed")
    if args.purge_data:
        confirm_purge(suffix, args.yes, stdin, out)  # before anything changes
    if elsewhere:
        print(
            f"note: also deployed outside {admin_region}, left alone: {elsewhere.describe()}",
            file=out,
        )


def _data_regions(
    config: config_module.Config, found: discovery.Found, aws: Aws, account: str
) -> list[str]:
    """Where retained data may be: the configured regions, the stack sets' instance regions,
    and every region holding data of the suffix."""
    suffix, admin_region = config.environment_suffix, config.primary_region
    regions = list(config.regions)
    for stack_set in found.stack_sets:
        regions += [r for r in stack_set.instance_regions() if r not in regions]
    regions += [r for r in retained.regions(aws, suffix, account, admin_region) if r not in regions]
    return regions


def _purge(
    config: config_module.Config, aws: Aws, found_data: list[retained.RegionData], out: TextIO
) -> None:
    """Purge the retained data, once nothing of the suffix is deployed anywhere."""
    suffix, admin_region = config.environment_suffix, config.primary_region
    # The proof a purge needs: nothing of the suffix is deployed anywhere any more.
    still = discovery.find(aws, suffix, admin_region, stacks=True)
    if still:
        raise _refuse_purge(suffix, still, "its stack sets here were deleted, the data is kept")
    print("purging retained data:", file=out, flush=True)
    retained.purge(
        aws, suffix, found_data, config.primary_region, config.kms_deletion_window_days, out
    )
    print(f"purged {names.deployment(suffix)}: nothing retained", file=out)


def _delete_locked(
    args: argparse.Namespace,
    config: config_module.Config,
    aws: Aws,
    account: str,
    cfn: Any,
    waiter: Waiter,
    stdin: TextIO,
    out: TextIO,
) -> None:
    """Delete the stack sets, then list the retained data or purge it (under deploy's lock)."""
    suffix, admin_region = config.environment_suffix, config.primary_region
    # Where the deployment really is, in every enabled region, before anything changes.
    found = discovery.find(aws, suffix, admin_region, stacks=args.purge_data)
    _check_layout(args, suffix, admin_region, found, stdin, out)

    regions = _data_regions(config, found, aws, account)
    # Standby first (it reads the table replicas and imports the replica stacks' keys), then
    # the primary (its table replicas use the replica regions' keys), then the replicas.
    existed = [
        delete_stack_set(cfn, waiter, names.stack_set(suffix, kind), out)
        for kind in names.DELETE_ORDER
    ]

    found_data = [retained.find(aws, suffix, account, region) for region in regions]
    found_data = [data for data in found_data if not data.empty()]
    if not found_data:
        print(
            "no retained data"
            if any(existed)
            else f"nothing to delete for {names.deployment(suffix)}",
            file=out,
        )
        return
    if not args.purge_data:
        print("retained (delete with --purge-data --yes):", file=out)
        for data in found_data:
            print(f"  {data.describe()}", file=out)
        return
    _purge(config, aws, found_data, out)


def _refuse_purge(suffix: str, live: discovery.Found, what_changed: str) -> DeployError:
    if live.stack_sets:
        first = (
            f"delete it first (scripts/delete.py --environment-suffix {suffix} "
            f"{discovery.layout_flags(live)}), then purge"
        )
    else:
        first = "delete those stacks first, then purge"
    return DeployError(
        f"refusing to purge {names.deployment(suffix)}: still deployed: {live.describe()}; "
        f"{what_changed}. {first[0].upper()}{first[1:]}",
        EXIT_USAGE,
    )


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    *,
    prog: str = "payment-delete",
) -> int:
    args = parser(prog).parse_args(argv)

    def body() -> int:
        delete(args, stdin, out)
        return EXIT_OK

    return exits.run(
        "delete",
        body,
        interrupted="interrupted; operations already started continue in AWS - re-run to finish",
    )
