"""Create or update one stack set and its instances, starting only the operations needed."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

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


def _held_parameters(stack_set: dict) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack_set.get("Parameters", [])}


def sync(
    cfn: Any, waiter: Waiter, spec: StackSetSpec, *, prune: bool, out: TextIO = sys.stdout
) -> None:
    """Bring the stack set and its instances to ``spec``.

    Unchanged template and parameters start no operation. A changed one updates the stack set
    and every instance. Regions newly configured get instances; instances left OUTDATED by an
    earlier failed or interrupted run are deployed again; instances in regions no longer
    configured are removed only with ``prune``.
    """
    held = describe(cfn, spec.name)
    updated = False
    if held is None:
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
        instances: list[dict] = []
    else:
        waiter.wait_for_running(spec.name)
        changed = [
            what
            for what, same in (
                ("template", _same_template(held.get("TemplateBody"), spec.template_body)),
                ("parameters", _held_parameters(held) == spec.parameters),
            )
            if not same
        ]
        if changed:
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
            updated = True
        instances = list_instances(cfn, spec.name)

    present = {(i["Account"], i["Region"]) for i in instances}
    missing_regions = sorted(
        {r for a in spec.accounts for r in spec.regions if (a, r) not in present}
    )
    if missing_regions:
        print(f"{spec.name}: adding instances in {', '.join(missing_regions)}", file=out)
        operation = waiter.start(
            spec.name,
            cfn.create_stack_instances,
            Accounts=list(spec.accounts),
            Regions=missing_regions,
            OperationPreferences=OPERATION_PREFERENCES,
        )
        waiter.wait(spec.name, operation)

    outdated = sorted(
        {
            i["Region"]
            for i in instances
            if i["Status"] != "CURRENT"
            and i["Region"] in spec.regions
            and i["Account"] in spec.accounts
        }
    )
    if outdated and not updated:
        print(f"{spec.name}: redeploying outdated instances in {', '.join(outdated)}", file=out)
        operation = waiter.start(
            spec.name,
            cfn.update_stack_instances,
            Accounts=list(spec.accounts),
            Regions=outdated,
            OperationPreferences=OPERATION_PREFERENCES,
        )
        waiter.wait(spec.name, operation)

    stale = sorted({i["Region"] for i in instances if i["Region"] not in spec.regions})
    if stale and prune:
        print(
            f"{spec.name}: removing instances in {', '.join(stale)} (no longer configured)",
            file=out,
        )
        operation = waiter.start(
            spec.name,
            cfn.delete_stack_instances,
            Accounts=sorted({i["Account"] for i in instances if i["Region"] in stale}),
            Regions=stale,
            RetainStacks=False,
            OperationPreferences=OPERATION_PREFERENCES,
        )
        waiter.wait(spec.name, operation)
    elif stale:
        print(
            f"{spec.name}: instances in {', '.join(stale)} are no longer configured; "
            "kept (pass --remove-unconfigured-regions to delete them)",
            file=out,
        )
    if held is not None and not (updated or missing_regions or outdated or (stale and prune)):
        print(f"{spec.name}: up to date, no operation started", file=out)


def instance_outputs(aws: Any, admin_cfn: Any, name: str, account: str, region: str) -> list[dict]:
    """The outputs of one instance's stack, read from the stack in its own region."""
    instance = admin_cfn.describe_stack_instance(
        StackSetName=name, StackInstanceAccount=account, StackInstanceRegion=region
    )["StackInstance"]
    stack_id = instance.get("StackId")
    if not stack_id:
        return []
    stacks = aws.client("cloudformation", region).describe_stacks(StackName=stack_id)["Stacks"]
    return stacks[0].get("Outputs", []) if stacks else []
