"""Routes for receivers: in a group (reference §6.2–6.8) and account-wide (§6.3, §6.5, §6.8)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import groups, receivers_pool, receivers_read
from crm2cr.emulators.cleverreach.context import Context, group_param, label
from crm2cr.emulators.cleverreach.receivers_pool import Switch
from crm2cr.emulators.cleverreach.receivers_read import ListQuery
from crm2cr.emulators.cleverreach.receivers_write import Mode, write
from crm2cr.emulators.cleverreach.wire import (
    JSON,
    Refusal,
    body_object,
    body_value,
    normalize_email,
    numeric_id,
    paging,
    path_id,
    query_int,
)

MAX_PAGE_MARKS = 10_000


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _batch(value: Any, limit: int, *, key: str = "receivers") -> list[Any]:
    """A batch body: a bare array (or `{"receivers": [...]}`; one object is a batch of one).
    Above the limit → 413 before anything is written (reference §4.3)."""
    if isinstance(value, dict):
        value = value[key] if isinstance(value.get(key), list) else [value]
    if not isinstance(value, list):
        raise Refusal(400, "the body must be an array of receivers")
    if len(value) > limit:
        raise Refusal(413, f"at most {limit} receivers per batch")
    return value


def routes(ctx: Context) -> list[BaseRoute]:
    store = ctx.store

    async def list_receivers(request: Request) -> JSON:
        gid = group_param(request)
        page, size = paging(request, max_size=ctx.settings.pagesize_max)
        params = request.query_params
        ids = _csv(params.get("id_list", ""))
        if not all(i.isdigit() for i in ids):
            raise Refusal(400, "id_list must be comma-separated ids")
        query = ListQuery(
            group_id=gid,
            page=page,
            pagesize=size,
            type=params.get("type", "all").strip().lower() or "all",
            detail=query_int(request, "detail", 0, low=0, high=receivers_read.DETAIL_ALL),
            emails=tuple(normalize_email(e) for e in _csv(params.get("email_list", ""))),
            ids=tuple(int(i) for i in ids),
            order_by=params.get("order_by", ""),
        )
        catalog = ctx.catalog()
        with store.read() as conn:
            groups.require(conn, gid)
            if len(store.page_marks) > MAX_PAGE_MARKS:
                store.page_marks.clear()
            return JSON(receivers_read.listing(conn, catalog, query, store.page_marks))

    async def create_receiver(request: Request) -> JSON:
        return await _single(request, "create")

    async def get_receiver(request: Request) -> JSON:
        gid, key = group_param(request), path_id(request, "rid")
        catalog = ctx.catalog()
        with store.read() as conn:
            groups.require(conn, gid)
            return JSON(receivers_read.get_one(conn, catalog, gid, key))

    async def update_receiver(request: Request) -> JSON:
        return await _single(request, "put")

    async def _single(request: Request, mode: Mode) -> JSON:
        gid = group_param(request)
        body = await body_object(request)
        if mode == "put":
            # The path names the receiver, by e-mail or by id; the body cannot move it.
            key = path_id(request, "rid")
            body = {k: v for k, v in body.items() if k not in ("email", "id")}
            body["email" if "@" in key else "id"] = key
        with store.write(label(request)) as tx:
            answer = write(tx, gid, [body], mode, ctx.settings.sticky)[0]
        answer.pop("status", None)
        return JSON(answer)

    async def delete_receiver(request: Request) -> JSON:
        with store.write(label(request)) as tx:
            receivers_pool.delete_in_group(tx, group_param(request), path_id(request, "rid"))
        return JSON(True)

    async def switch(request: Request) -> JSON:
        which: Switch = "activate" if request.url.path.endswith("/activate") else "deactivate"
        gid = group_param(request) if "gid" in request.path_params else None
        with store.write(label(request)) as tx:
            receivers_pool.switch(tx, gid, path_id(request, "rid"), which, ctx.settings.sticky)
        return JSON(True)

    def batch_route(mode: Mode) -> Any:
        async def handler(request: Request) -> JSON:
            gid = group_param(request)
            items = _batch(await body_value(request), ctx.settings.batch_limit)
            with store.write(label(request)) as tx:
                return JSON(write(tx, gid, items, mode, ctx.settings.sticky))

        return handler

    async def batch_delete(request: Request) -> JSON:
        gid = group_param(request) if "gid" in request.path_params else None
        keys = _batch(await body_value(request), ctx.settings.batch_limit)
        with store.write(label(request)) as tx:
            return JSON(receivers_pool.delete_batch(tx, gid, keys))

    # --- account-wide -----------------------------------------------------------------

    async def get_anywhere(request: Request) -> JSON:
        raw_group = request.query_params.get("group_id", "").strip()
        gid = numeric_id(raw_group, "group") if raw_group else None
        catalog = ctx.catalog()
        with store.read() as conn:
            if gid is not None:
                groups.require(conn, gid)
            return JSON(
                receivers_read.get_account_wide(conn, catalog, path_id(request, "rid"), gid)
            )

    async def groups_of(request: Request) -> JSON:
        with store.read() as conn:
            ids = receivers_read.groups_of(conn, path_id(request, "rid"))
            return JSON([groups.require(conn, gid) for gid in ids])

    async def delete_anywhere(request: Request) -> JSON:
        with store.write(label(request)) as tx:
            receivers_pool.delete_everywhere(tx, path_id(request, "rid"))
        return JSON(True)

    async def change_email(request: Request) -> JSON:
        body = await body_object(request)
        new = body.get("email")
        if not isinstance(new, str):
            raise Refusal(400, "email is required")
        with store.write(label(request)) as tx:
            pool_id = receivers_pool.change_email(tx, path_id(request, "rid"), new)
        catalog = ctx.catalog()
        with store.read() as conn:
            return JSON(receivers_read.get_account_wide(conn, catalog, str(pool_id), None))

    async def set_attribute(request: Request) -> JSON:
        body = await body_object(request)
        if "value" not in body:
            raise Refusal(400, "value is required")
        attr_id = numeric_id(path_id(request, "aid"), "attribute")
        with store.write(label(request)) as tx:
            receivers_pool.set_attribute(tx, path_id(request, "rid"), attr_id, body["value"])
        return JSON(True)

    async def bounced(request: Request) -> JSON:
        page, size = paging(request, max_size=ctx.settings.pagesize_max)
        catalog = ctx.catalog()
        with store.read() as conn:
            return JSON(receivers_read.bounced(conn, catalog, page, size))

    g = "/v3/groups/{gid}/receivers"
    return [
        Route(g, list_receivers, methods=["GET"]),
        Route(g, create_receiver, methods=["POST"]),
        Route(f"{g}/insert", batch_route("insert"), methods=["POST"]),
        Route(f"{g}/update", batch_route("update"), methods=["PUT", "POST"]),
        Route(f"{g}/upsert", batch_route("upsert"), methods=["POST"]),
        Route(f"{g}/upsertplus", batch_route("upsert"), methods=["POST"]),
        Route(f"{g}/delete", batch_delete, methods=["POST"]),
        Route(f"{g}/{{rid}}", get_receiver, methods=["GET"]),
        Route(f"{g}/{{rid}}", update_receiver, methods=["PUT"]),
        Route(f"{g}/{{rid}}", delete_receiver, methods=["DELETE"]),
        Route(f"{g}/{{rid}}/activate", switch, methods=["PUT"]),
        Route(f"{g}/{{rid}}/deactivate", switch, methods=["PUT"]),
        Route("/v3/receivers/bounced", bounced, methods=["GET"]),
        Route("/v3/receivers/delete", batch_delete, methods=["POST"]),
        Route("/v3/receivers/{rid}", get_anywhere, methods=["GET"]),
        Route("/v3/receivers/{rid}", delete_anywhere, methods=["DELETE"]),
        Route("/v3/receivers/{rid}/groups", groups_of, methods=["GET"]),
        Route("/v3/receivers/{rid}/email", change_email, methods=["PUT"]),
        Route("/v3/receivers/{rid}/attributes/{aid}", set_attribute, methods=["PUT"]),
        Route("/v3/receivers/{rid}/activate", switch, methods=["PUT"]),
        Route("/v3/receivers/{rid}/deactivate", switch, methods=["PUT"]),
    ]
