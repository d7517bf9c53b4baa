"""The project as ``pip install .`` gives it: the console scripts, and which tooling each part
of it loads."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Not installed: the deploy side never needs them, and the handler's zip holds neither.
LOCAL_ONLY = ("moto", "payment_ops.emulator", "payment_ops.localapi")


def _console_scripts() -> dict[str, str]:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    lines = setup["options.entry_points"]["console_scripts"].strip().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): target.strip() for name, target in pairs}


def _loaded_after(imports: str) -> set[str]:
    """The modules that importing ``imports`` loads, in a fresh interpreter."""
    code = f"import sys\n{imports}\nprint('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(result.stdout.split())


def _local_only(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in LOCAL_ONLY))


def test_deploy_plan_and_delete_load_neither_the_emulator_nor_the_local_api():
    loaded = _loaded_after(
        "import payment_ops.commands.deploy, payment_ops.commands.delete\n"
        "import payment_ops.deployment.deploy\n"
        "payment_ops.commands.deploy.parser()"
    )
    assert "payment_ops.deployment.deploy" in loaded  # the probe saw the import
    assert _local_only(loaded) == []


def test_the_lambda_package_loads_nothing_of_the_tooling_or_the_generator():
    loaded = _loaded_after("import handler.app, handler.audit, handler.stream_lookup")
    assert "handler.app" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in ("payment_ops", "templates_src")) == []


def test_each_documented_command_is_a_console_script():
    assert set(_console_scripts()) == {
        "payment-templates",
        "payment-deploy",
        "payment-plan",
        "payment-delete",
        "payment-drill",
        "payment-local-api",
        "payment-local-aws",
        "payment-taskcat",
        "payment-security-scan",
        "payment-clients",
        "payment-setup-tools",
    }


@pytest.mark.parametrize("command", sorted(_console_scripts()))
def test_each_console_script_prints_its_help_under_its_own_name(command: str):
    """What the installed command runs (``pip install .`` and the script itself are checked
    by hand, see the README's Layout: a test would have to install)."""
    module, function = _console_scripts()[command].split(":")
    code = (
        f"import sys; sys.argv = [{command!r}, '--help']\n"
        f"from {module} import {function}\n"
        f"sys.exit({function}())"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # payment-templates keeps the name its README documents, ``python -m templates_src``.
    name = "python -m templates_src" if command == "payment-templates" else command
    assert proc.stdout.startswith(f"usage: {name} "), proc.stdout
