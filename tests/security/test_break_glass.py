"""The break-glass path: the purge role ``payment-data-purge`` is the one principal that may
remove locked history or change an audit bucket's retention settings; it is assumable only
with MFA, never by the deployer or a workload; its boundary lets it do exactly that and lets no
other role delete data. Evaluated as IAM evaluates it (``payment_ops.emulator.iam_policy``): the
role's trust policy, its policy under the permissions boundary, and the audit buckets' policies
(an explicit deny in a bucket policy wins as in any other policy, "Policy evaluation logic")."""

from __future__ import annotations

import json

import pytest

from payment_ops.emulator.iam_policy import ALLOW, EXPLICIT_DENY, Request, evaluate
from templates_src.build import render_all
from templates_src.config import Config
from templates_src.names import PROJECT
from templates_src.purge_role import PURGE_ROLE
from templates_src.storage import RETENTION_SETTINGS_ACTIONS

from .test_execution_role import ACCOUNT, resolve

REGION = "us-east-1"
PURGE = f"arn:aws:iam::{ACCOUNT}:role/payment-data-purge"
EXECUTION = f"arn:aws:iam::{ACCOUNT}:role/AWSCloudFormationStackSetExecutionRole"
WORKLOAD = f"arn:aws:iam::{ACCOUNT}:role/payment-dev-processor-us-east-1"
OPERATOR = f"arn:aws:iam::{ACCOUNT}:user/oncall"
AUDIT = f"arn:aws:s3:::payment-dev-audit-{ACCOUNT}-{REGION}"
LOGS = f"arn:aws:s3:::payment-dev-logs-{ACCOUNT}-{REGION}"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/payment-dev-payments"
HERE = {"s3:ResourceAccount": ACCOUNT}


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {item.file_name: json.loads(item.body) for item in render_all(Config())}


@pytest.fixture(scope="module")
def roles(templates) -> dict:
    return templates["stackset-roles.template.json"]["Resources"]


@pytest.fixture(scope="module")
def purge(roles) -> dict:
    return resolve(roles[PURGE_ROLE]["Properties"], {}, REGION)


@pytest.fixture(scope="module")
def boundary(roles) -> dict:
    return resolve(roles["PermissionsBoundary"]["Properties"]["PolicyDocument"], {}, REGION)


def _as(principal: str, action: str, resource: str, **context: object) -> Request:
    return Request(action, resource, {"aws:PrincipalArn": principal, **context})


# --- who may assume it ------------------------------------------------------------------------


def _assume(purge: dict, caller: str, mfa: bool | None) -> str:
    context = {"aws:PrincipalArn": caller}
    if mfa is not None:
        context["aws:MultiFactorAuthPresent"] = mfa
    request = Request("sts:AssumeRole", "*", context, principal={"AWS": caller})
    # A principal of the account is named by the account in a trust policy.
    account_root = f"arn:aws:iam::{ACCOUNT}:root"
    trust = json.loads(json.dumps(purge["AssumeRolePolicyDocument"]).replace(account_root, caller))
    return evaluate(request, [trust]).result


def test_the_purge_role_is_assumable_only_with_mfa(purge):
    assert _assume(purge, OPERATOR, mfa=True) == ALLOW
    assert _assume(purge, OPERATOR, mfa=False) != ALLOW
    assert _assume(purge, OPERATOR, mfa=None) != ALLOW  # a long-term key: no MFA key at all


@pytest.mark.parametrize("caller", [EXECUTION, WORKLOAD])
def test_never_by_the_deployer_or_a_workload_even_with_mfa(purge, caller):
    assert _assume(purge, caller, mfa=True) == EXPLICIT_DENY


def test_the_purge_role_is_made_once_per_account_with_the_boundary(roles, purge):
    """IAM is global: the roles stack (once per account, --bootstrap) makes it, no stack set."""
    assert purge["RoleName"] == "payment-data-purge"
    assert purge["PermissionsBoundary"] == (
        f"arn:aws:iam::{ACCOUNT}:policy/payment-permissions-boundary"
    )
    assert purge["MaxSessionDuration"] == 3600
    assert roles[PURGE_ROLE]["DependsOn"] == ["PermissionsBoundary"]


# --- what it may do, under its boundary -------------------------------------------------------


