"""The buckets of a region: the audit bucket and the bucket its access logs go to.

Both are versioned, private, TLS-only and retained. The audit bucket is encrypted with the
region's audit key, takes uploads only under that key, and locks every object version for the
configured retention (S3 Object Lock default retention, PCI DSS v4.0 10.3.2 and 10.5.1):
COMPLIANCE for production-like suffixes (nobody, root included, can delete or shorten it),
GOVERNANCE for throw-away ones (only the documented purge role may bypass it).

The access-log bucket cannot be locked: "S3 buckets with Object Lock can't be used as destination
buckets for server access logs" (Amazon S3 user guide, "Configuring S3 Object Lock"). Its log
versions can be deleted by the purge role only (bucket policy), and the optional CloudTrail
trail records every data event on both buckets.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import s3 as s3_actions
from awacs.aws import (
    Allow,
    ArnLike,
    ArnNotLike,
    Condition,
    Deny,
    Null,
    Policy,
    Principal,
    Statement,
    StringEquals,
    StringNotEquals,
)
from troposphere import GetAtt, Ref, Sub, Template
from troposphere.s3 import (
    Bucket,
    BucketEncryption,
    BucketPolicy,
    DefaultRetention,
    LifecycleConfiguration,
    LifecycleRule,
    LifecycleRuleTransition,
    LoggingConfiguration,
    NoncurrentVersionExpiration,
    ObjectLockConfiguration,
    ObjectLockRule,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from handler.audit_key import AUDIT_KEY_PREFIX

from . import names
from .common import deny_insecure_transport, retain, suppress, tags
from .config import Config
from .purge_role import purge_role_arn

AUDIT_BUCKET = "AuditBucket"
ACCESS_LOG_BUCKET = "AccessLogBucket"
ACCESS_LOG_PREFIX = "audit-bucket/"
ACCESS_LOG_EXPIRY_DAYS = 365
AUDIT_COLD_STORAGE_CLASS = "GLACIER_IR"

# Why no bucket here has S3 Replication (the guard rule S3_BUCKET_REPLICATION_ENABLED).
REPLICATION_REASON = (
    "Not replicated on purpose: the payments table is a global table, and every region's audit "
    "writer writes the complete audit trail from its own replica's stream into its own region's "
    "audit bucket, so every region already holds every audit object; the access logs describe "
    "requests to that region's buckets and stay beside them. Replication would add a "
    "cross-region dependency and a replication role for a copy each region already has."
)

_PRIVATE = PublicAccessBlockConfiguration(
    BlockPublicAcls=True,
    BlockPublicPolicy=True,
    IgnorePublicAcls=True,
    RestrictPublicBuckets=True,
)


# Bucket names are global: account and region make them unique per deployment and region.
_AUDIT_NAME = names.regional_bucket(
    names.SUB_SUFFIX, names.AUDIT_BUCKET, names.SUB_ACCOUNT, names.SUB_REGION
)
# The optional CloudTrail trail's bucket (trail.py), whose access logs go here too.
TRAIL_NAME = names.regional_bucket(
    names.SUB_SUFFIX, names.TRAIL_BUCKET, names.SUB_ACCOUNT, names.SUB_REGION
)
TRAIL_LOG_PREFIX = "trail-bucket/"


def audit_bucket_name() -> Sub:
    return Sub(_AUDIT_NAME)


@dataclass(frozen=True)
class BucketRef:
    """What a consumer needs of a bucket: its name and ARN."""

    name: object
    arn: object


def bucket_ref(bucket: Bucket) -> BucketRef:
    return BucketRef(Ref(bucket), GetAtt(bucket, "Arn"))


def local_audit_bucket() -> BucketRef:
    """This region's audit bucket, created by the replica stack, found by its name."""
    return BucketRef(audit_bucket_name(), Sub(f"arn:${{AWS::Partition}}:s3:::{_AUDIT_NAME}"))


ACCESS_LOG_BUCKET_THING = names.ACCESS_LOG_BUCKET


