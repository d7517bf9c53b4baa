"""The audit trail cannot be altered: the audit buckets lock every object version (S3 Object
Lock default retention), the mode follows the environment, only the purge role may bypass a
GOVERNANCE lock, audit objects stay immediately readable, and the audit writer's put really
lands in a bucket configured as the template configures it (moto, in-process; nothing deployed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.cloudformation.exceptions import ValidationError
from moto.s3.models import s3_backends

from payment_ops.emulator.models.s3 import S3Bucket
from templates_src.build import render
from templates_src.config import COMPLIANCE, GOVERNANCE, Config, ConfigError, is_throwaway_suffix
from templates_src.regions import build_primary, build_replica
from tests.handler.conftest import BUCKET, REGION, aws  # noqa: F401 - the fixture is used
from tests.handler.test_audit import deliver, key_of, payment_item, stream_record

IMMEDIATE_CLASSES = {"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"}


def _template(config: Config, build=build_primary) -> dict:
    return json.loads(render(build(config)))


@pytest.fixture(scope="module")
def primary() -> dict:
    return _template(Config())


@pytest.fixture(scope="module")
def replica() -> dict:
    return _template(Config(), build_replica)


@pytest.mark.parametrize(
    ("suffix", "mode"),
    [
        ("dev", GOVERNANCE),
        ("test-42", GOVERNANCE),
        ("pr17", GOVERNANCE),
        ("local", GOVERNANCE),
        ("prod", COMPLIANCE),
        ("staging", COMPLIANCE),
        ("payments", COMPLIANCE),
        ("developer", COMPLIANCE),  # "dev" followed by letters is not a throw-away suffix
    ],
)
def test_lock_mode_follows_the_suffix(suffix, mode):
    assert Config(environment_suffix=suffix).object_lock_mode == mode
    assert is_throwaway_suffix(suffix) == (mode == GOVERNANCE)


def test_an_explicit_mode_overrides_the_suffix_and_a_wrong_one_is_refused():
    assert Config(environment_suffix="dev", audit_object_lock_mode=COMPLIANCE).object_lock_mode == (
        COMPLIANCE
    )
    with pytest.raises(ConfigError, match="object lock mode"):
        Config(audit_object_lock_mode="compliance")
    with pytest.raises(ConfigError, match="object lock days"):
        Config(audit_object_lock_days=0)


@pytest.mark.parametrize("build", [build_primary, build_replica])
def test_audit_bucket_locks_every_version_for_the_configured_retention(build):
    template = _template(Config(environment_suffix="prod"), build)
    props = template["Resources"]["AuditBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}  # Object Lock needs it
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": COMPLIANCE, "Days": 365}},
    }


def test_only_the_purge_role_may_bypass_governance_retention(primary):
    statements = {
        s["Sid"]: s
        for s in primary["Resources"]["AuditBucketPolicy"]["Properties"]["PolicyDocument"][
            "Statement"
        ]
    }
    bypass = statements["OnlyThePurgeRoleBypassesRetention"]
    assert bypass["Effect"] == "Deny" and bypass["Principal"] == "*"
    assert bypass["Action"] == ["s3:BypassGovernanceRetention"]
    assert bypass["Condition"] == {
        "ArnNotLike": {
            "aws:PrincipalArn": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/payment-data-purge"
            }
        }
    }


def test_access_log_bucket_is_not_locked_but_only_the_purge_role_deletes_its_versions(primary):
    """S3 refuses server access logs into a bucket with Object Lock."""
    assert "ObjectLockEnabled" not in primary["Resources"]["AccessLogBucket"]["Properties"]
    policy = primary["Resources"]["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = [s for s in policy["Statement"] if s["Sid"] == "OnlyThePurgeRoleDeletesLogVersions"]
    assert deny["Action"] == ["s3:DeleteObjectVersion"]
    assert "aws:PrincipalArn" in deny["Condition"]["ArnNotLike"]


def test_audit_objects_stay_immediately_readable_for_at_least_90_days(primary, replica):
    for template in (primary, replica):
        for rule in template["Resources"]["AuditBucket"]["Properties"]["LifecycleConfiguration"][
            "Rules"
        ]:
            for transition in rule.get("Transitions", []):
                if transition["TransitionInDays"] < 90:
                    assert transition["StorageClass"] in IMMEDIATE_CLASSES, rule["Id"]


# -- the audit writer against a bucket configured as the template says -----------------------


@pytest.fixture
def locked_bucket(aws, primary, monkeypatch):  # noqa: F811 - pytest fixture by name
    """The audit bucket with the primary template's versioning and Object Lock settings."""
    props = primary["Resources"]["AuditBucket"]["Properties"]
    retention = props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=props["ObjectLockEnabled"])
    s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration=props["VersioningConfiguration"]
    )
    s3.put_object_lock_configuration(
        Bucket=BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": retention["Mode"], "Days": retention["Days"]}},
        },
    )
    key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    monkeypatch.setenv("AUDIT_KMS_KEY_ARN", key_arn)
    return s3, retention


