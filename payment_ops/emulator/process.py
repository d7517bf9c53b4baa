"""The emulator as a child process: ``payment-local-aws`` started, awaited, stopped.

moto's extensions (``server.install``) change moto's classes for the whole process and cannot
be taken back, so they are installed only in the emulator's own process. The process that
starts it - a test, the local API, the failover drill, a taskcat run - keeps a stock moto (the
handler tests' in-process ``mock_aws`` included) and talks to the emulator over HTTP only.
Nothing here imports moto.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

LOCAL_AWS = "payment_ops.commands.local_aws"  # run with ``python -m``: works installed too
READY = "ready: "
START_TIMEOUT_S = 60.0


class EmulatorStartError(OSError):
    """The emulator exited or never said it was ready; ``log_tail`` says why.

    An ``OSError``, as a port that cannot be bound is in-process."""

    def __init__(self, message: str, log_tail: str) -> None:
        super().__init__(f"{message}: {log_tail}" if log_tail else message)
        self.message = message
        self.log_tail = log_tail


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Emulator:
    """One emulator process on ``host``; ``port`` 0 or None lets it pick a free one.

    ``log`` keeps its output (default: a temporary file, removed at stop). ``setup`` is Python
    run in the emulator's process before it serves: a fault injected where only that process
    can reach (a test's provider whose answers never arrive)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        log: Path | None = None,
        setup: str = "",
    ) -> None:
        self.host = host
        self.port = port or 0
        self.log = log
        self.setup = setup
        self.url = ""
        self._own_log: Path | None = None
        self._proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _command(self) -> list[str]:
        arguments = [
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--parent-pid",
            str(os.getpid()),
        ]
        if not self.setup:
            return [sys.executable, "-m", LOCAL_AWS, *arguments]
        run = (
            "import runpy, sys\n"
            f"sys.argv = [{LOCAL_AWS!r}, *{arguments!r}]\n"
            f"runpy.run_module({LOCAL_AWS!r}, run_name='__main__', alter_sys=True)\n"
        )
        return [sys.executable, "-c", f"{self.setup}\n{run}"]

    def start(self, timeout: float = START_TIMEOUT_S) -> Emulator:
        if self.log is None:
            handle, name = tempfile.mkstemp(prefix="emulator-", suffix=".log")
            os.close(handle)
            self.log = self._own_log = Path(name)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:
            self._proc = subprocess.Popen(
                self._command(),
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
                    self.port = int(self.url.rsplit(":", 1)[1])
                    return self
            if self._proc.poll() is not None:
                code, log_tail = self._proc.returncode, tail(self.log)
                self.stop()
                raise EmulatorStartError(
                    f"the emulator exited with code {code} before it was ready", log_tail
                )
            time.sleep(0.05)
        log_tail = tail(self.log)
        self.stop()
        raise EmulatorStartError(f"the emulator was not ready after {timeout:.0f} s", log_tail)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # local_aws.py stops its server on KeyboardInterrupt
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._own_log is not None:
            self._own_log.unlink(missing_ok=True)
            self.log = self._own_log = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
