"""The Dataverse emulator with a crm2cr client bound to it: in process and over real HTTP.

    with dataverse_in_process() as dv_env:        # or dataverse_over_http()
        dv = dv_env.client()                      # DataverseClient, dev token
        dv_env.control("POST", "faults", {"fault_rate": 0.3})

Fixtures (import them into a conftest.py): `dv_env` / `dv` (in process) and
`dv_http_env` / `dv_http` (uvicorn on 127.0.0.1, ephemeral port). Clients
never really sleep: retries wait through `SleepRecorder`, which records the
seconds asked for, so tests can assert them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from crm2cr.dataverse import BearerAuth, ClientSettings, DataverseClient, StaticToken
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.http import RequestCounter, RetryPolicy
from tests.support.inprocess import InProcessTransport
from tests.support.servers import serve

IN_PROCESS_ORG = "http://dataverse.test"
DEV_TOKEN = "crm2cr-test-token"  # the emulator's dev auth accepts any non-empty token


@dataclass
class SleepRecorder:
    """Stands in for time.sleep: records the waits, never waits."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class DataverseEnv:
    """An emulator and how to reach it; makes clients and calls the control API."""

    emulator: DataverseEmulator
    org_url: str
    transport: httpx.BaseTransport | None  # None: real HTTP
    _stack: ExitStack = field(default_factory=ExitStack)

    def client(
        self,
        *,
        token: str = DEV_TOKEN,
        auth: httpx.Auth | None = None,
        counter: RequestCounter | None = None,
        sleep: SleepRecorder | None = None,
        settings: ClientSettings | None = None,
        policy: RetryPolicy | None = None,
    ) -> DataverseClient:
        client = DataverseClient.connect(
            self.org_url,
            auth or BearerAuth(StaticToken(token)),
            transport=self.transport,
            counter=counter,
            settings=settings,
            policy=policy,
            sleep=sleep if sleep is not None else SleepRecorder(),
        )
        self._stack.callback(client.close)
        return client

    def http_client(self) -> httpx.Client:
        """A plain httpx client reaching the emulator (token endpoint, control API)."""
        client = httpx.Client(
            base_url=self.org_url,
            transport=_Kept(self.transport) if self.transport is not None else None,
            timeout=30.0,
        )
        self._stack.callback(client.close)
        return client

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call `/_emulator/{path}` and return its JSON answer."""
        response = self.http_client().request(method, f"/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._stack.close()


class _Kept(httpx.BaseTransport):
    """The shared in-process transport, left open when one httpx client closes."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        return None


@contextmanager
def dataverse_in_process(options: EmulatorOptions | None = None) -> Iterator[DataverseEnv]:
    emulator = DataverseEmulator(options or EmulatorOptions(seed="empty"))
    transport = InProcessTransport(emulator)
    env = DataverseEnv(emulator, IN_PROCESS_ORG, transport)
    try:
        yield env
    finally:
        env.close()
        transport.close()
        emulator.close()


@contextmanager
def dataverse_over_http(options: EmulatorOptions | None = None) -> Iterator[DataverseEnv]:
    emulator = DataverseEmulator(options or EmulatorOptions(seed="empty"))
    try:
        with serve(emulator) as url:
            env = DataverseEnv(emulator, url, None)
            try:
                yield env
            finally:
                env.close()
    finally:
        emulator.close()


@pytest.fixture
def dv_env() -> Iterator[DataverseEnv]:
    with dataverse_in_process() as env:
        yield env


@pytest.fixture
def dv(dv_env: DataverseEnv) -> DataverseClient:
    return dv_env.client()


@pytest.fixture
def dv_http_env() -> Iterator[DataverseEnv]:
    with dataverse_over_http() as env:
        yield env


@pytest.fixture
def dv_http(dv_http_env: DataverseEnv) -> DataverseClient:
    return dv_http_env.client()
