"""Create or update one stack set and its instances, starting only the operations needed."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field, replace
from typing import Any, TextIO
from urllib.parse import urlparse

from . import artifacts, table_steps
from .aws import error_code
from .operations import OPERATION_PREFERENCES, Waiter

CAPABILITIES = ["CAPABILITY_NAMED_IAM"]


@dataclass(frozen=True)
class StackSetSpec:
    name: str
    description: str
    template_body: str  # what the stack set must hold
    template_url: str | None  # set when the body is too big to pass inline
    parameters: dict[str, str]
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)

    def template_source(self) -> dict[str, str]:
        if self.template_url:
            return {"TemplateURL": self.template_url}
        return {"TemplateBody": self.template_body}

    def parameter_list(self) -> list[dict[str, str]]:
        return [
            {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(self.parameters.items())
        ]

    def tag_list(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())]


def describe(cfn: Any, name: str) -> dict | None:
    try:
        return cfn.describe_stack_set(StackSetName=name)["StackSet"]
    except Exception as error:
        if error_code(error) == "StackSetNotFoundException":
            return None
        raise


def list_instances(cfn: Any, name: str) -> list[dict]:
    instances: list[dict] = []
    for page in cfn.get_paginator("list_stack_instances").paginate(StackSetName=name):
        instances.extend(page.get("Summaries", []))
    return instances


def _same_template(held: str | None, wanted: str) -> bool:
    try:
        return json.loads(held or "") == json.loads(wanted)
    except ValueError:
        return held == wanted


def _same_parameters(stack_set: dict, wanted: dict[str, str]) -> bool:
    # Only the parameters deploy sets: the others keep their template defaults, whether or not
    # DescribeStackSet lists them.
    held = {p["ParameterKey"]: p.get("ParameterValue") for p in stack_set.get("Parameters", [])}
    return all(held.get(key) == value for key, value in wanted.items())


@dataclass(frozen=True)
class Held:
    """What CloudFormation holds for a stack set: its description and instances (None/[] when
    the stack set does not exist)."""

    stack_set: dict | None
    instances: list[dict]

    def regions(self) -> set[str]:
        return {i["Region"] for i in self.instances}


def held(cfn: Any, name: str) -> Held:
    stack_set = describe(cfn, name)
    return Held(stack_set, list_instances(cfn, name) if stack_set else [])


def _create_stack_set(cfn: Any, spec: StackSetSpec, out: TextIO) -> None:
    print(f"{spec.name}: creating stack set", file=out)
    cfn.create_stack_set(
        StackSetName=spec.name,
        Description=spec.description,
        Parameters=spec.parameter_list(),
        Capabilities=CAPABILITIES,
        PermissionModel="SELF_MANAGED",
        Tags=spec.tag_list(),
        **spec.template_source(),
    )


def _update_if_changed(
    cfn: Any, waiter: Waiter, spec: StackSetSpec, stack_set: dict, out: TextIO
) -> bool:
    """Update the stack set and every instance when its template or parameters differ from
    ``spec``; True when it did."""
    changed = [
        what
        for what, same in (
            ("template", _same_template(stack_set.get("TemplateBody"), spec.template_body)),
            ("parameters", _same_parameters(stack_set, spec.parameters)),
        )
        if not same
    ]
    if not changed:
        return False
    print(
        f"{spec.name}: updating stack set and instances ({' and '.join(changed)} changed)",
        file=out,
    )
    operation = waiter.start(
        spec.name,
        cfn.update_stack_set,
        Description=spec.description,
        Parameters=spec.parameter_list(),
        Capabilities=CAPABILITIES,
        Tags=spec.tag_list(),
        OperationPreferences=OPERATION_PREFERENCES,
        **spec.template_source(),
    )
    waiter.wait(spec.name, operation)
    return True


def _missing_regions(spec: StackSetSpec, instances: list[dict]) -> list[str]:
    """The configured regions where some configured account has no instance."""
    present = {(i["Account"], i["Region"]) for i in instances}
    return sorted({r for a in spec.accounts for r in spec.regions if (a, r) not in present})


def _outdated_regions(spec: StackSetSpec, instances: list[dict]) -> list[str]:
    """The configured regions with an instance not CURRENT (left by a failed or stopped run)."""
    return sorted(
        {
            i["Region"]
            for i in instances
            if i["Status"] != "CURRENT"
            and i["Region"] in spec.regions
            and i["Account"] in spec.accounts
        }
    )


def _on_instances(waiter: Waiter, spec: StackSetSpec, call: Any, regions: list[str]) -> None:
    """Run an instance operation (create or update) in ``regions`` of every account; wait."""
    operation = waiter.start(
        spec.name,
        call,
        Accounts=list(spec.accounts),
        Regions=regions,
        OperationPreferences=OPERATION_PREFERENCES,
    )
    waiter.wait(spec.name, operation)


def sync(
    cfn: Any, waiter: Waiter, spec: StackSetSpec, current: Held, out: TextIO = sys.stdout
) -> bool:
    """Bring the stack set and its instances in ``spec.regions`` to ``spec``; True when it
    created or changed anything.

    Unchanged template and parameters start no operation. A changed one updates the stack set
    and every instance. Regions newly configured get instances; instances left OUTDATED by an
    earlier failed or interrupted run are deployed again. Instances in other regions are left
    to ``remove_instances``.
    """
    updated = False
    instances = current.instances
    if current.stack_set is None:
        _create_stack_set(cfn, spec, out)
    else:
        if waiter.wait_for_running(spec.name):
            current = held(cfn, spec.name)  # what the earlier operation left
            instances = current.instances
        updated = _update_if_changed(cfn, waiter, spec, current.stack_set, out)
        if updated:
            instances = list_instances(cfn, spec.name)

    missing_regions = _missing_regions(spec, instances)
    if missing_regions:
        print(f"{spec.name}: adding instances in {', '.join(missing_regions)}", file=out)
        _on_instances(waiter, spec, cfn.create_stack_instances, missing_regions)

    outdated = _outdated_regions(spec, instances)
    if outdated and not updated:
        print(f"{spec.name}: redeploying outdated instances in {', '.join(outdated)}", file=out)
        _on_instances(waiter, spec, cfn.update_stack_instances, outdated)
    changed = current.stack_set is None or bool(updated or missing_regions or outdated)
    if not changed:
        print(f"{spec.name}: up to date, no operation started", file=out)
    return changed


def sync_in_steps(
    aws: Any, cfn: Any, waiter: Waiter, spec: StackSetSpec, current: Held, out: TextIO = sys.stdout
) -> bool:
    """``sync``, in as many stack set updates as the global table needs: one replica added or
    removed per update, with nothing else changed (``table_steps``), then the rest. Each
    intermediate template is the one the stack set holds with only the table's replica list
    edited, deployed with the parameters it holds; it goes by URL, next to ``spec``'s, when
    ``spec``'s template does. True when it created or changed anything."""
    steps = _steps(current, spec)
    for number, step in enumerate(steps, start=1):
        print(f"{spec.name}: update {number} of {len(steps) + 1}: {step.description}", file=out)
        body = json.dumps(step.template, indent=1, sort_keys=True)
        held_parameters = {
            p["ParameterKey"]: p.get("ParameterValue", "")
            for p in (current.stack_set or {}).get("Parameters", [])
        }
        step_spec = replace(
            spec,
            template_body=body,
            template_url=_upload_beside(aws, spec.template_url, spec.name, body),
            parameters=held_parameters,
        )
        sync(cfn, waiter, step_spec, held(cfn, spec.name), out)
        current = held(cfn, spec.name)
    if steps:
        print(f"{spec.name}: update {len(steps) + 1} of {len(steps) + 1}: the rest", file=out)
    return sync(cfn, waiter, spec, current, out) or bool(steps)


