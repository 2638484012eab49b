"""Access tokens an emulator issues under `--auth strict`."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from crm2cr.emulators.common.clock import Clock


@dataclass(frozen=True)
class IssuedToken:
    token: str
    subject: str  # who the token speaks for (a client id, a user id)
    expires_at: float


class TokenRegistry:
    """Issues opaque tokens with an expiry; can expire them all at once."""

    def __init__(self, clock: Clock, lifetime: float) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._tokens: dict[str, IssuedToken] = {}

    def issue(
        self, subject: str, lifetime: float | None = None, *, nbytes: int = 32
    ) -> IssuedToken:
        life = self.lifetime if lifetime is None else lifetime
        issued = IssuedToken(secrets.token_urlsafe(nbytes), subject, self.clock.time() + life)
        with self._lock:
            self._tokens[issued.token] = issued
        return issued

    def lookup(self, token: str) -> IssuedToken | None:
        """The token if it was issued here and has not expired."""
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.expires_at <= self.clock.time():
            return None
        return issued

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def expire_all(self) -> int:
        """Forced token expiry (a fault): every token issued so far stops working."""
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count
