"""Signing in to Dataverse: token sources and the bearer `httpx.Auth` (reference §2, §16).

A `TokenSource` gets an access token; `BearerAuth` puts it on every request,
reuses it while it has more than five minutes left, and on a 401 drops it,
gets a fresh one and resends once. A second 401 reaches the client, which
raises AuthError.

Sources:
- `ClientCredentials`, `DeviceCode`, `UsernamePassword` (signin.py): Microsoft
  Entra ID through msal.
- `LoopbackClientCredentials`: the emulator's Entra-shaped token endpoint
  (§2.3). msal cannot be used there: it accepts only https authorities
  (`msal.authority.canonicalize` refuses `http://127.0.0.1:…`), and the
  emulators serve plain http on the loopback interface; so this source posts
  the same client-credentials form to `{authority}/oauth2/v2.0/token` itself.
- `StaticToken`: a token given on the command line (`--token`), for emulators.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from crm2cr.errors import SignInError

SERVICE = "dataverse"
MIN_LIFETIME = 300.0  # a token with less left is replaced before use (§16)

Clock = Callable[[], float]


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # time.time() based


class TokenSource(Protocol):
    """Gets access tokens; `rejected` is a token the service refused, never to be returned."""

    def acquire(self, *, rejected: str | None = None) -> AccessToken: ...


def scope_default(org_url: str) -> str:
    return org_url.rstrip("/") + "/.default"


def scope_user(org_url: str) -> str:
    return org_url.rstrip("/") + "/user_impersonation"


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer …` with reuse, early renewal and one resend after a 401.

    Thread-safe: bulk writes share one client across a small thread pool, and
    only one of them fetches a new token when it runs out.
    """

    requires_request_body = True  # the body is resent after a 401

    def __init__(
        self, source: TokenSource, *, clock: Clock = time.time, min_lifetime: float = MIN_LIFETIME
    ) -> None:
        self.source = source
        self.clock = clock
        self.min_lifetime = min_lifetime
        self._lock = threading.Lock()
        self._token: AccessToken | None = None

    def token(self) -> str:
        with self._lock:
            current = self._token
            if current is None or current.expires_at - self.clock() <= self.min_lifetime:
                current = self._token = self.source.acquire()
            return current.value

    def renew(self, rejected: str) -> str:
        with self._lock:
            current = self._token
            if current is not None and current.value != rejected:
                return current.value  # another thread has already renewed it
            self._token = self.source.acquire(rejected=rejected)
            return self._token.value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self.token()
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code != 401:
            return
        request.headers["Authorization"] = f"Bearer {self.renew(used)}"
        yield request


@dataclass
class StaticToken:
    """A fixed token (`--token`); it cannot be renewed, so a refusal is resent as is once."""

    value: str = field(repr=False)
    lifetime: float = 3600.0
    clock: Clock = time.time

    def acquire(self, *, rejected: str | None = None) -> AccessToken:
        return AccessToken(self.value, self.clock() + self.lifetime)


def token_from_result(result: Mapping[str, Any], clock: Clock) -> AccessToken:
    """An msal-style result dict → AccessToken; an error dict → SignInError."""
    token = result.get("access_token")
    if not isinstance(token, str) or not token:
        raise SignInError(
            SERVICE,
            str(result.get("error") or "no_access_token"),
            str(result.get("error_description") or ""),
        )
    try:
        lifetime = float(result.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    return AccessToken(token, clock() + lifetime)


class MsalHttp:
    """msal's HTTP client interface (`get`/`post` like requests) over httpx.

    Keeps sign-in traffic on the same HTTP stack as everything else (proxies,
    timeouts), and lets tests mock Microsoft's endpoints with respx.
    """

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        return self._send("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        return self._send("POST", url, params=params, data=data, headers=headers)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        data: Any = None,
    ) -> httpx.Response:
        try:
            if isinstance(data, str | bytes):
                return self.client.request(
                    method, url, params=params, headers=headers, content=data
                )
            return self.client.request(method, url, params=params, headers=headers, data=data)
        except httpx.TransportError as exc:
            raise SignInError(
                SERVICE,
                "no_connection",
                f"cannot reach {httpx.URL(url).host}: {type(exc).__name__}",
                hint="Check the network connection and the tenant, then sign in again.",
            ) from None

    def close(self) -> None:
        self.client.close()


class LoopbackClientCredentials:
    """Client credentials against an emulator's Entra-shaped endpoint (§2.3), without msal."""

    def __init__(
        self,
        org_url: str,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        http: httpx.Client | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.token_url = f"{self.org_url}/{tenant}/oauth2/v2.0/token"
        self.client_id = client_id
        self._secret = client_secret
        self.http = MsalHttp(http)
        self.clock = clock

    def __repr__(self) -> str:
        return f"LoopbackClientCredentials(token_url={self.token_url!r})"

    def acquire(self, *, rejected: str | None = None) -> AccessToken:
        response = self.http.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
                "scope": scope_default(self.org_url),
            },
        )
        try:
            result = response.json()
        except ValueError:
            result = None
        if not isinstance(result, dict):
            raise SignInError(
                SERVICE,
                "invalid_response",
                f"the token endpoint {self.token_url} answered {response.status_code} "
                "without a JSON body",
            )
        return token_from_result(result, self.clock)


@dataclass(frozen=True)
class Challenge:
    """What a 401 tells about where to sign in (§2.2)."""

    authorization_uri: str
    resource_id: str

    @property
    def tenant(self) -> str:
        """The tenant id from `https://login.microsoftonline.com/{tenant}/oauth2/authorize`."""
        path = httpx.URL(self.authorization_uri).path.strip("/").split("/")
        tenant = path[0] if path and path[0] else ""
        # Microsoft's own client maps `common` to `organizations` (§2.2).
        return "organizations" if tenant == "common" else tenant

    @property
    def authority(self) -> str:
        """The authority host and tenant, as msal wants it."""
        url = httpx.URL(self.authorization_uri)
        return f"{url.scheme}://{url.netloc.decode()}/{self.tenant}"


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer authorization_uri=…, resource_id=…` → Challenge, or None without one."""
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    values: dict[str, str] = {}
    for item in params.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            values[key.strip().lower()] = value.strip().strip('"')
    uri = values.get("authorization_uri")
    if not uri:
        return None
    return Challenge(uri, values.get("resource_id", ""))
