"""Tools whose dependency pins clash with the project's get a virtual environment each.

``.venvs/<name>`` (ignored by git) holds the tool installed from ``constraints/<name>.txt``, the
exact versions of its whole resolved set, committed. ``scripts/setup_tools.py`` creates or
updates them (``ensure``); everything else only finds them (``require``) and never installs:
a missing or out-of-date environment is one error naming the setup command. A stamp with the
constraint file's digest tells an environment that is up to date.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venvs"
CONSTRAINTS = ROOT / "constraints"
STAMP = "constraints.sha256"
SETUP_COMMAND = ".venv/bin/python scripts/setup_tools.py"


class ToolVenvError(RuntimeError):
    """The tool's environment is missing, out of date, or could not be created."""


@dataclass(frozen=True)
class Tool:
    name: str
    requirements: tuple[str, ...]  # what to install; the constraint file fixes every version

    @property
    def home(self) -> Path:
        return VENVS / self.name

    @property
    def constraints(self) -> Path:
        return CONSTRAINTS / f"{self.name}.txt"


CHECKOV = Tool("checkov", ("checkov",))
TASKCAT = Tool("taskcat", ("taskcat", "setuptools"))  # taskcat imports pkg_resources
TOOLS = (CHECKOV, TASKCAT)


def bin_path(home: Path, program: str) -> Path:
    return home / ("Scripts" if sys.platform == "win32" else "bin") / program


def python(home: Path) -> Path:
    return bin_path(home, "python")


def _digest(tool: Tool) -> str:
    return hashlib.sha256(tool.constraints.read_bytes()).hexdigest()


def up_to_date(tool: Tool) -> bool:
    stamp = tool.home / STAMP
    return (
        stamp.is_file()
        and stamp.read_text().strip() == _digest(tool)
        and python(tool.home).exists()
    )


def require(tool: Tool) -> Path:
    """The tool environment's interpreter; ToolVenvError naming the setup command if the
    environment is missing or was made from another constraint file."""
    if not up_to_date(tool):
        state = "is out of date" if tool.home.exists() else "is missing"
        raise ToolVenvError(
            f"the {tool.name} environment {tool.home.relative_to(ROOT)} {state}: "
            f"run `{SETUP_COMMAND}` (it installs {tool.constraints.relative_to(ROOT)})"
        )
    return python(tool.home)


def ensure(tool: Tool, log: Callable[[str], None] = print) -> bool:
    """Create or update the environment; True if it had to be (re)built."""
    if up_to_date(tool):
        return False
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / f".{tool.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another setup may be building it right now
        if up_to_date(tool):
            return False
        log(f"creating the {tool.name} environment in {tool.home} from {tool.constraints.name}")
        shutil.rmtree(tool.home, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(tool.home)],
            [
                str(python(tool.home)),
                "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
                "-c", str(tool.constraints), *tool.requirements,
            ],
        ]  # fmt: skip
        for step in steps:
            proc = subprocess.run(step, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                raise ToolVenvError(f"{' '.join(step[:4])} ... failed:\n{tail}")
        (tool.home / STAMP).write_text(_digest(tool) + "\n")
    return True
