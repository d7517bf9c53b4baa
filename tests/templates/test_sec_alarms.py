"""Alarms reach someone, and security events are alarms (README "Security")."""

from __future__ import annotations

import pytest

from handler.app import _METRIC_NAMES
from handler.errors import ErrorCode
from handler.observability import METRIC_NAMESPACE
from templates_src.config import Config, ConfigError, require_alarm_subscriber

from .conftest import of_type


def _alarms(template: dict) -> dict[str, dict]:
    return {t: a["Properties"] for t, a in of_type(template, "AWS::CloudWatch::Alarm").items()}


def test_a_deployment_without_an_alarm_subscriber_is_refused_unless_opted_out():
    with pytest.raises(ConfigError, match="no alarm subscriber"):
        require_alarm_subscriber(Config(), opted_out=False)
    require_alarm_subscriber(Config(), opted_out=True)
    require_alarm_subscriber(Config(alarm_email="ops@example.com"), opted_out=False)


@pytest.mark.parametrize("which", ["primary", "standby"])
def test_the_handlers_failure_metrics_have_alarms(which, request):
    alarms = _alarms(request.getfixturevalue(which))
    payments = alarms["PaymentFailedAlarm"]
    stats = [m["MetricStat"]["Metric"] for m in payments["Metrics"] if "MetricStat" in m]
    assert {m["Namespace"] for m in stats} == {METRIC_NAMESPACE}
    assert {m["MetricName"] for m in stats} == {_METRIC_NAMES["failed"]}
    reasons = {d["Value"] for m in stats for d in m["Dimensions"] if d["Name"] == "Reason"}
    # Every reason the processor answers with a 5XX, as the handler names it.
    assert reasons == {ErrorCode.SERVICE_UNAVAILABLE.value, ErrorCode.INTERNAL_ERROR.value}
    audit = alarms["AuditFailedAlarm"]
    assert (audit["Namespace"], audit["MetricName"]) == (METRIC_NAMESPACE, "AuditFailed")
    assert audit["Dimensions"] == [{"Name": "Environment", "Value": {"Ref": "EnvironmentSuffix"}}]
    assert payments["Threshold"] == audit["Threshold"] == 0


def test_dead_letters_4xx_403_and_waf_blocks_alarm(primary):
    alarms = _alarms(primary)
    dlq = alarms["AsyncDeadLetterAlarm"]
    assert dlq["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["AsyncDeadLetterQueue", "QueueName"]}}
    ]
    assert alarms["Api4xxAlarm"]["MetricName"] == "4XXError"
    (metric_filter,) = of_type(primary, "AWS::Logs::MetricFilter").values()
    assert metric_filter["Properties"]["LogGroupName"] == {"Ref": "ApiAccessLogGroup"}
    assert metric_filter["Properties"]["FilterPattern"] == '{ $.status = "403" }'
    transformation = metric_filter["Properties"]["MetricTransformations"][0]
    assert alarms["Api403Alarm"]["MetricName"] == transformation["MetricName"]
    assert alarms["Api403Alarm"]["Namespace"] == transformation["MetricNamespace"]
    waf = alarms["WafBlockedAlarm"]
    assert (waf["Namespace"], waf["MetricName"]) == ("AWS/WAFV2", "BlockedRequests")
    assert primary["Resources"]["WafBlockedAlarm"]["Condition"] == "WafEnabled"
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_key_and_role_events_go_to_the_alarm_topic_which_lets_only_these_rules_publish(primary):
    rules = of_type(primary, "AWS::Events::Rule")
    key = rules["KeyDisabledOrDeletedRule"]["Properties"]
    assert key["EventPattern"]["detail"]["eventName"] == ["DisableKey", "ScheduleKeyDeletion"]
    role = primary["Resources"]["PaymentRoleChangedRule"]
    assert role["Condition"] == "InGlobalServiceEventsRegion"  # IAM events arrive in us-east-1
    assert role["Properties"]["EventPattern"]["detail"]["requestParameters"] == {
        "roleName": [{"prefix": "payment-"}]
    }
    for rule in rules.values():
        assert rule["Properties"]["Targets"] == [{"Arn": {"Ref": "AlarmTopic"}, "Id": "AlarmTopic"}]
        assert rule["Properties"]["Name"]["Fn::Sub"].startswith("payment-${EnvironmentSuffix}-")
    statements = primary["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    (events,) = [
        s for s in statements["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}
    ]
    assert events["Action"] == ["sns:Publish"]
    source = events["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert source.endswith(":rule/payment-${EnvironmentSuffix}-*")
    # The topic is encrypted: EventBridge needs the app key too.
    key_policy = primary["Resources"]["AppKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for s in key_policy)
