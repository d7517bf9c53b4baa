"""The plan as printed: per stack set its instances, parameters, resources and outputs, a
stateful resource replaced or deleted marked (red on a terminal), and one summary line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from templates_src.config import Config

from .diff import Change, ResourceChange
from .replacement import MAY_REPLACE, REPLACE
from .stack_sets import StackSetPlan
from .values import MISSING, Unknown

MAX_VALUE_CHARS = 60
RED = "\033[31m"
RESET = "\033[0m"
STATEFUL_MARK = "!! REPLACES STATEFUL"
MAY_STATEFUL_MARK = "!! MAY REPLACE STATEFUL"  # conditionally create-only: refused all the same
REMOVES_STATEFUL_MARK = "!! REMOVES STATEFUL"


def short(value: Any) -> str:
    """A value on one line, cut to MAX_VALUE_CHARS."""
    if value is MISSING:
        return "(absent)"
    if isinstance(value, Unknown):
        text = str(value)
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _change_line(change: Change) -> str:
    if change.old is MISSING:
        line = f"+ {change.where}: {short(change.new)}"
    elif change.new is MISSING:
        line = f"- {change.where}: {short(change.old)}"
    else:
        line = f"~ {change.where}: {short(change.old)} -> {short(change.new)}"
    if change.replaces:
        line += f"  [{change.replaces}: {change.pointer}]"
    return line


def _resource_line(resource: ResourceChange) -> tuple[str, bool]:
    """The line and whether it is an alarm (red on a terminal)."""
    symbol = {"add": "+", "remove": "-", "modify": "~"}[resource.action]
    line = f"{symbol} {resource.logical_id} ({resource.resource_type})"
    if resource.replacement == REPLACE:
        line += f"  {STATEFUL_MARK}" if resource.stateful else "  REPLACES"
    elif resource.replacement == MAY_REPLACE:
        line += f"  {MAY_STATEFUL_MARK}" if resource.stateful else "  MAY REPLACE"
    elif resource.action == "remove" and resource.stateful:
        line += f"  {REMOVES_STATEFUL_MARK}"
    return line, resource.unsafe or (resource.stateful and resource.action == "remove")


def render(plans: list[StackSetPlan], color: bool = False) -> str:
    """The plan as printed: per stack set, instances, parameters, resources, outputs."""

    def alarm(text: str) -> str:
        return f"{RED}{text}{RESET}" if color else text

    lines = []
    for plan in plans:
        if not plan.changes:
            lines.append(f"plan {plan.name} ({', '.join(plan.regions)}): no changes")
            continue
        lines += _heading(plan)
        lines += _instance_lines(plan)
        lines += [f"  note: {note}" for note in plan.notes]
        lines += [f"  parameter {_change_line(change)}" for change in plan.parameters]
        lines += _resource_lines(plan, alarm)
    lines.append(_summary(plans, alarm))
    return "\n".join(lines) + "\n"


def _heading(plan: StackSetPlan) -> list[str]:
    """Created, updated (in how many updates) or left as it is, with its instances changing."""
    where = ", ".join(plan.regions)
    if not plan.exists:
        return [
            f"plan {plan.name} ({where}): stack set does not exist yet: created, "
            f"every resource added"
        ]
    if not plan.update:
        return [f"plan {plan.name} ({where}): template and parameters unchanged"]
    lines = [f"plan {plan.name} ({where}): stack set and its instances updated"]
    if plan.steps:
        total = len(plan.steps) + 1
        lines.append(
            f"  in {total} updates (a global table adds or removes one replica per "
            "update, nothing else with it):"
        )
        for number, step in enumerate(plan.steps, start=1):
            lines.append(f"    update {number} of {total}: {step}")
        lines.append(f"    update {total} of {total}: the rest")
    return lines


def _instance_lines(plan: StackSetPlan) -> list[str]:
    lines = [f"  + instance {region}" for region in plan.regions_added]
    lines += [
        f"  ~ instance {region}: OUTDATED, deployed again" for region in plan.regions_outdated
    ]
    for region in plan.regions_removed:
        if plan.removal_allowed:
            lines.append(f"  - instance {region}: no longer configured, removed")
        else:
            lines.append(
                f"  - instance {region}: no longer configured; deploy refuses without "
                "--remove-unconfigured-regions"
            )
    return lines


def _resource_lines(plan: StackSetPlan, alarm: Callable[[str], str]) -> list[str]:
    """The resource counts, each resource with its changes and notes, and the outputs."""
    lines = []
    resources = plan.diff.resources
    if plan.update or not plan.exists:
        counts = {a: sum(r.action == a for r in resources) for a in ("add", "remove", "modify")}
        replaced = [r for r in resources if r.replacement]
        lines.append(
            f"  resources: {counts['add']} to add, {counts['remove']} to remove, "
            f"{counts['modify']} to modify ({len(replaced)} replaced"
            f"{f', {sum(r.stateful for r in replaced)} stateful' if replaced else ''})"
        )
    for resource in resources:
        line, is_alarm = _resource_line(resource)
        lines.append("    " + (alarm(line) if is_alarm else line))
        lines += [f"        {_change_line(change)}" for change in resource.changes]
        lines += [f"        note: {note}" for note in resource.notes]
    if plan.diff.outputs:
        outputs = [
            ("+" if c.old is MISSING else "-" if c.new is MISSING else "~") + str(c.path[0])
            for c in plan.diff.outputs
        ]
        lines.append(f"  outputs: {' '.join(outputs)}")
    return lines


def _summary(plans: list[StackSetPlan], alarm: Callable[[str], str]) -> str:
    unsafe = [r for p in plans for r in p.unsafe]
    changed = [p for p in plans if p.changes]
    summary = f"plan: {len(changed)} of {len(plans)} stack set(s) change"
    if not changed:
        summary = "plan: no changes"
    if unsafe:
        summary += "; " + alarm(f"{len(unsafe)} stateful resource(s) replaced or deleted")
    return summary


def _unsafe_word(resource: ResourceChange) -> str:
    return "replaced" if resource.replacement else "deleted"


def unsafe_summary(plans: list[StackSetPlan]) -> str:
    """One line naming every stateful resource the plan would replace or delete."""
    return ", ".join(
        f"{p.name} {r.logical_id} ({r.resource_type}, {_unsafe_word(r)})"
        for p in plans
        for r in p.unsafe
    )


def alarm_subscriber_note(config: Config, opted_out: bool) -> str:
    """What the plan says about the alarm subscriber (issue 15: "the plan says so"): who the
    alarms reach, that the opt-out is in force, or that deploy would refuse."""
    if config.alarm_email:
        return f"alarms: e-mailed to {config.alarm_email} (the address confirms the subscription)"
    if opted_out:
        return "note: --no-alarm-subscriber: the alarms notify a topic nobody is subscribed to"
    return (
        "note: deploy refuses this: no alarm subscriber; give --alarm-email ADDRESS or "
        "--no-alarm-subscriber"
    )
