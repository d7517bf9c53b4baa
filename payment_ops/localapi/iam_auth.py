"""API Gateway's authentication of a request to an ``AWS_IAM`` method, before anything else runs.

The caller signs with Signature Version 4 (IAM User Guide, "Signature Version 4 signing
process"; API Gateway Developer Guide, "Control access to a REST API with IAM permissions"):
``Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/execute-api/aws4_request,
SignedHeaders=..., Signature=...``, ``X-Amz-Date`` and, for a role session, the session token in
``X-Amz-Security-Token``. The gateway recomputes the signature with the session's secret key
(botocore's ``SigV4Auth`` pieces) over the request as it arrived, including the SHA-256 of the
body actually received, and accepts a timestamp within 5 minutes of its clock.

The refusals, their messages and ``x-amzn-ErrorType`` are those of "How do I troubleshoot HTTP
403 errors from API Gateway?" (AWS Knowledge Center), each answered as the API's gateway response
of that type ("Gateway response types for API Gateway"): no Authorization header
(MISSING_AUTHENTICATION_TOKEN), an unknown key or token (ACCESS_DENIED), an expired session
(EXPIRED_TOKEN), a signature that does not match or a timestamp out of the window
(INVALID_SIGNATURE).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from payment_ops.emulator.sessions import PATH as SESSION_PATH

from .signing import SERVICE, ClientCredentials

EMULATOR_TIMEOUT_S = 5.0  # the emulator is on 127.0.0.1: an answer this late is no answer

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# "Signature Version 4 signing process": a signed request is valid for 5 minutes either side.
CLOCK_WINDOW = timedelta(minutes=5)

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


@dataclass(frozen=True)
class Session:
    """A role session the gateway can authenticate: its secret, token and identity."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    assumed_role_arn: str
    expiration: datetime


@dataclass(frozen=True)
class Caller:
    """Who signed: ``requestContext.identity`` of the proxy event."""

    access_key_id: str
    account_id: str
    user_arn: str  # the assumed-role ARN


@dataclass(frozen=True)
class Refusal:
    response_type: str
    message: str
    error_type: str  # x-amzn-ErrorType


class Sessions:
    """The sessions of the emulator's STS: those this process registered (``add``), and those
    the emulator issued (moto's STS keeps every session it issued, as AWS STS does).

    The emulator runs in a process of its own (``payment_ops.emulator.Emulator``): with its
    ``endpoint_url``, a session this process did not register is asked of the emulator over
    127.0.0.1 (``payment_ops.emulator.sessions``). Without an endpoint, moto in this process is
    asked (an in-process ``mock_aws``)."""

    def __init__(self, account: str, partition: str = "aws", endpoint_url: str = "") -> None:
        self.account = account
        self.partition = partition
        self.endpoint_url = endpoint_url
        self._registered: dict[str, Session] = {}

    def add(self, credentials: ClientCredentials) -> None:
        self._registered[credentials.access_key_id] = Session(
            credentials.access_key_id,
            credentials.secret_access_key,
            credentials.session_token,
            credentials.assumed_role_arn,
            datetime.fromisoformat(credentials.expiration.replace("Z", "+00:00")),
        )

    def find(self, access_key_id: str) -> Session | None:
        if access_key_id in self._registered:
            return self._registered[access_key_id]
        if self.endpoint_url:
            return self._from_emulator(access_key_id)
        from moto.sts.models import sts_backends

        role = sts_backends[self.account][self.partition].get_assumed_role_from_access_key(
            access_key_id
        )
        if role is None:
            return None
        return Session(
            role.access_key_id,
            role.secret_access_key,
            role.session_token,
            role.arn,
            role.expiration.replace(tzinfo=UTC),
        )

    def _from_emulator(self, access_key_id: str) -> Session | None:
        query = urllib.parse.urlencode(
            {"access_key_id": access_key_id, "account": self.account, "partition": self.partition}
        )
        url = f"{self.endpoint_url.rstrip('/')}{SESSION_PATH}?{query}"
        try:
            with urllib.request.urlopen(url, timeout=EMULATOR_TIMEOUT_S) as response:  # noqa: S310
                role = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None  # the emulator never issued it: an unknown key, as STS would say
            raise
        return Session(
            role["access_key_id"],
            role["secret_access_key"],
            role["session_token"],
            role["arn"],
            datetime.fromisoformat(role["expiration"]).replace(tzinfo=UTC),
        )


def authenticate(
    *,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    region: str,
    sessions: Sessions,
    now: datetime | None = None,
) -> Caller | Refusal:
    """The caller of a signed request, or why API Gateway refuses it: the checks in the order
    of their refusals (the header's form, the credential scope, the clock, the signed headers,
    the session, the signature)."""
    now = now or datetime.now(UTC)
    form = _signed_form(headers)
    if isinstance(form, Refusal):
        return form
    fields, amz_date = form
    scope = fields["Credential"].split("/")
    signed_names = fields["SignedHeaders"].split(";")
    refusal = (
        _scope_refusal(scope, region)
        or _clock_refusal(amz_date, scope[1], now)
        or _host_refusal(signed_names)
    )
    if refusal is not None:
        return refusal
    access_key_id = scope[0]
    session = _live_session(
        sessions.find(access_key_id), _header(headers, "x-amz-security-token"), now
    )
    if isinstance(session, Refusal):
        return session
    expected = _signature(
        session.secret_access_key,
        region,
        amz_date,
        (method, path, query, headers, body),
        signed_names,
    )
    if not hmac.compare_digest(expected, fields["Signature"]):
        return _invalid_signature(SIGNATURE_MISMATCH)
    return Caller(
        access_key_id=access_key_id,
        account_id=session.assumed_role_arn.split(":")[4],
        user_arn=session.assumed_role_arn,
    )


