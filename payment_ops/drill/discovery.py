"""What the drill works on, read from AWS before anything changes: the stack sets' parameters and
instance outputs, the failover record pair in the hosted zone and the two health checks.

Every function here only reads. Each problem found is one line for the user; any problem stops
the drill before the primary health check is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payment_ops.deployment import names, stacksets
from payment_ops.deployment.aws import error_code
from templates_src import routing
from templates_src.config import Config

ROUTE53_REGION = "us-east-1"  # Route 53 is global; its API lives in us-east-1


@dataclass(frozen=True)
class Side:
    """One half of the failover pair: a region's API behind the custom domain."""

    role: str  # PRIMARY | SECONDARY
    region: str
    health_check_id: str
    regional_domain_name: str  # the alias target of the region's record
    api_id: str
    stage: str
    table_stream_arn: str
    audit_bucket: str


@dataclass(frozen=True)
class Deployment:
    environment_suffix: str
    account: str
    hosted_zone_id: str
    domain_name: str
    primary: Side
    secondary: Side

    @property
    def table(self) -> str:
        return names.table(self.environment_suffix)


def discover(aws: Any, config: Config) -> tuple[Deployment | None, list[str]]:
    """The deployment of ``config`` (its primary and the first replica region), or the reasons
    it cannot be drilled."""
    problems: list[str] = []
    suffix = config.environment_suffix
    admin = aws.client("cloudformation", config.primary_region)
    account = aws.client("sts", config.primary_region).get_caller_identity()["Account"]
    secondary_region = config.replica_regions[0]

    parameters = _stack_set_parameters(admin, suffix, config.primary_region, problems)
    if problems:
        return None, problems
    zone, domain = _failover_domain(parameters, suffix, secondary_region, problems)
    sides = {}
    for role, kind, region in (
        (routing.PRIMARY, "primary", config.primary_region),
        (routing.SECONDARY, "standby", secondary_region),
    ):
        side = _side(aws, admin, suffix, account, (role, kind, region), problems)
        if side is not None:
            sides[role] = side
    if problems:
        return None, problems
    deployment = Deployment(
        environment_suffix=suffix,
        account=account,
        hosted_zone_id=zone,
        domain_name=domain,
        primary=sides[routing.PRIMARY],
        secondary=sides[routing.SECONDARY],
    )
    return deployment, pair_problems(aws, deployment) + health_check_problems(aws, deployment)


def _stack_set_parameters(
    admin: Any, suffix: str, region: str, problems: list[str]
) -> dict[str, dict[str, str]]:
    """The parameters of the primary and standby stack sets, by kind (a missing one a problem)."""
    parameters: dict[str, dict[str, str]] = {}
    for kind in ("primary", "standby"):
        name = names.stack_set(suffix, kind)
        stack_set = stacksets.describe(admin, name)
        if stack_set is None:
            problems.append(f"stack set {name} not found in {region}: deploy first")
            continue
        parameters[kind] = {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in stack_set.get("Parameters", [])
        }
    return parameters


def _failover_domain(
    parameters: dict[str, dict[str, str]], suffix: str, secondary_region: str, problems: list[str]
) -> tuple[str, str]:
    """The hosted zone and domain of the pair, which both stack sets must name alike; the
    standby's secondary region must be the first replica region."""
    zone = parameters["primary"].get(routing.HOSTED_ZONE_PARAM, "")
    domain = parameters["primary"].get(routing.DOMAIN_PARAM, "").lower().rstrip(".")
    if not zone or not domain:
        problems.append(
            f"{names.stack_set(suffix, 'primary')} has no custom domain: deploy with "
            "--domain-name and --hosted-zone-id for a failover pair to drill"
        )
    for key, value in ((routing.HOSTED_ZONE_PARAM, zone), (routing.DOMAIN_PARAM, domain)):
        standby_value = parameters["standby"].get(key, "").lower().rstrip(".")
        if standby_value != value.lower():
            problems.append(
                f"{names.stack_set(suffix, 'standby')} has {key} {standby_value!r}, the primary "
                f"{value!r}: the two halves of the pair disagree"
            )
    held_secondary = parameters["standby"].get(routing.SECONDARY_REGION_PARAM, secondary_region)
    if held_secondary != secondary_region:
        problems.append(
            f"the standby's SecondaryRegion is {held_secondary}, the first replica region "
            f"{secondary_region}: check --replica-regions"
        )
    return zone, domain


