"""One place that sorts CleverReach answers into results and typed errors (§4.1, §14).

API errors read `{"error": {"code": 404, "message": "Not Found: invalid receiver"}}`;
the token endpoint answers the OAuth shape `{"error": "invalid_grant",
"error_description": "…"}`. Some answers carry an error body with HTTP 200
(W6W), so every object body is checked for `error`. The service's own message
is kept in every error; the request's path is named, its query never (it may
hold a token).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from crm2cr.errors import (
    ApiError,
    AuthError,
    BatchTooLarge,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OAuthError,
    ProtocolError,
    RateLimited,
    ServerError,
    ValidationError,
    first_line,
)
from crm2cr.http import retry_after_seconds

SERVICE = "cleverreach"
MAX_MESSAGE = 300

RECONNECT = "Run 'crm2cr connect cleverreach --help' and sign in again."
CHECK_URL = (
    "Check the CleverReach URL: it is the host above /v3 and /oauth "
    "(https://rest.cleverreach.com for the real service)."
)

_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: BatchTooLarge,
}

_HINTS: dict[int, str] = {
    401: f"CleverReach refused the token. {RECONNECT}",
    403: "The token's scope or the account's plan does not allow this; "
    "check the OAuth app's scopes and the contact quota in CleverReach.",
    413: "Send fewer receivers per batch.",
}


def body_of(response: httpx.Response) -> Any:
    """The parsed JSON body; None when empty; the raw text when it is not JSON."""
    content = response.content
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except (UnicodeDecodeError, ValueError):
        return response.text


def _message(body: Any, fallback: str) -> tuple[str, str, bool]:
    """(message, code, documented shape) of an error body."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            code = error.get("code")
            text = message if isinstance(message, str) and message else fallback
            return _short(text), "" if code is None else str(code), True
        if isinstance(error, str) and error:
            return _short(error), error, True
    if isinstance(body, str) and body.strip():
        return _short(body), "", False
    return fallback, "", False


def _short(text: str) -> str:
    line = first_line(text)
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _where(response: httpx.Response) -> tuple[str, str]:
    request = response.request
    return request.method, request.url.path


_UNREAD: Any = object()


def classify(response: httpx.Response, body: Any = _UNREAD) -> ApiError | None:
    """The typed error an answer means, or None for a usable answer.

    `body` is the parsed body (see `body_of`) when the caller already has it.
    """
    status = response.status_code
    if body is _UNREAD:
        body = body_of(response)
    method, path = _where(response)
    reason = response.reason_phrase or f"HTTP {status}"
    if 200 <= status < 300:
        if isinstance(body, dict) and body.get("error"):
            message, code, _ = _message(body, reason)
            return ProtocolError(
                SERVICE,
                status,
                f"error body with HTTP {status}: {message}",
                code=code,
                method=method,
                url=path,
                hint="CleverReach reported an error with a success status; run again later.",
            )
        return None
    message, code, documented = _message(body, reason)
    if isinstance(body, dict) and isinstance(body.get("error"), str) and 400 <= status < 500:
        description = body.get("error_description")
        return OAuthError(
            SERVICE,
            status,
            body["error"],
            description if isinstance(description, str) else "",
            hint=RECONNECT,
            method=method,
            url=path,
        )
    if status == 429:
        return RateLimited(
            SERVICE,
            message,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            code=code,
            method=method,
            url=path,
        )
    if status >= 500:
        return ServerError(
            SERVICE,
            status,
            message,
            code=code,
            method=method,
            url=path,
            hint="CleverReach had a problem; run again later.",
        )
    if status < 400 or (not documented and status in (404, 405)):
        # A redirect, or a 404 page that is not the API's error shape: this
        # is not the CleverReach API (a wrong base URL), whatever it is.
        return ProtocolError(
            SERVICE,
            status,
            f"not a CleverReach API answer ({message})",
            method=method,
            url=path,
            hint=CHECK_URL,
        )
    kind = _BY_STATUS.get(status, ValidationError if status < 500 else ServerError)
    return kind(
        SERVICE,
        status,
        message,
        code=code,
        method=method,
        url=path,
        hint=_HINTS.get(status, ""),
    )


def decode(response: httpx.Response) -> Any:
    """The JSON body of a usable answer; raises the typed error otherwise."""
    body = body_of(response)
    error = classify(response, body)
    if error is not None:
        raise error
    if isinstance(body, str):
        method, path = _where(response)
        raise ProtocolError(
            SERVICE,
            response.status_code,
            f"the answer is not JSON ({_short(body)})",
            method=method,
            url=path,
            hint=CHECK_URL,
        )
    return body


def unexpected(response: httpx.Response, what: str) -> ProtocolError:
    """A ProtocolError for an answer whose JSON has the wrong shape."""
    method, path = _where(response)
    return ProtocolError(
        SERVICE,
        response.status_code,
        f"unexpected answer: {what}",
        method=method,
        url=path,
        hint="CleverReach answered in a shape crm2cr does not know; please report it.",
    )
