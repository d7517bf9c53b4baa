"""A build that finds build/ as it would write it stops early; anything changed builds again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from templates_src import up_to_date

ROOT = Path(__file__).resolve().parents[2]


def _build(out: Path, *flags: str, env: dict | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "templates_src", "build", "--out", str(out), *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("up-to-date") / "build"
    assert _build(out).startswith("built ")
    return out


def test_a_second_build_with_nothing_changed_writes_nothing(built: Path):
    before = {p.name: p.stat().st_mtime_ns for p in built.iterdir()}
    assert _build(built).startswith("up to date ")
    assert {p.name: p.stat().st_mtime_ns for p in built.iterdir()} == before


def test_another_flag_builds_again(built: Path):
    assert _build(built, "--environment-suffix", "other").startswith("built ")
    assert json.loads((built / "manifest.json").read_text())["config"]["environment_suffix"] == (
        "other"
    )
    assert _build(built).startswith("built ")  # and back: the default is not up to date either


def test_a_changed_or_missing_output_builds_again(built: Path):
    (built / "REVIEW.md").write_text("edited by hand\n")
    assert _build(built).startswith("built ")
    assert (built / "REVIEW.md").read_text() != "edited by hand\n"
    (built / "primary.template.json").unlink()
    assert _build(built).startswith("built ")
    assert (built / "primary.template.json").exists()


def test_the_environment_variable_the_configuration_reads_is_an_input(built: Path):
    env = {k: v for k, v in __import__("os").environ.items() if k != "ENVIRONMENT_SUFFIX"}
    _build(built, env=env)
    assert _build(built, env={**env, "ENVIRONMENT_SUFFIX": "fromenv"}).startswith("built ")


def test_a_build_with_findings_or_another_cfn_lint_is_never_up_to_date(built, monkeypatch):
    _build(built)
    flags = {"command": "build"}
    key = json.loads((built / "manifest.json").read_text())["inputs_key"]
    assert up_to_date.up_to_date(built, key)
    # Another cfn-lint release: another key, so the templates are linted again.
    monkeypatch.setattr(up_to_date.metadata, "version", lambda name: "0.0.0-other")
    assert up_to_date.inputs_key(flags, {}) != key
    monkeypatch.undo()
    # A recorded finding: built again, so the finding is reported again, never hidden.
    manifest = json.loads((built / "manifest.json").read_text())
    first = next(iter(manifest["templates"]))
    manifest["templates"][first]["lint"]["clean"] = False
    (built / "manifest.json").write_text(json.dumps(manifest))
    assert not up_to_date.up_to_date(built, key)
