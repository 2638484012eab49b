"""Answers sorted into results and typed errors (reference §4.1, §14 Typed errors)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crm2cr.cleverreach.classify import classify, decode
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
)

URL = "http://127.0.0.1:9/v3/groups/1/receivers/anna@example.org?token=s3cr3t-token"


def answer(
    status: int, body: Any = None, *, text: str | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("GET", URL)
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def api_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message}}


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ValidationError),
        (401, AuthError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, BatchTooLarge),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_each_status_is_its_typed_error_keeping_the_service_message(
    status: int, kind: type[ApiError]
) -> None:
    """Reference §4.1: `{"error": {"code", "message"}}`, code = HTTP status."""
    error = classify(answer(status, api_error(status, "Reason: the detail")))
    assert type(error) is kind
    assert error.status == status
    assert error.api_message == "Reason: the detail"
    assert error.code == str(status)
    assert "Reason: the detail" in str(error)


def test_the_message_names_the_path_but_never_the_query() -> None:
    """Reference §3.1: a token may travel in the query; it must not reach an error."""
    error = classify(answer(404, api_error(404, "Not Found: invalid receiver")))
    assert error is not None
    assert "/v3/groups/1/receivers/anna@example.org" in str(error)
    assert "s3cr3t" not in str(error) + error.hint + repr(error)


def test_429_carries_retry_after() -> None:
    """Reference §4.2: 429 with `Retry-After`."""
    error = classify(answer(429, api_error(429, "Too Many Requests"), headers={"Retry-After": "7"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0


def test_oauth_shaped_errors_are_oauth_errors() -> None:
    """Reference §3.2: token errors are `{"error", "error_description"}` with 4xx."""
    error = classify(
        answer(400, {"error": "invalid_grant", "error_description": "refresh token spent"})
    )
    assert isinstance(error, OAuthError)
    assert isinstance(error, AuthError)
    assert (error.error, error.error_description) == ("invalid_grant", "refresh token spent")
    assert "connect cleverreach" in error.hint


def test_an_error_body_with_http_200_is_a_protocol_error() -> None:
    """Reference §4.1: W6W saw error bodies with HTTP 200; every object body is checked."""
    error = classify(answer(200, api_error(404, "Not Found: invalid group")))
    assert isinstance(error, ProtocolError)
    assert "Not Found: invalid group" in error.api_message


@pytest.mark.parametrize("body", [True, [], [{"id": "1"}], {"id": "1"}, None])
def test_usable_answers_are_no_error(body: Any) -> None:
    """Reference §2.4, §2.5: bare `true`, bare arrays, objects."""
    assert classify(answer(200, body)) is None


def test_a_wrong_url_reads_as_a_wrong_url() -> None:
    """Reference §2.1: anything that is not the API's shape points at the base URL."""
    error = classify(answer(404, text="<html><body>Not here</body></html>"))
    assert isinstance(error, ProtocolError)
    assert "URL" in error.hint
    with pytest.raises(ProtocolError) as caught:
        decode(answer(200, text="<html>welcome</html>"))
    assert "URL" in caught.value.hint
    assert "\n" not in caught.value.one_line()


def test_a_redirect_is_not_followed_but_named() -> None:
    """Reference §2.1: the API does not redirect; a redirect means another host."""
    error = classify(answer(302, text="", headers={"Location": "https://login.example/"}))
    assert isinstance(error, ProtocolError)


def test_a_wrong_token_reads_as_one_line_with_the_fix() -> None:
    """Reference §3.1: 401 `{"error":{"code":401,"message":"Unauthorized"}}`."""
    error = classify(answer(401, api_error(401, "Unauthorized")))
    assert isinstance(error, AuthError)
    line = error.one_line()
    assert "\n" not in line
    assert "connect cleverreach" in line
    assert error.exit_code == 2


def test_long_or_multi_line_messages_are_cut_to_one_line() -> None:
    """Reference §4.1: the service's message is kept, one line of it."""
    error = classify(answer(500, text="first line\n" + "x" * 1000))
    assert isinstance(error, ServerError)
    assert error.api_message == "first line"
    error = classify(answer(500, text="y" * 1000))
    assert error is not None
    assert len(error.api_message) <= 300


def test_decode_returns_the_body() -> None:
    """Reference §2.4: DELETE answers the bare literal `true`."""
    assert decode(answer(200, True)) is True
    assert decode(answer(200, [1, 2])) == [1, 2]
    assert decode(answer(200)) is None
