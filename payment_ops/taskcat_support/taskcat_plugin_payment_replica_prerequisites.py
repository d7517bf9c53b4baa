"""taskcat prehook ``payment_replica_prerequisites``: the stacks a test needs before it starts.

The templates depend on each other across regions. The primary template's global table puts a
replica in every replica region, encrypted with that region's ``alias/payment-<suffix>-table``
key, and replicates the API-key secret with ``alias/payment-<suffix>-app``; the replica template
creates those keys. The standby template runs on the table replica and the secret replica that
the primary creates, and imports the replica stack's exports. taskcat runs its tests in
parallel, each with its own random suffix, so no test can borrow another test's stacks.

Before the test stacks start, this hook deploys the test's ``config.steps`` in order, as plain
stacks carrying the test's own suffix: every region of a step, each stack waited for until
CREATE_COMPLETE, before the next step. A step that fails stops the steps after it (they would
fail on what it did not create). ``delete_all()`` removes the stacks once the test stacks are
gone, per test in reverse creation order, each waited for (the replica stack's exports cannot go
while a stack still imports them); ``scripts/run_taskcat.py`` calls it after taskcat's clean-up
and reports the result; under a bare ``taskcat test run`` (with this folder on ``PYTHONPATH``)
it runs at interpreter exit.

Configuration (in ``.taskcat.yml``, under the test)::

    prehooks:
      - type: payment_replica_prerequisites
        config:
          steps:
            - {template: build/replica.template.json, regions: [us-west-2]}
            - {template: build/primary.template.json, regions: [us-east-1], code: true}

Every step gets ``EnvironmentSuffix`` = the test's suffix. ``code: true`` also passes the
template's code parameters: ``ArtifactBucketName`` = taskcat's staging bucket in the step's
region and ``HandlerCodeKey`` = the test's own ``HandlerCodeKey`` (the staged handler zip).
A template over CloudFormation's 51,200-byte ``TemplateBody`` limit goes by ``TemplateURL``,
from taskcat's staged copy in that bucket (``<bucket>/<project name>/<template path>``). taskcat
stages only in the buckets of a test's regions (or its ``artifact_regions``), so list a step's
region there when no test runs in it.

taskcat imports a hook as module ``taskcat_plugin_<type>``, hence this file's name.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from taskcat.exceptions import TaskCatException
from taskcat.testing._hooks import BaseTaskcatHook

LOG = logging.getLogger(__name__)

NAME = "payment_replica_prerequisites"
SUFFIX_PARAMETER = "EnvironmentSuffix"
CODE_KEY_PARAMETER = "HandlerCodeKey"
CODE_BUCKET_PARAMETER = "ArtifactBucketName"
TEMPLATE_BODY_LIMIT = 51_200  # bytes; CloudFormation wants a TemplateURL above it
WAIT = {"Delay": 10, "MaxAttempts": 180}  # a replica or primary stack takes minutes on AWS


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Step:
    """One entry of ``config.steps``: a template for some regions."""

    template: str  # relative to the project root, as taskcat stages it
    regions: tuple[str, ...]
    code: bool = False

    @property
    def label(self) -> str:
        """``replica`` for ``build/replica.template.json``: what the table and names show."""
        return PurePosixPath(self.template).name.split(".")[0]


def parse_steps(hook_config: dict | None) -> list[Step]:
    """The configured steps; TaskCatException naming what is wrong."""
    raw = (hook_config or {}).get("steps")
    if not isinstance(raw, list) or not raw:
        raise TaskCatException(
            f"{NAME}: config needs 'steps', a list of {{template, regions[, code]}}"
        )
    steps = []
    for number, item in enumerate(raw, 1):
        item = item if isinstance(item, dict) else {}
        template, regions = item.get("template"), item.get("regions")
        unknown = sorted(set(item) - {"template", "regions", "code"})
        if not template or not isinstance(regions, list) or not regions or unknown:
            raise TaskCatException(
                f"{NAME}: step {number} needs 'template' and 'regions' (and at most 'code')"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        steps.append(Step(str(template), tuple(str(r) for r in regions), bool(item.get("code"))))
    return steps


@dataclass
class Prerequisite:
    """One stack of one step, created for one region of one test."""

    test: str
    step: int  # 1-based position in the test's steps
    template: str
    for_region: str  # the test region whose suffix it carries
    region: str  # where the stack is
    suffix: str
    stack_name: str
    stack_id: str = ""
    created_status: str = ""
    created_reason: str = ""
    final_status: str = ""
    final_reason: str = ""
    # UTC ISO times: when CreateStack was called and its outcome seen, same for DeleteStack.
    create_requested_at: str = ""
    created_at: str = ""
    delete_requested_at: str = ""
    deleted_at: str = ""
    client: Any = None

    def record(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "step": self.step,
            "template": self.template,
            "for_region": self.for_region,
            "region": self.region,
            "suffix": self.suffix,
            "stack_name": self.stack_name,
            "stack_id": self.stack_id,
            "created_status": self.created_status,
            "created_reason": self.created_reason,
            "final_status": self.final_status,
            "final_reason": self.final_reason,
            "create_requested_at": self.create_requested_at,
            "created_at": self.created_at,
            "delete_requested_at": self.delete_requested_at,
            "deleted_at": self.deleted_at,
        }


_lock = threading.Lock()
CREATED: list[Prerequisite] = []  # in creation order
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


def staging_bucket(test_region: Any, region: str) -> str:
    """taskcat's staging bucket in ``region``, named after the test region's own.

    Regional buckets are ``<prefix>-<region>`` (``$[taskcat_autobucket_prefix]``), whether
    taskcat generated the prefix or ``s3_bucket`` gave it; a single bucket serves every region.
    """
    bucket = test_region.s3_bucket
    if not bucket.regional_buckets:
        return bucket.name
    own = f"-{bucket.region}"
    if not bucket.name.endswith(own):
        raise TaskCatException(f"{NAME}: staging bucket {bucket.name} does not end with {own}")
    return bucket.name[: -len(own)] + f"-{region}"


class Hook(BaseTaskcatHook):
    """Create every step's stacks for every region of ``test``, in order; raise if one fails."""

    def __init__(
        self,
        hook_config: dict,
        config: Any,
        test: Any,
        parameters: dict,
        outputs: dict | None,
    ) -> None:
        super().__init__(hook_config, config, test, parameters, outputs)
        steps = parse_steps(hook_config)
        root = Path(config.project_root)
        project = config.config.project.name
        try:
            bodies = {step.template: (root / step.template).read_text() for step in steps}
        except OSError as error:
            raise TaskCatException(f"{NAME}: {error}") from error
        failures = []
        for test_region in test.regions:
            suffix = test_region.parameters.get(SUFFIX_PARAMETER)
            if not suffix:
                raise TaskCatException(f"{NAME}: test {test.name} has no {SUFFIX_PARAMETER}")
            failure = None
            for number, step in enumerate(steps, 1):
                for region in step.regions:
                    prerequisite = Prerequisite(
                        test=str(test.name),
                        step=number,
                        template=step.template,
                        for_region=test_region.name,
                        region=region,
                        suffix=suffix,
                        stack_name=f"tCaT-{project}-{test.name}-prerequisite-{step.label}-"
                        f"{test.uid.hex[:8]}-{test_region.name}",
                    )
                    failure = _create(
                        prerequisite, step, bodies[step.template], project, test, test_region
                    )
                    if failure:
                        break
                if failure:  # the later steps build on this one
                    failures.append(failure)
                    break
        if failures:
            raise TaskCatException("; ".join(failures))


