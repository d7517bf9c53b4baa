"""What stops a deploy before anything changes: regions no longer configured, a deployment of
the suffix with another layout, retained data in the way, a plan that replaces stateful data."""

from __future__ import annotations

from templates_src import config as config_module
from templates_src import routing

from . import discovery, names, retained, stacksets
from . import plan as plan_module
from .aws import Aws, error_code
from .errors import EXIT_USAGE, DeployError


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
        f"{names.deployment(suffix)} is already deployed with another layout: "
        f"{found.describe()}; this run names primary {config.primary_region}, replicas "
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
            f"retained data of an earlier {names.deployment(suffix)} is in the way: "
            f"{'; '.join(blocking)}; "
            "nothing changed. Remove it with scripts/delete.py --environment-suffix "
            f"{suffix} --purge-data (it is deleted for good), or keep it and deploy with another "
            "--environment-suffix",
            EXIT_USAGE,
        )


def refuse_unsafe(plans: list[plan_module.StackSetPlan], allow: bool) -> None:
    """Stop before anything changes when the plan replaces or deletes a stateful resource."""
    unsafe = plan_module.unsafe_summary(plans)
    if unsafe and not allow:
        raise DeployError(
            f"refusing to replace or delete stateful resource(s): {unsafe}; nothing changed. "
            "Review the plan above; pass --allow-replacement to go ahead",
            EXIT_USAGE,
        )


def refuse_missing_truststore(
    aws: Aws, config: config_module.Config, administrator: str, domain: dict[str, str]
) -> None:
    """In mTLS mode the custom domain reads ``truststore/clients.pem`` at the version given; API
    Gateway fails the domain when that object version cannot be read ("Configuring mutual TLS
    authentication for a REST API", API Gateway Developer Guide). Refused before any change."""
    version = domain.get(routing.TRUSTSTORE_VERSION_PARAM)
    if config.client_auth != config_module.CLIENT_AUTH_MTLS or not version:
        return
    region = config.primary_region
    bucket = names.artifact_bucket(config.environment_suffix, administrator, region)
    try:
        aws.client("s3", region).head_object(
            Bucket=bucket, Key=routing.TRUSTSTORE_KEY, VersionId=version
        )
    except Exception as error:
        if not error_code(error):
            raise
        raise DeployError(
            f"--truststore-version {version}: s3://{bucket}/{routing.TRUSTSTORE_KEY} has no "
            f"such version ({error_code(error)}); upload the client CA bundle there first "
            "(README, Clients: mutual TLS)",
            EXIT_USAGE,
        ) from None
