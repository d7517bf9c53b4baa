"""Role permissions are customer managed policies, each attached to exactly one role."""

from __future__ import annotations

import json

import pytest

from templates_src.build import render_all
from templates_src.config import Config
from templates_src.iam import role_policy_documents


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    config = Config(enable_cloudtrail=True)
    return {item.file_name: json.loads(item.body) for item in render_all(config)}


def _of_type(template: dict, type_: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def test_no_role_of_any_template_has_an_inline_policy(templates):
    roles = [
        (n, k, r) for n, t in templates.items() for k, r in _of_type(t, "AWS::IAM::Role").items()
    ]
    assert len(roles) >= 5
    service_roles = [(n, k) for n, k, _ in roles if n != "stackset-roles.template.json"]
    for name, logical_id, role in roles:
        if (name, logical_id) in service_roles:
            assert "Policies" not in role["Properties"], (name, logical_id)


def test_each_managed_policy_is_attached_to_exactly_one_role_of_its_template(templates):
    for name, template in templates.items():
        if name == "stackset-roles.template.json":
            continue  # the permissions boundary: a ceiling, attached to no role as a policy
        policies = _of_type(template, "AWS::IAM::ManagedPolicy")
        attached = [
            arn["Ref"]
            for role in _of_type(template, "AWS::IAM::Role").values()
            for arn in role["Properties"].get("ManagedPolicyArns", [])
        ]
        for logical_id, policy in policies.items():
            assert attached.count(logical_id) == 1, (name, logical_id)
            for entities in ("Roles", "Users", "Groups"):
                assert entities not in policy["Properties"], (name, logical_id)


def test_each_policy_is_named_after_its_role(templates):
    primary = templates["primary.template.json"]
    for logical_id, role in _of_type(primary, "AWS::IAM::Role").items():
        [arn] = role["Properties"]["ManagedPolicyArns"]
        policy = primary["Resources"][arn["Ref"]]["Properties"]
        assert policy["ManagedPolicyName"] == role["Properties"]["RoleName"], logical_id


def test_the_processor_keeps_exactly_its_least_privilege_statements(templates):
    [document] = role_policy_documents(templates["primary.template.json"], "ProcessorRole")
    assert [s["Sid"] for s in document["Statement"]] == [
        "OneConditionalWritePerPayment",
        "UseTableKeyThroughDynamoDB",
        "DecryptEnvironment",
        "SendAsyncFailuresToDeadLetterQueue",
        "EncryptDeadLetters",
        "WriteOwnLogGroup",
        "SendTraces",
    ]
