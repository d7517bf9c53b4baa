"""``scripts/local_aws.py`` as a child process for one taskcat run: started, awaited, stopped.

A separate process rather than moto in this one: taskcat runs in its own environment, and a
process is what a user starts by hand with ``python scripts/local_aws.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
READY = "ready: "


class EmulatorStartError(RuntimeError):
    """The emulator exited or never said it was ready; ``log_tail`` says why."""

    def __init__(self, message: str, log_tail: str) -> None:
        super().__init__(message)
        self.log_tail = log_tail


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class EmulatorProcess:
    def __init__(self, log: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.log = log
        self.host = host
        self.port = port  # 0: the emulator picks a free port and prints it
        self.url = ""
        self._proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 60.0) -> str:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",  # what scripts/local_aws.py runs, found in an installed copy too
            "payment_ops.commands.local_aws",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        with open(self.log, "w") as log:
            self._proc = subprocess.Popen(
                command,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # Ctrl-C in the terminal reaches us, we stop it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith(READY):
                    self.url = line[len(READY) :].strip()
                    return self.url
            if self._proc.poll() is not None:
                raise EmulatorStartError(
                    f"the emulator exited with code {self._proc.returncode} before it was ready",
                    tail(self.log),
                )
            time.sleep(0.1)
        self.stop()
        raise EmulatorStartError(
            f"the emulator was not ready after {timeout:.0f} s", tail(self.log)
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # local_aws.py stops its server on KeyboardInterrupt
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
