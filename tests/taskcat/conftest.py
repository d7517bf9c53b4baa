"""The ``taskcat`` marker: these tests create taskcat's environment and run it end to end.

Part of the default run (CI included); deselect locally with ``-m "not taskcat"``.
"""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "taskcat: runs scripts/run_taskcat.py end to end against the local emulator "
        "(creates .venvs/taskcat on first use; part of the default run)",
    )
