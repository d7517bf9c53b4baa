"""Deploy the payment system with CloudFormation StackSets: ``run(DeployRequest) -> Deployed``,
and ``plan(DeployRequest) -> Planned`` for what a deploy would change.

Builds (or reuses an up-to-date build folder), shows the plan (a stateful resource replaced or
deleted stops the run unless ``allow_replacement``), uploads the handler zip to one artifact
bucket per target region, creates or updates the replica stack set and waits, then the primary
stack set, then the standby stack set (the payment service in the replica regions), then hands
the standby health checks to the primary's alarms, then writes the flat outputs file. A run
with nothing changed starts no stack set operation. Errors are ``DeployError`` (or the
configuration's ``ConfigError``); ``payment_ops.commands.exits`` turns them into exit codes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from templates_src import build as build_module
from templates_src import config as config_module
from templates_src.stackset_roles import ADMINISTRATION_ROLE, EXECUTION_ROLE

from . import (
    arguments,
    artifacts,
    names,
    outputs,
    preflight,
    refusals,
    regions_enabled,
    roles,
    specs,
    stacksets,
)
from . import lock as lock_module
from . import plan as plan_module
from .aws import Aws, error_code
from .errors import EXIT_USAGE, DeployError
from .operations import Waiter

ACCOUNT_PATTERN = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class DeployRequest:
    """One deploy or plan, as the command line (or a caller such as the local API) asks for it.

    ``domain`` holds the custom-domain parameters (empty: no domain, see ``domain_parameters``
    in ``payment_ops.commands.deploy``); ``accounts`` the target accounts (empty: the caller's,
    from STS)."""

    config: config_module.Config
    build_dir: Path
    outputs_file: Path
    domain: Mapping[str, str] = field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    endpoint_url: str | None = None
    bootstrap: bool = False
    remove_unconfigured_regions: bool = False
    allow_replacement: bool = False
    # ``--no-alarm-subscriber``: deploy without ``alarm_email`` on purpose (else refused).
    no_alarm_subscriber: bool = False
    timeout_s: float = 3600.0
    poll_s: float = 10.0

    def __post_init__(self) -> None:
        bad = [a for a in self.accounts if not ACCOUNT_PATTERN.match(a)]
        if bad:
            raise DeployError(
                f"--accounts: not a 12-digit account id: {', '.join(bad)}", EXIT_USAGE
            )


@dataclass(frozen=True)
class Deployed:
    """What a deploy made: what the console prints at its end, and the flat outputs it wrote."""

    stack_sets: tuple[str, ...]  # replica, primary, standby: the order deploy acts in
    primary_region: str
    regions: tuple[str, ...]
    api_url: str
    table: str
    outputs: dict[str, str]
    outputs_file: Path
    aws: Aws  # its counters: API calls and stack set operations of this run

    def summary(self) -> str:
        """The ``deployed:`` line: where the API is and what the run cost."""
        return (
            f"deployed: API {self.api_url}, table {self.table}, regions "
            f"{', '.join(self.regions)} (primary {self.primary_region}); "
            f"{self.aws.operations} stack set operation(s), {self.aws.api_calls} AWS API call(s)"
        )


@dataclass(frozen=True)
class Planned:
    plans: list[plan_module.StackSetPlan]
    aws: Aws  # its counters: a plan makes read calls only


@dataclass(frozen=True)
class _Prepared:
    """What both a plan and a deploy work out before deciding anything."""

    config: config_module.Config
    aws: Aws
    accounts: tuple[str, ...]
    administrator: str
    build: artifacts.Build
    cfn: Any
    current: dict[str, stacksets.Held]
    unconfigured: dict[str, list[str]]
    inputs: specs.Inputs
    plans: list[plan_module.StackSetPlan]


def target_accounts(aws: Aws, given: tuple[str, ...], region: str) -> tuple[str, ...]:
    """The given account ids; none given: the caller's account."""
    return given or (aws.caller_account(region),)


