"""``python scripts/deploy.py``: deploy the payment system with CloudFormation StackSets.

Builds (or reuses an up-to-date ``build/``), shows the plan (what changes per stack set; a
stateful resource replaced or deleted stops the run unless ``--allow-replacement``), uploads
the handler zip to one artifact bucket per target region, creates or updates the replica stack
set and waits, then the primary stack set, then the standby stack set (the payment service in
the replica regions), then hands the standby health checks to the primary's alarms, then writes
``cfn-outputs/flat-outputs.json``. ``--domain-name`` with ``--hosted-zone-id`` puts the API
behind a custom domain with Route 53 failover from the primary to the first replica region.
A run with nothing changed starts no stack set operation.
``--plan`` prints the plan and changes nothing. Exit 0 on success, 1 when an operation fails
(the failing regions and their reasons are printed), 2 on bad arguments, a missing
prerequisite or a refused replacement (nothing changed)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.deployment import (  # noqa: E402
    arguments,
    artifacts,
    discovery,
    names,
    preflight,
    regions_enabled,
    retained,
    stacksets,
)
from scripts.deployment import lock as lock_module  # noqa: E402
from scripts.deployment import plan as plan_module  # noqa: E402
from scripts.deployment.aws import AccountUnreachable, Aws, error_code  # noqa: E402
from scripts.deployment.errors import (  # noqa: E402
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    DeployError,
)
from scripts.deployment.operations import Waiter  # noqa: E402
from templates_src import build as build_module  # noqa: E402
from templates_src import config as config_module  # noqa: E402
from templates_src import regions as regions_module  # noqa: E402
from templates_src import routing  # noqa: E402
from templates_src.cli import (  # noqa: E402
    OneLineParser,
    add_concurrency_arguments,
    add_config_arguments,
    config_from,
)
from templates_src.stackset_roles import (  # noqa: E402
    ADMINISTRATION_ROLE,
    EXECUTION_ROLE,
    TARGET_ACCOUNTS_PARAM,
)

OUTPUTS_FILE = Path("cfn-outputs") / "flat-outputs.json"
# Never written to the outputs file, whatever a template might one day output.
SECRET_OUTPUT = re.compile(r"(?i)(password|secretvalue|secretstring|apikeyvalue|token)$")
ACCOUNT_PATTERN = re.compile(r"^\d{12}$")


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python scripts/deploy.py", description=__doc__.split("\n")[0])
    add_config_arguments(p)
    p.add_argument("--alarm-email", help="subscribed to the alarm topics (optional)")
    add_concurrency_arguments(p)
    p.add_argument(
        "--domain-name",
        help="custom domain of the API, e.g. pay.example.com: Route 53 failover from the "
        "primary to the first replica region (needs --hosted-zone-id)",
    )
    p.add_argument("--hosted-zone-id", help="public Route 53 hosted zone that holds --domain-name")
    p.add_argument(
        "--accounts", help="comma-separated target account ids (default: the caller's, from STS)"
    )
    p.add_argument(
        "--endpoint-url",
        type=arguments.endpoint_url,
        help="send every AWS call here, e.g. the local emulator (or AWS_ENDPOINT_URL)",
    )
    p.add_argument(
        "--build-dir", type=Path, default=ROOT / "build", help="build folder (default build/)"
    )
    p.add_argument(
        "--outputs", type=Path, default=None, help=f"outputs file (default {OUTPUTS_FILE})"
    )
    p.add_argument(
        "--bootstrap",
        action="store_true",
        help=f"create the StackSet roles (stack {names.ROLES_STACK}) if they are missing, "
        "or update that stack to this build",
    )
    p.add_argument(
        "--remove-unconfigured-regions",
        action="store_true",
        help="delete stack instances (and the table replica) in regions no longer configured",
    )
    p.add_argument(
        "--plan",
        action="store_true",
        help="print what a deploy would change, per stack set, and change nothing",
    )
    p.add_argument(
        "--allow-replacement",
        action="store_true",
        help="go ahead even when the plan replaces or deletes a stateful resource "
        "(table, bucket, KMS key)",
    )
    p.add_argument(
        "--timeout",
        type=arguments.seconds,
        default=3600.0,
        help="seconds to wait per operation (default 3600)",
    )
    p.add_argument(
        "--poll",
        type=arguments.seconds,
        default=10.0,
        help="seconds between status polls (default 10)",
    )
    return p


def _domain(args: argparse.Namespace) -> dict[str, str]:
    """The custom-domain parameters of the primary and standby stack sets (empty: no domain)."""
    domain = (args.domain_name or "").strip().lower().rstrip(".")
    # As the Route 53 API prints it (/hostedzone/Z...) or as the console shows it (Z...).
    zone = (args.hosted_zone_id or "").strip().removeprefix("/hostedzone/")
    if bool(domain) != bool(zone):
        raise DeployError(
            "--domain-name and --hosted-zone-id go together: give both for failover routing, "
            "or neither",
            EXIT_USAGE,
        )
    if not re.match(routing.DOMAIN_PATTERN, domain):
        raise DeployError(f"--domain-name {domain!r} is not a DNS name", EXIT_USAGE)
    if not re.match(routing.HOSTED_ZONE_PATTERN, zone):
        raise DeployError(f"--hosted-zone-id {zone!r} is not a hosted zone id", EXIT_USAGE)
    return {routing.HOSTED_ZONE_PARAM: zone, routing.DOMAIN_PARAM: domain}


def _accounts(aws: Aws, value: str | None, region: str) -> tuple[str, ...]:
    if value:
        accounts = tuple(a.strip() for a in value.split(",") if a.strip())
        bad = [a for a in accounts if not ACCOUNT_PATTERN.match(a)]
        if bad or not accounts:
            raise DeployError(
                f"--accounts: not a 12-digit account id: {', '.join(bad) or value!r}", EXIT_USAGE
            )
        return accounts
    return (aws.caller_account(region),)


def _role_exists(aws: Aws, region: str, name: str) -> bool:
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
    missing = [
        name
        for name in (ADMINISTRATION_ROLE, EXECUTION_ROLE)
        if not _role_exists(aws, region, name)
    ]
    path = build.path(build_module.STACKSET_ROLES)
    if missing and not bootstrap:
        raise DeployError(
            f"missing StackSet role(s): {', '.join(missing)}. Create them once per account with "
            f"`python scripts/deploy.py ... --bootstrap`, or: aws cloudformation deploy "
            f"--region {region} --stack-name {names.ROLES_STACK} --template-file {path} "
            "--capabilities CAPABILITY_NAMED_IAM (in each target account, with "
            "--parameter-overrides AdministratorAccountId=<administrator account>)",
            EXIT_USAGE,
        )
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
            Tags=[{"Key": "Project", "Value": names.PROJECT_TAG[1]}],
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
            Tags=[{"Key": "Project", "Value": names.PROJECT_TAG[1]}],
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


@dataclass(frozen=True)
class Deployed:
    outputs: dict[str, str]
    aws: Aws  # its counters: API calls and stack set operations of this run


def unconfigured_regions(
    cfn: object, config: config_module.Config, remove: bool
) -> tuple[dict[str, stacksets.Held], dict[str, list[str]]]:
    """What each stack set holds, and its regions the configuration no longer lists; without
    ``remove`` such regions stop the run before anything changes."""
    current, unconfigured = {}, {}
    for kind in names.DEPLOY_ORDER:
        regions = (config.primary_region,) if kind == "primary" else config.replica_regions
        name = names.stack_set(config.environment_suffix, kind)
        current[name] = stacksets.held(cfn, name)
        unconfigured[name] = sorted(current[name].regions() - set(regions))
    stale = sorted({r for regions in unconfigured.values() for r in regions})
    if stale and not remove:
        raise DeployError(
            f"deployed in {', '.join(stale)}, which the configuration no longer lists; nothing "
            "changed. Configure the region(s) again, or pass --remove-unconfigured-regions to "
            "remove their stack instances and the table replica there (data in the other "
            "regions stays)",
            EXIT_USAGE,
        )
    return current, unconfigured


def refuse_other_layout(
    aws: Aws, config: config_module.Config, current: dict[str, stacksets.Held]
) -> None:
    """A deployment of this suffix whose stack sets live in another region (deployed with
    another ``--primary-region``) stops the run: creating a second set of stack sets would fail
    on the names the first one holds and leave a stray stack set behind. Only searched when
    the primary region holds none of the suffix's stack sets (a first deploy, or a moved
    primary): where it holds them, ``unconfigured_regions`` compares the regions."""
    if any(held.stack_set is not None for held in current.values()):
        return
    found = discovery.find(aws, config.environment_suffix, config.primary_region)
    if not found:
        return
    suffix = config.environment_suffix
    raise DeployError(
        f"payment-{suffix} is already deployed with another layout: {found.describe()}; this "
        f"run names primary {config.primary_region}, replicas "
        f"{','.join(config.replica_regions)}; nothing changed. Deploy it with "
        f"{discovery.layout_flags(found)}; to move its primary region, delete it "
        f"(scripts/delete.py --environment-suffix {suffix} {discovery.layout_flags(found)}) and "
        "deploy anew once its retained data is purged (--purge-data)",
        EXIT_USAGE,
    )


def refuse_retained_data(
    aws: Aws,
    config: config_module.Config,
    administrator: str,
    current: dict[str, stacksets.Held],
) -> None:
    """Data an earlier deployment kept (a plain delete retains the table, buckets and keys)
    stops the run before anything changes, in every region that would get a new instance of
    the replica or primary stack set: CloudFormation would fail there on the names it holds
    ("already exists") and leave a FAILED instance. The ways forward are the operator's:
    purge it, or keep it and choose another suffix."""
    suffix = config.environment_suffix
    holding = {
        config.primary_region: current[names.stack_set(suffix, "primary")],
        **{r: current[names.stack_set(suffix, "replica")] for r in config.replica_regions},
    }
    new_regions = [r for r, held in holding.items() if r not in held.regions()]
    blocking = []
    for region in new_regions:
        data = retained.find(aws, suffix, administrator, region, keys=False)
        things = retained.in_the_way(data, suffix, administrator)
        if things:
            blocking.append(f"{region}: {', '.join(things)}")
    if blocking:
        raise DeployError(
            f"retained data of an earlier payment-{suffix} is in the way: {'; '.join(blocking)}; "
            "nothing changed. Remove it with scripts/delete.py --environment-suffix "
            f"{suffix} --purge-data (it is deleted for good), or keep it and deploy with another "
            "--environment-suffix",
            EXIT_USAGE,
        )


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


class Specs(NamedTuple):
    replica: stacksets.StackSetSpec
    primary: stacksets.StackSetSpec
    standby: stacksets.StackSetSpec


@dataclass(frozen=True)
class Inputs:
    """What the stack sets' parameters take besides the configuration and the build."""

    domain: dict[str, str]
    health_checks: dict[str, str]  # replica region -> its standby's health check id


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
            if output["OutputKey"] == "HealthCheckId":
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


