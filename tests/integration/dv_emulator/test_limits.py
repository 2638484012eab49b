"""Service protection limits (reference §15, §17.18, §18.27)."""

from __future__ import annotations

import socket
import time
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse import seed

from .conftest import API, Org, error_of


@pytest.fixture
def emulator_options() -> EmulatorOptions:
    return EmulatorOptions(seed="empty", limits=True)


def test_request_limit_answers_429_with_retry_after(org: Org) -> None:
    """Reference §15, §18.27: over the request limit → 429, integer Retry-After, 0x80072322."""
    org.control("limits", {"requests": 3, "reset": True})
    for _ in range(3):
        assert org.http.get("WhoAmI").status_code == 200
    response = org.http.get("WhoAmI")
    assert response.status_code == 429
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 300
    assert error_of(response) == (
        "0x80072322",
        "Number of requests exceeded the limit of 3 over time window of 300 seconds.",
    )
    org.emu.clock.advance(301)
    assert org.http.get("WhoAmI").status_code == 200


def test_limits_are_per_caller(org: Org) -> None:
    """Reference §15: each user (application users too) has its own windows."""
    org.control("limits", {"requests": 2, "reset": True})
    assert org.http.get("WhoAmI").status_code == 200
    assert org.http.get("WhoAmI").status_code == 200
    assert org.http.get("WhoAmI").status_code == 429
    other = org.root.get(
        f"{API}/WhoAmI", headers={"Authorization": f"Bearer user:{seed.APP_USER_ID}"}
    )
    assert other.status_code == 429
    users = org.emu.store.query(
        'SELECT systemuserid FROM "systemuser" WHERE systemuserid <> ? LIMIT 1',
        (seed.APP_USER_ID,),
    )
    someone = users[0]["systemuserid"]
    response = org.root.get(f"{API}/WhoAmI", headers={"Authorization": f"Bearer user:{someone}"})
    assert response.status_code == 200


def test_execution_time_limit(org: Org) -> None:
    """Reference §15: combined execution time over the window → 429 0x80072321."""
    org.control("limits", {"execution_ms": 0, "reset": True})
    assert org.http.get("contacts").status_code == 200
    response = org.http.get("contacts")
    assert response.status_code == 429
    assert error_of(response)[0] == "0x80072321"
    assert response.headers["Retry-After"].isdigit()


def test_concurrency_limit(org: Org) -> None:
    """Reference §15, §18.27: a request beyond the concurrent limit → 429 0x80072326 at once."""
    org.control("limits", {"concurrent": 1, "reset": True})
    if org.mode == "http":
        status, body = _second_request_while_first_is_open_http(org)
    else:
        status, body = anyio.run(_second_request_while_first_is_open_asgi, org)
    assert status == 429
    assert b"0x80072326" in body
    assert b"Number of concurrent requests exceeded the limit of 1." in body
    assert org.http.get("WhoAmI").status_code == 200


def test_no_limits_switch(org: Org) -> None:
    """`--no-limits`: the thresholds are off."""
    org.control("limits", {"enabled": False, "requests": 1, "reset": True})
    for _ in range(3):
        assert org.http.get("WhoAmI").status_code == 200


def _running(org: Org) -> int:
    usage = org.emu.limits._usage.get(seed.APP_USER_ID)
    return usage.running if usage else 0


def _second_request_while_first_is_open_http(org: Org) -> tuple[int, bytes]:
    """Send a POST whose body is incomplete, so it stays admitted; then ask again."""
    url = urlsplit(org.base)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10) as s:
        s.sendall(
            (
                f"POST {API}/contacts HTTP/1.1\r\nHost: {url.netloc}\r\n"
                "Authorization: Bearer dev\r\nContent-Type: application/json\r\n"
                "Content-Length: 20\r\n\r\n{"
            ).encode()
        )
        for _ in range(500):
            if _running(org) == 1:
                break
            time.sleep(0.005)
        assert _running(org) == 1
        response = org.http.get("WhoAmI")
        s.sendall(b'"lastname":"Slow"}  ')
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 204")
    return response.status_code, response.content


async def _second_request_while_first_is_open_asgi(org: Org) -> tuple[int, bytes]:
    release = anyio.Event()

    def scope(method: str, path: str) -> dict[str, Any]:
        return {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"authorization", b"Bearer dev"), (b"host", b"127.0.0.1")],
            "scheme": "http",
            "server": ("127.0.0.1", 80),
        }

    async def slow_receive() -> MutableMapping[str, Any]:
        await release.wait()
        return {"type": "http.request", "body": b'{"lastname":"Slow"}', "more_body": False}

    async def fast_receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    answers: dict[str, list[MutableMapping[str, Any]]] = {"slow": [], "fast": []}

    async def collect(name: str, message: MutableMapping[str, Any]) -> None:
        answers[name].append(message)

    async def slow() -> None:
        await org.emu(scope("POST", f"{API}/contacts"), slow_receive, lambda m: collect("slow", m))

    async with anyio.create_task_group() as group:
        group.start_soon(slow)
        for _ in range(1000):
            if _running(org) == 1:
                break
            await anyio.sleep(0.001)
        await org.emu(scope("GET", f"{API}/WhoAmI"), fast_receive, lambda m: collect("fast", m))
        release.set()
    assert answers["slow"][0]["status"] == 204
    start, body = answers["fast"][0], answers["fast"][1]
    return int(start["status"]), bytes(body["body"])
