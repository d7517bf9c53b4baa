from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ToolResult:
    """One row of the gate's table; ``details`` explains every failure."""

    tool: str
    passed: int
    failed: int
    skipped: int
    details: list[str] = field(default_factory=list)
    # (file, logical id, check) of every suppression the tool actually applied
    applied: set[tuple[str, str, str]] = field(default_factory=set)
