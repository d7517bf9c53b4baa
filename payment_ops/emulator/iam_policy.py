"""IAM policy evaluation as AWS documents it, for the emulator and the security tests.

Source: IAM User Guide, "Policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/
UserGuide/reference_policies_evaluation-logic.html) and "IAM JSON policy elements reference"
(Action, NotAction, Resource, NotResource, Condition, "Condition operators", "Multivalued
context keys"). For a request within one account:

1. an explicit ``Deny`` in any applicable policy (identity-based or permissions boundary) wins;
2. otherwise the request is allowed only if an identity-based policy allows it *and*, when the
   principal has a permissions boundary, the boundary allows it too (the effective permissions
   are the intersection, "Permissions boundaries for IAM entities");
3. otherwise it is denied implicitly (default deny).

Matching: actions compare case-insensitively, resources case-sensitively, both with ``*`` (any
run of characters) and ``?`` (one character). A request for an action that has no
resource-level permissions names the resource ``*``, which only a statement whose resource
pattern matches the literal ``*`` covers (in practice ``"Resource": "*"``).

Conditions: every operator of a statement, every key of an operator must hold (AND); any of a
key's values may match (OR). A key absent from the request fails a positive operator and
satisfies a negated one (``StringNotEquals``, ``ArnNotLike``, ...); ``...IfExists`` makes an
absent key satisfy any operator; ``Null`` tests presence. ``ForAnyValue:`` holds when some
request value matches; ``ForAllValues:`` when every request value matches (an absent or empty
key holds). Policy variables (``${aws:username}``) are not needed by this project's policies and
are refused rather than guessed at.

Resource-based policies, session policies, SCPs and RCPs are out of scope: the project's
deploying principal is one role in its own account.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"

ContextValue = str | bool | int | Sequence[str]


class PolicyError(ValueError):
    """A policy element this evaluator does not understand (never guessed at)."""


@dataclass(frozen=True)
class Request:
    """One authorisation request: the action, the resource ARN (``*`` for actions without
    resource-level permissions) and the request context keys (case-insensitive names)."""

    action: str
    resource: str = "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal: Mapping[str, str] | None = None  # {"Service": ...} or {"AWS": arn}, trust only


@dataclass(frozen=True)
class Decision:
    result: str  # ALLOW, EXPLICIT_DENY or IMPLICIT_DENY
    reason: str  # the phrase AWS's AccessDenied message uses
    statement: str | None = None  # Sid of the deciding statement, when one decided

    @property
    def allowed(self) -> bool:
        return self.result == ALLOW


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def statements(policy: Mapping[str, Any] | str) -> list[dict]:
    """The statements of a policy document (a dict or its JSON text)."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    return [dict(s) for s in _as_list(document.get("Statement"))]


@functools.lru_cache(maxsize=8192)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    if "${" in glob:
        raise PolicyError(f"policy variables are not supported: {glob!r}")
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in glob
    )
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(glob: str, value: str, *, ignore_case: bool = False) -> bool:
    return _pattern(glob, ignore_case).fullmatch(value) is not None


