"""Stack set operations that behave like CloudFormation's, on top of moto's bookkeeping.

moto 5.2 stores a stack set's new template but never applies it to the instance stacks, reports
every operation SUCCEEDED even when an instance stack fails (the API call itself errors), names
instance stacks ``StackSet:<name>`` while reporting another StackId, and ignores ListStackSets'
``Status`` filter. Here every create/update/delete of instances:

- creates or updates the instance stack with the stack set's *current* template and parameters
  (stack set parameters, then the instance's overrides);
- rolls a failed creation back, honouring ``Retain`` (``deletion``; the instance stays,
  ``OUTDATED``, with the reason) and records a
  per-instance result, so the operation is ``FAILED`` and ListStackSetOperationResults names the
  region and the reason, as CloudFormation does with failure tolerance 0.

Operations still do their work synchronously; ``stackset_operations`` makes each one report
RUNNING until its outcome is first polled, and refuses another operation meanwhile.
"""

from __future__ import annotations

import contextlib
from typing import Any

from moto.cloudformation import models as cfn
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import StackInstanceNotFound, ValidationError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random

from templates_src import names

from . import deletion, iam_check


def _as_dict(parameters: Any) -> dict[str, str]:
    if isinstance(parameters, dict):
        return dict(parameters)
    return {
        p["ParameterKey"]: p["ParameterValue"] for p in parameters or [] if "ParameterValue" in p
    }


# --- stack instances -----------------------------------------------------------------------


def _instance_init(
    self: cfn.StackInstance,
    account_id: str,
    region_name: str,
    stackset_id: str,
    stack_name: str,
    name: str,
    template: str,
    parameters: Any,
    permission_model: str,
) -> None:
    self.account_id = account_id
    self.region_name = region_name
    self.stackset_id = stackset_id
    self.stack_name = stack_name
    self.name = name
    self.template = template
    self.parameters = list(parameters) if isinstance(parameters, list) else []  # overrides
    self.permission_model = permission_model
    self.stack = None
    self.status, self.detailed_status, self.status_reason = "OUTDATED", "PENDING", None


def _instance_deploy(self: cfn.StackInstance, template: str, stackset_parameters: dict) -> dict:
    """Create or update this instance's stack; return the operation result for it."""
    parameters = {**stackset_parameters, **_as_dict(self.parameters)}
    backend = cfn.cloudformation_backends[self.account_id][self.region_name]
    try:
        if self.stack is None:
            # CloudFormation names instance stacks StackSet-<stack set name>-<uuid>.
            stack_name = f"{names.stack_instance_prefix(self.name)}{mock_random.uuid4()}"
            try:
                with _as_execution_role(self, stack_name, "create"):
                    self.stack = backend.create_stack(
                        name=stack_name, template=template, parameters=parameters
                    )
            except Exception:
                _roll_back(backend, stack_name)
                raise
        else:
            with _as_execution_role(self, self.stack.name, "update"):
                self.stack.update(template, parameters=parameters)
    except Exception as error:  # noqa: BLE001 - any resource failure fails this instance
        reason = f"{type(error).__name__}: {getattr(error, 'message', None) or error}"
        self.status, self.detailed_status, self.status_reason = "OUTDATED", "FAILED", reason
        return _result(self, "FAILED", reason)
    self.template = template
    self.status, self.detailed_status, self.status_reason = "CURRENT", "SUCCEEDED", None
    return _result(self, "SUCCEEDED", None)


def _as_execution_role(instance: cfn.StackInstance, stack_name: str, operation: str) -> Any:
    """Self-managed StackSets act in the target account as its execution role: each resource
    is checked against the role's policies (``iam_check``)."""
    if instance.permission_model != "SELF_MANAGED":
        return contextlib.nullcontext()
    return iam_check.acting_as_execution_role(
        instance.account_id, instance.region_name, stack_name, operation
    )


