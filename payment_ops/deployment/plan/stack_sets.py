"""What ``stacksets.sync`` (and ``remove_instances``) would do to one stack set: created or
updated, which instances are added, deployed again or removed, and the template diff."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .. import table_steps
from ..stacksets import Held, StackSetSpec, _same_parameters, _same_template
from .diff import Change, ResourceChange, TemplateDiff, diff_templates
from .values import MISSING, parameter_values


@dataclass(frozen=True)
class StackSetPlan:
    name: str
    regions: tuple[str, ...]  # the regions deploy wants
    exists: bool
    update: bool = False  # deploy would call UpdateStackSet
    parameters: tuple[Change, ...] = ()
    diff: TemplateDiff = field(default_factory=lambda: TemplateDiff((), ()))
    regions_added: tuple[str, ...] = ()
    regions_removed: tuple[str, ...] = ()
    regions_outdated: tuple[str, ...] = ()
    removal_allowed: bool = True
    notes: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()  # intermediate updates before the one that does the rest

    @property
    def changes(self) -> bool:
        return not self.exists or bool(
            self.update or self.regions_added or self.regions_removed or self.regions_outdated
        )

    @property
    def unsafe(self) -> tuple[ResourceChange, ...]:
        return tuple(r for r in self.diff.resources if r.unsafe)


def plan_stack_set(
    spec: StackSetSpec,
    current: Held,
    unconfigured: list[str] | tuple[str, ...] = (),
    removal_allowed: bool = True,
) -> StackSetPlan:
    """What ``stacksets.sync`` (and ``remove_instances``) would do to this stack set."""
    new = json.loads(spec.template_body)
    region = spec.regions[0]
    stack_set = current.stack_set
    if stack_set is None:
        return _new_stack_set(spec, new, region)
    body = stack_set.get("TemplateBody")
    update = not (
        _same_template(body, spec.template_body) and _same_parameters(stack_set, spec.parameters)
    )
    held_parameters = {
        p["ParameterKey"]: p.get("ParameterValue") for p in stack_set.get("Parameters", [])
    }
    notes: list[str] = []
    try:
        old = json.loads(body or "")
    except ValueError:
        old = None
        if update:
            notes.append("the stack set's current template is not JSON: resources not compared")
    parameters: tuple[Change, ...] = ()
    diff = TemplateDiff((), ())
    steps: tuple[str, ...] = ()
    if update:
        parameters = _parameter_changes(old or {}, held_parameters, new, spec.parameters)
        if old is not None:
            diff = diff_templates(old, new, held_parameters, spec.parameters, region)
            steps = tuple(step.description for step in table_steps.replica_steps(old, new))
    added, outdated = _instance_regions(spec, current)
    return StackSetPlan(
        spec.name,
        spec.regions,
        exists=True,
        update=update,
        parameters=parameters,
        diff=diff,
        regions_added=added,
        regions_removed=tuple(sorted(unconfigured)),
        regions_outdated=outdated if not update else (),
        removal_allowed=removal_allowed,
        notes=tuple(notes),
        steps=steps,
    )


def _new_stack_set(spec: StackSetSpec, new: dict, region: str) -> StackSetPlan:
    """A stack set that does not exist yet: created, every resource and instance added."""
    return StackSetPlan(
        spec.name,
        spec.regions,
        exists=False,
        parameters=tuple(Change((k,), MISSING, v) for k, v in sorted(spec.parameters.items()) if v),
        diff=diff_templates(None, new, {}, spec.parameters, region),
        regions_added=tuple(sorted(spec.regions)),
    )


def _parameter_changes(
    old: dict, held: dict[str, str], new: dict, given: dict[str, str]
) -> tuple[Change, ...]:
    """Each parameter whose value (given, else the template's default) changes."""
    before = parameter_values(old, held)
    after = parameter_values(new, given)
    return tuple(
        Change((k,), before.get(k, MISSING), after.get(k, MISSING))
        for k in sorted(set(before) | set(after))
        if before.get(k, MISSING) != after.get(k, MISSING)
    )


def _instance_regions(spec: StackSetSpec, current: Held) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Regions whose instances are missing, and regions whose instances' status is not
    CURRENT (OUTDATED after a failed or stopped operation: "StackInstanceSummary",
    CloudFormation API Reference), which deploy deploys again."""
    present = {(i["Account"], i["Region"]) for i in current.instances}
    added = sorted({r for a in spec.accounts for r in spec.regions if (a, r) not in present})
    outdated = sorted(
        {
            i["Region"]
            for i in current.instances
            if i.get("Status") != "CURRENT"
            and i["Region"] in spec.regions
            and i["Account"] in spec.accounts
        }
    )
    return tuple(added), tuple(outdated)
