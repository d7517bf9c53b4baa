"""Which changes replace a resource, from CloudFormation's resource provider schemas (the copies
cfn-lint ships): ``createOnlyProperties`` replace ("replace"), ``conditionalCreateOnlyProperties``
may ("may replace"; "Resource type schema", CloudFormation CLI User Guide); and which resource
types hold data, so that replacing or deleting them is refused unless asked."""

from __future__ import annotations

import functools
from typing import Any

from .values import MISSING, Segment, is_intrinsic

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

REPLACE = "replace"
MAY_REPLACE = "may replace"


@functools.cache
def provider_schema(region: str, resource_type: str) -> dict | None:
    """CloudFormation's resource provider schema, as cfn-lint ships it; None when unknown."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except ResourceNotFoundError:
        return None


def pointer_segments(pointer: str) -> list[str]:
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
    if isinstance(value, dict) and not is_intrinsic(value):
        return _at(value.get(head, MISSING), rest)
    # Below an intrinsic function or a scalar: compare it, with the rest of the pointer.
    return [value] if value is MISSING else [(value, tuple(segments))]


def covers(pointer: list[str], path: tuple[Segment, ...]) -> bool:
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
        if _at(old_properties, pointer_segments(pointer))
        != _at(new_properties, pointer_segments(pointer))
    }


# --- one resource, one template ---------------------------------------------------------------


def properties(resource: dict) -> dict:
    """A resource's ``Properties``; none when it has none (or they are not an object)."""
    properties = resource.get("Properties")
    return properties if isinstance(properties, dict) else {}


def name_kept(schema: dict | None, old: dict, new: dict) -> str:
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
    values = [_at(properties(new), pointer_segments(p)) for p in identifier]
    if any(v == [MISSING] for v in values):
        return ""
    if [_at(properties(old), pointer_segments(p)) for p in identifier] != values:
        return ""
    return ", ".join(pointer_segments(p)[-1] for p in identifier)


def replacement_notes(resource_type: str, schema: dict | None, old: dict, new: dict) -> list[str]:
    """What a replacement of this resource means: a custom name that blocks it, and whether
    the old resource's data is kept."""
    notes = []
    names = name_kept(schema, old, new)
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