def _roll_back(backend: cfn.CloudFormationBackend, stack_name: str) -> None:
    """Undo a failed creation as CloudFormation does: delete what the stack made, except the
    resources whose DeletionPolicy is ``Retain`` - those stay, outside any stack, and a retry
    that creates them again fails "already exists" (hence ``RetainExceptOnCreate`` for named
    stateful resources)."""
    for stack_id, stack in list(backend.stacks.items()):
        if stack.name != stack_name:
            continue
        resource_map = stack.resource_map
        for logical_id, resource in list(resource_map._parsed_resources.items()):
            resource_json = resource_map._resource_json_map.get(logical_id)
            if resource_json is None or isinstance(resource, str) or resource is None:
                continue
            try:
                deletion.roll_back_delete(resource_map, resource, resource_json)
            except Exception:  # noqa: BLE001 - best effort, like a rollback that skips failures
                pass
        # Its exports go with it: a rolled-back stack exports nothing, and a re-run that
        # creates the stack again must not find its own export names taken.
        for name, export in list(backend.exports.items()):
            if export.exporting_stack_id == stack_id:
                del backend.exports[name]
        stack.status = "ROLLBACK_COMPLETE"
        backend.deleted_stacks[stack_id] = backend.stacks.pop(stack_id)


def _instance_remove(self: cfn.StackInstance) -> dict:
    if self.stack is not None:
        backend = cfn.cloudformation_backends[self.account_id][self.region_name]
        try:
            if self.permission_model == "SELF_MANAGED":
                with _as_execution_role(self, self.stack.name, "delete"):
                    backend.delete_stack(self.stack.stack_id)
            else:
                self.stack.delete()
        except Exception as error:  # noqa: BLE001
            reason = f"{type(error).__name__}: {getattr(error, 'message', None) or error}"
            self.status, self.detailed_status, self.status_reason = "OUTDATED", "FAILED", reason
            return _result(self, "FAILED", reason)
    return _result(self, "SUCCEEDED", None)


def _instance_to_dict(self: cfn.StackInstance) -> dict[str, Any]:
    summary = {
        "StackSetId": self.stackset_id,
        "Region": self.region_name,
        "Account": self.account_id,
        "Status": self.status,
        "ParameterOverrides": self.parameters,
        "StackInstanceStatus": {"DetailedStatus": self.detailed_status},
    }
    if self.stack is not None:
        summary["StackId"] = self.stack.stack_id
    if self.status_reason:
        summary["StatusReason"] = self.status_reason
    return summary


def _result(instance: cfn.StackInstance, status: str, reason: str | None) -> dict[str, Any]:
    result = {"Account": instance.account_id, "Region": instance.region_name, "Status": status}
    if reason:
        result["StatusReason"] = reason
    return result


# --- stack sets ----------------------------------------------------------------------------


def _record(
    self: cfn.StackSet, action: str, results: list[dict], operation_id: str | None = None
) -> dict[str, Any]:
    failed = [r for r in results if r["Status"] != "SUCCEEDED"]
    operation = {
        "OperationId": operation_id or str(mock_random.uuid4()),
        "Action": action,
        "Status": "FAILED" if failed else "SUCCEEDED",
        "CreationTimestamp": utcnow(),
        "EndTimestamp": utcnow(),
        "Instances": [{r["Account"]: r["Region"]} for r in results],
        "Results": results,
    }
    if failed:
        operation["StatusReason"] = (
            f"{len(failed)} of {len(results)} stack instances failed "
            "(failure tolerance 0): " + ", ".join(r["Region"] for r in failed)
        )
    self.operations.append(operation)
    return operation


def _targets(self: cfn.StackSet, accounts: list[str], regions: list[str]) -> list:
    return [
        i
        for i in self.instances.stack_instances
        if (not accounts or i.account_id in accounts) and (not regions or i.region_name in regions)
    ]


def _create_stack_instances(
    self: cfn.StackSet,
    accounts: list[str],
    regions: list[str],
    deployment_targets: dict | None,
    parameters: list[dict],
) -> str:
    if self.permission_model == "SERVICE_MANAGED" and not (
        deployment_targets and "OrganizationalUnitIds" in deployment_targets
    ):
        raise ValidationError(message="SERVICE_MANAGED stack sets target OrganizationalUnitIds")
    before = set(map(id, self.instances.stack_instances))
    self.instances.create_instances(
        accounts,
        regions,
        parameters or [],
        deployment_targets or {},
        permission_model=self.permission_model,
    )
    new = [i for i in self.instances.stack_instances if id(i) not in before]
    results = [i.deploy(self.template, self.parameters) for i in new]
    return _record(self, "CREATE", results)["OperationId"]


