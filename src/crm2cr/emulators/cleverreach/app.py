"""The CleverReach REST API v3 emulator as one ASGI app (reference/cleverreach.md).

`CleverReachEmulator(options)` is the app: fault middleware and journal in
front, then the wire conventions every request shares (optional `.json`
suffixes and trailing slashes, the access token, the rate limit, the send
clock), then Starlette's router over the route modules.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from crm2cr.emulators.cleverreach import (
    control,
    routes_attributes,
    routes_blacklist,
    routes_forms,
    routes_groups,
    routes_mailings,
    routes_oauth,
    routes_receivers,
    routes_webhooks,
    seed,
    sending,
)
from crm2cr.emulators.cleverreach.context import TOKEN_SCOPE_KEY, Context
from crm2cr.emulators.cleverreach.oauth import OAuthRefusal, OAuthState
from crm2cr.emulators.cleverreach.ratelimit import RateLimiter, retry_after
from crm2cr.emulators.cleverreach.routes_oauth import bearer, oauth_error
from crm2cr.emulators.cleverreach.settings import Settings, SettingsHolder, from_options
from crm2cr.emulators.cleverreach.store import Store
from crm2cr.emulators.cleverreach.webhooks import Dispatcher
from crm2cr.emulators.cleverreach.wire import Refusal, error_response, render_fault
from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.control import ControlContext, control_routes
from crm2cr.emulators.common.faults import (
    FaultController,
    FaultMiddleware,
    FaultSettings,
    Receive,
    Scope,
    Send,
)
from crm2cr.emulators.common.journal import Journal, set_caller
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.common.tokens import TokenRegistry

PROTECTED = ("/v3/", "/hooks/")  # trees that need an access token (reference §3.1)
OPEN = frozenset({"/v3/debug/ping"})  # answers without a token (reference §12)
# The API section a path belongs to, as token scopes name them (reference §3.1).
SCOPE_OF = (
    ("/v3/forms", "forms"),
    ("/v3/reports", "reports"),
    ("/v3/mailings", "mailings"),
    ("/hooks/", "webhooks"),
    ("/v3/debug", "basic"),
    ("/v3/oauth", "basic"),
    ("/v3/", "receivers"),
)
CLOCK_PATHS = frozenset({"/_emulator/clock/advance"})


def normalize_path(path: str) -> str:
    """Reference §2.2: `.json` on any segment and a trailing `/` are both optional."""
    segments = [
        s[:-5] if s.endswith(".json") and len(s) > 5 and "@" not in s else s
        for s in path.split("/")
    ]
    result = "/".join(segments)
    if len(result) > 1:
        result = result.rstrip("/") or "/"
    return result


class CleverReachEmulator:
    """The ASGI app; attributes for tests: store, journal, faults, clock, tokens, options."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        settings = from_options(self.options)
        self.holder = SettingsHolder(settings)
        self.clock = Clock()
        self.journal = Journal()
        self.tokens = TokenRegistry(self.clock, settings.token_lifetime)
        self.faults = FaultController(
            FaultSettings(latency_ms=self.options.latency_ms, fault_rate=self.options.fault_rate),
            random.Random(self.options.random_seed),
        )
        self.dispatcher = Dispatcher(lambda: self.holder.current)
        self.store = Store(self.options.data, self.clock, self.dispatcher.publish)
        if self.store.fresh:
            seed.apply(self.store, self.options.seed, settings)
        self.oauth = OAuthState(self.tokens, self.clock, lambda: self.holder.current)
        self.limiter = RateLimiter()
        self.context = Context(
            self.options,
            self.clock,
            self.store,
            self.holder,
            self.oauth,
            self.dispatcher,
            self.limiter,
        )
        self.router = Starlette(
            routes=self._routes(),
            exception_handlers={
                Refusal: _refusal,
                OAuthRefusal: _oauth_refusal,
                HTTPException: _http_exception,
            },
        )
        self._app = FaultMiddleware(
            self._serve, faults=self.faults, journal=self.journal, render_error=render_fault
        )

    @property
    def settings(self) -> Settings:
        return self.holder.current

    def _routes(self) -> list[BaseRoute]:
        ctx = self.context
        shared = control_routes(
            ControlContext("cleverreach", self.faults, self.journal, self.clock, self.tokens)
        )
        own = control.routes(ctx, self.reset, self.tick)
        return [
            *routes_oauth.routes(ctx),
            *routes_groups.routes(ctx),
            *routes_receivers.routes(ctx),
            *routes_attributes.routes(ctx),
            *routes_blacklist.routes(ctx),
            *routes_mailings.routes(ctx),
            *routes_forms.routes(ctx),
            *routes_webhooks.routes(ctx),
            Mount("/_emulator", routes=[*shared, *own]),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        path = normalize_path(scope["path"])
        scope["path"] = path
        scope["raw_path"] = path.encode()
        self.tick()
        if path.startswith(PROTECTED) and path not in OPEN:
            refused = self._admit(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.router(scope, receive, send)
        if path in CLOCK_PATHS:
            self.tick()

    def _admit(self, scope: Scope) -> Response | None:
        """The token check (401) and the rate limit (429), before any route runs."""
        request = Request(scope)
        token = bearer(request)
        subject = self.oauth.subject(token, strict=self.options.auth == "strict")
        if subject is None:
            return error_response(401)
        scope[TOKEN_SCOPE_KEY] = token
        set_caller(cast(dict[str, Any], scope), subject)
        s = self.settings
        if s.scopes:
            section = next(name for prefix, name in SCOPE_OF if scope["path"].startswith(prefix))
            if section not in s.scopes.split():
                return error_response(403, f"the token's scope does not cover '{section}'")
        wait = self.limiter.admit(token, s.rate_limit, s.rate_burst)
        if wait > 0:
            return error_response(429, headers={"Retry-After": retry_after(wait)})
        return None

    def tick(self) -> None:
        """Let the send clock catch up with the emulator's clock."""
        sending.tick(self.store, self.settings)

    def reset(self, seed_name: str) -> None:
        """Back to a seed; tokens stay valid and ids keep counting (never reused)."""
        self.dispatcher.discard()
        self.store.wipe()
        self.limiter.reset()
        self.oauth.reset()
        seed.apply(self.store, seed_name, self.settings)

    def close(self) -> None:
        self.dispatcher.close()
        self.store.close()


async def _refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return error_response(exc.status, exc.detail, exc.headers)


async def _oauth_refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthRefusal)
    return oauth_error(exc)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = "unknown route" if exc.status_code == 404 else ""
    return error_response(exc.status_code, detail, dict(exc.headers or {}))


def create_app(options: EmulatorOptions | None = None, **changes: Any) -> CleverReachEmulator:
    """A convenience for tests and scripts: `create_app(seed="demo")`."""
    return CleverReachEmulator(replace(options or EmulatorOptions(), **changes))
