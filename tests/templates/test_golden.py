"""The rendered templates and REVIEW.md of the default configuration, against reviewed snapshots.

A change to the generator shows up here as a readable diff. To accept it on purpose:

    .venv/bin/python -m pytest tests/templates/test_golden.py --update-golden

then review `git diff tests/golden/` like any other change.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from templates_src.baseline import build_account_baseline
from templates_src.build import render, render_all
from templates_src.config import Config
from templates_src.regions import build_primary, build_replica, build_standby
from templates_src.review import render_review
from templates_src.stackset_roles import build_stackset_roles

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def _review() -> str:
    config = Config()
    templates = {
        item.file_name: (json.loads(item.body), list(item.regions)) for item in render_all(config)
    }
    return render_review(templates, config.describe())


CASES = {
    "primary.template.json": lambda: render(build_primary(Config())),
    "replica.template.json": lambda: render(build_replica(Config())),
    "standby.template.json": lambda: render(build_standby(Config())),
    "stackset-roles.template.json": lambda: render(build_stackset_roles(Config())),
    "account-baseline.template.json": lambda: render(build_account_baseline(Config())),
    "REVIEW.md": _review,
}


@pytest.mark.parametrize("file_name", sorted(CASES))
def test_output_matches_golden_file(file_name, request):
    rendered = CASES[file_name]()
    golden = GOLDEN / file_name
    if request.config.getoption("--update-golden"):
        golden.write_text(rendered)
        return
    assert golden.exists(), f"no golden file {golden}: run with --update-golden and review it"
    expected = golden.read_text()
    if rendered != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                rendered.splitlines(keepends=True),
                fromfile=f"golden/{file_name}",
                tofile=f"rendered/{file_name}",
                n=2,
            )
        )
        pytest.fail(
            f"{file_name} differs from its golden file (refresh deliberately with "
            f"--update-golden):\n{diff[:20000]}",
            pytrace=False,
        )