def _matches_action(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(glob_match(p, action, ignore_case=True) for p in _as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(
            glob_match(p, action, ignore_case=True) for p in _as_list(statement["NotAction"])
        )
    raise PolicyError(f"statement {statement.get('Sid')!r} has neither Action nor NotAction")


def _matches_resource(statement: dict, resource: str) -> bool:
    if "Resource" in statement:
        return any(glob_match(p, resource) for p in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(glob_match(p, resource) for p in _as_list(statement["NotResource"]))
    # Trust policies name a principal instead of a resource.
    return "Principal" in statement or "NotPrincipal" in statement


def _matches_principal(statement: dict, principal: Mapping[str, str] | None) -> bool:
    if "Principal" not in statement and "NotPrincipal" not in statement:
        return True
    if principal is None:
        return False
    named = statement.get("Principal", statement.get("NotPrincipal"))

    def hit() -> bool:
        if named == "*":
            return True
        return any(
            value == "*" or value == principal.get(kind)
            for kind, values in dict(named).items()
            for value in _as_list(values)
        )

    return hit() if "Principal" in statement else not hit()


# --- conditions ------------------------------------------------------------------------------


def _string_equals(policy: str, value: str) -> bool:
    return policy == value


def _string_equals_ignore_case(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _string_like(policy: str, value: str) -> bool:
    return glob_match(policy, value)


def _bool(policy: str, value: str) -> bool:
    return str(policy).lower() == str(value).lower()


def _numeric(compare):  # type: ignore[no-untyped-def]
    def check(policy: str, value: str) -> bool:
        try:
            return compare(float(value), float(policy))
        except ValueError:
            return False

    return check


# operator -> (value test, negated). ArnEquals/ArnLike compare the whole ARN with wildcards,
# which for well-formed ARNs is what the per-component comparison AWS documents amounts to.
_OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_like, False),
    "ArnLike": (_string_like, False),
    "ArnNotEquals": (_string_like, True),
    "ArnNotLike": (_string_like, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
}


def _lookup(context: Mapping[str, ContextValue], key: str) -> list[str] | None:
    """The request's values of a key (names are case-insensitive); None when absent."""
    wanted = key.lower()
    for name, value in context.items():
        if name.lower() == wanted:
            if isinstance(value, bool):
                return ["true" if value else "false"]
            if isinstance(value, str | int):
                return [str(value)]
            return [str(v) for v in value]
    return None


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name
    values = _lookup(context, key)
    policy_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    if base == "Null":
        absent = values is None
        return any(absent == (v.lower() == "true") for v in policy_values)
    if base not in _OPERATORS:
        raise PolicyError(f"condition operator {operator!r} is not supported")
    test, negated = _OPERATORS[base]

    def matches(value: str) -> bool:
        hit = any(test(p, value) for p in policy_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return values is None or all(matches(v) for v in values)
    if qualifier == "ForAnyValue":
        return values is not None and any(matches(v) for v in values)
    if qualifier:
        raise PolicyError(f"condition qualifier {qualifier!r} is not supported")
    if values is None:
        return if_exists or negated
    return any(matches(v) for v in values)


def _conditions_hold(statement: dict, context: Mapping) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, keys in dict(statement.get("Condition") or {}).items()
        for key, expected in dict(keys).items()
    )


def statement_applies(statement: dict, request: Request) -> bool:
    return (
        _matches_action(statement, request.action)
        and _matches_resource(statement, request.resource)
        and _matches_principal(statement, request.principal)
        and _conditions_hold(statement, request.context)
    )


def _first(policy_statements: Iterable[dict], effect: str, request: Request) -> dict | None:
    for statement in policy_statements:
        if statement.get("Effect") == effect and statement_applies(statement, request):
            return statement
    return None


def evaluate(
    request: Request,
    identity_policies: Iterable[Mapping[str, Any] | str],
    boundary: Mapping[str, Any] | str | None = None,
) -> Decision:
    """AWS's decision for ``request`` by a principal with these identity-based policies and
    (optionally) this permissions boundary."""
    identity = [s for policy in identity_policies for s in statements(policy)]
    bounded = statements(boundary) if boundary is not None else None
    sources = (("an identity-based policy", identity), ("a permissions boundary", bounded or []))
    for where, policy_statements in sources:
        denied = _first(policy_statements, "Deny", request)
        if denied is not None:
            return Decision(EXPLICIT_DENY, f"with an explicit deny in {where}", denied.get("Sid"))
    allowed = _first(identity, ALLOW, request)
    if allowed is None:
        return Decision(
            IMPLICIT_DENY, f"because no identity-based policy allows the {request.action} action"
        )
    if bounded is not None and _first(bounded, ALLOW, request) is None:
        return Decision(
            IMPLICIT_DENY, f"because no permissions boundary allows the {request.action} action"
        )
    return Decision(ALLOW, "allowed", allowed.get("Sid"))


def access_denied_message(principal_arn: str, request: Request, decision: Decision) -> str:
    """The text of AWS's AccessDenied error ("User: ... is not authorized to perform: ... on
    resource: ... because ...")."""
    return (
        f"User: {principal_arn} is not authorized to perform: {request.action} on resource: "
        f"{request.resource} {decision.reason}"
    )