def _signed_form(headers: list[tuple[str, str]]) -> tuple[dict[str, str], str] | Refusal:
    """The Authorization header's fields and ``X-Amz-Date``, or the refusal of a request that
    is not signed (no Authorization) or not completely (a field or the date missing)."""
    authorization = _header(headers, "authorization")
    if authorization is None:
        return Refusal(
            "MISSING_AUTHENTICATION_TOKEN",
            "Missing Authentication Token",
            "MissingAuthenticationTokenException",
        )
    fields = _authorization_fields(authorization)
    amz_date = _header(headers, "x-amz-date")
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in fields]
    if missing or amz_date is None:
        problems = [f"Authorization header requires '{name}' parameter." for name in missing]
        if amz_date is None:
            problems.append("Authorization header requires existence of a 'X-Amz-Date' header.")
        return Refusal("INVALID_SIGNATURE", " ".join(problems), "IncompleteSignatureException")
    return fields, amz_date


def _scope_refusal(scope: list[str], region: str) -> Refusal | None:
    """``<key id>/<date>/<region>/execute-api/aws4_request``, for this gateway's region."""
    if len(scope) != 5 or scope[4] != "aws4_request":
        return _invalid_signature("Credential should be scoped to a valid Region.")
    _, _, scope_region, scope_service, _ = scope
    if scope_region != region:
        return _invalid_signature("Credential should be scoped to a valid Region.")
    if scope_service != SERVICE:
        return _invalid_signature(f"Credential should be scoped to correct service: '{SERVICE}'.")
    return None


def _clock_refusal(amz_date: str, scope_date: str, now: datetime) -> Refusal | None:
    """``X-Amz-Date`` well formed, the scope's day, and within ``CLOCK_WINDOW`` of ``now``."""
    try:
        signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return _invalid_signature(f"Invalid X-Amz-Date {amz_date!r}: not {AMZ_DATE_FORMAT}.")
    if scope_date != amz_date[:8]:
        return _invalid_signature(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date}' != '{amz_date[:8]}'."
        )
    stamp = now.strftime(AMZ_DATE_FORMAT)
    if signed_at < now - CLOCK_WINDOW:
        return _invalid_signature(
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - CLOCK_WINDOW).strftime(AMZ_DATE_FORMAT)} ({stamp} - 5 min.)"
        )
    if signed_at > now + CLOCK_WINDOW:
        return _invalid_signature(
            f"Signature not yet current: {amz_date} is still later than "
            f"{(now + CLOCK_WINDOW).strftime(AMZ_DATE_FORMAT)} ({stamp} + 5 min.)"
        )
    return None


def _host_refusal(signed_names: list[str]) -> Refusal | None:
    if "host" not in signed_names:
        return _invalid_signature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    return None


def _live_session(session: Session | None, token: str | None, now: datetime) -> Session | Refusal:
    """The key's session, or the refusal of an unknown key, a token that is not the
    session's, or an expired session."""
    if session is None or token is None or not hmac.compare_digest(token, session.session_token):
        return Refusal("ACCESS_DENIED", INVALID_TOKEN, "AccessDeniedException")
    if now >= session.expiration:
        return Refusal("EXPIRED_TOKEN", EXPIRED_TOKEN, "ExpiredTokenException")
    return session


def _invalid_signature(message: str) -> Refusal:
    return Refusal("INVALID_SIGNATURE", message, "InvalidSignatureException")


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key.lower() == name]
    return values[-1] if values else None


def _authorization_fields(value: str) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        return {}
    fields = {}
    for part in rest.split(","):
        name, separator, field_value = part.strip().partition("=")
        if separator:
            fields[name] = field_value
    return fields


class _Recomputed(SigV4Auth):
    """botocore's canonical request and signature, with the hash of the body as received: a
    client's own ``X-Amz-Content-SHA256`` value never stands in for the body."""

    def __init__(self, secret_access_key: str, region: str) -> None:
        super().__init__(Credentials("-", secret_access_key), SERVICE, region)


def _signature(
    secret_access_key: str,
    region: str,
    amz_date: str,
    request: tuple[str, str, list[tuple[str, str]], list[tuple[str, str]], bytes],
    signed_names: list[str],
) -> str:
    method, path, query, headers, body = request
    signer = _Recomputed(secret_access_key, region)
    signed = HTTPHeaders()
    for name, value in headers:
        if name.lower() in signed_names:
            signed[name.lower()] = value
    for name in signed_names:
        if name not in signed:
            # Signed but not sent: the canonical request still names it, with no value, and
            # the signature cannot match the client's.
            signed[name] = ""
    canonical = "\n".join(
        [
            method.upper(),
            signer._normalize_url_path(path),
            signer._canonical_query_string_params(query),
            signer.canonical_headers(signed) + "\n",
            signer.signed_headers(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    dated = AWSRequest(method=method)
    dated.context["timestamp"] = amz_date  # the client's time, as signed
    return signer.signature(signer.string_to_sign(dated, canonical), dated)
