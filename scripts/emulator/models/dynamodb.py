"""DynamoDB: the global table (a table with its replicas in every region) and the stream lookup
of a replica."""

from __future__ import annotations

import copy

from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import dynamodb_backends
from moto.kms.models import kms_backends

from .base import ProjectModel, provider_failed


class GlobalTable(ProjectModel, CloudFormationModel):
    """A table with the declared keys, indexes, stream and encryption in every replica region.

    Each replica needs its region's KMS key to exist first, as in AWS: a missing key fails the
    stack, which is how the emulator proves the replica-before-primary order.
    """

    TYPE = "AWS::DynamoDB::GlobalTable"
    NAME_PROPERTY = "TableName"
    ATTRIBUTES = ("Arn", "StreamArn", "TableId")
    props: dict  # the properties it was created or last updated with

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> GlobalTable:
        table = cls(resource_name, account_id, region_name)
        table.props = copy.deepcopy(props)  # before moto's backend calls touch them
        table.regions = []
        table.key_schema = props["KeySchema"]
        # Every replica's key is checked before any table exists, so a missing key leaves
        # nothing behind (CloudFormation would roll the partial table back).
        for replica in props.get("Replicas", []):
            table._check_key(props, replica)
        for replica in props.get("Replicas", []):
            table._create_replica(props, replica)
        table._refresh_attributes()
        return table

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: GlobalTable,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> GlobalTable:
        props = cloudformation_json["Properties"]
        if props["KeySchema"] != getattr(original_resource, "key_schema", props["KeySchema"]):
            # DynamoDB cannot change a table's key: CloudFormation replaces the table, which it
            # refuses while the table keeps its custom name.
            if new_resource_name == original_resource.physical_id:
                raise ValidationError(
                    message="CloudFormation cannot update a stack when a custom-named resource "
                    f"requires replacing. Rename {new_resource_name} and update the stack again."
                )
            if cloudformation_json.get("UpdateReplacePolicy") != "Retain":
                original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        given = copy.deepcopy(props)
        check_one_change_per_update(getattr(original_resource, "props", given), given)
        wanted = {replica["Region"]: replica for replica in props.get("Replicas", [])}
        for region in [r for r in original_resource.regions if r not in wanted]:
            original_resource._delete_replica(region)
        before = _by_key(getattr(original_resource, "props", given).get("Replicas"), "Region")
        for region, replica in wanted.items():
            if region in original_resource.regions:
                # CloudFormation applies what the template changes, not the whole template: a
                # replica's deletion protection turned off outside it (to remove that replica
                # next) stays off while the template's value for it stays the same.
                protection = replica.get("DeletionProtectionEnabled", False)
                if protection != (before.get(region) or {}).get("DeletionProtectionEnabled", False):
                    backend = dynamodb_backends[account_id][region]
                    table = backend.get_table(original_resource.physical_id)
                    table.deletion_protection_enabled = protection
            else:
                original_resource._create_replica(props, replica)
        original_resource._refresh_attributes()
        original_resource.props = given
        return original_resource

    def _check_key(self, props: dict, replica: dict) -> None:
        region = replica["Region"]
        key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
        if not key or not (props.get("SSESpecification") or {}).get("SSEEnabled"):
            return
        try:
            kms_backends[self.account_id][region].describe_key(key)
        except Exception as error:  # noqa: BLE001 - any lookup failure means "no key"
            raise ValidationError(
                message=f"Replica {region}: KMS key {key} does not exist in {region}"
            ) from error

    def _create_replica(self, props: dict, replica: dict) -> None:
        region = replica["Region"]
        self._check_key(props, replica)
        key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
        sse = None
        if (props.get("SSESpecification") or {}).get("SSEEnabled"):
            sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
        backend = dynamodb_backends[self.account_id][region]
        backend.create_table(
            name=self.physical_id,
            schema=props["KeySchema"],
            throughput=None,
            attr=props["AttributeDefinitions"],
            global_indexes=props.get("GlobalSecondaryIndexes", []),
            indexes=props.get("LocalSecondaryIndexes", []),
            streams=props.get("StreamSpecification"),
            billing_mode=props.get("BillingMode", "PROVISIONED"),
            sse_specification=sse,
            tags=replica.get("Tags", []),
            deletion_protection_enabled=replica.get("DeletionProtectionEnabled", False),
            warm_throughput=None,
        )
        pitr = (replica.get("PointInTimeRecoverySpecification") or {}).get(
            "PointInTimeRecoveryEnabled"
        )
        if pitr:
            backend.update_continuous_backups(
                self.physical_id, {"PointInTimeRecoveryEnabled": True}
            )
        self.regions.append(region)

    def _delete_replica(self, region: str) -> None:
        # Deletion protection stops this, as it stops CloudFormation.
        dynamodb_backends[self.account_id][region].delete_table(self.physical_id)
        self.regions.remove(region)

    def _refresh_attributes(self) -> None:
        table = dynamodb_backends[self.account_id][self.region_name].get_table(self.physical_id)
        description = table.describe()["TableDescription"]
        self.attributes = {
            "Arn": table.table_arn,
            "StreamArn": description.get("LatestStreamArn"),
            "TableId": table.table_id if hasattr(table, "table_id") else table.table_arn,
        }

    def delete(self, account_id: str, region_name: str) -> None:
        for region in list(self.regions):
            self._delete_replica(region)


