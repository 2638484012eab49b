"""The request rate limit (reference §4.2, emulator): a token bucket per access token.

CleverReach publishes no number; the emulator allows `rate` requests per
second with bursts up to `burst`, and answers the excess 429 with
Retry-After. Real time (monotonic), not the emulator clock: the limit is
about how fast a client calls, which moving the clock must not change.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_BUCKETS = 10_000


class RateLimiter:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # token → (level, last refill)

    def admit(self, key: str, rate: float, burst: int) -> float:
        """0.0 if the request may go ahead, else the seconds to wait before retrying."""
        if rate <= 0:
            return 0.0
        now = self._now()
        with self._lock:
            level, last = self._buckets.get(key, (float(burst), now))
            level = min(float(burst), level + (now - last) * rate)
            if level >= 1.0:
                self._store(key, level - 1.0, now)
                return 0.0
            self._store(key, level, now)
            return (1.0 - level) / rate

    def _store(self, key: str, level: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_BUCKETS:
            self._buckets.clear()  # a full bucket set is forgotten, never grows without bound
        self._buckets[key] = (level, now)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def retry_after(wait: float) -> str:
    """Retry-After in whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
