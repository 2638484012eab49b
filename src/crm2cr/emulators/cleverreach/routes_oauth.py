"""Routes for OAuth (reference §3) and /v3/debug (§3.5, §12)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from crm2cr.emulators.cleverreach import account
from crm2cr.emulators.cleverreach.context import Context, token_of
from crm2cr.emulators.cleverreach.oauth import DEV_SUBJECT, OAuthRefusal
from crm2cr.emulators.cleverreach.wire import JSON, Refusal, body_value
from crm2cr.emulators.common.journal import mark_read_only

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def bearer(request: Request) -> str:
    """The access token: `Authorization: Bearer` wins over `?token=` (reference §3.1)."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.query_params.get("token", "").strip()


def oauth_error(refusal: OAuthRefusal) -> JSON:
    headers = dict(NO_STORE)
    if refusal.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="CleverReach"'
    return JSON(refusal.body(), status_code=refusal.status, headers=headers)


def routes(ctx: Context) -> list[BaseRoute]:
    async def token(request: Request) -> Response:
        # Asking for a token changes no business data; the journal should not count it
        # as a write (SPEC invariant 4 counts a sync's writes).
        mark_read_only(cast(dict[str, Any], request.scope))
        try:
            body: Any = await body_value(request)
        except Refusal:
            return oauth_error(OAuthRefusal(400, "invalid_request", "malformed body"))
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return oauth_error(OAuthRefusal(400, "invalid_request", "the body must be an object"))
        try:
            answer = ctx.oauth.grant(body, request.headers.get("authorization", ""))
        except OAuthRefusal as refusal:
            return oauth_error(refusal)
        return JSON(answer, headers=NO_STORE)

    async def authorize(request: Request) -> Response:
        try:
            target = ctx.oauth.authorize(dict(request.query_params))
        except OAuthRefusal as refusal:
            return oauth_error(refusal)
        return RedirectResponse(target, status_code=302)

    async def revoke(request: Request) -> JSON:
        given = token_of(request) or bearer(request)
        if not given:
            raise Refusal(401)
        ctx.oauth.tokens.revoke(given)
        return JSON(True)

    async def whoami(request: Request) -> JSON:
        return JSON(account.whoami(request.url.netloc))

    async def ttl(request: Request) -> JSON:
        left = int(ctx.oauth.ttl(token_of(request)))
        expiry = datetime.fromtimestamp(ctx.clock.time() + left, UTC).replace(microsecond=0)
        return JSON({"ttl": left, "date": expiry.isoformat()})

    async def validate(request: Request) -> JSON:
        return JSON(True)

    async def exchange(request: Request) -> JSON:
        subject = ctx.oauth.subject(token_of(request), strict=False) or DEV_SUBJECT
        return JSON(ctx.oauth.issue(subject, refresh=True), headers=NO_STORE)

    async def ping(request: Request) -> JSON:
        return JSON(True)

    return [
        Route("/oauth/token.php", token, methods=["POST"]),
        Route("/oauth/authorize.php", authorize, methods=["GET"]),
        Route("/oauth/token", revoke, methods=["DELETE"]),
        Route("/v3/oauth/token", revoke, methods=["DELETE"]),
        Route("/v3/debug/whoami", whoami, methods=["GET"]),
        Route("/v3/debug/ttl", ttl, methods=["GET"]),
        Route("/v3/debug/validate", validate, methods=["GET"]),
        Route("/v3/debug/exchange", exchange, methods=["GET"]),
        Route("/v3/debug/ping", ping, methods=["GET"]),
    ]
