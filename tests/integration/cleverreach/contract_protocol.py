"""Contract, part 1: the wire, sign-in, errors, paging and retries (reference §2–§4, §14)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crm2cr.cleverreach import (
    CleverReachClient,
    OAuthTokens,
    ReceiverData,
    Token,
    TokenEndpoint,
    TokenStore,
    authorize_url,
)
from crm2cr.cleverreach.models import Receiver
from crm2cr.emulators.cleverreach.account import EMULATOR_CLIENT_ID
from crm2cr.errors import (
    AuthError,
    ConnectionLost,
    NotFoundError,
    OAuthError,
    RateLimited,
    ServerError,
    ValidationError,
)
from crm2cr.http import RetryPolicy
from tests.integration.cleverreach.helpers import Start, addresses, fill, new_group, raw
from tests.support.cleverreach import CREDENTIALS, TEST_OPTIONS, CleverReachHarness

MONTH = 2_592_000
STRICT = replace(TEST_OPTIONS, auth="strict")


def journal_paths(h: CleverReachHarness, fragment: str, method: str | None = None) -> list[str]:
    entries = h.control("GET", "journal")["entries"]
    return [
        e["path"]
        for e in entries
        if fragment in e["path"] and (method is None or e["method"] == method)
    ]


def access_token(h: CleverReachHarness) -> str:
    return TokenEndpoint(h.raw).client_credentials(CREDENTIALS).access_token


class ProtocolContract:
    def test_the_json_suffix_is_optional(self, cr: CleverReachClient) -> None:
        """Reference §2.2 (§15.1): `.json` on the first or last segment answers alike."""
        group = new_group(cr)
        fill(cr, group.id, addresses(3))
        plain = raw(cr, "GET", f"v3/groups/{group.id}/receivers")
        assert raw(cr, "GET", f"v3/groups.json/{group.id}/receivers") == plain
        assert raw(cr, "GET", f"v3/groups/{group.id}/receivers.json") == plain
        assert len(plain) == 3

    def test_the_token_works_as_header_and_as_query(self, start: Start) -> None:
        """Reference §3.1 (§15.2): Bearer header or `?token=`; strict mode refuses others."""
        h = start(STRICT)
        token = access_token(h)
        assert h.client(token=token).whoami().id
        assert h.raw.get("/v3/debug/whoami", params={"token": token}).status_code == 200
        missing = h.raw.get("/v3/debug/whoami")
        assert missing.status_code == 401
        assert missing.json() == {"error": {"code": 401, "message": "Unauthorized"}}
        with pytest.raises(AuthError) as caught:
            h.client(token="not-a-token-issued-here").whoami()
        assert (caught.value.status, caught.value.api_message) == (401, "Unauthorized")
        assert "connect cleverreach" in caught.value.one_line()

    def test_client_credentials_give_a_30_day_token_without_refresh_token(
        self, h: CleverReachHarness
    ) -> None:
        """Reference §3.2, §3.4 (§15.3): Basic + form or JSON body; no refresh token."""
        token = TokenEndpoint(h.raw).client_credentials(CREDENTIALS)
        assert token.lifetime == MONTH
        assert token.refresh_token is None
        answer = h.raw.post(
            "/oauth/token.php",
            json={"grant_type": "client_credentials"},
            auth=(CREDENTIALS.client_id, CREDENTIALS.client_secret),
        ).json()
        assert {"access_token", "token_type", "expires_in"} <= set(answer)
        assert answer["expires_in"] == MONTH
        assert "refresh_token" not in answer

    def test_authorization_code_gives_rotating_refresh_tokens(self, h: CleverReachHarness) -> None:
        """Reference §3.3, §3.4 (§15.4, §15.5): the old refresh token dies on use."""
        callback = "http://127.0.0.1:1/callback"
        url = authorize_url(h.base_url, EMULATOR_CLIENT_ID, callback, state="s-1")
        redirect = h.raw.get(url.removeprefix(h.base_url))
        assert redirect.status_code == 302
        query = parse_qs(urlsplit(redirect.headers["location"]).query)
        assert query["state"] == ["s-1"]
        endpoint = TokenEndpoint(h.raw)
        first = endpoint.authorization_code(CREDENTIALS, query["code"][0], callback)
        assert first.refresh_token
        second = endpoint.refresh(CREDENTIALS, first.refresh_token)
        assert second.refresh_token and second.refresh_token != first.refresh_token
        with pytest.raises(OAuthError) as caught:
            endpoint.refresh(CREDENTIALS, first.refresh_token)
        assert (caught.value.status, caught.value.error) == (400, "invalid_grant")
        assert caught.value.error_description
        with pytest.raises(OAuthError):  # codes are single-use
            endpoint.authorization_code(CREDENTIALS, query["code"][0], callback)

    def test_api_errors_carry_code_and_message(self, cr: CleverReachClient) -> None:
        """Reference §4.1 (§15.5): `{"error": {"code", "message"}}`, code = HTTP status."""
        with pytest.raises(NotFoundError) as caught:
            cr.groups.get("999999")
        assert caught.value.code == "404"
        assert caught.value.api_message == "Not Found: invalid group"

    def test_an_expired_token_gets_401_and_ttl_counts_down(self, start: Start) -> None:
        """Reference §3.4, §3.5 (§15.6): past `expires_in` calls get 401."""
        h = start(STRICT)
        cr = h.client(token=access_token(h))
        before = cr.ttl().ttl
        assert MONTH - 60 <= before <= MONTH
        h.control("POST", "clock/advance", {"seconds": 1000})
        assert cr.ttl().ttl <= before - 1000
        h.control("POST", "clock/advance", {"seconds": MONTH})
        with pytest.raises(AuthError):
            cr.whoami()

    def test_a_401_refreshes_once_and_resends(self, start: Start) -> None:
        """Reference §14 Tokens: on 401 refresh once and retry once."""
        h = start(STRICT)
        cr = h.client()
        assert cr.whoami().id
        h.control("POST", "tokens/expire")
        assert cr.whoami().id
        assert len(journal_paths(h, "/oauth/token.php")) == 2
        assert len(journal_paths(h, "/v3/debug/whoami")) == 3

    def test_concurrent_401s_refresh_the_token_once(self, start: Start) -> None:
        """Reference §14 Tokens: thread-safe; one refresh serves every waiting request."""
        h = start(STRICT)
        cr = h.client()
        cr.whoami()
        h.control("POST", "tokens/expire")
        with ThreadPoolExecutor(max_workers=6) as pool:
            accounts = list(pool.map(lambda _: cr.whoami(), range(12)))
        assert len({a.id for a in accounts}) == 1
        assert len(journal_paths(h, "/oauth/token.php")) == 2

    def test_a_token_is_renewed_a_week_before_it_expires(self, start: Start) -> None:
        """Reference §3.4, §14 Tokens: renew with less than min(7 days, lifetime/4) left."""
        h = start(STRICT)
        clock = [1_700_000_000.0]
        cr = h.client(now=lambda: clock[0])
        cr.whoami()
        first = TokenStore(h.base_url).load()
        assert first is not None and first.expires_at == clock[0] + MONTH
        clock[0] += MONTH - 7 * 86_400 - 1  # a week and a second left
        cr.whoami()
        assert len(journal_paths(h, "/oauth/token.php")) == 1
        clock[0] += 2
        cr.whoami()
        assert len(journal_paths(h, "/oauth/token.php")) == 2
        renewed = TokenStore(h.base_url).load()
        assert renewed is not None and renewed.access_token != first.access_token

    def test_a_refused_refresh_asks_to_reconnect(self, start: Start) -> None:
        """Reference §14 Tokens: a refresh failing with 4xx → reconnect, in one clear line."""
        h = start(STRICT)
        store = TokenStore(h.base_url)
        store.save(Token("expired-access", 1.0, MONTH, "spent-refresh-token"))
        cr = h.client(tokens=OAuthTokens(TokenEndpoint(h.raw), credentials=CREDENTIALS))
        with pytest.raises(OAuthError) as caught:
            cr.whoami()
        line = caught.value.one_line()
        assert "invalid_grant" in line and "connect cleverreach" in line
        assert "spent-refresh-token" not in line + repr(caught.value)
        assert store.load() is None

    def test_a_wrong_url_is_one_clear_line(self, h: CleverReachHarness) -> None:
        """Reference §2.1: one base URL; a wrong one is named, not a traceback."""
        with httpx.HTTPTransport(retries=0) as nowhere, pytest.raises(ConnectionLost) as lost:
            h.client(token="t", base_url="http://127.0.0.1:1", transport=nowhere).whoami()
        assert "\n" not in lost.value.one_line() and "URL" in lost.value.hint
        with pytest.raises(NotFoundError) as caught:
            h.client(token="t", base_url=f"{h.base_url}/wrong").whoami()
        assert "\n" not in caught.value.one_line()

    def test_ids_are_strings_attribute_ids_integers_stamps_seconds(
        self, cr: CleverReachClient
    ) -> None:
        """Reference §2.4 (§15.7): id types and integer timestamps on the wire."""
        group = new_group(cr)
        fill(cr, group.id, ["anna@example.org"])
        attribute = cr.attributes.create("firstname")
        wire_group = raw(cr, "GET", f"v3/groups/{group.id}")
        wire_receiver = raw(cr, "GET", f"v3/groups/{group.id}/receivers/anna@example.org")
        wire_attribute = raw(cr, "GET", f"v3/attributes/{attribute.id}")
        assert isinstance(wire_group["id"], str) and isinstance(wire_receiver["id"], str)
        assert isinstance(wire_attribute["id"], int)
        for stamp in ("registered", "activated", "deactivated", "last_changed"):
            assert isinstance(wire_receiver[stamp], int)
        assert wire_receiver["deactivated"] == 0

    def test_paging_is_zero_based_and_stops_at_the_first_short_page(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §2.5 (§15.8): 120 at 50 come as 50, 50, 20; 5001 is refused."""
        group = new_group(cr)
        fill(cr, group.id, addresses(120))
        pages = list(cr.receivers.pages(group.id, page_size=50))
        assert [len(p) for p in pages] == [50, 50, 20]
        assert len({r.id for p in pages for r in p}) == 120
        path = f"v3/groups/{group.id}/receivers"
        assert len(raw(cr, "GET", path)) == 50  # default pagesize
        assert raw(cr, "GET", path, page=3, pagesize=50) == []
        assert len(raw(cr, "GET", path, pagesize=5000)) == 120
        with pytest.raises(ValidationError):
            raw(cr, "GET", path, pagesize=5001)
        seen = len(journal_paths(h, f"/v3/groups/{group.id}/receivers", "GET"))
        assert len(list(cr.receivers.stream(group.id, page_size=40))) == 120  # exact multiple
        assert len(journal_paths(h, f"/v3/groups/{group.id}/receivers", "GET")) == seen + 4

    def test_receivers_are_found_by_id_and_by_email(self, cr: CleverReachClient) -> None:
        """Reference §2.3, §6.3 (§15.10): id, e-mail with `@` or `%40`; unknown → 404."""
        group, other = new_group(cr), new_group(cr, "Other")
        fill(cr, group.id, ["anna+news@example.org"])
        fill(cr, other.id, ["ben@example.org"])
        by_email = cr.receivers.get(group.id, "anna+news@example.org")
        assert cr.receivers.get(group.id, by_email.id).email == "anna+news@example.org"
        encoded = raw(cr, "GET", f"v3/groups/{group.id}/receivers/anna%2Bnews%40example.org")
        assert Receiver.model_validate(encoded).id == by_email.id
        with pytest.raises(NotFoundError) as caught:
            cr.receivers.get(group.id, "nobody@example.org")
        assert caught.value.api_message == "Not Found: invalid receiver"
        assert cr.receivers.find(group.id, "ben@example.org") is None  # only in another group
        assert cr.receivers.get_account("ben@example.org").email == "ben@example.org"
        fill(cr, other.id, ["anna+news@example.org"])
        assert set(cr.receivers.group_ids("anna+news@example.org")) == {group.id, other.id}

    def test_past_the_rate_limit_comes_429_with_retry_after(self, start: Start) -> None:
        """Reference §4.2 (§15.35): 429, `Retry-After` and the error body."""
        h = start(replace(TEST_OPTIONS, limits=True))
        cr = h.client(token="dev", policy=RetryPolicy(attempts=1))
        with pytest.raises(RateLimited) as caught:
            for _ in range(1000):  # bounded: the burst is 40
                cr.whoami()
        assert caught.value.retry_after is not None and caught.value.retry_after > 0
        assert caught.value.api_message == "Too Many Requests"

    def test_429_is_retried_after_retry_after_without_sleeping(self, h: CleverReachHarness) -> None:
        """Reference §4.2, §14 Retries: honour `Retry-After`; the sleep is injected."""
        h.control("POST", "faults", {"fault_rate": 1.0, "kinds": ["429"], "retry_after": 7})
        h.on_sleep.append(lambda _: h.control("POST", "faults", {"fault_rate": 0.0}))
        cr = h.client(token="dev")
        assert cr.whoami().id
        assert h.sleeps == [7.0]

    def test_5xx_backs_off_five_tries_and_never_repeats_a_create(
        self, h: CleverReachHarness, cr: CleverReachClient
    ) -> None:
        """Reference §14 Retries: 0.5 s ×2 with jitter, 5 tries; a create is not resent."""
        group = new_group(cr)
        h.control("POST", "faults", {"fault_rate": 1.0, "kinds": ["503"]})
        with pytest.raises(ServerError):
            cr.groups.get(group.id)
        assert len(h.sleeps) == 4
        for retry, slept in enumerate(h.sleeps):
            assert 0.5 * 2**retry * 0.75 <= slept <= 0.5 * 2**retry * 1.25
        with pytest.raises(ServerError):
            cr.receivers.create(group.id, ReceiverData("anna@example.org"))
        assert len(journal_paths(h, f"/v3/groups/{group.id}/receivers", "POST")) == 1
