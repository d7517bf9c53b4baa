"""Create a stack's resources in the order CloudFormation does: after everything they reference.

moto orders resources by ``DependsOn`` only and creates a referenced resource on first use.
A resource created that way skips its own ``DependsOn``: a base-path mapping that references
the stage created the stage, the stage created the API deployment, and the deployment came
before the methods it depends on (AWS refuses a deployment of an API without methods). Here the
order follows every dependency a template states: ``DependsOn``, ``Ref``, ``Fn::GetAtt`` and the
names inside ``Fn::Sub`` (``templates_src.cfn_graph``).
"""

from __future__ import annotations

from moto.cloudformation import parsing

from templates_src.cfn_graph import ReferenceGraph


def dependency_order(resources: dict[str, dict]) -> list[str]:
    """Every logical id after the resources it depends on; otherwise in template order."""
    graph = ReferenceGraph({"Resources": resources})
    depends = {name: graph.creation_dependencies(name) for name in resources}
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed or name in path:  # a cycle is the template's error, not ours
            return
        for dependency in sorted(depends[name]):
            place(dependency, (*path, name))
        placed.add(name)
        ordered.append(name)

    for name in resources:
        place(name, ())
    return ordered


def install() -> None:
    def in_dependency_order(self: parsing.ResourceMap) -> list[str]:
        return dependency_order(self._resource_json_map)

    parsing.ResourceMap._ResourceMap__get_resources_in_dependency_order = in_dependency_order
