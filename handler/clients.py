"""Which registered client sent a request, from what API Gateway itself put in the event. Pure.

API Gateway authenticates first; this module names the client it authenticated, and refuses
(``None``) anything else, as defence in depth:

* ``iam``: ``POST /process`` has ``AuthorizationType: AWS_IAM`` and the REST API's resource
  policy admits only the client roles, so API Gateway has verified the SigV4 signature and
  fills ``requestContext.identity.userArn`` with the caller's ARN; for a role session that is
  ``arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>``
  ("Control access to a REST API with IAM permissions", "API Gateway resource policies",
  "$context variables for data models, authorizers, mapping templates, and CloudWatch access
  logging": ``$context.identity.userArn``). A client is the role
  ``payment-<suffix>-client-<client_id>``; only that role's sessions are that client.
* ``mtls``: the custom domain has verified the client certificate against the truststore and
  API Gateway forwards it as ``requestContext.identity.clientCert`` (``subjectDN``,
  ``issuerDN``, ``serialNumber``, ``validity``, ``clientCertPem``) ("Configuring mutual TLS
  authentication for a REST API"). The default execute-api endpoint forwards no certificate,
  so a request through it has none and is refused here. A certificate is client
  ``<client_id>``'s only if its subject CN is ``<client_id>`` and its issuer CN is
  ``payment-client-ca-<client_id>``: one client's CA cannot mint another client's identity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

MODE_IAM = "iam"
MODE_MTLS = "mtls"
MODES = (MODE_IAM, MODE_MTLS)

# The same rule as the clients tool and the client template (an IAM role name is at most 64
# characters: "payment-" + 20-character suffix + "-client-" + 28).
CLIENT_ID = re.compile(r"[a-z][a-z0-9-]{0,27}")
CA_COMMON_NAME_PREFIX = "payment-client-ca-"

_ASSUMED_ROLE_ARN = re.compile(
    r"arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/(?P<role>[A-Za-z0-9+=,.@_-]{1,64})/[^/]+"
)


class Caller(NamedTuple):
    """What API Gateway says about the caller; nothing here comes from the client's headers."""

    user_arn: str | None = None
    cert_subject_dn: str | None = None
    cert_issuer_dn: str | None = None


class ClientAuth(NamedTuple):
    """How this deployment authenticates clients (env ``CLIENT_AUTH``, ``CLIENT_ROLE_PREFIX``)."""

    mode: str
    # "payment-<suffix>-client-": a client role's name is this followed by the client id.
    role_prefix: str


def caller_from_identity(identity: Mapping[str, Any]) -> Caller:
    cert = identity.get("clientCert")
    cert = cert if isinstance(cert, Mapping) else {}
    return Caller(
        user_arn=_text(identity.get("userArn")),
        cert_subject_dn=_text(cert.get("subjectDN")),
        cert_issuer_dn=_text(cert.get("issuerDN")),
    )


def client_id_for(caller: Caller, auth: ClientAuth) -> str | None:
    """The registered client that sent the request, or None if it is none of them."""
    if auth.mode == MODE_IAM:
        return _client_from_role_session(caller.user_arn, auth.role_prefix)
    if auth.mode == MODE_MTLS:
        return _client_from_certificate(caller.cert_subject_dn, caller.cert_issuer_dn)
    return None


def _client_from_role_session(user_arn: str | None, role_prefix: str) -> str | None:
    match = _ASSUMED_ROLE_ARN.fullmatch(user_arn or "")
    if match is None or not role_prefix:
        return None
    role = match["role"]
    if not role.startswith(role_prefix):
        return None
    client_id = role[len(role_prefix) :]
    return client_id if CLIENT_ID.fullmatch(client_id) else None


def _client_from_certificate(subject_dn: str | None, issuer_dn: str | None) -> str | None:
    client_id = common_name(subject_dn or "")
    if client_id is None or not CLIENT_ID.fullmatch(client_id):
        return None
    if common_name(issuer_dn or "") != CA_COMMON_NAME_PREFIX + client_id:
        return None
    return client_id


def common_name(dn: str) -> str | None:
    """The one CN of a distinguished name in its string form (RFC 4514: ``CN=x,O=y``, with
    ``\\`` escapes). None when there is no CN, more than one, or the string does not parse: an
    ambiguous name identifies nobody."""
    attributes = _attributes(dn)
    if attributes is None:
        return None
    names = [value for kind, value in attributes if kind.upper() in ("CN", "2.5.4.3")]
    return names[0] if len(names) == 1 else None


def _attributes(dn: str) -> list[tuple[str, str]] | None:
    """``type=value`` pairs of every RDN (multi-valued ones split at ``+``)."""
    pairs: list[tuple[str, str]] = []
    current: list[str] = []
    kind: str | None = None
    index = 0
    while index <= len(dn):
        char = dn[index] if index < len(dn) else ","
        if char == "\\" and index + 1 < len(dn):
            current.append(dn[index + 1])
            index += 2
            continue
        if char == '"':
            return None  # RFC 1779 quoting: not what API Gateway sends; refuse, never guess
        if char == "=" and kind is None:
            kind = "".join(current).strip()
            current = []
        elif char in ",+;":
            if not kind:
                return None
            pairs.append((kind, "".join(current).strip()))
            kind, current = None, []
        else:
            current.append(char)
        index += 1
    return pairs or None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