def stack_set_specs(
    aws: Aws,
    config: config_module.Config,
    build: artifacts.Build,
    accounts: tuple[str, ...],
    administrator: str,
    buckets: dict[str, str],
    inputs: Inputs,
) -> Specs:
    """The replica and primary stack sets as they must be; a template over the inline limit
    goes to the administrator region's artifact bucket and is passed by URL."""
    admin_region = config.primary_region
    urls = {}
    for file_name, (key, body) in _url_templates(build).items():
        artifacts.upload_once(aws, admin_region, buckets[admin_region], key, body)
        urls[file_name] = artifacts.object_url(buckets[admin_region], admin_region, key)
    return _specs(config, build, accounts, administrator, buckets, urls, inputs)


def planned_specs(
    config: config_module.Config,
    build: artifacts.Build,
    accounts: tuple[str, ...],
    administrator: str,
    inputs: Inputs,
) -> Specs:
    """The same stack sets, computed without creating or uploading anything: what ``--plan``
    compares and what deploy shows before it acts."""
    suffix = config.environment_suffix
    buckets = {r: names.artifact_bucket(suffix, administrator, r) for r in config.regions}
    admin_region = config.primary_region
    urls = {
        file_name: artifacts.object_url(buckets[admin_region], admin_region, key)
        for file_name, (key, _) in _url_templates(build).items()
    }
    return _specs(config, build, accounts, administrator, buckets, urls, inputs)


