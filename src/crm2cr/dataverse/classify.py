"""Sorting Dataverse answers into the crm2cr exception tree (reference §14, §16).

One function decides what an answer means. Every error keeps the service's
status, `error.code` and `error.message`; a 429 also keeps `Retry-After`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from crm2cr.errors import (
    ApiError,
    AuthError,
    BatchTooLarge,
    ChangeTokenExpired,
    ConflictError,
    ForbiddenError,
    NoMarketingLists,
    NotFoundError,
    PrivilegeDenied,
    ProtocolError,
    RateLimited,
    ServerError,
    ValidationError,
)
from crm2cr.http import retry_after_seconds

SERVICE = "dataverse"

PRIVILEGE_DENIED = "0x80040220"
RESOURCE_NOT_FOUND = "0x8006088a"
EXPIRED_VERSION_STAMP = "0x80044352"
# Duplicate keys are reported as 400, 409 or 412 depending on the path the
# request took (§14, §17.3); the client treats them alike, as conflicts.
DUPLICATE_CODES = frozenset({"0x80040237", "0x80060892", "0x80040333"})

_PRIVILEGE = re.compile(r"missing (prv\w+) privilege", re.IGNORECASE)
_SEGMENT = re.compile(r"segment '([^']*)'")


def error_fields(response: httpx.Response) -> tuple[str, str] | None:
    """(code, message) of a Dataverse JSON error body, or None when it has none."""
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    message = error.get("message")
    return (str(code) if code is not None else "", str(message) if message is not None else "")


def looks_like_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    return "html" in content_type or response.content.lstrip()[:1] == b"<"


def privilege_name(message: str) -> str:
    """The privilege a 0x80040220 message names ('prvReadList'), or '' when it names none."""
    match = _PRIVILEGE.search(message)
    return match.group(1) if match else ""


def request_line(response: httpx.Response) -> tuple[str, str]:
    """(method, url) of the request an answer belongs to; empty for a bare response."""
    try:
        request = response.request
    except RuntimeError:
        return "", ""
    return request.method, str(request.url)


def not_a_dataverse_answer(response: httpx.Response) -> ProtocolError:
    method, url = request_line(response)
    error = ProtocolError(
        SERVICE,
        response.status_code,
        "the answer is not from the Dataverse Web API "
        f"({response.headers.get('content-type', 'no content type')})",
        method=method,
        url=url,
    )
    error.hint = (
        "Check the organisation URL: it looks like https://contoso.crm4.dynamics.com "
        "(the address of the Dynamics 365 apps, without a path)."
    )
    return error


def classify(response: httpx.Response) -> ApiError | None:
    """The typed error an answer stands for, or None for a success (1xx–3xx)."""
    status = response.status_code
    if status < 400:
        return None
    method, url = request_line(response)
    fields = error_fields(response)
    if fields is None and looks_like_html(response):
        return not_a_dataverse_answer(response)
    code, message = fields if fields is not None else ("", response.reason_phrase or "")
    message = message or response.reason_phrase or f"HTTP {status}"
    where = {"code": code, "method": method, "url": url}

    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return RateLimited(SERVICE, message, retry_after=retry_after, **where)
    if status >= 500:
        return ServerError(SERVICE, status, message, **where)
    if status == 401:
        return AuthError(
            SERVICE,
            status,
            message,
            hint=(
                "The token was refused even after signing in again: check the organisation "
                "URL and that the app or user is a member of this organisation, then run "
                "'crm2cr connect crm'."
            ),
            **where,
        )
    if status == 403:
        privilege = privilege_name(message)
        if code == PRIVILEGE_DENIED or privilege:
            return PrivilegeDenied(
                SERVICE, message, privilege=privilege or "the missing privilege", **where
            )
        return ForbiddenError(SERVICE, status, message, **where)
    if code in DUPLICATE_CODES or status in (409, 412):
        return ConflictError(SERVICE, status, message, **where)
    if status == 404:
        return _not_found(status, code, message, where)
    if status == 413:
        return BatchTooLarge(
            SERVICE, status, message, hint="Send fewer or smaller records per request.", **where
        )
    if code == EXPIRED_VERSION_STAMP:
        return ChangeTokenExpired(
            SERVICE,
            status,
            message,
            hint="The change-tracking token expired; the table is read in full instead.",
            **where,
        )
    if status in (400, 405, 422):
        return ValidationError(SERVICE, status, message, **where)
    return ApiError(SERVICE, status, message, **where)


def _not_found(status: int, code: str, message: str, where: dict[str, str]) -> NotFoundError:
    segment = _SEGMENT.search(message)
    if code == RESOURCE_NOT_FOUND and segment and segment.group(1).split("(")[0] == "lists":
        return NoMarketingLists(
            SERVICE,
            status,
            "this organisation has no marketing lists (the 'lists' table does not exist)",
            hint=(
                "Marketing lists come with the Dynamics 365 Sales or Marketing apps; "
                "install one of them in this environment, or connect to one that has them."
            ),
            **where,
        )
    return NotFoundError(SERVICE, status, message, **where)


def raise_for_error(response: httpx.Response) -> httpx.Response:
    """Return the response when it is a success, else raise its typed error."""
    error = classify(response)
    if error is not None:
        raise error
    return response
