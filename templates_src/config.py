"""The one configuration object of the generator.

Built once at the edge (CLI flags and the ``ENVIRONMENT_SUFFIX`` variable), validated there, and
passed down. No other module reads the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from . import names

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

GOVERNANCE, COMPLIANCE = "GOVERNANCE", "COMPLIANCE"
# Suffixes of environments whose data may be destroyed on purpose (GOVERNANCE lock, so that
# delete.py --purge-data can remove the audit objects). Anything else is production-like.
THROWAWAY_SUFFIX_PATTERN = r"(dev|test|tmp|ci|local|emu|sandbox|pr[0-9]+)(-[a-z0-9-]*)?"
# CloudWatch Logs accepts only these retention periods (AWS::Logs::LogGroup RetentionInDays).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
# How POST /process authenticates its clients (README "Security", "Clients"). IAM is the default
# even with a custom domain: SigV4 signs every request with its body, the credentials are
# short-lived role sessions and deleting the role revokes at once; API Gateway's mutual TLS
# checks no revocation list and rests on long-lived client keys.
CLIENT_AUTH_IAM, CLIENT_AUTH_MTLS = "iam", "mtls"
CLIENT_AUTH_MODES = (CLIENT_AUTH_IAM, CLIENT_AUTH_MTLS)
WAF_REASON_PATTERN = r"[ -~]{20,500}"
WAF_REASON_RULE = "20 to 500 printable characters"


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
    payments_failed: int = 0  # any payment answered 5XX (the client was told to retry)
    audit_failed: int = 0  # any record the audit writer could not write
    async_dead_letters: int = 0  # any asynchronous invocation that failed for good
    api_4xx: int = 100  # 4XX responses in 5 minutes: probing, a broken client, a revoked one
    api_403: int = 20  # refused credentials in 5 minutes
    waf_blocked: int = 100  # requests the web ACL blocked in 5 minutes


@dataclass(frozen=True)
class ApiLimits:
    """Stage throttling of the API: every caller together, per region."""

    rate_limit: float = 50.0  # steady requests per second
    burst_limit: int = 100


@dataclass(frozen=True)
class Config:
    environment_suffix: str = DEFAULT_SUFFIX
    primary_region: str = DEFAULT_PRIMARY_REGION
    replica_regions: tuple[str, ...] = DEFAULT_REPLICA_REGIONS
    alarm_email: str = ""
    log_retention_days: int = 400  # every log group; PCI DSS 10.5.1 wants at least a year
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
    kms_deletion_window_days: int = 10
    audit_glacier_after_days: int = 30
    audit_noncurrent_expiry_days: int = 365
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    api_limits: ApiLimits = field(default_factory=ApiLimits)
    # Security controls (README "Security"). "" follows the suffix: GOVERNANCE for a throw-away
    # suffix (THROWAWAY_SUFFIX_PATTERN), COMPLIANCE for every other one.
    audit_object_lock_mode: str = ""
    audit_object_lock_days: int = 365
    # The one principal that may bypass GOVERNANCE retention (delete.py --purge-data runs as it).
    purge_role_name: str = names.PURGE_ROLE
    enable_cloudtrail: bool = False  # for accounts without an organization trail
    enable_waf: bool = True
    waf_exception_reason: str = ""  # required when enable_waf is False
    # The two payment functions in a VPC without internet egress (templates_src/network.py).
    vpc: bool = False
    client_auth: str = CLIENT_AUTH_IAM
    # The custom domain the stacks are deployed with ("" none). The name itself is a stack
    # parameter; here it only proves that mTLS has the domain it needs.
    domain_name: str = ""

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
        validate_security(self)
        validate_client_auth(self)

    @property
    def object_lock_mode(self) -> str:
        """The audit buckets' default retention mode: as configured, else by the suffix."""
        if self.audit_object_lock_mode:
            return self.audit_object_lock_mode
        return GOVERNANCE if is_throwaway_suffix(self.environment_suffix) else COMPLIANCE

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region of the deployment, primary first."""
        return (self.primary_region, *self.replica_regions)

    @property
    def tags(self) -> dict[str, str]:
        """The tags every taggable resource carries (CONTRACT §1)."""
        return {
            names.ENVIRONMENT_TAG: self.environment_suffix,
            names.SUFFIX_TAG: self.environment_suffix,
            names.MANAGED_BY_TAG: MANAGED_BY,
            names.PROJECT_TAG: names.PROJECT,
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
            # The security settings shape the templates too: a build made with others is stale.
            "log_retention_days": self.log_retention_days,
            "object_lock": [self.object_lock_mode, self.audit_object_lock_days],
            "purge_role_name": self.purge_role_name,
            "enable_cloudtrail": self.enable_cloudtrail,
            "waf_exception_reason": "" if self.enable_waf else self.waf_exception_reason,
            # Only when on: a default build's manifest stays as it was.
            **({"vpc": True} if self.vpc else {}),
            "client_auth": self.client_auth,
        }

    def reserved_concurrency(self) -> int:
        """Concurrent executions the deployment reserves in each of its regions (each region
        runs one processor and one audit writer)."""
        return (self.processor_reserved_concurrency or 0) + (
            self.audit_writer_reserved_concurrency or 0
        )


def is_throwaway_suffix(suffix: str) -> bool:
    """A throw-away environment (its data may be purged): the suffix is one of the names the
    tooling and the tests use, alone or followed by ``-<anything>``."""
    return re.fullmatch(THROWAWAY_SUFFIX_PATTERN, suffix) is not None


def validate_security(config: Config) -> None:
    """The security settings: retention that meets PCI DSS 10.5.1, a known lock mode, and a
    written reason for switching the WAF off."""
    if config.log_retention_days not in LOG_RETENTION_DAYS or config.log_retention_days < 365:
        raise ConfigError(
            f"log retention {config.log_retention_days} days: must be at least 365 and one of "
            f"CloudWatch Logs' values ({', '.join(str(d) for d in LOG_RETENTION_DAYS if d >= 365)})"
        )
    if config.audit_object_lock_mode not in ("", GOVERNANCE, COMPLIANCE):
        raise ConfigError(
            f"object lock mode {config.audit_object_lock_mode!r}: {GOVERNANCE} or {COMPLIANCE}"
        )
    if not 1 <= config.audit_object_lock_days <= 36_500:
        raise ConfigError(f"object lock days {config.audit_object_lock_days}: 1 to 36500")
    if not re.fullmatch(r"[A-Za-z0-9+=,.@_-]{1,64}", config.purge_role_name):
        raise ConfigError(f"purge role name {config.purge_role_name!r} is not an IAM role name")
    reason = config.waf_exception_reason
    if not config.enable_waf and not re.fullmatch(WAF_REASON_PATTERN, reason):
        raise ConfigError(
            "the WAF is off without a reason: give the exception's reason "
            f"({WAF_REASON_RULE}) or keep the WAF on"
        )


def validate_client_auth(config: Config) -> None:
    """A known mode; mTLS only with a custom domain, the only place API Gateway verifies a
    client certificate ("Configuring mutual TLS authentication for a REST API")."""
    if config.client_auth not in CLIENT_AUTH_MODES:
        raise ConfigError(
            f"client authentication {config.client_auth!r}: one of {', '.join(CLIENT_AUTH_MODES)}"
        )
    if config.client_auth == CLIENT_AUTH_MTLS and not config.domain_name:
        raise ConfigError(
            "--client-auth mtls needs a custom domain (--domain-name): API Gateway verifies "
            "client certificates only on a custom domain"
        )


def require_alarm_subscriber(config: Config, *, opted_out: bool) -> None:
    """Alarms must reach someone (PCI DSS 10.7.2): a deployment without an alarm e-mail is
    refused unless the operator opted out explicitly. For deploy and plan to call."""
    if not config.alarm_email and not opted_out:
        raise ConfigError(
            "no alarm subscriber: give --alarm-email ADDRESS, or opt out explicitly with "
            "--no-alarm-subscriber (alarms then notify a topic nobody reads)"
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
    object_lock_mode: str | None = None,
    enable_cloudtrail: bool = False,
    waf_off_reason: str | None = None,
    vpc: bool = False,
    client_auth: str | None = None,
    domain_name: str | None = None,
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
        audit_object_lock_mode=object_lock_mode or "",
        enable_cloudtrail=enable_cloudtrail,
        enable_waf=waf_off_reason is None,
        waf_exception_reason=waf_off_reason or "",
        vpc=vpc,
        client_auth=client_auth or CLIENT_AUTH_IAM,
        domain_name=(domain_name or "").strip(),
    )
