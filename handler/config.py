"""Configuration from the Lambda environment and the AWS clients built from it.

The only module of the package that reads ``os.environ``-style mappings; it is given the
mapping, so tests pass their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Generic, NamedTuple, TypeVar

import boto3
from botocore.config import Config

from handler.clients import MODES, ClientAuth

T = TypeVar("T")


class InitOnce(Generic[T]):
    """What an execution environment builds once (clients, settings) and every request shares.

    ``warm`` builds it during Lambda's init phase. An incomplete environment must not make the
    module unimportable (build tooling and tests import it): it is logged, and each request then
    fails on ``get`` with the missing variables.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            self._value = self._build()
        return self._value

    def peek(self) -> T | None:
        """The value if it was built, without building it."""
        return self._value

    def reset(self) -> None:
        """Forget it; the next ``get`` rebuilds it from the environment."""
        self._value = None

    def warm(self, logger: logging.Logger) -> None:
        try:
            self.get()
        except ConfigurationError as error:
            logger.warning("configuration incomplete", extra={"fields": {"error": str(error)}})


class ConfigurationError(Exception):
    """The function was deployed without something it needs."""


# API Gateway gives up on a REST integration after 29 s (the default integration timeout:
# "Amazon API Gateway quotas", https://docs.aws.amazon.com/apigateway/latest/developerguide/
# limits.html; the Lambda timeout is 60 s), so a request must settle fast enough to answer
# itself. RESPONSE_MARGIN_S is kept back for the answer's own way out.
API_GATEWAY_TIMEOUT_S = 29.0
RESPONSE_MARGIN_S = 1.0

# Worst case of one call: 3 attempts x (1 s connect + 2 s read) + backoff (< 1 s + < 2 s) = 12 s.
# DynamoDB answers in milliseconds; 2 s without a byte means a sick connection, and the
# retry gets a fresh one.
# `total_max_attempts` counts the first attempt; the older `max_attempts` key of the retries
# dict counts retries only (3 would mean 4 attempts), so the bound above would not hold.
DYNAMODB_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 3},
)

# Settling a write whose outcome is unknown (handler.storage): a consistent read, then at most
# one more conditional write, each a single attempt (3 s), each started only while the request
# still has that much of its budget left. The SDK retries nothing here, so once a call has
# raised, no attempt of ours is still on its way to the table.
SETTLE_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 1},
)

# The audit writer is off the request path; its bound is the Lambda timeout (60 s) for a
# whole batch. Worst case per object: 3 x (2 s + 4 s) + 3 s = 21 s; a record that keeps
# failing is reported and retried by the event source mapping, not here.
S3_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=4,
    retries={"mode": "standard", "total_max_attempts": 3},
)


class ProcessorSettings(NamedTuple):
    table_name: str
    environment_suffix: str
    region: str
    # Granted and passed by the template but unused on the request path: the audit trail is
    # written from the table's stream, never synchronously.
    audit_bucket: str | None
    client_auth: ClientAuth

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ProcessorSettings:
        values = _require(
            environ, "TABLE_NAME", "ENVIRONMENT_SUFFIX", "CLIENT_AUTH", "CLIENT_ROLE_PREFIX"
        )
        # No default mode: a function that does not know how its clients authenticate must
        # accept none of them rather than guess.
        if values["CLIENT_AUTH"] not in MODES:
            raise ConfigurationError(
                f"CLIENT_AUTH must be one of {', '.join(MODES)}, not {values['CLIENT_AUTH']!r}"
            )
        return cls(
            table_name=values["TABLE_NAME"],
            environment_suffix=values["ENVIRONMENT_SUFFIX"],
            region=_region(environ),
            audit_bucket=environ.get("AUDIT_BUCKET") or None,
            client_auth=ClientAuth(values["CLIENT_AUTH"], values["CLIENT_ROLE_PREFIX"]),
        )


class AuditSettings(NamedTuple):
    bucket: str
    kms_key_id: str
    environment_suffix: str
    region: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AuditSettings:
        values = _require(environ, "AUDIT_BUCKET", "AUDIT_KMS_KEY_ARN", "ENVIRONMENT_SUFFIX")
        return cls(
            bucket=values["AUDIT_BUCKET"],
            kms_key_id=values["AUDIT_KMS_KEY_ARN"],
            environment_suffix=values["ENVIRONMENT_SUFFIX"],
            region=_region(environ),
        )


class TableStreamSettings(NamedTuple):
    # The custom resource gets the table name from each request; only the region, the one
    # whose replica it answers for, comes from the environment.
    region: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TableStreamSettings:
        return cls(region=_region(environ))


def dynamodb_client(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region, config=DYNAMODB_CLIENT_CONFIG)


def settle_client(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region, config=SETTLE_CLIENT_CONFIG)


def s3_client(region: str) -> Any:
    return boto3.client("s3", region_name=region, config=S3_CLIENT_CONFIG)


def worst_case_seconds(config: Config, calls: int = 1) -> float:
    """Upper bound of ``calls`` sequential SDK calls under ``config``, backoff included.

    Standard retry mode sleeps at most ``min(2 ** i, 20)`` seconds before attempt ``i + 2``
    (throttling base scale 1 s; other errors back off less).
    """
    attempts = config.retries["total_max_attempts"]
    per_attempt = config.connect_timeout + config.read_timeout
    backoff = sum(min(2**i, 20) for i in range(attempts - 1))
    return calls * (attempts * per_attempt + backoff)


def request_worst_case_seconds() -> float:
    """The longest a ``POST /process`` can spend in DynamoDB calls, whichever path it takes.

    * the conditional write fails its condition without the stored item in the error (never
      the case with DynamoDB itself): the write, then one consistent read, both with retries;
    * the write's outcome is unknown: the write with retries, then a read and one more write
      of a single attempt each.
    """
    write = worst_case_seconds(DYNAMODB_CLIENT_CONFIG)
    read_back = write + worst_case_seconds(DYNAMODB_CLIENT_CONFIG)
    settle = write + worst_case_seconds(SETTLE_CLIENT_CONFIG, calls=2)
    return max(read_back, settle)


def _require(environ: Mapping[str, str], *names: str) -> dict[str, str]:
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
    return {name: environ[name] for name in names}


def _region(environ: Mapping[str, str]) -> str:
    # Lambda always sets AWS_REGION; AWS_DEFAULT_REGION serves local runs. Never guess one:
    # a payment written to the wrong region is worse than no payment.
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigurationError("missing environment variables: AWS_REGION")
    return region
