"""Service protection limits (reference §15, §17.18).

Per caller, over a sliding window (300 s): at most 6000 requests, at most
1,200,000 ms of combined execution time, at most 52 requests at once.
Over a limit the request is refused before it runs with 429, an integer
`Retry-After` (seconds until the window has room again) and the service's
error code. The window runs on the emulator clock, so tests can move past it.

Thresholds: `EmulatorOptions.extra` keys `limit_requests`, `limit_execution_ms`,
`limit_concurrent`, `limit_window`; at run time `POST /_emulator/limits`.
`EmulatorOptions.limits = False` (`--no-limits`) switches them off.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.errors import (
    execution_time_exceeded,
    too_many_concurrent,
    too_many_requests,
)


@dataclass(frozen=True)
class LimitSettings:
    enabled: bool = True
    requests: int = 6000
    execution_ms: int = 1_200_000
    concurrent: int = 52
    window: int = 300

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Usage:
    requests: deque[float] = field(default_factory=deque)
    executions: deque[tuple[float, float]] = field(default_factory=deque)
    execution_total: float = 0.0
    running: int = 0


@dataclass(frozen=True)
class Ticket:
    caller: str
    counted: bool


class ServiceLimits:
    """Admission control per caller; `admit` before a request, `release` after it."""

    def __init__(self, settings: LimitSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._usage: dict[str, _Usage] = {}
        self.rejected = 0

    @classmethod
    def from_options(cls, options: EmulatorOptions, clock: Clock) -> ServiceLimits:
        extra = options.extra
        settings = LimitSettings(
            enabled=options.limits,
            requests=int(extra.get("limit_requests", 6000)),
            execution_ms=int(extra.get("limit_execution_ms", 1_200_000)),
            concurrent=int(extra.get("limit_concurrent", 52)),
            window=int(extra.get("limit_window", 300)),
        )
        return cls(settings, clock)

    def update(self, **changes: Any) -> LimitSettings:
        unknown = set(changes) - set(LimitSettings.__dataclass_fields__) - {"reset"}
        if unknown:
            raise ValueError(f"unknown limit settings: {sorted(unknown)}")
        reset = bool(changes.pop("reset", False))
        for name, value in changes.items():
            if name == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("enabled must be true or false")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        with self._lock:
            self.settings = replace(self.settings, **changes)
            if reset:
                self._usage.clear()
            return self.settings

    def admit(self, caller: str) -> Ticket:
        """Count the request in, or raise the 429 ODataError."""
        s = self.settings
        if not s.enabled:
            return Ticket(caller, counted=False)
        now = self.clock.time()
        with self._lock:
            usage = self._usage.setdefault(caller, _Usage())
            self._expire(usage, now - s.window)
            if usage.running >= s.concurrent:
                self.rejected += 1
                raise too_many_concurrent(s.concurrent, 1)
            if len(usage.requests) >= s.requests:
                self.rejected += 1
                raise too_many_requests(s.requests, s.window, self._wait(usage.requests[0], now))
            if usage.execution_total > s.execution_ms:
                self.rejected += 1
                raise execution_time_exceeded(
                    s.execution_ms, s.window, self._wait(usage.executions[0][0], now)
                )
            usage.requests.append(now)
            usage.running += 1
            return Ticket(caller, counted=True)

    def release(self, ticket: Ticket, elapsed_ms: float) -> None:
        if not ticket.counted:
            return
        now = self.clock.time()
        with self._lock:
            usage = self._usage.setdefault(ticket.caller, _Usage())
            usage.running = max(0, usage.running - 1)
            usage.executions.append((now, elapsed_ms))
            usage.execution_total += elapsed_ms

    def _wait(self, oldest: float, now: float) -> int:
        return max(1, math.ceil(oldest + self.settings.window - now))

    @staticmethod
    def _expire(usage: _Usage, horizon: float) -> None:
        while usage.requests and usage.requests[0] <= horizon:
            usage.requests.popleft()
        while usage.executions and usage.executions[0][0] <= horizon:
            _, elapsed = usage.executions.popleft()
            usage.execution_total -= elapsed
        if not usage.executions:
            usage.execution_total = 0.0