def access_log_bucket_name() -> Sub:
    return Sub(
        names.regional_bucket(
            names.SUB_SUFFIX, ACCESS_LOG_BUCKET_THING, names.SUB_ACCOUNT, names.SUB_REGION
        )
    )


def tls_only(bucket: Bucket) -> Statement:
    return deny_insecure_transport("s3", [GetAtt(bucket, "Arn"), Sub(f"${{{bucket.title}.Arn}}/*")])


# The settings that decide how long audit history lives, and who may change them: denied to
# every principal but the purge role (the break-glass path, README "Security"). The bucket's
# configuration is written when the bucket is created, before its policy exists (the policy
# names the bucket), so the first create is unaffected; a later change of these properties
# fails until someone with the purge role lifts the lock. S3 lets the account's root user put
# or delete a bucket policy whatever it says ("PutBucketPolicy", Amazon S3 API Reference): the
# last resort if the purge role itself is lost.
RETENTION_SETTINGS_ACTIONS = (
    s3_actions.PutLifecycleConfiguration,
    s3_actions.PutBucketPolicy,
    s3_actions.DeleteBucketPolicy,
    s3_actions.PutBucketVersioning,
    s3_actions.PutBucketObjectLockConfiguration,
)
RETENTION_LOCK_SID = "OnlyThePurgeRoleChangesRetentionSettings"


def _retention_lock(config: Config, bucket: Bucket) -> Statement:
    return _only_the_purge_role(
        config, RETENTION_LOCK_SID, list(RETENTION_SETTINGS_ACTIONS), GetAtt(bucket, "Arn")
    )


def _locking_policy(policy: BucketPolicy) -> BucketPolicy:
    """Retained even when the create that made it rolls back: CloudFormation would have to
    delete the policy, which the policy denies. The empty bucket is deleted anyway (DeleteBucket
    is not locked) and its policy goes with it."""
    policy.DeletionPolicy = "Retain"
    policy.UpdateReplacePolicy = "Retain"
    return policy


def _only_the_purge_role(config: Config, sid: str, actions: list, resource: object) -> Statement:
    return Statement(
        Sid=sid,
        Effect=Deny,
        Principal=Principal("*"),
        Action=actions,
        Resource=[resource],
        Condition=Condition(ArnNotLike("aws:PrincipalArn", purge_role_arn(config))),
    )


def _ownership() -> OwnershipControls:
    return OwnershipControls(Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")])


def _private_bucket(
    title: str,
    bucket_name: Sub,
    encryption: ServerSideEncryptionByDefault,
    lifecycle: LifecycleRule,
    **extra: object,
) -> Bucket:
    """Versioned, private, owner-enforced, tagged and retained: what every bucket here is."""
    rule = ServerSideEncryptionRule(ServerSideEncryptionByDefault=encryption)
    if encryption.SSEAlgorithm == "aws:kms":
        rule.BucketKeyEnabled = True  # one data key per bucket, not one KMS call per object
    return retain(
        Bucket(
            title,
            BucketName=bucket_name,
            VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
            BucketEncryption=BucketEncryption(ServerSideEncryptionConfiguration=[rule]),
            PublicAccessBlockConfiguration=_PRIVATE,
            OwnershipControls=_ownership(),
            LifecycleConfiguration=LifecycleConfiguration(Rules=[lifecycle]),
            Tags=tags(),
            **extra,
        )
    )


def add_access_log_bucket(template: Template, config: Config) -> Bucket:
    """Server access logs of the audit bucket: who read or wrote which audit object."""
    bucket = template.add_resource(_access_log_bucket())
    template.add_resource(_access_log_bucket_policy(config, bucket))
    return bucket


def _access_log_bucket() -> Bucket:
    """The bucket, with the findings it accepts and why."""
    return suppress(
        _private_bucket(
            ACCESS_LOG_BUCKET,
            access_log_bucket_name(),
            # Server access logs can be delivered only to buckets encrypted with S3-managed
            # keys, not SSE-KMS.
            ServerSideEncryptionByDefault(SSEAlgorithm="AES256"),
            LifecycleRule(
                Id="ExpireAccessLogsAfterAYear",
                Status="Enabled",
                ExpirationInDays=ACCESS_LOG_EXPIRY_DAYS,
                NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=30),
            ),
        ),
        checkov={
            "CKV_AWS_18": "This is the access-log target itself; logging it into another "
            "bucket would only move the question one bucket further.",
        },
        guard={
            "S3_BUCKET_LOGGING_ENABLED": "This is the server access-log target of the audit "
            "and trail buckets; logging it into itself would log its own deliveries without "
            "end, and into another bucket would only move the question one bucket further. "
            "The optional CloudTrail trail records its data events.",
            "S3_BUCKET_DEFAULT_LOCK_ENABLED": "S3 server access logs cannot be delivered "
            'to a bucket with Object Lock (Amazon S3 user guide, "Configuring S3 Object '
            "Lock\": buckets with Object Lock can't be destination buckets for server access "
            "logs); its log versions are deletable by the purge role only (bucket policy).",
            "S3_BUCKET_REPLICATION_ENABLED": REPLICATION_REASON,
        },
    )


