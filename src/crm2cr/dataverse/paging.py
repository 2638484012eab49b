"""The two ways Dataverse pages a read (reference §4.4, §5, §16).

OData queries: follow the absolute `@odata.nextLink` unchanged, with the same
`Prefer`, until it is absent. FetchXML queries have no nextLink: the next
page is the same query with `page` + 1 and the paging cookie of the previous
page, while `@Microsoft.Dynamics.CRM.morerecords` is true.

Both pagers refuse to loop: a nextLink seen before, a cookie that does not
move, or a page without rows that claims more rows is a ProtocolError, and no
read runs past `max_pages`.
"""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import defusedxml.ElementTree as SafeET
import httpx

from crm2cr.errors import InvalidInput, ProtocolError

SERVICE = "dataverse"
MAX_PAGE_SIZE = 5000
MAX_PAGES = 1_000_000  # 5 billion rows at the largest page size; only a broken server gets here
NEXT_LINK = "@odata.nextLink"
PAGING_COOKIE = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE_RECORDS = "@Microsoft.Dynamics.CRM.morerecords"

# (url, query params or None for a nextLink that already carries them) → JSON body
FetchPage = Callable[[str, Mapping[str, str] | None], Mapping[str, Any]]


def within_api(link: str, api_url: str) -> bool:
    """Whether an absolute link points into this organisation's API (same origin and path)."""
    try:
        url, api = httpx.URL(link), httpx.URL(api_url)
    except httpx.InvalidURL:
        return False
    return (
        url.scheme == api.scheme
        and url.host.lower() == api.host.lower()
        and url.port == api.port
        and url.path.startswith(api.path.rstrip("/") + "/")
    )


def rows_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = body.get("value")
    if not isinstance(value, list):
        raise ProtocolError(SERVICE, 200, "a collection answer without a 'value' list")
    return value


class NextLinkPager:
    """Yields the bodies of an OData read page by page."""

    def __init__(self, fetch: FetchPage, *, api_url: str, max_pages: int = MAX_PAGES) -> None:
        self.fetch = fetch
        self.api_url = api_url.rstrip("/") + "/"
        self.max_pages = max_pages

    def pages(self, url: str, params: Mapping[str, str] | None) -> Iterator[Mapping[str, Any]]:
        seen: set[str] = set()
        body = self.fetch(url, params)
        for _ in range(self.max_pages):
            yield body
            link = body.get(NEXT_LINK)
            if not link:
                return
            if not isinstance(link, str) or not within_api(link, self.api_url):
                # The bearer token goes wherever the link points: only ever to this API.
                raise ProtocolError(
                    SERVICE, 200, f"a nextLink outside the organisation's API: {link!r:.200}"
                )
            if link in seen:
                raise ProtocolError(SERVICE, 200, "the service repeated a nextLink (paging loop)")
            seen.add(link)
            body = self.fetch(link, None)
        raise ProtocolError(SERVICE, 200, f"a read ran past {self.max_pages} pages")


def parse_fetch(fetch_xml: str) -> ET.Element:
    """A FetchXML document, parsed safely (no entities, no external references)."""
    try:
        root: ET.Element = SafeET.fromstring(fetch_xml)
    except (ET.ParseError, ValueError) as exc:
        raise InvalidInput(f"The FetchXML query is not well-formed XML ({exc}).") from None
    if root.tag != "fetch" or root.find("entity") is None:
        raise InvalidInput("A FetchXML query is a <fetch> element with one <entity>.")
    return root


def root_entity(fetch_xml: str) -> str:
    entity = parse_fetch(fetch_xml).find("entity")
    assert entity is not None
    name = entity.get("name", "")
    if not name:
        raise InvalidInput("The FetchXML <entity> has no name.")
    return name


def with_page(fetch_xml: str, *, page: int, count: int, cookie: str | None) -> str:
    """The query with `page`, `count` and (when known) `paging-cookie` set."""
    root = parse_fetch(fetch_xml)
    root.set("page", str(page))
    root.set("count", str(count))
    if cookie:
        root.set("paging-cookie", cookie)  # ElementTree XML-escapes it
    elif "paging-cookie" in root.attrib:
        del root.attrib["paging-cookie"]
    return ET.tostring(root, encoding="unicode")


def paging_cookie(annotation: object) -> str | None:
    """The `pagingcookie` attribute of the annotation's <cookie>, URL-decoded twice (§5)."""
    if not isinstance(annotation, str) or not annotation.strip():
        return None
    try:
        cookie = SafeET.fromstring(annotation)
    except (ET.ParseError, ValueError):
        raise ProtocolError(SERVICE, 200, "an unreadable FetchXML paging cookie") from None
    encoded = cookie.get("pagingcookie")
    if not encoded:
        return None
    return urllib.parse.unquote(urllib.parse.unquote(encoded))


class FetchXmlPager:
    """Yields the bodies of a FetchXML read page by page."""

    def __init__(
        self, fetch: FetchPage, *, count: int = MAX_PAGE_SIZE, max_pages: int = MAX_PAGES
    ) -> None:
        if not 1 <= count <= MAX_PAGE_SIZE:
            raise InvalidInput(f"A FetchXML page holds 1 to {MAX_PAGE_SIZE} rows, not {count}.")
        self.fetch = fetch
        self.count = count
        self.max_pages = max_pages

    def pages(self, url: str, fetch_xml: str) -> Iterator[Mapping[str, Any]]:
        cookie: str | None = None
        for page in range(1, self.max_pages + 1):
            query = with_page(fetch_xml, page=page, count=self.count, cookie=cookie)
            body = self.fetch(url, {"fetchXml": query})
            yield body
            rows = rows_of(body)
            # The annotation only comes when annotations were asked for; without
            # it a full page may have a successor, so ask (an exact multiple
            # costs one empty page) rather than lose rows.
            more = body.get(MORE_RECORDS)
            if not (more or (more is None and len(rows) >= self.count)):
                return
            if not rows:
                raise ProtocolError(SERVICE, 200, "an empty FetchXML page with morerecords true")
            next_cookie = paging_cookie(body.get(PAGING_COOKIE))
            if next_cookie is not None and next_cookie == cookie:
                raise ProtocolError(SERVICE, 200, "the FetchXML paging cookie did not move")
            cookie = next_cookie
        raise ProtocolError(SERVICE, 200, f"a FetchXML read ran past {self.max_pages} pages")
