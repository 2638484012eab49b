"""Blacklist and bounces (§9): addresses CleverReach will not mail."""

from __future__ import annotations

from collections.abc import Iterator

from crm2cr.cleverreach.api import Api, many, one, segment, true
from crm2cr.cleverreach.models import BlacklistEntry, Bounce
from crm2cr.cleverreach.paging import PageNumber
from crm2cr.errors import ConflictError, NotFoundError

BOUNCE_PAGES = PageNumber(size=1000)


class Blacklist:
    """`/v3/blacklist…` (account-wide) and `/v3/groups/{gid}/blacklist…` (one group)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def _base(self, group_id: str | None) -> str:
        return f"v3/groups/{segment(group_id)}/blacklist" if group_id else "v3/blacklist"

    def all(self, *, group_id: str | None = None) -> list[BlacklistEntry]:
        """Every entry (the service documents no paging here)."""
        return self.api.get(self._base(group_id), many(BlacklistEntry))

    def get(self, email: str, *, group_id: str | None = None) -> BlacklistEntry | None:
        return self.api.get_or_none(f"{self._base(group_id)}/{segment(email)}", one(BlacklistEntry))

    def add(self, email: str, *, comment: str = "", group_id: str | None = None) -> BlacklistEntry:
        """Blacklist an address. A resend is safe: an address is listed once at most."""
        try:
            return self.api.call(
                "POST",
                self._base(group_id),
                one(BlacklistEntry),
                body={"email": email, "comment": comment},
                idempotent=True,
            )
        except ConflictError:
            entry = self.get(email, group_id=group_id)
            if entry is None:
                raise
            return entry

    def remove(self, email: str, *, group_id: str | None = None) -> bool:
        """Lift the entry; False when there was none."""
        try:
            self.api.call(
                "DELETE", f"{self._base(group_id)}/{segment(email)}", true, idempotent=True
            )
        except NotFoundError:
            return False
        return True

    def bounces(self, *, page_size: int | None = None) -> Iterator[Bounce]:
        """The account's bounced addresses, page by page (`GET /v3/bounces`)."""

        def fetch(page: int, pagesize: int) -> list[Bounce]:
            return self.api.get(
                "v3/bounces", many(Bounce), params={"page": page, "pagesize": pagesize}
            )

        return BOUNCE_PAGES.items(fetch, lambda b: b.email.lower(), size=page_size)
