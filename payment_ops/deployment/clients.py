"""Registered clients of the payment API: one CloudFormation stack each, holding the client's IAM
role (``templates_src/clients.py``), in the primary region.

* add: create ``payment-<suffix>-client-<client_id>``; the role exists when this returns;
* update: new trusted principals or external id; rotating a client's own credentials is an
  update with the old and the new principal, then one with the new only (the overlap window);
* revoke: delete the stack and with it the role. IAM evaluates a role session's permissions on
  every request, so sessions already issued stop working at their next call ("Revoking IAM
  role temporary security credentials", IAM User Guide);
* list: the clients of an environment.

Bad input raises ``DeployError(..., EXIT_USAGE)`` before any AWS call; a failed stack
operation raises ``DeployError`` (exit 1) with CloudFormation's reason.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from templates_src import clients as client_template
from templates_src.build import render
from templates_src.config import Config

from . import names
from .aws import Aws, error_code
from .errors import EXIT_FAILED, EXIT_USAGE, DeployError

CLIENT_ID = re.compile(client_template.CLIENT_ID_PATTERN)
EXTERNAL_ID = re.compile(client_template.EXTERNAL_ID_PATTERN)
# What a role trust policy may name as an AWS principal: an account, a role or a user ("AWS JSON
# policy elements: Principal", IAM User Guide). IAM refuses a principal that does not exist.
PRINCIPAL = re.compile(
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/[\w+=,.@/-]{1,512}|user/[\w+=,.@/-]{1,512})$"
)
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
# "ListStacks"/"DescribeStacks" (CloudFormation API Reference): a stack is settled once its
# status no longer ends in _IN_PROGRESS.
DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
NO_CHANGE = "No updates are to be performed"


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    trusted_principals: tuple[str, ...]
    external_id: str


@dataclass(frozen=True)
class Client:
    client_id: str
    role_arn: str
    trusted_principals: tuple[str, ...]
    status: str


def usage(message: str) -> DeployError:
    return DeployError(message, EXIT_USAGE)


def validate_client_id(client_id: str) -> str:
    if not CLIENT_ID.fullmatch(client_id or ""):
        raise usage(f"invalid client id {client_id!r}: {client_template.CLIENT_ID_RULE}")
    return client_id


def client_spec(client_id: str, principals: Sequence[str], external_id: str) -> ClientSpec:
    """The validated inputs of add and update."""
    validate_client_id(client_id)
    if not principals:
        raise usage("give at least one --trusted-principal ARN")
    for principal in principals:
        if not PRINCIPAL.fullmatch(principal):
            raise usage(
                f"--trusted-principal {principal!r} is not an account, role or user ARN "
                "(arn:<partition>:iam::<account>:root|role/NAME|user/NAME)"
            )
    if len(set(principals)) != len(principals):
        raise usage("a --trusted-principal is given twice")
    if not EXTERNAL_ID.fullmatch(external_id or ""):
        raise usage("--external-id: 2-1224 characters of letters, digits and +=,.@:/-_")
    return ClientSpec(client_id, tuple(principals), external_id)


def stack_name(suffix: str, client_id: str) -> str:
    """The stack is named as its role: ``payment-<suffix>-client-<client_id>``."""
    return names.client_role(suffix, client_id)


class Clients:
    """The clients of one environment, managed through CloudFormation in the primary region."""

    def __init__(
        self,
        aws: Aws,
        config: Config,
        *,
        poll_seconds: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.cfn = aws.client("cloudformation", config.primary_region)
        self.poll_seconds = poll_seconds
        self.sleep = sleep

    def add(self, spec: ClientSpec) -> Client:
        name = self._stack(spec.client_id)
        if self._find(name) is not None:
            raise usage(f"client {spec.client_id} exists (stack {name}); use update")
        self.cfn.create_stack(
            StackName=name,
            TemplateBody=render(client_template.build_client(self.config)),
            Parameters=self._parameters(spec),
            Capabilities=CAPABILITIES,
            Tags=[{"Key": k, "Value": v} for k, v in sorted(self.config.tags.items())],
        )
        stack = self._wait(name)
        if stack["StackStatus"] not in DONE:
            reason = self._failure_reason(name)
            # A stack that rolled back holds the name: remove it so that add can be retried.
            self.cfn.delete_stack(StackName=name)
            self._wait(name)
            raise DeployError(f"client {spec.client_id} not added: {reason}", EXIT_FAILED)
        return _client(stack)

    def update(self, spec: ClientSpec) -> tuple[Client, bool]:
        """The client after the update, and whether anything changed."""
        name = self._stack(spec.client_id)
        current = self._find(name)
        if current is None:
            raise usage(f"no client {spec.client_id} (stack {name}); use add")
        body = render(client_template.build_client(self.config))
        parameters = self._parameters(spec)
        if self._same(name, current, body, parameters):
            return _client(current), False
        try:
            self.cfn.update_stack(
                StackName=name,
                TemplateBody=body,
                Parameters=parameters,
                Capabilities=CAPABILITIES,
            )
        except ClientError as error:
            if error_code(error) == "ValidationError" and NO_CHANGE in str(error):
                return _client(self._find(name)), False
            raise
        stack = self._wait(name)
        if stack["StackStatus"] not in DONE:
            raise DeployError(
                f"client {spec.client_id} not updated ({stack['StackStatus']}): "
                f"{self._failure_reason(name)}",
                EXIT_FAILED,
            )
        return _client(stack), True

    def revoke(self, client_id: str) -> None:
        name = self._stack(client_id)
        if self._find(name) is None:
            raise usage(f"no client {client_id} (stack {name})")
        self.cfn.delete_stack(StackName=name)
        stack = self._wait(name)
        if stack is not None and stack["StackStatus"] != "DELETE_COMPLETE":
            raise DeployError(
                f"client {client_id} not revoked ({stack['StackStatus']}): "
                f"{self._failure_reason(name)}",
                EXIT_FAILED,
            )

    def list(self) -> list[Client]:
        prefix = stack_name(self.config.environment_suffix, "")
        found = []
        for page in self.cfn.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                if stack["StackName"].startswith(prefix) and stack["StackStatus"] != (
                    "DELETE_COMPLETE"
                ):
                    found.append(_client(stack))
        return sorted(found, key=lambda client: client.client_id)

    def _stack(self, client_id: str) -> str:
        return stack_name(self.config.environment_suffix, validate_client_id(client_id))

    def _parameters(self, spec: ClientSpec) -> list[dict[str, str]]:
        values = {
            names.SUFFIX_PARAM: self.config.environment_suffix,
            client_template.CLIENT_ID_PARAM: spec.client_id,
            client_template.TRUSTED_PRINCIPALS_PARAM: ",".join(spec.trusted_principals),
            client_template.EXTERNAL_ID_PARAM: spec.external_id,
        }
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]

    def _same(
        self, name: str, stack: dict[str, Any], body: str, parameters: list[dict[str, str]]
    ) -> bool:
        """Whether the stack already has this template and these parameters (CloudFormation
        would refuse the update as having nothing to do)."""
        given = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
        held = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
        if given != held:
            return False
        deployed = self.cfn.get_template(StackName=name)["TemplateBody"]
        deployed = json.loads(deployed) if isinstance(deployed, str) else deployed
        return deployed == json.loads(body)

    def _find(self, name: str) -> dict[str, Any] | None:
        try:
            (stack,) = self.cfn.describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            if error_code(error) == "ValidationError" and "does not exist" in str(error):
                return None
            raise
        return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack

    def _wait(self, name: str) -> dict[str, Any] | None:
        """The stack once settled; None once deleted."""
        while True:
            stack = self._find(name)
            if stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS"):
                return stack
            self.sleep(self.poll_seconds)

    def _failure_reason(self, name: str) -> str:
        events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        for event in events:
            if event.get("ResourceStatus", "").endswith("_FAILED"):
                return f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
        return "no failed resource reported"


def _client(stack: dict[str, Any]) -> Client:
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    principals = parameters.get(client_template.TRUSTED_PRINCIPALS_PARAM, "")
    return Client(
        client_id=parameters.get(client_template.CLIENT_ID_PARAM, ""),
        role_arn=outputs.get("RoleArn", ""),
        trusted_principals=tuple(p for p in principals.split(",") if p),
        status=stack["StackStatus"],
    )
