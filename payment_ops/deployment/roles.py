"""The StackSet roles of self-managed permissions: one stack per account, created or updated
by ``--bootstrap`` ("Grant self-managed permissions", CloudFormation User Guide)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from templates_src import build as build_module
from templates_src import routing
from templates_src.stackset_roles import (
    ADMINISTRATION_ROLE,
    EXECUTION_ROLE,
    TARGET_ACCOUNTS_PARAM,
)

from . import artifacts, names
from .aws import Aws, error_code
from .errors import EXIT_USAGE, DeployError
from .operations import Waiter

# The roles stack carries the Project tag, created or updated.
STACK_TAGS = [{"Key": names.PROJECT_TAG[0], "Value": names.PROJECT_TAG[1]}]


def role_exists(aws: Aws, region: str, name: str) -> bool:
    try:
        aws.client("iam", region).get_role(RoleName=name)
        return True
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return False
        raise


def roles_parameters(accounts: Sequence[str] | None, domain: Mapping[str, str]) -> dict[str, str]:
    """The roles stack's parameters this run's flags give: ``--accounts`` the accounts the
    administration role may deploy to, ``--domain-name``/``--hosted-zone-id`` the one zone and
    name the execution role may change. A flag not given gives nothing: a new stack takes the
    template's default, an existing one keeps its value (another environment of the account may
    have set it, and the stack is one per account)."""
    given = {TARGET_ACCOUNTS_PARAM: ",".join(accounts)} if accounts else {}
    if domain.get(routing.HOSTED_ZONE_PARAM):
        given[routing.HOSTED_ZONE_PARAM] = domain[routing.HOSTED_ZONE_PARAM]
        given[routing.DOMAIN_PARAM] = domain[routing.DOMAIN_PARAM]
    return given


def _roles_stack(cfn: Any) -> dict | None:
    """The roles stack as DescribeStacks shows it; None when there is none (a ValidationError
    "Stack with id ... does not exist", DescribeStacks in the CloudFormation API Reference)."""
    try:
        return cfn.describe_stacks(StackName=names.ROLES_STACK)["Stacks"][0]
    except Exception as error:
        if error_code(error) == "ValidationError" and "does not exist" in str(error):
            return None
        raise


def _roles_stack_changes(
    cfn: Any, stack: dict, template: dict, given: Mapping[str, str]
) -> list[str]:
    """What the roles stack lacks: ``template`` when its template is not the built one, and the
    name of each given parameter whose value differs. GetTemplate returns the template as
    submitted (Stage Original); boto3 hands a JSON body back already parsed."""
    body = cfn.get_template(StackName=names.ROLES_STACK)["TemplateBody"]
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = None  # YAML or another text: not the built template
    current = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    changes = ["template"] if body != template else []
    return changes + sorted(key for key, value in given.items() if current.get(key) != value)


def ensure_roles(
    aws: Aws,
    build: artifacts.Build,
    region: str,
    bootstrap: bool,
    waiter: Waiter,
    out: TextIO,
    given: Mapping[str, str] | None = None,
) -> None:
    """Self-managed StackSets need both roles. ``--bootstrap`` creates the roles stack when it
    is missing and updates it when its template or a given parameter (``roles_parameters``)
    differs from this build; without it, missing roles stop the run with the fix, and an
    out-of-date roles stack is only reported (an execution role older than the templates fails
    their stack operations with access denied)."""
    path = build.path(build_module.STACKSET_ROLES)
    missing = _missing_roles(aws, region, bootstrap, path)
    cfn = aws.client("cloudformation", region)
    body = path.read_text()
    template = json.loads(body)
    # Only parameters this build declares: CloudFormation refuses any other.
    given = {k: v for k, v in (given or {}).items() if k in template.get("Parameters", {})}
    stack = _roles_stack(cfn)
    if stack is None:
        if missing:
            _create_roles_stack(cfn, region, body, given, waiter, out)
        elif bootstrap:
            print(
                f"note: the StackSet roles exist but not as stack {names.ROLES_STACK} in "
                f"{region}; left as they are",
                file=out,
            )
        return
    status = stack["StackStatus"]
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        # A stack whose create failed can only be deleted ("Stack status codes", CloudFormation
        # User Guide: ROLLBACK_COMPLETE "can only be deleted").
        if bootstrap:
            raise DeployError(
                f"{names.ROLES_STACK} in {region}: {status}: its create failed; delete the "
                "stack, then run with --bootstrap again",
                EXIT_USAGE,
            )
        return
    if status.endswith("_IN_PROGRESS"):
        # Another run's create or update: its outcome is what is compared.
        stack = _wait_for_roles_stack(cfn, region, waiter, out)
    _update_if_out_of_date(cfn, region, body, template, stack, given, bootstrap, waiter, out)


def _missing_roles(aws: Aws, region: str, bootstrap: bool, path: Path) -> list[str]:
    """The StackSet roles the account lacks; without ``bootstrap``, any is an error with the fix
    (``path``: the roles template)."""
    missing = [
        name for name in (ADMINISTRATION_ROLE, EXECUTION_ROLE) if not role_exists(aws, region, name)
    ]
    if missing and not bootstrap:
        raise DeployError(
            f"missing StackSet role(s): {', '.join(missing)}. Create them once per account with "
            f"`python scripts/deploy.py ... --bootstrap`, or: aws cloudformation deploy "
            f"--region {region} --stack-name {names.ROLES_STACK} --template-file {path} "
            "--capabilities CAPABILITY_NAMED_IAM (in each target account, with "
            "--parameter-overrides AdministratorAccountId=<administrator account>)",
            EXIT_USAGE,
        )
    return missing


def _update_if_out_of_date(
    cfn: Any,
    region: str,
    body: str,
    template: dict,
    stack: dict,
    given: Mapping[str, str],
    bootstrap: bool,
    waiter: Waiter,
    out: TextIO,
) -> None:
    """Compare the roles stack with this build: with ``bootstrap`` update what differs, without
    it only report it."""
    changes = _roles_stack_changes(cfn, stack, template, given)
    if not changes:
        return
    if not bootstrap:
        print(
            f"note: the StackSet roles stack {names.ROLES_STACK} in {region} is out of date "
            f"({', '.join(changes)}); --bootstrap updates it",
            file=out,
        )
        return
    print(
        f"updating StackSet roles: stack {names.ROLES_STACK} in {region} ({', '.join(changes)})",
        file=out,
        flush=True,
    )
    _update_roles_stack(cfn, region, body, template, stack, given, waiter, out)


def _create_roles_stack(
    cfn: Any, region: str, body: str, given: Mapping[str, str], waiter: Waiter, out: TextIO
) -> None:
    """The roles stack, with the given parameters; the others take the template's defaults."""
    print(f"creating StackSet roles: stack {names.ROLES_STACK} in {region}", file=out, flush=True)
    try:
        cfn.create_stack(
            StackName=names.ROLES_STACK,
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()],
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Tags=STACK_TAGS,
        )
    except Exception as error:
        if error_code(error) != "AlreadyExistsException":
            raise
    _wait_for_roles_stack(cfn, region, waiter, out)


