"""The emulator's STS sessions, readable by the local API and the drill over 127.0.0.1.

API Gateway verifies a Signature Version 4 request with the secret of the caller's session,
which AWS STS issued and keeps ("Signing AWS API requests", IAM User Guide). Locally the
session is issued by the emulator's STS, in the emulator's own process, while the local
gateway verifies in another; so the emulator answers
``GET /moto-api/payment/sts-session?access_key_id=…&account=…&partition=…`` with that session
(404 when it issued none), and ``…?role_arn=…&account=…`` with every session of that role (a
test proving that no session secret reaches an output). Test tooling only: the emulator
listens on 127.0.0.1 and its credentials are throw-away. moto is imported only inside the
handler, so the local API can read ``PATH`` from here without loading it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

PATH = "/moto-api/payment/sts-session"
_JSON = {"Content-Type": "application/json"}


def _session(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    from moto.sts.models import sts_backends

    query = parse_qs(urlparse(full_url).query)

    def one(name: str, default: str = "") -> str:
        return query.get(name, [default])[0]

    account, partition = one("account"), one("partition", "aws")
    if not account.isdigit() or len(account) != 12:
        return 400, _JSON, json.dumps({"message": "account: a 12-digit account id"})
    backend = sts_backends[account][partition]
    if one("role_arn"):
        of_role = [r for r in backend.assumed_roles if r.role_arn == one("role_arn")]
        return 200, _JSON, json.dumps({"sessions": [_described(r) for r in of_role]})
    role = backend.get_assumed_role_from_access_key(one("access_key_id"))
    if role is None:
        return 404, _JSON, json.dumps({"message": "no session with this access key id"})
    return 200, _JSON, json.dumps(_described(role))


def _described(role: Any) -> dict[str, str]:
    return {
        "access_key_id": role.access_key_id,
        "secret_access_key": role.secret_access_key,
        "session_token": role.session_token,
        "arn": role.arn,
        "expiration": role.expiration.isoformat(),
    }


def install() -> None:
    """Route ``PATH`` in moto's own API (before the server builds its application)."""
    from moto.moto_api._internal import urls

    urls.url_paths["{0}" + PATH + "$"] = _session
