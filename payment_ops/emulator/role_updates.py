"""Stack updates reach an ``AWS::IAM::Role``'s policies, as in CloudFormation.

moto's update of a role changes only its description: a stack update that adds a statement to a
role's inline policy, or changes its trust policy, reports UPDATE_COMPLETE and leaves the role
as it was. CloudFormation updates these properties in place ("AWS::IAM::Role", CloudFormation
Template Reference, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html:
``AssumeRolePolicyDocument``, ``Policies``, ``PermissionsBoundary``, ``Description``,
``MaxSessionDuration``: "Update requires: No interruption"). ``ManagedPolicyArns`` is left to
moto, which does not attach them on create either. The execution role
the emulator's StackSets act as is read from IAM (``iam_check``), so an updated roles stack must
change what that role may do.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import Role, iam_backends
from moto.utilities.utils import get_partition


def _update_role(
    cls: type,
    original_resource: Role,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Role:
    backend = iam_backends[account_id][get_partition(region_name)]
    properties = cloudformation_json["Properties"]
    role = original_resource
    trust = properties["AssumeRolePolicyDocument"]
    role.assume_role_policy_document = trust if isinstance(trust, str) else json.dumps(trust)
    role.description = properties.get("Description", "")
    role.max_session_duration = properties.get("MaxSessionDuration", 3600)
    # Inline policies: the template's set, a policy no longer listed removed.
    wanted = {
        policy["PolicyName"]: policy["PolicyDocument"] for policy in properties.get("Policies", [])
    }
    for name in list(role.policies):
        if name not in wanted:
            role.delete_policy(name)
    for name, document in wanted.items():
        role.put_policy(name, _as_json(document))
    boundary = properties.get("PermissionsBoundary")
    if boundary:
        backend.put_role_permissions_boundary(role.name, boundary)
    else:
        backend.delete_role_permissions_boundary(role.name)
    return role


def _as_json(document: Any) -> str:
    # IAM holds a policy as JSON text (PutRolePolicy: "You must provide policies in JSON
    # format"); moto kept the template's object, which GetRolePolicy then printed as Python.
    return document if isinstance(document, str) else json.dumps(document)


def install() -> None:
    create = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_role(cls: type, *args: Any, **kwargs: Any) -> Role:
        role = create(cls, *args, **kwargs)
        for name, document in list(role.policies.items()):
            role.put_policy(name, _as_json(document))
        return role

    Role.create_from_cloudformation_json = classmethod(create_role)  # type: ignore[assignment]
    Role.update_from_cloudformation_json = classmethod(_update_role)  # type: ignore[assignment]
