"""The lint server: workers forked from it lint as the caller would, and it holds nothing of
the caller's.

The server starts before the caller knows whether it will lint, and outlives a caller that
did not need it until its preload is done; so it must not keep the caller's output pipes open,
and its workers must take the caller's environment and folder as they are when they lint, not
as they were when the server started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from troposphere import Sub
from troposphere.logs import LogGroup

from templates_src import linting
from templates_src.baseline import build_account_baseline
from templates_src.build import render
from templates_src.config import Config

ROOT = Path(__file__).resolve().parents[2]


def flawed_job() -> linting.LintJob:
    template = build_account_baseline(Config())
    template.add_resource(LogGroup("MistakeLogGroup", LogGroupName=Sub("${NoSuchParameter}")))
    return linting.LintJob("flawed.template.json", render(template), ("us-east-1",))


def _holders(inode: int) -> list[int]:
    """Every process but this one with the pipe ``inode`` open."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:  # gone, or not ours to read
            continue
        if f"pipe:[{inode}]" in links:
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc (Linux)")
def test_a_refused_build_leaves_no_process_holding_its_output(tmp_path):
    build = subprocess.Popen(
        [sys.executable, "-m", "templates_src", "build", "--environment-suffix", "Bad"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert build.wait() == 2
    pipes = [os.fstat(stream.fileno()).st_ino for stream in (build.stdout, build.stderr)]
    assert [_holders(inode) for inode in pipes] == [[], []]
    error = build.stderr.read().decode()
    build.stdout.close()
    build.stderr.close()
    assert error.count("\n") == 1 and "error" in error
    assert not (tmp_path / "build").exists()


def test_workers_read_the_callers_cfnlintrc_as_it_is_when_they_lint(tmp_path, monkeypatch):
    linting.start_server()  # before the configuration below exists
    job = flawed_job()
    (findings,) = linting.lint_many([job])
    rules = sorted({finding.rule for finding in findings})
    assert rules, "the flawed template must have a finding to ignore"

    home = tmp_path / "home"
    home.mkdir()
    (home / ".cfnlintrc").write_text("ignore_checks:\n" + "".join(f"  - {r}\n" for r in rules))
    monkeypatch.setenv("HOME", str(home))
    assert linting.lint_many([job]) == [[]]

    monkeypatch.setenv("HOME", str(tmp_path))  # no configuration file there
    project = tmp_path / "project"
    project.mkdir()
    (project / ".cfnlintrc").write_text((home / ".cfnlintrc").read_text())
    assert linting.lint_many([job]) == [findings]
    monkeypatch.chdir(project)
    assert linting.lint_many([job]) == [[]]
