"""Routes for webhook registrations under /hooks (reference §11)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import webhooks
from crm2cr.emulators.cleverreach.context import Context
from crm2cr.emulators.cleverreach.wire import JSON, body_object, path_id


def routes(ctx: Context) -> list[BaseRoute]:
    store = ctx.store

    async def register(request: Request) -> JSON:
        body = await body_object(request)
        return JSON(await webhooks.register(store, ctx.settings, body))

    async def listing(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(webhooks.listing(conn))

    async def delete(request: Request) -> JSON:
        condition = request.query_params.get("condition")
        webhooks.delete(store, path_id(request, "event"), condition)
        return JSON(True)

    return [
        Route("/hooks/eventhook", register, methods=["POST"]),
        Route("/hooks/eventhook", listing, methods=["GET"]),
        Route("/hooks/eventhook/{event}", delete, methods=["DELETE"]),
    ]