def _side(
    aws: Any,
    admin: Any,
    suffix: str,
    account: str,
    where: tuple[str, str, str],
    problems: list[str],
) -> Side | None:
    """One half of the pair (``where``: its role, stack set kind and region) from its stack
    instance's outputs, or None with the problem recorded."""
    role, kind, region = where
    outputs = _outputs(aws, admin, names.stack_set(suffix, kind), account, region, problems)
    if outputs is None:
        return None
    if kind == "standby":
        # The audit bucket of a replica region belongs to the replica stack set.
        replica = _outputs(
            aws, admin, names.stack_set(suffix, "replica"), account, region, problems
        )
        outputs = {**(replica or {}), **outputs}
    wanted = (
        names.HEALTH_CHECK_OUTPUT,
        names.REGIONAL_DOMAIN_OUTPUT,
        names.API_ID_OUTPUT,
        names.API_URL_OUTPUT,
    )
    missing = [key for key in wanted if not outputs.get(key)]
    if missing:
        problems.append(
            f"{names.stack_set(suffix, kind)} in {region} has no output {', '.join(missing)}"
        )
        return None
    return Side(
        role=role,
        region=region,
        health_check_id=outputs[names.HEALTH_CHECK_OUTPUT],
        regional_domain_name=outputs[names.REGIONAL_DOMAIN_OUTPUT].lower().rstrip("."),
        api_id=outputs[names.API_ID_OUTPUT],
        stage=outputs[names.API_URL_OUTPUT].rstrip("/").rsplit("/", 1)[-1],
        table_stream_arn=outputs.get("TableStreamArn", ""),
        audit_bucket=outputs.get(names.AUDIT_BUCKET_OUTPUT)
        or names.audit_bucket(suffix, account, region),
    )


def _outputs(
    aws: Any, admin: Any, name: str, account: str, region: str, problems: list[str]
) -> dict[str, str] | None:
    try:
        found = stacksets.instance_outputs(aws, admin, name, account, region)
    except Exception as error:
        if error_code(error) in ("StackInstanceNotFoundException", "StackSetNotFoundException"):
            problems.append(f"{name} has no stack instance in {region} (account {account})")
            return None
        raise
    return {o["OutputKey"]: o.get("OutputValue", "") for o in found}


def failover_records(aws: Any, deployment: Deployment) -> list[dict]:
    """The A records of the domain in the hosted zone (every set identifier)."""
    route53 = aws.client("route53", ROUTE53_REGION)
    wanted = deployment.domain_name
    found: list[dict] = []
    pages = route53.get_paginator("list_resource_record_sets").paginate(
        HostedZoneId=deployment.hosted_zone_id, StartRecordName=wanted, StartRecordType="A"
    )
    seen = False
    for page in pages:
        for record in page["ResourceRecordSets"]:
            name = record["Name"].lower().rstrip(".")
            if name == wanted:
                seen = True
                if record["Type"] == "A":
                    found.append(record)
            elif seen:
                return found  # listed in name order from the domain on: past it
    return found


def pair_problems(aws: Any, deployment: Deployment) -> list[str]:
    """Exactly one PRIMARY and one SECONDARY alias record for the domain, each aliasing its
    region's custom domain and carrying its region's health check."""
    try:
        records = failover_records(aws, deployment)
    except Exception as error:
        if error_code(error) in ("NoSuchHostedZone", "InvalidInput"):
            return [f"hosted zone {deployment.hosted_zone_id}: {error_code(error)}"]
        raise
    problems = []
    domain = deployment.domain_name
    for side in (deployment.primary, deployment.secondary):
        mine = [r for r in records if r.get("Failover") == side.role]
        if len(mine) != 1:
            problems.append(
                f"{domain}: {len(mine)} {side.role} A record(s) in zone "
                f"{deployment.hosted_zone_id}, want exactly 1"
            )
            continue
        record = mine[0]
        alias = (record.get("AliasTarget") or {}).get("DNSName", "").lower().rstrip(".")
        if not alias:
            problems.append(f"{domain}: the {side.role} record is not an alias record")
        elif alias != side.regional_domain_name:
            problems.append(
                f"{domain}: the {side.role} record aliases {alias}, not {side.region}'s "
                f"{side.regional_domain_name}"
            )
        if record.get("HealthCheckId") != side.health_check_id:
            problems.append(
                f"{domain}: the {side.role} record carries health check "
                f"{record.get('HealthCheckId') or 'none'}, not {side.region}'s "
                f"{side.health_check_id}"
            )
    others = [r for r in records if r.get("Failover") not in (routing.PRIMARY, routing.SECONDARY)]
    if others:
        problems.append(f"{domain}: {len(others)} A record(s) outside the failover pair")
    return problems


def health_check_problems(aws: Any, deployment: Deployment) -> list[str]:
    """Both health checks exist; the standby's is not inverted (nothing to fail over to)."""
    problems = []
    for side in (deployment.primary, deployment.secondary):
        try:
            config = health_check_config(aws, side.health_check_id)
        except Exception as error:
            if error_code(error) == "NoSuchHealthCheck":
                problems.append(f"health check {side.health_check_id} ({side.region}) not found")
                continue
            raise
        if side is deployment.secondary and config.get("Inverted"):
            problems.append(
                f"the standby health check {side.health_check_id} ({side.region}) is inverted: "
                "there would be no healthy region to fail over to"
            )
    return problems


def health_check_config(aws: Any, health_check_id: str) -> dict:
    route53 = aws.client("route53", ROUTE53_REGION)
    return route53.get_health_check(HealthCheckId=health_check_id)["HealthCheck"][
        "HealthCheckConfig"
    ]


def is_inverted(aws: Any, health_check_id: str) -> bool:
    return bool(health_check_config(aws, health_check_id).get("Inverted"))
