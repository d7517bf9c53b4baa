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

from payment_ops.localapi.child import LocalApiChild, LocalApiStartError

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
    def printed_key(self) -> str:
        """The API key as the start-up banner shows it to the user."""
        match = re.search(r"^API key:\s+(\S+)", self.output, re.MULTILINE)
        assert match, self.output
        return match.group(1)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        split = urllib.parse.urlsplit(self.url)
        connection = http.client.HTTPConnection(split.hostname, split.port, timeout=30)
        try:
            data = json.dumps(body) if isinstance(body, dict) else body
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
        return boto3.client(
            service,
            region_name=self.info["region"],
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
