"""The lint cache: an unchanged build skips cfn-lint, and nothing else does.

Whether cfn-lint ran is seen at the module boundary the cache calls it through
(``linting.lint_many``, wrapped here to record which templates it was given, then run for real)
and in what the build prints per template.
"""

from __future__ import annotations

import json
import shutil

import pytest
from troposphere import Sub
from troposphere.logs import LogGroup

from templates_src import build as build_module
from templates_src import lint_cache, linting
from templates_src.baseline import build_account_baseline
from templates_src.build import render
from templates_src.cli import main
from templates_src.config import Config

TEMPLATES = [
    "primary.template.json",
    "replica.template.json",
    "standby.template.json",
    "stackset-roles.template.json",
    "account-baseline.template.json",
    "client.template.json",
]


class LintSpy:
    """Records the templates handed to cfn-lint, and lets cfn-lint lint them."""

    def __init__(self, monkeypatch) -> None:
        self.linted: list[str] = []
        real = linting.lint_many

        def lint_many(jobs):
            self.linted.extend(job.file_name for job in jobs)
            return real(jobs)

        monkeypatch.setattr(linting, "lint_many", lint_many)


@pytest.fixture
def spy(monkeypatch) -> LintSpy:
    return LintSpy(monkeypatch)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A cache filled by one cold build of the default configuration (linting everything once
    per module, not per test)."""
    root = tmp_path_factory.mktemp("warm")
    build_module.build(Config(), root / "build", lint_cache_dir=root / "lint")
    return root / "lint"


@pytest.fixture
def cache_home(warm_cache, tmp_path, monkeypatch):
    """This test's own copy of the warm cache, where the CLI looks for it."""
    shutil.copytree(warm_cache, tmp_path / "xdg" / "payment-templates" / "lint")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "payment-templates" / "lint"


def build_cli(tmp_path, capsys, *flags: str) -> tuple[int, str, dict[str, str]]:
    code = main(["build", "--out", str(tmp_path / "out"), *flags])
    captured = capsys.readouterr()
    status = {}
    for line in captured.err.splitlines():
        if line.startswith("lint: ") and line.count(": ") == 2:
            _, file_name, how = line.split(": ")
            status[file_name] = how
    return code, captured.out, status


def test_a_second_build_reuses_every_lint_result(tmp_path, capsys, cache_home, spy):
    code, out, status = build_cli(tmp_path, capsys)
    assert code == 0 and "lint clean" in out
    assert status == dict.fromkeys(TEMPLATES, "reused from the lint cache")
    assert spy.linted == []


def test_changing_one_template_relints_only_that_one(
    tmp_path, capsys, cache_home, spy, monkeypatch
):
    original = build_module.build_replica

    def replica_described_otherwise(config):
        template = original(config)
        template.set_description(template.description + " (changed)")
        return template

    monkeypatch.setattr(build_module, "build_replica", replica_described_otherwise)
    code, _, status = build_cli(tmp_path, capsys)
    assert code == 0
    assert spy.linted == ["replica.template.json"]
    assert status["replica.template.json"] == "linted"
    assert {status[name] for name in TEMPLATES if name != "replica.template.json"} == {
        "reused from the lint cache"
    }


def test_a_cached_finding_still_fails_the_build(tmp_path, capsys, cache_home, spy, monkeypatch):
    original = build_module.build_replica

    def replica_with_a_mistake(config):
        template = original(config)
        # A Sub of a parameter that does not exist: troposphere accepts it, cfn-lint does not.
        template.add_resource(LogGroup("MistakeLogGroup", LogGroupName=Sub("${NoSuchParameter}")))
        return template

    monkeypatch.setattr(build_module, "build_replica", replica_with_a_mistake)
    first_code, first_out, _ = build_cli(tmp_path, capsys)
    assert spy.linted == ["replica.template.json"]
    second_code, second_out, status = build_cli(tmp_path, capsys)
    assert spy.linted == ["replica.template.json"]  # not linted again
    assert status["replica.template.json"] == "reused from the lint cache"
    assert first_code == second_code == 1
    assert "NoSuchParameter" in first_out
    assert second_out == first_out  # the same findings, line for line
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["templates"]["replica.template.json"]["lint"]["clean"] is False


