"""Tests that run checkov or taskcat need their environments, made before the run by
``scripts/setup_tools.py``; a test never installs one. Missing: the test fails, saying so."""

from __future__ import annotations

from pathlib import Path

import pytest

from payment_ops import toolvenv


def require(tool: toolvenv.Tool) -> Path:
    """The tool environment's interpreter, or a failed test naming the setup command."""
    try:
        return toolvenv.require(tool)
    except toolvenv.ToolVenvError as error:
        pytest.fail(str(error), pytrace=False)
