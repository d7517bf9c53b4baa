"""What a deploy would change, per stack set, before anything changes.

StackSets have no change sets, so the plan is computed here: the template and parameters a
stack set holds now against the ones deploy would pass, resource by logical ID. A changed
property is a replacement when CloudFormation's resource provider schema (the copy shipped with
cfn-lint) lists it as create-only; ``conditionalCreateOnlyProperties`` (such as a DynamoDB
table's ``KeySchema``) are "may replace". Parameters are substituted and conditions evaluated
first, so a changed parameter shows as the property it changes.

Reading only: nothing here calls AWS; the caller passes what it has already read.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import table_steps
from .stacksets import Held, StackSetSpec, _same_parameters, _same_template

# Resources whose replacement or deletion loses data (or, for keys, the ability to read it).
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::GlobalTable",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
    }
)
RETAINING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})
# List items matched by these keys rather than by position: a replica or an index added in the
# middle of a list is one addition, not a shift of every item after it.
IDENTITY_KEYS = ("Region", "IndexName", "Key", "Sid")
MAX_VALUE_CHARS = 60

REPLACE = "replace"
MAY_REPLACE = "may replace"

RED = "\033[31m"
RESET = "\033[0m"
STATEFUL_MARK = "!! REPLACES STATEFUL"
MAY_STATEFUL_MARK = "!! MAY REPLACE STATEFUL"  # conditionally create-only: refused all the same
REMOVES_STATEFUL_MARK = "!! REMOVES STATEFUL"


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()
_NO_VALUE: Any = object()


class Unknown(str):
    """A value the plan cannot know before the deploy runs (printed as is, not as JSON)."""


# --- values: parameters substituted, conditions evaluated ---------------------------------


def parameter_values(template: dict, given: dict[str, str]) -> dict[str, str]:
    """Every declared parameter's value: the given one, else the template's default."""
    values = {}
    for name, declared in (template.get("Parameters") or {}).items():
        if name in given and given[name] is not None:
            values[name] = str(given[name])
        elif "Default" in declared:
            values[name] = str(declared["Default"])
    return values


_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def _sub(text: str, params: dict[str, str], local: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return params[name] if name in params and name not in local else match.group(0)

    return _SUB_NAME.sub(replace, text)


class _Resolver:
    def __init__(self, template: dict, params: dict[str, str], region: str | None = None) -> None:
        # The stack's region, when known, is one more value a Ref can take (AWS::Region).
        self.params = {**params, "AWS::Region": region} if region else params
        self.definitions = template.get("Conditions") or {}
        self.conditions: dict[str, bool | None] = {}

    def condition(self, name: str, seen: frozenset[str] = frozenset()) -> bool | None:
        """True/False when decidable from parameters alone, None when not."""
        if name not in self.conditions:
            if name in seen or name not in self.definitions:
                return None
            self.conditions[name] = self._evaluate(self.definitions[name], seen | {name})
        return self.conditions[name]

    def _evaluate(self, expr: Any, seen: frozenset[str]) -> bool | None:
        if not (isinstance(expr, dict) and len(expr) == 1):
            return None
        ((function, args),) = expr.items()
        if function == "Condition":
            return self.condition(args, seen)
        if function == "Fn::Equals":
            left, right = (self.value(a) for a in args)
            if isinstance(left, dict | list) or isinstance(right, dict | list):
                return None
            return str(left) == str(right)
        if function == "Fn::Not":
            inner = self._evaluate(args[0], seen)
            return None if inner is None else not inner
        if function in ("Fn::And", "Fn::Or"):
            results = [self._evaluate(a, seen) for a in args]
            decisive = function == "Fn::Or"  # True decides an Or, False decides an And
            if decisive in results:
                return decisive
            return None if None in results else not decisive
        return None

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((function, args),) = value.items()
                if function == "Ref" and isinstance(args, str):
                    if args == "AWS::NoValue":
                        return _NO_VALUE
                    if args in self.params:
                        return self.params[args]
                elif function == "Fn::Sub":
                    return self._fn_sub(args)
                elif function == "Fn::If" and isinstance(args, list) and len(args) == 3:
                    chosen = self.condition(args[0])
                    if chosen is not None:
                        return self.value(args[1] if chosen else args[2])
            resolved = {k: self.value(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self.value(item) for item in value) if v is not _NO_VALUE]
        return value

    def _fn_sub(self, args: Any) -> Any:
        if isinstance(args, str):
            text = _sub(args, self.params, set())
            return text if "${" not in text.replace("${!", "") else {"Fn::Sub": text}
        if isinstance(args, list) and len(args) == 2 and isinstance(args[1], dict):
            local = self.value(args[1])
            return {"Fn::Sub": [_sub(args[0], self.params, set(local)), local]}
        return {"Fn::Sub": args}


def evaluate(
    template: dict, expression: Any, params: dict[str, str], *, region: str | None = None
) -> bool | None:
    """A condition expression (or a rule assertion) for these parameter values; None when it
    cannot be decided from them."""
    resolver = _Resolver(template, parameter_values(template, params), region)
    return resolver._evaluate(expression, frozenset())


def resolved_resources(
    template: dict, params: dict[str, str], *, region: str | None = None
) -> dict[str, dict]:
    """The resources CloudFormation would create for these parameter values (in ``region``,
    when given: conditions on AWS::Region are decided too)."""
    resolver = _Resolver(template, parameter_values(template, params), region)
    resources = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        condition = resource.get("Condition")
        if condition is not None and resolver.condition(condition) is False:
            continue
        resources[logical_id] = resolver.value(resource)
    return resources


# --- structural diff ------------------------------------------------------------------------


Segment = str | int | tuple[str, str]  # property name, list position, or (identity key, value)


@dataclass(frozen=True)
class Change:
    path: tuple[Segment, ...]  # from the resource: ("Properties", "KeySchema", 0, ...)
    old: Any
    new: Any
    replaces: str = ""  # REPLACE or MAY_REPLACE when the path is create-only
    pointer: str = ""  # the schema's JSON pointer that makes it so

    @property
    def where(self) -> str:
        text = ""
        for segment in self.path:
            if isinstance(segment, int):
                text += f"[{segment}]"
            elif isinstance(segment, tuple):
                text += f"[{segment[0]}={segment[1]}]"
            else:
                text += f".{segment}" if text else segment
        return text


def _is_intrinsic(value: Any) -> bool:
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    function = next(iter(value))
    return function in ("Ref", "Condition") or function.startswith("Fn::")


def _identity(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if _is_intrinsic(value):  # e.g. the stack's own region, {"Ref": "AWS::Region"}
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return None


def _identity_key(old: list, new: list) -> str | None:
    items = old + new
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in IDENTITY_KEYS:
        if all(_identity(i.get(key)) is not None for i in items) and all(
            len({_identity(i[key]) for i in side}) == len(side) for side in (old, new)
        ):
            return key
    return None


def diff_values(old: Any, new: Any, path: tuple[Segment, ...] = ()) -> list[Change]:
    """Every leaf that differs, in a stable order; intrinsic functions are compared whole."""
    if old == new:
        return []
    if (
        isinstance(old, dict)
        and isinstance(new, dict)
        and not (_is_intrinsic(old) or _is_intrinsic(new))
    ):
        changes = []
        for key in sorted(set(old) | set(new)):
            changes += diff_values(old.get(key, MISSING), new.get(key, MISSING), (*path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        key = _identity_key(old, new)
        if key:
            before = {_identity(i[key]): i for i in old}
            after = {_identity(i[key]): i for i in new}
            changes = []
            for value in sorted(set(before) | set(after)):
                changes += diff_values(
                    before.get(value, MISSING), after.get(value, MISSING), (*path, (key, value))
                )
            return changes
        changes = []
        for index in range(max(len(old), len(new))):
            changes += diff_values(
                old[index] if index < len(old) else MISSING,
                new[index] if index < len(new) else MISSING,
                (*path, index),
            )
        return changes
    return [Change(path, old, new)]


# --- create-only properties from the provider schemas ----------------------------------------


@functools.cache
def provider_schema(region: str, resource_type: str) -> dict | None:
    """CloudFormation's resource provider schema, as cfn-lint ships it; None when unknown."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except ResourceNotFoundError:
        return None


