"""Failover routing under a custom domain: one name, answered by the primary region while its
health check passes and by the first replica region when it fails.

Everything here is conditional on the ``HostedZoneId`` and ``DomainName`` parameters, so a stack
without a domain is complete and clients use the regional invoke URLs. With a domain, each region
gets an ACM certificate (validated through the hosted zone by CloudFormation), a REGIONAL API
Gateway custom domain with a base-path mapping to the stage, and its half of a Route 53 failover
record pair: PRIMARY from the primary template, SECONDARY from the standby template in the first
replica region only. Further replica regions stay reachable on their own invoke URLs.

In ``mtls`` client-auth mode the custom domain also verifies client certificates against the
truststore ``s3://<primary artifact bucket>/truststore/clients.pem`` at the version
``TruststoreVersion`` ("Configuring mutual TLS authentication for a REST API"; the bucket is
versioned, and a new version takes effect only when the domain names it): revoking a client is
a new truststore version and a stack update that changes only the domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import And, Condition, Equals, GetAtt, Not, Or, Parameter, Ref, Sub, Template
from troposphere.apigateway import (
    BasePathMapping,
    DomainName,
    EndpointConfiguration,
    MutualTlsAuthentication,
)
from troposphere.certificatemanager import Certificate, DomainValidationOption
from troposphere.route53 import AliasTarget, RecordSetType

from . import names
from .api import ENDPOINT_ACCESS_MODE, SECURITY_POLICY
from .common import (
    ARTIFACT_BUCKET_PARAM,
    ARTIFACT_PREFIX_PARAM,
    Params,
    add_parameter_group,
    tags,
)
from .config import CLIENT_AUTH_MTLS, Config

HOSTED_ZONE_PARAM = "HostedZoneId"
DOMAIN_PARAM = "DomainName"
SECONDARY_REGION_PARAM = "SecondaryRegion"
TRUSTSTORE_VERSION_PARAM = "TruststoreVersion"
TRUSTSTORE_KEY = "truststore/clients.pem"
# An S3 version id as the parameter admits it (deploy checks --truststore-version against it).
TRUSTSTORE_VERSION_PATTERN = r"^[A-Za-z0-9._-]{1,1024}$"
HAS_DOMAIN = "HasDomain"
SECONDARY_HERE = "SecondaryRecordHere"
PRIMARY = "PRIMARY"
SECONDARY = "SECONDARY"

HOSTED_ZONE_PATTERN = r"^$|^[A-Z0-9]{1,32}$"
DOMAIN_PATTERN = r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
# Two to four letters first: the European Sovereign Cloud's regions are eusc-<country>-...
REGION_PATTERN = r"^[a-z]{2,4}(-[a-z]+)+-\d$"


@dataclass(frozen=True)
class CustomDomain:
    certificate: Certificate
    domain_name: DomainName
    mapping: BasePathMapping


def add_domain_parameters(template: Template) -> None:
    """``HostedZoneId`` + ``DomainName`` (both or neither) and the ``HasDomain`` condition."""
    zone = template.add_parameter(
        Parameter(
            HOSTED_ZONE_PARAM,
            Type="String",
            Default="",
            AllowedPattern=HOSTED_ZONE_PATTERN,
            ConstraintDescription="a Route 53 hosted zone id, or empty for no custom domain",
            Description="Public hosted zone that holds DomainName; empty: no custom domain and "
            "no failover record (clients use the regional invoke URLs).",
        )
    )
    domain = template.add_parameter(
        Parameter(
            DOMAIN_PARAM,
            Type="String",
            Default="",
            AllowedPattern=DOMAIN_PATTERN,
            ConstraintDescription="a lower-case DNS name inside the hosted zone, or empty",
            Description="Name clients call, e.g. pay.example.com: a failover record pair in the "
            "hosted zone sends it to the primary region while healthy, else to the first "
            "replica region.",
        )
    )
    empty_zone, empty_domain = Equals(Ref(zone), ""), Equals(Ref(domain), "")
    template.add_condition(HAS_DOMAIN, And(Not(empty_zone), Not(empty_domain)))
    # Half a domain configuration would silently route nothing: refuse it before any resource.
    template.add_rule(
        "DomainAndHostedZoneTogether",
        {
            "Assertions": [
                {
                    "Assert": Or(
                        And(empty_zone, empty_domain), And(Not(empty_zone), Not(empty_domain))
                    ),
                    "AssertDescription": "HostedZoneId and DomainName go together: give both "
                    "for failover routing, or neither",
                }
            ]
        },
    )
    add_parameter_group(
        template,
        "Custom domain and failover (optional)",
        {zone: "Hosted zone id", domain: "Domain name"},
    )


def add_secondary_region_parameter(template: Template, default: str) -> None:
    """The standby template's record is the SECONDARY only in this region."""
    region = template.add_parameter(
        Parameter(
            SECONDARY_REGION_PARAM,
            Type="String",
            Default=default,
            AllowedPattern=REGION_PATTERN,
            ConstraintDescription="an AWS region name such as us-west-2",
            Description="The replica region that takes over the custom domain when the primary "
            "region fails its health check (the first replica region).",
        )
    )
    template.add_condition(
        SECONDARY_HERE, And(Condition(HAS_DOMAIN), Equals(Ref("AWS::Region"), Ref(region)))
    )
    add_parameter_group(template, "Failover region", {region: "Secondary region"})