def _update_roles_stack(
    cfn: Any,
    region: str,
    body: str,
    template: dict,
    stack: dict,
    given: Mapping[str, str],
    waiter: Waiter,
    out: TextIO,
) -> None:
    """UpdateStack to this build, given parameters set and the stack's other values kept."""
    held = {p["ParameterKey"] for p in stack.get("Parameters", [])}
    # A parameter left out of UpdateStack takes the template's default, not the stack's value
    # ("Parameter", CloudFormation API Reference: UsePreviousValue).
    kept = [
        {"ParameterKey": k, "UsePreviousValue": True}
        for k in template.get("Parameters", {})
        if k in held and k not in given
    ]
    try:
        cfn.update_stack(
            StackName=names.ROLES_STACK,
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()] + kept,
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Tags=STACK_TAGS,
        )
    except Exception as error:
        # Nothing to change after all (another run updated it since the comparison):
        # CloudFormation refuses such an update with a ValidationError saying "No updates
        # are to be performed."; the stack is as this build wants it.
        if error_code(error) == "ValidationError" and "No updates are to be performed" in str(
            error
        ):
            return
        raise
    _wait_for_roles_stack(cfn, region, waiter, out)


def _wait_for_roles_stack(cfn: Any, region: str, waiter: Waiter, out: TextIO) -> dict:
    """Poll the roles stack until its create or update has ended; a rollback is a failure."""
    started = waiter.clock()
    while True:
        stack = cfn.describe_stacks(StackName=names.ROLES_STACK)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return stack
        if status.endswith("FAILED") or "ROLLBACK" in status:
            raise DeployError(
                f"{names.ROLES_STACK} in {region}: {status}: {stack.get('StackStatusReason', '')}"
            )
        if waiter.clock() - started > waiter.timeout_s:
            raise DeployError(
                f"{names.ROLES_STACK} in {region}: still {status} after {waiter.timeout_s:.0f} s"
            )
        print(
            f"  {names.ROLES_STACK}: {status} [{waiter.clock() - started:5.0f} s]",
            file=out,
            flush=True,
        )
        waiter.sleep(waiter.poll_s)