def _purge_decides(purge: dict, boundary: dict, request: Request) -> str:
    policies = [p["PolicyDocument"] for p in purge["Policies"]]
    return evaluate(request, policies, boundary).result


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("s3:BypassGovernanceRetention", f"{AUDIT}/payments/p.json", HERE),
        ("s3:DeleteObjectVersion", f"{AUDIT}/payments/p.json", HERE),
        ("s3:DeleteObjectVersion", f"{LOGS}/audit-bucket/log", HERE),
        ("s3:DeleteBucket", AUDIT, HERE),
        ("s3:PutLifecycleConfiguration", AUDIT, HERE),
        ("s3:PutBucketPolicy", AUDIT, HERE),
        ("s3:PutBucketObjectLockConfiguration", AUDIT, HERE),
        ("dynamodb:DeleteTable", TABLE, {}),
        ("kms:ScheduleKeyDeletion", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1", {
            "aws:ResourceTag/Project": PROJECT
        }),
        ("cloudformation:ListStackSets", "*", {}),
    ],
)  # fmt: skip
def test_the_purge_role_may_purge_and_break_glass(purge, boundary, action, resource, context):
    request = _as(PURGE, action, resource, **context)
    assert _purge_decides(purge, boundary, request) == ALLOW


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        # The same bucket name in another account.
        ("s3:DeleteObjectVersion", f"{AUDIT}/payments/p.json", {"s3:ResourceAccount": "1" * 12}),
        ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders", {}),
        ("kms:ScheduleKeyDeletion", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-2", {
            "aws:ResourceTag/Project": "billing"
        }),
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/payment-x", {}),
        ("s3:PutObject", f"{AUDIT}/payments/forged.json", HERE),  # it removes, never writes
    ],
)  # fmt: skip
def test_the_purge_role_reaches_nothing_else(purge, boundary, action, resource, context):
    request = _as(PURGE, action, resource, **context)
    assert _purge_decides(purge, boundary, request) != ALLOW


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("dynamodb:DeleteTable", TABLE),
        ("s3:DeleteObjectVersion", f"{AUDIT}/payments/p.json"),
        ("s3:BypassGovernanceRetention", f"{AUDIT}/payments/p.json"),
        ("kms:ScheduleKeyDeletion", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1"),
    ],
)
def test_the_boundary_denies_destruction_to_every_other_role(boundary, action, resource):
    """A workload role whose own policy allowed everything still cannot delete data."""
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    request = _as(WORKLOAD, action, resource)
    assert evaluate(request, [everything], boundary).result == EXPLICIT_DENY


def test_the_purge_calls_are_not_in_a_workload_roles_ceiling(boundary):
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for action in ("s3:PutBucketPolicy", "s3:PutLifecycleConfiguration", "dynamodb:UpdateTable"):
        assert not evaluate(_as(WORKLOAD, action, AUDIT), [everything], boundary).allowed


# --- the audit buckets lock their retention settings ------------------------------------------


def _bucket_policy(templates: dict, name: str, logical_id: str, bucket: str, arn: str) -> dict:
    resource = templates[name]["Resources"][logical_id]
    text = json.dumps(resource["Properties"]["PolicyDocument"])
    text = text.replace(json.dumps({"Fn::GetAtt": [bucket, "Arn"]}), json.dumps(arn))
    document = json.loads(text)
    return resolve(document, {"EnvironmentSuffix": "dev", f"{bucket}.Arn": arn}, REGION)


@pytest.mark.parametrize("template", ["primary.template.json", "replica.template.json"])
@pytest.mark.parametrize(
    ("logical_id", "bucket", "arn"),
    [
        ("AuditBucketPolicy", "AuditBucket", AUDIT),
        ("AccessLogBucketPolicy", "AccessLogBucket", LOGS),
    ],
)
def test_only_the_purge_role_changes_an_audit_buckets_retention_settings(
    templates, template, logical_id, bucket, arn
):
    policy = _bucket_policy(templates, template, logical_id, bucket, arn)
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for action in RETENTION_SETTINGS_ACTIONS:
        name = str(action.JSONrepr())
        for caller in (EXECUTION, WORKLOAD, OPERATOR):
            request = Request(name, arn, {"aws:PrincipalArn": caller}, principal={"AWS": caller})
            assert evaluate(request, [everything, policy]).result == EXPLICIT_DENY, (name, caller)
        request = Request(name, arn, {"aws:PrincipalArn": PURGE}, principal={"AWS": PURGE})
        assert evaluate(request, [everything, policy]).result == ALLOW, name


@pytest.mark.parametrize("template", ["primary.template.json", "replica.template.json"])
def test_the_locking_policies_survive_a_rolled_back_first_create(templates, template):
    """The policy denies DeleteBucketPolicy, so CloudFormation must never need to delete it:
    Retain, while the empty bucket is still removed on a rolled-back first create."""
    resources = templates[template]["Resources"]
    for logical_id in ("AuditBucketPolicy", "AccessLogBucketPolicy"):
        assert resources[logical_id]["DeletionPolicy"] == "Retain"
    assert resources["AuditBucket"]["DeletionPolicy"] == "RetainExceptOnCreate"


# --- PITR off cannot be denied, so it is an alarm ---------------------------------------------


# The service stacks: the primary region's and each replica region's (standby), where the
# table's replicas are.
@pytest.mark.parametrize("template", ["primary.template.json", "standby.template.json"])
def test_switching_pitr_off_notifies_the_alarm_topic(templates, template):
    rule = templates[template]["Resources"]["PitrDisabledRule"]["Properties"]
    detail = rule["EventPattern"]["detail"]
    assert detail["eventName"] == ["UpdateContinuousBackups"]
    assert detail["requestParameters"] == {
        "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": [False]}
    }
    assert rule["State"] == "ENABLED"
    [target] = rule["Targets"]
    key_rule = templates[template]["Resources"]["KeyDisabledOrDeletedRule"]["Properties"]
    assert target["Arn"] == key_rule["Targets"][0]["Arn"]  # the topic the alarms use
