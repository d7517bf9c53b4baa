"""AWS WAF in front of the API stage: managed rule groups and a per-IP rate limit.

On by default; the ``EnableWaf`` parameter turns it off (for example where a central WAF
already fronts the account's APIs).
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Sub, Template
from troposphere.wafv2 import (
    AllowAction,
    BlockAction,
    CountAction,
    CustomResponse,
    CustomResponseBody,
    DefaultAction,
    LoggingConfiguration,
    LoggingConfigurationFieldToMatch,
    ManagedRuleGroupStatement,
    OverrideAction,
    RateBasedStatement,
    RuleAction,
    RuleActionOverride,
    SingleHeader,
    Statement,
    VisibilityConfig,
    WebACL,
    WebACLAssociation,
    WebACLRule,
)

from . import logs
from .common import SUFFIX_PARAM, WAF_ENABLED, name, tags
from .config import Config

RATE_LIMIT_PER_5_MIN = 2_000  # requests per client IP in any 5 minutes
RATE_LIMITED_BODY = "RateLimited"


def _visibility(metric: str) -> VisibilityConfig:
    return VisibilityConfig(
        CloudWatchMetricsEnabled=True, SampledRequestsEnabled=True, MetricName=metric
    )


def _managed(priority: int, group: str, overrides: list[str] | None = None) -> WebACLRule:
    statement = ManagedRuleGroupStatement(VendorName="AWS", Name=group)
    if overrides:
        statement.RuleActionOverrides = [
            RuleActionOverride(Name=rule, ActionToUse=RuleAction(Count=CountAction()))
            for rule in overrides
        ]
    return WebACLRule(
        Name=group,
        Priority=priority,
        OverrideAction=OverrideAction(**{"None": {}}),
        Statement=Statement(ManagedRuleGroupStatement=statement),
        VisibilityConfig=_visibility(group),
    )


def add_waf(template: Template, config: Config, *, rest_api: object, stage: object, app_key_arn):
    rate_limited = json.dumps(
        {"error": {"code": "RATE_LIMITED", "message": "Too many requests from this address"}},
        separators=(",", ":"),
    )
    acl = template.add_resource(
        WebACL(
            "ApiWebAcl",
            Condition=WAF_ENABLED,
            Name=name("api"),
            Description="Payment API: managed common and known-bad-input rules, per-IP rate limit",
            Scope="REGIONAL",
            DefaultAction=DefaultAction(Allow=AllowAction()),
            CustomResponseBodies={
                RATE_LIMITED_BODY: CustomResponseBody(
                    ContentType="APPLICATION_JSON", Content=rate_limited
                )
            },
            Rules=[
                # The common rule set blocks bodies over 8 KB; the API accepts up to 16 KiB and
                # answers larger ones itself with 413 PAYLOAD_TOO_LARGE, so that rule only counts.
                _managed(0, "AWSManagedRulesCommonRuleSet", overrides=["SizeRestrictions_BODY"]),
                _managed(1, "AWSManagedRulesKnownBadInputsRuleSet"),
                WebACLRule(
                    Name="RateLimitPerIp",
                    Priority=2,
                    Action=RuleAction(
                        Block=BlockAction(
                            CustomResponse=CustomResponse(
                                ResponseCode=429, CustomResponseBodyKey=RATE_LIMITED_BODY
                            )
                        )
                    ),
                    Statement=Statement(
                        RateBasedStatement=RateBasedStatement(
                            Limit=RATE_LIMIT_PER_5_MIN, AggregateKeyType="IP"
                        )
                    ),
                    VisibilityConfig=_visibility("RateLimitPerIp"),
                ),
            ],
            VisibilityConfig=_visibility("PaymentApiWebAcl"),
            Tags=tags(),
        )
    )
    template.add_resource(
        WebACLAssociation(
            "ApiWebAclAssociation",
            Condition=WAF_ENABLED,
            ResourceArn=Sub(
                "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/"
                f"${{{rest_api.title}}}/stages/${{{stage.title}}}"
            ),
            WebACLArn=GetAtt(acl, "Arn"),
        )
    )
    # WAF requires its CloudWatch log group names to start with aws-waf-logs-.
    log_group = logs.add_log_group(
        template,
        config,
        "WafLogGroup",
        Sub(f"aws-waf-logs-payment-${{{SUFFIX_PARAM}}}-api"),
        app_key_arn,
        condition=WAF_ENABLED,
    )
    template.add_resource(
        LoggingConfiguration(
            "ApiWebAclLogging",
            Condition=WAF_ENABLED,
            ResourceArn=GetAtt(acl, "Arn"),
            LogDestinationConfigs=[
                Sub(
                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                    f"log-group:${{{log_group.title}}}"
                )
            ],
            # The API key travels in this header: it must never reach a log.
            RedactedFields=[
                LoggingConfigurationFieldToMatch(SingleHeader=SingleHeader(Name="x-api-key"))
            ],
        )
    )
    return acl
