"""Signing in and the bearer auth (reference §2.1, §2.2, §16).

msal's flows run against respx mocks of Microsoft's sign-in endpoints (the
only mocks in the project); the bearer auth is driven through its flow.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from crm2cr.dataverse.auth import AccessToken, BearerAuth, StaticToken, token_from_result
from crm2cr.dataverse.signin import (
    ClientCredentials,
    DeviceCode,
    SecretTokenCache,
    UsernamePassword,
)
from crm2cr.errors import SignInError
from crm2cr.secrets import secret_store

ORG = "https://contoso.crm4.dynamics.com"
TENANT = "0c1b2a39-0000-4000-8000-00000000aaaa"
LOGIN = f"https://login.microsoftonline.com/{TENANT}"
TOKEN_URL = f"{LOGIN}/oauth2/v2.0/token"
DEVICE_URL = f"{LOGIN}/oauth2/v2.0/devicecode"
CLIENT_ID = "51f81489-12ee-4a9e-aaae-a2591f45987d"


class Source:
    """Counts acquisitions; hands out tok1, tok2, …"""

    def __init__(self, lifetime: float = 3600.0, now: float = 1000.0) -> None:
        self.calls: list[str | None] = []
        self.lifetime = lifetime
        self.now = now
        self.lock = threading.Lock()

    def acquire(self, *, rejected: str | None = None) -> AccessToken:
        with self.lock:
            self.calls.append(rejected)
            return AccessToken(f"tok{len(self.calls)}", self.now + self.lifetime)


def drive(auth: BearerAuth, statuses: list[int]) -> list[str]:
    """Run one request through the auth flow; answer with `statuses`; return the tokens sent."""
    request = httpx.Request("GET", f"{ORG}/api/data/v9.2/WhoAmI")
    flow = auth.sync_auth_flow(request)
    sent = [next(flow).headers["Authorization"]]
    for status in statuses:
        try:
            sent.append(flow.send(httpx.Response(status, request=request)).headers["Authorization"])
        except StopIteration:
            break
    return sent


def test_token_is_reused_while_more_than_five_minutes_are_left() -> None:
    """Reference §16: reuse tokens with > 5 min left."""
    now = [1000.0]
    source = Source(lifetime=600.0, now=1000.0)
    auth = BearerAuth(source, clock=lambda: now[0])
    assert drive(auth, [200]) == ["Bearer tok1"]
    now[0] = 1000.0 + 299
    assert drive(auth, [200]) == ["Bearer tok1"]
    now[0] = 1000.0 + 301  # 299 s left
    assert drive(auth, [200]) == ["Bearer tok2"]
    assert source.calls == [None, None]


def test_a_401_drops_the_token_and_resends_once() -> None:
    """Reference §16: on 401 drop the token, acquire again, retry once."""
    source = Source()
    auth = BearerAuth(source, clock=lambda: 1000.0)
    assert drive(auth, [401, 200]) == ["Bearer tok1", "Bearer tok2"]
    assert source.calls == [None, "tok1"]
    # a second 401 is not retried again: the flow ends and the client classifies it
    assert drive(auth, [401, 401, 401]) == ["Bearer tok2", "Bearer tok3"]


def test_concurrent_refusals_refresh_only_once() -> None:
    """Reference §16: thread-safe refresh; one new token for many refused requests."""
    source = Source()
    auth = BearerAuth(source, clock=lambda: 1000.0)
    assert auth.token() == "tok1"
    barrier = threading.Barrier(8)
    results: list[str] = []

    def refused() -> None:
        barrier.wait()
        results.append(auth.renew("tok1"))

    threads = [threading.Thread(target=refused) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["tok2"] * 8
    assert source.calls == [None, "tok1"]


def test_static_token_and_result_parsing() -> None:
    """Reference §2.1: MSAL results are dicts; an error dict becomes SignInError."""
    static = StaticToken("abc", clock=lambda: 0.0)
    assert static.acquire().value == "abc" and "abc" not in repr(static)
    token = token_from_result({"access_token": "eyJ0b2tlbg", "expires_in": 3599}, lambda: 10.0)
    assert token.expires_at == 3609.0 and "eyJ0b2tlbg" not in repr(token)
    with pytest.raises(SignInError) as refused:
        token_from_result(
            {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid secret.\nTrace",
            },
            lambda: 0.0,
        )
    assert refused.value.error == "invalid_client"
    assert "AADSTS7000215" in refused.value.message and "Trace" not in refused.value.message


def openid_configuration() -> dict[str, str]:
    return {
        "token_endpoint": TOKEN_URL,
        "authorization_endpoint": f"{LOGIN}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": DEVICE_URL,
        "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
    }


def b64(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def user_token(access: str) -> dict[str, object]:
    """A token answer for a user, with the id token and client info msal keeps accounts by."""
    claims = {
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "sub": "s",
        "aud": CLIENT_ID,
        "oid": "user-oid",
        "tid": TENANT,
        "preferred_username": "erika@contoso.com",
        "exp": "9999999999",
        "iat": "1",
    }
    return {
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": 3599,
        "refresh_token": f"refresh-{access}",
        "scope": f"{ORG}/user_impersonation",
        "id_token": f"{b64({'alg': 'none'})}.{b64(claims)}.",
        "client_info": b64({"uid": "user-oid", "utid": TENANT}),
    }


@pytest.fixture
def login() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(f"{LOGIN}/v2.0/.well-known/openid-configuration").respond(
            json=openid_configuration()
        )
        router.get(
            url__regex=r"https://login\.microsoftonline\.com/common/discovery/instance.*"
        ).respond(
            json={
                "tenant_discovery_endpoint": f"{LOGIN}/v2.0/.well-known/openid-configuration",
                "metadata": [],
            }
        )
        yield router


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_client_credentials_flow(login: respx.MockRouter) -> None:
    """Reference §2.1: ConfidentialClientApplication, scope {org}/.default; refusal → new token."""
    token_route = login.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(
                200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": t}
            )
            for t in ("A1", "A2")
        ]
    )
    source = ClientCredentials(ORG, tenant=TENANT, client_id=CLIENT_ID, client_secret="s3cret!")
    assert source.acquire().value == "A1"
    sent = form(token_route.calls[0].request)
    assert sent["grant_type"] == "client_credentials"
    assert sent["scope"] == f"{ORG}/.default"
    assert source.acquire().value == "A1"  # msal's cache, no second request
    assert token_route.call_count == 1
    assert source.acquire(rejected="A1").value == "A2"  # the refused token is never handed back
    assert token_route.call_count == 2
    assert "s3cret" not in repr(source)


def test_client_credentials_refusal_is_a_sign_in_error(login: respx.MockRouter) -> None:
    """Reference §2.1: MSAL returns error dicts, not exceptions → SignInError."""
    login.post(TOKEN_URL).respond(
        400,
        json={"error": "invalid_client", "error_description": "AADSTS7000215: Invalid secret."},
    )
    source = ClientCredentials(ORG, tenant=TENANT, client_id=CLIENT_ID, client_secret="wrong")
    with pytest.raises(SignInError) as refused:
        source.acquire()
    assert refused.value.error == "invalid_client"
    assert "wrong" not in str(refused.value)


def test_device_code_flow_shows_the_message_and_caches_in_the_secret_store(
    login: respx.MockRouter,
) -> None:
    """Reference §2.1, §16: initiate_device_flow, show flow["message"]; the cache is a secret."""
    device_route = login.post(DEVICE_URL).respond(
        json={
            "device_code": "dev-code",
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 0,
            "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH.",
        }
    )
    token_route = login.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(400, json={"error": "authorization_pending"}),
            httpx.Response(200, json=user_token("U1")),
            httpx.Response(200, json=user_token("U2")),
        ]
    )
    shown: list[str] = []
    source = DeviceCode(ORG, tenant=TENANT, client_id=CLIENT_ID, show=shown.append)
    assert source.acquire().value == "U1"
    assert shown == ["To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH."]
    assert form(device_route.calls[0].request)["scope"].startswith(f"{ORG}/user_impersonation")
    assert form(token_route.calls[1].request)["device_code"] == "dev-code"
    stored = secret_store().get(source.cache.secret_name)
    assert stored and "refresh-U1" in stored
    # a later run loads the cache and refreshes silently, without showing a code again
    again = DeviceCode(ORG, tenant=TENANT, client_id=CLIENT_ID, show=shown.append)
    assert again.acquire(rejected="U1").value == "U2"
    assert form(token_route.calls[2].request)["grant_type"] == "refresh_token"
    assert len(shown) == 1


def test_device_code_that_cannot_start_is_a_sign_in_error(login: respx.MockRouter) -> None:
    """Reference §2.1: an error dict from initiate_device_flow → SignInError."""
    login.post(DEVICE_URL).respond(
        400, json={"error": "invalid_client", "error_description": "public clients only"}
    )
    source = DeviceCode(ORG, tenant=TENANT, client_id=CLIENT_ID, show=lambda m: None)
    with pytest.raises(SignInError, match="invalid_client"):
        source.acquire()


def test_username_password_flow(login: respx.MockRouter) -> None:
    """Reference §2.1: acquire_token_by_username_password; MFA refusals are SignInErrors."""
    login.get(url__regex=r"https://login\.microsoftonline\.com/common/userrealm/.*").respond(
        json={"account_type": "Managed", "domain_name": "contoso.com"}
    )
    token_route = login.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=user_token("P1")),
            httpx.Response(
                400,
                json={
                    "error": "invalid_grant",
                    "error_description": "AADSTS50076: multi-factor authentication required.",
                },
            ),
        ]
    )
    cache = SecretTokenCache("dataverse.msal.test-password")
    source = UsernamePassword(
        ORG,
        tenant=TENANT,
        client_id=CLIENT_ID,
        username="erika@contoso.com",
        password="pa55word",
        cache=cache,
    )
    assert source.acquire().value == "P1"
    sent = form(token_route.calls[0].request)
    assert sent["grant_type"] == "password" and sent["username"] == "erika@contoso.com"
    assert "pa55word" not in repr(source)
    fresh = UsernamePassword(
        ORG,
        tenant=TENANT,
        client_id=CLIENT_ID,
        username="erika@contoso.com",
        password="pa55word",
        cache=SecretTokenCache("dataverse.msal.other"),
    )
    with pytest.raises(SignInError, match="invalid_grant"):
        fresh.acquire()


def test_unreachable_sign_in_server_is_a_sign_in_error(login: respx.MockRouter) -> None:
    """Reference §2.1: no connection to Entra ID → a clear SignInError, no traceback."""
    login.post(TOKEN_URL).mock(side_effect=httpx.ConnectError("refused"))
    source = ClientCredentials(ORG, tenant=TENANT, client_id=CLIENT_ID, client_secret="s")
    with pytest.raises(SignInError, match="no_connection"):
        source.acquire()


def test_msal_refuses_a_plain_http_authority() -> None:
    """Reference §2.3: why emulator tokens come from LoopbackClientCredentials, not msal."""
    import msal

    with pytest.raises(ValueError, match="https"):
        msal.ConfidentialClientApplication(
            CLIENT_ID,
            client_credential="s",
            authority=f"http://127.0.0.1:9/{TENANT}",
            instance_discovery=False,
        )
