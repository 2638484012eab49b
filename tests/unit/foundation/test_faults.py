"""Fault injection and the request journal shared by both emulators."""

from __future__ import annotations

import random

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.control import ControlContext, control_routes
from crm2cr.emulators.common.faults import FaultController, FaultMiddleware, FaultSettings
from crm2cr.emulators.common.journal import Journal
from crm2cr.emulators.common.tokens import TokenRegistry
from tests.support.inprocess import InProcessTransport
from tests.support.servers import serve


class Peer:
    def __init__(self, settings: FaultSettings) -> None:
        self.writes = 0
        self.journal = Journal()
        self.faults = FaultController(settings, random.Random(1))
        self.clock = Clock()
        self.tokens = TokenRegistry(self.clock, 60)
        ctx = ControlContext("test", self.faults, self.journal, self.clock, self.tokens)
        inner = Starlette(
            routes=[
                Mount("/_emulator", routes=control_routes(ctx)),
                Route("/things", self.create, methods=["POST"]),
                Route("/things", self.read, methods=["GET"]),
            ]
        )
        self.app = FaultMiddleware(
            inner, faults=self.faults, journal=self.journal, render_error=self.render
        )

    async def create(self, request: Request) -> JSONResponse:
        self.writes += 1
        return JSONResponse({"ok": True})

    async def read(self, request: Request) -> JSONResponse:
        return JSONResponse({"writes": self.writes})

    @staticmethod
    def render(status: int, text: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return status, [(b"content-type", b"application/json")], b'{"error":"%d"}' % status


def client(peer: Peer) -> httpx.Client:
    return httpx.Client(base_url="http://peer.test", transport=InProcessTransport(peer.app))


@pytest.mark.parametrize("kind", ["429", "503", "502", "expire"])
def test_an_injected_error_answers_before_the_app_runs(kind: str) -> None:
    peer = Peer(FaultSettings(fault_rate=1.0, kinds=(kind,), retry_after=4))
    response = client(peer).post("/things")
    assert response.status_code == (401 if kind == "expire" else int(kind))
    assert peer.writes == 0
    if kind == "429":
        assert response.headers["retry-after"] == "4"
    assert peer.journal.since()[0].fault == kind


def test_a_dropped_connection_reaches_an_in_process_client_as_a_protocol_error() -> None:
    peer = Peer(FaultSettings(fault_rate=1.0, kinds=("drop",)))
    with pytest.raises(httpx.RemoteProtocolError):
        client(peer).post("/things")
    assert peer.writes == 0


def test_a_dropped_connection_over_real_http_cuts_the_socket() -> None:
    peer = Peer(FaultSettings(fault_rate=1.0, kinds=("drop",)))
    with serve(peer.app) as url, httpx.Client(base_url=url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/things")
        assert peer.writes == 0


def test_drop_after_applies_the_write_and_loses_the_answer() -> None:
    peer = Peer(FaultSettings(fault_rate=1.0, kinds=("drop-after",)))
    with pytest.raises(httpx.RemoteProtocolError):
        client(peer).post("/things")
    assert peer.writes == 1


def test_faults_are_switched_at_run_time_through_the_control_api() -> None:
    peer = Peer(FaultSettings())
    http = client(peer)
    assert http.post("/things").status_code == 200
    settings = http.post("/_emulator/faults", json={"fault_rate": 1.0, "kinds": ["503"]}).json()
    assert settings["fault_rate"] == 1.0
    assert http.post("/things").status_code == 503
    assert http.post("/_emulator/faults", json={"fault_rate": 2}).status_code == 400
    assert http.post("/_emulator/faults", json={"nonsense": 1}).status_code == 400
    http.post("/_emulator/faults", json={"fault_rate": 0.0})
    assert http.post("/things").status_code == 200


def test_the_journal_records_requests_but_not_control_calls() -> None:
    peer = Peer(FaultSettings())
    http = client(peer)
    http.post("/things")
    http.get("/things")
    entries = http.get("/_emulator/journal").json()["entries"]
    assert [(e["method"], e["write"], e["status"]) for e in entries] == [
        ("POST", True, 200),
        ("GET", False, 200),
    ]
    assert [e.seq for e in peer.journal.writes_since(0)] == [1]


def test_a_fault_rate_draws_roughly_that_share() -> None:
    controller = FaultController(FaultSettings(fault_rate=0.1), random.Random(7))
    drawn = sum(bool(controller.draw("/x")) for _ in range(5000))
    assert 350 < drawn < 650


def test_latency_and_clock_controls() -> None:
    peer = Peer(FaultSettings())
    http = client(peer)
    before = peer.clock.stamp()
    assert http.post("/_emulator/clock/advance", json={"seconds": 3600}).status_code == 200
    assert peer.clock.stamp() >= before + 3600
    assert http.post("/_emulator/clock/advance", json={"seconds": -1}).status_code == 400
    token = peer.tokens.issue("someone").token
    assert peer.tokens.lookup(token) is not None
    assert http.post("/_emulator/tokens/expire").json() == {"expired": 1}
    assert peer.tokens.lookup(token) is None
