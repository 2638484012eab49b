"""Routes for groups and what hangs off one (reference §5, §7, §9, §10)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import attributes, blacklist, forms, groups
from crm2cr.emulators.cleverreach.context import Context, group_param, label
from crm2cr.emulators.cleverreach.wire import JSON, body_object, path_id


def routes(ctx: Context) -> list[BaseRoute]:
    store = ctx.store

    async def list_groups(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(groups.listing(conn, request.query_params.get("order", "")))

    async def create_group(request: Request) -> JSON:
        body = await body_object(request)
        with store.write(label(request)) as tx:
            return JSON(groups.create(tx, body))

    async def get_group(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(groups.require(conn, group_param(request)))

    async def update_group(request: Request) -> JSON:
        body = await body_object(request)
        with store.write(label(request)) as tx:
            return JSON(groups.update(tx, group_param(request), body))

    async def delete_group(request: Request) -> JSON:
        with store.write(label(request)) as tx:
            groups.delete(tx, group_param(request))
        return JSON(True)

    async def clear_group(request: Request) -> JSON:
        with store.write(label(request)) as tx:
            groups.clear(tx, group_param(request))
        return JSON(True)

    async def group_stats(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(groups.stats(conn, group_param(request), ctx.clock.stamp()))

    async def group_attributes(request: Request) -> JSON:
        gid = group_param(request)
        if request.method == "GET":
            with store.read() as conn:
                return JSON(attributes.listing(conn, gid))
        body = await body_object(request)
        with store.write(label(request)) as tx:
            attr = attributes.create(tx, body, gid, ctx.settings.attribute_limit)
        return JSON(attr.as_json())

    async def group_blacklist(request: Request) -> JSON:
        gid = group_param(request)
        if request.method == "GET":
            with store.read() as conn:
                return JSON(blacklist.listing(conn, gid))
        body = await body_object(request)
        with store.write(label(request)) as tx:
            return JSON(blacklist.put(tx, gid, body))

    async def group_blacklist_entry(request: Request) -> JSON:
        gid, email = group_param(request), path_id(request, "email")
        if request.method == "GET":
            with store.read() as conn:
                return JSON(blacklist.get(conn, gid, email))
        with store.write(label(request)) as tx:
            blacklist.remove(tx, gid, email)
        return JSON(True)

    async def group_forms(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(forms.listing(conn, group_param(request)))

    return [
        Route("/v3/groups", list_groups, methods=["GET"]),
        Route("/v3/groups", create_group, methods=["POST"]),
        Route("/v3/groups/{gid}", get_group, methods=["GET"]),
        Route("/v3/groups/{gid}", update_group, methods=["PUT"]),
        Route("/v3/groups/{gid}", delete_group, methods=["DELETE"]),
        Route("/v3/groups/{gid}/clear", clear_group, methods=["DELETE"]),
        Route("/v3/groups/{gid}/stats", group_stats, methods=["GET"]),
        Route("/v3/groups/{gid}/attributes", group_attributes, methods=["GET", "POST"]),
        Route("/v3/groups/{gid}/blacklist", group_blacklist, methods=["GET", "POST", "PUT"]),
        Route(
            "/v3/groups/{gid}/blacklist/{email}", group_blacklist_entry, methods=["GET", "DELETE"]
        ),
        Route("/v3/groups/{gid}/forms", group_forms, methods=["GET"]),
    ]