def allow_replica_removal(aws: Aws, suffix: str, region: str, out: TextIO) -> None:
    """Asked for explicitly: the replica in ``region`` is about to leave the global table,
    which deletion protection would refuse. The other regions keep every item."""
    ddb = aws.client("dynamodb", region)
    try:
        table = ddb.describe_table(TableName=names.table(suffix))["Table"]
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return
        raise
    if table.get("DeletionProtectionEnabled"):
        print(f"turning off deletion protection of the table replica in {region}", file=out)
        ddb.update_table(TableName=names.table(suffix), DeletionProtectionEnabled=False)


def upload_artifacts(
    aws: Aws,
    config: config_module.Config,
    build: artifacts.Build,
    accounts: tuple[str, ...],
    administrator: str,
    out: TextIO,
) -> dict[str, str]:
    """The artifact bucket of every region, with the handler zip in it; region -> bucket."""
    readers = [a for a in accounts if a != administrator]
    zip_bytes = build.path(build_module.HANDLER_ZIP).read_bytes()
    code_key = build.manifest["handler_code_key"]
    buckets: dict[str, str] = {}
    for region in config.regions:
        buckets[region] = artifacts.ensure_bucket(
            aws, config.environment_suffix, administrator, region, readers
        )
        if artifacts.upload_once(aws, region, buckets[region], code_key, zip_bytes):
            print(f"uploaded {code_key} to {buckets[region]}", file=out)
    return buckets


def show_plan(
    wanted: Sequence[stacksets.StackSetSpec],
    current: dict[str, stacksets.Held],
    unconfigured: dict[str, list[str]],
    remove_unconfigured: bool,
    out: TextIO,
    color: bool,
) -> list[plan_module.StackSetPlan]:
    """Print what deploy would change, replica stack set first (the order deploy acts in)."""
    plans = [
        plan_module.plan_stack_set(
            spec, current[spec.name], unconfigured.get(spec.name, []), remove_unconfigured
        )
        for spec in wanted
    ]
    out.write(plan_module.render(plans, color=color))
    out.flush()
    return plans


