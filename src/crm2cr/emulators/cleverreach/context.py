"""What every route module needs: the emulator's parts, handed over once at start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from crm2cr.emulators.cleverreach.attributes import Catalog
from crm2cr.emulators.cleverreach.oauth import OAuthState
from crm2cr.emulators.cleverreach.ratelimit import RateLimiter
from crm2cr.emulators.cleverreach.settings import Settings, SettingsHolder
from crm2cr.emulators.cleverreach.store import Store
from crm2cr.emulators.cleverreach.webhooks import Dispatcher
from crm2cr.emulators.cleverreach.wire import numeric_id, path_id
from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.options import EmulatorOptions

Handler = Callable[[Request], Awaitable[Response]]
TOKEN_SCOPE_KEY = "crm2cr.cr_token"  # the request's access token, set by the auth check


@dataclass
class Context:
    options: EmulatorOptions
    clock: Clock
    store: Store
    holder: SettingsHolder
    oauth: OAuthState
    dispatcher: Dispatcher
    limiter: RateLimiter

    @property
    def settings(self) -> Settings:
        return self.holder.current

    def catalog(self) -> Catalog:
        with self.store.read() as conn:
            return Catalog.load(conn)


def label(request: Request) -> str:
    """How a write names itself in the audit log."""
    return f"{request.method} {request.url.path}"


def token_of(request: Request) -> str:
    value: Any = request.scope.get(TOKEN_SCOPE_KEY, "")
    return str(value)


def group_param(request: Request) -> int:
    """The `{gid}` path parameter; anything but digits is an unknown group."""
    return numeric_id(path_id(request, "gid"), "group")
