"""The control API under /_emulator/: not part of either service; for tests and the demo.

Shared endpoints (each emulator adds its own beside them):

    GET  /_emulator/health
    GET  /_emulator/faults            POST /_emulator/faults {latency_ms, fault_rate, kinds, ...}
    GET  /_emulator/journal?since=N   POST /_emulator/journal/clear
    POST /_emulator/tokens/expire     every issued token stops working (strict auth)
    POST /_emulator/clock/advance     {"seconds": N}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.faults import FaultController
from crm2cr.emulators.common.journal import Journal
from crm2cr.emulators.common.tokens import TokenRegistry


@dataclass
class ControlContext:
    name: str
    faults: FaultController
    journal: Journal
    clock: Clock
    tokens: TokenRegistry


async def read_json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def control_routes(ctx: ControlContext) -> list[BaseRoute]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "emulator": ctx.name, "time": ctx.clock.stamp()})

    async def faults(request: Request) -> JSONResponse:
        if request.method == "POST":
            changes = await read_json_object(request)
            allowed = {"latency_ms", "fault_rate", "kinds", "retry_after", "exclude_paths"}
            unknown = set(changes) - allowed
            if unknown:
                return JSONResponse({"error": f"unknown settings: {sorted(unknown)}"}, 400)
            try:
                ctx.faults.update(**changes)
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        body = ctx.faults.settings.as_dict()
        body["injected"] = ctx.faults.injected
        return JSONResponse(body)

    async def journal(request: Request) -> JSONResponse:
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            return JSONResponse({"error": "since must be an integer"}, 400)
        entries = ctx.journal.since(since)
        return JSONResponse(
            {"last_seq": ctx.journal.last_seq, "entries": [e.as_dict() for e in entries]}
        )

    async def journal_clear(request: Request) -> JSONResponse:
        ctx.journal.clear()
        return JSONResponse({"ok": True})

    async def expire_tokens(request: Request) -> JSONResponse:
        return JSONResponse({"expired": ctx.tokens.expire_all()})

    async def advance(request: Request) -> JSONResponse:
        body = await read_json_object(request)
        seconds = body.get("seconds")
        if not isinstance(seconds, int | float) or seconds < 0:
            return JSONResponse({"error": "seconds must be a non-negative number"}, 400)
        ctx.clock.advance(float(seconds))
        return JSONResponse({"time": ctx.clock.stamp()})

    return [
        Route("/health", health),
        Route("/faults", faults, methods=["GET", "POST"]),
        Route("/journal", journal),
        Route("/journal/clear", journal_clear, methods=["POST"]),
        Route("/tokens/expire", expire_tokens, methods=["POST"]),
        Route("/clock/advance", advance, methods=["POST"]),
    ]