def _url_templates(build: artifacts.Build) -> dict[str, tuple[str, bytes]]:
    """Templates over the inline limit: file name -> (artifact key, body)."""
    big = {}
    for file_name in (build_module.REPLICA, build_module.PRIMARY, build_module.STANDBY):
        body = build.text(file_name).encode()
        if len(body) > build_module.INLINE_BODY_LIMIT:
            sha = build.manifest["files"][file_name]["sha256"]
            key = f"templates/{file_name.removesuffix('.template.json')}-{sha}.template.json"
            big[file_name] = (key, body)
    return big


def _specs(
    config: config_module.Config,
    build: artifacts.Build,
    accounts: tuple[str, ...],
    administrator: str,
    buckets: dict[str, str],
    urls: dict[str, str],
    inputs: Inputs,
) -> Specs:
    suffix = config.environment_suffix
    code_key = build.manifest["handler_code_key"]
    replica = {"EnvironmentSuffix": suffix, "AlarmEmail": config.alarm_email}
    primary = {
        **replica,
        **inputs.domain,
        "ArtifactBucketName": buckets[config.primary_region],
        "HandlerCodeKey": code_key,
        **{
            regions_module.standby_health_check_parameter(region): inputs.health_checks.get(
                region, ""
            )
            for region in config.replica_regions
        },
    }
    standby = {
        "EnvironmentSuffix": suffix,
        **inputs.domain,
        # Each region reads its code from <prefix>-<region>, the bucket upload_artifacts filled.
        "ArtifactBucketPrefix": names.artifact_prefix(suffix, administrator),
        "HandlerCodeKey": code_key,
        routing.SECONDARY_REGION_PARAM: config.replica_regions[0],
    }
    specs = []
    for kind, file_name, regions, parameters in (
        ("replica", build_module.REPLICA, config.replica_regions, replica),
        ("primary", build_module.PRIMARY, (config.primary_region,), primary),
        ("standby", build_module.STANDBY, config.replica_regions, standby),
    ):
        specs.append(
            stacksets.StackSetSpec(
                name=names.stack_set(suffix, kind),
                description=f"payment-{suffix}: {kind} region(s) of the payment system",
                template_body=build.text(file_name),
                template_url=urls.get(file_name),
                parameters=dict(parameters),
                accounts=accounts,
                regions=tuple(regions),
                tags=dict(config.tags),
            )
        )
    return Specs(*specs)


