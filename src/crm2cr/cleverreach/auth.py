"""CleverReach sign-in: OAuth tokens as an `httpx.Auth` that refreshes itself (§3, §14).

Three ways in: client credentials (an own OAuth app; HTTP Basic), the
authorization code flow with rotating refresh tokens (the manual's customer
number / user / password login happens in the browser), and a static token.
A token is renewed when less than min(7 days, a quarter of its lifetime) is
left (APT refreshes a week early; the emulator's tokens live 30 days). A 401
refreshes once and resends once. Tokens are kept in the secret store
(keyring, or a 0600 file) and never appear in logs, reprs or errors.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from crm2cr.cleverreach.classify import RECONNECT, SERVICE, decode, unexpected
from crm2cr.errors import (
    AuthError,
    ConnectionLost,
    NotConnected,
    OAuthError,
    TransientError,
)
from crm2cr.http import IDEMPOTENT
from crm2cr.secrets import SecretStore, secret_store

log = logging.getLogger(__name__)

TOKEN_PATH = "oauth/token.php"
AUTHORIZE_PATH = "oauth/authorize.php"
WEEK = 7 * 24 * 3600.0
SECRET_PREFIX = "cleverreach"
DEFAULT_URL = "https://rest.cleverreach.com"

Now = Callable[[], float]


@dataclass(frozen=True)
class Token:
    """An access token, when it expires, and the refresh token that renews it."""

    access_token: str = field(repr=False)
    expires_at: float = 0.0  # Unix seconds; 0 = unknown (a static token)
    lifetime: float = 0.0  # seconds granted when issued
    refresh_token: str | None = field(default=None, repr=False)

    def remaining(self, now: float) -> float:
        return self.expires_at - now

    def due(self, now: float) -> bool:
        """True when it is time to renew: less than min(7 days, lifetime / 4) left."""
        if not self.expires_at:
            return False
        margin = min(WEEK, self.lifetime / 4) if self.lifetime > 0 else 0.0
        return self.remaining(now) < margin

    def expired(self, now: float) -> bool:
        return bool(self.expires_at) and self.remaining(now) <= 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "expires_at": self.expires_at,
                "lifetime": self.lifetime,
                "refresh_token": self.refresh_token,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Token | None:
        try:
            data = json.loads(text)
            return cls(
                str(data["access_token"]),
                float(data.get("expires_at") or 0),
                float(data.get("lifetime") or 0),
                data.get("refresh_token") or None,
            )
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class ClientCredentials:
    """The OAuth app's id and secret (Account › Extras › REST API)."""

    client_id: str
    client_secret: str = field(repr=False)


