"""Tools whose dependency pins clash with the project's get a virtual environment each.

Created on first use under ``.venvs/<name>`` (ignored by git) from a requirements file of exact
pins, rebuilt only when that file changes, never installed into the project's own environment.
A lock keeps two concurrent runs (two test workers, a test and a user) from building it at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venvs"
MARKER = "requirements.sha256"


class ToolVenvError(RuntimeError):
    """The tool's environment could not be created (the message carries pip's last lines)."""


def bin_path(home: Path, program: str) -> Path:
    return home / ("Scripts" if sys.platform == "win32" else "bin") / program


def python(home: Path) -> Path:
    return bin_path(home, "python")


def ensure(home: Path, requirements: Path, log: Callable[[str], None] = print) -> Path:
    """``home``, after creating the environment there if it is missing or out of date."""
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    marker = home / MARKER

    def current() -> bool:
        return marker.is_file() and marker.read_text().strip() == wanted and python(home).exists()

    if current():
        return home
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / f".{home.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building it right now
        if current():
            return home
        log(f"creating the {home.name} environment in {home} (first use only)")
        shutil.rmtree(home, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(home)],
            [
                str(python(home)),
                "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
                "-r", str(requirements),
            ],
        ]  # fmt: skip
        for step in steps:
            proc = subprocess.run(step, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                raise ToolVenvError(f"{' '.join(step[:4])} ... failed:\n{tail}")
        marker.write_text(wanted + "\n")
    return home
