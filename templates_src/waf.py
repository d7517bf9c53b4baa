"""AWS WAF in front of the API stage: managed rule groups and a per-IP rate limit.

On by default; the ``EnableWaf`` parameter turns it off (for example where a central WAF
already fronts the account's APIs), but only with a written ``WafExceptionReason``: the
template's rule refuses the stack otherwise, and the security gate fails a build that switches
it off without one (PCI DSS 6.4.2: public-facing web applications are protected by an automated
solution that blocks attacks).
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Sub, Template
from troposphere.wafv2 import (
    AllowAction,
    BlockAction,
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

from . import logs, names
from .common import WAF_ENABLED, name, tags
from .config import Config

RATE_LIMIT_PER_5_MIN = 2_000  # requests per client IP in any 5 minutes
RATE_LIMITED_BODY = "RateLimited"
TOO_LARGE_BODY = "PayloadTooLarge"
# The common rule set's body-size rule: blocks bodies over 8 KB. A valid payment body is under
# 1 KB (every field is bounded), so nothing valid is lost; the block answers in the contract's
# error shape, 413 PAYLOAD_TOO_LARGE, as the handler does above 16 KiB.
SIZE_RULE = "SizeRestrictions_BODY"


def _visibility(metric: str) -> VisibilityConfig:
    return VisibilityConfig(
        CloudWatchMetricsEnabled=True, SampledRequestsEnabled=True, MetricName=metric
    )


def _managed(priority: int, group: str, block_overrides: dict[str, RuleAction] | None = None):
    """A managed rule group with its own actions, except the rules given another action here."""
    statement = ManagedRuleGroupStatement(VendorName="AWS", Name=group)
    if block_overrides:
        statement.RuleActionOverrides = [
            RuleActionOverride(Name=rule, ActionToUse=action)
            for rule, action in sorted(block_overrides.items())
        ]
    return WebACLRule(
        Name=group,
        Priority=priority,
        OverrideAction=OverrideAction(**{"None": {}}),
        Statement=Statement(ManagedRuleGroupStatement=statement),
        VisibilityConfig=_visibility(group),
    )


def _error_body(code: str, message: str) -> CustomResponseBody:
    content = json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":"))
    return CustomResponseBody(ContentType="APPLICATION_JSON", Content=content)


def _block(status: int, body_key: str) -> RuleAction:
    return RuleAction(
        Block=BlockAction(
            CustomResponse=CustomResponse(ResponseCode=status, CustomResponseBodyKey=body_key)
        )
    )


def add_waf(template: Template, config: Config, *, rest_api: object, stage: object, app_key_arn):
    acl = template.add_resource(_web_acl())
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
    _add_logging(template, config, acl, app_key_arn)
    return acl


def _web_acl() -> WebACL:
    """The web ACL: everything allowed but what its rules block, in priority order."""
    return WebACL(
        "ApiWebAcl",
        Condition=WAF_ENABLED,
        Name=name("api"),
        Description="Payment API: managed IP-reputation, common and known-bad-input rules, "
        "per-IP rate limit",
        Scope="REGIONAL",
        DefaultAction=DefaultAction(Allow=AllowAction()),
        CustomResponseBodies={
            RATE_LIMITED_BODY: _error_body("RATE_LIMITED", "Too many requests from this address"),
            TOO_LARGE_BODY: _error_body("PAYLOAD_TOO_LARGE", "The request body is too large"),
        },
        Rules=[
            # Addresses AWS threat intelligence knows for bots and attacks: cheapest first.
            _managed(0, "AWSManagedRulesAmazonIpReputationList"),
            _managed(
                1,
                "AWSManagedRulesCommonRuleSet",
                block_overrides={SIZE_RULE: _block(413, TOO_LARGE_BODY)},
            ),
            _managed(2, "AWSManagedRulesKnownBadInputsRuleSet"),
            WebACLRule(
                Name="RateLimitPerIp",
                Priority=3,
                Action=_block(429, RATE_LIMITED_BODY),
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


def _add_logging(template: Template, config: Config, acl: WebACL, app_key_arn) -> None:
    """The ACL's request log, in its own encrypted log group."""
    # WAF requires its CloudWatch log group names to start with aws-waf-logs-.
    log_group = logs.add_log_group(
        template,
        config,
        "WafLogGroup",
        Sub(f"{names.WAF_LOG_PREFIX}{names.resource(names.SUB_SUFFIX, names.API)}"),
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
            # The client's role session token travels in this header: never in a log.
            RedactedFields=[
                LoggingConfigurationFieldToMatch(
                    SingleHeader=SingleHeader(Name="x-amz-security-token")
                )
            ],
        )
    )
