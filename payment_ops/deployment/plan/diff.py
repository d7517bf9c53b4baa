"""The difference between two templates, resource by logical ID, for given parameter values:
each changed value, whether it replaces the resource (``replacement``), and what a replacement
carries to the resources that refer to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from templates_src.cfn_graph import intrinsic_targets

from . import replacement as rules
from .replacement import MAY_REPLACE, REPLACE
from .values import MISSING, Segment, Unknown, is_intrinsic, resolved_resources

# List items matched by these keys rather than by position: a replica or an index added in the
# middle of a list is one addition, not a shift of every item after it.
IDENTITY_KEYS = ("Region", "IndexName", "Key", "Sid")


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


def _identity(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if is_intrinsic(value):  # e.g. the stack's own region, {"Ref": "AWS::Region"}
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
        and not (is_intrinsic(old) or is_intrinsic(new))
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
        return self.resource_type in rules.STATEFUL_TYPES

    @property
    def unsafe(self) -> bool:
        """Data at risk: a stateful resource replaced, or removed without being retained."""
        if not self.stateful:
            return False
        removed = self.action == "remove" and not self.retained
        return bool(self.replacement) or removed


def _references(
    value: Any, targets: set[str], path: tuple[Segment, ...], named_kept: set[str]
) -> Iterator[tuple]:
    """(path, logical id) for every Ref/GetAtt/Sub of a resource in ``targets``; a Ref to one
    that keeps its custom name is its name, which does not change.

    Walked here, not read from ``cfn_graph.ReferenceGraph``: the value is the resolved resource
    (conditions decided, ``AWS::NoValue`` dropped, so list positions differ from the template's),
    and a function that names a replaced resource is one unknown value as a whole."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((function, args),) = value.items()
            named = {
                name
                for name, attribute in intrinsic_targets(function, args)
                if attribute is not None or name not in named_kept
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


@dataclass(frozen=True)
class _Sides:
    """Both templates' resources as CloudFormation would create them, and the region whose
    provider schemas decide replacements."""

    before: dict[str, dict]
    after: dict[str, dict]
    region: str

    def schema(self, logical_id: str) -> dict | None:
        return rules.provider_schema(self.region, self.after[logical_id].get("Type", ""))

    def create_only(self, logical_id: str) -> dict[str, str] | None:
        return rules.create_only(self.region, self.after[logical_id].get("Type", ""))


def diff_templates(
    old: dict | None,
    new: dict,
    old_parameters: dict[str, str],
    new_parameters: dict[str, str],
    region: str,
) -> TemplateDiff:
    """Resources added, removed and modified (with replacements) from ``old`` to ``new``."""
    sides = _Sides(
        resolved_resources(old, old_parameters) if old else {},
        resolved_resources(new, new_parameters),
        region,
    )
    removed = sorted(set(sides.before) - set(sides.after))
    added = sorted(set(sides.after) - set(sides.before))
    kept = sorted(set(sides.before) & set(sides.after))
    changes, hits, notes = _direct_changes(sides, kept)
    _cascade(sides, kept, changes, hits)
    resources = [ResourceChange(i, "add", sides.after[i].get("Type", "")) for i in added]
    resources += [_removal(sides, i, added) for i in removed]
    resources += [
        _modification(sides, i, changes.get(i, []), hits.get(i, {}), notes.get(i, []))
        for i in kept
        if i in changes or i in hits
    ]
    return TemplateDiff(tuple(resources), _output_changes(old or {}, new))


def _direct_changes(
    sides: _Sides, kept: list[str]
) -> tuple[dict[str, list[Change]], dict[str, dict[str, str]], dict[str, list[str]]]:
    """Per kept resource: its changed values, the create-only pointers they touch (pointer ->
    REPLACE or MAY_REPLACE), and notes; a changed type is a replacement CloudFormation refuses."""
    changes: dict[str, list[Change]] = {}
    hits: dict[str, dict[str, str]] = {}
    notes: dict[str, list[str]] = {}
    for logical_id in kept:
        old_resource, new_resource = sides.before[logical_id], sides.after[logical_id]
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
        hit = rules.replacing_pointers(
            sides.create_only(logical_id) or {},
            rules.properties(old_resource),
            rules.properties(new_resource),
        )
        if hit:
            hits[logical_id] = hit
    return changes, hits, notes


def _cascade(
    sides: _Sides,
    kept: list[str],
    changes: dict[str, list[Change]],
    hits: dict[str, dict[str, str]],
) -> None:
    """A replaced resource gets a new identity: what refers to it changes too (added to
    ``changes``), and is replaced in turn (added to ``hits``) when the reference sits in a
    create-only property; repeated until nothing more is replaced."""
    cascaded = True
    while cascaded:
        cascaded = False
        replaced = set(hits)
        named_kept = {
            r for r in replaced if rules.name_kept(sides.schema(r), sides.before[r], sides.after[r])
        }
        for logical_id in kept:
            known = {c.path for c in changes.get(logical_id, [])}
            pointers = sides.create_only(logical_id) or {}
            for path, target in _references(sides.after[logical_id], replaced, (), named_kept):
                if path in known:
                    continue
                value = Unknown(f"(may change: {target} is replaced)")
                changes.setdefault(logical_id, []).append(Change(path, Unknown("(current)"), value))
                known.add(path)
                for pointer in pointers:
                    if path[:1] == ("Properties",) and rules.covers(
                        rules.pointer_segments(pointer), path[1:]
                    ):
                        hits.setdefault(logical_id, {})[pointer] = MAY_REPLACE
                        cascaded = cascaded or logical_id not in replaced


def _removal(sides: _Sides, logical_id: str, added: list[str]) -> ResourceChange:
    """A resource leaving the template: retained or deleted, and whether it looks renamed."""
    resource = sides.before[logical_id]
    retained = resource.get("DeletionPolicy") in rules.RETAINING_POLICIES
    rename = [
        a
        for a in added
        if sides.after[a].get("Type") == resource.get("Type")
        and rules.properties(sides.after[a]) == rules.properties(resource)
    ]
    removal_notes = []
    if rename:
        removal_notes.append(
            f"same type and properties as added {rename[0]}: a changed logical ID is a "
            "removal plus an addition, never a rename"
        )
        names = rules.name_kept(sides.schema(rename[0]), resource, sides.after[rename[0]])
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
    return ResourceChange(
        logical_id,
        "remove",
        resource.get("Type", ""),
        notes=tuple(removal_notes),
        retained=retained,
    )


def _marked(changes: list[Change], hit: dict[str, str]) -> list[Change]:
    """Each change with the create-only pointer it touches, a REPLACE one first."""
    marked = []
    for change in sorted(changes, key=lambda c: c.where):
        kind = pointer = ""
        if change.path[:1] == ("Properties",):
            for candidate, candidate_kind in sorted(hit.items()):
                if candidate.startswith("/") and rules.covers(
                    rules.pointer_segments(candidate), change.path[1:]
                ):
                    pointer, kind = candidate, candidate_kind
                    if kind == REPLACE:
                        break
        marked.append(Change(change.path, change.old, change.new, kind, pointer))
    return marked


def _modification(
    sides: _Sides, logical_id: str, changes: list[Change], hit: dict[str, str], notes: list[str]
) -> ResourceChange:
    """A resource in both templates that changes: in place, or replaced, and what that means."""
    resource_type = sides.after[logical_id].get("Type", "")
    marked = _marked(changes, hit)
    replacement = ""
    if hit:
        replacement = REPLACE if REPLACE in hit.values() else MAY_REPLACE
    resource_notes = list(notes)
    if sides.create_only(logical_id) is None:
        resource_notes.append(f"no provider schema for {resource_type}: replacement unknown")
    if resource_type == "AWS::DynamoDB::GlobalTable":
        resource_notes += _global_table_notes(marked)
    if replacement:
        resource_notes += rules.replacement_notes(
            resource_type,
            sides.schema(logical_id),
            sides.before[logical_id],
            sides.after[logical_id],
        )
    return ResourceChange(
        logical_id,
        "modify",
        resource_type,
        tuple(marked),
        replacement,
        tuple(resource_notes),
    )


def _output_changes(old: dict, new: dict) -> tuple[Change, ...]:
    old_outputs = old.get("Outputs") or {}
    new_outputs = new.get("Outputs") or {}
    return tuple(
        Change((name,), old_outputs.get(name, MISSING), new_outputs.get(name, MISSING))
        for name in sorted(set(old_outputs) | set(new_outputs))
        if old_outputs.get(name, MISSING) != new_outputs.get(name, MISSING)
    )
