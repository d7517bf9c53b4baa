"""Customer-managed KMS keys, one per use, created identically in every region.

The global table's replica in a region is encrypted with that region's ``table`` key, found by
its alias; the replica template therefore creates the keys before the primary's table asks for
them (deployment order in DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import kms as kms_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    Policy,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from troposphere import GetAtt, Sub, Template
from troposphere.kms import Alias, Key

from . import names
from .common import STAGE_NAME, arn, retain, suppress, tags
from .config import Config

TABLE = "table"
AUDIT = "audit"
APP = "app"

USES = {
    TABLE: "DynamoDB payments table and its stream",
    AUDIT: "S3 audit bucket",
    APP: "Lambda environment, log groups, SNS alarm topic, SQS on-failure queue",
}

# The log groups that the app key may encrypt (CloudWatch Logs binds the key to the group name
# through the encryption context, so other groups in the account cannot use it).
LOG_GROUP_PATTERNS = (
    *(f"{prefix}*" for prefix in names.log_group_prefixes(names.SUB_SUFFIX)),
    f"{names.TRAIL_LOG_PREFIX}{names.prefix(names.SUB_SUFFIX)}*",  # the optional trail's
    # The stages' execution logs: API Gateway fixes this name, with the API's id and no suffix
    # in it, and the id of the standby's API is not known in the replica stack that holds the
    # key. The stage name narrows it to this project's stages.
    "API-Gateway-Execution-Logs_*/" + STAGE_NAME,
)


@dataclass(frozen=True)
class Keys:
    table: Key
    audit: Key
    app: Key


def alias_name(use: str) -> Sub:
    return Sub(names.key_alias(names.SUB_SUFFIX, use))


def alias_arn(use: str, region: str | None = None) -> Sub:
    """The alias ARN of a key of this deployment, in this region or another one."""
    return arn("kms", names.key_alias(names.SUB_SUFFIX, use), region=region)


def _root_statement() -> Statement:
    # Without the account principal, IAM policies cannot grant use of the key and the key can
    # become unmanageable; this is the documented default key policy statement.
    return Statement(
        Sid="AccountAdministersAndDelegatesThroughIam",
        Effect=Allow,
        Principal=Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
        Action=[kms_actions.Action("*")],
        Resource=["*"],
    )


def _app_service_statements() -> list[Statement]:
    log_group_arns = [
        Sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{p}")
        for p in LOG_GROUP_PATTERNS
    ]
    return [
        Statement(
            Sid="CloudWatchLogsEncryptsThisDeploymentsLogGroups",
            Effect=Allow,
            Principal=Principal("Service", Sub("logs.${AWS::Region}.${AWS::URLSuffix}")),
            Action=[
                kms_actions.Encrypt,
                kms_actions.Decrypt,
                kms_actions.ReEncryptFrom,
                kms_actions.ReEncryptTo,
                kms_actions.GenerateDataKey,
                kms_actions.GenerateDataKeyWithoutPlaintext,
            ],
            Resource=["*"],
            Condition=Condition(ArnLike("kms:EncryptionContext:aws:logs:arn", log_group_arns)),
        ),
        Statement(
            # Alarms publish to the encrypted topic as the CloudWatch service.
            Sid="CloudWatchAlarmsPublishToEncryptedTopic",
            Effect=Allow,
            Principal=Principal("Service", "cloudwatch.amazonaws.com"),
            Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
            Resource=["*"],
            Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
        ),
        Statement(
            # The security-event rules publish to the encrypted topic as EventBridge
            # ("Amazon SNS topic encrypted with a customer managed key", EventBridge targets).
            Sid="EventBridgeRulesPublishToEncryptedTopic",
            Effect=Allow,
            Principal=Principal("Service", "events.amazonaws.com"),
            Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
            Resource=["*"],
            Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
        ),
    ]


def _audit_service_statements() -> list[Statement]:
    """The optional CloudTrail trail encrypts its log files with the audit key ("Configure AWS
    KMS key policies for CloudTrail", CloudTrail user guide): only for this deployment's trail."""
    trail_arn = Sub(
        "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:"
        f"trail/{names.resource(names.SUB_SUFFIX, names.TRAIL)}"
    )
    return [
        Statement(
            Sid="CloudTrailEncryptsThisDeploymentsTrail",
            Effect=Allow,
            Principal=Principal("Service", "cloudtrail.amazonaws.com"),
            Action=[kms_actions.GenerateDataKey],
            Resource=["*"],
            Condition=Condition(
                [
                    StringEquals("aws:SourceArn", trail_arn),
                    # A string key: the guide's example compares it with StringLike.
                    StringLike(
                        "kms:EncryptionContext:aws:cloudtrail:arn",
                        Sub("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"),
                    ),
                ]
            ),
        ),
        Statement(
            # DescribeKey carries no encryption context: conditioned on the trail alone.
            Sid="CloudTrailDescribesTheKey",
            Effect=Allow,
            Principal=Principal("Service", "cloudtrail.amazonaws.com"),
            Action=[kms_actions.DescribeKey],
            Resource=["*"],
            Condition=Condition(StringEquals("aws:SourceArn", trail_arn)),
        ),
    ]


# parliament splits ARNs on ":", and a log group ARN has a seventh part (log-group:NAME).
APP_KEY_PARLIAMENT = {
    "MISMATCHED_TYPE": "The kms:EncryptionContext:aws:logs:arn values are log group ARNs, whose "
    "resource part contains a colon (log-group:NAME); the linter parses ARNs as six "
    "colon-separated parts and so takes them for plain strings.",
}


def _key(template: Template, config: Config, use: str) -> Key:
    statements = [_root_statement()]
    if use == APP:
        statements += _app_service_statements()
    if use == AUDIT:
        statements += _audit_service_statements()
    key = template.add_resource(
        suppress(
            retain(
                Key(
                    f"{use.capitalize()}Key",
                    Description=Sub(f"{names.SUB_DEPLOYMENT}: {USES[use]}"),
                    EnableKeyRotation=True,
                    PendingWindowInDays=config.kms_deletion_window_days,
                    KeyPolicy=Policy(Version="2012-10-17", Statement=statements),
                    Tags=tags(Use=use),
                )
            ),
            parliament=APP_KEY_PARLIAMENT if use == APP else None,
        )
    )
    template.add_resource(
        Alias(f"{use.capitalize()}KeyAlias", AliasName=alias_name(use), TargetKeyId=key.ref())
    )
    return key


def add_keys(template: Template, config: Config) -> Keys:
    """The three keys of a region, each with its alias ``alias/payment-<suffix>-<use>``."""
    return Keys(
        table=_key(template, config, TABLE),
        audit=_key(template, config, AUDIT),
        app=_key(template, config, APP),
    )


def key_arn(key: Key) -> GetAtt:
    return GetAtt(key, "Arn")


@dataclass(frozen=True)
class KeyArns:
    """The ARNs of a region's three keys, however the template comes by them (its own keys, or
    the replica stack's exports in the standby template)."""

    table: object
    audit: object
    app: object


def arns(keys: Keys) -> KeyArns:
    return KeyArns(table=key_arn(keys.table), audit=key_arn(keys.audit), app=key_arn(keys.app))


__all__ = ["KeyArns", "Keys", "add_keys", "alias_arn", "alias_name", "arns", "key_arn"]
