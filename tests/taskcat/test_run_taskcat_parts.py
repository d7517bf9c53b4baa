"""The parts of ``scripts/run_taskcat.py`` that decide, in-process: plan, environment, verdict."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from payment_ops.commands import run_taskcat

ROOT = Path(__file__).resolve().parents[2]


def test_the_plan_of_the_repository_configuration_matches_the_default_build():
    plan = run_taskcat.load_plan(ROOT / ".taskcat.yml")
    assert plan["tests"] == {
        "replica": ["us-west-2"],
        "primary": ["us-east-1"],
        "standby": ["us-west-2"],
    }
    assert plan["primary_tests"] == ["primary"]
    assert plan["standby_tests"] == ["standby"]
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
    standby = config["tests"]["standby"]
    assert standby["template"] == "build/standby.template.json"
    # <ArtifactBucketPrefix>-<region> is taskcat's regional bucket tcat-<hash>-<region>
    assert standby["parameters"]["ArtifactBucketPrefix"] == "$[taskcat_autobucket_prefix]"
    assert standby["parameters"]["HandlerCodeKey"] == primary["HandlerCodeKey"]
    # the primary step reads its staged template and code in us-east-1
    assert "us-east-1" in standby["artifact_regions"]


def _steps(config: dict, test: str) -> list[dict]:
    [hook] = config["tests"][test]["prehooks"]
    assert hook["type"] == run_taskcat.HOOK
    return hook["config"]["steps"]


def test_each_test_lists_its_prerequisites_in_deployment_order():
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    assert _steps(config, "primary") == [
        {"template": "build/replica.template.json", "regions": ["us-west-2"]}
    ]
    # the keys first (the table and secret replicas need them), then the primary that makes
    # the table replica and the secret replica the standby runs on
    assert _steps(config, "standby") == [
        {"template": "build/replica.template.json", "regions": ["us-west-2"]},
        {"template": "build/primary.template.json", "regions": ["us-east-1"], "code": True},
    ]
    assert "prehooks" not in config["tests"]["replica"]


def _write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "taskcat.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_hook_regions_that_differ_from_the_replica_test_are_refused(tmp_path):
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    _steps(config, "primary")[0]["regions"] = ["eu-west-1"]
    path = _write(tmp_path, config)
    with pytest.raises(run_taskcat.UsageError, match="differ from the replica test's regions"):
        run_taskcat.load_plan(path)
    assert run_taskcat.main(["--config", str(path)]) == 2


def test_a_primary_step_in_another_region_than_the_primary_test_is_refused(tmp_path):
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    _steps(config, "standby")[1]["regions"] = ["eu-west-1"]
    with pytest.raises(run_taskcat.UsageError, match="built for one primary region"):
        run_taskcat.load_plan(_write(tmp_path, config))


def test_a_standby_test_outside_the_replica_regions_is_refused(tmp_path):
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    config["tests"]["standby"]["regions"] = ["us-east-1"]
    with pytest.raises(run_taskcat.UsageError, match="standby template runs in replica regions"):
        run_taskcat.load_plan(_write(tmp_path, config))


def test_the_former_hook_form_without_steps_is_refused(tmp_path):
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    config["tests"]["primary"]["prehooks"][0]["config"] = {
        "template": "build/replica.template.json",
        "regions": ["us-west-2"],
    }
    with pytest.raises(run_taskcat.UsageError, match="needs config.steps"):
        run_taskcat.load_plan(_write(tmp_path, config))


def test_every_suffix_is_purged_in_every_region_of_the_build():
    """A standby test's suffix has its table and keys in the primary region too (through its
    primary prerequisite), and the global table's replica in its own."""
    plan = run_taskcat.load_plan(ROOT / ".taskcat.yml")
    result = {
        "stacks": [
            {**_stack("standby", "us-west-2", "CREATE_COMPLETE", "DELETE_COMPLETE"), "suffix": "s"},
            {**_stack("replica", "us-west-2", "CREATE_COMPLETE", "DELETE_COMPLETE"), "suffix": "r"},
            {**_stack("primary", "us-east-1", "NOT_STARTED", "NOT_CREATED"), "stack_id": ""},
        ],
        "prerequisites": [
            _prerequisite("primary", 1, "replica", "us-west-2", "us-east-1", suffix="p"),
            _prerequisite("standby", 1, "replica", "us-west-2", "us-west-2", suffix="s"),
            _prerequisite("standby", 2, "primary", "us-east-1", "us-west-2", suffix="s"),
        ],
    }
    assert run_taskcat.suffix_regions(result, plan) == {
        "p": ["us-east-1", "us-west-2"],
        "r": ["us-west-2", "us-east-1"],
        "s": ["us-west-2", "us-east-1"],
    }


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


def test_the_run_environment_is_scoped_and_this_process_gets_its_own_back(monkeypatch):
    """The baseline and the purge see taskcat's environment; afterwards, even when they fail,
    this process's environment is exactly what it was (a real profile included)."""
    monkeypatch.setenv("AWS_PROFILE", "production")
    before = dict(os.environ)
    env = run_taskcat.child_environment("http://127.0.0.1:5000", "us-east-1")
    with run_taskcat.scoped_environ(env):
        assert dict(os.environ) == env
        assert "AWS_PROFILE" not in os.environ
    assert dict(os.environ) == before
    with pytest.raises(RuntimeError), run_taskcat.scoped_environ(env):
        raise RuntimeError("the purge failed")
    assert dict(os.environ) == before


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


def _prerequisite(
    test: str,
    step: int,
    template: str,
    region: str,
    for_region: str,
    created: str = "CREATE_COMPLETE",
    final: str = "DELETE_COMPLETE",
    reason: str = "",
    suffix: str = "abc",
) -> dict:
    return {
        "test": test,
        "step": step,
        "template": f"build/{template}.template.json",
        "for_region": for_region,
        "region": region,
        "suffix": suffix,
        "stack_name": f"tCaT-payment-infrastructure-{test}-prerequisite-{template}-x-{for_region}",
        "stack_id": f"arn:aws:cloudformation:{region}:1:stack/p/1",
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


def test_the_verdict_names_a_failed_prerequisite_by_test_step_and_region():
    result = {
        "stacks": [],
        "prerequisites": [
            _prerequisite("standby", 1, "replica", "us-west-2", "us-west-2"),
            _prerequisite(
                "standby", 2, "primary", "us-east-1", "us-west-2", "CREATE_FAILED", reason="no key"
            ),
        ],
        "errors": [],
    }
    assert run_taskcat.verdict(result) == [
        "standby prerequisite 2 (primary) in us-east-1: CREATE_FAILED: no key"
    ]


def test_the_table_has_one_row_per_prerequisite_with_its_step():
    result = {
        "stacks": [_stack("standby", "us-west-2", "CREATE_COMPLETE", "DELETE_COMPLETE")],
        "prerequisites": [
            _prerequisite("standby", 1, "replica", "us-west-2", "us-west-2"),
            _prerequisite("standby", 2, "primary", "us-east-1", "us-west-2"),
        ],
    }
    lines = run_taskcat.table(result).splitlines()
    assert [line.split()[:5] for line in lines[2:]] == [
        ["standby", "(prerequisite", "1:", "replica)", "us-west-2"],
        ["standby", "(prerequisite", "2:", "primary)", "us-east-1"],
    ]
