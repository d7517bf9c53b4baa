"""Stack updates that honour resource conditions, as CloudFormation's do.

moto's update ignores a resource's ``Condition``: a resource whose condition is false (never
created) but whose properties reference a changed parameter is "modified", and its model is
handed ``None`` as the resource to update (``AttributeError: 'NoneType' object has no attribute
'physical_id'``: the primary stack in us-west-2, whose alarm on a standby health check exists in
us-east-1 only, failed the first deploy at the health-check handoff). A resource whose condition
turns true was never created, and one whose condition turns false was never deleted.

CloudFormation evaluates every condition with the parameter values of the create or the
update before it touches a resource, and a stack holds a conditional resource exactly while its
condition is true (AWS CloudFormation User Guide, "CloudFormation template Conditions syntax",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html;
Template Reference, "Condition attribute"). Here, every resource with a
condition is looked at again on each update whose parameters changed, and:

- false, not created: nothing happens;
- false, created: the resource is deleted (unless its DeletionPolicy retains it);
- true, not created: the resource is created;
- true, created: moto's update, as for any other resource.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing

from templates_src.cfn_graph import ReferenceGraph


def _parse_and_update_resource(
    logical_id: str,
    resource_json: dict[str, Any],
    resources_map: parsing.ResourceMap,
    account_id: str,
    region_name: str,
) -> Any:
    created = resources_map._parsed_resources.get(logical_id)
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        if created is not None:  # deletion.py keeps it when its DeletionPolicy retains it
            resources_map._delete_resource(created, resource_json)
        resources_map._parsed_resources.pop(logical_id, None)
        return None
    if created is None:
        return parsing.parse_and_create_resource(
            logical_id, resource_json, resources_map, account_id, region_name
        )
    return _original_update(logical_id, resource_json, resources_map, account_id, region_name)


def _build_resource_diff(
    self: parsing.ResourceMap, other_template: dict[str, Any], parameters: dict | None = None
) -> dict[str, Any]:
    """moto's diff, plus every conditional resource whose condition reads a changed parameter."""
    actions = _original_diff(self, other_template, parameters)
    if not parameters:
        return actions
    changed = {p for p in parameters if self.input_parameters.get(p) != parameters[p]}
    changed |= {p for p in self.input_parameters if p not in parameters}
    old = self._resource_json_map
    graph = ReferenceGraph(other_template)
    for name, resource in (other_template.get("Resources") or {}).items():
        condition = resource.get("Condition")
        if (
            condition
            and name in old
            and name not in actions["Modify"]
            and changed & graph.condition_inputs(condition)
        ):
            actions["Modify"].append(name)
    return actions


_original_update = parsing.parse_and_update_resource
_original_diff = parsing.ResourceMap.build_resource_diff


def install() -> None:
    if getattr(parsing.parse_and_update_resource, "_honours_conditions", False):
        return
    _parse_and_update_resource._honours_conditions = True  # type: ignore[attr-defined]
    parsing.parse_and_update_resource = _parse_and_update_resource
    parsing.ResourceMap.build_resource_diff = _build_resource_diff  # type: ignore[method-assign]