def test_the_audit_writer_writes_a_locked_object(locked_bucket):
    s3, retention = locked_bucket
    item = payment_item()

    assert deliver(stream_record(item, "100")) == {"batchItemFailures": []}

    head = s3.head_object(Bucket=BUCKET, Key=key_of(item))
    assert head["ObjectLockMode"] == retention["Mode"]
    until = head["ObjectLockRetainUntilDate"]
    expected = datetime.now(UTC) + timedelta(days=retention["Days"])
    assert abs(until - expected) < timedelta(days=1)
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=BUCKET, Key=key_of(item), VersionId=head["VersionId"])


def test_the_audit_writer_asks_for_a_checksum_so_a_locked_bucket_takes_its_writes(
    locked_bucket, monkeypatch
):
    """S3 requires Content-MD5 or an x-amz-checksum for puts under Object Lock; boto3 sends a
    CRC32 by default only since 1.36, and not at all with ``when_required`` (as an older runtime
    SDK behaves). A put that does not ask is refused; the audit writer asks for SHA-256 itself,
    so its write lands whatever the SDK's default."""
    from handler import audit

    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
    audit.reset_runtime()
    s3, _ = locked_bucket
    plain = boto3.client("s3", region_name=REGION)
    with pytest.raises(ClientError, match="Content-MD5|checksum"):
        plain.put_object(Bucket=BUCKET, Key="payments/unchecked.json", Body=b"{}")
    item = payment_item()

    result = deliver(stream_record(item, "100"))

    assert result == {"batchItemFailures": []}
    (listed,) = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    head = s3.head_object(Bucket=BUCKET, Key=listed["Key"], ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256")


def test_the_emulator_refuses_access_logs_into_a_locked_bucket(aws):  # noqa: F811
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="locked-logs", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="source")
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    assert s3_backends[account]["aws"].get_bucket("locked-logs").object_lock_enabled
    with pytest.raises(ValidationError, match="Object Lock"):
        S3Bucket._configure(
            "source",
            {"LoggingConfiguration": {"DestinationBucketName": "locked-logs"}},
            account,
            REGION,
        )


# -- what the purge can and cannot remove ----------------------------------------------------


def _locked(mode: str) -> object:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": mode, "Days": 365}},
        },
    )
    s3.put_object(Bucket=BUCKET, Key="payments/2026/01/01/p.json", Body=b"{}")
    return s3


def test_purge_removes_governance_locked_versions(aws):  # noqa: F811
    from payment_ops.deployment.retained import empty_bucket

    s3 = _locked(GOVERNANCE)

    assert empty_bucket(s3, BUCKET) == 1
    assert s3.list_object_versions(Bucket=BUCKET).get("Versions", []) == []


def test_purge_says_what_a_compliance_lock_keeps(aws):  # noqa: F811
    from payment_ops.deployment.errors import DeployError
    from payment_ops.deployment.retained import empty_bucket

    s3 = _locked(COMPLIANCE)

    with pytest.raises(DeployError, match="locked in COMPLIANCE mode until 20") as refused:
        empty_bucket(s3, BUCKET)
    assert "payments/2026/01/01/p.json" in str(refused.value)
    assert len(s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 1
