"""The one place where an error becomes one line on stderr and an exit code (CONTRACT §3).

``DeployError`` carries its own code (1: an AWS operation failed; 2: bad input or a
precondition, nothing changed); a ``ConfigError`` of the configuration is bad input; an AWS
error nobody anticipated is one line and 1; Ctrl-C is 130, as a shell reports it. Anything
else is a bug and keeps its traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from payment_ops.deployment.aws import error_code
from payment_ops.deployment.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    DeployError,
)
from templates_src.config import ConfigError


def describe(command: str, error: BaseException) -> tuple[str, int] | None:
    """``error`` as its one line and exit code; None when it is not an operator's error."""
    if isinstance(error, ConfigError):
        return f"{command}: error: {error}", EXIT_USAGE
    if isinstance(error, DeployError):
        label = f"{error.label}: " if error.label else ""
        return f"{command}: {label}{error}", error.exit_code
    if error_code(error) or type(error).__module__.startswith("botocore"):
        return f"{command}: error: {error}", EXIT_FAILED
    return None


def run(
    command: str,
    body: Callable[[], int],
    *,
    interrupted: str = "interrupted",
) -> int:
    """``body()``'s exit code, or its error reported as ``describe`` says."""
    try:
        return body()
    except KeyboardInterrupt as error:
        print(f"{command}: {interrupted}", file=sys.stderr)
        # A signal handler may say which signal it was (143 for SIGTERM).
        return getattr(error, "exit_code", EXIT_INTERRUPTED)
    except Exception as error:
        described = describe(command, error)
        if described is None:
            raise
        line, code = described
        print(line, file=sys.stderr)
        return code
