"""ruff (configured in ruff.toml) over the whole repository: lint findings fail the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> str:
    found = Path(sys.executable).parent / "ruff"
    return str(found) if found.exists() else shutil.which("ruff") or "ruff"


def test_ruff_check_is_clean():
    proc = subprocess.run([_ruff(), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean():
    proc = subprocess.run(
        [_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
