"""Parameter constraints, checked before a stack is created or updated, as CloudFormation does.

moto accepts any value for any parameter. CloudFormation refuses a value that breaks its
parameter's declaration before it touches a resource (AWS CloudFormation User Guide,
"CloudFormation template Parameters syntax",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html):

- ``AllowedPattern``: the regular expression must match the *entire* value (String types);
- ``AllowedValues``: the value is one of the list;
- ``MinLength`` / ``MaxLength``: the number of characters (String types);
- ``Type: Number`` is an integer or a float; ``MinValue`` / ``MaxValue`` bound it;
- ``ConstraintDescription``, when given, is what the error says instead of the rule.

The value checked is the one the stack gets: the one passed, else the template's default. The
stack is refused with a ``ValidationError`` naming the parameter, and nothing is created or
changed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from moto.cloudformation import models, parsing
from moto.cloudformation.exceptions import ValidationError


class ParameterValueError(ValidationError):
    """A value that breaks its parameter's declaration (CloudFormation's ValidationError)."""


def violation(name: str, declared: dict[str, Any], value: str) -> str | None:
    """The rule ``value`` breaks, in CloudFormation's words; None when it keeps them all."""
    kind = declared.get("Type", "String")
    items = (
        value.split(",") if kind == "CommaDelimitedList" or kind.startswith("List<") else [value]
    )
    for item in items:
        broken = _rule_broken(name, declared, kind, item.strip() if len(items) > 1 else item)
        if broken:
            description = declared.get("ConstraintDescription")
            if description:
                return f"Parameter '{name}' failed to satisfy constraint: {description}"
            return broken
    return None


def _rule_broken(name: str, declared: dict[str, Any], kind: str, value: str) -> str | None:
    allowed = declared.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        return f"Parameter '{name}' must be one of AllowedValues"
    if kind in ("Number", "List<Number>"):
        try:
            number = float(value)
        except ValueError:
            return f"Parameter '{name}' must be a number"
        if not math.isfinite(number):
            return f"Parameter '{name}' must be a number"
        if "MinValue" in declared and number < float(declared["MinValue"]):
            return f"Parameter '{name}' must be a number not less than {declared['MinValue']}"
        if "MaxValue" in declared and number > float(declared["MaxValue"]):
            return f"Parameter '{name}' must be a number not greater than {declared['MaxValue']}"
        return None
    if "MinLength" in declared and len(value) < int(declared["MinLength"]):
        return f"Parameter '{name}' must contain at least {declared['MinLength']} characters"
    if "MaxLength" in declared and len(value) > int(declared["MaxLength"]):
        return f"Parameter '{name}' must contain at most {declared['MaxLength']} characters"
    pattern = declared.get("AllowedPattern")
    # The whole value, as CloudFormation matches it: "^a$" style anchors in the pattern do not
    # let "a\n" through (re.fullmatch, not re.match with "$").
    if pattern is not None and re.fullmatch(pattern, value) is None:
        return f"Parameter '{name}' must match pattern {pattern}"
    return None


def check(template: dict[str, Any], given: dict[str, Any] | None) -> None:
    """Refuse the stack when a parameter's value breaks its declaration."""
    given = given or {}
    for name, declared in (template.get("Parameters") or {}).items():
        if name in given and given[name] is not None:
            value = given[name]
        elif "Default" in declared:
            value = declared["Default"]
        else:
            continue  # moto's own MissingParameterError says this one
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if str(declared.get("Type", "")).startswith("AWS::SSM::Parameter::"):
            continue  # the value is a parameter name; its constraints apply to what it names
        broken = violation(name, declared, str(value))
        if broken:
            raise ParameterValueError(message=broken)


def install() -> None:
    """Before moto creates (``load``) or updates a stack's resources."""
    load, update = parsing.ResourceMap.load, parsing.ResourceMap.update
    if getattr(load, "_checks_parameters", False):
        return

    def checked_load(self: parsing.ResourceMap) -> None:
        check(self._template, self.input_parameters)
        load(self)

    def checked_update(
        self: parsing.ResourceMap, template: dict[str, Any], parameters: dict | None = None
    ) -> None:
        check(template, parameters if parameters else self.input_parameters)
        update(self, template, parameters)

    stack_update = models.Stack.update

    def stack_update_unchanged_when_refused(self: models.Stack, *args: Any, **kwargs: Any) -> None:
        # moto replaces the stack's template before it updates the resources; a refused
        # update leaves the stack as it was, as in CloudFormation.
        previous = (self.template, self.template_dict)
        try:
            stack_update(self, *args, **kwargs)
        except ParameterValueError:
            self.template, self.template_dict = previous
            raise

    checked_load._checks_parameters = True  # type: ignore[attr-defined]
    parsing.ResourceMap.load = checked_load  # type: ignore[method-assign]
    parsing.ResourceMap.update = checked_update  # type: ignore[method-assign]
    models.Stack.update = stack_update_unchanged_when_refused  # type: ignore[method-assign]
    models.Stack.parameter_list = property(_parameters_as_given)  # type: ignore[assignment]
    resolve = models.CloudFormationBackend._resolve_update_parameters

    def resolve_previous_values(
        self: models.CloudFormationBackend, instance: Any, incoming_params: list[dict[str, Any]]
    ) -> dict[str, str]:
        if not isinstance(instance, models.Stack):
            return resolve(self, instance=instance, incoming_params=incoming_params)
        return _update_parameters(instance, incoming_params)

    models.CloudFormationBackend._resolve_update_parameters = resolve_previous_values  # type: ignore[method-assign]


def _as_given(value: Any) -> str:
    # moto resolves a CommaDelimitedList into a list; the caller gave "a,b".
    return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _update_parameters(stack: models.Stack, incoming: list[dict[str, Any]]) -> dict[str, str]:
    """UpdateStack's parameters, ``UsePreviousValue`` read from the value the stack uses, its
    template's default included ("Parameter", CloudFormation API Reference:
    ``UsePreviousValue``, "use the existing parameter value that the stack is using"). moto
    looked it up among the values passed to the previous call only, and failed with a server
    error for a parameter that had kept its default."""
    using = {k: _as_given(v) for k, v in stack.resource_map.resolved_parameters.items()}
    resolved = {}
    for parameter in incoming:
        key = parameter["ParameterKey"]
        if not parameter.get("UsePreviousValue", False):
            resolved[key] = parameter["ParameterValue"]
        elif key in using:
            resolved[key] = using[key]
        else:
            raise ValidationError(
                message=f"Invalid input for parameter key {key}. Cannot specify usePreviousValue "
                "as true for a parameter key not in the previous template"
            )
    return resolved


def _parameters_as_given(stack: models.Stack) -> list[dict[str, str]]:
    """DescribeStacks' ``Parameters``: each value as the caller gave it ("Parameter",
    CloudFormation API Reference: ``ParameterValue``, "The input value associated with the
    parameter"), so a ``CommaDelimitedList`` reads ``a,b``; moto printed the Python list it
    resolved. NoEcho values read ``****``, as CloudFormation masks them."""
    resource_map = stack.resource_map
    masked = set(resource_map.no_echo_parameter_keys)
    return [
        {
            "ParameterKey": key,
            "ParameterValue": "****" if key in masked else _as_given(value),
        }
        for key, value in resource_map.resolved_parameters.items()
    ]
