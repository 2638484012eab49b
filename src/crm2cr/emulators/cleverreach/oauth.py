"""OAuth for the emulator (reference §3): grants, codes, rotating refresh tokens, checks.

Access tokens come from the shared TokenRegistry (so /_emulator/tokens/expire
works); authorization codes (single use, 10 minutes) and refresh tokens
(30 days, rotating: the old one dies on use) are kept here.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from crm2cr.emulators.cleverreach.account import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    TOKEN_SCOPE,
)
from crm2cr.emulators.cleverreach.settings import Settings
from crm2cr.emulators.common.clock import Clock
from crm2cr.emulators.common.tokens import TokenRegistry

CODE_LIFETIME = 600
DEV_SUBJECT = "dev-token"


class OAuthRefusal(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True, slots=True)
class _Grant:
    client_id: str
    expires_at: float
    redirect_uri: str = ""


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def basic_credentials(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


class OAuthState:
    def __init__(self, tokens: TokenRegistry, clock: Clock, settings: Callable[[], Settings]):
        self.tokens = tokens
        self.clock = clock
        self.settings = settings
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}

    # --- the token endpoint -------------------------------------------------------------

    def _client(self, body: dict[str, Any], authorization: str) -> str:
        """The client id, after checking its secret (Basic header or body)."""
        basic = basic_credentials(authorization)
        client_id, secret = basic or (
            str(body.get("client_id", "")),
            str(body.get("client_secret", "")),
        )
        if not (_same(client_id, EMULATOR_CLIENT_ID) and _same(secret, EMULATOR_CLIENT_SECRET)):
            raise OAuthRefusal(401, "invalid_client", "The client credentials are invalid")
        return client_id

    def issue(self, subject: str, *, refresh: bool) -> dict[str, Any]:
        s = self.settings()
        issued = self.tokens.issue(subject, s.token_lifetime)
        answer: dict[str, Any] = {
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": s.token_lifetime,
            "scope": s.scopes or TOKEN_SCOPE,
        }
        if refresh:
            token = secrets.token_hex(20)
            with self._lock:
                self._refresh[token] = _Grant(subject, self.clock.time() + s.refresh_lifetime)
            answer["refresh_token"] = token
        return answer

    def grant(self, body: dict[str, Any], authorization: str) -> dict[str, Any]:
        """`POST /oauth/token.php` for every grant type (reference §3.2)."""
        kind = str(body.get("grant_type", "")).strip()
        if not kind:
            raise OAuthRefusal(400, "invalid_request", "grant_type is required")
        if kind not in ("client_credentials", "authorization_code", "refresh_token"):
            raise OAuthRefusal(400, "unsupported_grant_type", f"unknown grant_type '{kind}'")
        client_id = self._client(body, authorization)
        if kind == "client_credentials":
            # RFC 6749 §4.4.3: no refresh token for client credentials (reference §3.2).
            return self.issue(client_id, refresh=False)
        if kind == "authorization_code":
            code = str(body.get("code", ""))
            if not code:
                raise OAuthRefusal(400, "invalid_request", "code is required")
            with self._lock:
                found = self._codes.pop(code, None)
            redirect = str(body.get("redirect_uri", ""))
            if (
                found is None
                or found.expires_at <= self.clock.time()
                or found.client_id != client_id
                or (found.redirect_uri and redirect and redirect != found.redirect_uri)
            ):
                raise OAuthRefusal(400, "invalid_grant", "The authorization code is invalid")
            return self.issue(client_id, refresh=True)
        token = str(body.get("refresh_token", ""))
        if not token:
            raise OAuthRefusal(400, "invalid_request", "refresh_token is required")
        with self._lock:
            found = self._refresh.pop(token, None)  # rotating: the old one dies on use
        if found is None or found.expires_at <= self.clock.time() or found.client_id != client_id:
            raise OAuthRefusal(400, "invalid_grant", "The refresh token is invalid or expired")
        return self.issue(client_id, refresh=True)

    def authorize(self, params: dict[str, str]) -> str:
        """`GET /oauth/authorize.php`: auto-approve; the callback URL with a fresh code."""
        if params.get("client_id", "") != EMULATOR_CLIENT_ID:
            raise OAuthRefusal(400, "invalid_client", "unknown client_id")
        if params.get("response_type", "code") != "code":
            raise OAuthRefusal(400, "unsupported_response_type", "response_type must be code")
        redirect = params.get("redirect_uri", "")
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OAuthRefusal(400, "invalid_request", "redirect_uri must be an http(s) URL")
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = _Grant(
                params["client_id"], self.clock.time() + CODE_LIFETIME, redirect
            )
        query = {"code": code}
        if "state" in params:
            query["state"] = params["state"]
        glue = "&" if parts.query else "?"
        return f"{redirect}{glue}{urlencode(query)}"

    # --- API requests ---------------------------------------------------------------------

    def subject(self, token: str, *, strict: bool) -> str | None:
        """Who the token speaks for; None if it must be refused (401)."""
        if not token:
            return None
        issued = self.tokens.lookup(token)
        if issued is not None:
            return issued.subject
        return None if strict else DEV_SUBJECT

    def ttl(self, token: str) -> float:
        issued = self.tokens.lookup(token)
        if issued is None:
            return float(self.settings().token_lifetime)
        return max(0.0, issued.expires_at - self.clock.time())

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self._refresh.clear()
