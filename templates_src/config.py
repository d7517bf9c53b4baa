"""The one configuration object of the generator.

Built once at the edge (CLI flags and the ``ENVIRONMENT_SUFFIX`` variable), validated there, and
passed down. No other module reads the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PROJECT = "payment-infrastructure"
MANAGED_BY = "troposphere"
DEFAULT_SUFFIX = "dev"
DEFAULT_PRIMARY_REGION = "us-east-1"
DEFAULT_REPLICA_REGIONS = ("us-west-2",)

# CONTRACT §1: 1-20 characters of [a-z0-9-], starting with a letter. The suffix ends up in
# bucket names (lower case only) and in names capped at 64 characters (IAM roles, Lambda).
SUFFIX_PATTERN = r"^[a-z][a-z0-9-]{0,19}$"
SUFFIX_RULE = "1-20 characters of a-z, 0-9 and '-', starting with a letter"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# The largest reservations the processor and the audit writer take (the default account
# quota is 1,000 concurrent executions per region).
PROCESSOR_CONCURRENCY_MAX = 1000
AUDIT_CONCURRENCY_MAX = 100


class ConfigError(ValueError):
    """A configuration value that cannot produce a valid template (CLI exit code 2)."""


@dataclass(frozen=True)
class AlarmThresholds:
    """Thresholds of the CloudWatch alarms; defaults from the original specification."""

    processor_errors: int = 5  # errors in 5 minutes
    processor_duration_p99_ms: int = 30_000  # half the 60 s timeout: time to react before timeouts
    lambda_throttles: int = 1  # any throttle of a payment function is worth a look
    api_5xx: int = 5  # 5XX responses in 5 minutes
    api_latency_p99_ms: int = 5_000
    dynamodb_throttles: int = 10  # throttled read + write events in 5 minutes
    replication_latency_ms: int = 60_000  # average, per receiving region
    stream_iterator_age_ms: int = 300_000  # the audit trail is more than 5 minutes behind
    failed_records: int = 0  # any message on the on-failure queue is a record not audited


@dataclass(frozen=True)
class ApiLimits:
    """Usage-plan limits for API clients."""

    rate_limit: float = 50.0  # steady requests per second
    burst_limit: int = 100
    quota_per_day: int = 100_000


@dataclass(frozen=True)
class Config:
    environment_suffix: str = DEFAULT_SUFFIX
    primary_region: str = DEFAULT_PRIMARY_REGION
    replica_regions: tuple[str, ...] = DEFAULT_REPLICA_REGIONS
    alarm_email: str = ""
    log_retention_days: int = 7
    lambda_memory_mb: int = 512
    lambda_timeout_s: int = 60
    lambda_runtime: str = "python3.12"
    # None: no reservation (the default). Lambda keeps 100 of each account and region's
    # concurrency unreserved and new accounts may have 10 or 50 in all, so reserving is the
    # operator's choice; deploy checks that the account can give it.
    processor_reserved_concurrency: int | None = None
    # Unreserved by default too: the stream invokes the writer once per shard (times the
    # mapping's ParallelizationFactor) at a time, and a busy on-demand table has more shards
    # than a small reservation, which would hold the audit trail behind.
    audit_writer_reserved_concurrency: int | None = None
    security_log_retention_days: int = 365  # API access and WAF logs: who called, kept a year
    kms_deletion_window_days: int = 10
    audit_glacier_after_days: int = 30
    audit_noncurrent_expiry_days: int = 365
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    api_limits: ApiLimits = field(default_factory=ApiLimits)

    def __post_init__(self) -> None:
        validate_suffix(self.environment_suffix)
        known = known_regions()
        for region in (self.primary_region, *self.replica_regions):
            if region not in known:
                raise ConfigError(f"unknown AWS region {region!r}")
        if not self.replica_regions:
            raise ConfigError("at least one replica region is required")
        if len(set(self.replica_regions)) != len(self.replica_regions):
            raise ConfigError(f"replica regions repeat: {','.join(self.replica_regions)}")
        if self.primary_region in self.replica_regions:
            raise ConfigError(
                f"primary region {self.primary_region} must not also be a replica region"
            )
        # fullmatch: with re.match, "$" also matches before a trailing newline.
        for flag, value, maximum in (
            ("processor", self.processor_reserved_concurrency, PROCESSOR_CONCURRENCY_MAX),
            ("audit writer", self.audit_writer_reserved_concurrency, AUDIT_CONCURRENCY_MAX),
        ):
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= maximum
            ):
                raise ConfigError(
                    f"{flag} reserved concurrency {value!r}: a whole number from 1 to {maximum}, "
                    "or none for no reservation"
                )
        if self.alarm_email and not re.fullmatch(EMAIL_PATTERN, self.alarm_email):
            raise ConfigError(f"alarm e-mail {self.alarm_email!r} is not an e-mail address")

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region of the deployment, primary first."""
        return (self.primary_region, *self.replica_regions)

    @property
    def tags(self) -> dict[str, str]:
        """The tags every taggable resource carries (CONTRACT §1)."""
        return {
            "Environment": self.environment_suffix,
            "EnvironmentSuffix": self.environment_suffix,
            "ManagedBy": MANAGED_BY,
            "Project": PROJECT,
        }

    def describe(self) -> dict[str, object]:
        """The inputs that shape the templates, for the build manifest."""
        return {
            "environment_suffix": self.environment_suffix,
            "primary_region": self.primary_region,
            "replica_regions": list(self.replica_regions),
            "alarm_email": bool(self.alarm_email),
            "processor_reserved_concurrency": self.processor_reserved_concurrency,
            "audit_writer_reserved_concurrency": self.audit_writer_reserved_concurrency,
        }

    def reserved_concurrency(self) -> int:
        """Concurrent executions the deployment reserves in each of its regions (each region
        runs one processor and one audit writer)."""
        return (self.processor_reserved_concurrency or 0) + (
            self.audit_writer_reserved_concurrency or 0
        )


