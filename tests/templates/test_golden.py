"""The rendered templates and REVIEW.md of four configurations, against reviewed snapshots.

Each variant's files are in ``tests/golden/<variant>/``. A change to the generator shows up here
as a readable diff. To accept it on purpose (every variant, one command):

    .venv/bin/python -m pytest tests/templates/test_golden.py --update-golden

then review `git diff tests/golden/` like any other change.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from templates_src import naming, routing
from templates_src.build import render, render_all
from templates_src.config import Config
from templates_src.review import render_review

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


@dataclass(frozen=True)
class Variant:
    config: Config
    # Deploy-time choices made as template parameters: set as the parameters' defaults, so the
    # snapshot is the template as a stack with those values would be created from it.
    parameter_defaults: dict[str, str] = field(default_factory=dict)


VARIANTS = {
    "default": Variant(Config()),
    "three-replica-regions": Variant(
        Config(replica_regions=("us-west-2", "eu-west-1", "ap-southeast-2"))
    ),
    # The domain is a stack parameter pair (both or neither), not a build setting.
    "custom-domain": Variant(
        Config(),
        {
            routing.HOSTED_ZONE_PARAM: "Z0123456789ABCDEFGHIJ",
            routing.DOMAIN_PARAM: "pay.example.com",
        },
    ),
    # The longest suffix CONTRACT §1 allows, and not a throw-away one (COMPLIANCE lock mode).
    "20-character-suffix": Variant(Config(environment_suffix="payments-eu-central1")),
}


@functools.cache
def rendered(variant_name: str) -> dict[str, str]:
    """Every template ``build`` writes for the variant, and its REVIEW.md, by file name."""
    variant = VARIANTS[variant_name]
    naming.verify(variant.config)  # a configuration the build would refuse has no snapshot
    files, review_input = {}, {}
    for item in render_all(variant.config):
        for name, value in variant.parameter_defaults.items():
            if name in item.template.parameters:
                item.template.parameters[name].Default = value
        body = render(item.template)
        files[item.file_name] = body
        review_input[item.file_name] = (json.loads(body), list(item.regions))
    files["REVIEW.md"] = render_review(review_input, variant.config.describe())
    return files


def test_the_variants_differ_where_they_should():
    """Each variant is a distinct snapshot, not a copy of the default."""
    default = rendered("default")
    for name in VARIANTS:
        if name != "default":
            assert rendered(name) != default, name
    assert "pay.example.com" in rendered("custom-domain")["primary.template.json"]
    assert "payments-eu-central1" in rendered("20-character-suffix")["REVIEW.md"]
    assert "ap-southeast-2" in rendered("three-replica-regions")["REVIEW.md"]


def _diff(variant: str, file_name: str, expected: str, text: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"golden/{variant}/{file_name}",
            tofile=f"rendered/{variant}/{file_name}",
            n=2,
        )
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_output_matches_golden_files(variant, request):
    """Every file of the variant equals its snapshot, and the folder holds no other (a template
    the build no longer writes leaves no stale snapshot behind)."""
    files = rendered(variant)
    folder = GOLDEN / variant
    if request.config.getoption("--update-golden"):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in {p.name for p in folder.iterdir()} - set(files):
            (folder / stale).unlink()
        for file_name, text in files.items():
            (folder / file_name).write_text(text)
        return
    assert folder.is_dir(), f"no golden folder {folder}: run with --update-golden and review it"
    problems = []
    for stale in sorted({p.name for p in folder.iterdir()} - set(files)):
        problems.append(f"{variant}/{stale}: a snapshot of a file the build no longer writes")
    for file_name, text in sorted(files.items()):
        golden = folder / file_name
        if not golden.exists():
            problems.append(f"{variant}/{file_name}: no golden file")
        elif golden.read_text() != text:
            diff = _diff(variant, file_name, golden.read_text(), text)
            problems.append(f"{variant}/{file_name} differs from its golden file:\n{diff[:20000]}")
    if problems:
        pytest.fail(
            "\n".join(problems) + "\n(refresh deliberately with --update-golden, then review "
            "git diff tests/golden/)",
            pytrace=False,
        )
