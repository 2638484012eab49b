"""Control endpoints for roles, teams and running imports (mounted under /_emulator).

Not part of the service: tests and the demo use them to give a user other
roles (and so test the rights check) and to simulate an import that another
client started. Paths are relative to /_emulator:

    GET  /security/users          [{"id", "fullname", "roles": [...], "teams": [...]}]
    GET  /security/roles          [{"id", "name"}]
    POST /users/{id}/roles        {"roles": ["Marketing Professional"]} → {"id", "roles"}
    POST /teams/{id}/roles        {"roles": [...]} → {"id", "roles"}
    POST /teams/{id}/members      {"users": [ids]} → {"id", "users"}
    POST /imports/start           {"solution": "crm2cr"} → {"id"}: an import in progress
    POST /imports/{id}/finish     completes it
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.common.control import read_json_object

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator

_USERS = """
SELECT u.systemuserid AS id, u.fullname AS fullname,
  (SELECT group_concat(r.name, '|') FROM "systemuserroles" ur
     JOIN "role" r ON r.roleid = ur.roleid WHERE ur.systemuserid = u.systemuserid) AS roles,
  (SELECT group_concat(t.name, '|') FROM "teammembership" tm
     JOIN "team" t ON t.teamid = tm.teamid WHERE tm.systemuserid = u.systemuserid) AS teams
FROM "systemuser" u ORDER BY u.fullname
"""


def _names(value: Any) -> list[str]:
    return sorted(str(value).split("|")) if value else []


def _strings(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return list(value)


def routes(emu: DataverseEmulator) -> list[BaseRoute]:
    from crm2cr.emulators.dataverse.security_seed import set_roles, set_team_members
    from crm2cr.emulators.dataverse.solution_import import (
        finish_running_import,
        start_running_import,
    )

    async def run(work: Callable[[], Any]) -> Response:
        try:
            result = await anyio.to_thread.run_sync(work)
        except LookupError as exc:
            return JSONResponse({"error": str(exc.args[0] if exc.args else exc)}, 404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(result)

    async def users(request: Request) -> Response:
        def work() -> list[dict[str, Any]]:
            with emu.store.lock:
                rows = emu.store.query(_USERS)
            return [
                {
                    "id": r["id"],
                    "fullname": r["fullname"],
                    "roles": _names(r["roles"]),
                    "teams": _names(r["teams"]),
                }
                for r in rows
            ]

        return await run(work)

    async def roles(request: Request) -> Response:
        def work() -> list[dict[str, Any]]:
            with emu.store.lock:
                rows = emu.store.query('SELECT roleid, name FROM "role" ORDER BY name')
            return [{"id": r["roleid"], "name": r["name"]} for r in rows]

        return await run(work)

    def role_setter(kind: str) -> Callable[[Request], Any]:
        async def assign(request: Request) -> Response:
            principal = request.path_params["principal"]
            names = _strings(await read_json_object(request), "roles")
            if names is None:
                return JSONResponse({"error": "roles must be a list of role names"}, 400)
            return await run(
                lambda: {
                    "id": principal,
                    "roles": set_roles(emu, kind, principal, names),
                }
            )

        return assign

    async def members(request: Request) -> Response:
        team = request.path_params["principal"]
        ids = _strings(await read_json_object(request), "users")
        if ids is None:
            return JSONResponse({"error": "users must be a list of systemuser ids"}, 400)
        return await run(lambda: {"id": team, "users": set_team_members(emu, team, ids)})

    async def import_start(request: Request) -> Response:
        body = await read_json_object(request)
        name = str(body.get("solution") or "crm2cr")
        return await run(lambda: {"id": start_running_import(emu, name)})

    async def import_finish(request: Request) -> Response:
        job = request.path_params["job"]
        return await run(lambda: {"id": finish_running_import(emu, job)})

    return [
        Route("/security/users", users),
        Route("/security/roles", roles),
        Route("/users/{principal}/roles", role_setter("systemuser"), methods=["POST"]),
        Route("/teams/{principal}/roles", role_setter("team"), methods=["POST"]),
        Route("/teams/{principal}/members", members, methods=["POST"]),
        Route("/imports/start", import_start, methods=["POST"]),
        Route("/imports/{job}/finish", import_finish, methods=["POST"]),
    ]
