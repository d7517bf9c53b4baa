"""The stack sets as this build and configuration want them: templates, parameters, accounts,
regions, tags (``StackSetSpec``), computed for a plan or, with uploads, for a deploy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from templates_src import build as build_module
from templates_src import config as config_module
from templates_src import regions as regions_module
from templates_src import routing

from . import artifacts, names, stacksets
from .aws import Aws


class Specs(NamedTuple):
    replica: stacksets.StackSetSpec
    primary: stacksets.StackSetSpec
    standby: stacksets.StackSetSpec


@dataclass(frozen=True)
class Inputs:
    """What the stack sets' parameters take besides the configuration and the build."""

    domain: dict[str, str]
    health_checks: dict[str, str]  # replica region -> its standby's health check id


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
    replica = {names.SUFFIX_PARAM: suffix, names.ALARM_EMAIL_PARAM: config.alarm_email}
    primary = {
        **replica,
        **inputs.domain,
        names.ARTIFACT_BUCKET_PARAM: buckets[config.primary_region],
        names.CODE_KEY_PARAM: code_key,
        **{
            regions_module.standby_health_check_parameter(region): inputs.health_checks.get(
                region, ""
            )
            for region in config.replica_regions
        },
    }
    standby = {
        names.SUFFIX_PARAM: suffix,
        **inputs.domain,
        # Each region reads its code from <prefix>-<region>, the bucket upload_artifacts filled.
        names.ARTIFACT_PREFIX_PARAM: names.artifact_prefix(suffix, administrator),
        names.CODE_KEY_PARAM: code_key,
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
                description=f"{names.deployment(suffix)}: {kind} region(s) of the payment system",
                template_body=build.text(file_name),
                template_url=urls.get(file_name),
                parameters=dict(parameters),
                accounts=accounts,
                regions=tuple(regions),
                tags=dict(config.tags),
            )
        )
    return Specs(*specs)


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
        tags={
            names.PROJECT_TAG[0]: names.PROJECT_TAG[1],
            names.MANAGED_BY_TAG: config_module.MANAGED_BY,
        },
    )
