"""The primary health check inverted for the length of a ``with`` block, and always put back.

Inverting a health check makes Route 53 treat the healthy primary as unhealthy, which is what
sends the domain to the SECONDARY record. Whatever ends the block (success, an error, Ctrl-C,
SIGTERM) the check is set back to ``Inverted=False`` and read back to confirm. SIGINT and SIGTERM
become ``Interrupted`` while the block runs, so the restore runs for them too; during the restore
itself a signal is held back and raised once the check is confirmed restored.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from payment_ops.deployment.errors import DeployError

from .discovery import ROUTE53_REGION, is_inverted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
RESTORE_ATTEMPTS = 5


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while the check was inverted."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # 130 for SIGINT, 143 for SIGTERM


class RestoreFailed(DeployError):
    """The check could not be confirmed back to Inverted=False: a person must act."""

    label = "RESTORE FAILED"


def set_inverted(aws: Any, health_check_id: str, inverted: bool) -> None:
    aws.client("route53", ROUTE53_REGION).update_health_check(
        HealthCheckId=health_check_id, Inverted=inverted
    )


def restore(aws: Any, health_check_id: str, sleep: Callable[[float], None] = time.sleep) -> None:
    """``Inverted=False``, confirmed with GetHealthCheck; retried, else ``RestoreFailed``."""
    last: Exception | None = None
    for attempt in range(RESTORE_ATTEMPTS):
        try:
            set_inverted(aws, health_check_id, False)
            if not is_inverted(aws, health_check_id):
                return
            last = RuntimeError("GetHealthCheck still reads Inverted=true")
        except Exception as error:  # throttled, a network blip: try again
            last = error
        sleep(min(2.0**attempt, 10.0))
    raise RestoreFailed(
        f"health check {health_check_id} may still be inverted ({last}); put it back with "
        f"`python scripts/failover_drill.py ... --restore` or: aws route53 update-health-check "
        f"--health-check-id {health_check_id} --no-inverted"
    )


class _Signals:
    """While installed, the first SIGINT/SIGTERM raises ``Interrupted``; any later one, and any
    one once the restore has begun, is only recorded: nothing cuts the restore short."""

    def __init__(self) -> None:
        self.raising = True
        self.held: list[int] = []
        self.previous: dict[int, Any] = {}

    def handler(self, signum: int, frame: Any) -> None:
        if self.raising:
            self.raising = False
            raise Interrupted(signum)
        self.held.append(signum)

    def install(self) -> None:
        # Only the main thread can install handlers: elsewhere the defaults stay.
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self.handler) for s in SIGNALS}

    def uninstall(self) -> None:
        for s, old in self.previous.items():
            signal.signal(s, old)
        self.previous = {}


@contextmanager
def inverted(aws: Any, health_check_id: str, out: TextIO) -> Iterator[float]:
    """Invert the check; yields the monotonic time of the inversion."""
    signals = _Signals()
    signals.install()
    sent = False
    try:
        sent = True  # from here on the call may have reached Route 53
        set_inverted(aws, health_check_id, True)
        started = time.monotonic()
        print(f"inverted health check {health_check_id}", file=out, flush=True)
        yield started
    finally:
        try:
            signals.raising = False
        except Interrupted as late:  # the one signal that could still raise, just now
            signals.held.append(late.signum)
        try:
            if sent:
                restore(aws, health_check_id)
                print(
                    f"restored health check {health_check_id} (Inverted=false, confirmed)",
                    file=out,
                    flush=True,
                )
        finally:
            signals.uninstall()
        if signals.held:
            raise Interrupted(signals.held[0])
