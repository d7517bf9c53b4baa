"""What the target account must allow, checked before deploy creates anything.

Reserved concurrency: Lambda keeps at least 100 concurrent executions of each account and
region unreserved, so a function can reserve at most the account's unreserved concurrency
minus 100 ("Configuring reserved concurrency for a function",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html), and the account's
concurrency quota (1,000 by default) may be far lower in a new account ("Lambda quotas",
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). A reservation the
account cannot give fails the stack in that region after the regions before it deployed, so it
is checked here, from ``lambda:GetAccountSettings``, before the first change.
"""

from __future__ import annotations

from typing import Any, TextIO

from templates_src.config import Config

from . import names
from .aws import error_code
from .errors import EXIT_USAGE, DeployError

# Lambda's floor of unreserved concurrency per account and region (the pages above).
MIN_UNRESERVED = 100


def wanted_reservations(config: Config) -> dict[str, int]:
    """Function name -> the reservation the configuration asks for (in every region)."""
    suffix = config.environment_suffix
    wanted = {
        names.resource(suffix, names.PROCESSOR_FUNCTION): (config.processor_reserved_concurrency),
        names.resource(suffix, names.AUDIT_WRITER_FUNCTION): (
            config.audit_writer_reserved_concurrency
        ),
    }
    return {name: value for name, value in wanted.items() if value is not None}


def _held(client: Any, function_name: str) -> int:
    """What the function reserves now (0: none, or no such function yet); redeploying it gives
    that back before taking the new reservation."""
    try:
        response = client.get_function_concurrency(FunctionName=function_name)
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return 0
        raise
    return int(response.get("ReservedConcurrentExecutions") or 0)


def reserved_concurrency(
    aws: Any, config: Config, accounts: tuple[str, ...], caller: str, out: TextIO
) -> None:
    """DeployError (exit 2, nothing changed) when the reservations asked for would leave fewer
    than 100 unreserved concurrent executions in a region of the caller's account. Makes no
    call when nothing is reserved (the default)."""
    wanted = wanted_reservations(config)
    if not wanted:
        return
    if caller not in accounts:
        print(
            f"note: reserved concurrency not checked: the credentials are account {caller}'s, "
            f"the targets {', '.join(accounts)}",
            file=out,
        )
        return
    asked = sum(wanted.values())
    short = []
    for region in config.regions:
        client = aws.client("lambda", region)
        limit = client.get_account_settings()["AccountLimit"]
        quota = int(limit["ConcurrentExecutions"])
        unreserved = int(limit["UnreservedConcurrentExecutions"])
        held = sum(_held(client, name) for name in wanted)
        left = unreserved + held - asked
        if left < MIN_UNRESERVED:
            short.append(
                f"{region}: reserving {asked} would leave {left} of the account's {quota} "
                f"concurrent executions unreserved ({unreserved} unreserved now, {held} of them "
                f"held by this deployment's functions)"
            )
    if short:
        raise DeployError(
            f"reserved concurrency: Lambda keeps at least {MIN_UNRESERVED} unreserved per "
            f"account and region; {'; '.join(short)}. Nothing changed: reserve less "
            "(--processor-reserved-concurrency, --audit-writer-reserved-concurrency), none, or "
            "ask for a higher concurrency quota (Service Quotas, AWS Lambda)",
            EXIT_USAGE,
        )
    others = [a for a in accounts if a != caller]
    if others:
        print(
            f"note: reserved concurrency checked in account {caller} only, not in "
            f"{', '.join(others)}",
            file=out,
        )
