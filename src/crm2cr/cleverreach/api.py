"""The request core every resource of the client shares.

One method sends a request and turns the answer into a typed value or a
typed error; resources (groups, receivers, …) only declare paths, bodies and
the shape they expect. Writes are marked for the transports: IDEMPOTENT ones
may be resent after a lost answer, others never are (SPEC invariant 3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from crm2cr.cleverreach.classify import SERVICE, decode, unexpected
from crm2cr.cleverreach.models import Wire
from crm2cr.errors import ConflictError, ConnectionLost, NotFoundError, ServerError
from crm2cr.http import IDEMPOTENT, READ_ONLY

T = TypeVar("T")
M = TypeVar("M", bound=Wire)

Convert = Callable[[Any], T]
Params = Mapping[str, str | int]


def segment(value: str | int) -> str:
    """One path segment: an id, or an e-mail with its '@' left as is (§2.3)."""
    return quote(str(value), safe="@")


def one(model: type[M]) -> Convert[M]:
    """An object, or a list holding exactly one (SDK copes with both, §5, §6.3)."""

    def convert(body: Any) -> M:
        if isinstance(body, list) and len(body) == 1:
            body = body[0]
        if not isinstance(body, dict):
            raise ValueError(f"expected one {model.__name__} object")
        return model.model_validate(body)

    return convert


def many(model: type[M]) -> Convert[list[M]]:
    """A bare array of objects (§2.5: no envelope); `[]` may come as null or {}."""

    def convert(body: Any) -> list[M]:
        if body is None or body == {}:
            return []
        if not isinstance(body, list):
            raise ValueError(f"expected a list of {model.__name__} objects")
        return [model.model_validate(item) for item in body]

    return convert


def true(body: Any) -> None:
    """The bare literal `true` of DELETE, activate and deactivate (§2.4)."""
    if body is True or (isinstance(body, dict) and body.get("success") is True):
        return
    raise ValueError("expected true")


def anything(body: Any) -> Any:
    return body


def _problem(exc: Exception) -> str:
    if isinstance(exc, pydantic.ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return f"{where}: {first['msg']}"
    return str(exc)


class Api:
    """Sends one request through the client's transport stack and decodes its answer."""

    def __init__(self, http: httpx.Client, *, now: Callable[[], float] = time.time) -> None:
        self.http = http
        self.now = now

    @property
    def base_url(self) -> str:
        return str(self.http.base_url).rstrip("/")

    def stamp(self) -> int:
        """The current time as the service's integer seconds (never 0: 0 means unset)."""
        return max(1, int(self.now()))

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        read_only: bool = False,
    ) -> httpx.Response:
        extensions: dict[str, Any] = {}
        if idempotent is not None:
            extensions[IDEMPOTENT] = idempotent
        if read_only:
            extensions[READ_ONLY] = True
        try:
            return self.http.request(
                method,
                path,
                params=dict(params) if params else None,
                json=body,
                headers={"Accept": "application/json"},
                extensions=extensions,
            )
        except httpx.TransportError as exc:
            raise ConnectionLost(
                SERVICE, type(exc).__name__, method=method, url=f"/{path.lstrip('/')}"
            ) from None

    def call(
        self,
        method: str,
        path: str,
        expect: Convert[T],
        *,
        params: Params | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        read_only: bool = False,
    ) -> T:
        response = self.send(
            method, path, params=params, body=body, idempotent=idempotent, read_only=read_only
        )
        data = decode(response)
        try:
            return expect(data)
        except (ValueError, pydantic.ValidationError) as exc:
            raise unexpected(response, _problem(exc)) from None

    def get(self, path: str, expect: Convert[T], *, params: Params | None = None) -> T:
        return self.call("GET", path, expect, params=params)

    def get_or_none(
        self, path: str, expect: Convert[T], *, params: Params | None = None
    ) -> T | None:
        try:
            return self.call("GET", path, expect, params=params)
        except NotFoundError:
            return None


def create_once(create: Callable[[], T], lookup: Callable[[], T | None], *, attempts: int = 3) -> T:
    """Send a create that must not run twice: after a lost answer, look before resending.

    A create is never retried blindly (SPEC invariant 3): a dropped connection
    or a 5xx may come after the service made the object, so we look for it
    first and send again only when it is not there.
    """
    lost: ConnectionLost | ServerError | None = None
    for _ in range(attempts):
        try:
            return create()
        except ConflictError:
            if lost is None:
                raise
            found = lookup()  # our lost attempt got through after all
            if found is not None:
                return found
            raise
        except (ConnectionLost, ServerError) as exc:
            lost = exc
            found = lookup()
            if found is not None:
                return found
    if lost is None:
        raise ValueError("create_once needs at least one attempt")
    raise lost
