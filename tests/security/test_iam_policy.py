"""The policy evaluator against cases written from the IAM User Guide ("Policy evaluation
logic", "IAM JSON policy elements: Condition operators", "Multivalued context keys",
"Permissions boundaries for IAM entities")."""

from __future__ import annotations

import pytest

from payment_ops.emulator.iam_policy import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    PolicyError,
    Request,
    access_denied_message,
    evaluate,
)


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def _when(action: str, operator: str, key: str, value, effect: str = "Allow") -> dict:
    return {
        "Effect": effect,
        "Action": action,
        "Resource": "*",
        "Condition": {operator: {key: value}},
    }


BUCKET = "arn:aws:s3:::payment-dev-audit"


def test_default_deny_when_nothing_allows():
    decision = evaluate(Request("s3:GetObject", f"{BUCKET}/a"), [_policy()])
    assert decision.result == IMPLICIT_DENY
    assert "no identity-based policy allows the s3:GetObject action" in decision.reason


def test_explicit_deny_overrides_any_allow():
    policies = [_policy(_allow("s3:*")), _policy(_deny("s3:DeleteObjectVersion", f"{BUCKET}/*"))]
    assert evaluate(Request("s3:DeleteObjectVersion", f"{BUCKET}/x"), policies).result == (
        EXPLICIT_DENY
    )
    assert evaluate(Request("s3:GetObject", f"{BUCKET}/x"), policies).allowed


def test_actions_match_case_insensitively_with_wildcards():
    policy = [_policy(_allow(["dynamodb:Describe*", "s3:Get?bject"]))]
    assert evaluate(Request("DynamoDB:describetable"), policy).allowed
    assert evaluate(Request("s3:GetObject"), policy).allowed
    assert not evaluate(Request("s3:GetObjectAcl"), policy).allowed  # ? is one character
    assert not evaluate(Request("dynamodb:DeleteTable"), policy).allowed


def test_resources_match_case_sensitively():
    policy = [_policy(_allow("s3:GetObject", "arn:aws:s3:::payment-*/*"))]
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::payment-dev/k"), policy).allowed
    assert not evaluate(Request("s3:GetObject", "arn:aws:s3:::Payment-dev/k"), policy).allowed


def test_an_action_without_resource_level_permissions_needs_resource_star():
    scoped = [_policy(_allow("kms:CreateKey", "arn:aws:kms:*:111122223333:key/*"))]
    assert not evaluate(Request("kms:CreateKey", "*"), scoped).allowed
    assert evaluate(Request("kms:CreateKey", "*"), [_policy(_allow("kms:CreateKey"))]).allowed


def test_not_action_and_not_resource():
    policy = [
        _policy(
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::payment-*"]},
        )
    ]
    assert evaluate(Request("s3:ListBucket", "arn:aws:s3:::payment-x"), policy).allowed
    assert evaluate(Request("s3:ListBucket", "arn:aws:s3:::other"), policy).result == (
        EXPLICIT_DENY
    )
    assert not evaluate(Request("iam:CreateRole", "arn:aws:iam::1:role/x"), policy).allowed


def test_condition_keys_values_and_operators_combine_as_documented():
    # Values of one key: OR; keys and operators: AND.
    statement = _allow(
        "iam:CreateServiceLinkedRole",
        Condition={
            "StringEquals": {
                "iam:AWSServiceName": [
                    "ops.apigateway.amazonaws.com",
                    "replication.dynamodb.amazonaws.com",
                ]
            },
            "Bool": {"aws:SecureTransport": "true"},
        },
    )
    policy = [_policy(statement)]
    both = {"iam:AWSServiceName": "ops.apigateway.amazonaws.com", "aws:SecureTransport": True}
    assert evaluate(Request("iam:CreateServiceLinkedRole", context=both), policy).allowed
    other = {**both, "iam:AWSServiceName": "elasticmapreduce.amazonaws.com"}
    assert not evaluate(Request("iam:CreateServiceLinkedRole", context=other), policy).allowed
    insecure = {**both, "aws:SecureTransport": False}
    assert not evaluate(Request("iam:CreateServiceLinkedRole", context=insecure), policy).allowed
    # Condition key names are case-insensitive.
    lower = {"IAM:awsservicename": "ops.apigateway.amazonaws.com", "aws:securetransport": "true"}
    assert evaluate(Request("iam:CreateServiceLinkedRole", context=lower), policy).allowed


def test_an_absent_key_fails_positive_operators_and_satisfies_negated_ones():
    positive = [
        _policy(_allow("kms:CreateKey", Condition={"StringEquals": {"aws:RequestTag/P": "x"}}))
    ]
    negated = [
        _policy(_allow("kms:CreateKey", Condition={"StringNotEquals": {"aws:RequestTag/P": "x"}}))
    ]
    if_exists = [
        _policy(
            _allow("kms:CreateKey", Condition={"StringEqualsIfExists": {"aws:RequestTag/P": "x"}})
        )
    ]
    request = Request("kms:CreateKey")
    assert not evaluate(request, positive).allowed
    assert evaluate(request, negated).allowed
    assert evaluate(request, if_exists).allowed
    tagged = Request("kms:CreateKey", context={"aws:RequestTag/P": "y"})
    assert not evaluate(tagged, if_exists).allowed and evaluate(tagged, negated).allowed


