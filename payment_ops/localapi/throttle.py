"""API Gateway's throttling: token buckets (rate per second, burst), as a stage throttles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .deployed import Limit


class TokenBucket:
    """Holds up to ``burst`` tokens, refilled at ``rate`` per second; starts full.

    A request takes one token or is throttled. A bucket with burst 0 throttles everything, as
    API Gateway does for a limit of 0.
    """

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            refill = (now - self._updated) * self.limit.rate
            self._tokens = min(float(self.limit.burst), self._tokens + refill)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False
