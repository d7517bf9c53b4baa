"""The WAF cannot be switched off silently: the build, CloudFormation and the gate each refuse
it without a written reason."""

from __future__ import annotations

import copy
import json

import pytest

from payment_ops.security import exceptions
from templates_src.build import render
from templates_src.config import Config, ConfigError
from templates_src.regions import build_primary, build_standby

REASON = "A central WAF fronts every API of this account (ticket SEC-1234)"


def _primary(config: Config) -> dict:
    return json.loads(render(build_primary(config)))


def test_waf_on_by_default_passes_with_no_exception():
    row, granted = exceptions.check(
        {"primary": _primary(Config()), "standby": json.loads(render(build_standby(Config())))}
    )
    assert (row.passed, row.failed, granted) == (2, 0, [])


def test_configuration_refuses_the_waf_off_without_a_reason():
    with pytest.raises(ConfigError, match="WAF is off without a reason"):
        Config(enable_waf=False)
    with pytest.raises(ConfigError, match="WAF is off without a reason"):
        Config(enable_waf=False, waf_exception_reason="because")  # too short to say why


def test_a_written_exception_passes_the_gate_and_is_listed():
    template = _primary(Config(enable_waf=False, waf_exception_reason=REASON))
    assert template["Parameters"]["EnableWaf"]["Default"] == "false"
    row, granted = exceptions.check({"primary": template})
    assert row.failed == 0
    assert granted == [f"primary: WAF off by default: {REASON}"]


def test_the_gate_fails_a_template_with_the_waf_off_and_no_reason():
    template = _primary(Config())
    template["Parameters"]["EnableWaf"]["Default"] = "false"
    row, _ = exceptions.check({"primary": template})
    assert row.failed == 1
    assert "gives no reason" in row.details[0]


def test_the_gate_fails_a_template_that_lost_cloudformations_refusal():
    template = copy.deepcopy(_primary(Config()))
    del template["Rules"]["WafOffOnlyWithAReason"]
    row, _ = exceptions.check({"primary": template})
    assert row.failed == 1 and "can be false without a reason" in row.details[0]


def test_cloudformation_refuses_a_stack_with_the_waf_off_and_no_reason():
    rule = _primary(Config())["Rules"]["WafOffOnlyWithAReason"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "false"]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WafExceptionReason"}, ""]}]}
