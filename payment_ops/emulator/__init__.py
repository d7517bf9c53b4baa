"""The local AWS emulator: moto in server mode plus this project's extensions.

moto's CloudFormation skips resource types it has no model for, and its StackSets neither carry
updates to the instance stacks nor report failures. ``server.install()`` registers one model per
missing type (``models``), fills the gaps in existing ones (``patches``), makes stack set operations
behave like CloudFormation's (``stacksets``, one at a time: ``stackset_operations``), and
refuses what CloudFormation refuses: parameter values (``parameters``), conditional resources
on update (``updates``), DeletionPolicy on rollback, delete and removal (``deletion``). Dev
and test tooling only: nothing here reaches the generated templates.

Importing this package changes nothing: the extensions are installed only in the emulator's own
process (``payment-local-aws``), which ``Emulator`` starts as a child and stops.
"""

from __future__ import annotations

from .process import Emulator, EmulatorStartError

__all__ = ["Emulator", "EmulatorStartError"]