def _access_log_bucket_policy(config: Config, bucket: Bucket) -> BucketPolicy:
    """TLS only, retention settings and log versions for the purge role only, and S3's log
    delivery let in."""
    return _locking_policy(
        BucketPolicy(
            "AccessLogBucketPolicy",
            Bucket=bucket.ref(),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    tls_only(bucket),
                    _retention_lock(config, bucket),
                    _only_the_purge_role(
                        config,
                        "OnlyThePurgeRoleDeletesLogVersions",
                        [s3_actions.DeleteObjectVersion],
                        Sub(f"${{{bucket.title}.Arn}}/*"),
                    ),
                    _access_log_delivery(bucket),
                ],
            ),
        )
    )


def _access_log_delivery(bucket: Bucket) -> Statement:
    """S3's logging service may write under the audit and trail buckets' prefixes, and only
    logs of those two buckets in this account."""
    return Statement(
        Sid="S3DeliversAccessLogsOfTheAuditAndTrailBuckets",
        Effect=Allow,
        Principal=Principal("Service", "logging.s3.amazonaws.com"),
        Action=[s3_actions.PutObject],
        Resource=[
            Sub(f"${{{bucket.title}.Arn}}/{prefix}*")
            for prefix in (ACCESS_LOG_PREFIX, TRAIL_LOG_PREFIX)
        ],
        Condition=Condition(
            [
                StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                ArnLike(
                    "aws:SourceArn",
                    [
                        Sub(f"arn:${{AWS::Partition}}:s3:::{source}")
                        for source in (_AUDIT_NAME, TRAIL_NAME)
                    ],
                ),
            ]
        ),
    )


def locked_bucket(
    config: Config,
    title: str,
    bucket_name: Sub,
    key_arn: object,
    access_log_bucket: Bucket,
    log_prefix: str,
    *,
    records_prefix: str = "",
    condition: str | None = None,
) -> Bucket:
    """A bucket of audit records: KMS-encrypted, access-logged, every version under the
    configured Object Lock default retention, immediately readable for its first 90 days."""
    return _private_bucket(
        title,
        bucket_name,
        ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn),
        LifecycleRule(
            Id="AuditRecordsToGlacier",
            Status="Enabled",
            **({"Prefix": records_prefix} if records_prefix else {}),
            # Glacier Instant Retrieval stays readable in milliseconds: PCI DSS 10.5.1
            # wants the last three months immediately available (no Flexible Retrieval or
            # Deep Archive, whose restores take hours).
            Transitions=[
                LifecycleRuleTransition(
                    StorageClass=AUDIT_COLD_STORAGE_CLASS,
                    TransitionInDays=config.audit_glacier_after_days,
                )
            ],
            # Audit objects are written once (conditional put), so a noncurrent version
            # only comes from an explicit overwrite or delete.
            NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                NoncurrentDays=config.audit_noncurrent_expiry_days
            ),
        ),
        LoggingConfiguration=LoggingConfiguration(
            DestinationBucketName=Ref(access_log_bucket), LogFilePrefix=log_prefix
        ),
        # Object Lock needs versioning (on above) and can only be turned on, never off.
        ObjectLockEnabled=True,
        ObjectLockConfiguration=ObjectLockConfiguration(
            ObjectLockEnabled="Enabled",
            Rule=ObjectLockRule(
                DefaultRetention=DefaultRetention(
                    Mode=config.object_lock_mode, Days=config.audit_object_lock_days
                )
            ),
        ),
        **({"Condition": condition} if condition else {}),
    )