def show_plan(
    specs: Sequence[stacksets.StackSetSpec],
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
        for spec in specs
    ]
    out.write(plan_module.render(plans, color=color))
    out.flush()
    return plans


def use_color(out: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Red only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and not environ.get("NO_COLOR")


@dataclass(frozen=True)
class Planned:
    plans: list[plan_module.StackSetPlan]
    aws: Aws  # its counters: a plan makes read calls only


class _Prepared(NamedTuple):
    """What both a plan and a deploy work out before deciding anything."""

    config: config_module.Config
    aws: Aws
    accounts: tuple[str, ...]
    administrator: str
    build: artifacts.Build
    cfn: Any
    current: dict
    unconfigured: dict
    inputs: Inputs
    plans: list[plan_module.StackSetPlan]


def outputs_path(args: argparse.Namespace) -> Path:
    return args.outputs or Path.cwd() / OUTPUTS_FILE


def _prepare(args: argparse.Namespace, out: TextIO, *, remove_unconfigured: bool) -> _Prepared:
    """Configuration, account, build and what each stack set holds now; prints the plan."""
    config = config_from(args)
    domain = _domain(args)
    if not args.plan:
        # Before anything changes: a run must not fail after every change for want of a file.
        arguments.check_writable_file(outputs_path(args), "--outputs")
    aws = Aws(args.endpoint_url)
    admin_region = config.primary_region
    accounts = _accounts(aws, args.accounts, admin_region)
    build = artifacts.ensure_build(config, args.build_dir, out)
    cfn = aws.client("cloudformation", admin_region)
    current, unconfigured = unconfigured_regions(cfn, config, remove_unconfigured)
    administrator = aws.caller_account(admin_region)
    # Before anything else reads or changes a region: an opt-in region not enabled fails late.
    # (EC2's view of the caller's account, as discovery reads the enabled regions too.)
    regions_enabled.require_enabled(
        config.regions, None, aws.client("ec2", admin_region), administrator
    )
    refuse_other_layout(aws, config, current)
    refuse_retained_data(aws, config, administrator, current)
    standby_set = names.stack_set(config.environment_suffix, "standby")
    inputs = Inputs(
        domain, standby_health_checks(aws, cfn, config, accounts, current[standby_set], out)
    )
    # StackSets have no change sets: the plan is how a reader sees what will change.
    plans = show_plan(
        planned_specs(config, build, accounts, administrator, inputs),
        current,
        unconfigured,
        args.remove_unconfigured_regions,
        out,
        use_color(out),
    )
    return _Prepared(
        config, aws, accounts, administrator, build, cfn, current, unconfigured, inputs, plans
    )


def plan(args: argparse.Namespace, out: TextIO = sys.stdout) -> Planned:
    """``--plan``: what a deploy with these arguments would change; nothing is changed.

    The build folder is refreshed when stale, as deploy would; in AWS only reads are made."""
    # Regions no longer configured are shown as removals instead of stopping the plan.
    prepared = _prepare(args, out, remove_unconfigured=True)
    aws, admin_region, plans = prepared.aws, prepared.config.primary_region, prepared.plans
    missing_roles = [
        name
        for name in (ADMINISTRATION_ROLE, EXECUTION_ROLE)
        if not _role_exists(aws, admin_region, name)
    ]
    if missing_roles:
        print(
            f"note: StackSet role(s) missing: {', '.join(missing_roles)}; deploy needs --bootstrap",
            file=out,
        )
    unsafe = plan_module.unsafe_summary(plans)
    if unsafe:
        print(f"note: deploy refuses this without --allow-replacement: {unsafe}", file=out)
    print("plan only: nothing was changed", file=out)
    return Planned(plans, aws)


def refuse_unsafe(plans: list[plan_module.StackSetPlan], allow: bool) -> None:
    """Stop before anything changes when the plan replaces or deletes a stateful resource."""
    unsafe = plan_module.unsafe_summary(plans)
    if unsafe and not allow:
        raise DeployError(
            f"refusing to replace or delete stateful resource(s): {unsafe}; nothing changed. "
            "Review the plan above; pass --allow-replacement to go ahead",
            EXIT_USAGE,
        )


def account_baseline_spec(
    config: config_module.Config, build: artifacts.Build, accounts: tuple[str, ...]
) -> stacksets.StackSetSpec:
    """The account baseline: settings there is one of per account and region, shared by every
    environment there (``AWS::ApiGateway::Account``: "Set up CloudWatch logging for REST APIs
    in API Gateway"), so its stack set carries no suffix and is never deleted by an
    environment's delete; its resources are retained anyway."""
    return stacksets.StackSetSpec(
        name=names.ACCOUNT_BASELINE_STACK_SET,
        description="payment system: account-level settings shared by every environment",
        template_body=build.text(build_module.ACCOUNT_BASELINE),
        template_url=None,
        parameters={},
        accounts=accounts,
        regions=config.regions,
        tags={"Project": names.PROJECT_TAG[1], "ManagedBy": config_module.MANAGED_BY},
    )


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
    spec = account_baseline_spec(config, build, accounts)
    stacksets.sync(cfn, waiter, spec, stacksets.held(cfn, spec.name), out)


def take_lock(prepared: _Prepared, out: TextIO) -> lock_module.Lock:
    """The deployment's lock, in the primary region's artifact bucket (created here on a first
    deploy: the first change a deploy makes)."""
    config, aws, accounts, administrator = prepared[:4]
    region = config.primary_region
    readers = [a for a in accounts if a != administrator]
    bucket = artifacts.ensure_bucket(aws, config.environment_suffix, administrator, region, readers)
    lock = lock_module.Lock(aws, region, bucket, "deploy.py", out=out)
    lock.acquire()
    return lock


def deploy(args: argparse.Namespace, out: TextIO = sys.stdout) -> Deployed:
    """The whole deployment; returns the flat outputs it wrote and the calls it made."""
    prepared = _prepare(args, out, remove_unconfigured=args.remove_unconfigured_regions)
    config, aws, _, _, build, cfn = prepared[:6]
    # Stop here, before anything changes, if the plan puts data at risk.
    waiter = Waiter(cfn, timeout_s=args.timeout, poll_s=args.poll, out=out)
    refuse_unsafe(prepared.plans, args.allow_replacement)
    preflight.reserved_concurrency(aws, config, prepared.accounts, prepared.administrator, out)
    ensure_roles(
        aws,
        build,
        config.primary_region,
        args.bootstrap,
        waiter,
        out,
        roles_parameters(prepared.accounts if args.accounts else None, prepared.inputs.domain),
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
            prepared = _prepare(args, out, remove_unconfigured=args.remove_unconfigured_regions)
            refuse_unsafe(prepared.plans, args.allow_replacement)
        return _deploy_planned(args, prepared, waiter, out)
    finally:
        lock.release()


def _deploy_planned(
    args: argparse.Namespace, prepared: _Prepared, waiter: Waiter, out: TextIO
) -> Deployed:
    """What the plan says, under the lock."""
    config, aws, accounts, administrator = prepared[:4]
    build, cfn, current, unconfigured, inputs, plans = prepared[4:]
    apply_account_baseline(cfn, waiter, config, build, accounts, out)
    buckets = upload_artifacts(aws, config, build, accounts, administrator, out)
    specs = stack_set_specs(aws, config, build, accounts, administrator, buckets, inputs)
    replica, primary, standby = specs

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
    if standby_changed:
        health_checks = standby_health_checks(
            aws, cfn, config, accounts, stacksets.held(cfn, standby.name), out
        )
    else:
        health_checks = inputs.health_checks
    if health_checks != inputs.health_checks:
        print("handing the standby health checks to the primary's alarms", file=out)
        primary = stack_set_specs(
            aws,
            config,
            build,
            accounts,
            administrator,
            buckets,
            replace(inputs, health_checks=health_checks),
        ).primary
        stacksets.sync(cfn, waiter, primary, stacksets.held(cfn, primary.name), out)
    # Removal runs the other way round: the primary stops using a region, then it goes.
    for spec in (primary, replica):
        _remove_unconfigured(cfn, waiter, spec, current, unconfigured, out)

    outputs = flat_outputs(aws, cfn, config, accounts[0], out)
    path = outputs_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs, indent=2) + "\n")
    print(f"wrote {path} ({len(outputs)} values)", file=out)
    print(
        "deployed: API "
        f"{outputs.get('CustomDomainUrl') or outputs.get('ApiUrl', '?')}, "
        f"table {outputs.get('TableName', names.table(config.environment_suffix))}, "
        f"regions {', '.join(config.regions)} (primary {config.primary_region}); "
        f"{aws.operations} stack set operation(s), {aws.api_calls} AWS API call(s)",
        file=out,
    )
    return Deployed(outputs, aws)


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


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    started = time.monotonic()
    try:
        if args.plan:
            plan(args, out)
            return EXIT_OK
        deploy(args, out)
    except config_module.ConfigError as error:
        print(f"deploy: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except DeployError as error:
        print(f"deploy: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(
            "deploy: interrupted; operations already started continue in AWS - re-run to converge",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as error:  # an AWS error we did not anticipate: one line, exit 1
        if error_code(error) or type(error).__module__.startswith("botocore"):
            print(f"deploy: error: {error}", file=sys.stderr)
            return 1
        raise
    print(f"done in {time.monotonic() - started:.1f} s", file=out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
