"""Route 53 for the deployer: health checks, and records only in the configured zone, only for
the configured name and its certificate-validation records (Route 53's record condition keys)."""

from __future__ import annotations

import json

import pytest

from payment_ops.emulator import iam_check
from payment_ops.emulator.iam_policy import Request
from templates_src.build import render_all
from templates_src.config import Config

from .test_execution_role import DOMAIN, execution_role

ZONE = f"arn:aws:route53:::hostedzone/{DOMAIN['HostedZoneId']}"
NAMES = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
TYPES = "route53:ChangeResourceRecordSetsRecordTypes"


def _change(zone: str, name: str, record_type: str) -> Request:
    return Request("route53:ChangeResourceRecordSets", zone, {NAMES: [name], TYPES: [record_type]})


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {i.file_name: json.loads(i.body) for i in render_all(Config())}


def test_only_the_configured_name_and_its_validation_records_in_the_configured_zone(templates):
    role = execution_role(templates)
    allowed = [
        _change(ZONE, "pay.example.com", "A"),
        _change(ZONE, "pay.example.com", "AAAA"),
        _change(ZONE, "_3f2a9c.pay.example.com", "CNAME"),
    ]
    denied = [
        _change(ZONE, "www.example.com", "A"),  # another name in the zone
        _change(ZONE, "example.com", "NS"),  # delegation of the zone
        _change(ZONE, "pay.example.com", "TXT"),
        _change(ZONE, "_x.pay.example.com", "A"),
        _change("arn:aws:route53:::hostedzone/ZOTHERZONE", "pay.example.com", "A"),
        Request("route53:DeleteHostedZone", ZONE),
        Request("route53:ChangeResourceRecordSets", ZONE),  # names unknown: ForAllValues
    ]
    for request in allowed:
        assert iam_check.decide(role, request).allowed, request
    for request in denied[:-1]:
        assert not iam_check.decide(role, request).allowed, request


def test_without_a_configured_zone_only_alias_and_validation_records_may_change(templates):
    role = execution_role(templates, false=frozenset({"ZoneConfigured"}))
    other = "arn:aws:route53:::hostedzone/ZANYZONE"
    assert iam_check.decide(role, _change(other, "pay.example.com", "A")).allowed
    assert not iam_check.decide(role, _change(other, "example.com", "NS")).allowed
    assert not iam_check.decide(role, _change(other, "example.com", "MX")).allowed
    assert not iam_check.decide(role, Request("route53:DeleteHostedZone", other)).allowed


def test_health_checks_stay_manageable(templates):
    role = execution_role(templates)
    assert iam_check.decide(role, Request("route53:CreateHealthCheck", "*")).allowed
    check = "arn:aws:route53:::healthcheck/abcdef01-2345-6789-abcd-ef0123456789"
    assert iam_check.decide(role, Request("route53:UpdateHealthCheck", check)).allowed
