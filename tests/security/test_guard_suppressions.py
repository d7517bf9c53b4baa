"""AWS Guard Rules Registry suppressions (``Metadata.guard.SuppressedRules``) carry reasons."""

from __future__ import annotations

import json

import pytest

from payment_ops.security import suppressions
from templates_src.build import render_all
from templates_src.common import GUARD_REASONS
from templates_src.config import Config


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    # The trail on, so that its bucket's and its own suppressions are built too.
    return {
        item.file_name: json.loads(item.body) for item in render_all(Config(enable_cloudtrail=True))
    }


def _guard_suppressions(templates):
    for name, template in sorted(templates.items()):
        for logical_id, resource in template["Resources"].items():
            metadata = resource.get("Metadata", {})
            for rule in metadata.get("guard", {}).get("SuppressedRules", []):
                yield name, logical_id, rule, metadata.get(GUARD_REASONS, {}).get(rule, "")


def test_every_guard_suppression_carries_a_reason(templates):
    found = list(_guard_suppressions(templates))
    assert len(found) >= 8  # stage, buckets, functions, trail
    for name, logical_id, rule, reason in found:
        assert rule.isupper(), (name, logical_id, rule)  # guard matches the rule's own name
        assert len(reason.split()) >= 8, (name, logical_id, rule)


def test_the_gate_lists_guard_suppressions_and_refuses_one_without_a_reason(templates):
    primary = templates["primary.template.json"]
    assert ("ApiStage", "guard", "API_GW_CACHE_ENABLED_AND_ENCRYPTED") in {
        row[:3] for row in suppressions.listed(primary)
    }
    assert suppressions.unexplained(primary) == []
    bare = {"Resources": {"Bucket": {"Metadata": {"guard": {"SuppressedRules": ["S3_X"]}}}}}
    assert suppressions.unexplained(bare) == [
        f"Bucket: guard rule S3_X suppressed without a reason in {GUARD_REASONS}"
    ]


def test_no_guard_suppression_of_the_rules_this_system_meets(templates):
    """Inline policies and the lock of the audit buckets are fixed, never suppressed; the two
    StackSet roles alone keep inline policies, on purpose (the reason is in their Metadata)."""
    inline_on_purpose = {
        ("stackset-roles.template.json", "AdministrationRole"),
        ("stackset-roles.template.json", "ExecutionRole"),
    }
    for name, logical_id, rule, _ in _guard_suppressions(templates):
        if rule == "IAM_NO_INLINE_POLICY_CHECK":
            assert (name, logical_id) in inline_on_purpose, (name, logical_id)
        if logical_id in ("AuditBucket", "TrailBucket"):
            assert rule != "S3_BUCKET_DEFAULT_LOCK_ENABLED", (name, logical_id)
