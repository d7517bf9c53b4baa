"""``DeletionPolicy`` as CloudFormation honours it, for every way a resource leaves a stack.

AWS CloudFormation Template Reference, "DeletionPolicy attribute"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html):

- ``Retain`` keeps the resource when its stack is deleted, when an update removes it from the
  template, and when the creation that made it rolls back;
- ``RetainExceptOnCreate`` behaves like ``Retain``, except for the stack operation that created
  the resource: when that operation rolls back, the resource is deleted;
- ``Delete`` (the default) and ``Snapshot`` delete it.

moto keeps only ``Retain`` resources on stack deletion, deletes every resource an update
removes whatever its policy, and has no rollback (``stacksets`` rolls a failed instance
creation back with ``roll_back_delete``).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing

RETAINED = frozenset({"Retain", "RetainExceptOnCreate"})
RETAINED_ON_CREATE_ROLLBACK = frozenset({"Retain"})

_delete_resource = parsing.ResourceMap._delete_resource


def retained(resource_json: dict[str, Any], *, create_rollback: bool = False) -> bool:
    """Whether the resource's DeletionPolicy keeps it when it leaves the stack this way."""
    kept = RETAINED_ON_CREATE_ROLLBACK if create_rollback else RETAINED
    return resource_json.get("DeletionPolicy") in kept


def roll_back_delete(
    resource_map: parsing.ResourceMap, resource: Any, resource_json: dict[str, Any]
) -> None:
    """Delete a resource the failed creation made, unless ``Retain`` keeps it."""
    if not retained(resource_json, create_rollback=True):
        _delete_resource(resource_map, resource, resource_json)


def _delete_unless_retained(
    self: parsing.ResourceMap, parsed_resource: Any, resource_json: dict[str, Any]
) -> None:
    if not retained(resource_json):
        _delete_resource(self, parsed_resource, resource_json)


def install() -> None:
    if parsing.ResourceMap._delete_resource is not _delete_resource:
        return
    parsing.ResourceMap._delete_resource = _delete_unless_retained  # type: ignore[method-assign]
