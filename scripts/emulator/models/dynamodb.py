"""DynamoDB: the global table (a table with its replicas in every region) and the stream lookup
of a replica."""

from __future__ import annotations

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

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> GlobalTable:
        table = cls(resource_name, account_id, region_name)
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
        wanted = {replica["Region"]: replica for replica in props.get("Replicas", [])}
        for region in [r for r in original_resource.regions if r not in wanted]:
            original_resource._delete_replica(region)
        for region, replica in wanted.items():
            if region in original_resource.regions:
                backend = dynamodb_backends[account_id][region]
                table = backend.get_table(original_resource.physical_id)
                table.deletion_protection_enabled = replica.get("DeletionProtectionEnabled", False)
            else:
                original_resource._create_replica(props, replica)
        original_resource._refresh_attributes()
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
