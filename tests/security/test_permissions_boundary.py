"""The deployer cannot become an administrator: every role carries the permissions boundary,
and the execution role creates or changes roles only with it, evaluated as IAM evaluates.

Escalation paths from the IAM User Guide ("Permissions boundaries for IAM entities", the
delegation example): create a role without the boundary, attach or write an administrator
policy, remove the boundary, edit the boundary policy, pass a role to another service."""

from __future__ import annotations

import json

import pytest

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import EXPLICIT_DENY, Request, evaluate
from templates_src.boundary import PERMISSIONS_BOUNDARY_NAME
from templates_src.build import render_all
from templates_src.config import Config
from templates_src.iam import role_policy_documents

from .test_execution_role import ACCOUNT, SERVICE_TEMPLATES, execution_role, resolve

BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{PERMISSIONS_BOUNDARY_NAME}"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
PAYMENT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/payment-dev-processor-us-east-1"


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {item.file_name: json.loads(item.body) for item in render_all(Config())}


@pytest.fixture(scope="module")
def role(templates) -> iam_check.Role:
    return execution_role(templates)


@pytest.fixture(scope="module")
def boundary(templates) -> dict:
    resource = templates["stackset-roles.template.json"]["Resources"]["PermissionsBoundary"]
    assert resource["Properties"]["ManagedPolicyName"] == PERMISSIONS_BOUNDARY_NAME
    return resolve(resource["Properties"]["PolicyDocument"], {}, "us-east-1")


def _roles(templates):
    for name in SERVICE_TEMPLATES:
        for logical_id, resource in templates[name]["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role":
                yield (
                    name,
                    logical_id,
                    resolve(resource["Properties"], {"EnvironmentSuffix": "dev"}, "us-east-1"),
                    role_policy_documents(templates[name], logical_id),
                )


def test_every_role_the_templates_create_carries_the_boundary(templates):
    roles = list(_roles(templates))
    assert len(roles) >= 5
    for name, logical_id, properties, _ in roles:
        assert properties.get("PermissionsBoundary") == BOUNDARY_ARN, (name, logical_id)


def test_the_boundary_still_allows_every_call_the_roles_are_granted(templates, boundary):
    for name, logical_id, _, documents in _roles(templates):
        for document in documents:
            for statement in document["Statement"]:
                actions = (
                    statement["Action"]
                    if isinstance(statement["Action"], list)
                    else [statement["Action"]]
                )
                for action in actions:
                    assert evaluate(
                        Request(action),
                        [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
                        boundary,
                    ).allowed, (name, logical_id, action)


def test_an_administrator_policy_on_a_bounded_role_grants_only_the_workload_calls(boundary):
    administrator = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for action in (
        "iam:CreateUser",
        "iam:AttachRolePolicy",
        "sts:AssumeRole",
        "kms:ScheduleKeyDeletion",
        "s3:DeleteObjectVersion",
        "dynamodb:DeleteTable",
        "dynamodb:ExportTableToPointInTime",
    ):
        assert not evaluate(Request(action), [administrator], boundary).allowed, action
    assert evaluate(Request("dynamodb:PutItem"), [administrator], boundary).allowed


@pytest.mark.parametrize(
    "request_",
    [
        Request("iam:CreateRole", PAYMENT_ROLE),  # no boundary
        Request("iam:CreateRole", PAYMENT_ROLE, {"iam:PermissionsBoundary": ADMIN_POLICY}),
        Request("iam:PutRolePolicy", PAYMENT_ROLE),
        Request("iam:AttachRolePolicy", PAYMENT_ROLE, {"iam:PolicyARN": ADMIN_POLICY}),
        Request(
            "iam:PutRolePermissionsBoundary",
            PAYMENT_ROLE,
            {"iam:PermissionsBoundary": ADMIN_POLICY},
        ),
        Request(
            "iam:DeleteRolePermissionsBoundary",
            PAYMENT_ROLE,
            {"iam:PermissionsBoundary": BOUNDARY_ARN},
        ),
        Request("iam:CreatePolicyVersion", BOUNDARY_ARN),
        Request("iam:SetDefaultPolicyVersion", BOUNDARY_ARN),
        Request("iam:PassRole", PAYMENT_ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}),
        Request("iam:PassRole", PAYMENT_ROLE),
        Request("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/payment-dev"),
        Request(
            "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/admin",
            {"iam:PermissionsBoundary": BOUNDARY_ARN},
        ),
    ],
    ids=lambda r: f"{r.action}:{dict(r.context)}",
)
def test_escalation_paths_are_denied(role, request_):
    assert not iam_check.decide(role, request_).allowed


def test_removing_the_boundary_is_an_explicit_deny(role):
    request = Request("iam:DeleteRolePermissionsBoundary", PAYMENT_ROLE)
    assert iam_check.decide(role, request).result == EXPLICIT_DENY


def test_the_bounded_paths_the_templates_use_stay_allowed(role):
    bounded = {"iam:PermissionsBoundary": BOUNDARY_ARN}
    for action in (
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
    ):
        assert iam_check.decide(role, Request(action, PAYMENT_ROLE, bounded)).allowed, action
    for service in ("lambda.amazonaws.com", "apigateway.amazonaws.com"):
        passed = Request("iam:PassRole", PAYMENT_ROLE, {"iam:PassedToService": service})
        assert iam_check.decide(role, passed).allowed, service
