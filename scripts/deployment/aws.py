"""AWS clients for one run: one session, an optional endpoint (the emulator), call counting."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import boto3
from botocore.config import Config

from .arguments import endpoint_problem
from .errors import EXIT_USAGE, DeployError

# Calls that start a stack set operation (each returns an OperationId).
OPERATION_CALLS = frozenset(
    {
        "cloudformation:CreateStackInstances",
        "cloudformation:UpdateStackSet",
        "cloudformation:UpdateStackInstances",
        "cloudformation:DeleteStackInstances",
    }
)


class Aws:
    """Creates clients on demand, per service and region, and counts every API call made."""

    def __init__(self, endpoint_url: str | None = None) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        problem = self.endpoint_url and endpoint_problem(self.endpoint_url)
        if problem:
            flag = "--endpoint-url" if endpoint_url else "AWS_ENDPOINT_URL"
            raise DeployError(f"{flag}: {problem}", EXIT_USAGE)
        self.session = boto3.session.Session()
        if self.endpoint_url and self.session.get_credentials() is None:
            # An emulator accepts any credentials; real AWS never gets here without an endpoint.
            self.session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing"
            )
        self.calls: Counter[str] = Counter()
        self.session.events.register("before-call.*.*", self._count)
        self._clients: dict[tuple[str, str], Any] = {}
        self._config = Config(retries={"max_attempts": 8, "mode": "standard"})

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=self._config
            )
        return self._clients[key]

    @property
    def api_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def operations(self) -> int:
        return sum(n for name, n in self.calls.items() if name in OPERATION_CALLS)


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code", "")
