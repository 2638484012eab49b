"""CleverReach's wire conventions (reference §2, §4.1): error bodies, JSON answers, parameters."""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

# A pragmatic address check: one @, a dotted domain, no spaces. CleverReach's own rule is
# not published; this rejects what the tests call invalid and accepts every demo address.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class Refusal(Exception):
    """Ends a request with CleverReach's error body; raised by handlers, rendered by the app."""

    def __init__(self, status: int, detail: str = "", headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}

    @property
    def message(self) -> str:
        return error_message(self.status, self.detail)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_message(status: int, detail: str = "") -> str:
    """`"<Reason>: <detail>"` (reference §4.1), or the bare reason without a detail."""
    return f"{reason(status)}: {detail}" if detail else reason(status)


def error_body(status: int, detail: str = "") -> bytes:
    return dumps({"error": {"code": status, "message": error_message(status, detail)}})


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class JSON(Response):
    """A JSON answer; `true` and bare arrays are answers too (reference §2.4, §2.5)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_response(status: int, detail: str = "", headers: dict[str, str] | None = None) -> JSON:
    return JSON(
        {"error": {"code": status, "message": error_message(status, detail)}},
        status_code=status,
        headers=headers,
    )


def render_fault(status: int, detail: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The FaultMiddleware's renderer: injected faults look like CleverReach's own errors."""
    return status, [(b"content-type", b"application/json")], error_body(status)


# --- parameters -------------------------------------------------------------------------


def valid_email(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.match(text) is not None


def normalize_email(text: str) -> str:
    return text.strip().lower()


def path_id(request: Request, name: str) -> str:
    """A path parameter, percent-decoded once more (clients may send `%40` for `@`)."""
    return unquote(str(request.path_params[name])).strip()


def numeric_id(text: str, what: str) -> int:
    """An id from the path or a body; anything else is the object's 404."""
    if not text.isdigit():
        raise Refusal(404, f"invalid {what}")
    return int(text)


def query_int(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Refusal(400, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise Refusal(400, f"{name} must be between {low} and {high}")
    return value


def paging(request: Request, *, default_size: int = 50, max_size: int = 5000) -> tuple[int, int]:
    """Zero-based `page` and `pagesize`; above the maximum is a 400, never a silent clamp."""
    page = query_int(request, "page", 0, low=0, high=10**9)
    size = query_int(request, "pagesize", default_size, low=1, high=max_size)
    return page, size


async def body_value(request: Request) -> Any:
    """The JSON body, or a form body as a dict; an empty body is None."""
    raw = await request.body()
    if not raw.strip():
        return None
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        return json.loads(raw)
    except ValueError:
        raise Refusal(400, "invalid JSON body") from None


async def body_object(request: Request) -> dict[str, Any]:
    value = await body_value(request)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Refusal(400, "the body must be a JSON object")
    return value


def text_field(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Refusal(400, f"{name} must be a string")
    return str(value)


def stamp_field(body: dict[str, Any], name: str) -> int | None:
    """An optional Unix timestamp field: absent → None; numbers and numeric strings accepted."""
    if name not in body or body[name] is None:
        return None
    value = body[name]
    if isinstance(value, bool):
        raise Refusal(400, f"{name} must be a Unix timestamp")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int | float) or value < 0:
        raise Refusal(400, f"{name} must be a Unix timestamp")
    return int(value)


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
