"""Create a stack's resources in the order CloudFormation does: after everything they reference.

moto orders resources by ``DependsOn`` only and creates a referenced resource on first use.
A resource created that way skips its own ``DependsOn``: a base-path mapping that references
the stage created the stage, the stage created the API deployment, and the deployment came
before the methods it depends on (AWS refuses a deployment of an API without methods). Here the
order follows every dependency a template states: ``DependsOn``, ``Ref``, ``Fn::GetAtt`` and the
names inside ``Fn::Sub``.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation import parsing

_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")


def references(node: Any) -> set[str]:
    """Logical ids (and parameter or pseudo-parameter names) that ``node`` refers to."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                found |= {name.split(".", 1)[0] for name in _SUB_NAME.findall(text)}
                found -= set(variables)  # a Sub variable is not a resource
                found |= references(variables)
            else:
                found |= references(value)
    return found


def dependency_order(resources: dict[str, dict]) -> list[str]:
    """Every logical id after the resources it depends on; otherwise in template order."""
    depends: dict[str, set[str]] = {}
    for name, resource in resources.items():
        stated = resource.get("DependsOn", [])
        stated = [stated] if isinstance(stated, str) else list(stated)
        depends[name] = ({*stated} | references(resource.get("Properties", {}))) & set(resources)
        depends[name].discard(name)
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
