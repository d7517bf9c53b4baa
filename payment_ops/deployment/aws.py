"""AWS clients for one run: one session, an optional endpoint (the emulator), call counting."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from templates_src.stackset_roles import EXECUTION_ROLE

from . import partition
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


class AccountUnreachable(DeployError):
    """No credentials for a target account other than the caller's (its role cannot be
    assumed): what needed them is skipped, and said so."""


class Aws:
    """Creates clients on demand, per service and region, and counts every API call made."""

    def __init__(
        self, endpoint_url: str | None = None, session: boto3.session.Session | None = None
    ) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        problem = self.endpoint_url and endpoint_problem(self.endpoint_url)
        if problem:
            flag = "--endpoint-url" if endpoint_url else "AWS_ENDPOINT_URL"
            raise DeployError(f"{flag}: {problem}", EXIT_USAGE)
        self.session = session or boto3.session.Session()
        if self.endpoint_url and self.session.get_credentials() is None:
            # An emulator accepts any credentials; real AWS never gets here without an endpoint.
            self.session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing"
            )
        self.calls: Counter[str] = Counter()
        self.session.events.register("before-call.*.*", self._count)
        self._clients: dict[tuple[str, str], Any] = {}
        self._config = Config(retries={"max_attempts": 8, "mode": "standard"})
        self._account: str | None = None
        self._in_accounts: dict[str, Aws | AccountUnreachable] = {}

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=self._config
            )
        return self._clients[key]

    def caller_account(self, region: str) -> str:
        """The account of this run's credentials (STS, asked once)."""
        if self._account is None:
            self._account = self.client("sts", region).get_caller_identity()["Account"]
        return self._account

    def in_account(self, account: str, region: str) -> Aws:
        """Clients that act in ``account``: these credentials in the caller's own account;
        in another target account, the StackSet execution role there (the roles template
        names it), assumed for 15 minutes. AccountUnreachable when it cannot be assumed.

        Source: "Grant self-managed permissions" (CloudFormation User Guide: the execution
        role in each target account) and "AssumeRole" (STS API Reference)."""
        if account == self.caller_account(region):
            return self
        if account not in self._in_accounts:
            self._in_accounts[account] = self._assume(account, region)
        found = self._in_accounts[account]
        if isinstance(found, AccountUnreachable):  # asked once per run, said every time
            raise found
        return found

    def _assume(self, account: str, region: str) -> Aws | AccountUnreachable:
        role = partition.arn(
            region, "iam", f"role/{EXECUTION_ROLE}", account=account, in_region=False
        )
        try:
            credentials = self.client("sts", region).assume_role(
                RoleArn=role, RoleSessionName="payment-deploy-outputs", DurationSeconds=900
            )["Credentials"]
        except ClientError as error:
            return AccountUnreachable(
                f"cannot assume {role}: {error_code(error)}: "
                f"{error.response.get('Error', {}).get('Message', '')}"
            )
        other = Aws(
            self.endpoint_url,
            boto3.session.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            ),
        )
        other.calls = self.calls  # one run, one count
        other._account = account
        return other

    @property
    def api_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def operations(self) -> int:
        return sum(n for name, n in self.calls.items() if name in OPERATION_CALLS)


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code", "")
