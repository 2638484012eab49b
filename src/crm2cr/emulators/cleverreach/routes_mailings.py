"""Routes for mailings, reports (reference §8) and the emulator's editor page (§8.4)."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import mailings, reports, sending
from crm2cr.emulators.cleverreach.context import Context, label
from crm2cr.emulators.cleverreach.wire import (
    JSON,
    Refusal,
    body_object,
    numeric_id,
    paging,
    path_id,
    query_int,
    stamp_field,
)

REPORT_PAGESIZE_MAX = 100  # reference §2.5: reports page at most 100

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2rem;color:#222}}th{{text-align:left;padding-right:1rem}}
iframe{{width:100%;height:60vh;border:1px solid #ccc}}pre{{white-space:pre-wrap}}</style></head>
<body><p>CleverReach emulator – mailing editor (read-only view)</p><h1>{name}</h1>
<table>{rows}</table><h2>HTML</h2><iframe sandbox srcdoc="{html}"></iframe>
<h2>Text</h2><pre>{text}</pre></body></html>
"""


def editor_page(mailing: dict[str, object]) -> str:
    fields = ("id", "state", "subject", "sender_name", "sender_email", "mailing_groups")
    rows = "".join(
        f"<tr><th>{escape(f)}</th><td>{escape(str(mailing[f]))}</td></tr>" for f in fields
    )
    return _PAGE.format(
        title=escape(str(mailing["name"])),
        name=escape(str(mailing["name"])),
        rows=rows,
        html=escape(str(mailing["body_html"]), quote=True),
        text=escape(str(mailing["body_text"])),
    )


def routes(ctx: Context) -> list[BaseRoute]:
    store = ctx.store

    def mailing_id(request: Request, what: str = "mailing") -> int:
        return numeric_id(path_id(request, "mid"), what)

    async def list_mailings(request: Request) -> JSON:
        limit = query_int(request, "limit", 100, low=1, high=5000)
        page = query_int(request, "page", 0, low=0, high=10**9)
        state = request.query_params.get("state", "").strip().lower()
        with store.read() as conn:
            return JSON(mailings.listing(conn, state, limit, page))

    async def create_mailing(request: Request) -> JSON:
        body = await body_object(request)
        with store.write(label(request)) as tx:
            return JSON(mailings.create(tx, body))

    async def get_mailing(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(mailings.get(conn, mailing_id(request)))

    async def update_mailing(request: Request) -> JSON:
        body = await body_object(request)
        with store.write(label(request)) as tx:
            return JSON(mailings.update(tx, mailing_id(request), body))

    async def release(request: Request) -> JSON:
        body = await body_object(request)
        when = stamp_field(body, "time") or 0
        with store.write(label(request)) as tx:
            sending.release(tx, mailing_id(request), when, ctx.settings)
        return JSON(True)

    async def stop(request: Request) -> JSON:
        with store.write(label(request)) as tx:
            sending.stop(tx, mailing_id(request), ctx.settings)
        return JSON(True)

    async def list_reports(request: Request) -> JSON:
        page, size = paging(request, max_size=REPORT_PAGESIZE_MAX)
        start = query_int(request, "start", 0, low=0, high=2**62)
        end = query_int(request, "end", 0, low=0, high=2**62)
        with store.read() as conn:
            return JSON(reports.listing(conn, start, end, page, size))

    async def get_report(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(reports.get(conn, mailing_id(request, "report")))

    async def report_receivers(request: Request) -> JSON:
        page, size = paging(request, max_size=ctx.settings.pagesize_max)
        state = path_id(request, "state").lower()
        with store.read() as conn:
            return JSON(reports.receivers(conn, mailing_id(request, "report"), state, page, size))

    async def editor(request: Request) -> HTMLResponse:
        try:
            with store.read() as conn:
                mailing = mailings.get(conn, mailing_id(request))
        except Refusal:
            return HTMLResponse(
                "<!doctype html><title>Not found</title><p>No such mailing.", status_code=404
            )
        return HTMLResponse(editor_page(mailing))

    return [
        Route("/v3/mailings", list_mailings, methods=["GET"]),
        Route("/v3/mailings", create_mailing, methods=["POST"]),
        Route("/v3/mailings/{mid}", get_mailing, methods=["GET"]),
        Route("/v3/mailings/{mid}", update_mailing, methods=["PUT"]),
        Route("/v3/mailings/{mid}/release", release, methods=["POST"]),
        Route("/v3/mailings/{mid}/stop", stop, methods=["POST"]),
        Route("/v3/reports", list_reports, methods=["GET"]),
        Route("/v3/reports/{mid}", get_report, methods=["GET"]),
        Route("/v3/reports/{mid}/receivers/{state}", report_receivers, methods=["GET"]),
        Route("/editor/mailings/{mid}", editor, methods=["GET"]),
    ]
