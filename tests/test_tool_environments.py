"""The tool environments: found when made from the committed constraint file, refused with the
setup command otherwise, and pinned to the exact versions of the whole resolved set."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from payment_ops import toolvenv

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+$")


@pytest.fixture
def tool(tmp_path, monkeypatch) -> toolvenv.Tool:
    """A tool whose environment and constraint file live under tmp_path."""
    monkeypatch.setattr(toolvenv, "ROOT", tmp_path)
    monkeypatch.setattr(toolvenv, "VENVS", tmp_path / ".venvs")
    monkeypatch.setattr(toolvenv, "CONSTRAINTS", tmp_path / "constraints")
    (tmp_path / "constraints").mkdir()
    (tmp_path / "constraints" / "probe.txt").write_text("probe==1.0\n")
    return toolvenv.Tool("probe", ("probe",))


def _make(tool: toolvenv.Tool, stamp: str) -> None:
    python = toolvenv.python(tool.home)
    python.parent.mkdir(parents=True)
    python.write_text("")
    (tool.home / toolvenv.STAMP).write_text(stamp + "\n")


def test_a_missing_environment_names_the_setup_command(tool):
    with pytest.raises(toolvenv.ToolVenvError) as raised:
        toolvenv.require(tool)
    assert str(raised.value) == (
        "the probe environment .venvs/probe is missing: run "
        "`.venv/bin/python scripts/setup_tools.py` (it installs constraints/probe.txt)"
    )


def test_an_environment_from_the_current_constraints_is_used(tool):
    _make(tool, hashlib.sha256(b"probe==1.0\n").hexdigest())
    assert toolvenv.require(tool) == toolvenv.python(tool.home)
    assert toolvenv.ensure(tool, log=pytest.fail) is False  # nothing to do, nothing installed


def test_a_changed_constraint_file_makes_the_environment_out_of_date(tool):
    _make(tool, hashlib.sha256(b"probe==1.0\n").hexdigest())
    tool.constraints.write_text("probe==2.0\n")
    with pytest.raises(toolvenv.ToolVenvError, match="is out of date: run `.venv/bin/python"):
        toolvenv.require(tool)


@pytest.mark.parametrize("pinned", toolvenv.TOOLS, ids=lambda pinned: pinned.name)
def test_each_constraint_file_pins_every_package_exactly(pinned):
    lines = [
        line
        for line in (ROOT / "constraints" / f"{pinned.name}.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all(PIN.match(line) for line in lines), lines
    names = {line.split("==")[0].lower() for line in lines}
    assert {requirement.lower() for requirement in pinned.requirements} <= names
