"""The Dataverse emulator's control API under /_emulator/ (not part of the service).

Besides the shared endpoints (common/control.py: health, faults, journal,
tokens/expire, clock/advance):

    GET  /_emulator/info                 organisation, tenant, authority, seeded client
    POST /_emulator/reset                {"seed": "empty"|"demo"} a fresh organisation
    POST /_emulator/generate             {"entity": "contact", "count": N, "list": id?}
                                         N synthetic rows, fast (benchmarks up to 1,000,000)
    GET|POST /_emulator/limits           service protection thresholds {"enabled", "requests",
                                         "execution_ms", "concurrent", "window", "reset"}
    POST /_emulator/devicecode/approve   {"user_code": ..., "username": optional}
    POST /_emulator/clients              {"client_id", "client_secret", "name"} a new
                                         application user (no roles) for strict auth
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, Router

from crm2cr.emulators.common.control import ControlContext, control_routes, read_json_object
from crm2cr.emulators.dataverse import generate, security, seed
from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.emulators.dataverse.records import new_row

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator


def control_app(emu: DataverseEmulator) -> Router:
    ctx = ControlContext("dataverse", emu.faults, emu.journal, emu.clock, emu.tokens)

    async def info(request: HttpRequest) -> Response:
        base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        return JSONResponse(
            {
                "organisation_id": emu.organisation_id,
                "tenant_id": emu.tenant_id,
                "url": base,
                "api": f"{base}/api/data/v9.2",
                "authority": f"{base}/{emu.tenant_id}",
                "auth": emu.options.auth,
                "seed": emu.store.org_value("seed"),
                "application_user_id": seed.APP_USER_ID,
                "client_id": seed.APP_CLIENT_ID,
                "client_secret": seed.APP_CLIENT_SECRET,
                "version": emu.store.version,
            }
        )

    async def reset(request: HttpRequest) -> Response:
        body = await read_json_object(request)
        name = body.get("seed", emu.options.seed)
        if name not in ("empty", "demo"):
            return JSONResponse({"error": "seed must be 'empty' or 'demo'"}, 400)

        def run() -> None:
            with emu.store.lock:
                emu.store.reset()
                seed.seed(emu, name)

        await anyio.to_thread.run_sync(run)
        emu.tokens.expire_all()
        return JSONResponse({"seed": name})

    async def generate_rows(request: HttpRequest) -> Response:
        body = await read_json_object(request)
        try:
            result = await anyio.to_thread.run_sync(lambda: generate.generate(emu, body))
        except (ValueError, ODataError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(result)

    async def limits(request: HttpRequest) -> Response:
        if request.method == "POST":
            try:
                emu.limits.update(**await read_json_object(request))
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({**emu.limits.settings.as_dict(), "rejected": emu.limits.rejected})

    async def device_page(request: HttpRequest) -> Response:
        return PlainTextResponse(
            "Emulator sign-in: POST /_emulator/devicecode/approve with "
            '{"user_code": "<code>", "username": "<e-mail of a seeded user>"}.\n'
        )

    async def approve(request: HttpRequest) -> Response:
        body = await read_json_object(request)
        username = str(body.get("username") or "")
        if username:
            users = emu.store.query(
                'SELECT systemuserid FROM "systemuser" WHERE internalemailaddress = ? '
                "OR domainname = ?",
                (username, username),
            )
        else:
            users = emu.store.query(
                'SELECT systemuserid FROM "systemuser" WHERE applicationid IS NULL '
                "ORDER BY createdon, systemuserid LIMIT 1"
            ) or [{"systemuserid": seed.APP_USER_ID}]
        if not users:
            return JSONResponse({"error": f"no user {username!r}"}, 404)
        user_id = str(users[0]["systemuserid"])
        if not emu.auth.approve(str(body.get("user_code") or ""), user_id):
            return JSONResponse({"error": "unknown user_code"}, 404)
        return JSONResponse({"approved": True, "systemuserid": user_id})

    async def clients(request: HttpRequest) -> Response:
        body = await read_json_object(request)
        client_id = str(body.get("client_id") or uuid.uuid4()).lower()
        secret = str(body.get("client_secret") or "")
        if not secret:
            return JSONResponse({"error": "client_secret is required"}, 400)
        user_id = str(uuid.uuid4())
        name = str(body.get("name") or f"app {client_id[:8]}")

        def run() -> None:
            entity = emu.metadata.require("systemuser")
            with emu.store.lock:
                row = new_row(
                    entity,
                    {
                        "systemuserid": user_id,
                        "firstname": "#",
                        "lastname": name,
                        "applicationid": client_id,
                        "accessmode": 4,
                        "isdisabled": 0,
                        "businessunitid": seed.ROOT_BUSINESS_UNIT_ID,
                        "businessunitid__type": "businessunit",
                        "internalemailaddress": f"{client_id}@{seed.DEMO_DOMAIN}",
                    },
                    user_id=seed.APP_USER_ID,
                    business_unit_id=seed.ROOT_BUSINESS_UNIT_ID,
                )
                row["fullname"] = name
                emu.store.insert("systemuser", row)
                emu.store.set_org_value(f"client_secret:{client_id}", secret)

        await anyio.to_thread.run_sync(run)
        return JSONResponse({"client_id": client_id, "systemuserid": user_id})

    routes = [
        *control_routes(ctx),
        Route("/info", info),
        Route("/reset", reset, methods=["POST"]),
        Route("/generate", generate_rows, methods=["POST"]),
        Route("/limits", limits, methods=["GET", "POST"]),
        Route("/devicecode", device_page),
        Route("/devicecode/approve", approve, methods=["POST"]),
        Route("/clients", clients, methods=["POST"]),
        *security.control_routes(emu),
    ]
    return Router(routes=[Mount("/_emulator", routes=routes)])
