"""S3: buckets (as moto creates them, plus what it drops) and bucket policies."""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from .base import ExtendsMoto, ProjectModel, already_gone


class S3BucketPolicy(ProjectModel, CloudFormationModel):
    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> S3BucketPolicy:
        backend = s3_backends[account_id][get_partition(region_name)]
        backend.put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        return cls(props["Bucket"], account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        with already_gone():
            s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(
                self.physical_id
            )


class S3Bucket(ExtendsMoto, CloudFormationModel):
    """moto's bucket model applies only encryption and tags; this adds versioning, the public
    access block, ownership controls, the lifecycle rules and Object Lock (with its default
    retention), and refuses, as S3 does, server access logs delivered to a bucket with Object
    Lock ("S3 buckets with Object Lock can't be used as destination buckets for server access
    logs", Amazon S3 user guide, "Configuring S3 Object Lock")."""

    BASE = FakeBucket

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        bucket = FakeBucket.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        cls._configure(
            bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name
        )
        return bucket

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: FakeBucket,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> FakeBucket:
        bucket = FakeBucket.update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        cls._configure(
            bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name
        )
        return bucket

    @staticmethod
    def _configure(name: str, props: dict, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            backend.put_bucket_versioning(name, versioning)
        if props.get("ObjectLockEnabled") and not backend.get_bucket(name).object_lock_enabled:
            # Object Lock is turned on when the bucket is created (then it is new and empty).
            retention = (
                (props.get("ObjectLockConfiguration") or {}).get("Rule", {}).get("DefaultRetention")
            ) or {}
            backend.put_object_lock_configuration(
                name,
                True,
                mode=retention.get("Mode"),
                # moto adds both periods up, so an absent one must be 0, not None.
                days=retention.get("Days", 0),
                years=retention.get("Years", 0),
            )
        target = (props.get("LoggingConfiguration") or {}).get("DestinationBucketName")
        if target and target in backend.buckets and backend.buckets[target].object_lock_enabled:
            raise ValidationError(
                message=f"The target bucket {target} for logging has Object Lock enabled: "
                "S3 buckets with Object Lock can't be destinations for server access logs"
            )
        block = props.get("PublicAccessBlockConfiguration")
        if block:
            backend.put_public_access_block(
                name, {key: str(value).lower() for key, value in block.items()}
            )
        ownership = props.get("OwnershipControls")
        if ownership:
            backend.put_bucket_ownership_controls(name, ownership["Rules"][0]["ObjectOwnership"])
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            backend.put_bucket_lifecycle(name, [_lifecycle_rule(r) for r in lifecycle["Rules"]])


def _lifecycle_rule(rule: dict) -> dict:
    """CloudFormation's lifecycle rule shape to the S3 API's (as moto parses it from XML)."""
    converted: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"]}
    if "Prefix" in rule:
        converted["Prefix"] = rule["Prefix"]
    else:
        converted["Filter"] = {"Prefix": ""}
    converted["Transition"] = [
        {"Days": t.get("TransitionInDays"), "StorageClass": t["StorageClass"]}
        for t in rule.get("Transitions", [])
    ]
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
    return converted
