"""One operation at a time per stack set, and one stack set per name, as CloudFormation enforces.

AWS CloudFormation API Reference:

- ``CreateStackSet`` (Errors): ``NameAlreadyExistsException`` - the specified name is already
  in use (a stack set that is not deleted holds it).
- ``UpdateStackSet``, ``CreateStackInstances``, ``UpdateStackInstances``,
  ``DeleteStackInstances``, ``DeleteStackSet`` (Errors): ``OperationInProgressException`` -
  another operation is in progress for this stack set; only one operation can be performed for
  a stack set at a given time (also "StackSets concepts", AWS CloudFormation User Guide).

moto accepts a second stack set of the same name and runs every operation to its end inside
the call that starts it, so a caller that forgot to wait could never be caught. Here an
operation does its work at once but *reports* ``RUNNING`` until the first
DescribeStackSetOperation of it (the poll a caller makes to learn its outcome); that poll
answers ``RUNNING`` and later ones the final status. While an operation reports ``RUNNING``,
starting another one on the same stack set is refused with ``OperationInProgressException``.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

from moto.cloudformation import models as cfn
from moto.cloudformation.exceptions import CloudFormationError
from moto.core.utils import utcnow

RUNNING = "RUNNING"
# Stack set calls that start an operation (DeleteStackSet starts none but is refused alike).
STARTING_CALLS = (
    "update_stack_set",
    "create_stack_instances",
    "update_stack_instances",
    "delete_stack_instances",
    "delete_stack_set",
)


class NameAlreadyExistsException(CloudFormationError):
    code = "NameAlreadyExistsException"


class OperationInProgressException(CloudFormationError):
    code = "OperationInProgressException"


def _stack_set(backend: cfn.CloudFormationBackend, name: str) -> cfn.StackSet | None:
    try:
        return backend.describe_stack_set(name)
    except CloudFormationError:
        return None


def _refuse_while_running(stack_set: cfn.StackSet) -> None:
    running = [o["OperationId"] for o in stack_set.operations if o["Status"] == RUNNING]
    if running:
        raise OperationInProgressException(
            f"Another Operation on StackSet {stack_set.name} is in progress: {running[0]}"
        )


def _one_at_a_time(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)

    def call(self: cfn.CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        name = list(signature.bind(self, *args, **kwargs).arguments.values())[1]
        stack_set = _stack_set(self, name)
        if stack_set is None:
            return method(self, *args, **kwargs)  # moto's own "not found"
        _refuse_while_running(stack_set)
        started = len(stack_set.operations)
        result = method(self, *args, **kwargs)
        for operation in stack_set.operations[started:]:
            # Done already; reported as running until its outcome is first asked for.
            operation["FinalStatus"] = operation["Status"]
            operation["Status"] = RUNNING
            operation.pop("EndTimestamp", None)
        return result

    call._one_at_a_time = True  # type: ignore[attr-defined]
    return call


def _create_stack_set(original: Callable[..., Any]) -> Callable[..., Any]:
    def create(self: cfn.CloudFormationBackend, name: str, *args: Any, **kwargs: Any) -> Any:
        if _stack_set(self, name) is not None:
            raise NameAlreadyExistsException(f"StackSet {name} already exists")
        return original(self, name, *args, **kwargs)

    return create


def _describe_operation(original: Callable[..., Any]) -> Callable[..., Any]:
    def describe(
        self: cfn.CloudFormationBackend, stackset_name: str, operation_id: str
    ) -> tuple[cfn.StackSet, dict[str, Any]]:
        stack_set, operation = original(self, stackset_name, operation_id)
        if operation["Status"] != RUNNING:
            return stack_set, operation
        seen = copy.copy(operation)
        operation["Status"] = operation.pop("FinalStatus")
        operation["EndTimestamp"] = utcnow()
        return stack_set, seen

    return describe


def install() -> None:
    backend = cfn.CloudFormationBackend
    if getattr(backend.update_stack_set, "_one_at_a_time", False):
        return
    for name in STARTING_CALLS:
        setattr(backend, name, _one_at_a_time(getattr(backend, name)))
    backend.create_stack_set = _create_stack_set(backend.create_stack_set)  # type: ignore[method-assign]
    backend.describe_stack_set_operation = _describe_operation(  # type: ignore[method-assign]
        backend.describe_stack_set_operation
    )
