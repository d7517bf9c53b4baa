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


class RestoreFailed(RuntimeError):
    """The check could not be confirmed back to Inverted=False: a person must act."""


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


@contextmanager
def _signals_raise() -> Iterator[dict[int, Any]]:
    """SIGINT/SIGTERM raise ``Interrupted``; the previous handlers come back afterwards. Only
    the main thread can install handlers: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield previous
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextmanager
def _signals_held() -> Iterator[list[int]]:
    """Signals arriving inside are recorded, not raised (the restore must not be cut short)."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = {s: signal.signal(s, lambda signum, frame: held.append(signum)) for s in SIGNALS}
    try:
        yield held
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextmanager
def inverted(aws: Any, health_check_id: str, out: TextIO) -> Iterator[float]:
    """Invert the check; yields the monotonic time of the inversion."""
    sent = False
    with _signals_raise():
        try:
            sent = True  # from here on the call may have reached Route 53
            set_inverted(aws, health_check_id, True)
            started = time.monotonic()
            print(f"inverted health check {health_check_id}", file=out, flush=True)
            yield started
        finally:
            if sent:
                with _signals_held() as held:
                    restore(aws, health_check_id)
                    print(
                        f"restored health check {health_check_id} (Inverted=false, confirmed)",
                        file=out,
                        flush=True,
                    )
                if held:
                    raise Interrupted(held[0])
