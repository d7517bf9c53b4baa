"""The README's Quick start is the contract with a new user: keep it true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_quick_start_has_exactly_two_commands_build_then_test():
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert commands[0].endswith("python -m templates_src build")
    assert commands[1].endswith("python -m pytest")


def test_the_test_command_makes_the_tool_environments_before_pytest():
    """The tests never install checkov or taskcat: the command creates their environments."""
    steps = [step.strip() for step in _quick_start_commands()[1].split("&&")]
    assert steps[-2:] == [".venv/bin/python scripts/setup_tools.py", ".venv/bin/python -m pytest"]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _quick_start_commands()[1] in ci
