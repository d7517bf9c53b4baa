"""The security gate end to end, and proof that each of its tools can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from payment_ops import toolvenv
from payment_ops.commands.security_scan import scan
from payment_ops.security import iam_lint, suppressions
from payment_ops.security.checkov_gate import run_checkov
from templates_src.config import Config
from tests.tool_environments import require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkov():
    return require(toolvenv.CHECKOV)


@pytest.fixture(scope="module")
def gate(checkov):
    rows, listed = scan(Config(), log=lambda message: None)
    return {row.tool: row for row in rows}, listed


def test_gate_passes_with_zero_failures(gate):
    rows, _ = gate
    assert set(rows) == {
        "cfn-lint",
        "checkov",
        "parliament",
        "security exceptions",
        "suppression reasons",
    }
    for row in rows.values():
        assert row.failed == 0, (row.tool, row.details)
    # primary, replica, standby, StackSet roles, baseline, client
    assert rows["cfn-lint"].passed == 6
    assert rows["checkov"].passed > 100  # checkov really ran its CloudFormation checks
    assert rows["parliament"].passed > 10


def test_every_suppression_has_a_reason_and_is_used(gate):
    rows, listed = gate
    assert listed
    for file, resource, tool, check, reason in listed:
        assert len(reason) > 40, (file, resource, tool, check)
    checkov_skips = {(f, r, c) for f, r, t, c, _ in listed if t == "checkov"}
    assert checkov_skips == rows["checkov"].applied


def test_cli_prints_the_table_and_writes_json(tmp_path, checkov):
    out = tmp_path / "scan.json"
    proc = subprocess.run(
        [sys.executable, "scripts/security_scan.py", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header = proc.stdout.splitlines()[0].split()
    assert header == ["tool", "passed", "failed", "skipped"]
    report = json.loads(out.read_text())
    assert {t["tool"] for t in report["tools"]} >= {"cfn-lint", "checkov", "parliament"}
    assert all(s["reason"] for s in report["suppressions"])


def test_cli_rejects_bad_configuration():
    proc = subprocess.run(
        [sys.executable, "scripts/security_scan.py", "--environment-suffix", "BAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "invalid environment suffix" in proc.stderr


def test_a_suppression_without_reason_is_refused():
    template = {
        "Resources": {
            "Quiet": {
                "Type": "AWS::S3::Bucket",
                "Metadata": {
                    "checkov": {"skip": [{"id": "CKV_AWS_18"}]},
                    "cfn-lint": {"config": {"ignore_checks": ["W3005"]}},
                    "parliament": {"ignore": [{"issue": "RESOURCE_STAR", "comment": " "}]},
                },
            }
        }
    }
    problems = suppressions.unexplained(template)
    assert len(problems) == 3
    assert any("CKV_AWS_18" in p for p in problems)
    assert any("W3005" in p for p in problems)
    assert any("RESOURCE_STAR" in p for p in problems)


def test_the_iam_linter_flags_a_wildcard_policy():
    template = {
        "Resources": {
            "Loose": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyName": "everything",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
                                ],
                            },
                        }
                    ]
                },
            }
        }
    }
    result = iam_lint.lint_policies({"loose.json": (template, "us-east-1")})
    assert result.failed >= 1
    assert any("RESOURCE_STAR" in d for d in result.details)


def test_checkov_flags_an_unencrypted_public_bucket(tmp_path, checkov):
    (tmp_path / "bad.template.json").write_text(
        json.dumps(
            {
                "Resources": {
                    "Open": {
                        "Type": "AWS::S3::Bucket",
                        "Properties": {
                            "PublicAccessBlockConfiguration": {"BlockPublicAcls": False}
                        },
                    }
                }
            }
        )
    )
    result = run_checkov(tmp_path, ["bad.template.json"])
    assert result.failed >= 1
    assert any("AWS::S3::Bucket.Open" in d for d in result.details)
