"""No function over 60 lines unless its docstring says why it is one function.

A function a reader cannot hold on one screen hides its steps; past 60 lines (``def`` to its
last line) it is split into named steps, or its docstring carries a sentence beginning
``Long because`` that gives the reason (a declarative list that reads in the order AWS
evaluates it, a scenario test whose steps depend on each other). One case per file, so a
failure names the file and every function in it that is over.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("templates_src", "payment_ops", "handler", "scripts", "benchmarks", "tests")
LIMIT = 60
REASON = re.compile(r"\bLong because\b")


def _files() -> list[Path]:
    return sorted(path for folder in SCANNED for path in (ROOT / folder).rglob("*.py"))


def over_limit(source: str) -> list[str]:
    """``name (N lines)`` for each function in ``source`` over the limit without a reason."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = node.end_lineno - node.lineno + 1
        if length > LIMIT and not REASON.search(ast.get_docstring(node) or ""):
            found.append(f"{node.name} ({length} lines, line {node.lineno})")
    return found


def test_the_check_finds_a_long_function_and_accepts_a_reason():
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    long = f"def f():\n{body}\n"
    assert over_limit(long) == [f"f ({LIMIT + 1} lines, line 1)"]
    reasoned = f'def f():\n    """Long because it is one table."""\n{body}\n'
    assert over_limit(reasoned) == []
    assert over_limit("def g():\n    return 1\n") == []


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_is_over_the_limit_without_a_reason(path: Path):
    assert over_limit(path.read_text()) == []
