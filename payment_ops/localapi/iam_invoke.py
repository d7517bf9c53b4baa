"""API Gateway's authorization of an authenticated caller: may it invoke this method?

For an ``AWS_IAM`` method, API Gateway evaluates ``execute-api:Invoke`` on the method's ARN,
``arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>``, against the
caller's IAM policies ("Control access to a REST API with IAM permissions"). The REST API's
resource policy grants ``POST /process`` to the account itself, which leaves the decision to the
caller's identity-based policies ("How API Gateway resource policies affect authorization
workflow"), capped by its permissions boundary ("Permissions boundaries for IAM entities"). The
caller is a role session: its role's inline and attached policies and boundary are read from
IAM on every request, so a deleted role (a revoked client) is refused at its next request
("Revoking IAM role temporary security credentials"). Not evaluated here: the resource policy
itself (the emulator does not keep a REST API's ``Policy``); its Deny for principals other than
the client roles is also the handler's check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from payment_ops.emulator import iam_policy

ACTION = "execute-api:Invoke"


def method_arn(
    partition: str, region: str, account: str, api_id: str, stage: str, method: str, path: str
) -> str:
    """The ARN ``execute-api:Invoke`` is evaluated on, for ``path`` (the resource path)."""
    return f"arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}/{method}{path}"


def role_of(session_arn: str) -> tuple[str, str]:
    """``arn:<p>:sts::<account>:assumed-role/<role>/<session>`` -> (role name, role ARN)."""
    prefix, _, resource = session_arn.partition(":assumed-role/")
    role = resource.split("/", 1)[0]
    partition, account = prefix.split(":")[1], prefix.split(":")[4]
    return role, f"arn:{partition}:iam::{account}:role/{role}"


class InvokeAuthorizer:
    """``iam()`` is a boto3 IAM client of the emulator (or AWS)."""

    def __init__(self, iam: Callable[[], Any]) -> None:
        self._iam = iam

    def refusal(self, session_arn: str, resource: str) -> str | None:
        """None when the session may invoke ``resource``, else API Gateway's message."""
        role, role_arn = role_of(session_arn)
        request = iam_policy.Request(ACTION, resource, {"aws:PrincipalArn": role_arn})
        policies = self._policies(role)
        if policies is None:  # the role is gone: nothing allows anything
            decision = iam_policy.Decision(iam_policy.IMPLICIT_DENY, "")
        else:
            decision = iam_policy.evaluate(request, policies[0], policies[1])
        if decision.allowed:
            return None
        explicit = " with an explicit deny" if decision.result == iam_policy.EXPLICIT_DENY else ""
        return (
            f"User: {session_arn} is not authorized to perform: {ACTION} on resource: "
            f"{resource}{explicit}"
        )

    def _policies(self, role: str) -> tuple[list[Any], Any | None] | None:
        iam = self._iam()
        try:
            described = iam.get_role(RoleName=role)["Role"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                return None
            raise
        documents = [
            iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        ]
        for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            documents.append(_managed_document(iam, attached["PolicyArn"]))
        boundary_arn = (described.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        boundary = _managed_document(iam, boundary_arn) if boundary_arn else None
        return documents, boundary


def _managed_document(iam: Any, policy_arn: str) -> Any:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"][
        "Document"
    ]