def test_no_lint_cache_lints_every_template(tmp_path, capsys, cache_home, spy):
    before = sorted(p.name for p in cache_home.iterdir())
    code, _, status = build_cli(tmp_path, capsys, "--no-lint-cache")
    assert code == 0
    assert sorted(spy.linted) == sorted(TEMPLATES)
    assert status == dict.fromkeys(TEMPLATES, "linted")
    assert sorted(p.name for p in cache_home.iterdir()) == before


# -- the key and the entries, on one small template -------------------------------------------


@pytest.fixture(scope="module")
def baseline_job() -> linting.LintJob:
    body = render(build_account_baseline(Config()))
    return linting.LintJob("account-baseline.template.json", body, ("us-east-1", "us-west-2"))


@pytest.fixture(scope="module")
def flawed_job() -> linting.LintJob:
    """A template with a finding, so a replayed entry has something to get wrong."""
    template = build_account_baseline(Config())
    template.add_resource(LogGroup("MistakeLogGroup", LogGroupName=Sub("${NoSuchParameter}")))
    return linting.LintJob("flawed.template.json", render(template), ("us-east-1",))


def test_another_cfn_lint_version_relints(tmp_path, baseline_job, spy, monkeypatch):
    cache = lint_cache.LintCache(tmp_path)
    lint_cache.lint_all([baseline_job], cache)
    monkeypatch.setattr(linting, "cfn_lint_version", lambda: "999.0.0")
    (result,) = lint_cache.lint_all([baseline_job], cache)
    assert result.reused is False
    assert spy.linted == [baseline_job.file_name] * 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda job: job.__class__(job.file_name, job.body, ("eu-west-1",)), id="regions"
        ),
        pytest.param(
            lambda job: job.__class__(
                job.file_name, job.body.replace("payment", "paymenx"), job.regions
            ),
            id="template",
        ),
    ],
)
def test_other_regions_or_another_template_body_relint(tmp_path, baseline_job, spy, change):
    cache = lint_cache.LintCache(tmp_path)
    lint_cache.lint_all([baseline_job], cache)
    (result,) = lint_cache.lint_all([change(baseline_job)], cache)
    assert result.reused is False
    assert len(spy.linted) == 2


def test_another_rule_configuration_relints(tmp_path, baseline_job, spy, monkeypatch):
    cache = lint_cache.LintCache(tmp_path)
    lint_cache.lint_all([baseline_job], cache)
    monkeypatch.setattr(linting, "RULE_CONFIGURATION", {"I3042": {"partition": False}})
    (result,) = lint_cache.lint_all([baseline_job], cache)
    assert result.reused is False


def test_a_cfnlintrc_that_ignores_a_rule_relints(tmp_path, baseline_job, spy, monkeypatch):
    cache = lint_cache.LintCache(tmp_path / "cache")
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    lint_cache.lint_all([baseline_job], cache)
    (project / ".cfnlintrc").write_text("ignore_checks:\n  - I3042\n")
    (result,) = lint_cache.lint_all([baseline_job], cache)
    assert result.reused is False


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: "\x00\xff not json", id="garbage"),
        pytest.param(lambda text: json.dumps({"key": "other", "findings": []}), id="other-key"),
        pytest.param(
            lambda text: json.dumps({**json.loads(text), "findings": [{"file": 1}]}),
            id="bad-finding",
        ),
    ],
)
def test_a_corrupt_entry_relints_and_is_replaced(tmp_path, flawed_job, spy, corrupt):
    cache = lint_cache.LintCache(tmp_path)
    (fresh,) = lint_cache.lint_all([flawed_job], cache)
    assert any("NoSuchParameter" in f.message for f in fresh.findings)
    (entry,) = tmp_path.iterdir()
    entry.write_text(corrupt(entry.read_text()))
    (again,) = lint_cache.lint_all([flawed_job], cache)
    assert again.reused is False and again.findings == fresh.findings
    (third,) = lint_cache.lint_all([flawed_job], cache)
    assert third.reused is True and third.findings == fresh.findings
    assert len(spy.linted) == 2


def test_an_unwritable_cache_folder_only_costs_a_lint(tmp_path, baseline_job, spy):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cache = lint_cache.LintCache(blocker / "lint")
    (first,) = lint_cache.lint_all([baseline_job], cache)
    (second,) = lint_cache.lint_all([baseline_job], cache)
    assert first.reused is second.reused is False
    assert first.findings == second.findings
