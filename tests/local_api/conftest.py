"""``scripts/local_api.py`` as a user starts it: a separate process on free ports, its output in a
file, talked to over HTTP, checked through boto3 against the emulator it started.

One process per test module (start-up deploys the stack sets: a few seconds). Nothing here
talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class LocalApiProcess:
    proc: subprocess.Popen
    log: Path
    build: Path
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

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

    def interrupt(self, timeout_s: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=timeout_s)


def start_local_api(work: Path, *extra: str) -> LocalApiProcess:
    info_file = work / "info.json"
    log = work / "local-api.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("ENVIRONMENT_SUFFIX", None)
    command = [
        sys.executable,
        str(ROOT / "scripts" / "local_api.py"),
        "--port",
        "0",
        "--emulator-port",
        "0",
        "--build-dir",
        str(work / "build"),
        "--function-logs",
        str(work / "functions.log"),
        "--info-file",
        str(info_file),
        *extra,
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # the test, not the terminal, sends its SIGINT
        )
    running = LocalApiProcess(proc, log, work / "build")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if info_file.exists() and "\nready: " in running.output:
            running.info = json.loads(info_file.read_text())
            return running
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    raise AssertionError(f"local_api did not start:\n{running.output[-3000:]}")


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApiProcess]:
    running = start_local_api(tmp_path_factory.mktemp("local-api"))
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait()
