"""The data a deployment keeps after its stacks are gone, found by name and tag, and its purge.

Stack deletion retains the payments table (every replica), the audit buckets and the KMS keys.
The artifact buckets belong to deploy.py, not to a stack. Everything here is found by its
``payment-<suffix>-...`` name or its ``EnvironmentSuffix``/``Project`` tags, so it works after
an earlier plain delete as well as right after the stacks went.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import names
from .aws import Aws, error_code
from .errors import DeployError


@dataclass
class RegionData:
    region: str
    table: str | None = None
    buckets: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # key ids
    aliases: list[str] = field(default_factory=list)
    log_groups: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.table or self.buckets or self.keys or self.aliases or self.log_groups)

    def describe(self) -> str:
        parts = []
        if self.table:
            parts.append(f"table {self.table}")
        parts += [f"bucket {b}" for b in self.buckets]
        if self.keys:
            parts.append(f"{len(self.keys)} KMS key(s) {', '.join(self.keys)}")
        parts += [f"alias {a}" for a in self.aliases]
        if self.log_groups:
            parts.append(f"{len(self.log_groups)} log group(s)")
        return f"{self.region}: " + "; ".join(parts)


def _exists(call: Any, missing: tuple[str, ...], **kwargs: Any) -> bool:
    try:
        call(**kwargs)
        return True
    except Exception as error:
        if error_code(error) in missing:
            return False
        raise


def find(aws: Aws, suffix: str, account: str, region: str, *, keys: bool = True) -> RegionData:
    """The suffix's retained data in ``region``; ``keys=False`` leaves out the tag scan of every
    KMS key (a call per key), for a caller that needs only what has a name."""
    data = RegionData(region)
    table = names.table(suffix)
    if _exists(
        aws.client("dynamodb", region).describe_table,
        ("ResourceNotFoundException",),
        TableName=table,
    ):
        data.table = table
    data.buckets = _buckets(aws, suffix, account, region)
    data.log_groups = _log_groups(aws, suffix, region)
    kms = aws.client("kms", region)
    prefix = names.key_alias(suffix, "")
    for page in kms.get_paginator("list_aliases").paginate():
        data.aliases += [
            a["AliasName"] for a in page["Aliases"] if a["AliasName"].startswith(prefix)
        ]
    for page in kms.get_paginator("list_keys").paginate() if keys else []:
        for key in page["Keys"]:
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if (
                metadata.get("KeyManager") != "CUSTOMER"
                or metadata.get("KeyState") == "PendingDeletion"
            ):
                continue
            tags = {
                t["TagKey"]: t["TagValue"]
                for t in kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
            }
            if (
                tags.get(names.SUFFIX_TAG) == suffix
                and tags.get(names.PROJECT_TAG[0]) == names.PROJECT_TAG[1]
            ):
                data.keys.append(key["KeyId"])
    return data


def regions(aws: Aws, suffix: str, account: str, region: str) -> list[str]:
    """Regions that hold a bucket named like the deployment's (``payment-<suffix>-<thing>-
    <account>-<region>``): every region a deployment reached has its artifact and audit
    buckets, and ListBuckets lists the account's buckets of every region in one call."""
    found = set()
    marker = f"-{account}-"
    for bucket in aws.client("s3", region).list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if name.startswith(names.prefix(suffix)) and marker in name:
            found.add(name.rsplit(marker, 1)[1])
    return sorted(found)


def in_the_way(data: RegionData, suffix: str, account: str) -> list[str]:
    """What of ``data`` a new stack instance in its region would fail on ("already exists"):
    the named table, buckets and key aliases. The artifact bucket is deploy's own, reused; a
    key without its alias has no name to clash with."""
    artifacts = names.artifact_bucket(suffix, account, data.region)
    return (
        ([f"table {data.table}"] if data.table else [])
        + [f"bucket {b}" for b in data.buckets if b != artifacts]
        + [f"alias {a}" for a in data.aliases]
    )


def log_group_prefixes(suffix: str) -> tuple[str, ...]:
    """The names of every log group the templates create (templates_src/kms.py grants the app
    key to exactly these), retained on stack delete like the other records."""
    return names.log_group_prefixes(suffix)


def _log_groups(aws: Aws, suffix: str, region: str) -> list[str]:
    logs = aws.client("logs", region)
    found = []
    for prefix in log_group_prefixes(suffix):
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
            found += [g["logGroupName"] for g in page.get("logGroups", [])]
    return sorted(found)


