"""Change tracking: a full read once, then only what changed (reference §12.1).

    feed = client.changes.feed("contacts", "contactid", select=("emailaddress1",))
    for change in feed: ...          # ChangedRow / DeletedRow, page by page
    saved = feed.delta_link          # set once the feed is read to the end

    feed = client.changes.feed("contacts", "contactid", select=..., delta_link=saved)

An expired token is ChangeTokenExpired (400 0x80044352): the caller reads the
table in full again, or passes `fallback=True` to have the feed do it; then
`feed.full` is true and rows missing from the read are gone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crm2cr.dataverse import prefer as pref
from crm2cr.dataverse.classify import SERVICE
from crm2cr.dataverse.models import Change, ChangedRow, DeletedRow
from crm2cr.dataverse.paging import NextLinkPager, rows_of, within_api
from crm2cr.dataverse.query import Query, name
from crm2cr.errors import ChangeTokenExpired, ProtocolError

if TYPE_CHECKING:
    from crm2cr.dataverse.client import DataverseClient

DELTA_LINK = "@odata.deltaLink"
DELETED = "$deletedEntity"


def change_of(row: Mapping[str, Any], primary_id: str) -> Change:
    context = str(row.get("@odata.context", ""))
    if context.endswith(DELETED) or ("reason" in row and "id" in row and primary_id not in row):
        return DeletedRow(id=str(row["id"]).lower(), reason=str(row.get("reason") or "deleted"))
    if primary_id not in row:
        raise ProtocolError(SERVICE, 200, f"a changed row without {primary_id}")
    return ChangedRow(id=str(row[primary_id]).lower(), row=dict(row))


class ChangeFeed:
    """The changes of one table since a delta link (or all rows, without one)."""

    def __init__(
        self,
        client: DataverseClient,
        entity_set: str,
        primary_id: str,
        *,
        select: Sequence[str],
        delta_link: str | None = None,
        fallback: bool = False,
        page_size: int | None = None,
    ) -> None:
        self.client = client
        self.entity_set = name(entity_set)
        self.primary_id = name(primary_id)
        self.select = tuple(select)
        self.start_link = delta_link
        self.fallback = fallback
        self.page_size = page_size
        self.full = delta_link is None
        self.delta_link: str | None = None

    def __iter__(self) -> Iterator[Change]:
        try:
            pages = self._pages(self.start_link)
            first = next(pages, None)
        except ChangeTokenExpired:
            if not self.fallback or self.start_link is None:
                raise
            self.full = True
            pages = self._pages(None)
            first = next(pages, None)
        if first is None:
            return
        yield from self._changes(first)
        for body in pages:
            yield from self._changes(body)

    def _changes(self, body: Mapping[str, Any]) -> Iterator[Change]:
        link = body.get(DELTA_LINK)
        if isinstance(link, str):
            if not within_api(link, self.client.api_url):
                raise ProtocolError(SERVICE, 200, "a deltaLink outside the organisation's API")
            self.delta_link = link
        for row in rows_of(body):
            yield change_of(row, self.primary_id)

    def _pages(self, link: str | None) -> Iterator[Mapping[str, Any]]:
        prefer = [
            pref.TRACK_CHANGES,
            pref.max_page_size(self.page_size or self.client.settings.page_size),
        ]

        def fetch(url: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
            return self.client.json_object(
                self.client.send("GET", url, params=params, prefer=prefer)
            )

        pager = NextLinkPager(fetch, api_url=self.client.api_url)
        columns = [self.primary_id, *(c for c in self.select if c != self.primary_id)]
        if link is None:
            return pager.pages(self.entity_set, Query(select=columns).params())
        if not within_api(link, self.client.api_url):
            raise ProtocolError(SERVICE, 200, "a saved deltaLink for another organisation")
        return pager.pages(link, None)


class ChangeTracking:
    def __init__(self, client: DataverseClient) -> None:
        self.client = client

    def feed(
        self,
        entity_set: str,
        primary_id: str,
        *,
        select: Sequence[str],
        delta_link: str | None = None,
        fallback: bool = False,
        page_size: int | None = None,
    ) -> ChangeFeed:
        return ChangeFeed(
            self.client,
            entity_set,
            primary_id,
            select=select,
            delta_link=delta_link,
            fallback=fallback,
            page_size=page_size,
        )