def truststore_uri(config: Config, params: Params) -> Sub:
    """The truststore in the primary region's artifact bucket: one list of client CAs for every
    region (a standby template knows only the artifact bucket prefix)."""
    if params.artifact_bucket_per_region:
        bucket = f"${{{ARTIFACT_PREFIX_PARAM}}}-{config.primary_region}"
    else:
        bucket = f"${{{ARTIFACT_BUCKET_PARAM}}}"
    return Sub(f"s3://{bucket}/{TRUSTSTORE_KEY}")


def add_mutual_tls(template: Template, config: Config, params: Params) -> dict:
    """``TruststoreVersion`` and the rule that mTLS has its domain and truststore; the domain's
    ``MutualTlsAuthentication`` (empty outside mTLS mode)."""
    if config.client_auth != CLIENT_AUTH_MTLS:
        return {}
    version = template.add_parameter(
        Parameter(
            TRUSTSTORE_VERSION_PARAM,
            Type="String",
            AllowedPattern=TRUSTSTORE_VERSION_PATTERN,
            ConstraintDescription="the S3 version id of truststore/clients.pem",
            Description=f"S3 version id of {TRUSTSTORE_KEY} in the primary artifact bucket: "
            "the client CA certificates the custom domain trusts. A new version (a client "
            "added or revoked) takes effect when this changes.",
        )
    )
    template.add_rule(
        "MutualTlsNeedsTheDomain",
        {
            "Assertions": [
                {
                    "Assert": Not(Equals(Ref(DOMAIN_PARAM), "")),
                    "AssertDescription": "client-auth mtls: API Gateway verifies client "
                    "certificates only on a custom domain; give DomainName and HostedZoneId",
                }
            ]
        },
    )
    add_parameter_group(template, "Mutual TLS", {version: "Truststore version"})
    return {
        "MutualTlsAuthentication": MutualTlsAuthentication(
            TruststoreUri=truststore_uri(config, params), TruststoreVersion=Ref(version)
        )
    }


def add_custom_domain(
    template: Template, config: Config, params: Params, *, rest_api: object, stage: object
) -> CustomDomain:
    """The certificate, the REGIONAL custom domain and its mapping to the stage (root path)."""
    certificate = template.add_resource(
        Certificate(
            "ApiCertificate",
            Condition=HAS_DOMAIN,
            DomainName=Ref(DOMAIN_PARAM),
            ValidationMethod="DNS",
            # With the zone given, CloudFormation writes the validation record itself.
            DomainValidationOptions=[
                DomainValidationOption(
                    DomainName=Ref(DOMAIN_PARAM), HostedZoneId=Ref(HOSTED_ZONE_PARAM)
                )
            ],
            Tags=tags(),
        )
    )
    domain_name = template.add_resource(
        DomainName(
            "ApiDomainName",
            Condition=HAS_DOMAIN,
            DomainName=Ref(DOMAIN_PARAM),
            RegionalCertificateArn=Ref(certificate),
            EndpointConfiguration=EndpointConfiguration(Types=["REGIONAL"]),
            SecurityPolicy=SECURITY_POLICY,
            EndpointAccessMode=ENDPOINT_ACCESS_MODE,
            Tags=tags(),
            **add_mutual_tls(template, config, params),
        )
    )
    mapping = template.add_resource(
        BasePathMapping(
            "ApiBasePathMapping",
            Condition=HAS_DOMAIN,
            DomainName=Ref(domain_name),
            RestApiId=Ref(rest_api),
            Stage=Ref(stage),
        )
    )
    return CustomDomain(certificate, domain_name, mapping)


def add_failover_record(
    template: Template, *, role: str, domain: CustomDomain, health_check: object, condition: str
) -> RecordSetType:
    """This region's half of the failover pair: an alias to its regional custom domain, answered
    while its health check passes (a SECONDARY that is unhealthy too leaves Route 53 answering
    with the PRIMARY)."""
    return template.add_resource(
        RecordSetType(
            f"ApiFailover{role.capitalize()}Record",
            Condition=condition,
            HostedZoneId=Ref(HOSTED_ZONE_PARAM),
            Name=Ref(DOMAIN_PARAM),
            Type="A",
            SetIdentifier=Sub(
                names.resource(names.SUB_SUFFIX, f"{role.lower()}-{names.SUB_REGION}")
            ),
            Failover=role,
            HealthCheckId=Ref(health_check),
            AliasTarget=AliasTarget(
                DNSName=GetAtt(domain.domain_name, "RegionalDomainName"),
                HostedZoneId=GetAtt(domain.domain_name, "RegionalHostedZoneId"),
                EvaluateTargetHealth=False,
            ),
        )
    )


def domain_url() -> Sub:
    return Sub(f"https://${{{DOMAIN_PARAM}}}")
