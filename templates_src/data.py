"""The payments table: one DynamoDB global table with a replica in every region.

Declared in the primary template only; the replica regions receive their replica from it and
must never declare the table themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template
from troposphere.dynamodb import (
    AttributeDefinition,
    GlobalTable,
    GlobalTableGlobalSecondaryIndex,
    GlobalTableSSESpecification,
    KeySchema,
    PointInTimeRecoverySpecification,
    Projection,
    ReplicaSpecification,
    ReplicaSSESpecification,
    StreamSpecification,
)

from . import kms, names
from .common import arn, name, retain, tags
from .config import Config

TABLE = "PaymentsTable"
PARTITION_KEY = "payment_id"
STATUS_INDEX = "status-index"
CUSTOMER_INDEX = "customer-index"


def table_name() -> object:
    return name(names.TABLE)


@dataclass(frozen=True)
class TableRef:
    """What a consumer needs of the table in its region: name, ARN and stream ARN."""

    name: object
    arn: object
    stream_arn: object


def table_ref(table: GlobalTable) -> TableRef:
    """The global table as the primary template sees it (its own region's replica)."""
    return TableRef(Ref(table), GetAtt(table, "Arn"), GetAtt(table, "StreamArn"))


def local_table_arn() -> object:
    return arn("dynamodb", f"table/{names.table(names.SUB_SUFFIX)}")


def local_replica(stream_arn: object) -> TableRef:
    """The table replica in this region, found by name; only its stream ARN must be looked up."""
    return TableRef(table_name(), local_table_arn(), stream_arn)


def _index(index_name: str, partition: str, sort: str) -> GlobalTableGlobalSecondaryIndex:
    return GlobalTableGlobalSecondaryIndex(
        IndexName=index_name,
        KeySchema=[
            KeySchema(AttributeName=partition, KeyType="HASH"),
            KeySchema(AttributeName=sort, KeyType="RANGE"),
        ],
        Projection=Projection(ProjectionType="ALL"),
    )


def _replica(region: object, key_arn: object) -> ReplicaSpecification:
    return ReplicaSpecification(
        Region=region,
        PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True
        ),
        DeletionProtectionEnabled=True,
        SSESpecification=ReplicaSSESpecification(KMSMasterKeyId=key_arn),
        Tags=tags(),
    )


def add_payments_table(template: Template, config: Config, keys: kms.Keys) -> GlobalTable:
    """The global table; each replica uses the ``table`` key of its own region.

    The key is ``payment_id`` alone, so that one conditional write enforces idempotency.
    """
    replicas = [_replica(Ref("AWS::Region"), kms.key_arn(keys.table))]
    # A replica region's key is created by the replica stack set before this table.
    replicas += [
        _replica(region, kms.alias_arn(kms.TABLE, region)) for region in config.replica_regions
    ]
    return template.add_resource(
        retain(
            GlobalTable(
                TABLE,
                TableName=table_name(),
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    AttributeDefinition(AttributeName=PARTITION_KEY, AttributeType="S"),
                    AttributeDefinition(AttributeName="status", AttributeType="S"),
                    AttributeDefinition(AttributeName="customer_id", AttributeType="S"),
                    AttributeDefinition(AttributeName="created_at", AttributeType="S"),
                ],
                KeySchema=[KeySchema(AttributeName=PARTITION_KEY, KeyType="HASH")],
                GlobalSecondaryIndexes=[
                    _index(STATUS_INDEX, "status", "created_at"),
                    _index(CUSTOMER_INDEX, "customer_id", "created_at"),
                ],
                StreamSpecification=StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
                SSESpecification=GlobalTableSSESpecification(SSEEnabled=True, SSEType="KMS"),
                Replicas=replicas,
            )
        )
    )
