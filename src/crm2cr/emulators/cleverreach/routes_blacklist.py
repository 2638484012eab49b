"""Routes for the account blacklist and bounces (reference §9)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import blacklist
from crm2cr.emulators.cleverreach.context import Context, label
from crm2cr.emulators.cleverreach.wire import JSON, body_object, paging, path_id


def routes(ctx: Context) -> list[BaseRoute]:
    store = ctx.store

    async def collection(request: Request) -> JSON:
        if request.method == "GET":
            with store.read() as conn:
                return JSON(blacklist.listing(conn, 0))
        body = await body_object(request)
        with store.write(label(request)) as tx:
            return JSON(blacklist.put(tx, 0, body))

    async def entry(request: Request) -> JSON:
        email = path_id(request, "email")
        if request.method == "GET":
            with store.read() as conn:
                return JSON(blacklist.get(conn, 0, email))
        with store.write(label(request)) as tx:
            blacklist.remove(tx, 0, email)
        return JSON(True)

    async def bounces(request: Request) -> JSON:
        page, size = paging(request, max_size=ctx.settings.pagesize_max)
        with store.read() as conn:
            return JSON(blacklist.bounces(conn, page, size))

    return [
        Route("/v3/blacklist", collection, methods=["GET", "POST", "PUT"]),
        Route("/v3/blacklist/{email}", entry, methods=["GET", "DELETE"]),
        Route("/v3/bounces", bounces, methods=["GET"]),
    ]
