"""The Dataverse Web API emulator as an ASGI app (reference: the whole of dataverse.md).

    emulator = DataverseEmulator(EmulatorOptions(seed="demo"))
    with serve(emulator) as base_url:      # base_url is the organisation URL
        httpx.get(f"{base_url}/api/data/v9.2/WhoAmI", headers={"Authorization": "Bearer x"})

Layers, outside in: `FaultMiddleware` (journal, latency, injected faults) →
`/_emulator/*` control API, the Entra-shaped token endpoints (`/{tenant}/...`,
auth.py) or the Web API under `/api/data/v9.{0,1,2}/`. A Web API request is
authenticated (auth.py), admitted by the service protection limits
(limits.py), then handled synchronously in a worker thread by `dispatch`,
which holds the store lock, so requests never interleave inside the store.

`dispatch(method, url, headers, body, caller)` is also the entry point for
`$batch` (batch.py): each part runs through it, URL absolute or relative to
the API root, and gets an `InternalResponse` back, never an exception.

Extension points owned by other modules, imported when first used:
batch.handle_batch, bulk.create_multiple/update_multiple/upsert_multiple,
fetchxml.run_fetchxml/dynamic_list_member_ids, solutions.*, security.* (see
router.py for the exact calls).
"""

from __future__ import annotations

import contextvars
import logging
import random
import sqlite3
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread

from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.faults import (
    FaultController,
    FaultMiddleware,
    FaultSettings,
    Receive,
    Scope,
    Send,
)
from crm2cr.emulators.common.journal import Journal, mark_read_only, set_caller
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.common.tokens import TokenRegistry
from crm2cr.emulators.dataverse import EMULATOR_ORGANISATION_ID, EMULATOR_TENANT_ID
from crm2cr.emulators.dataverse.errors import (
    ODataError,
    bad_request,
    render_body,
    segment_not_found,
    unexpected,
)
from crm2cr.emulators.dataverse.metadata import Metadata
from crm2cr.emulators.dataverse.store import Store
from crm2cr.emulators.dataverse.wire import (
    API_VERSIONS,
    Caller,
    InternalResponse,
    Prefer,
    Request,
    error_response,
    parse_query,
    parse_segments,
)

__all__ = ["Caller", "DataverseEmulator", "InternalResponse"]

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 3599.0
API_PREFIX = "/api/data/"
DEFAULT_BASE = "http://127.0.0.1"

# The organisation URL of the request being served; `$batch` parts and
# relative URLs resolve against it.
_BASE_URL: contextvars.ContextVar[str] = contextvars.ContextVar("dv_base_url", default=DEFAULT_BASE)


