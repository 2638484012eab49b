"""Routes for attributes (reference §7)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import attributes
from crm2cr.emulators.cleverreach.context import Context, label
from crm2cr.emulators.cleverreach.wire import JSON, Refusal, body_object, numeric_id, path_id


def routes(ctx: Context) -> list[BaseRoute]:
    store = ctx.store

    def group_of(value: object) -> int:
        text = str(value if value is not None else "0").strip() or "0"
        if not text.isdigit():
            raise Refusal(400, "group_id must be a group id")
        return int(text)

    async def collection(request: Request) -> JSON:
        if request.method == "GET":
            gid = group_of(request.query_params.get("group_id"))
            with store.read() as conn:
                return JSON(attributes.listing(conn, gid))
        body = await body_object(request)
        with store.write(label(request)) as tx:
            attr = attributes.create(
                tx, body, group_of(body.get("group_id")), ctx.settings.attribute_limit
            )
        return JSON(attr.as_json())

    async def one(request: Request) -> JSON:
        attr_id = numeric_id(path_id(request, "aid"), "attribute")
        if request.method == "GET":
            with store.read() as conn:
                return JSON(attributes.get(conn, attr_id).as_json())
        if request.method == "PUT":
            body = await body_object(request)
            with store.write(label(request)) as tx:
                return JSON(attributes.update(tx, attr_id, body).as_json())
        with store.write(label(request)) as tx:
            attributes.delete(tx, attr_id)
        return JSON(True)

    return [
        Route("/v3/attributes", collection, methods=["GET", "POST"]),
        Route("/v3/attributes/{aid}", one, methods=["GET", "PUT", "DELETE"]),
    ]
