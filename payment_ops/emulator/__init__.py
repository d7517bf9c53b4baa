"""The local AWS emulator: moto in server mode plus this project's extensions.

moto's CloudFormation skips resource types it has no model for, and its StackSets neither carry
updates to the instance stacks nor report failures. ``install()`` registers one model per missing
type (``models``), fills the gaps in existing ones (``patches``), makes stack set operations
behave like CloudFormation's (``stacksets``, one at a time: ``stackset_operations``), and
refuses what CloudFormation refuses: parameter values (``parameters``), conditional resources
on update (``updates``), DeletionPolicy on rollback, delete and removal (``deletion``). Dev
and test tooling only: nothing here reaches the generated templates.
"""

from __future__ import annotations

from .server import Emulator, install

__all__ = ["Emulator", "install"]
