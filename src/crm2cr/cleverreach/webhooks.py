"""Webhooks (§11): registering them, and the pure helpers of the receiving side.

Registration is synchronous: inside the POST, CleverReach calls
`GET <url>?secret=…` and expects the plain text `<verify> <secret>`. The POST
then answers a `call_token` that every delivery carries in `X-CR-Calltoken`;
the official plugins compare it for equality, we compare in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from crm2cr.cleverreach.api import Api, many, segment, true
from crm2cr.cleverreach.models import Id, Webhook, Wire
from crm2cr.errors import InvalidInput, NotFoundError

HOOK_PATH = "hooks/eventhook"
CALLTOKEN_HEADER = "X-CR-Calltoken"
VERIFY_MIN, VERIFY_MAX = 10, 50


@dataclass(frozen=True)
class Registration:
    """What a registration answers: keep both secret (they authenticate deliveries)."""

    call_token: str = field(repr=False)
    secret: str = field(repr=False)


class WebhookEvent(Wire):
    """One delivery: `{"event", "condition", "payload": {"group_id", "pool_id"}}`."""

    event: str
    condition: Id = ""
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def group_id(self) -> str:
        return _text(self.payload.get("group_id"))

    @property
    def pool_id(self) -> str:
        """The receiver's id; receiver events carry nothing else, so re-read it."""
        return _text(self.payload.get("pool_id"))


def new_verify_token() -> str:
    """A random `verify` value of 32 characters (10–50 allowed)."""
    return secrets.token_hex(16)


def handshake_answer(verify: str, secret: str) -> str:
    """The plain-text answer to `GET <url>?secret=…`: `<verify> <secret>`, one space."""
    return f"{verify} {secret}"


def calltoken_matches(received: str | None, expected: str) -> bool:
    """Constant-time check of a delivery's X-CR-Calltoken header."""
    if not received or not expected:
        return False
    return hmac.compare_digest(received.encode(), expected.encode())


def parse_event(body: Any) -> WebhookEvent:
    """A delivery body as a WebhookEvent (pydantic's ValidationError if it is none)."""
    return WebhookEvent.model_validate(body)


class Webhooks:
    """`/hooks/eventhook` (no /v3 prefix)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def register(self, url: str, event: str, *, verify: str, condition: str = "") -> Registration:
        """Register `url` for `event` (a category like "receiver", or one event).

        The endpoint must already answer the handshake. A second registration
        of the same url, event and condition is refused with 409.
        """
        if not VERIFY_MIN <= len(verify) <= VERIFY_MAX:
            raise InvalidInput(
                f"The webhook verify token has {len(verify)} characters.",
                hint=f"CleverReach needs {VERIFY_MIN} to {VERIFY_MAX}.",
                field="verify",
            )
        body = {"url": url, "event": event, "condition": condition, "verify": verify}
        return self.api.call("POST", HOOK_PATH, _registration, body=body, idempotent=False)

    def all(self) -> list[Webhook]:
        return self.api.get(HOOK_PATH, many(Webhook))

    def delete(self, event: str, *, condition: str | None = None) -> bool:
        """Delete every registration of the event (for one group with `condition`)."""
        params = {"condition": condition} if condition else None
        try:
            self.api.call(
                "DELETE", f"{HOOK_PATH}/{segment(event)}", true, params=params, idempotent=True
            )
        except NotFoundError:
            return False
        return True


def _registration(body: Any) -> Registration:
    if not isinstance(body, dict) or body.get("success") is not True:
        raise ValueError('expected {"success": true, "call_token", "secret"}')
    token, secret = body.get("call_token"), body.get("secret")
    if not isinstance(token, str) or not token or not isinstance(secret, str):
        raise ValueError("the registration answer has no call_token")
    return Registration(token, secret)


def _text(value: Any) -> str:
    return "" if value is None else str(value)
