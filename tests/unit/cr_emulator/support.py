"""Raw-HTTP helpers for the CleverReach emulator's own tests (no crm2cr client involved).

`Api` wraps one emulator reached either in process or over real HTTP; the
contract classes (contract_*.py) run through it, so the same tests pin both.
`HookSink` is a webhook endpoint served over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crm2cr.emulators.cleverreach.app import CleverReachEmulator
from crm2cr.emulators.common.options import EmulatorOptions
from tests.support.inprocess import InProcessTransport
from tests.support.servers import serve

IN_PROCESS_URL = "http://127.0.0.1:8702"
FAST_HOOKS = {
    "webhook_retry_delays": "0.05,0.05",
    "webhook_timeout": "2",
    "handshake_timeout": "2",
}
WAIT = 10.0  # seconds a test waits at most for something asynchronous


def options(**changes: Any) -> EmulatorOptions:
    """Test options: rate limit off and fast webhook retries unless a test says otherwise."""
    extra = {**FAST_HOOKS, **changes.pop("extra", {})}
    changes.setdefault("limits", False)
    return EmulatorOptions(extra=extra, **changes)


@dataclass
class Api:
    """One emulator and a raw httpx client on it, with a bearer token."""

    app: CleverReachEmulator
    http: httpx.Client
    base_url: str
    token: str = "test-token"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token and "authorization" not in {k.lower() for k in headers}:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_emulator/{path}", json=body)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    # --- shortcuts ------------------------------------------------------------------------

    def group(self, name: str = "Newsletter") -> str:
        gid = self.ok("POST", "/v3/groups", json={"name": name})["id"]
        assert isinstance(gid, str)
        return gid

    def upsert(self, gid: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = self.ok("POST", f"/v3/groups/{gid}/receivers/upsert", json=items)
        assert isinstance(result, list)
        return result

    def receiver(self, gid: str, key: str) -> dict[str, Any]:
        result = self.ok("GET", f"/v3/groups/{gid}/receivers/{key}")
        assert isinstance(result, dict)
        return result

    def attribute(self, name: str, group_id: str = "0", kind: str = "text") -> dict[str, Any]:
        body = {"name": name, "type": kind, "group_id": group_id}
        result = self.ok("POST", "/v3/attributes", json=body)
        assert isinstance(result, dict)
        return result

    def advance(self, seconds: float) -> None:
        self.control("POST", "clock/advance", {"seconds": seconds})

    def settings(self, **changes: Any) -> dict[str, Any]:
        result = self.control("POST", "settings", changes)
        assert isinstance(result, dict)
        return result

    def audit(self, **params: Any) -> list[dict[str, Any]]:
        response = self.http.get("/_emulator/audit", params=params)
        assert response.status_code == 200, response.text
        entries = response.json()["entries"]
        assert isinstance(entries, list)
        return entries


MakeApi = Callable[..., Api]


@contextmanager
def in_process(opts: EmulatorOptions) -> Iterator[Api]:
    app = CleverReachEmulator(opts)
    transport = InProcessTransport(app)
    try:
        with httpx.Client(transport=transport, base_url=IN_PROCESS_URL) as client:
            yield Api(app, client, IN_PROCESS_URL)
    finally:
        transport.close()
        app.close()


@contextmanager
def over_http(opts: EmulatorOptions) -> Iterator[Api]:
    app = CleverReachEmulator(opts)
    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=30.0) as client:
            yield Api(app, client, url)
    finally:
        app.close()


@contextmanager
def api_factory(kind: Callable[[EmulatorOptions], Any]) -> Iterator[MakeApi]:
    """A factory fixture body: every Api it makes is closed at the end of the test."""
    with ExitStack() as stack:

        def make(**changes: Any) -> Api:
            api: Api = stack.enter_context(kind(options(**changes)))
            return api

        yield make


@dataclass
class HookSink:
    """A webhook endpoint: answers the handshake with `<verify> <secret>` (or `answer`),
    answers deliveries with `status`, records everything it sees."""

    verify: str = "crm2cr-verify-0123"
    status: int = 200
    answer: str | None = None
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    handshakes: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            if request.method == "GET":
                secret = request.query_params.get("secret", "")
                with self._cond:
                    self.handshakes.append(secret)
                text = self.answer if self.answer is not None else f"{self.verify} {secret}"
                return PlainTextResponse(text)
            body = await request.json()
            with self._cond:
                self.calls.append({"headers": dict(request.headers), "body": body})
                self._cond.notify_all()
            return PlainTextResponse("ok", status_code=self.status)

        return Starlette(routes=[Route("/hook", hook, methods=["GET", "POST"])])

    def wait_for(self, count: int, timeout: float = WAIT) -> list[dict[str, Any]]:
        """The first `count` deliveries; fails if they do not come within `timeout`."""
        with self._cond:
            arrived = self._cond.wait_for(lambda: len(self.calls) >= count, timeout=timeout)
            assert arrived, f"expected {count} deliveries, got {len(self.calls)}: {self.calls}"
            return list(self.calls)

    def events(self) -> list[tuple[str, str, str]]:
        """(event, group_id, pool_id) of every delivery so far."""
        with self._cond:
            return [
                (
                    c["body"]["event"],
                    c["body"]["payload"]["group_id"],
                    c["body"]["payload"].get("pool_id", ""),
                )
                for c in self.calls
            ]


@contextmanager
def hook_sink(**settings: Any) -> Iterator[HookSink]:
    sink = HookSink(**settings)
    with serve(sink.app()) as url:
        sink.url = f"{url}/hook"
        yield sink


def register(api: Api, sink: HookSink, event: str = "receiver", condition: str = "") -> Any:
    return api.ok(
        "POST",
        "/hooks/eventhook",
        json={"url": sink.url, "event": event, "condition": condition, "verify": sink.verify},
    )


def wait_until(check: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll `check` in a bounded loop (for state only an HTTP read can show)."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        pause.wait(0.02)
