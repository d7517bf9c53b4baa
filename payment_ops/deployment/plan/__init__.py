"""What a deploy would change, per stack set, before anything changes.

StackSets have no change sets, so the plan is computed here: the template and parameters a
stack set holds now against the ones deploy would pass, resource by logical ID. A changed
property is a replacement when CloudFormation's resource provider schema (the copy shipped with
cfn-lint) lists it as create-only; ``conditionalCreateOnlyProperties`` (such as a DynamoDB
table's ``KeySchema``) are "may replace". Parameters are substituted and conditions evaluated
first, so a changed parameter shows as the property it changes.

Reading only: nothing here calls AWS; the caller passes what it has already read.
``values`` resolves a template for parameter values, ``replacement`` holds the rules from the
provider schemas, ``diff`` compares two templates, ``stack_sets`` one stack set held against
wanted, ``render`` prints the plan. The names callers use are re-exported here.
"""

from .diff import ResourceChange, TemplateDiff, diff_templates, diff_values
from .render import (
    MAX_VALUE_CHARS,
    MAY_STATEFUL_MARK,
    RED,
    alarm_subscriber_note,
    render,
    short,
    unsafe_summary,
)
from .replacement import MAY_REPLACE, REPLACE, create_only
from .stack_sets import StackSetPlan, plan_stack_set
from .values import MISSING, evaluate, resolved_resources

__all__ = [
    "MAX_VALUE_CHARS",
    "MAY_REPLACE",
    "MAY_STATEFUL_MARK",
    "MISSING",
    "RED",
    "REPLACE",
    "ResourceChange",
    "StackSetPlan",
    "TemplateDiff",
    "alarm_subscriber_note",
    "create_only",
    "diff_templates",
    "diff_values",
    "evaluate",
    "plan_stack_set",
    "render",
    "resolved_resources",
    "short",
    "unsafe_summary",
]
