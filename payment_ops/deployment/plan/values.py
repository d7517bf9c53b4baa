"""Template values as CloudFormation would see them for given parameter values: parameters
substituted (``Ref``, ``Fn::Sub``), conditions evaluated (``Fn::If``, ``Fn::Equals``, ``Fn::And``,
``Fn::Or``, ``Fn::Not``; "Condition functions", Template Reference), ``AWS::NoValue`` dropped.
What cannot be decided from the parameters alone stays as written. The conditions are
``templates_src.cfn_graph.Conditions``, given this module's values for their operands."""

from __future__ import annotations

from typing import Any

from templates_src.cfn_graph import SUB_VARIABLE, Conditions


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


# The value a side does not have: a property, list item or output added or removed.
MISSING: Any = _Missing()
# Where a value sits below a resource: property name, list position, or (identity key, value).
Segment = str | int | tuple[str, str]
_NO_VALUE: Any = object()


class Unknown(str):
    """A value the plan cannot know before the deploy runs (printed as is, not as JSON)."""


def parameter_values(template: dict, given: dict[str, str]) -> dict[str, str]:
    """Every declared parameter's value: the given one, else the template's default."""
    values = {}
    for name, declared in (template.get("Parameters") or {}).items():
        if name in given and given[name] is not None:
            values[name] = str(given[name])
        elif "Default" in declared:
            values[name] = str(declared["Default"])
    return values


def _sub(text: str, params: dict[str, str], local: set[str]) -> str:
    return SUB_VARIABLE.sub(
        lambda m: params[m[1]] if m[1] in params and m[1] not in local else m[0], text
    )


class _Resolver:
    def __init__(self, template: dict, params: dict[str, str], region: str | None = None) -> None:
        # The stack's region, when known, is one more value a Ref can take (AWS::Region).
        self.params = {**params, "AWS::Region": region} if region else params
        self.conditions = Conditions(template, self.value)

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
                    chosen = self.conditions.value(args[0])
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
    return resolver.conditions.evaluate(expression)


def resolved_resources(
    template: dict, params: dict[str, str], *, region: str | None = None
) -> dict[str, dict]:
    """The resources CloudFormation would create for these parameter values (in ``region``,
    when given: conditions on AWS::Region are decided too)."""
    resolver = _Resolver(template, parameter_values(template, params), region)
    resources = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        condition = resource.get("Condition")
        if condition is not None and resolver.conditions.value(condition) is False:
            continue
        resources[logical_id] = resolver.value(resource)
    return resources


def is_intrinsic(value: Any) -> bool:
    """A ``{"Ref": ...}``, ``{"Condition": ...}`` or ``{"Fn::...": ...}``: compared whole."""
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    function = next(iter(value))
    return function in ("Ref", "Condition") or function.startswith("Fn::")
