"""A fresh emulated organisation per test, reached with raw httpx in process and over HTTP.

Every test using `org` runs twice: through `InProcessTransport` and against
uvicorn on 127.0.0.1 (ephemeral port). A test class picks the organisation
by overriding `emulator_options` (seed, auth mode, limits).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from tests.support.inprocess import InProcessTransport
from tests.support.servers import serve

API = "/api/data/v9.2"
HEADERS = {
    "Authorization": "Bearer dev-token",
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}
ANNOTATIONS = {"Prefer": 'odata.include-annotations="*"'}
_ID = re.compile(r"\(([0-9a-f-]{36})\)$")


@dataclass
class Org:
    """One running emulator, a client on its API root and one on the organisation URL."""

    emu: DataverseEmulator
    http: httpx.Client  # base_url = API root: paths like `contacts(...)`
    root: httpx.Client  # base_url = organisation URL: `/_emulator/...`, token endpoint
    base: str
    mode: str

    @property
    def api(self) -> str:
        return f"{self.base}{API}"

    def create(self, set_name: str, body: dict[str, Any]) -> str:
        response = self.http.post(set_name, json=body)
        assert response.status_code == 204, response.text
        return entity_id(response.headers["OData-EntityId"])

    def get(self, path: str, headers: Mapping[str, str] | None = None, **params: str) -> Any:
        response = self.http.get(with_query(path, params), headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def control(self, path: str, body: dict[str, Any]) -> Any:
        response = self.root.post(f"/_emulator/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()


def with_query(path: str, params: Mapping[str, str]) -> str:
    """Spaces as %20: `+` is a literal plus in OData URLs."""
    if not params:
        return path
    return path + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


def entity_id(url: str) -> str:
    match = _ID.search(url)
    assert match is not None, url
    return match.group(1)


def error_of(response: httpx.Response) -> tuple[str, str]:
    error = response.json()["error"]
    return error["code"], error["message"]


class Switch:
    """One uvicorn server for the session; each test plugs its own emulator in."""

    def __init__(self) -> None:
        self.target: DataverseEmulator | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None, "no emulator plugged in"
        await self.target(scope, receive, send)


@pytest.fixture(scope="session")
def http_switch() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with serve(switch) as base:
        yield switch, base


@pytest.fixture
def emulator_options() -> EmulatorOptions:
    return EmulatorOptions(seed="empty", limits=False)


@pytest.fixture(params=["in-process", "http"])
def org(request: pytest.FixtureRequest, emulator_options: EmulatorOptions) -> Iterator[Org]:
    emu = DataverseEmulator(emulator_options)
    switch: Switch | None = None
    try:
        if request.param == "in-process":
            transport = InProcessTransport(emu)
            base = "http://127.0.0.1"
            with (
                httpx.Client(transport=transport, base_url=f"{base}{API}/", headers=HEADERS) as c,
                httpx.Client(transport=transport, base_url=base) as root,
            ):
                yield Org(emu, c, root, base, request.param)
            transport.close()
        else:
            switch, base = request.getfixturevalue("http_switch")
            switch.target = emu
            with (
                httpx.Client(base_url=f"{base}{API}/", headers=HEADERS, timeout=30) as c,
                httpx.Client(base_url=base, timeout=30) as root,
            ):
                yield Org(emu, c, root, base, request.param)
    finally:
        if switch is not None:
            switch.target = None
        emu.close()
