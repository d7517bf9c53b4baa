"""Security exceptions must be written down: a template that switches the WAF off by default
carries the reason, and every template that can switch it off keeps the rule that makes
CloudFormation refuse the switch without one."""

from __future__ import annotations

import re

from payment_ops.security.result import ToolResult
from templates_src.common import ENABLE_WAF_PARAM, WAF_EXCEPTION_PARAM
from templates_src.config import WAF_REASON_PATTERN

RULE = "WafOffOnlyWithAReason"


def waf_problems(name: str, template: dict) -> tuple[list[str], list[str]]:
    """(problems, exceptions in force) of one template."""
    parameters = template.get("Parameters", {})
    if ENABLE_WAF_PARAM not in parameters:
        return [], []
    problems, exceptions = [], []
    if RULE not in template.get("Rules", {}) or WAF_EXCEPTION_PARAM not in parameters:
        problems.append(
            f"{name}: {ENABLE_WAF_PARAM} can be false without a reason "
            f"(rule {RULE} or parameter {WAF_EXCEPTION_PARAM} missing)"
        )
    if parameters[ENABLE_WAF_PARAM].get("Default") == "false":
        reason = str(parameters.get(WAF_EXCEPTION_PARAM, {}).get("Default", ""))
        if re.fullmatch(WAF_REASON_PATTERN, reason):
            exceptions.append(f"{name}: WAF off by default: {reason}")
        else:
            problems.append(
                f"{name}: the WAF is off by default and {WAF_EXCEPTION_PARAM} gives no reason"
            )
    return problems, exceptions


def check(templates: dict[str, dict]) -> tuple[ToolResult, list[str]]:
    """The gate's row: a template passes when its WAF cannot be off without a written reason."""
    problems, exceptions, passed = [], [], 0
    for name, template in sorted(templates.items()):
        found, granted = waf_problems(name, template)
        problems += found
        exceptions += granted
        passed += ENABLE_WAF_PARAM in template.get("Parameters", {}) and not found
    return ToolResult("security exceptions", passed, len(problems), 0, problems), exceptions
