"""classify() sorts every documented answer into the typed error (reference §14, §16, §17)."""

from __future__ import annotations

import json

import httpx
import pytest

from crm2cr.dataverse.classify import classify, privilege_name, raise_for_error
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

API = "https://contoso.crm4.dynamics.com/api/data/v9.2"
PRIVILEGE_MESSAGE = (
    "Principal user (Id=4e1b5c51-0000-0000-0000-000000000001, type=8, roleCount=1, "
    "privilegeCount=120, accessMode=0), is missing prvReadlead privilege "
    "(Id=ac8c6f5f-0000-0000-0000-000000000002) on OTC=4 for entity 'lead'. "
    "context.Caller=4e1b5c51-0000-0000-0000-000000000001"
)


def answer(
    status: int,
    code: str,
    message: str,
    *,
    path: str = "contacts",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return httpx.Response(
        status,
        headers={"Content-Type": "application/json; odata.metadata=minimal", **(headers or {})},
        content=body,
        request=httpx.Request("GET", f"{API}/{path}"),
    )


# Every row of the §14 table: (code, status, expected class).
TABLE = [
    ("0x80040217", 404, NotFoundError),
    ("0x80040220", 403, PrivilegeDenied),
    ("0x80040231", 403, ForbiddenError),
    ("0x80048405", 403, ForbiddenError),
    ("0x80040237", 412, ConflictError),
    ("0x80040237", 400, ConflictError),
    ("0x80040237", 409, ConflictError),
    ("0x80060892", 400, ConflictError),
    ("0x80060892", 412, ConflictError),
    ("0x80060891", 404, NotFoundError),
    ("0x80040333", 400, ConflictError),
    ("0x80040333", 412, ConflictError),
    ("0x8006088a", 404, NotFoundError),
    ("0x0", 400, ValidationError),
    ("0x80044331", 400, ValidationError),
    ("0x80044302", 401, AuthError),
    ("0x8004418a", 413, BatchTooLarge),
    ("0x80044352", 400, ChangeTokenExpired),
    ("0x80072322", 429, RateLimited),
    ("0x80072321", 429, RateLimited),
    ("0x80072326", 429, RateLimited),
    ("0x80048d19", 400, ValidationError),
    ("0x80060882", 412, ConflictError),
    ("0x80040216", 503, ServerError),
    ("0x80040216", 500, ServerError),
    ("", 405, ValidationError),
]


@pytest.mark.parametrize(("code", "status", "kind"), TABLE)
def test_every_code_of_the_table_is_typed_and_keeps_its_fields(
    code: str, status: int, kind: type[ApiError]
) -> None:
    """Reference §14 (table), §17.2–3: the class, status, code and message are kept."""
    message = PRIVILEGE_MESSAGE if code == "0x80040220" else f"message for {code}"
    error = classify(answer(status, code, message))
    assert type(error) is kind
    assert error.service == "dataverse"
    assert error.status == status
    assert error.code == code
    assert error.api_message == message
    assert error.method == "GET" and error.url.endswith("/contacts")


def test_privilege_denied_names_the_privilege() -> None:
    """Reference §13.3, §16: 403 0x80040220 → the privilege named in the message."""
    error = classify(answer(403, "0x80040220", PRIVILEGE_MESSAGE))
    assert isinstance(error, PrivilegeDenied)
    assert error.privilege == "prvReadlead"
    assert "prvReadlead" in error.hint
    assert privilege_name("no privilege here") == ""


def test_retry_after_is_kept_on_rate_limits() -> None:
    """Reference §15: 429 + Retry-After seconds; the error keeps them."""
    error = classify(
        answer(
            429,
            "0x80072322",
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
            headers={"Retry-After": "17"},
        )
    )
    assert isinstance(error, RateLimited) and error.retry_after == 17.0
    plain = httpx.Response(429, request=httpx.Request("POST", f"{API}/$batch"))
    throttled = classify(plain)
    assert isinstance(throttled, RateLimited) and throttled.retry_after is None


def test_missing_lists_table_is_a_clear_error() -> None:
    """Reference §6 list, §16: 404 0x8006088a on /lists → no marketing lists."""
    error = classify(
        answer(404, "0x8006088a", "Resource not found for the segment 'lists'.", path="lists")
    )
    assert isinstance(error, NoMarketingLists)
    assert "no marketing lists" in error.message
    other = classify(answer(404, "0x8006088a", "Resource not found for the segment 'Contacts'."))
    assert type(other) is NotFoundError


def test_html_or_unknown_answers_name_the_url() -> None:
    """Reference §16: a wrong organisation URL answers HTML → one clear line naming the fix."""
    page = httpx.Response(
        404,
        headers={"Content-Type": "text/html"},
        content=b"<html><body>Not here</body></html>",
        request=httpx.Request("GET", "https://www.contoso.com/api/data/v9.2/WhoAmI"),
    )
    error = classify(page)
    assert isinstance(error, ProtocolError)
    assert "https://www.contoso.com" in error.message
    assert "organisation URL" in error.hint
    assert "\n" not in error.one_line()


def test_success_passes_and_error_raises() -> None:
    """Reference §14: only statuses ≥ 400 are errors."""
    ok = httpx.Response(204, request=httpx.Request("PATCH", f"{API}/contacts"))
    assert classify(ok) is None and raise_for_error(ok) is ok
    with pytest.raises(NotFoundError):
        raise_for_error(answer(404, "0x80040217", "contact With Id = x Does Not Exist"))
    bare = classify(httpx.Response(418, content=b"teapot"))
    assert type(bare) is ApiError and bare.method == ""