def validate_suffix(suffix: str) -> str:
    if not isinstance(suffix, str) or not re.fullmatch(SUFFIX_PATTERN, suffix):
        raise ConfigError(f"invalid environment suffix {suffix!r}: {SUFFIX_RULE}")
    return suffix


def known_regions() -> frozenset[str]:
    """Region names of every partition that cfn-lint knows: a region it cannot lint for is a
    region the build cannot vouch for."""
    from cfnlint.helpers import REGIONS

    return frozenset(REGIONS)


def parse_regions(value: str) -> tuple[str, ...]:
    regions = tuple(part.strip() for part in value.split(",") if part.strip())
    if not regions:
        raise ConfigError(f"no region in {value!r}")
    return regions


def from_inputs(
    *,
    environment_suffix: str | None = None,
    primary_region: str | None = None,
    replica_regions: Sequence[str] | str | None = None,
    alarm_email: str | None = None,
    processor_reserved_concurrency: int | None = None,
    audit_writer_reserved_concurrency: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the configuration from CLI values, falling back to the environment, then defaults."""
    environ = environ or {}
    # An explicitly given empty value is an error, not a request for the default.
    if environment_suffix is None:
        environment_suffix = environ.get("ENVIRONMENT_SUFFIX") or DEFAULT_SUFFIX
    if isinstance(replica_regions, str):
        replica_regions = parse_regions(replica_regions)
    return Config(
        environment_suffix=environment_suffix,
        primary_region=DEFAULT_PRIMARY_REGION if primary_region is None else primary_region,
        replica_regions=DEFAULT_REPLICA_REGIONS
        if replica_regions is None
        else tuple(replica_regions),
        alarm_email=alarm_email or "",
        processor_reserved_concurrency=processor_reserved_concurrency,
        audit_writer_reserved_concurrency=audit_writer_reserved_concurrency,
    )
