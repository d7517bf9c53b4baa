"""Stack updates reach an ``AWS::IAM::Role``'s policies, as in CloudFormation.

moto's update of a role changes only its description: a stack update that adds a statement to a
role's inline policy, or changes its trust policy, reports UPDATE_COMPLETE and leaves the role
as it was. CloudFormation updates these properties in place ("AWS::IAM::Role", CloudFormation
Template Reference, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html:
``AssumeRolePolicyDocument``, ``Policies``, ``PermissionsBoundary``, ``Description``,
``MaxSessionDuration``: "Update requires: No interruption"). ``ManagedPolicyArns`` too: moto
ignored them on create and update, where CloudFormation attaches the listed policies, and
detaches them before it deletes the role (moto's delete then failed "must detach all policies
first"). An ``AWS::IAM::ManagedPolicy`` whose document changes gets a new default version, the
oldest non-default one deleted at IAM's five ("AWS::IAM::ManagedPolicy", CloudFormation
Template Reference; "Versioning IAM policies", IAM user guide); moto kept the first document
for ever, and never deleted the policy with its stack. The execution role
the emulator's StackSets act as is read from IAM (``iam_check``), so an updated roles stack must
change what that role may do.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import ManagedPolicy, Role, iam_backends
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
    wanted_arns = set(properties.get("ManagedPolicyArns", []))
    for arn in set(role.managed_policies) - wanted_arns:
        backend.detach_role_policy(arn, role.name)
    for arn in wanted_arns - set(role.managed_policies):
        backend.attach_role_policy(arn, role.name)
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


# IAM keeps at most five versions of a managed policy ("IAM object quotas").
POLICY_VERSIONS_MAX = 5


def _update_managed_policy(
    cls: type,
    original_resource: ManagedPolicy,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> ManagedPolicy:
    properties = cloudformation_json["Properties"]
    if properties.get("ManagedPolicyName", new_resource_name) != original_resource.name:
        # A new name replaces the policy (Update requires: Replacement).
        _delete_managed_policy(original_resource)
        return ManagedPolicy.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
    backend = original_resource.backend
    document = _as_json(properties["PolicyDocument"])
    versions = backend.list_policy_versions(original_resource.arn)
    current = next(v for v in versions if v.is_default).document
    if json.loads(current) != json.loads(document):
        if len(versions) >= POLICY_VERSIONS_MAX:
            oldest = next(v for v in versions if not v.is_default)
            backend.delete_policy_version(original_resource.arn, oldest.version_id)
        backend.create_policy_version(original_resource.arn, document, set_as_default=True)
    return original_resource


def _delete_managed_policy(policy: ManagedPolicy) -> None:
    """Detached from every role first, as the handler does (DeletePolicy: "you must first
    detach the policy from all users, groups, and roles that it is attached to")."""
    backend = policy.backend
    for role in list(backend.roles.values()):
        if policy.arn in role.managed_policies:
            backend.detach_role_policy(policy.arn, role.name)
    backend.delete_policy(policy.arn)


def install() -> None:
    create = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    delete = Role.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_role(
        cls: type, resource_name: str, cloudformation_json: dict, *args: Any, **kwargs: Any
    ) -> Role:
        role = create(cls, resource_name, cloudformation_json, *args, **kwargs)
        for name, document in list(role.policies.items()):
            role.put_policy(name, _as_json(document))
        backend = iam_backends[role.account_id][role.partition]
        for arn in cloudformation_json.get("Properties", {}).get("ManagedPolicyArns", []):
            backend.attach_role_policy(arn, role.name)
        return role

    def delete_role(
        cls: type, resource_name: str, cloudformation_json: dict, account_id: str, region: str
    ) -> None:
        backend = iam_backends[account_id][get_partition(region)]
        role = next((r for r in backend.roles.values() if r.name == resource_name), None)
        for arn in list(role.managed_policies) if role else []:
            backend.detach_role_policy(arn, role.name)
        delete(cls, resource_name, cloudformation_json, account_id, region)

    def delete_managed_policy(
        cls: type, resource_name: str, cloudformation_json: dict, account_id: str, region: str
    ) -> None:
        backend = iam_backends[account_id][get_partition(region)]
        policy = backend.managed_policies.get(resource_name)  # its physical id is its ARN
        if policy is not None:
            _delete_managed_policy(policy)

    Role.create_from_cloudformation_json = classmethod(create_role)  # type: ignore[assignment]
    Role.update_from_cloudformation_json = classmethod(_update_role)  # type: ignore[assignment]
    Role.delete_from_cloudformation_json = classmethod(delete_role)  # type: ignore[assignment]
    ManagedPolicy.update_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        _update_managed_policy
    )
    ManagedPolicy.delete_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        delete_managed_policy
    )
