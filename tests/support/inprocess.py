"""A synchronous httpx transport that drives an ASGI app in process.

httpx.ASGITransport serves async clients only and ours are synchronous, so,
as Starlette's TestClient does, this one runs the app in an anyio blocking
portal (an event loop in a helper thread). An app that fails after it began
its answer reads, to the client, as a connection dropped mid-answer.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from contextlib import ExitStack
from typing import Any

import anyio.from_thread
import httpx


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: Any, *, client_host: str = "127.0.0.1") -> None:
        self.app = app
        self.client_host = client_host
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        result: httpx.Response = self._portal.call(self._handle, request)
        return result

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": httpx.URL(url).path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": (self.client_host, 50000),
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "extensions": {},
        }
        body = request.content
        sent_body = False

        async def receive() -> MutableMapping[str, Any]:
            nonlocal sent_body
            if sent_body:
                await anyio.sleep_forever()
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        complete = False

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, headers, complete
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    complete = True

        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if status:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body",
                    request=request,
                ) from exc
            raise
        if not status or not complete:
            raise httpx.RemoteProtocolError("incomplete answer", request=request)
        return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)

    def close(self) -> None:
        self._stack.close()
