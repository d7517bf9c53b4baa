"""The parts of ``scripts/run_taskcat.py`` that decide, in-process: plan, environment, verdict."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from scripts import run_taskcat

ROOT = Path(__file__).resolve().parents[2]


def test_the_plan_of_the_repository_configuration_matches_the_default_build():
    plan = run_taskcat.load_plan(ROOT / ".taskcat.yml")
    assert plan["tests"] == {"replica": ["us-west-2"], "primary": ["us-east-1"]}
    assert plan["primary_tests"] == ["primary"]
    assert plan["primary_region"] == "us-east-1"
    assert plan["replica_regions"] == ["us-west-2"]


def test_the_configuration_asks_taskcat_for_what_the_templates_need():
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    assert config["project"]["package_lambda"] is False
    assert config["project"]["s3_regional_buckets"] is True  # Lambda code from its own region
    for test in config["tests"].values():
        assert test["parameters"]["EnvironmentSuffix"] == "$[taskcat_random-string]"
    primary = config["tests"]["primary"]["parameters"]
    assert primary["ArtifactBucketName"] == "$[taskcat_autobucket]"
    assert primary["HandlerCodeKey"] == "$[taskcat_project_name]/build/payment_processor.zip"


def test_hook_regions_that_differ_from_the_replica_test_are_refused(tmp_path):
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    config["tests"]["primary"]["prehooks"][0]["config"]["regions"] = ["eu-west-1"]
    path = tmp_path / "taskcat.yml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(run_taskcat.UsageError, match="differ from the replica test's regions"):
        run_taskcat.load_plan(path)
    assert run_taskcat.main(["--config", str(path)]) == 2


def test_the_emulator_run_gets_dummy_credentials_and_no_profile(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-token")
    env = run_taskcat.child_environment("http://127.0.0.1:5000", "us-east-1")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull


def test_the_aws_run_never_keeps_an_emulator_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5000")
    monkeypatch.setenv("AWS_PROFILE", "test-account")
    env = run_taskcat.child_environment(None, "us-east-1")
    assert not [name for name in env if name.startswith("AWS_ENDPOINT_URL")]
    assert env["AWS_PROFILE"] == "test-account"


def _stack(test: str, region: str, created: str, final: str, reason: str = "") -> dict:
    return {
        "test": test,
        "region": region,
        "stack_name": f"tCaT-payment-infrastructure-{test}-x",
        "stack_id": f"arn:aws:cloudformation:{region}:1:stack/tCaT-{test}/1",
        "suffix": "abc",
        "created_status": created,
        "created_reason": reason,
        "final_status": final,
        "final_reason": "",
    }


def test_the_verdict_names_each_failed_region_with_its_reason():
    result = {
        "stacks": [
            _stack("replica", "us-west-2", "CREATE_COMPLETE", "DELETE_COMPLETE"),
            _stack("primary", "us-east-1", "CREATE_FAILED", "DELETE_COMPLETE", "Table: no key"),
        ],
        "prerequisites": [],
        "errors": [],
    }
    assert run_taskcat.verdict(result) == ["primary us-east-1: CREATE_FAILED: Table: no key"]


def test_a_stack_left_behind_fails_the_run_even_when_it_was_created():
    result = {
        "stacks": [_stack("replica", "us-west-2", "CREATE_COMPLETE", "DELETE_FAILED")],
        "prerequisites": [],
        "errors": [],
    }
    [problem] = run_taskcat.verdict(result)
    assert problem.startswith("replica us-west-2: not deleted (DELETE_FAILED")
    assert "is left in us-west-2" in problem


def test_the_table_has_one_row_per_test_and_region():
    result = {
        "stacks": [
            _stack("replica", "us-west-2", "CREATE_COMPLETE", "DELETE_COMPLETE"),
            _stack("primary", "us-east-1", "CREATE_COMPLETE", "DELETE_COMPLETE"),
        ]
    }
    lines = run_taskcat.table(result).splitlines()
    assert lines[0].split() == ["test", "region", "suffix", "created", "deleted", "stack"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["replica", "us-west-2"],
        ["primary", "us-east-1"],
    ]
