"""taskcat's own virtual environment, ``.venvs/taskcat/``, created on first use and reused.

taskcat pins ``jsonschema<4``, which conflicts with the project's dependencies (moto's server,
cfn-lint), so it never goes into the project's environment. The environment is rebuilt only when
``requirements.txt`` (exact pins) changes; a lock keeps two concurrent runs from building it at
the same time.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
MARKER = "requirements.sha256"


class TaskcatEnvironmentError(RuntimeError):
    """The environment could not be created; the message carries pip's last lines."""


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def python(home: Path) -> Path:
    return home / "bin" / "python"


def ensure(home: Path, log: Callable[[str], None] = print) -> Path:
    """The environment's interpreter, after creating the environment if missing or stale."""
    wanted = _digest()
    marker = home / MARKER
    if marker.is_file() and marker.read_text().strip() == wanted and python(home).exists():
        return python(home)
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / f".{home.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building it right now
        if marker.is_file() and marker.read_text().strip() == wanted:
            return python(home)
        log(f"creating the taskcat environment in {home} (first use only)")
        shutil.rmtree(home, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(home)],
            [
                str(python(home)),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                str(REQUIREMENTS),
            ],
        ]
        for step in steps:
            proc = subprocess.run(step, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                raise TaskcatEnvironmentError(f"{' '.join(step[:4])} ... failed:\n{tail}")
        marker.write_text(wanted + "\n")
    return python(home)