class TokenStore:
    """The saved token and app credentials of one CleverReach host, in the secret store.

    Kept per host, so a token issued by one server (the emulator, say) is
    never sent to another.
    """

    def __init__(self, base_url: str = DEFAULT_URL, *, store: SecretStore | None = None) -> None:
        url = httpx.URL(base_url)
        where = f"{url.host}:{url.port}" if url.port else url.host
        self.token_name = f"{SECRET_PREFIX}.{where}.token"
        self.credentials_name = f"{SECRET_PREFIX}.{where}.credentials"
        self._store = store

    @property
    def store(self) -> SecretStore:
        # Resolved on use, not at construction: CRM2CR_SECRET_STORE may change.
        return self._store if self._store is not None else secret_store()

    def load(self) -> Token | None:
        text = self.store.get(self.token_name)
        return Token.from_json(text) if text else None

    def save(self, token: Token) -> None:
        self.store.set(self.token_name, token.to_json())

    def clear(self) -> None:
        self.store.delete(self.token_name)

    def load_credentials(self) -> ClientCredentials | None:
        text = self.store.get(self.credentials_name)
        if not text:
            return None
        try:
            data = json.loads(text)
            return ClientCredentials(str(data["client_id"]), str(data["client_secret"]))
        except (ValueError, KeyError, TypeError):
            return None

    def save_credentials(self, credentials: ClientCredentials) -> None:
        self.store.set(
            self.credentials_name,
            json.dumps(
                {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
            ),
        )

    def clear_credentials(self) -> None:
        self.store.delete(self.credentials_name)


def authorize_url(
    base_url: str, client_id: str, redirect_uri: str, *, state: str = "", scope: str = ""
) -> str:
    """Where the account owner signs in to grant access (§3.3; `grant=basic` is CleverReach's)."""
    query = {
        "client_id": client_id,
        "grant": "basic",
        "response_type": "code",
        "redirect_uri": redirect_uri,
    }
    if state:
        query["state"] = state
    if scope:
        query["scope"] = scope
    return f"{base_url.rstrip('/')}/{AUTHORIZE_PATH}?{urlencode(query)}"


class TokenEndpoint:
    """`POST /oauth/token.php` with the three grants (§3.2)."""

    def __init__(self, http: httpx.Client, *, now: Now = time.time) -> None:
        self.http = http
        self.now = now

    def client_credentials(self, credentials: ClientCredentials) -> Token:
        return self._grant({"grant_type": "client_credentials"}, credentials, basic=True)

    def authorization_code(
        self, credentials: ClientCredentials, code: str, redirect_uri: str
    ) -> Token:
        data = {
            "grant_type": "authorization_code",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        return self._grant(data, None, basic=False)

    def refresh(self, credentials: ClientCredentials | None, refresh_token: str) -> Token:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        token = self._grant(data, credentials, basic=credentials is not None)
        if token.refresh_token is None:
            return Token(token.access_token, token.expires_at, token.lifetime, refresh_token)
        return token

    def _grant(
        self, data: dict[str, str], credentials: ClientCredentials | None, *, basic: bool
    ) -> Token:
        auth = (credentials.client_id, credentials.client_secret) if basic and credentials else None
        # A lost answer may be asked for again: at worst a rotated refresh
        # token is spent and the user reconnects, as without the retry.
        try:
            response = self.http.post(
                TOKEN_PATH,
                data=data,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
                extensions={IDEMPOTENT: True},
            )
        except httpx.TransportError as exc:
            raise ConnectionLost(
                SERVICE, type(exc).__name__, method="POST", url=f"/{TOKEN_PATH}"
            ) from None
        body = decode(response)
        return self._token(response, body)

    def _token(self, response: httpx.Response, body: Any) -> Token:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise unexpected(response, "no access_token in the token answer")
        try:
            lifetime = float(body.get("expires_in") or 0)
        except (TypeError, ValueError):
            raise unexpected(response, "expires_in is not a number") from None
        refresh = body.get("refresh_token")
        return Token(
            body["access_token"],
            self.now() + lifetime if lifetime > 0 else 0.0,
            lifetime,
            refresh if isinstance(refresh, str) and refresh else None,
        )


class TokenSource(Protocol):
    """What `Bearer` needs: the token to send, and a fresh one after a 401."""

    def current(self) -> str: ...
    def refresh(self, stale: str) -> str | None:
        """A token to resend with, or None when there is none (the 401 stands)."""
        ...


class StaticToken:
    """A token given on the command line (`--token`): used as is, never renewed."""

    def __init__(self, token: str) -> None:
        if not token.strip():
            raise NotConnected(SERVICE, hint="The token is empty; pass the CleverReach token.")
        self._token = token.strip()

    def __repr__(self) -> str:
        return "StaticToken(********)"

    def current(self) -> str:
        return self._token

    def refresh(self, stale: str) -> str | None:
        """Nothing to renew: the 401 stands, and reads as "CleverReach refused the token"."""
        return None


class OAuthTokens:
    """Tokens from the token endpoint, renewed before they expire; thread-safe."""

    def __init__(
        self,
        endpoint: TokenEndpoint,
        *,
        credentials: ClientCredentials | None = None,
        store: TokenStore | None = None,
        now: Now = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.store = store or TokenStore(str(endpoint.http.base_url))
        self.now = now
        self._lock = threading.Lock()
        self._token: Token | None = None

    def __repr__(self) -> str:
        client = self.credentials.client_id if self.credentials else None
        return f"OAuthTokens(client_id={client!r})"

    def current(self) -> str:
        with self._lock:
            token = self._token or self.store.load()
            if token is None:
                token = self._renew(None, forced=True)
            elif token.due(self.now()):
                token = self._renew(token, forced=False)
            self._token = token
            return token.access_token

    def refresh(self, stale: str) -> str:
        """A token other than `stale`: another thread's, or a new one."""
        with self._lock:
            token = self._token or self.store.load()
            if token is not None and token.access_token != stale:
                self._token = token
                return token.access_token
            self._token = self._renew(token, forced=True)
            return self._token.access_token

    def _renew(self, token: Token | None, *, forced: bool) -> Token:
        usable = token is not None and not forced and not token.expired(self.now())
        try:
            fresh = self._ask(token)
        except TransientError as exc:
            if token is not None and usable:
                log.warning("CleverReach token renewal postponed: %s", exc.one_line())
                return token
            raise
        except OAuthError:
            # A spent or revoked refresh token never works again.
            self.store.clear()
            raise
        if fresh is None:
            if token is not None and usable:
                return token
            raise AuthError(SERVICE, 401, "the saved token has expired", hint=RECONNECT)
        self.store.save(fresh)  # before use: a rotated refresh token must not be lost
        log.info("CleverReach token renewed; valid for %d days", fresh.lifetime // 86400)
        return fresh

    def _ask(self, token: Token | None) -> Token | None:
        if token is not None and token.refresh_token:
            return self.endpoint.refresh(self.credentials, token.refresh_token)
        if self.credentials is not None:
            return self.endpoint.client_credentials(self.credentials)
        if token is None:
            raise NotConnected(SERVICE)
        return None


class Bearer(httpx.Auth):
    """`Authorization: Bearer …`; on a 401, one refresh and one resend (§14 Tokens)."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    def __repr__(self) -> str:
        return f"Bearer({self.tokens!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self.tokens.current()
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code == 401:
            fresh = self.tokens.refresh(used)
            if fresh is not None:
                request.headers["Authorization"] = f"Bearer {fresh}"
                yield request