def _pointer_segments(pointer: str) -> list[str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    return parts[1:] if parts[:1] == ["properties"] else parts


def _at(value: Any, segments: list[str]) -> list[Any]:
    """The values at a pointer below ``value``; ``*`` walks every list item."""
    if not segments:
        return [value]
    head, rest = segments[0], segments[1:]
    if isinstance(value, list):
        if head == "*":
            return [v for item in value for v in _at(item, rest)]
        if head.isdigit() and int(head) < len(value):
            return _at(value[int(head)], rest)
        return [MISSING]
    if isinstance(value, dict) and not _is_intrinsic(value):
        return _at(value.get(head, MISSING), rest)
    # Below an intrinsic function or a scalar: compare it, with the rest of the pointer.
    return [value] if value is MISSING else [(value, tuple(segments))]


def _covers(pointer: list[str], path: tuple[Segment, ...]) -> bool:
    """Whether a change at ``path`` (below Properties) touches the pointer's property."""
    for want, have in zip(pointer, path, strict=False):
        if isinstance(have, str):
            if want != have:
                return False
        elif want != "*" and not (isinstance(have, int) and want == str(have)):
            return False
    return True


def create_only(region: str, resource_type: str) -> dict[str, str] | None:
    """JSON pointer -> REPLACE or MAY_REPLACE; None when the type has no known schema."""
    schema = provider_schema(region, resource_type)
    if schema is None:
        return None
    pointers = {p: MAY_REPLACE for p in schema.get("conditionalCreateOnlyProperties", [])}
    pointers.update({p: REPLACE for p in schema.get("createOnlyProperties", [])})
    return pointers


def replacing_pointers(
    pointers: dict[str, str], old_properties: dict, new_properties: dict
) -> dict[str, str]:
    """The create-only pointers whose value differs between the two property sets."""
    return {
        pointer: kind
        for pointer, kind in sorted(pointers.items())
        if _at(old_properties, _pointer_segments(pointer))
        != _at(new_properties, _pointer_segments(pointer))
    }


# --- one resource, one template ---------------------------------------------------------------


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    action: str  # "add", "remove" or "modify"
    resource_type: str
    changes: tuple[Change, ...] = ()
    replacement: str = ""  # "", REPLACE or MAY_REPLACE
    notes: tuple[str, ...] = ()
    retained: bool = False  # for a removal: DeletionPolicy keeps the resource

    @property
    def stateful(self) -> bool:
        return self.resource_type in STATEFUL_TYPES

    @property
    def unsafe(self) -> bool:
        """Data at risk: a stateful resource replaced, or removed without being retained."""
        if not self.stateful:
            return False
        removed = self.action == "remove" and not self.retained
        return bool(self.replacement) or removed


def _properties(resource: dict) -> dict:
    properties = resource.get("Properties")
    return properties if isinstance(properties, dict) else {}


def _references(
    value: Any, targets: set[str], path: tuple[Segment, ...], named_kept: set[str]
) -> Iterator[tuple]:
    """(path, logical id) for every Ref/GetAtt/Sub of a resource in ``targets``; a Ref to one
    that keeps its custom name is its name, which does not change."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((function, args),) = value.items()
            named: set[str] = set()
            if function == "Ref" and isinstance(args, str) and args not in named_kept:
                named = {args}
            elif function == "Fn::GetAtt":
                named = {args[0] if isinstance(args, list) else str(args).split(".")[0]}
            elif function == "Fn::Sub":
                text = args if isinstance(args, str) else args[0]
                named = {
                    m.split(".")[0]
                    for m in _SUB_NAME.findall(text)
                    if "." in m or m not in named_kept
                }
            hits = sorted(named & targets)
            if hits:
                for hit in hits:
                    yield path, hit
                return
        for key in sorted(value):
            yield from _references(value[key], targets, (*path, key), named_kept)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, targets, (*path, index), named_kept)


def _name_kept(schema: dict | None, old: dict, new: dict) -> str:
    """The naming properties when the resource is named by them and they stay the same."""
    if not schema:
        return ""
    read_only = set(schema.get("readOnlyProperties", []))
    create_only_pointers = set(schema.get("createOnlyProperties", []))
    identifier = schema.get("primaryIdentifier", [])
    if not identifier or not all(
        p in create_only_pointers and p not in read_only for p in identifier
    ):
        return ""
    values = [_at(_properties(new), _pointer_segments(p)) for p in identifier]
    if any(v == [MISSING] for v in values):
        return ""
    if [_at(_properties(old), _pointer_segments(p)) for p in identifier] != values:
        return ""
    return ", ".join(_pointer_segments(p)[-1] for p in identifier)


def _replacement_notes(resource_type: str, schema: dict | None, old: dict, new: dict) -> list[str]:
    notes = []
    names = _name_kept(schema, old, new)
    if names:
        notes.append(
            f"named by {names} (unchanged): CloudFormation cannot replace a custom-named "
            "resource, so this update fails unless the name changes too"
        )
    if new.get("UpdateReplacePolicy") in RETAINING_POLICIES:
        notes.append(
            "the old resource is kept (UpdateReplacePolicy Retain) with its data; "
            "the stack's new one starts empty"
        )
    elif resource_type in STATEFUL_TYPES:
        notes.append("the old resource and its data are DELETED (no UpdateReplacePolicy Retain)")
    return notes


def _global_table_notes(changes: list[Change]) -> list[str]:
    notes = []
    for change in changes:
        if len(change.path) == 3 and change.path[:2] == ("Properties", "Replicas"):
            region = change.path[2]
            if isinstance(region, tuple) and change.old is MISSING:
                notes.append(f"replica added in {region[1]} (in place, no replacement)")
            elif isinstance(region, tuple) and change.new is MISSING:
                notes.append(
                    f"replica removed in {region[1]}: its copy of the items there is deleted; "
                    "the other regions keep them"
                )
    return notes


@dataclass(frozen=True)
class TemplateDiff:
    resources: tuple[ResourceChange, ...]
    outputs: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not self.resources and not self.outputs


def diff_templates(
    old: dict | None,
    new: dict,
    old_parameters: dict[str, str],
    new_parameters: dict[str, str],
    region: str,
) -> TemplateDiff:
    """Resources added, removed and modified (with replacements) from ``old`` to ``new``."""
    before = resolved_resources(old, old_parameters) if old else {}
    after = resolved_resources(new, new_parameters)
    removed = sorted(set(before) - set(after))
    added = sorted(set(after) - set(before))
    kept = sorted(set(before) & set(after))

    changes: dict[str, list[Change]] = {}
    hits: dict[str, dict[str, str]] = {}  # logical id -> create-only pointer -> kind
    notes: dict[str, list[str]] = {}
    for logical_id in kept:
        old_resource, new_resource = before[logical_id], after[logical_id]
        found = diff_values(old_resource, new_resource)
        if found:
            changes[logical_id] = found
        old_type, new_type = old_resource.get("Type"), new_resource.get("Type")
        if old_type != new_type:
            hits[logical_id] = {"Type": REPLACE}
            notes[logical_id] = [
                f"type changed from {old_type}: CloudFormation rejects this update; "
                "give the new resource a new logical ID"
            ]
            continue
        hit = replacing_pointers(
            create_only(region, new_type or "") or {},
            _properties(old_resource),
            _properties(new_resource),
        )
        if hit:
            hits[logical_id] = hit

    # A replaced resource gets a new identity: what refers to it changes too, and is replaced
    # in turn when the reference sits in a create-only property.
    cascaded = True
    while cascaded:
        cascaded = False
        replaced = set(hits)
        named_kept = {
            r
            for r in replaced
            if _name_kept(provider_schema(region, after[r].get("Type", "")), before[r], after[r])
        }
        for logical_id in kept:
            known = {c.path for c in changes.get(logical_id, [])}
            pointers = create_only(region, after[logical_id].get("Type", "")) or {}
            for path, target in _references(after[logical_id], replaced, (), named_kept):
                if path in known:
                    continue
                value = Unknown(f"(may change: {target} is replaced)")
                changes.setdefault(logical_id, []).append(Change(path, Unknown("(current)"), value))
                known.add(path)
                for pointer in pointers:
                    if path[:1] == ("Properties",) and _covers(
                        _pointer_segments(pointer), path[1:]
                    ):
                        hits.setdefault(logical_id, {})[pointer] = MAY_REPLACE
                        cascaded = cascaded or logical_id not in replaced

    resources: list[ResourceChange] = []
    for logical_id in added:
        resources.append(ResourceChange(logical_id, "add", after[logical_id].get("Type", "")))
    for logical_id in removed:
        resource = before[logical_id]
        retained = resource.get("DeletionPolicy") in RETAINING_POLICIES
        rename = [
            a
            for a in added
            if after[a].get("Type") == resource.get("Type")
            and _properties(after[a]) == _properties(resource)
        ]
        removal_notes = []
        if rename:
            removal_notes.append(
                f"same type and properties as added {rename[0]}: a changed logical ID is a "
                "removal plus an addition, never a rename"
            )
            names = _name_kept(
                provider_schema(region, resource.get("Type", "")), resource, after[rename[0]]
            )
            if names:
                removal_notes.append(
                    f"CloudFormation adds before it removes: {rename[0]} fails while this "
                    f"resource holds the same {names}"
                )
        removal_notes.append(
            "retained (DeletionPolicy Retain): it leaves the stack, the resource stays"
            if retained
            else "deleted with the stack's other removals"
        )
        resources.append(
            ResourceChange(
                logical_id,
                "remove",
                resource.get("Type", ""),
                notes=tuple(removal_notes),
                retained=retained,
            )
        )
    for logical_id in kept:
        if logical_id not in changes and logical_id not in hits:
            continue
        resource_type = after[logical_id].get("Type", "")
        pointers = create_only(region, resource_type)
        hit = hits.get(logical_id, {})
        marked = []
        for change in sorted(changes.get(logical_id, []), key=lambda c: c.where):
            kind = pointer = ""
            if change.path[:1] == ("Properties",):
                for candidate, candidate_kind in sorted(hit.items()):
                    if candidate.startswith("/") and _covers(
                        _pointer_segments(candidate), change.path[1:]
                    ):
                        pointer, kind = candidate, candidate_kind
                        if kind == REPLACE:
                            break
            marked.append(Change(change.path, change.old, change.new, kind, pointer))
        replacement = ""
        if hit:
            replacement = REPLACE if REPLACE in hit.values() else MAY_REPLACE
        resource_notes = list(notes.get(logical_id, []))
        if pointers is None:
            resource_notes.append(f"no provider schema for {resource_type}: replacement unknown")
        if resource_type == "AWS::DynamoDB::GlobalTable":
            resource_notes += _global_table_notes(marked)
        if replacement:
            resource_notes += _replacement_notes(
                resource_type,
                provider_schema(region, resource_type),
                before[logical_id],
                after[logical_id],
            )
        resources.append(
            ResourceChange(
                logical_id,
                "modify",
                resource_type,
                tuple(marked),
                replacement,
                tuple(resource_notes),
            )
        )

    old_outputs = (old or {}).get("Outputs") or {}
    new_outputs = new.get("Outputs") or {}
    outputs = [
        Change((name,), old_outputs.get(name, MISSING), new_outputs.get(name, MISSING))
        for name in sorted(set(old_outputs) | set(new_outputs))
        if old_outputs.get(name, MISSING) != new_outputs.get(name, MISSING)
    ]
    return TemplateDiff(tuple(resources), tuple(outputs))


# --- one stack set ----------------------------------------------------------------------------


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
    if current.stack_set is None:
        diff = diff_templates(None, new, {}, spec.parameters, region)
        return StackSetPlan(
            spec.name,
            spec.regions,
            exists=False,
            parameters=tuple(
                Change((k,), MISSING, v) for k, v in sorted(spec.parameters.items()) if v
            ),
            diff=diff,
            regions_added=tuple(sorted(spec.regions)),
        )
    stack_set = current.stack_set
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
    parameters: list[Change] = []
    diff = TemplateDiff((), ())
    steps: tuple[str, ...] = ()
    if update:
        before = parameter_values(old or {}, held_parameters)
        after = parameter_values(new, spec.parameters)
        parameters = [
            Change((k,), before.get(k, MISSING), after.get(k, MISSING))
            for k in sorted(set(before) | set(after))
            if before.get(k, MISSING) != after.get(k, MISSING)
        ]
        if old is not None:
            diff = diff_templates(old, new, held_parameters, spec.parameters, region)
            steps = tuple(step.description for step in table_steps.replica_steps(old, new))
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
    return StackSetPlan(
        spec.name,
        spec.regions,
        exists=True,
        update=update,
        parameters=tuple(parameters),
        diff=diff,
        regions_added=tuple(added),
        regions_removed=tuple(sorted(unconfigured)),
        regions_outdated=tuple(outdated) if not update else (),
        removal_allowed=removal_allowed,
        notes=tuple(notes),
        steps=steps,
    )


# --- text -------------------------------------------------------------------------------------


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
        where = ", ".join(plan.regions)
        if not plan.changes:
            lines.append(f"plan {plan.name} ({where}): no changes")
            continue
        if not plan.exists:
            lines.append(
                f"plan {plan.name} ({where}): stack set does not exist yet: created, "
                f"every resource added"
            )
        elif plan.update:
            lines.append(f"plan {plan.name} ({where}): stack set and its instances updated")
            if plan.steps:
                total = len(plan.steps) + 1
                lines.append(
                    f"  in {total} updates (a global table adds or removes one replica per "
                    "update, nothing else with it):"
                )
                for number, step in enumerate(plan.steps, start=1):
                    lines.append(f"    update {number} of {total}: {step}")
                lines.append(f"    update {total} of {total}: the rest")
        else:
            lines.append(f"plan {plan.name} ({where}): template and parameters unchanged")
        for region in plan.regions_added:
            lines.append(f"  + instance {region}")
        for region in plan.regions_outdated:
            lines.append(f"  ~ instance {region}: OUTDATED, deployed again")
        for region in plan.regions_removed:
            if plan.removal_allowed:
                lines.append(f"  - instance {region}: no longer configured, removed")
            else:
                lines.append(
                    f"  - instance {region}: no longer configured; deploy refuses without "
                    "--remove-unconfigured-regions"
                )
        for note in plan.notes:
            lines.append(f"  note: {note}")
        for change in plan.parameters:
            lines.append(f"  parameter {_change_line(change)}")
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
            for change in resource.changes:
                lines.append(f"        {_change_line(change)}")
            for note in resource.notes:
                lines.append(f"        note: {note}")
        if plan.diff.outputs:
            outputs = [
                ("+" if c.old is MISSING else "-" if c.new is MISSING else "~") + str(c.path[0])
                for c in plan.diff.outputs
            ]
            lines.append(f"  outputs: {' '.join(outputs)}")
    unsafe = [r for p in plans for r in p.unsafe]
    changed = [p for p in plans if p.changes]
    summary = f"plan: {len(changed)} of {len(plans)} stack set(s) change"
    if not changed:
        summary = "plan: no changes"
    if unsafe:
        summary += "; " + alarm(f"{len(unsafe)} stateful resource(s) replaced or deleted")
    lines.append(summary)
    return "\n".join(lines) + "\n"


def _unsafe_word(resource: ResourceChange) -> str:
    return "replaced" if resource.replacement else "deleted"


def unsafe_summary(plans: list[StackSetPlan]) -> str:
    """One line naming every stateful resource the plan would replace or delete."""
    return ", ".join(
        f"{p.name} {r.logical_id} ({r.resource_type}, {_unsafe_word(r)})"
        for p in plans
        for r in p.unsafe
    )