def test_null_tests_presence():
    policy = [
        _policy(
            _when("iam:CreateRole", "Null", "iam:PermissionsBoundary", "true", effect="Deny"),
            _allow("iam:CreateRole"),
        )
    ]
    assert evaluate(Request("iam:CreateRole"), policy).result == EXPLICIT_DENY
    with_boundary = Request("iam:CreateRole", context={"iam:PermissionsBoundary": "arn:x"})
    assert evaluate(with_boundary, policy).allowed


def test_string_like_and_arn_like_wildcards():
    policy = [
        _policy(
            _allow("iam:PassRole", Condition={"StringLike": {"iam:PassedToService": "lambda.*"}}),
            _allow(
                "sts:AssumeRole",
                Condition={"ArnLike": {"aws:SourceArn": "arn:aws:cloudformation:*:111122223333:*"}},
            ),
        )
    ]
    assert evaluate(
        Request("iam:PassRole", context={"iam:PassedToService": "lambda.amazonaws.com"}), policy
    ).allowed
    assert not evaluate(
        Request("iam:PassRole", context={"iam:PassedToService": "ec2.amazonaws.com"}), policy
    ).allowed
    source = "arn:aws:cloudformation:eu-west-1:111122223333:stackset/x:1"
    assert evaluate(Request("sts:AssumeRole", context={"aws:SourceArn": source}), policy).allowed
    foreign = source.replace("111122223333", "444455556666")
    assert not evaluate(
        Request("sts:AssumeRole", context={"aws:SourceArn": foreign}), policy
    ).allowed


def test_for_any_value_and_for_all_values_on_multivalued_keys():
    keys = ["Project", "Environment"]
    any_value = [
        _policy(_when("ec2:CreateTags", "ForAnyValue:StringEquals", "aws:TagKeys", ["Project"]))
    ]
    all_values = [
        _policy(_when("ec2:CreateTags", "ForAllValues:StringEquals", "aws:TagKeys", keys))
    ]
    mixed = Request("ec2:CreateTags", context={"aws:TagKeys": ["Project", "Owner"]})
    assert evaluate(mixed, any_value).allowed
    assert not evaluate(mixed, all_values).allowed
    subset = Request("ec2:CreateTags", context={"aws:TagKeys": ["Environment"]})
    assert evaluate(subset, all_values).allowed and not evaluate(subset, any_value).allowed
    # Documented pitfall: ForAllValues holds when the key is absent altogether.
    assert evaluate(Request("ec2:CreateTags"), all_values).allowed
    assert not evaluate(Request("ec2:CreateTags"), any_value).allowed


def test_permissions_boundary_intersects_with_identity_policy():
    identity = [_policy(_allow(["s3:*", "iam:*"]))]
    boundary = _policy(_allow("s3:*"))
    assert evaluate(Request("s3:PutObject", f"{BUCKET}/k"), identity, boundary).allowed
    decision = evaluate(Request("iam:CreateUser", "arn:aws:iam::1:user/x"), identity, boundary)
    assert decision.result == IMPLICIT_DENY and "permissions boundary" in decision.reason
    # The boundary grants nothing by itself.
    assert not evaluate(Request("s3:PutObject", f"{BUCKET}/k"), [_policy()], boundary).allowed
    # A deny in the boundary is an explicit deny.
    deny_boundary = _policy(_allow("*"), _deny("s3:PutObject"))
    assert evaluate(Request("s3:PutObject"), identity, deny_boundary).result == EXPLICIT_DENY


def test_trust_policy_principal_and_source_conditions():
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": ["cloudformation.amazonaws.com"]},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}},
        }
    )
    cfn = {"Service": "cloudformation.amazonaws.com"}
    ok = Request("sts:AssumeRole", principal=cfn, context={"aws:SourceAccount": "111122223333"})
    assert evaluate(ok, [trust]).result == ALLOW
    confused_deputy = Request(
        "sts:AssumeRole", principal=cfn, context={"aws:SourceAccount": "444455556666"}
    )
    assert not evaluate(confused_deputy, [trust]).allowed
    lambda_service = Request(
        "sts:AssumeRole", principal={"Service": "lambda.amazonaws.com"}, context=ok.context
    )
    assert not evaluate(lambda_service, [trust]).allowed


def test_unknown_elements_are_refused_not_guessed():
    with pytest.raises(PolicyError):
        evaluate(Request("s3:GetObject"), [_policy(_allow("s3:*", "arn:aws:s3:::${aws:username}"))])
    with pytest.raises(PolicyError):
        evaluate(
            Request("s3:GetObject"),
            [_policy(_allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030"}}))],
        )


def test_the_denial_message_has_aws_shape():
    request = Request("iam:CreateRole", "arn:aws:iam::123456789012:role/x")
    decision = evaluate(request, [_policy()])
    message = access_denied_message(
        "arn:aws:sts::123456789012:assumed-role/AWSCloudFormationStackSetExecutionRole/s",
        request,
        decision,
    )
    assert message == (
        "User: arn:aws:sts::123456789012:assumed-role/AWSCloudFormationStackSetExecutionRole/s "
        "is not authorized to perform: iam:CreateRole on resource: "
        "arn:aws:iam::123456789012:role/x because no identity-based policy allows the "
        "iam:CreateRole action"
    )
