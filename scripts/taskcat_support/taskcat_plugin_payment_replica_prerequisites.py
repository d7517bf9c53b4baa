"""taskcat prehook ``payment_replica_prerequisites``: the replica-region keys a primary test needs.

The primary template's global table puts a replica in every replica region, encrypted with that
region's ``alias/payment-<suffix>-table`` key, and replicates the API-key secret with
``alias/payment-<suffix>-app``; the replica template creates those keys. taskcat runs its tests
in parallel, each with its own random suffix, so the primary test cannot borrow the replica
test's keys. Before the test stacks start, this hook deploys the replica template, as a plain
stack with the primary test's own suffix, in every region listed in its ``config.regions``, and
waits for CREATE_COMPLETE. ``delete_all()`` removes those stacks once the test stacks are gone:
``scripts/run_taskcat.py`` calls it after taskcat's clean-up and reports the result; under a bare
``taskcat test run`` (with this folder on ``PYTHONPATH``) it runs at interpreter exit.

Configuration (in ``.taskcat.yml``, under the test)::

    prehooks:
      - type: payment_replica_prerequisites
        config: {template: build/replica.template.json, regions: [us-west-2]}

taskcat imports a hook as module ``taskcat_plugin_<type>``, hence this file's name.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskcat.exceptions import TaskCatException
from taskcat.testing._hooks import BaseTaskcatHook

LOG = logging.getLogger(__name__)

SUFFIX_PARAMETER = "EnvironmentSuffix"
WAIT = {"Delay": 10, "MaxAttempts": 180}  # a replica stack takes minutes on AWS (KMS, S3)


@dataclass
class Prerequisite:
    """One replica-template stack created for one primary test region."""

    test: str
    for_region: str  # the test region whose suffix it carries
    region: str  # where the stack is
    suffix: str
    stack_name: str
    stack_id: str = ""
    created_status: str = ""
    created_reason: str = ""
    final_status: str = ""
    final_reason: str = ""
    client: Any = None

    def record(self) -> dict[str, str]:
        return {
            "test": self.test,
            "for_region": self.for_region,
            "region": self.region,
            "suffix": self.suffix,
            "stack_name": self.stack_name,
            "stack_id": self.stack_id,
            "created_status": self.created_status,
            "created_reason": self.created_reason,
            "final_status": self.final_status,
            "final_reason": self.final_reason,
        }


_lock = threading.Lock()
CREATED: list[Prerequisite] = []
_exit_hook_registered = False


def _stack_state(client: Any, stack_id: str) -> tuple[str, str]:
    try:
        stack = client.describe_stacks(StackName=stack_id)["Stacks"][0]
    except Exception:  # noqa: BLE001 - ListStacks still answers for a half-created stack
        for page in client.get_paginator("list_stacks").paginate():
            for summary in page["StackSummaries"]:
                if summary["StackId"] == stack_id:
                    return summary["StackStatus"], summary.get("StackStatusReason", "")
        raise
    return stack["StackStatus"], stack.get("StackStatusReason", "")


def _first_failure(client: Any, stack_id: str) -> str:
    """The first failed resource's reason: what a reader needs, not the stack's summary."""
    events = client.describe_stack_events(StackName=stack_id)["StackEvents"]
    for event in reversed(events):  # oldest first
        if event.get("ResourceStatus", "").endswith("_FAILED"):
            return f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
    return ""


def _live_stack_id(client: Any, stack_name: str) -> str:
    for page in client.get_paginator("list_stacks").paginate():
        for summary in page["StackSummaries"]:
            if summary["StackName"] == stack_name and summary["StackStatus"] != "DELETE_COMPLETE":
                return summary["StackId"]
    return ""


class Hook(BaseTaskcatHook):
    """Create the prerequisite stacks for every region of ``test``; raise if one fails."""

    def __init__(
        self,
        hook_config: dict,
        config: Any,
        test: Any,
        parameters: dict,
        outputs: dict | None,
    ) -> None:
        super().__init__(hook_config, config, test, parameters, outputs)
        hook_config = hook_config or {}
        regions = hook_config.get("regions") or []
        template = hook_config.get("template")
        if not template or not regions:
            raise TaskCatException(
                "payment_replica_prerequisites: config needs 'template' and 'regions'"
            )
        body = (Path(config.project_root) / template).read_text()
        failures = []
        for test_region in test.regions:
            suffix = test_region.parameters.get(SUFFIX_PARAMETER)
            if not suffix:
                raise TaskCatException(
                    f"payment_replica_prerequisites: test {test.name} has no {SUFFIX_PARAMETER}"
                )
            for region in regions:
                prerequisite = Prerequisite(
                    test=str(test.name),
                    for_region=test_region.name,
                    region=region,
                    suffix=suffix,
                    stack_name=f"tCaT-{config.config.project.name}-{test.name}-prerequisites-"
                    f"{test.uid.hex[:8]}-{region}",
                )
                failure = _create(prerequisite, body, test, test_region)
                if failure:
                    failures.append(failure)
        if failures:
            raise TaskCatException("; ".join(failures))


def _create(prerequisite: Prerequisite, body: str, test: Any, test_region: Any) -> str | None:
    global _exit_hook_registered
    client = test_region.session.client("cloudformation", region_name=prerequisite.region)
    prerequisite.client = client
    tags = [
        # taskcat's own tags, so that `taskcat test clean <project>` finds a leftover.
        {"Key": "taskcat-id", "Value": test.uid.hex},
        {"Key": "taskcat-project-name", "Value": test._project_name},
        {"Key": "taskcat-test-name", "Value": str(test.name)},
        {"Key": "taskcat-prerequisite-for", "Value": test_region.name},
    ]
    LOG.info(
        "creating %s in %s (suffix %s)",
        prerequisite.stack_name,
        prerequisite.region,
        prerequisite.suffix,
    )
    try:
        prerequisite.stack_id = client.create_stack(
            StackName=prerequisite.stack_name,
            TemplateBody=body,  # the replica template is under the 51,200-byte inline limit
            Parameters=[{"ParameterKey": SUFFIX_PARAMETER, "ParameterValue": prerequisite.suffix}],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            DisableRollback=True,  # keep the failed resources' reasons for the report
            Tags=tags,
        )["StackId"]
    except Exception as error:  # noqa: BLE001 - any refusal is this prerequisite's failure
        prerequisite.created_status = "CREATE_FAILED"
        prerequisite.created_reason = str(error)
    with _lock:
        CREATED.append(prerequisite)
        if not _exit_hook_registered:
            atexit.register(delete_all)
            _exit_hook_registered = True
    if prerequisite.stack_id:
        try:
            client.get_waiter("stack_create_complete").wait(
                StackName=prerequisite.stack_id, WaiterConfig=WAIT
            )
        except Exception:  # noqa: BLE001 - the waiter's own message says less than the stack
            pass
        status, reason = _stack_state(client, prerequisite.stack_id)
        if status != "CREATE_COMPLETE":
            reason = _first_failure(client, prerequisite.stack_id) or reason
        prerequisite.created_status, prerequisite.created_reason = status, reason
    if prerequisite.created_status == "CREATE_COMPLETE":
        return None
    return (
        f"prerequisite {prerequisite.stack_name} in {prerequisite.region}: "
        f"{prerequisite.created_status} {prerequisite.created_reason}".strip()
    )


def delete_all() -> list[dict[str, str]]:
    """Delete every prerequisite stack created so far, wait, and return their records."""
    with _lock:
        pending = list(CREATED)
        CREATED.clear()
    for prerequisite in pending:
        if not prerequisite.stack_id:
            # A refused CreateStack creates nothing on AWS; the emulator may still have
            # registered the stack before a resource failed.
            prerequisite.stack_id = _live_stack_id(prerequisite.client, prerequisite.stack_name)
        if prerequisite.stack_id:
            try:
                prerequisite.client.delete_stack(StackName=prerequisite.stack_id)
            except Exception as error:  # noqa: BLE001
                prerequisite.final_status, prerequisite.final_reason = "DELETE_FAILED", str(error)
    for prerequisite in pending:
        if not prerequisite.stack_id:
            prerequisite.final_status = "NOT_CREATED"
            continue
        if prerequisite.final_status:
            continue
        try:
            prerequisite.client.get_waiter("stack_delete_complete").wait(
                StackName=prerequisite.stack_id, WaiterConfig=WAIT
            )
        except Exception:  # noqa: BLE001 - the stack's own status says why
            pass
        status, reason = _stack_state(prerequisite.client, prerequisite.stack_id)
        if status != "DELETE_COMPLETE":
            reason = _first_failure(prerequisite.client, prerequisite.stack_id) or reason
        prerequisite.final_status, prerequisite.final_reason = status, reason
        LOG.info("deleted %s in %s: %s", prerequisite.stack_name, prerequisite.region, status)
    return [prerequisite.record() for prerequisite in pending]
