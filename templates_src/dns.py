"""Route 53 health check of the regional API.

It probes the keyless ``GET /health``: a probe of ``POST /process`` needs an API key header,
which Route 53 health checkers cannot send, so it could never succeed.
"""

from __future__ import annotations

from troposphere import Sub, Template
from troposphere.route53 import HealthCheck, HealthCheckConfig

from . import names
from .common import STAGE_NAME, tags

FAILURE_THRESHOLD = 3
REQUEST_INTERVAL_S = 30


def add_health_check(template: Template, rest_api: object) -> HealthCheck:
    return template.add_resource(
        HealthCheck(
            "ApiHealthCheck",
            HealthCheckConfig=HealthCheckConfig(
                Type="HTTPS",
                FullyQualifiedDomainName=Sub(
                    f"${{{rest_api.title}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
                ),
                Port=443,
                ResourcePath=f"/{STAGE_NAME}/health",
                RequestInterval=REQUEST_INTERVAL_S,
                FailureThreshold=FAILURE_THRESHOLD,
                EnableSNI=True,
                MeasureLatency=True,
            ),
            HealthCheckTags=tags(
                Name=Sub(names.resource(names.SUB_SUFFIX, f"api-health-{names.SUB_REGION}"))
            ),
        )
    )
