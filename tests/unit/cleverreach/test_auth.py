"""Tokens: when to renew, where they are kept, and that they never leak (reference §3, §14)."""

from __future__ import annotations

import json
import stat

import pytest

from crm2cr import paths
from crm2cr.cleverreach.auth import (
    WEEK,
    ClientCredentials,
    StaticToken,
    Token,
    TokenStore,
    authorize_url,
)
from crm2cr.cleverreach.webhooks import Registration
from crm2cr.errors import NotConnected

MONTH = 2_592_000.0


@pytest.mark.parametrize(
    ("lifetime", "left", "due"),
    [
        (MONTH, WEEK + 1, False),  # 30 days: renew a week before the end
        (MONTH, WEEK - 1, True),
        (86_400.0, 86_400 / 4 + 1, False),  # one day: renew with a quarter left
        (86_400.0, 86_400 / 4 - 1, True),
        (MONTH, 0, True),
        (0.0, 10, False),  # lifetime unknown: renew only on a 401
    ],
)
def test_a_token_is_renewed_when_less_than_min_week_quarter_is_left(
    lifetime: float, left: float, due: bool
) -> None:
    """Reference §14 Tokens: refresh when less than min(7 days, lifetime / 4) is left."""
    now = 1_700_000_000.0
    token = Token("a", expires_at=now + left if lifetime else 0.0, lifetime=lifetime)
    assert token.due(now) is due


def test_tokens_round_trip_through_the_secret_file_with_mode_0600() -> None:
    """Reference §14 Tokens: token, expiry and refresh token kept in the secret store."""
    store = TokenStore()
    token = Token("access-123456", 1_700_000_000.0, MONTH, "refresh-abcdef")
    store.save(token)
    assert store.load() == token
    secret_file = paths.file("secrets.json")
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    store.save_credentials(ClientCredentials("client", "secret-xyz"))
    assert store.load_credentials() == ClientCredentials("client", "secret-xyz")
    store.clear()
    assert store.load() is None
    assert "access-123456" not in secret_file.read_text()


def test_tokens_are_kept_per_host() -> None:
    """Reference §2.1, §3.1: a token one server issued is never sent to another."""
    TokenStore("http://127.0.0.1:8702").save(Token("emulator-token", 1.0, MONTH))
    assert TokenStore("https://rest.cleverreach.com").load() is None
    assert TokenStore("http://127.0.0.1:8703").load() is None
    assert TokenStore("http://127.0.0.1:8702/").load() == Token("emulator-token", 1.0, MONTH)


def test_a_damaged_saved_token_reads_as_none() -> None:
    """Reference §14 Tokens: a token that cannot be read means signing in again."""
    store = TokenStore()
    store.store.set(store.token_name, json.dumps({"nothing": 1}))
    assert store.load() is None


def test_secrets_never_appear_in_reprs() -> None:
    """Reference §14 Tokens: never logged, never in repr."""
    things = [
        Token("access-123456", 1.0, 2.0, "refresh-abcdef"),
        ClientCredentials("client", "secret-xyz"),
        StaticToken("static-987654"),
        Registration("call-token-0000", "hook-secret-1111"),
    ]
    text = " ".join(repr(t) for t in things)
    for secret in (
        "access-123456",
        "refresh-abcdef",
        "secret-xyz",
        "static-987654",
        "call-token-0000",
        "hook-secret-1111",
    ):
        assert secret not in text


def test_a_static_token_is_not_renewed() -> None:
    """Reference §3.1, §14: a static token has nothing to refresh; the 401 stands."""
    token = StaticToken("static-987654")
    assert token.current() == "static-987654"
    assert token.refresh("static-987654") is None
    with pytest.raises(NotConnected):
        StaticToken("  ")


def test_the_authorize_url_asks_for_a_code() -> None:
    """Reference §3.3: client_id, response_type=code, redirect_uri, grant=basic, state."""
    url = authorize_url("http://127.0.0.1:1/", "cid", "http://127.0.0.1:2/cb", state="xyz")
    assert url.startswith("http://127.0.0.1:1/oauth/authorize.php?")
    for part in (
        "client_id=cid",
        "response_type=code",
        "grant=basic",
        "state=xyz",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A2%2Fcb",
    ):
        assert part in url
