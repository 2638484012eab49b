"""Forms and double opt-in (§10): the only way a receiver becomes active again.

`send/activate` mails the recipient an opt-in link; the receiver turns active
only when the recipient confirms, so crm2cr never activates anyone itself
(SPEC invariant 2). Sends are never resent after a lost answer: a second
opt-in mail is worse than a missing one the next run sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crm2cr.cleverreach.api import Api, many, one, segment, true
from crm2cr.cleverreach.models import Form


@dataclass(frozen=True, slots=True)
class DoiData:
    """Evidence of the opt-in request CleverReach keeps with it (`doidata`)."""

    user_ip: str = ""
    referer: str = ""
    user_agent: str = ""

    def body(self) -> dict[str, str]:
        return {"user_ip": self.user_ip, "referer": self.referer, "user_agent": self.user_agent}


class Forms:
    """`/v3/forms…` and `/v3/groups/{gid}/forms`."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def all(self, *, group_id: str | None = None) -> list[Form]:
        path = f"v3/groups/{segment(group_id)}/forms" if group_id else "v3/forms"
        return self.api.get(path, many(Form))

    def get(self, form_id: str) -> Form:
        return self.api.get(f"v3/forms/{segment(form_id)}", one(Form))

    def send_activate(self, form_id: str, email: str, doidata: DoiData | None = None) -> None:
        """Mail the double opt-in request; the receiver must exist in the form's group."""
        self._send(form_id, "activate", email, doidata)

    def send_deactivate(self, form_id: str, email: str, doidata: DoiData | None = None) -> None:
        """Mail the opt-out confirmation request."""
        self._send(form_id, "deactivate", email, doidata)

    def _send(
        self,
        form_id: str,
        kind: Literal["activate", "deactivate"],
        email: str,
        doidata: DoiData | None,
    ) -> None:
        body = {"email": email, "doidata": (doidata or DoiData()).body()}
        self.api.call(
            "POST",
            f"v3/forms/{segment(form_id)}/send/{kind}",
            true,
            body=body,
            idempotent=False,
        )
