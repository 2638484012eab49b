"""Mailings and their reports (§8): drafts from CRM campaign activities, figures back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Literal

import httpx

from crm2cr.cleverreach.api import Api, anything, create_once, many, one, segment
from crm2cr.cleverreach.models import Account, Mailing, MailingState, MailingSummary, Report
from crm2cr.cleverreach.paging import PageNumber

Editor = Literal["wizard", "freeform", "advanced", "plaintext"]
REPORT_PAGES = PageNumber(size=100, max_size=100)  # reports page at most 100 (APT)
EMULATOR_EDITOR = "{base_url}/editor/mailings/{id}"
SERVICE_EDITOR = "https://{login_domain}/"


@dataclass(frozen=True, slots=True)
class MailingDraft:
    """What a new mailing is made of (§8.3)."""

    name: str
    subject: str
    sender_name: str
    sender_email: str
    group_ids: tuple[str, ...]
    html: str = ""
    text: str = ""
    editor: Editor = "wizard"
    filter_id: str = ""
    open_tracking: bool = True
    click_tracking: bool = True

    def body(self) -> dict[str, Any]:
        kind = (
            "html"
            if self.html and not self.text
            else "text"
            if self.text and not self.html
            else "html/text"
        )
        return {
            "name": self.name,
            "subject": self.subject,
            "sender_name": self.sender_name,
            "sender_email": self.sender_email,
            "content": {"type": kind, "html": self.html, "text": self.text},
            "receivers": {"groups": list(self.group_ids), "filter": self.filter_id},
            "settings": {
                "editor": self.editor,
                "open_tracking": self.open_tracking,
                "click_tracking": self.click_tracking,
            },
        }


@dataclass(frozen=True, slots=True)
class MailingFigures:
    """A sent mailing's figures in crm2cr's terms (§8.5)."""

    sent: int
    opens: int
    clicks: int
    bounces: int
    unsubscribes: int

    @classmethod
    def of(cls, report: Report) -> MailingFigures:
        s = report.stats
        return cls(
            sent=s.delivered + s.bounced,
            opens=s.unique_opened,
            clicks=s.unique_clicks,
            bounces=s.bounced,
            unsubscribes=s.unsubscribed,
        )


class Mailings:
    """`/v3/mailings…` and `/v3/reports…`."""

    def __init__(
        self, api: Api, *, account: Callable[[], Account], editor_template: str | None = None
    ) -> None:
        self.api = api
        self.account = account
        self.editor_template = editor_template

    def create_draft(self, draft: MailingDraft) -> str:
        """Create a draft; its id. After a lost answer, a new draft of that name is ours."""
        before = {m.id for m in self._drafts() if m.name == draft.name}

        def lookup() -> str | None:
            fresh = [m.id for m in self._drafts() if m.name == draft.name and m.id not in before]
            return fresh[0] if len(fresh) == 1 else None

        return create_once(
            lambda: self.api.call(
                "POST", "v3/mailings", _success_id, body=draft.body(), idempotent=False
            ),
            lookup,
        )

    def get(self, mailing_id: str) -> Mailing:
        return self.api.get(f"v3/mailings/{segment(mailing_id)}", one(Mailing))

    def update(
        self,
        mailing_id: str,
        *,
        name: str | None = None,
        subject: str | None = None,
        sender_name: str | None = None,
        sender_email: str | None = None,
    ) -> None:
        """Change a draft (the service refuses a mailing that is no draft with 400)."""
        fields = {
            "name": name,
            "subject": subject,
            "sender_name": sender_name,
            "sender_email": sender_email,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        self.api.call(
            "PUT", f"v3/mailings/{segment(mailing_id)}", _success_id, body=body, idempotent=True
        )

    def by_state(
        self, state: MailingState | None = None, *, limit: int = 100, page: int = 0
    ) -> dict[str, list[MailingSummary]]:
        """Mailings keyed by state (`draft`, `waiting`, …; §8.2), newest first."""
        params: dict[str, str | int] = {"limit": limit, "page": page}
        if state:
            params["state"] = state

        def convert(body: Any) -> dict[str, list[MailingSummary]]:
            if isinstance(body, list) and state:
                body = {state: body}
            if not isinstance(body, dict):
                raise ValueError("expected mailings keyed by state")
            return {str(k): many(MailingSummary)(v) for k, v in body.items()}

        return self.api.get("v3/mailings", convert, params=params)

    def release(self, mailing_id: str, *, at: int = 0) -> None:
        """Send now (`at` 0 or past) or schedule; a lost answer is checked before resending."""
        self._act(mailing_id, "release", {"time": at}, done=lambda m: m.state != "draft")

    def stop(self, mailing_id: str) -> None:
        """Stop a waiting or running mailing."""
        self._act(mailing_id, "stop", None, done=lambda m: m.state in ("draft", "finished"))

    def report(self, mailing_id: str) -> Report:
        return self.api.get(f"v3/reports/{segment(mailing_id)}", one(Report))

    def figures(self, mailing_id: str) -> MailingFigures:
        """Sent, opens, clicks, bounces and unsubscribes of a mailing (§8.5)."""
        return MailingFigures.of(self.report(mailing_id))

    def reports(self, *, start: int | None = None, end: int | None = None) -> Iterator[Report]:
        """Reports of sent mailings, paged by 100."""

        def fetch(page: int, pagesize: int) -> list[Report]:
            params: dict[str, str | int] = {"page": page, "pagesize": pagesize}
            if start is not None:
                params["start"] = start
            if end is not None:
                params["end"] = end
            return self.api.get("v3/reports", many(Report), params=params)

        return REPORT_PAGES.items(fetch, lambda r: r.id)

    def editor_url(self, mailing_id: str) -> str:
        """Where the draft opens in the CleverReach editor (§8.4).

        The template may use {base_url}, {login_domain} and {id}. By default
        the emulator serves its own editor page; the real service has no
        documented deep link, so the account's web host is opened.
        """
        template = self.editor_template or (
            EMULATOR_EDITOR if _loopback(self.api.base_url) else SERVICE_EDITOR
        )
        domain = self.account().login_domain if "{login_domain}" in template else ""
        return template.format(base_url=self.api.base_url, login_domain=domain, id=mailing_id)

    def _drafts(self) -> list[MailingSummary]:
        return self.by_state("draft").get("draft", [])

    def _act(
        self,
        mailing_id: str,
        action: str,
        body: dict[str, Any] | None,
        *,
        done: Callable[[Mailing], bool],
    ) -> None:
        path = f"v3/mailings/{segment(mailing_id)}/{action}"
        create_once(
            lambda: self.api.call("POST", path, anything, body=body, idempotent=False) or True,
            lambda: True if done(self.get(mailing_id)) else None,
        )


def _success_id(body: Any) -> str:
    if not isinstance(body, dict) or body.get("success") is not True:
        raise ValueError('expected {"success": true, "id": …}')
    value = body.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("the answer has no mailing id")
    return str(value)


def _loopback(url: str) -> bool:
    host = httpx.URL(url).host
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
