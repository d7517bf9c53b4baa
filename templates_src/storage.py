"""The audit bucket of a region: versioned, KMS-encrypted, private, TLS-only, retained."""

from __future__ import annotations

from awacs import s3 as s3_actions
from awacs.aws import Bool, Condition, Deny, Policy, Principal, Statement
from troposphere import GetAtt, Sub, Template
from troposphere.s3 import (
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    LifecycleRuleTransition,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from .common import AUDIT_PREFIX, SUFFIX_PARAM, retain, tags
from .config import Config

AUDIT_BUCKET = "AuditBucket"


def audit_bucket_name() -> Sub:
    # Bucket names are global: account and region make them unique per deployment and region.
    return Sub(f"payment-${{{SUFFIX_PARAM}}}-audit-${{AWS::AccountId}}-${{AWS::Region}}")


def add_audit_bucket(template: Template, config: Config, audit_key_arn: object) -> Bucket:
    bucket = template.add_resource(
        retain(
            Bucket(
                AUDIT_BUCKET,
                BucketName=audit_bucket_name(),
                VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
                BucketEncryption=BucketEncryption(
                    ServerSideEncryptionConfiguration=[
                        ServerSideEncryptionRule(
                            ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                                SSEAlgorithm="aws:kms", KMSMasterKeyID=audit_key_arn
                            ),
                            # One data key per bucket instead of one KMS call per object.
                            BucketKeyEnabled=True,
                        )
                    ]
                ),
                PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
                    BlockPublicAcls=True,
                    BlockPublicPolicy=True,
                    IgnorePublicAcls=True,
                    RestrictPublicBuckets=True,
                ),
                OwnershipControls=OwnershipControls(
                    Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
                ),
                LifecycleConfiguration=LifecycleConfiguration(
                    Rules=[
                        LifecycleRule(
                            Id="AuditRecordsToGlacier",
                            Status="Enabled",
                            Prefix=AUDIT_PREFIX,
                            Transitions=[
                                LifecycleRuleTransition(
                                    StorageClass="GLACIER",
                                    TransitionInDays=config.audit_glacier_after_days,
                                )
                            ],
                            # Audit objects are written once (conditional put), so a noncurrent
                            # version only comes from an explicit overwrite or delete.
                            NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                                NoncurrentDays=config.audit_noncurrent_expiry_days
                            ),
                        )
                    ]
                ),
                Tags=tags(),
            )
        )
    )
    bucket_arn = GetAtt(bucket, "Arn")
    # Retained with the bucket: a retained bucket keeps refusing plain-HTTP access.
    template.add_resource(
        retain(
            BucketPolicy(
                "AuditBucketPolicy",
                Bucket=bucket.ref(),
                PolicyDocument=Policy(
                    Version="2012-10-17",
                    Statement=[
                        Statement(
                            Sid="DenyInsecureTransport",
                            Effect=Deny,
                            Principal=Principal("*"),
                            Action=[s3_actions.Action("*")],
                            Resource=[bucket_arn, Sub(f"${{{bucket.title}.Arn}}/*")],
                            Condition=Condition(Bool("aws:SecureTransport", False)),
                        ),
                    ],
                ),
            )
        )
    )
    return bucket
