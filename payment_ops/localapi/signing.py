"""A client of the payment API: its role's temporary credentials, and requests signed with them.

``POST /process`` is an ``AWS_IAM`` method: each request carries a Signature Version 4 signature
for the service ``execute-api`` in the API's region, made with the credentials of a session of
the client's role (API Gateway Developer Guide, "Control access to a REST API with IAM
permissions"; IAM User Guide, "Signature Version 4 signing process"). The signature covers the
method, the path, the query, the signed headers and the SHA-256 of the body, so a request
changed after signing is refused. Signing is botocore's ``SigV4Auth``, as every AWS SDK does it.
Used by the tests, the load benchmark and the failover drill.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "execute-api"


@dataclass(frozen=True)
class ClientCredentials:
    """One session of a client role: what ``sts:AssumeRole`` returns."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: str  # ISO 8601, UTC
    assumed_role_arn: str  # arn:<partition>:sts::<account>:assumed-role/<role>/<session>

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClientCredentials:
        return cls(**{name: str(data[name]) for name in cls.__dataclass_fields__})


def assume_client_role(
    sts: Any, role_arn: str, session_name: str, external_id: str | None = None
) -> ClientCredentials:
    """A session of the client role ``role_arn`` (``sts`` is a boto3 STS client of a principal
    the role trusts; the role's trust policy asks for ``external_id``)."""
    arguments: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
    if external_id is not None:
        arguments["ExternalId"] = external_id
    answer = sts.assume_role(**arguments)
    credentials = answer["Credentials"]
    expiration = credentials["Expiration"]
    return ClientCredentials(
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
        expiration=expiration if isinstance(expiration, str) else expiration.isoformat(),
        assumed_role_arn=answer["AssumedRoleUser"]["Arn"],
    )


def signed_headers(
    credentials: ClientCredentials,
    region: str,
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """``headers`` plus ``Authorization``, ``X-Amz-Date`` and ``X-Amz-Security-Token``: the
    request signed for ``execute-api`` in ``region``. Send exactly this body to this URL."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = SigV4Auth(
        Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        SERVICE,
        region,
    )
    signer.add_auth(request)
    return dict(request.headers.items())
