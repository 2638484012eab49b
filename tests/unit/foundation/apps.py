"""Tiny ASGI peers for testing the HTTP layer: real requests, scripted answers."""

from __future__ import annotations

from collections import deque

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class Scripted:
    """Answers each request with the next scripted (status, headers) and records it."""

    def __init__(self, *answers: tuple[int, dict[str, str]]) -> None:
        self.answers = deque(answers)
        self.seen: list[str] = []
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}", self.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
                )
            ]
        )

    async def handle(self, request: Request) -> Response:
        self.seen.append(request.method)
        status, headers = self.answers.popleft() if self.answers else (200, {})
        return JSONResponse({"status": status}, status_code=status, headers=headers)