def _create_arguments(
    prerequisite: Prerequisite, step: Step, body: str, project: str, test_region: Any
) -> dict[str, Any]:
    """CreateStack's template and parameters; TaskCatException when the staged copy is missing."""
    parameters = {SUFFIX_PARAMETER: prerequisite.suffix}
    staged: list[str] = []
    bucket = ""
    if len(body.encode()) > TEMPLATE_BODY_LIMIT or step.code:
        bucket = staging_bucket(test_region, prerequisite.region)
    if step.code:
        code_key = test_region.parameters.get(CODE_KEY_PARAMETER)
        if not code_key:
            raise TaskCatException(
                f"{NAME}: step {prerequisite.step} has 'code' but test {prerequisite.test} has "
                f"no {CODE_KEY_PARAMETER} parameter"
            )
        parameters[CODE_BUCKET_PARAMETER] = bucket
        parameters[CODE_KEY_PARAMETER] = code_key
        staged.append(code_key)
    arguments: dict[str, Any] = {}
    if len(body.encode()) > TEMPLATE_BODY_LIMIT:
        key = f"{project}/{PurePosixPath(step.template)}"
        region = prerequisite.region
        arguments["TemplateURL"] = f"https://{bucket}.s3.{region}.amazonaws.com/{key}"
        staged.append(key)
    else:
        arguments["TemplateBody"] = body
    s3 = test_region.session.client("s3", region_name=prerequisite.region)
    for key in staged:
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except Exception as error:  # noqa: BLE001 - missing bucket or object, same remedy
            raise TaskCatException(
                f"no staged s3://{bucket}/{key} ({error}): taskcat stages only in the regions "
                f"of its tests; add {prerequisite.region} to test {prerequisite.test}'s "
                "artifact_regions"
            ) from error
    arguments["Parameters"] = [
        {"ParameterKey": name, "ParameterValue": value} for name, value in parameters.items()
    ]
    return arguments


