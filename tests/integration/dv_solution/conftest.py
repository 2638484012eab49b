"""Fixtures: a fresh empty organisation per test, raw httpx clients in process and over HTTP.

`api` acts as the seeded application user (System Administrator); `as_user(id)`
as any seeded user through the dev token `user:<id>`; `control` reaches the
emulator's control API. The crm2cr client is not used: these tests pin the
emulator's wire behaviour (reference dataverse.md §10, §13, §17.9, §17.15).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from tests.support.inprocess import InProcessTransport
from tests.support.servers import serve

from .support import ClientFactory

HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}
API = "/api/data/v9.2/"


@pytest.fixture
def emulator() -> Iterator[DataverseEmulator]:
    emu = DataverseEmulator(EmulatorOptions(seed="empty"))
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture(params=["inprocess"])
def base_url(request: pytest.FixtureRequest, emulator: DataverseEmulator) -> Iterator[str]:
    """The organisation URL: in process by default; integration classes add "http"."""
    if request.param == "http":
        with serve(emulator) as url:
            yield url
    else:
        yield "http://127.0.0.1"


@pytest.fixture
def client_for(
    emulator: DataverseEmulator, base_url: str
) -> Iterator[Callable[[str, str], httpx.Client]]:
    """A client factory: (path prefix, bearer token) → httpx.Client on the same transport."""
    clients: list[httpx.Client] = []
    transport: httpx.BaseTransport | None = None
    if base_url == "http://127.0.0.1":
        transport = InProcessTransport(emulator)

    def make(prefix: str, token: str) -> httpx.Client:
        client = httpx.Client(
            base_url=base_url + prefix,
            headers={**HEADERS, "Authorization": f"Bearer {token}"} if token else HEADERS,
            transport=transport,
            timeout=30,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    if isinstance(transport, InProcessTransport):
        transport.close()


@pytest.fixture
def api(client_for: Callable[[str, str], httpx.Client]) -> httpx.Client:
    """The Web API as the seeded application user (System Administrator)."""
    return client_for(API, "app")


@pytest.fixture
def as_user(client_for: Callable[[str, str], httpx.Client]) -> ClientFactory:
    """The Web API as the system user with this id (dev token `user:<id>`)."""
    return lambda user_id: client_for(API, f"user:{user_id}")


@pytest.fixture
def control(client_for: Callable[[str, str], httpx.Client]) -> httpx.Client:
    return client_for("/_emulator/", "")
