"""Reading what the stack instances output: the flat outputs file and the standby health
checks the primary's alarms take."""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from templates_src import config as config_module

from . import names, stacksets
from .aws import AccountUnreachable, Aws

# Never written to the outputs file, whatever a template might one day output.
SECRET_OUTPUT = re.compile(r"(?i)(password|secretvalue|secretstring|apikeyvalue|token)$")


def standby_health_checks(
    aws: Aws,
    cfn: Any,
    config: config_module.Config,
    accounts: tuple[str, ...],
    held: Any,
    out: TextIO = sys.stdout,
) -> dict[str, str]:
    """The health check id of each deployed standby, for the primary's alarms (in us-east-1,
    where Route 53 publishes the metric). One stack set parameter cannot carry a different id
    per account, so with several target accounts the alarms are left out."""
    if len(accounts) != 1:
        return {}
    name = names.stack_set(config.environment_suffix, "standby")
    found = {}
    for region in sorted(held.regions() & set(config.replica_regions)):
        for output in readable_outputs(aws, cfn, name, accounts[0], region, out):
            if output["OutputKey"] == names.HEALTH_CHECK_OUTPUT:
                found[region] = output.get("OutputValue", "")
    return found


def readable_outputs(
    aws: Aws, cfn: Any, name: str, account: str, region: str, out: TextIO
) -> list[dict]:
    """An instance's outputs, or none (and a line saying so) when its account's execution role
    cannot be assumed: never read with the administrator's credentials in another account."""
    try:
        return stacksets.instance_outputs(aws, cfn, name, account, region)
    except AccountUnreachable as error:
        print(f"skipped the outputs of {name} in {account} {region}: {error}", file=out)
        return []


def flat_outputs(
    aws: Aws, cfn: object, config: config_module.Config, account: str, out: TextIO = sys.stdout
) -> dict[str, str]:
    """Output name -> value, primary region first; replica outputs are named ``<region>.<name>``."""
    flat: dict[str, str] = {}
    suffix = config.environment_suffix
    for kind, region in [("primary", config.primary_region)] + [
        (kind, r) for kind in ("replica", "standby") for r in config.replica_regions
    ]:
        for output in readable_outputs(
            aws, cfn, names.stack_set(suffix, kind), account, region, out
        ):
            key = output["OutputKey"]
            value = output.get("OutputValue", "")
            if SECRET_OUTPUT.search(key) or "{{resolve:" in value:
                continue
            flat[key if kind == "primary" else f"{region}.{key}"] = value
    return flat
