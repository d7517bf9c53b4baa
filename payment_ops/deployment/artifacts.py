"""The build to deploy, and the artifact buckets that carry its handler zip and big templates.

Lambda reads code from a bucket in the function's own region, so every target region gets an
artifact bucket; objects are named by content hash, so an unchanged file is never uploaded twice
and new code is always a new key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from templates_src import build as build_module
from templates_src.config import Config

from . import arguments, names, partition
from .aws import Aws, error_code
from .errors import DeployError


@dataclass(frozen=True)
class Build:
    folder: Path
    manifest: dict

    def path(self, file_name: str) -> Path:
        return self.folder / file_name

    def text(self, file_name: str) -> str:
        return self.path(file_name).read_text()


def stale_reason(config: Config, folder: Path) -> str | None:
    """Why ``folder`` cannot be deployed as it is for ``config``; None when it is up to date."""
    try:
        manifest = json.loads((folder / build_module.MANIFEST).read_text())
    except (OSError, ValueError):
        return "no build manifest"
    if manifest.get("config") != config.describe():
        return "built for another configuration"
    if manifest.get("sources_sha256") != build_module.sources_digest():
        return "sources changed since the build"
    if not all(t.get("lint", {}).get("clean") for t in manifest.get("templates", {}).values()):
        return "the build has lint findings"
    for file_name, entry in manifest.get("files", {}).items():
        try:
            data = (folder / file_name).read_bytes()
        except OSError:
            return f"{file_name} is missing"
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            return f"{file_name} does not match the manifest"
    return None


def ensure_build(config: Config, folder: Path, out: TextIO) -> Build:
    reason = stale_reason(config, folder)
    if reason is None:
        print(f"using {folder}/ (up to date)", file=out)
    else:
        # A build that cannot be written would fail half-way, and exit 1 would read as lint.
        arguments.check_writable_folder(folder, "--build-dir")
        print(f"building {folder}/ ({reason})", file=out, flush=True)
        result = build_module.build(config, folder)
        if not result.clean:
            for finding in result.findings:
                print(finding, file=out)
            raise DeployError(
                f"lint: {len(result.findings)} finding(s) in the build; nothing deployed"
            )
    return Build(folder, json.loads((folder / build_module.MANIFEST).read_text()))


def _tls_only_policy(bucket: str, region: str, reader_accounts: list[str]) -> str:
    bucket_arn = partition.arn(region, "s3", bucket, in_region=False)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if reader_accounts:
        # Target accounts other than this one read the handler code from here.
        statements.append(
            {
                "Sid": "TargetAccountsReadArtifacts",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        partition.arn(region, "iam", "root", account=a, in_region=False)
                        for a in reader_accounts
                    ]
                },
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def ensure_bucket(aws: Aws, suffix: str, account: str, region: str, readers: list[str]) -> str:
    """Create and configure the region's artifact bucket unless it is already in place.

    Versioning is switched on last, so a bucket with versioning on is a fully configured one
    and a run interrupted half-way configures it again.
    """
    s3 = aws.client("s3", region)
    bucket = names.artifact_bucket(suffix, account, region)
    if bucket_ready(aws, bucket, region):
        return bucket
    if not _exists(s3, bucket):
        create: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            # SSE-S3: Lambda and CloudFormation in any target account can read the objects
            # without a grant on a customer key.
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=_tls_only_policy(bucket, region, readers))
    s3.put_bucket_tagging(
        Bucket=bucket,
        Tagging={
            "TagSet": [
                {"Key": names.PROJECT_TAG[0], "Value": names.PROJECT_TAG[1]},
                {"Key": names.SUFFIX_TAG, "Value": suffix},
                {"Key": names.ENVIRONMENT_TAG, "Value": suffix},
                {"Key": names.MANAGED_BY_TAG, "Value": "scripts/deploy.py"},
            ]
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def bucket_ready(aws: Aws, bucket: str, region: str) -> bool:
    """The bucket exists and is fully configured (versioning goes on last)."""
    try:
        status = aws.client("s3", region).get_bucket_versioning(Bucket=bucket).get("Status")
    except Exception as error:
        if error_code(error) in ("NoSuchBucket", "404"):
            return False
        raise
    return status == "Enabled"


def _exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except Exception as error:
        if error_code(error) in ("NoSuchBucket", "404", "NotFound"):
            return False
        raise


def upload_once(aws: Aws, region: str, bucket: str, key: str, data: bytes) -> bool:
    """Put ``data`` under ``key`` unless it is there already; True when uploaded."""
    s3 = aws.client("s3", region)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except Exception as error:
        if error_code(error) not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return True


def object_url(bucket: str, region: str, key: str) -> str:
    """The virtual-hosted-style URL CloudFormation's ``TemplateURL`` takes, in the region's
    partition (``amazonaws.com.cn`` in China)."""
    return f"https://{bucket}.s3.{region}.{partition.dns_suffix(region)}/{key}"