def _taskcat_tags(test: Any, test_region: Any) -> list[dict[str, str]]:
    return [
        # taskcat's own tags, so that `taskcat test clean <project>` finds a leftover.
        {"Key": "taskcat-id", "Value": test.uid.hex},
        {"Key": "taskcat-project-name", "Value": test._project_name},
        {"Key": "taskcat-test-name", "Value": str(test.name)},
        {"Key": "taskcat-prerequisite-for", "Value": test_region.name},
    ]


def _request_create(
    prerequisite: Prerequisite, step: Step, body: str, project: str, test: Any, test_region: Any
) -> None:
    """CreateStack; a refusal (or a missing staged copy) is the prerequisite's CREATE_FAILED."""
    tags = _taskcat_tags(test, test_region)
    LOG.info(
        "creating %s (%s) in %s (suffix %s)",
        prerequisite.stack_name,
        step.template,
        prerequisite.region,
        prerequisite.suffix,
    )
    prerequisite.create_requested_at = _now()
    try:
        arguments = _create_arguments(prerequisite, step, body, project, test_region)
        prerequisite.stack_id = prerequisite.client.create_stack(
            StackName=prerequisite.stack_name,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            DisableRollback=True,  # keep the failed resources' reasons for the report
            Tags=tags,
            **arguments,
        )["StackId"]
    except Exception as error:  # noqa: BLE001 - any refusal is this prerequisite's failure
        prerequisite.created_status = "CREATE_FAILED"
        prerequisite.created_reason = str(error)


def _remember(prerequisite: Prerequisite) -> None:
    """Into ``CREATED`` for ``delete_all``, which the first one also registers at exit."""
    global _exit_hook_registered
    with _lock:
        CREATED.append(prerequisite)
        if not _exit_hook_registered:
            atexit.register(delete_all)
            _exit_hook_registered = True


def _await_create(prerequisite: Prerequisite) -> None:
    client = prerequisite.client
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


def _create(
    prerequisite: Prerequisite,
    step: Step,
    body: str,
    project: str,
    test: Any,
    test_region: Any,
) -> str | None:
    """Create one prerequisite stack and wait for it; None, or why it did not complete."""
    client = test_region.session.client("cloudformation", region_name=prerequisite.region)
    prerequisite.client = client
    _request_create(prerequisite, step, body, project, test, test_region)
    _remember(prerequisite)
    if prerequisite.stack_id:
        _await_create(prerequisite)
    prerequisite.created_at = _now()
    if prerequisite.created_status == "CREATE_COMPLETE":
        return None
    return (
        f"prerequisite {prerequisite.stack_name} in {prerequisite.region}: "
        f"{prerequisite.created_status} {prerequisite.created_reason}".strip()
    )


def _request_delete(prerequisite: Prerequisite) -> None:
    if not prerequisite.stack_id:
        # A refused CreateStack creates nothing on AWS; the emulator may still have
        # registered the stack before a resource failed.
        prerequisite.stack_id = _live_stack_id(prerequisite.client, prerequisite.stack_name)
    if not prerequisite.stack_id:
        prerequisite.final_status = "NOT_CREATED"
        return
    prerequisite.delete_requested_at = _now()
    try:
        prerequisite.client.delete_stack(StackName=prerequisite.stack_id)
    except Exception as error:  # noqa: BLE001
        prerequisite.final_status, prerequisite.final_reason = "DELETE_FAILED", str(error)
        prerequisite.deleted_at = _now()


def _await_delete(prerequisite: Prerequisite) -> None:
    if prerequisite.final_status:  # not created, or DeleteStack refused
        return
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
    prerequisite.deleted_at = _now()
    LOG.info("deleted %s in %s: %s", prerequisite.stack_name, prerequisite.region, status)


def delete_all() -> list[dict[str, Any]]:
    """Delete every prerequisite stack created so far; their records, in creation order.

    Each test region's stacks go in reverse creation order, each one waited for before the
    next (a later step may import an earlier one's exports); different test regions' stacks
    go side by side, one round at a time.
    """
    with _lock:
        pending = list(CREATED)
        CREATED.clear()
    chains: dict[tuple[str, str], list[Prerequisite]] = {}
    for prerequisite in pending:
        chains.setdefault((prerequisite.test, prerequisite.for_region), []).append(prerequisite)
    while any(chains.values()):
        batch = [chain.pop() for chain in chains.values() if chain]
        for prerequisite in batch:
            _request_delete(prerequisite)
        for prerequisite in batch:
            _await_delete(prerequisite)
    return [prerequisite.record() for prerequisite in pending]
