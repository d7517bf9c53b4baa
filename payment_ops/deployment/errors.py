"""The one error type of the tooling, carrying its exit code (CONTRACT §3); the commands turn
it into one line and that code in ``payment_ops.commands.exits``."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # an AWS operation failed (the message names the region and the reason)
EXIT_USAGE = (
    2  # bad arguments or configuration, or a precondition the user must fix; nothing changed
)

EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports a command it interrupted


class DeployError(Exception):
    # The word between the command and the message on stderr: "deploy: error: ...".
    label = "error"

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code
