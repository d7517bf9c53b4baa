"""``scripts/local_api.py`` as a user starts it: a separate process on free ports, its output in a
file, talked to over HTTP, checked through boto3 against the emulator it started.

One process per test module (start-up deploys the stack sets: a few seconds). Nothing here
talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from payment_ops.deployment.aws import Aws
from payment_ops.deployment.clients import Clients, client_spec
from payment_ops.localapi.child import LocalApiChild, LocalApiStartError
from payment_ops.localapi.signing import ClientCredentials, assume_client_role, signed_headers
from templates_src import config as config_module

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


class LocalApiProcess(LocalApiChild):
    """The child process, plus what tests ask of it: HTTP requests and boto3 clients."""

    def __init__(self, work: Path, *extra: str) -> None:
        super().__init__(work, "--build-dir", str(work / "build"), *extra)
        self.build = work / "build"

    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def printed_credentials(self) -> ClientCredentials:
        """The client session as the start-up banner shows it to the user (its ``export``
        line), with the rest from the info file."""
        match = re.search(
            r"export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) AWS_SESSION_TOKEN=(\S+)",
            self.output,
        )
        assert match, self.output
        printed = dict(
            zip(
                ("access_key_id", "secret_access_key", "session_token"), match.groups(), strict=True
            )
        )
        return ClientCredentials.from_dict({**self.info["credentials"], **printed})

    def client_session(self, client_id: str) -> ClientCredentials:
        """Another client, registered in this local API's emulator with the clients library
        (unless it is already), and a session of its role."""
        clients = self.clients()
        client = next((c for c in clients.list() if c.client_id == client_id), None)
        if client is None:
            trusted = f"arn:aws:iam::{self.account}:root"
            client = clients.add(client_spec(client_id, [trusted], "tests"))
        return assume_client_role(self.aws("sts"), client.role_arn, f"{client_id}-tests", "tests")

    def clients(self) -> Clients:
        """The clients library on this local API's emulator."""
        config = config_module.from_inputs(
            environment_suffix="local", primary_region=None, replica_regions=None
        )
        return Clients(Aws(self.info["endpoint_url"]), config, poll_seconds=0.05)

    @property
    def account(self) -> str:
        return self.aws("sts").get_caller_identity()["Account"]

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        signed_as: ClientCredentials | None = None,
        tamper: bytes | None = None,
    ) -> Response:
        """``signed_as``: signed with that session (SigV4, execute-api, the served region);
        ``tamper``: this body is sent instead of the one that was signed."""
        split = urllib.parse.urlsplit(self.url)
        connection = http.client.HTTPConnection(split.hostname, split.port, timeout=30)
        data = json.dumps(body) if isinstance(body, dict) else body
        if signed_as is not None:
            raw = data.encode() if isinstance(data, str) else (data or b"")
            headers = signed_headers(
                signed_as, self.info["region"], method, self.url + path, raw, headers
            )
            data = raw if tamper is None else tamper
        try:
            connection.request(method, split.path + path, data, headers or {})
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return Response(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            json.loads(raw) if raw else None,
        )

    def aws(self, service: str) -> Any:
        """A client of the served region in this local API's emulator."""
        return self.aws_in(service, self.info["region"])

    def aws_in(self, service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.info["endpoint_url"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def start_local_api(work: Path, *extra: str) -> LocalApiProcess:
    running = LocalApiProcess(work, *extra)
    try:
        running.start(START_TIMEOUT_S)
    except LocalApiStartError as error:
        raise AssertionError(str(error)) from None
    return running


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApiProcess]:
    running = start_local_api(tmp_path_factory.mktemp("local-api"))
    try:
        yield running
    finally:
        running.kill()
