"""The Dataverse emulator reached with raw httpx, in process and over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.app import DataverseEmulator
from crm2cr.emulators.dataverse.multipart import (
    BatchItem,
    ResponseItem,
    encode_batch_request,
    parse_batch_response,
)
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
    """One running emulator and a client for its Web API root."""

    emu: DataverseEmulator
    http: httpx.Client  # base_url is the API root, so paths are `contacts(...)`
    base: str  # the organisation URL

    def create(self, set_name: str, body: dict[str, Any]) -> str:
        response = self.http.post(set_name, json=body)
        assert response.status_code == 204, response.text
        return entity_id(response.headers["OData-EntityId"])

    def get(self, path: str, **params: str) -> Any:
        response = self.http.get(with_query(path, params))
        assert response.status_code == 200, response.text
        return response.json()

    def count(self, set_name: str, odata_filter: str | None = None) -> int:
        params = {"$select": "createdon"}
        if odata_filter:
            params["$filter"] = odata_filter
        return len(self.get(set_name, **params)["value"])

    def batch(
        self, body: str | bytes, *, boundary: str = "batch_t", prefer: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": f'multipart/mixed; boundary="{boundary}"'}
        if prefer:
            headers["Prefer"] = prefer
        content = body.encode() if isinstance(body, str) else body
        return self.http.post("$batch", content=content, headers=headers)

    def batch_items(self, items: Sequence[BatchItem], prefer: str | None = None) -> httpx.Response:
        content_type, body = encode_batch_request(items)
        headers = {"Content-Type": content_type}
        if prefer:
            headers["Prefer"] = prefer
        return self.http.post("$batch", content=body, headers=headers)

    def fetch(self, set_name: str, xml: str, *, annotations: bool = True) -> httpx.Response:
        headers = ANNOTATIONS if annotations else {}
        return self.http.get(with_query(set_name, {"fetchXml": xml}), headers=headers)


def with_query(path: str, params: Mapping[str, str]) -> str:
    """`+` is a literal plus in OData URLs, so spaces go as %20 (as the client sends them)."""
    if not params:
        return path
    return path + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


def entity_id(url: str) -> str:
    match = _ID.search(url)
    assert match is not None, url
    return match.group(1)


def answers(response: httpx.Response) -> list[ResponseItem]:
    return parse_batch_response(response.headers["content-type"], response.content)


def part_json(body: bytes) -> Any:
    return json.loads(body) if body else None


def crlf(text: str) -> str:
    """A test body written with plain newlines, sent with CRLF as the service expects."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


@pytest.fixture(params=["in-process", "http"])
def org(request: pytest.FixtureRequest) -> Iterator[Org]:
    emu = DataverseEmulator(EmulatorOptions(seed="empty", limits=False))
    try:
        if request.param == "in-process":
            transport = InProcessTransport(emu)
            base = "http://127.0.0.1"
            with httpx.Client(
                transport=transport, base_url=f"{base}{API}/", headers=HEADERS
            ) as client:
                yield Org(emu, client, base)
            transport.close()
        else:
            with (
                serve(emu) as base,
                httpx.Client(base_url=f"{base}{API}/", headers=HEADERS, timeout=30) as client,
            ):
                yield Org(emu, client, base)
    finally:
        emu.close()
