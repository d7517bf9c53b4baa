"""Which part of a CloudFormation template refers to which, and what its conditions come to.

One owner for what the generator's review, the plan, the emulator and the security gate need
to know about intrinsic functions (AWS CloudFormation User Guide, "Intrinsic function
reference": ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If``, "Condition functions"; Template
Reference, "DependsOn attribute", "Condition attribute"):

- ``Fn::GetAtt`` names its resource as ``[id, attribute]`` or ``"id.attribute"``;
- ``Fn::Sub`` is a string or ``[string, {variable: value}]``; ``${name}`` is a ``Ref`` and
  ``${id.attribute}`` a ``GetAtt`` unless ``name`` is one of its own variables; ``${!x}`` is
  the literal ``${x}``;
- ``DependsOn`` is one logical id or a list of them;
- ``Fn::If`` names a condition, a resource's or output's ``Condition`` attribute names one, and
  a condition refers to another with ``{"Condition": name}``.

The reference graph (``ReferenceGraph``) takes every edge that ends at a resource from
cfn-lint's template graph (``cfnlint.template.Template(...).graph``: ``Ref``, ``GetAtt``,
``Fn::Sub`` and ``DependsOn``, from resources and outputs, each with the path it is written at).
cfn-lint draws no edge to a parameter, a pseudo parameter or a condition, and does not read the
``Conditions`` section, so those edges are added here from cfn-lint's own key search
(``Template.search_deep_keys``).

Conditions are evaluated by ``Conditions`` below, not by ``cfnlint.conditions``: cfn-lint's
condition model answers which combinations of conditions can hold (a SAT problem over every
``Fn::Equals``); its ``test`` needs a value for every operand, raises when one is missing and
compares operands other than ``Ref`` only by their hash. The plan needs the opposite: for given
parameter values, each condition true, false, or "cannot be known before the deploy" (an
operand that depends on the region, another resource or an import).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import cfnlint.template

# ``${name}`` and ``${id.attribute}``; ``${!name}`` is the literal text ``${name}``.
SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")

RESOURCES, PARAMETERS, CONDITIONS, OUTPUTS = "Resources", "Parameters", "Conditions", "Outputs"
PSEUDO_PARAMETERS = "PseudoParameters"  # AWS::Region, AWS::NoValue, ...: never declared


class Node(NamedTuple):
    """A template entry: its section and its logical id (an output may share a resource's)."""

    section: str
    name: str


@dataclass(frozen=True)
class Reference:
    """``source`` refers to ``target`` with ``kind`` (``Ref``, ``GetAtt``, ``DependsOn``,
    ``Condition``, ``Fn::If``; a ``Fn::Sub`` variable counts as the ``Ref`` or ``GetAtt`` it
    stands for) at ``path`` inside the source's definition."""

    source: Node
    target: Node
    kind: str
    path: tuple[str | int, ...]


def sub_parts(args: Any) -> tuple[str, dict]:
    """``Fn::Sub``'s text and its own variables (none in the string form)."""
    if isinstance(args, str):
        return args, {}
    if isinstance(args, list) and args and isinstance(args[0], str):
        variables = args[1] if len(args) == 2 and isinstance(args[1], dict) else {}
        return args[0], variables
    return "", {}


def get_att_parts(args: Any) -> tuple[str, str]:
    """``Fn::GetAtt``'s logical id and attribute, from either form."""
    if isinstance(args, list):
        return str(args[0]), str(args[1]) if len(args) > 1 else ""
    logical_id, _, attribute = str(args).partition(".")
    return logical_id, attribute


def intrinsic_targets(function: str, args: Any) -> list[tuple[str, str | None]]:
    """(name, attribute or None) for each name one ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub`` refers
    to by itself (not inside its arguments); a ``Fn::Sub`` variable of its own is no name."""
    if function == "Ref" and isinstance(args, str):
        return [(args, None)]
    if function == "Fn::GetAtt":
        return [get_att_parts(args)]
    if function == "Fn::Sub":
        text, variables = sub_parts(args)
        found: list[tuple[str, str | None]] = []
        for variable in SUB_VARIABLE.findall(text):
            if variable in variables:
                continue
            name, dot, attribute = variable.partition(".")
            found.append((name, attribute) if dot else (variable, None))
        return found
    return []


class ReferenceGraph:
    """Every reference between a template's resources, parameters, conditions and outputs."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.template = template
        # A deep copy: cfn-lint normalises what it is given in place (it sorts the operands of
        # Fn::Equals in Conditions), and the caller's template must stay as written.
        linted = cfnlint.template.Template(None, copy.deepcopy(dict(template)))
        if linted.graph is None:
            raise ValueError("cfn-lint could not build the template's reference graph")
        self._declared = {
            section: set(template.get(section) or {})
            for section in (RESOURCES, PARAMETERS, CONDITIONS, OUTPUTS)
        }
        found = [
            _from_cfn_lint(source, target, data)
            for source, target, data in linted.graph.graph.edges(data=True)
        ]
        found += self._parameter_references(linted)
        found += self._condition_references(linted)
        self.references: tuple[Reference, ...] = tuple(found)

    # --- questions the tools ask --------------------------------------------------------

    def targets(self, source: Node, *, within: str | None = None) -> set[Node]:
        """What ``source`` refers to; with ``within``, only from that key of its definition
        (``"Properties"``, ``"DependsOn"``, ``"Condition"``, an output's ``"Value"``)."""
        return {
            r.target
            for r in self.references
            if r.source == source and (within is None or r.path[:1] == (within,))
        }

    def creation_dependencies(self, logical_id: str) -> set[str]:
        """The resources CloudFormation creates before ``logical_id``: those its
        ``DependsOn`` names and those its properties refer to ("DependsOn attribute": "a
        resource that references another with Ref or Fn::GetAtt is created after it")."""
        source = Node(RESOURCES, logical_id)
        found = self.targets(source, within="Properties") | self.targets(source, within="DependsOn")
        return {t.name for t in found if t.section == RESOURCES} - {logical_id}

    def resource_edges(self) -> list[tuple[str, str]]:
        """(resource, resource its properties refer to), sorted, without self references."""
        return sorted(
            {
                (r.source.name, r.target.name)
                for r in self.references
                if r.source.section == RESOURCES
                and r.target.section == RESOURCES
                and r.path[:1] == ("Properties",)
                and r.source.name != r.target.name
            }
        )

    def condition_inputs(self, condition: str) -> set[str]:
        """The parameters and pseudo parameters ``condition`` reads, through the conditions
        it refers to."""
        inputs: set[str] = set()
        seen: set[str] = set()
        pending = [condition]
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            for target in self.targets(Node(CONDITIONS, name)):
                if target.section == CONDITIONS:
                    pending.append(target.name)
                else:
                    inputs.add(target.name)
        return inputs

    # --- the edges cfn-lint does not draw -----------------------------------------------

    def _named(self, name: str) -> Node | None:
        if name in self._declared[PARAMETERS]:
            return Node(PARAMETERS, name)
        if name.startswith("AWS::"):
            return Node(PSEUDO_PARAMETERS, name)
        return None

    def _parameter_references(self, linted: cfnlint.template.Template) -> list[Reference]:
        """``Ref`` and ``Fn::Sub`` variables naming a parameter or pseudo parameter."""
        found = []
        for function in ("Ref", "Fn::Sub"):
            for path in linted.search_deep_keys(function):
                source, where = _source(path)
                if source is None:
                    continue
                for name, attribute in intrinsic_targets(function, path[-1]):
                    target = self._named(name) if attribute is None else None
                    if target is not None:
                        found.append(Reference(source, target, "Ref", where))
        return found

    def _condition_references(self, linted: cfnlint.template.Template) -> list[Reference]:
        """``Condition`` attributes, ``{"Condition": name}`` inside conditions, ``Fn::If``."""
        found = []
        for path in linted.search_deep_keys("Condition"):
            source, where = _source(path)
            name = path[-1]
            # A policy statement's "Condition" is a block of operators, never a name; a
            # resource's or output's own Condition attribute sits at the top of it.
            top_level = source is not None and source.section != CONDITIONS and where == ()
            in_condition = source is not None and source.section == CONDITIONS
            if (
                isinstance(name, str)
                and name in self._declared[CONDITIONS]
                and (top_level or in_condition)
            ):
                at = where if in_condition else ("Condition",)
                found.append(Reference(source, Node(CONDITIONS, name), "Condition", at))
        for path in linted.search_deep_keys("Fn::If"):
            source, where = _source(path)
            args = path[-1]
            if source is not None and isinstance(args, list) and args and isinstance(args[0], str):
                if args[0] in self._declared[CONDITIONS]:
                    found.append(Reference(source, Node(CONDITIONS, args[0]), "Fn::If", where))
        return found


def _from_cfn_lint(source: str, target: str, data: dict) -> Reference:
    # cfn-lint names an output's node "Output-<id>" (an output may share a resource's id)
    section, name = (
        (OUTPUTS, source.removeprefix("Output-"))
        if source.startswith("Output-")
        else (RESOURCES, source)
    )
    return Reference(
        Node(section, name), Node(RESOURCES, target), data["label"], tuple(data["source_paths"])
    )


def _source(path: list) -> tuple[Node | None, tuple]:
    """The template entry a ``search_deep_keys`` hit sits in, and the path of the function
    inside it (a hit ends with the function's key and its value)."""
    if len(path) < 4 or path[0] not in (RESOURCES, OUTPUTS, CONDITIONS, PARAMETERS):
        return None, ()
    return Node(path[0], path[1]), tuple(path[2:-2])


# --- conditions ---------------------------------------------------------------------------


class Conditions:
    """A template's conditions for one set of values: each True, False, or None when the
    values given do not decide it ("Condition functions": ``Fn::Equals`` compares two values,
    ``Fn::And``/``Fn::Or`` take 2 to 10 conditions, ``Fn::Not`` one, ``{"Condition": name}``
    stands for the named condition).

    ``operand`` turns an ``Fn::Equals`` operand into its value (the plan resolves ``Ref``,
    ``Fn::Sub`` and ``Fn::If`` there); a value still holding a function (a dict or list) is
    undecided. A condition that refers to itself, directly or not, is undecided (CloudFormation
    rejects the template)."""

    def __init__(self, template: Mapping[str, Any], operand: Callable[[Any], Any]) -> None:
        self.definitions = template.get(CONDITIONS) or {}
        self.operand = operand
        self._known: dict[str, bool | None] = {}

    def value(self, name: str, seen: frozenset[str] = frozenset()) -> bool | None:
        if name not in self._known:
            if name in seen or name not in self.definitions:
                return None
            self._known[name] = self.evaluate(self.definitions[name], seen | {name})
        return self._known[name]

    def evaluate(self, expression: Any, seen: frozenset[str] = frozenset()) -> bool | None:
        """A condition expression (or a rule assertion written with the same functions)."""
        if not (isinstance(expression, dict) and len(expression) == 1):
            return None
        ((function, args),) = expression.items()
        if function == "Condition":
            return self.value(args, seen)
        if function == "Fn::Equals":
            left, right = (self.operand(a) for a in args)
            if isinstance(left, dict | list) or isinstance(right, dict | list):
                return None
            return str(left) == str(right)
        if function == "Fn::Not":
            inner = self.evaluate(args[0], seen)
            return None if inner is None else not inner
        if function in ("Fn::And", "Fn::Or"):
            results = [self.evaluate(a, seen) for a in args]
            decisive = function == "Fn::Or"  # True decides an Or, False decides an And
            if decisive in results:
                return decisive
            return None if None in results else not decisive
        return None
