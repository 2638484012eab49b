"""The CleverReach emulator in process and over real HTTP, and clients bound to it.

    with cleverreach_in_process() as h:        # or cleverreach_over_http()
        cr = h.client()                         # CleverReachClient, emulator's OAuth app
        group = cr.groups.create("News")
        h.control("POST", "clock/advance", {"seconds": 60})

Both run the same emulator app; in process is fast enough for hypothesis,
over HTTP shows real sockets. `h.sleeps` collects every back-off the client
asked for: no test ever really sleeps. Fixtures for other test folders:
`cleverreach_harness` (in process) and `cleverreach_http_harness`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from crm2cr.cleverreach import CleverReachClient, ClientCredentials, open_client
from crm2cr.emulators.cleverreach.account import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from crm2cr.emulators.cleverreach.app import CleverReachEmulator
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.http import RequestCounter
from tests.support.inprocess import InProcessTransport
from tests.support.servers import serve

IN_PROCESS_URL = "http://127.0.0.1:8702"
CREDENTIALS = ClientCredentials(EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET)

# Tests measure our client, not the service's request rate: limits are off
# unless a test asks for them.
TEST_OPTIONS = EmulatorOptions(limits=False, random_seed=4711)


@dataclass
class CleverReachHarness:
    """One running emulator: its URL, the transport that reaches it, clients on it."""

    emulator: CleverReachEmulator
    base_url: str
    transport: httpx.BaseTransport
    sleeps: list[float] = field(default_factory=list)
    on_sleep: list[Callable[[float], None]] = field(default_factory=list)
    _clients: list[CleverReachClient] = field(default_factory=list)
    _raw: httpx.Client | None = None

    def sleep(self, seconds: float) -> None:
        """The clients' sleep: recorded, never slept."""
        self.sleeps.append(seconds)
        for hook in self.on_sleep:
            hook(seconds)

    def client(self, **kwargs: Any) -> CleverReachClient:
        """A client signed in with the emulator's OAuth app (client credentials)."""
        if not {"token", "tokens", "credentials"} & set(kwargs):
            kwargs["credentials"] = CREDENTIALS
        kwargs.setdefault("sleep", self.sleep)
        kwargs.setdefault("counter", RequestCounter())
        kwargs.setdefault("transport", self.transport)
        client = open_client(kwargs.pop("base_url", self.base_url), **kwargs)
        self._clients.append(client)
        return client

    @property
    def raw(self) -> httpx.Client:
        """Plain HTTP to the emulator, for what the client deliberately cannot send."""
        if self._raw is None:
            self._raw = httpx.Client(
                base_url=self.base_url, transport=_Shared(self.transport), timeout=30.0
            )
        return self._raw

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """The emulator's control API under /_emulator/ (reference §13)."""
        response = self.raw.request(method, f"/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def close(self) -> None:
        for client in self._clients:
            client.close()
        if self._raw is not None:
            self._raw.close()


class _Shared(httpx.BaseTransport):
    """The harness's transport, lent: closing a client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)


def _options(options: EmulatorOptions | None, extra: dict[str, str]) -> EmulatorOptions:
    base = options or TEST_OPTIONS
    return replace(base, extra={**base.extra, **extra}) if extra else base


@contextmanager
def cleverreach_in_process(
    options: EmulatorOptions | None = None, **extra: str
) -> Iterator[CleverReachHarness]:
    """The emulator as an ASGI app driven in process; `extra` sets emulator settings."""
    emulator = CleverReachEmulator(_options(options, extra))
    transport = InProcessTransport(emulator)
    harness = CleverReachHarness(emulator, IN_PROCESS_URL, transport)
    try:
        yield harness
    finally:
        harness.close()
        transport.close()
        emulator.close()


@contextmanager
def cleverreach_over_http(
    options: EmulatorOptions | None = None, **extra: str
) -> Iterator[CleverReachHarness]:
    """The emulator under uvicorn on 127.0.0.1 with an ephemeral port."""
    emulator = CleverReachEmulator(_options(options, extra))
    transport = httpx.HTTPTransport(retries=0)
    try:
        with serve(emulator) as base_url:
            harness = CleverReachHarness(emulator, base_url, transport)
            try:
                yield harness
            finally:
                harness.close()
    finally:
        transport.close()
        emulator.close()


@pytest.fixture
def cleverreach_harness() -> Iterator[CleverReachHarness]:
    with cleverreach_in_process() as harness:
        yield harness


@pytest.fixture
def cleverreach_http_harness() -> Iterator[CleverReachHarness]:
    with cleverreach_over_http() as harness:
        yield harness