def use_color(out: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Red only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and not environ.get("NO_COLOR")


def _prepare(
    request: DeployRequest, out: TextIO, *, remove_unconfigured: bool, planning: bool
) -> _Prepared:
    """Account, build and what each stack set holds now; prints the plan."""
    config = request.config
    if not planning:
        # Alarms must reach someone (PCI DSS 10.7.2): refused before anything is built or read.
        config_module.require_alarm_subscriber(config, opted_out=request.no_alarm_subscriber)
        # Before anything changes: a run must not fail after every change for want of a file.
        arguments.check_writable_file(request.outputs_file, "--outputs")
    aws = Aws(request.endpoint_url)
    admin_region = config.primary_region
    accounts = target_accounts(aws, request.accounts, admin_region)
    build = artifacts.ensure_build(config, request.build_dir, out)
    cfn = aws.client("cloudformation", admin_region)
    current, unconfigured = refusals.unconfigured_regions(cfn, config, remove_unconfigured)
    administrator = aws.caller_account(admin_region)
    # Before anything else reads or changes a region: an opt-in region not enabled fails late.
    # (EC2's view of the caller's account, as discovery reads the enabled regions too.)
    regions_enabled.require_enabled(
        config.regions, None, aws.client("ec2", admin_region), administrator
    )
    refusals.refuse_other_layout(aws, config, current)
    refusals.refuse_retained_data(aws, config, administrator, current)
    refusals.refuse_missing_truststore(aws, config, administrator, dict(request.domain))
    standby_set = names.stack_set(config.environment_suffix, "standby")
    inputs = specs.Inputs(
        dict(request.domain),
        outputs.standby_health_checks(aws, cfn, config, accounts, current[standby_set], out),
    )
    # StackSets have no change sets: the plan is how a reader sees what will change.
    plans = show_plan(
        specs.planned_specs(config, build, accounts, administrator, inputs),
        current,
        unconfigured,
        request.remove_unconfigured_regions,
        out,
        use_color(out),
    )
    return _Prepared(
        config=config,
        aws=aws,
        accounts=accounts,
        administrator=administrator,
        build=build,
        cfn=cfn,
        current=current,
        unconfigured=unconfigured,
        inputs=inputs,
        plans=plans,
    )


def plan(request: DeployRequest, out: TextIO) -> Planned:
    """What a deploy of ``request`` would change; nothing is changed.

    The build folder is refreshed when stale, as deploy would; in AWS only reads are made."""
    # Regions no longer configured are shown as removals instead of stopping the plan.
    prepared = _prepare(request, out, remove_unconfigured=True, planning=True)
    aws, admin_region = prepared.aws, prepared.config.primary_region
    missing_roles = [
        name
        for name in (ADMINISTRATION_ROLE, EXECUTION_ROLE)
        if not roles.role_exists(aws, admin_region, name)
    ]
    if missing_roles:
        print(
            f"note: StackSet role(s) missing: {', '.join(missing_roles)}; deploy needs --bootstrap",
            file=out,
        )
    unsafe = plan_module.unsafe_summary(prepared.plans)
    if unsafe:
        print(f"note: deploy refuses this without --allow-replacement: {unsafe}", file=out)
    print(plan_module.alarm_subscriber_note(prepared.config, request.no_alarm_subscriber), file=out)
    print("plan only: nothing was changed", file=out)
    return Planned(prepared.plans, aws)


def apply_account_baseline(
    cfn: Any,
    waiter: Waiter,
    config: config_module.Config,
    build: artifacts.Build,
    accounts: tuple[str, ...],
    out: TextIO,
) -> None:
    """Before any service template: a stage with execution logging fails until the account
    and region name a CloudWatch role. Adds only what is missing; instances of regions other
    environments use are left as they are."""
    spec = specs.account_baseline_spec(config, build, accounts)
    stacksets.sync(cfn, waiter, spec, stacksets.held(cfn, spec.name), out)


def take_lock(prepared: _Prepared, out: TextIO) -> lock_module.Lock:
    """The deployment's lock, in the primary region's artifact bucket (created here on a first
    deploy: the first change a deploy makes)."""
    config, aws = prepared.config, prepared.aws
    region = config.primary_region
    readers = [a for a in prepared.accounts if a != prepared.administrator]
    bucket = artifacts.ensure_bucket(
        aws, config.environment_suffix, prepared.administrator, region, readers
    )
    lock = lock_module.Lock(aws, region, bucket, "deploy.py", out=out)
    lock.acquire()
    return lock


def run(request: DeployRequest, out: TextIO) -> Deployed:
    """The whole deployment; returns what it deployed, the outputs it wrote and its counters."""
    remove = request.remove_unconfigured_regions
    prepared = _prepare(request, out, remove_unconfigured=remove, planning=False)
    config, aws, cfn = prepared.config, prepared.aws, prepared.cfn
    # Stop here, before anything changes, if the plan puts data at risk.
    waiter = Waiter(cfn, timeout_s=request.timeout_s, poll_s=request.poll_s, out=out)
    refusals.refuse_unsafe(prepared.plans, request.allow_replacement)
    preflight.reserved_concurrency(aws, config, prepared.accounts, prepared.administrator, out)
    roles.ensure_roles(
        aws,
        prepared.build,
        config.primary_region,
        request.bootstrap,
        waiter,
        out,
        roles.roles_parameters(request.accounts or None, prepared.inputs.domain),
    )
    lock = take_lock(prepared, out)
    try:
        # An operation of an earlier, interrupted run may still be running, and another run may
        # have acted between the plan above and the lock: after either, plan again.
        waiter.sleep = lock.sleeping(waiter.sleep)
        waited = [
            waiter.wait_for_running(name)
            for name, held in prepared.current.items()
            if held.stack_set is not None
        ]
        if any(waited) or any(
            stacksets.held(cfn, name) != held for name, held in prepared.current.items()
        ):
            print("the deployment changed while this run planned; planning again", file=out)
            prepared = _prepare(request, out, remove_unconfigured=remove, planning=False)
            refusals.refuse_unsafe(prepared.plans, request.allow_replacement)
        return _deploy_planned(request, prepared, waiter, out)
    finally:
        lock.release()


def _deploy_planned(
    request: DeployRequest, prepared: _Prepared, waiter: Waiter, out: TextIO
) -> Deployed:
    """What the plan says, under the lock. One sequence kept whole: its order is the point
    (replicas before the primary, the standby after the replicas it reads, removals the
    other way round)."""
    config, aws, cfn = prepared.config, prepared.aws, prepared.cfn
    accounts, administrator = prepared.accounts, prepared.administrator
    build, current, unconfigured = prepared.build, prepared.current, prepared.unconfigured
    inputs = prepared.inputs
    apply_account_baseline(cfn, waiter, config, build, accounts, out)
    buckets = upload_artifacts(aws, config, build, accounts, administrator, out)
    wanted = specs.stack_set_specs(aws, config, build, accounts, administrator, buckets, inputs)
    replica, primary, standby = wanted.replica, wanted.primary, wanted.standby

    # Replicas first: the primary's global table needs each replica region's KMS key.
    stacksets.sync(cfn, waiter, replica, current[replica.name], out)
    # A region leaving: its standby stops reading the table replica before the replica goes.
    _remove_unconfigured(cfn, waiter, standby, current, unconfigured, out)
    for region in unconfigured[replica.name]:
        allow_replica_removal(aws, config.environment_suffix, region, out)
    # The standby needs the table replica the primary just made: the primary's stack set
    # operation has succeeded when sync_in_steps returns.
    stacksets.sync_in_steps(aws, cfn, waiter, primary, current[primary.name], out)
    standby_changed = stacksets.sync(cfn, waiter, standby, current[standby.name], out)
    # Unchanged standby instances keep the health checks _prepare already read.
    health_checks = inputs.health_checks
    if standby_changed:
        health_checks = outputs.standby_health_checks(
            aws, cfn, config, accounts, stacksets.held(cfn, standby.name), out
        )
    if health_checks != inputs.health_checks:
        print("handing the standby health checks to the primary's alarms", file=out)
        handed = replace(inputs, health_checks=health_checks)
        primary = specs.stack_set_specs(
            aws, config, build, accounts, administrator, buckets, handed
        ).primary
        stacksets.sync(cfn, waiter, primary, stacksets.held(cfn, primary.name), out)
    # Removal runs the other way round: the primary stops using a region, then it goes.
    for spec in (primary, replica):
        _remove_unconfigured(cfn, waiter, spec, current, unconfigured, out)
    return _write_outputs(request, prepared, (replica.name, primary.name, standby.name), out)


def _write_outputs(
    request: DeployRequest, prepared: _Prepared, stack_sets: tuple[str, ...], out: TextIO
) -> Deployed:
    """The flat outputs file, and what the run deployed."""
    config, aws = prepared.config, prepared.aws
    flat = outputs.flat_outputs(aws, prepared.cfn, config, prepared.accounts[0], out)
    path = request.outputs_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(flat, indent=2) + "\n")
    print(f"wrote {path} ({len(flat)} values)", file=out)
    deployed = Deployed(
        stack_sets=stack_sets,
        primary_region=config.primary_region,
        regions=config.regions,
        api_url=flat.get(names.CUSTOM_DOMAIN_URL_OUTPUT) or flat.get(names.API_URL_OUTPUT, "?"),
        table=flat.get(names.TABLE_OUTPUT, names.table(config.environment_suffix)),
        outputs=flat,
        outputs_file=path,
        aws=aws,
    )
    print(deployed.summary(), file=out)
    return deployed


def _remove_unconfigured(
    cfn: Any,
    waiter: Waiter,
    spec: stacksets.StackSetSpec,
    current: dict,
    unconfigured: dict,
    out: TextIO,
) -> None:
    if unconfigured[spec.name]:
        stacksets.remove_instances(
            cfn, waiter, spec.name, current[spec.name], unconfigured[spec.name], out
        )
