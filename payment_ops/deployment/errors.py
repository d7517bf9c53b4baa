"""The one error type of the deployment scripts, carrying its exit code (CONTRACT §3)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # an AWS operation failed (the message names the region and the reason)
EXIT_USAGE = (
    2  # bad arguments or configuration, or a precondition the user must fix; nothing changed
)

EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports a command it interrupted


class DeployError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code
