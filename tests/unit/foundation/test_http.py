"""The transport stack: retries that honour Retry-After, bounded, and counted requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from crm2cr.http import (
    IDEMPOTENT,
    READ_ONLY,
    RequestCounter,
    RetryPolicy,
    build_http,
    retry_after_seconds,
    transport_stack,
)
from tests.support.inprocess import InProcessTransport
from tests.unit.foundation.apps import Scripted


def client_for(
    peer: Scripted,
    waits: list[float],
    *,
    policy: RetryPolicy | None = None,
    counter: RequestCounter | None = None,
) -> httpx.Client:
    stack = transport_stack(
        InProcessTransport(peer.app),
        counter=counter or RequestCounter(),
        policy=policy or RetryPolicy(jitter=0.0),
        sleep=waits.append,
    )
    return build_http("http://peer.test", transport=stack)


def test_429_is_retried_after_the_seconds_the_service_asks_for() -> None:
    peer = Scripted((429, {"Retry-After": "7"}), (429, {"Retry-After": "3"}), (200, {}))
    waits: list[float] = []
    response = client_for(peer, waits).post("/contacts", json={})
    assert response.status_code == 200
    assert waits == [7.0, 3.0]
    assert peer.seen == ["POST", "POST", "POST"]


def test_503_is_retried_for_a_get_with_exponential_backoff() -> None:
    peer = Scripted((503, {}), (503, {}), (200, {}))
    waits: list[float] = []
    assert client_for(peer, waits).get("/x").status_code == 200
    assert waits == [0.5, 1.0]


def test_503_on_a_create_is_not_retried_because_it_may_have_been_done() -> None:
    peer = Scripted((503, {}), (200, {}))
    waits: list[float] = []
    assert client_for(peer, waits).post("/contacts", json={}).status_code == 503
    assert waits == []
    assert peer.seen == ["POST"]


def test_a_post_marked_idempotent_is_retried_on_503() -> None:
    peer = Scripted((503, {}), (200, {}))
    waits: list[float] = []
    client = client_for(peer, waits)
    request = client.build_request("POST", "/upsert", json={}, extensions={IDEMPOTENT: True})
    assert client.send(request).status_code == 200
    assert len(waits) == 1


def test_retries_are_bounded_and_the_last_answer_is_returned() -> None:
    peer = Scripted(*[(503, {})] * 10)
    waits: list[float] = []
    response = client_for(peer, waits, policy=RetryPolicy(attempts=3, jitter=0.0)).get("/x")
    assert response.status_code == 503
    assert len(peer.seen) == 3
    assert len(waits) == 2


def test_a_retry_after_longer_than_the_cap_is_not_waited_for() -> None:
    peer = Scripted((429, {"Retry-After": "3600"}), (200, {}))
    waits: list[float] = []
    response = client_for(peer, waits, policy=RetryPolicy(max_retry_after=60)).get("/x")
    assert response.status_code == 429
    assert waits == []


def test_other_client_errors_are_never_retried() -> None:
    peer = Scripted((400, {}), (200, {}))
    waits: list[float] = []
    assert client_for(peer, waits).get("/x").status_code == 400
    assert peer.seen == ["GET"]


def test_the_counter_counts_every_attempt_and_tells_reads_from_writes() -> None:
    peer = Scripted((429, {"Retry-After": "0"}), (200, {}), (200, {}), (200, {}))
    counter = RequestCounter()
    client = client_for(peer, [], counter=counter)
    with counter.measuring() as seen:
        client.post("/contacts", json={})
        client.get("/contacts")
        client.send(
            client.build_request("POST", "/$batch", content=b"", extensions={READ_ONLY: True})
        )
    assert seen.requests == 4
    assert seen.writes == 2  # the create and its retry; the read-only POST is a read
    assert seen.retries == 1
    assert seen.by_status[429] == 1


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30)), now=now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_a_dropped_connection_on_a_read_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}

    class Flaky(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            calls["n"] += 1
            if calls["n"] == 1:
                raise httpx.RemoteProtocolError("peer closed connection", request=request)
            return httpx.Response(200, json={}, request=request)

    waits: list[float] = []
    client = build_http(
        "http://peer.test",
        transport=transport_stack(Flaky(), counter=RequestCounter(), sleep=waits.append),
    )
    assert client.get("/x").status_code == 200
    assert calls["n"] == 2


def test_a_dropped_connection_on_a_create_is_raised_not_retried() -> None:
    class Dropping(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)

    client = build_http(
        "http://peer.test",
        transport=transport_stack(Dropping(), counter=RequestCounter(), sleep=lambda s: None),
    )
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/contacts", json={})


def test_a_body_cut_half_way_over_real_http_is_retried_and_counted() -> None:
    from crm2cr.emulators.common.faults import DroppedConnection
    from tests.support.servers import serve

    calls = {"n": 0}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        body = b'{"value":[1,2,3]}'
        if calls["n"] == 1:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"64")],
                }
            )
            await send({"type": "http.response.body", "body": body[:5], "more_body": True})
            raise DroppedConnection("cut")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    counter = RequestCounter()
    waits: list[float] = []
    with serve(app) as url:
        client = build_http(url, transport=transport_stack(counter=counter, sleep=waits.append))
        assert client.get("/x").json() == {"value": [1, 2, 3]}
    assert calls["n"] == 2
    assert counter.snapshot().requests == 2
    assert len(waits) == 1
