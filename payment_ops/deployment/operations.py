"""Stack set operations: start one (retrying while another runs), wait for it, report it.

CloudFormation runs one operation per stack set at a time and answers a second with
``OperationInProgressException``; operations are asynchronous, so every start is followed by a
wait that polls the operation and its per-region results until it ends or the timeout passes.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from .aws import error_code
from .errors import DeployError

HEARTBEAT_S = 60.0
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
ACTIVE = frozenset({"RUNNING", "QUEUED", "STOPPING"})

# Regions in parallel; within a region one account at a time, stopping at the first failure.
OPERATION_PREFERENCES = {
    "RegionConcurrencyType": "PARALLEL",
    "FailureToleranceCount": 0,
    "MaxConcurrentCount": 1,
}


@dataclass
class Waiter:
    """Polls operations with progress on screen; ``sleep``/``clock`` are replaceable in tests."""

    cfn: Any  # the CloudFormation client of the administrator region
    timeout_s: float = 3600.0
    poll_s: float = 10.0
    out: TextIO = field(default_factory=lambda: sys.stdout)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def start(self, stack_set: str, call: Callable[..., dict], **kwargs: Any) -> str:
        """Start an operation; while another one runs, wait and retry. Returns its id."""
        kwargs.setdefault("OperationId", str(uuid.uuid4()))  # a retried call stays one operation
        deadline = self.clock() + self.timeout_s
        while True:
            try:
                return call(StackSetName=stack_set, **kwargs)["OperationId"]
            except Exception as error:
                if error_code(error) != "OperationInProgressException":
                    raise
                if self.clock() >= deadline:
                    raise DeployError(
                        f"{stack_set}: another operation was still running after "
                        f"{self.timeout_s:.0f} s; re-run when it has finished"
                    ) from error
                self._say(
                    f"  {stack_set}: another operation is running; retrying in {self.poll_s:.0f} s"
                )
                self.sleep(self.poll_s)

    def wait(self, stack_set: str, operation_id: str) -> dict:
        """Wait for one operation; raise DeployError naming every failed region."""
        started = self.clock()
        last_state: tuple[str, str] | None = None
        last_said = started
        while True:
            operation = self.cfn.describe_stack_set_operation(
                StackSetName=stack_set, OperationId=operation_id
            )["StackSetOperation"]
            results = self.results(stack_set, operation_id)
            status = operation["Status"]
            regions = ", ".join(f"{r['Region']} {r['Status']}" for r in results) or "no instances"
            state = f"{operation['Action']} {status}"
            now = self.clock()
            # A line when something changed, and a heartbeat while nothing does.
            if (state, regions) != last_state or now - last_said >= HEARTBEAT_S:
                self._say(f"  {stack_set}: {state} [{now - started:5.0f} s] {regions}")
                last_state, last_said = (state, regions), now
            if status in TERMINAL:
                break
            if self.clock() - started >= self.timeout_s:
                raise DeployError(
                    f"{stack_set}: operation {operation_id} still {status} after "
                    f"{self.timeout_s:.0f} s; it continues in AWS: "
                    "re-run to wait for it and converge"
                )
            self.sleep(self.poll_s)
        if status != "SUCCEEDED":
            failed = [r for r in results if r["Status"] not in ("SUCCEEDED",)]
            details = "; ".join(
                f"{r['Region']} ({r['Account']}): {r['Status']}: "
                f"{r.get('StatusReason') or 'no reason given'}"
                for r in failed
            )
            reason = operation.get("StatusReason") or ""
            raise DeployError(
                f"{stack_set}: {operation['Action']} {status}"
                + (f" ({reason})" if reason else "")
                + (f" - {details}" if details else "")
            )
        return operation

    def wait_for_running(self, stack_set: str) -> bool:
        """Before changing a stack set, let an operation of an earlier run finish (convergence
        after an interrupted deploy). True when there was one to wait for."""
        summaries = self.cfn.list_stack_set_operations(StackSetName=stack_set).get("Summaries", [])
        running = [s for s in summaries if s["Status"] in ACTIVE]
        for summary in running:
            self._say(f"  {stack_set}: waiting for earlier operation {summary['OperationId']}")
            try:
                self.wait(stack_set, summary["OperationId"])
            except DeployError as error:
                # The earlier run failed; this run is about to retry what it attempted.
                self._say(f"  earlier operation did not succeed: {error}")
        return bool(running)

    def results(self, stack_set: str, operation_id: str) -> list[dict]:
        paginator = self.cfn.get_paginator("list_stack_set_operation_results")
        results: list[dict] = []
        for page in paginator.paginate(StackSetName=stack_set, OperationId=operation_id):
            results.extend(page.get("Summaries", []))
        return results

    def _say(self, line: str) -> None:
        print(line, file=self.out, flush=True)
