"""Tools with dependency pins that clash with the project's get a virtual environment each.

Created on first use under ``.venvs/<name>`` (ignored by git) and reused while the pinned
requirements are unchanged; never installed into the project's own environment.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venvs"
MARKER = "requirements.installed"


class ToolVenvError(RuntimeError):
    """The tool's environment could not be created (message carries pip's last lines)."""


def ensure(name: str, requirements: list[str], *, log=print) -> Path:
    """The environment's folder, created and installed if missing or out of date."""
    home = VENVS / name
    marker = home / MARKER
    wanted = "\n".join(requirements) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return home
    log(f"creating the {name} environment in {home.relative_to(ROOT)} (first use only)")
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    proc = subprocess.run(
        [str(bin_path(home, "python")), "-m", "pip", "install", "--quiet", *requirements],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ToolVenvError(f"pip install {' '.join(requirements)} failed:\n{tail}")
    marker.write_text(wanted)
    return home


def bin_path(home: Path, program: str) -> Path:
    return home / ("Scripts" if sys.platform == "win32" else "bin") / program