class DataverseEmulator:
    """The emulated organisation. The instance is the ASGI app.

    Attributes: options, clock, journal, tokens, faults, store, limits,
    organisation_id, tenant_id; `metadata` is the store's registry.
    """

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        from crm2cr.emulators.dataverse import auth, control, limits, seed

        self.options = options or EmulatorOptions()
        self.organisation_id = EMULATOR_ORGANISATION_ID
        self.tenant_id = EMULATOR_TENANT_ID
        self.clock = Clock()
        self.journal = Journal()
        self.tokens = TokenRegistry(self.clock, TOKEN_LIFETIME)
        rng = random.Random(self.options.random_seed)
        self.rng = random.Random(rng.random())
        self.faults = FaultController(
            FaultSettings(latency_ms=self.options.latency_ms, fault_rate=self.options.fault_rate),
            rng,
        )
        self.store = Store(self.options.data, self.clock)
        self.limits = limits.ServiceLimits.from_options(self.options, self.clock)
        self.auth = auth.AuthState()
        if self.store.fresh:
            seed.seed(self, self.options.seed)
        self._control = control.control_app(self)
        self._auth_app = auth.auth_app(self)
        self._app = FaultMiddleware(
            self._serve, faults=self.faults, journal=self.journal, render_error=render_fault
        )

    @property
    def metadata(self) -> Metadata:
        return self.store.metadata

    def close(self) -> None:
        self.store.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    # -- ASGI ---------------------------------------------------------------------------

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope.get("path", "")
        if path.startswith("/_emulator"):
            await self._control(scope, receive, send)
        elif path.startswith(API_PREFIX):
            await self._api(scope, receive, send)
        else:
            await self._auth_app(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        from crm2cr.emulators.dataverse import auth

        headers = header_dict(scope)
        base = base_url(scope, headers)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        url = raw_path.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            url = f"{url}?{query}"
        method = scope["method"]
        try:
            caller = auth.authenticate(self, headers, base)
            set_caller(dict_scope(scope), caller.systemuserid)
            ticket = self.limits.admit(caller.systemuserid)
        except ODataError as error:
            await send_response(send, error_response(error))
            return
        started = time.perf_counter()
        try:
            # Admitted on its headers, as the service is: a slow body counts as running.
            body = await read_body(receive)
            response = await anyio.to_thread.run_sync(
                self._dispatch_in_context, base, method, url, headers, body, caller
            )
        finally:
            self.limits.release(ticket, (time.perf_counter() - started) * 1000.0)
        if response.read_only:
            mark_read_only(dict_scope(scope))
        await send_response(send, response)

    def _dispatch_in_context(
        self,
        base: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        caller: Caller,
    ) -> InternalResponse:
        token = _BASE_URL.set(base)
        try:
            return self.dispatch(method, url, headers, body, caller)
        finally:
            _BASE_URL.reset(token)

    # -- the synchronous entry point --------------------------------------------------------

    def dispatch(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        caller: Caller,
    ) -> InternalResponse:
        """Serve one Web API request synchronously; errors come back as responses.

        `url` is absolute (`http://host/api/data/v9.2/contacts?...`), absolute-path
        (`/api/data/v9.2/contacts`) or relative to the API root (`contacts(...)`).
        Header names may have any case. Runs under the store lock.
        """
        from crm2cr.emulators.dataverse import router

        with self.store.lock:
            try:
                request = self.parse(method, url, headers, body, caller)
                return router.route(self, request)
            except ODataError as error:
                return error_response(error)
            except sqlite3.Error:
                log.exception("store error while serving %s %s", method, url.split("?")[0])
                return error_response(unexpected())

    def parse(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        caller: Caller,
    ) -> Request:
        """Turn a request line into a `Request` (used by dispatch; handy for batch parts)."""
        lower = {k.lower(): v for k, v in headers.items()}
        path, _, query = url.partition("?")
        base = _BASE_URL.get()
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            base = f"{parts.scheme}://{parts.netloc}"
            path = parts.path
        version = "v9.2"
        if path.startswith(API_PREFIX):
            rest = path[len(API_PREFIX) :]
            version, _, path = rest.partition("/")
            if version not in API_VERSIONS:
                raise segment_not_found(version)
        elif path.startswith("/"):
            raise bad_request(f"The URL '{path}' is not below the Web API root.")
        return Request(
            method=method.upper(),
            segments=parse_segments(path),
            query=parse_query(query),
            headers=lower,
            body=body,
            caller=caller,
            api_root=f"{base}{API_PREFIX}{version}",
            path=path,
            prefer=Prefer.parse(lower.get("prefer", "")),
        )


def render_fault(status: int, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Bodies of injected faults, as the service answers them (§17.17)."""
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"odata-version", b"4.0")]
    if status == 401:
        error = ODataError(401, "0x80044302", "Request is not authenticated.")
        headers.append(
            (
                b"www-authenticate",
                (
                    "Bearer authorization_uri=https://login.microsoftonline.com/"
                    f"{EMULATOR_TENANT_ID}/oauth2/authorize, resource_id={DEFAULT_BASE}/"
                ).encode(),
            )
        )
        return 401, headers, error.body()
    if status == 429:
        return (
            429,
            headers,
            render_body(
                "0x80072322",
                "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
            ),
        )
    return status, headers, unexpected().body()


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def header_dict(scope: Scope) -> dict[str, str]:
    """Lower-case header names; repeated headers (several Prefer) joined by commas."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def base_url(scope: Scope, headers: Mapping[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def dict_scope(scope: Scope) -> dict[str, Any]:
    return scope  # type: ignore[return-value]


async def send_response(send: Send, response: InternalResponse) -> None:
    headers = [(k.lower().encode(), v.encode()) for k, v in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