def _steps(current: Held, spec: StackSetSpec) -> list[table_steps.Step]:
    if current.stack_set is None:
        return []  # a creation makes every replica at once
    try:
        old = json.loads(current.stack_set.get("TemplateBody") or "")
    except ValueError:
        return []
    return table_steps.replica_steps(old, json.loads(spec.template_body))


def _upload_beside(aws: Any, url: str | None, name: str, body: str) -> str | None:
    """The intermediate template in the bucket ``url`` names (None: passed inline)."""
    if url is None:
        return None
    host = urlparse(url).hostname or ""
    bucket, _, rest = host.partition(".s3.")
    region = rest.removesuffix(".amazonaws.com")
    sha = hashlib.sha256(body.encode()).hexdigest()
    key = f"templates/{name}-step-{sha}.template.json"
    artifacts.upload_once(aws, region, bucket, key, body.encode())
    return artifacts.object_url(bucket, region, key)


def remove_instances(
    cfn: Any, waiter: Waiter, name: str, current: Held, regions: list[str], out: TextIO
) -> None:
    """Delete the stack set's instances in ``regions`` (their retained resources stay)."""
    print(f"{name}: removing instances in {', '.join(regions)} (no longer configured)", file=out)
    operation = waiter.start(
        name,
        cfn.delete_stack_instances,
        Accounts=sorted({i["Account"] for i in current.instances if i["Region"] in regions}),
        Regions=regions,
        RetainStacks=False,
        OperationPreferences=OPERATION_PREFERENCES,
    )
    waiter.wait(name, operation)


def instance_outputs(aws: Any, admin_cfn: Any, name: str, account: str, region: str) -> list[dict]:
    """The outputs of one instance's stack, read from the stack in its own region."""
    instance = admin_cfn.describe_stack_instance(
        StackSetName=name, StackInstanceAccount=account, StackInstanceRegion=region
    )["StackInstance"]
    stack_id = instance.get("StackId")
    if not stack_id:
        return []
    # The stack lives in the instance's account: read it with credentials there.
    cfn = aws.in_account(account, region).client("cloudformation", region)
    stacks = cfn.describe_stacks(StackName=stack_id)["Stacks"]
    return stacks[0].get("Outputs", []) if stacks else []
