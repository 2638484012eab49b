"""Routes for forms and double opt-in sends (reference §10)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import forms
from crm2cr.emulators.cleverreach.context import Context, label
from crm2cr.emulators.cleverreach.wire import JSON, body_object, numeric_id, path_id


def routes(ctx: Context) -> list[BaseRoute]:
    store = ctx.store

    async def list_forms(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(forms.listing(conn))

    async def get_form(request: Request) -> JSON:
        with store.read() as conn:
            return JSON(forms.get(conn, numeric_id(path_id(request, "fid"), "form")))

    async def send(request: Request) -> JSON:
        form_id = numeric_id(path_id(request, "fid"), "form")
        kind = "activate" if request.url.path.endswith("/activate") else "deactivate"
        body = await body_object(request)
        with store.write(label(request)) as tx:
            return JSON(forms.send(tx, form_id, kind, body))

    return [
        Route("/v3/forms", list_forms, methods=["GET"]),
        Route("/v3/forms/{fid}", get_form, methods=["GET"]),
        Route("/v3/forms/{fid}/send/activate", send, methods=["POST"]),
        Route("/v3/forms/{fid}/send/deactivate", send, methods=["POST"]),
    ]