def _buckets(aws: Aws, suffix: str, account: str, region: str) -> list[str]:
    """Buckets named ``payment-<suffix>-<thing>-<account>-<region>``: the artifact bucket, and
    any other tagged with the suffix (the tag tells ``payment-dev-...`` from
    ``payment-dev-eu-...``), so buckets that new templates add are found too."""
    s3 = aws.client("s3", region)
    artifacts = names.artifact_bucket(suffix, account, region)
    found = []
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not (name.startswith(names.prefix(suffix)) and name.endswith(f"-{account}-{region}")):
            continue
        if name != artifacts:
            try:
                tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
            except Exception as error:
                if error_code(error) in ("NoSuchTagSet", "NoSuchBucket"):
                    continue
                raise
            if {"Key": names.SUFFIX_TAG, "Value": suffix} not in tags:
                continue
        found.append(name)
    return sorted(found)


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; return how many were removed.

    Versions under a GOVERNANCE Object Lock go too: the request bypasses the retention, which
    S3 allows only to a principal with ``s3:BypassGovernanceRetention`` (the audit bucket's
    policy denies it to all but the purge role). Versions under COMPLIANCE cannot be removed by
    anyone before their retention ends ("Object Lock retention modes", Amazon S3 user guide):
    the purge then stops, saying what remains and until when.
    """
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        victims = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(victims), 1000):  # DeleteObjects takes at most 1,000
            batch = victims[start : start + 1000]
            response = s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": batch, "Quiet": True},
                BypassGovernanceRetention=True,
            )
            if response.get("Errors"):
                raise DeployError(_undeletable(s3, bucket, response["Errors"], batch))
            removed += len(batch)
    return removed


def _undeletable(s3: Any, bucket: str, errors: list[dict], batch: list[dict]) -> str:
    first = errors[0]
    where = f"{bucket}: cannot delete {len(errors)} object version(s), first {first['Key']}"
    version = first.get("VersionId") or next(
        (v["VersionId"] for v in batch if v["Key"] == first["Key"]), None
    )
    # HeadObject reports a version's lock (ObjectLockMode, ObjectLockRetainUntilDate).
    try:
        head = s3.head_object(
            Bucket=bucket, Key=first["Key"], **({"VersionId": version} if version else {})
        )
    except Exception as error:  # a delete marker, or gone meanwhile: report S3's reason
        if not error_code(error):
            raise
        head = {}
    if "ObjectLockMode" not in head:  # not a lock: some other refusal
        return f"{where}: {first.get('Message', first.get('Code'))}"
    until = head["ObjectLockRetainUntilDate"]
    if head["ObjectLockMode"] == "COMPLIANCE":
        return (
            f"{where}: locked in COMPLIANCE mode until {until:%Y-%m-%d}; nobody can remove "
            "it earlier, so the bucket and its locked versions remain (the rest of the purge "
            "did not run)"
        )
    return (
        f"{where}: locked in GOVERNANCE mode until {until:%Y-%m-%d}; only the purge role may "
        "bypass it: run the purge as that role"
    )


def purge_table(aws: Aws, table: str, primary: str, regions: list[str], out: TextIO) -> None:
    """Deletion protection off everywhere, replicas first, then the primary's table."""
    present = [
        r
        for r in regions
        if _exists(
            aws.client("dynamodb", r).describe_table,
            ("ResourceNotFoundException",),
            TableName=table,
        )
    ]
    for region in present:
        aws.client("dynamodb", region).update_table(
            TableName=table, DeletionProtectionEnabled=False
        )
    ordered = [r for r in present if r != primary] + [r for r in present if r == primary]
    for region in ordered:
        ddb = aws.client("dynamodb", region)
        description = ddb.describe_table(TableName=table)["Table"]
        replicas = {r["RegionName"] for r in description.get("Replicas", [])}
        if region != primary and primary in replicas:
            # A replica of a global table is removed through the table in the primary region.
            aws.client("dynamodb", primary).update_table(
                TableName=table, ReplicaUpdates=[{"Delete": {"RegionName": region}}]
            )
        else:
            ddb.delete_table(TableName=table)
        ddb.get_waiter("table_not_exists").wait(
            TableName=table, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
        print(f"  deleted table {table} in {region}", file=out, flush=True)


def purge(
    aws: Aws,
    suffix: str,
    found: list[RegionData],
    primary: str,
    pending_days: int,
    out: TextIO = sys.stdout,
) -> None:
    if any(d.table for d in found):
        purge_table(aws, names.table(suffix), primary, [d.region for d in found], out)
    for data in found:
        s3 = aws.client("s3", data.region)
        for bucket in data.buckets:
            removed = empty_bucket(s3, bucket)
            s3.delete_bucket(Bucket=bucket)
            print(
                f"  deleted bucket {bucket} ({removed} object version(s) and delete marker(s))",
                file=out,
            )
        logs = aws.client("logs", data.region)
        for group in data.log_groups:
            logs.delete_log_group(logGroupName=group)
            print(f"  deleted log group {group} in {data.region}", file=out)
        kms = aws.client("kms", data.region)
        for alias in data.aliases:
            kms.delete_alias(AliasName=alias)
        for key in data.keys:
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=pending_days)
            print(
                f"  scheduled deletion of KMS key {key} in {data.region} ({pending_days} days)",
                file=out,
            )
