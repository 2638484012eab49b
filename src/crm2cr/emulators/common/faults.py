"""Fault injection and journaling, as one ASGI middleware in front of an emulator.

Faults (SPEC §10): latency, 429 with Retry-After, 5xx, dropped connections,
token expiry. They are chosen before the app runs, so an injected fault never
leaves a write half-applied; the one exception is `drop-after`, which runs the
request and then loses the answer, as a network cut after the commit does.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import anyio

from crm2cr.emulators.common.journal import SCOPE_KEY, Journal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FAULT_KINDS = ("429", "503", "502", "drop", "expire", "drop-after")
DEFAULT_KINDS = ("429", "503", "drop", "expire")
CONTROL_PREFIX = "/_emulator"


class DroppedConnection(Exception):
    """Raised inside the server to cut a connection half way through an answer."""


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_KINDS
    retry_after: int = 1  # seconds, sent with injected 429s
    exclude_paths: tuple[str, ...] = field(default_factory=tuple)  # prefixes never faulted

    def validated(self) -> FaultSettings:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be among {', '.join(FAULT_KINDS)}")
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        return self

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        data["exclude_paths"] = list(self.exclude_paths)
        return data


# (status, headers, body) an emulator answers for an injected fault of that status.
ErrorRenderer = Callable[[int, str], tuple[int, list[tuple[bytes, bytes]], bytes]]


class FaultController:
    """The settings in force and the random source; changed at run time by the control API."""

    def __init__(self, settings: FaultSettings, rng: random.Random) -> None:
        self._lock = threading.Lock()
        self._settings = settings.validated()
        self._rng = rng
        self.injected = 0

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return self._settings

    def update(self, **changes: Any) -> FaultSettings:
        if "kinds" in changes:
            changes["kinds"] = tuple(changes["kinds"])
        if "exclude_paths" in changes:
            changes["exclude_paths"] = tuple(changes["exclude_paths"])
        with self._lock:
            self._settings = replace(self._settings, **changes).validated()
            return self._settings

    def draw(self, path: str) -> str:
        """The fault for one request, or '' for none."""
        with self._lock:
            s = self._settings
            if s.fault_rate <= 0 or any(path.startswith(p) for p in s.exclude_paths):
                return ""
            if self._rng.random() >= s.fault_rate:
                return ""
            self.injected += 1
            return self._rng.choice(s.kinds)


class FaultMiddleware:
    """Journals every request, adds latency and injects faults before the app runs."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: FaultController,
        journal: Journal,
        render_error: ErrorRenderer,
    ) -> None:
        self.app = app
        self.faults = faults
        self.journal = journal
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        entry = self.journal.open(scope["method"], path, scope.get("query_string", b"").decode())
        scope[SCOPE_KEY] = entry
        settings = self.faults.settings
        if settings.latency_ms > 0:
            await anyio.sleep(settings.latency_ms / 1000.0)
        fault = self.faults.draw(path)
        entry.fault = fault

        async def journaled_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = int(message["status"])
            await send(message)

        if fault in ("429", "503", "502", "expire"):
            status = 401 if fault == "expire" else int(fault)
            await self._answer(journaled_send, status, settings)
            return
        if fault == "drop":
            await self._drop(journaled_send)
            return
        if fault == "drop-after":
            await self.app(scope, receive, _discard)
            await self._drop(journaled_send)
            return
        await self.app(scope, receive, journaled_send)

    async def _answer(self, send: Send, status: int, settings: FaultSettings) -> None:
        code, headers, body = self.render_error(status, "injected fault")
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        if code == 429:
            headers.append((b"retry-after", str(settings.retry_after).encode()))
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _drop(send: Send) -> None:
        # Promise a body, send part of it, then fail: the server closes the
        # socket and the client sees the connection end mid-answer.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"value":[', "more_body": True})
        raise DroppedConnection("injected dropped connection")


async def _discard(message: Message) -> None:
    return None
