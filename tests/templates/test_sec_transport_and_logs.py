"""TLS 1.2+ on every endpoint and every log group kept, encrypted and masked (README "Security")."""

from __future__ import annotations

import json

import pytest

from templates_src.config import Config, ConfigError

from .conftest import of_type

ENHANCED_TLS12_OR_LATER = "SecurityPolicy_TLS13_1_2_2021_06"


def _templates(primary, replica, standby) -> dict[str, dict]:
    return {"primary": primary, "replica": replica, "standby": standby}


def test_rest_api_and_custom_domain_refuse_tls_below_1_2(primary, standby):
    for template in (primary, standby):
        api = template["Resources"]["PaymentApi"]["Properties"]
        domain = template["Resources"]["ApiDomainName"]["Properties"]
        for props in (api, domain):
            # Without SecurityPolicy the default execute-api endpoint accepts TLS 1.0.
            assert props["SecurityPolicy"] == ENHANCED_TLS12_OR_LATER
            assert props["EndpointAccessMode"] == "STRICT"


def test_access_log_records_the_tls_version_of_every_request(primary, standby):
    for template in (primary, standby):
        stage = template["Resources"]["ApiStage"]["Properties"]
        log_format = json.loads(stage["AccessLogSetting"]["Format"])
        assert log_format["tlsVersion"] == "$context.tlsVersion"


def _denies_plain_http(statements: list[dict], action: str) -> bool:
    return any(
        s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] == [action]
        and str(s["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false"
        for s in statements
    )


def test_every_queue_and_topic_refuses_requests_without_tls(primary, replica, standby):
    for name, template in _templates(primary, replica, standby).items():
        queues = set(of_type(template, "AWS::SQS::Queue"))
        covered = set()
        for policy in of_type(template, "AWS::SQS::QueuePolicy").values():
            props = policy["Properties"]
            if _denies_plain_http(props["PolicyDocument"]["Statement"], "sqs:*"):
                covered |= {q["Ref"] for q in props["Queues"]}
        assert covered == queues, name
        topics = set(of_type(template, "AWS::SNS::Topic"))
        covered = set()
        for policy in of_type(template, "AWS::SNS::TopicPolicy").values():
            props = policy["Properties"]
            if _denies_plain_http(props["PolicyDocument"]["Statement"], "sns:*"):
                covered |= {t["Ref"] for t in props["Topics"]}
        assert covered == topics, name


def test_every_log_group_is_kept_a_year_encrypted_retained_and_masks_card_numbers(
    primary, replica, standby
):
    seen = 0
    for name, template in _templates(primary, replica, standby).items():
        for title, group in of_type(template, "AWS::Logs::LogGroup").items():
            seen += 1
            props = group["Properties"]
            assert props["RetentionInDays"] >= 365, (name, title)
            assert props["KmsKeyId"], (name, title)
            assert group["DeletionPolicy"] == "RetainExceptOnCreate", (name, title)
            assert group["UpdateReplacePolicy"] == "Retain", (name, title)
            statements = props["DataProtectionPolicy"]["Statement"]
            identifiers = [s["DataIdentifier"] for s in statements]
            card = {
                "Fn::Sub": "arn:${AWS::Partition}:dataprotection::aws:data-identifier/"
                "CreditCardNumber"
            }
            # An audit statement and a de-identify (mask) statement, both on card numbers.
            assert identifiers == [[card], [card]], (name, title)
            assert "Audit" in statements[0]["Operation"]
            assert "Deidentify" in statements[1]["Operation"]
    assert seen >= 5


def test_log_retention_defaults_to_400_days_and_refuses_less_than_a_year():
    assert Config().log_retention_days == 400
    with pytest.raises(ConfigError, match="at least 365"):
        Config(log_retention_days=90)
    with pytest.raises(ConfigError, match="one of"):
        Config(log_retention_days=366)  # not a value CloudWatch Logs accepts
