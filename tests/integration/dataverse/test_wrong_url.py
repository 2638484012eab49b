"""A wrong organisation URL ends in one clear line naming the URL and the fix (reference §16)."""

from __future__ import annotations

import socket
from collections.abc import MutableMapping
from typing import Any

import pytest

from crm2cr.dataverse import BearerAuth, DataverseClient, StaticToken
from crm2cr.errors import ConnectionLost, InvalidInput, ProtocolError
from crm2cr.http import RequestCounter, RetryPolicy
from tests.support.dataverse import SleepRecorder
from tests.support.servers import serve


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def web_site(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """Any web server that is not Dataverse: HTML for every path."""
    if scope["type"] != "http":
        return
    body = b"<!doctype html><html><body><h1>Contoso</h1></body></html>"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/html; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_connection_refused_names_the_url() -> None:
    """Reference §16: connection refused → ConnectionLost naming the URL; retries bounded."""
    url = f"http://127.0.0.1:{closed_port()}"
    sleep = SleepRecorder()
    counter = RequestCounter()
    dv = DataverseClient.connect(
        url,
        BearerAuth(StaticToken("t")),
        sleep=sleep,
        counter=counter,
        policy=RetryPolicy(attempts=3),
    )
    with pytest.raises(ConnectionLost) as lost:
        dv.who_am_i()
    line = lost.value.one_line()
    assert url in line and "organisation URL" in line and "\n" not in line
    assert counter.snapshot().requests == 3 and len(sleep.waits) == 2


def test_a_web_site_that_is_not_dataverse_is_named() -> None:
    """Reference §16: a non-Dataverse answer (HTML) → ProtocolError with the URL and the fix."""
    with serve(web_site) as url:
        dv = DataverseClient.connect(url, BearerAuth(StaticToken("t")))
        with pytest.raises(ProtocolError) as wrong:
            dv.who_am_i()
        assert f"{url}/api/data/v9.2/WhoAmI" in wrong.value.one_line()
        assert "https://contoso.crm4.dynamics.com" in wrong.value.hint
        with pytest.raises(ProtocolError):
            dv.sign_in_challenge()
        dv.close()


def test_a_url_that_is_no_url_is_refused_before_any_request() -> None:
    """Reference §1: the organisation URL is https://{name}.crm{n}.dynamics.com."""
    with pytest.raises(InvalidInput):
        DataverseClient.connect("contoso.crm4.dynamics.com", None)


async def redirecting(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """An address that sends every request elsewhere (e.g. http → https, a login page)."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 301,
            "headers": [(b"location", b"https://www.contoso.com/")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def test_a_redirect_is_not_followed_and_named() -> None:
    """Reference §16: the bearer token never follows a redirect; the fix names the target."""
    with serve(redirecting) as url:
        dv = DataverseClient.connect(url, BearerAuth(StaticToken("t")))
        with pytest.raises(ProtocolError) as moved:
            dv.who_am_i()
        assert "https://www.contoso.com/" in moved.value.hint
        dv.close()
