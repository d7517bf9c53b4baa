"""API Gateway's throttling: token buckets (rate per second, burst) and per-period quotas."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .deployed import Limit, Quota


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


class QuotaCounter:
    """Requests per key per calendar period (UTC), as a usage plan's quota counts them."""

    def __init__(self, quota: Quota, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.quota = quota
        self._now = now
        self._period: datetime | None = None
        self._used = 0
        self._lock = threading.Lock()

    def _period_start(self, moment: datetime) -> datetime:
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.quota.period == "WEEK":
            return day - timedelta(days=day.weekday())
        if self.quota.period == "MONTH":
            return day.replace(day=1)
        return day

    def take(self) -> bool:
        with self._lock:
            period = self._period_start(self._now())
            if period != self._period:
                self._period, self._used = period, 0
            if self._used >= self.quota.limit:
                return False
            self._used += 1
            return True