def _by_key(items: list[dict] | None, key: str) -> dict[str, dict]:
    return {str(item[key]): item for item in items or []}


def check_one_change_per_update(old: dict, new: dict) -> None:
    """Refuse a global table update that AWS refuses.

    AWS CloudFormation Template Reference, "AWS::DynamoDB::GlobalTable": "You can only add or
    remove a single replica in each update", and such an update changes nothing else (a replica
    added or removed together with any other change fails the update); global secondary
    indexes, likewise, are created or deleted one per update ("GlobalSecondaryIndexes": you can
    create or delete only one global secondary index in a single stack update).
    """
    old_replicas = _by_key(old.get("Replicas"), "Region")
    new_replicas = _by_key(new.get("Replicas"), "Region")
    added = sorted(set(new_replicas) - set(old_replicas))
    removed = sorted(set(old_replicas) - set(new_replicas))
    if len(added) + len(removed) > 1:
        raise ValidationError(
            message="You can only add or remove a single replica in each update "
            f"(this update adds {', '.join(added) or 'none'} and removes "
            f"{', '.join(removed) or 'none'})"
        )
    if added or removed:
        others_changed = {
            k for k in set(old) | set(new) if k != "Replicas" and old.get(k) != new.get(k)
        }
        kept_changed = sorted(
            r for r in set(old_replicas) & set(new_replicas) if old_replicas[r] != new_replicas[r]
        )
        if others_changed or kept_changed:
            changed = sorted(others_changed) + [f"replica {r}" for r in kept_changed]
            raise ValidationError(
                message=f"A replica {'added' if added else 'removed'} "
                f"({(added or removed)[0]}) must be the only change of its update; this update "
                f"also changes {', '.join(changed)}"
            )
    old_indexes = _by_key(old.get("GlobalSecondaryIndexes"), "IndexName")
    new_indexes = _by_key(new.get("GlobalSecondaryIndexes"), "IndexName")
    created_or_deleted = sorted(set(old_indexes) ^ set(new_indexes))
    if len(created_or_deleted) > 1:
        raise ValidationError(
            message="Cannot perform more than one GSI creation or deletion in a single update "
            f"({', '.join(created_or_deleted)})"
        )


class TableStream(ProjectModel, CloudFormationModel):
    """``Custom::TableStream``: what its provider (handler/stream_lookup.py) answers, without
    running it (moto would invoke it in Docker): the latest stream ARN of the table's replica in
    the stack's region, as the physical id and as ``StreamArn``.

    The provider must exist (``ServiceToken``, a function ARN). A blank name, a missing table or a
    table without an enabled stream fails the resource with the provider's FAILED reason. The
    stream belongs to the table, so deleting the resource deletes nothing.
    """

    TYPE = "Custom::TableStream"
    ATTRIBUTES = ("StreamArn",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> TableStream:
        token, table_name = props["ServiceToken"], str(props.get("TableName") or "").strip()
        try:
            get_lambda_backend(account_id, region_name).get_function(token)
        except Exception as error:  # noqa: BLE001 - any lookup failure means "no provider"
            raise ValidationError(
                message=f"{cls.TYPE} {resource_name}: ServiceToken {token} is not a Lambda "
                f"function in {region_name}"
            ) from error
        if not table_name:
            raise provider_failed("the TableName property is missing or blank")
        try:
            table = dynamodb_backends[account_id][region_name].get_table(table_name)
        except Exception as error:  # noqa: BLE001 - any lookup failure means "no table"
            raise provider_failed(
                f"table {table_name} has no replica in {region_name} yet: "
                "deploy the primary region first"
            ) from error
        description = table.describe()["TableDescription"]
        stream_arn = description.get("LatestStreamArn")
        # A disabled stream keeps its LatestStreamArn for a day; only an enabled one counts.
        if not stream_arn or not (description.get("StreamSpecification") or {}).get(
            "StreamEnabled"
        ):
            raise provider_failed(
                f"table {table_name} in {region_name} has no enabled stream: "
                "the audit writer needs StreamSpecification NEW_AND_OLD_IMAGES"
            )
        return cls(stream_arn, account_id, region_name, StreamArn=stream_arn)

    def delete(self, account_id: str, region_name: str) -> None:
        """The provider deletes nothing: the stream goes with its table."""
