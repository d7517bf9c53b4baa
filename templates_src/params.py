"""SSM String parameters that tell clients and scripts where things are.

Only names, URLs and ARNs: CloudFormation cannot create a SecureString, and no secret value
belongs in a String parameter. The API key's value stays in Secrets Manager; this names it.
"""

from __future__ import annotations

from troposphere import Sub, Template
from troposphere.ssm import Parameter

from . import names
from .common import tag_dict


def parameter_name(leaf: str) -> Sub:
    return Sub(names.parameter(names.SUB_SUFFIX, leaf))


def add_parameters(template: Template, values: dict[str, tuple[str, object]]) -> list[Parameter]:
    """``values`` maps a parameter leaf name to (description, value)."""
    made = []
    for leaf, (description, value) in values.items():
        title = "".join(part.capitalize() for part in leaf.split("-")) + "Parameter"
        made.append(
            template.add_resource(
                Parameter(
                    title,
                    Name=parameter_name(leaf),
                    Type="String",
                    Description=description,
                    Value=value,
                    Tags=tag_dict(),
                )
            )
        )
    return made
