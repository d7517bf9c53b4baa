"""Every log group of the templates: retained, encrypted, kept long enough, card numbers masked.

One helper so that no log group can miss one of the four: PCI DSS v4.0 10.5.1 (a year of audit
log history), 10.3.2/10.3.3 (logs protected from modification and destruction: retained on stack
delete, encrypted with the deployment's key), 3.3/3.5.1 (no primary account number readable in a
log: CloudWatch Logs masks card numbers on ingestion, AWS guide "Help protect sensitive log data
with masking").
"""

from __future__ import annotations

from troposphere import Sub, Template
from troposphere.logs import LogGroup

from . import names
from .common import retain, tags
from .config import Config

# The managed data identifier for payment card numbers ("Types of data that you can protect",
# CloudWatch Logs user guide). It matches numbers that pass the Luhn check, with or without
# separators.
CARD_NUMBER_IDENTIFIER = (
    "arn:${AWS::Partition}:dataprotection::aws:data-identifier/CreditCardNumber"
)


def card_number_policy() -> dict[str, object]:
    """A data protection policy: audit statement first (required, here with no findings
    destination), then the de-identify statement that masks what the audit finds."""
    identifiers = [Sub(CARD_NUMBER_IDENTIFIER)]
    return {
        "Name": names.CARD_NUMBER_POLICY,
        "Description": "Mask payment card numbers in every log event",
        "Version": "2021-06-01",
        "Statement": [
            {
                "Sid": "AuditCardNumbers",
                "DataIdentifier": identifiers,
                "Operation": {"Audit": {"FindingsDestination": {}}},
            },
            {
                "Sid": "MaskCardNumbers",
                "DataIdentifier": identifiers,
                "Operation": {"Deidentify": {"MaskConfig": {}}},
            },
        ],
    }


def add_log_group(
    template: Template,
    config: Config,
    title: str,
    log_group_name: Sub,
    key_arn: object,
    *,
    condition: str | None = None,
) -> LogGroup:
    """A log group with the configured retention (at least 365 days), the deployment's KMS key,
    the card-number masking policy, tags, and the ``retain`` policies (kept on delete and
    replacement)."""
    extra = {"Condition": condition} if condition else {}
    return template.add_resource(
        retain(
            LogGroup(
                title,
                LogGroupName=log_group_name,
                RetentionInDays=config.log_retention_days,
                KmsKeyId=key_arn,
                DataProtectionPolicy=card_number_policy(),
                Tags=tags(),
                **extra,
            )
        )
    )
