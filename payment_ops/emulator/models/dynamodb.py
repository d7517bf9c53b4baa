"""DynamoDB: the global table (a table with its replicas in every region) and the stream lookup
of a replica."""

from __future__ import annotations

import copy
import threading

from botocore.exceptions import ClientError
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import dynamodb_backends
from moto.kms.models import kms_backends

from handler.config import TableStreamSettings
from templates_src.compute import TABLE_STREAM_HANDLER

from . import provider
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


class _DynamoDB:
    """The DescribeTable the stream lookup makes, answered from moto's backend of one region
    with the shapes (and the ResourceNotFoundException) boto3 would give the handler."""

    def __init__(self, account_id: str, region_name: str) -> None:
        self.backend = dynamodb_backends[account_id][region_name]

    def describe_table(self, TableName: str) -> dict:  # noqa: N803 - the AWS parameter name
        try:
            table = self.backend.get_table(TableName)
        except Exception as error:  # noqa: BLE001 - moto's not-found, as DynamoDB reports it
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": str(error)}},
                "DescribeTable",
            ) from error
        return {"Table": table.describe()["TableDescription"]}


_RUNTIME_LOCK = threading.Lock()


class TableStream(ProjectModel, CloudFormationModel):
    """``Custom::TableStream``, answered by its real provider, ``handler/stream_lookup.py``.

    The provider must exist (``ServiceToken``, a Lambda function ARN, whose handler is the stream
    lookup). The handler runs in this process on the request CloudFormation would send
    (``provider``), against the stack's region of moto's DynamoDB; its SUCCESS gives the physical
    id and ``StreamArn``, its FAILED fails the resource with its reason, no answer fails it as
    the ServiceTimeout would. Deleting the resource deletes nothing (the provider answers a
    Delete with SUCCESS and nothing else; the stream goes with its table).
    """

    TYPE = "Custom::TableStream"
    ATTRIBUTES = ("StreamArn",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> TableStream:
        return cls._ask(resource_name, props, account_id, region_name, "Create", None)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: TableStream,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> TableStream:
        props = cloudformation_json.get("Properties", {})
        return cls._ask(
            new_resource_name, props, account_id, region_name, "Update", original_resource
        )

    @classmethod
    def _ask(
        cls,
        resource_name: str,
        props: dict,
        account_id: str,
        region_name: str,
        request_type: str,
        original: TableStream | None,
    ) -> TableStream:
        token = props["ServiceToken"]
        timeout_s = provider.service_timeout(resource_name, props)
        try:
            function = get_lambda_backend(account_id, region_name).get_function(token)
        except Exception as error:  # noqa: BLE001 - any lookup failure means "no provider"
            raise ValidationError(
                message=f"{cls.TYPE} {resource_name}: ServiceToken {token} is not a Lambda "
                f"function in {region_name}"
            ) from error
        if function.handler != TABLE_STREAM_HANDLER:
            raise ValidationError(
                message=f"{cls.TYPE} {resource_name}: the emulator runs the project's provider "
                f"{TABLE_STREAM_HANDLER}, not {function.handler}"
            )
        request = {
            "RequestType": request_type,
            "StackId": f"arn:aws:cloudformation:{region_name}:{account_id}:stack/emulated/0",
            "ResourceType": cls.TYPE,
            "LogicalResourceId": resource_name,
            "ResourceProperties": dict(props),
        }
        if original is not None:
            request["PhysicalResourceId"] = original.physical_id
            request["OldResourceProperties"] = getattr(original, "props", {})
        # Imported here, as Lambda would at the function's init: the module reports its
        # configuration when loaded, which a process that never runs the provider must not print.
        from handler import stream_lookup

        with _RUNTIME_LOCK:
            # The handler's clients, for this request only: the stack's region of moto.
            previous = stream_lookup._runtime.peek()
            stream_lookup._runtime._value = stream_lookup.StreamLookupRuntime(
                TableStreamSettings(region=region_name), _DynamoDB(account_id, region_name)
            )
            try:
                answer = provider.invoke(
                    stream_lookup.lambda_handler,
                    request,
                    function_name=function.function_name,
                    function_timeout_s=int(function.timeout),
                    timeout_s=timeout_s,
                )
            finally:
                stream_lookup._runtime._value = previous
        if answer.get("Status") != "SUCCESS":
            raise provider_failed(str(answer.get("Reason") or "no reason given"))
        data = answer.get("Data") or {}
        resource = cls(answer["PhysicalResourceId"], account_id, region_name, **data)
        resource.props = dict(props)
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        """The provider deletes nothing: the stream goes with its table."""