def _update(
    self: cfn.StackSet,
    template: str,
    description: str,
    parameters: dict,
    tags: dict,
    admin_role: str,
    execution_role: str,
    accounts: list[str],
    regions: list[str],
    operation_id: str,
) -> dict[str, Any]:
    self.template = template or self.template
    self.instances.template = self.template
    self.description = description if description is not None else self.description
    self.parameters = parameters or self.parameters
    self.tags = tags or self.tags
    self.administration_role_arn = admin_role or self.administration_role_arn
    self.execution_role_name = execution_role or self.execution_role_name
    results = [i.deploy(self.template, self.parameters) for i in _targets(self, accounts, regions)]
    return _record(self, "UPDATE", results, operation_id)


def _update_instances(
    self: cfn.StackSet, accounts: list[str], regions: list[str], parameters: list[dict]
) -> dict[str, Any]:
    targets = _targets(self, accounts, regions)
    if len(targets) < len(accounts) * len(regions):
        raise StackInstanceNotFound()
    for instance in targets:
        if parameters:
            instance.parameters = parameters
    results = [i.deploy(self.template, self.parameters) for i in targets]
    return _record(self, "UPDATE", results)


def _delete_stack_instances(self: cfn.StackSet, accounts: list[str], regions: list[str]) -> None:
    results = []
    for instance in _targets(self, accounts, regions):
        result = instance.remove()
        results.append(result)
        if result["Status"] == "SUCCEEDED":
            self.instances.stack_instances.remove(instance)
    _record(self, "DELETE", results)


def _describe_stack_instance(
    self: cfn.CloudFormationBackend, stack_set_name: str, account_id: str, region: str
) -> dict:
    instance = self.describe_stack_set(stack_set_name).instances.get_instance(account_id, region)
    if instance is None:
        raise StackInstanceNotFound()
    return instance.to_dict()


# --- API responses -------------------------------------------------------------------------


def _list_stack_set_operation_results(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    operation = self.cloudformation_backend.list_stack_set_operation_results(
        self._get_param("StackSetName"), self._get_param("OperationId")
    )
    return ActionResult({"Summaries": operation.get("Results", [])})


def _list_stack_sets(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    status = self._get_param("Status")
    stack_sets = [
        s for s in self.cloudformation_backend.list_stack_sets() if not status or s.status == status
    ]
    return ActionResult({"Summaries": stack_sets})


_original_dto_init = cfn_responses.StackSetOperationDTO.__init__


def _operation_dto_init(self: Any, operation: dict, stack_set: cfn.StackSet) -> None:
    _original_dto_init(self, operation, stack_set)
    self.status_reason = operation.get("StatusReason")


def install() -> None:
    iam_check.install()
    cfn.StackInstance.__init__ = _instance_init  # type: ignore[method-assign]
    cfn.StackInstance.deploy = _instance_deploy  # type: ignore[attr-defined]
    cfn.StackInstance.remove = _instance_remove  # type: ignore[attr-defined]
    cfn.StackInstance.to_dict = _instance_to_dict  # type: ignore[method-assign]
    cfn.StackSet.create_stack_instances = _create_stack_instances  # type: ignore[method-assign]
    cfn.StackSet.update = _update  # type: ignore[method-assign]
    cfn.StackSet.update_instances = _update_instances  # type: ignore[method-assign]
    cfn.StackSet.delete_stack_instances = _delete_stack_instances  # type: ignore[method-assign]
    cfn.CloudFormationBackend.describe_stack_instance = _describe_stack_instance  # type: ignore[method-assign]
    cfn_responses.CloudFormationResponse.list_stack_set_operation_results = (  # type: ignore[method-assign]
        _list_stack_set_operation_results
    )
    cfn_responses.CloudFormationResponse.list_stack_sets = _list_stack_sets  # type: ignore[method-assign]
    cfn_responses.StackSetOperationDTO.__init__ = _operation_dto_init  # type: ignore[method-assign]
