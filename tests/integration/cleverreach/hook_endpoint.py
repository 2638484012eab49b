"""A webhook endpoint for the contract suite: answers the handshake, records deliveries.

It is what `crm2cr serve` does on the receiving side (reference §11), built
from the client's pure helpers, served over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crm2cr.cleverreach.webhooks import CALLTOKEN_HEADER, handshake_answer
from tests.support.servers import serve

WAIT_SECONDS = 15.0  # upper bound for a delivery to arrive; never a fixed sleep


@dataclass
class Delivery:
    calltoken: str
    body: dict[str, Any]


@dataclass
class HookEndpoint:
    verify: str
    status: int = 200  # what deliveries are answered with
    url: str = ""
    handshakes: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            secret = request.query_params.get("secret", "")
            self.handshakes.append(secret)
            return PlainTextResponse(handshake_answer(self.verify, secret))
        body = json.loads(await request.body())
        with self._changed:
            self.deliveries.append(Delivery(request.headers.get(CALLTOKEN_HEADER, ""), body))
            self._changed.notify_all()
        return Response(status_code=self.status)

    def wait_for(self, count: int) -> list[Delivery]:
        """The first `count` deliveries, waiting (bounded) for them to arrive."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.deliveries) >= count, timeout=WAIT_SECONDS)
            return list(self.deliveries)


@contextmanager
def hook_endpoint(verify: str, *, status: int = 200) -> Iterator[HookEndpoint]:
    endpoint = HookEndpoint(verify, status)
    app = Starlette(routes=[Route("/hook", endpoint.handle, methods=["GET", "POST"])])
    with serve(app) as base_url:
        endpoint.url = f"{base_url}/hook"
        yield endpoint
