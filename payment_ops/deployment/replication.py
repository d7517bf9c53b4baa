"""Before the standby starts: the API-key secret's replica is ``InSync`` in every standby region.

The standby stacks read the API key from the secret's replica in their own region (a dynamic
reference). The primary's stack creates or extends the replication, but Secrets Manager copies
the secret asynchronously: DescribeSecret's ``ReplicationStatus`` lists each replica region with
``Status`` ``InProgress``, ``Failed`` or ``InSync`` (AWS Secrets Manager User Guide, "Replicate
an AWS Secrets Manager secret to other AWS Regions"; API Reference, "DescribeSecret",
ReplicationStatusType). A standby deployed before its replica is in sync fails to resolve the
reference, or reads nothing, so deploy waits here, polling like the stack set waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import names
from .errors import DeployError
from .operations import Waiter

IN_SYNC = "InSync"
FAILED = "Failed"


def wait_for_secret_replicas(
    secretsmanager: Any, secret_id: str, regions: Sequence[str], waiter: Waiter
) -> None:
    """Return once the secret's replica is InSync in every one of ``regions``; raise
    DeployError naming the region when one failed, is not replicated at all, or is still not
    in sync after the waiter's timeout."""
    started = waiter.clock()
    while True:
        described = secretsmanager.describe_secret(SecretId=secret_id)
        status = {r["Region"]: r for r in described.get("ReplicationStatus", [])}
        missing = [r for r in regions if r not in status]
        if missing:
            raise DeployError(
                f"secret {secret_id} is not replicated to {', '.join(missing)}: the primary "
                "stack's ReplicaRegions must list every standby region"
            )
        failed = [r for r in regions if status[r].get("Status") == FAILED]
        if failed:
            raise DeployError(
                f"secret {secret_id}: replication to {', '.join(failed)} failed: "
                + "; ".join(
                    str(status[r].get("StatusMessage") or "no reason given") for r in failed
                )
            )
        pending = [r for r in regions if status[r].get("Status") != IN_SYNC]
        elapsed = waiter.clock() - started
        if not pending:
            print(
                f"secret {secret_id}: replicas in sync in {', '.join(regions)}",
                file=waiter.out,
                flush=True,
            )
            return
        if elapsed >= waiter.timeout_s:
            raise DeployError(
                f"secret {secret_id}: replica in {', '.join(pending)} still "
                f"{', '.join(sorted({str(status[r].get('Status')) for r in pending}))} after "
                f"{waiter.timeout_s:.0f} s; the standby was not changed: re-run to wait again"
            )
        print(
            f"  secret {secret_id}: waiting for the replica in {', '.join(pending)} "
            f"[{elapsed:5.0f} s]",
            file=waiter.out,
            flush=True,
        )
        waiter.sleep(waiter.poll_s)


def wait_for_api_key_replicas(
    aws: Any, suffix: str, primary_region: str, regions: Sequence[str], waiter: Waiter
) -> None:
    """The deployment's API-key secret, read in the primary region where it lives."""
    wait_for_secret_replicas(
        aws.client("secretsmanager", primary_region), names.api_key_secret(suffix), regions, waiter
    )
