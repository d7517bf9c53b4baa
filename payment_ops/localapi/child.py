"""``scripts/local_api.py`` as a child process, as the load test and the tests start it.

Free ports, its output in a file, ready when it has written its info file and printed
``ready:``; stopped with SIGINT like a user's Ctrl-C (killed only if that does not work).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class LocalApiStartError(RuntimeError):
    """The local API exited or did not become ready; the message ends with its output."""


class LocalApiChild:
    def __init__(self, work: Path, *extra: str) -> None:
        self.info_file = work / "info.json"
        self.log = work / "local-api.log"
        self.command = [
            sys.executable,
            str(ROOT / "scripts" / "local_api.py"),
            "--port", "0",
            "--emulator-port", "0",
            "--function-logs", str(work / "functions.log"),
            "--info-file", str(self.info_file),
            *extra,
        ]  # fmt: skip
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self, timeout_s: float = 120.0) -> dict[str, Any]:
        # Its own defaults, not the caller's AWS or suffix settings: always the local emulator.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("AWS_") and k != "ENVIRONMENT_SUFFIX"
        }
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**env, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # the caller, not the terminal, sends its SIGINT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.info_file.exists() and "ready: " in self.output:
                self.info = json.loads(self.info_file.read_text())
                return self.info
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.kill()
        raise LocalApiStartError(f"the local API did not start:\n{self.output[-3000:]}")

    def interrupt(self, timeout_s: float = 30) -> int:
        """SIGINT, as Ctrl-C; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=timeout_s)

    def stop(self, timeout_s: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.interrupt(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