# Not replicated by S3: every region's audit bucket is written from that region's own stream
# replica, so each region holds the complete trail without a cross-region dependency.
def add_audit_bucket(
    template: Template, config: Config, audit_key_arn: object, access_log_bucket: Bucket
) -> Bucket:
    bucket = template.add_resource(
        suppress(
            locked_bucket(
                config,
                AUDIT_BUCKET,
                audit_bucket_name(),
                audit_key_arn,
                access_log_bucket,
                ACCESS_LOG_PREFIX,
                records_prefix=AUDIT_KEY_PREFIX,
            ),
            guard={"S3_BUCKET_REPLICATION_ENABLED": REPLICATION_REASON},
        )
    )
    # Retained with the bucket: a retained bucket keeps refusing plain HTTP, foreign keys and
    # changes to its retention settings.
    template.add_resource(_audit_bucket_policy(config, bucket, audit_key_arn))
    return bucket


def _audit_bucket_policy(config: Config, bucket: Bucket, audit_key_arn: object) -> BucketPolicy:
    """TLS only, retention settings and early removal for the purge role only, uploads only
    under the audit key."""
    objects = Sub(f"${{{bucket.title}.Arn}}/*")
    return suppress(
        _locking_policy(
            BucketPolicy(
                "AuditBucketPolicy",
                Bucket=bucket.ref(),
                PolicyDocument=Policy(
                    Version="2012-10-17",
                    Statement=[
                        tls_only(bucket),
                        _retention_lock(config, bucket),
                        # Under GOVERNANCE, s3:BypassGovernanceRetention is what removes a
                        # locked version early; under COMPLIANCE nothing can.
                        _only_the_purge_role(
                            config,
                            "OnlyThePurgeRoleBypassesRetention",
                            [s3_actions.BypassGovernanceRetention],
                            objects,
                        ),
                        *_uploads_only_under_the_audit_key(objects, audit_key_arn),
                    ],
                ),
            )
        ),
        parliament={
            "MISMATCHED_TYPE_BUT_USABLE": "s3:x-amz-server-side-encryption-aws-kms-key-id is a "
            "string key whose value S3 documents as the key ARN; comparing it as a string with "
            "the ARN is the intended use."
        },
    )


def _uploads_only_under_the_audit_key(objects: Sub, audit_key_arn: object) -> list[Statement]:
    """The two denies on ``PutObject`` that keep every audit object under the audit key."""
    return [
        Statement(
            # Uploads that ask for encryption get the audit key or nothing;
            # uploads that do not ask get it by default.
            Sid="DenyUploadsNotUnderKms",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3_actions.PutObject],
            Resource=[objects],
            Condition=Condition(
                [
                    Null("s3:x-amz-server-side-encryption", False),
                    StringNotEquals("s3:x-amz-server-side-encryption", "aws:kms"),
                ]
            ),
        ),
        Statement(
            Sid="DenyUploadsUnderAnotherKey",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3_actions.PutObject],
            Resource=[objects],
            Condition=Condition(
                [
                    Null("s3:x-amz-server-side-encryption-aws-kms-key-id", False),
                    StringNotEquals(
                        "s3:x-amz-server-side-encryption-aws-kms-key-id", audit_key_arn
                    ),
                ]
            ),
        ),
    ]
