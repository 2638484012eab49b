"""The pagers follow the service's paging and refuse to loop (reference §4.4, §5, §16)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

import pytest

from crm2cr.dataverse.paging import (
    MORE_RECORDS,
    PAGING_COOKIE,
    FetchXmlPager,
    NextLinkPager,
    paging_cookie,
    parse_fetch,
    root_entity,
    with_page,
    within_api,
)
from crm2cr.errors import InvalidInput, ProtocolError

API = "https://contoso.crm4.dynamics.com/api/data/v9.2"
FETCH = (
    '<fetch version="1.0" mapping="logical"><entity name="contact">'
    '<attribute name="contactid"/><filter><condition attribute="statecode" operator="eq" '
    'value="0"/></filter></entity></fetch>'
)


class Server:
    """Answers from a script and records what was asked."""

    def __init__(self, answers: list[Mapping[str, Any]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, Mapping[str, str] | None]] = []

    def __call__(self, url: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
        self.asked.append((url, params))
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


def test_next_links_are_followed_unchanged_until_absent() -> None:
    """Reference §4.4: GET the absolute nextLink unchanged; stop when it is absent."""
    link1 = f"{API}/contacts?$select=fullname&$skiptoken=%3Ccookie%20pagenumber=%222%22/%3E"
    link2 = f"{API}/contacts?$select=fullname&$skiptoken=3"
    server = Server(
        [
            {"value": [{"n": 1}, {"n": 2}], "@odata.nextLink": link1},
            {"value": [{"n": 3}, {"n": 4}], "@odata.nextLink": link2},
            {"value": [{"n": 5}]},
        ]
    )
    pager = NextLinkPager(server, api_url=API)
    bodies = pager.pages("contacts", {"$select": "fullname"})
    rows = [r["n"] for body in bodies for r in body["value"]]
    assert rows == [1, 2, 3, 4, 5]
    assert server.asked == [
        ("contacts", {"$select": "fullname"}),
        (link1, None),
        (link2, None),
    ]


def test_a_repeated_next_link_is_a_loop() -> None:
    """Reference §16: a paginator raises on a repeated link instead of looping forever."""
    loop = f"{API}/contacts?$skiptoken=2"
    server = Server(
        [
            {"value": [{"n": 1}], "@odata.nextLink": loop},
            {"value": [{"n": 2}], "@odata.nextLink": f"{API}/contacts?$skiptoken=3"},
            {"value": [{"n": 3}], "@odata.nextLink": loop},
        ]
    )
    with pytest.raises(ProtocolError, match="repeated a nextLink"):
        list(NextLinkPager(server, api_url=API).pages("contacts", None))
    assert len(server.asked) == 3


def test_a_next_link_to_another_host_is_refused() -> None:
    """Reference §4.4: the nextLink is the same API; the token never goes elsewhere."""
    server = Server([{"value": [], "@odata.nextLink": "https://evil.example/api/data/v9.2/x"}])
    with pytest.raises(ProtocolError, match="outside"):
        list(NextLinkPager(server, api_url=API).pages("contacts", None))
    assert len(server.asked) == 1


def test_page_count_is_bounded() -> None:
    """Reference §16: no unbounded loops, even when every link is new."""
    counter = iter(range(10_000))

    def endless(url: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
        return {"value": [{}], "@odata.nextLink": f"{API}/contacts?$skiptoken={next(counter)}"}

    with pytest.raises(ProtocolError, match="ran past 5 pages"):
        list(NextLinkPager(endless, api_url=API, max_pages=5).pages("contacts", None))


def annotation(cookie: str, page: int) -> str:
    inner = urllib.parse.quote(urllib.parse.quote(cookie))
    return f'<cookie pagenumber="{page}" pagingcookie="{inner}" istracking="False" />'


def test_fetchxml_pages_feed_back_the_cookie_decoded_twice() -> None:
    """Reference §5: page+1 and the cookie, URL-decoded twice, XML-escaped into paging-cookie."""
    cookie = '<cookie page="1"><contactid last="{A}" first="{B}" /></cookie>'
    server = Server(
        [
            {"value": [{"n": 1}], MORE_RECORDS: True, PAGING_COOKIE: annotation(cookie, 2)},
            {"value": [{"n": 2}], MORE_RECORDS: False},
        ]
    )
    bodies = list(FetchXmlPager(server, count=1).pages("contacts", FETCH))
    assert [b["value"][0]["n"] for b in bodies] == [1, 2]
    first = parse_fetch(server.asked[0][1]["fetchXml"])  # type: ignore[index]
    second = parse_fetch(server.asked[1][1]["fetchXml"])  # type: ignore[index]
    assert (first.get("page"), first.get("count"), first.get("paging-cookie")) == ("1", "1", None)
    assert (second.get("page"), second.get("paging-cookie")) == ("2", cookie)
    assert "&lt;cookie" in server.asked[1][1]["fetchXml"]  # type: ignore[index]


def test_fetchxml_without_annotations_keeps_reading_full_pages() -> None:
    """Reference §5: paging without the cookie also works; a full page may have a successor."""
    server = Server([{"value": [{"n": 1}, {"n": 2}]}, {"value": [{"n": 3}]}])
    bodies = list(FetchXmlPager(server, count=2).pages("contacts", FETCH))
    assert sum(len(b["value"]) for b in bodies) == 3
    assert len(server.asked) == 2


def test_fetchxml_refuses_to_loop() -> None:
    """Reference §16: a cookie that does not move, or an empty page claiming more, is a loop."""
    same = annotation("<cookie page='1'/>", 2)
    stuck = Server([{"value": [{"n": 1}], MORE_RECORDS: True, PAGING_COOKIE: same}])
    with pytest.raises(ProtocolError, match="did not move"):
        list(FetchXmlPager(stuck, count=1).pages("contacts", FETCH))
    empty = Server([{"value": [], MORE_RECORDS: True}])
    with pytest.raises(ProtocolError, match="empty FetchXML page"):
        list(FetchXmlPager(empty, count=5).pages("contacts", FETCH))
    endless = Server([{"value": [{"n": 1}], MORE_RECORDS: True}])
    with pytest.raises(ProtocolError, match="ran past 3 pages"):
        list(FetchXmlPager(endless, count=1, max_pages=3).pages("contacts", FETCH))


def test_fetchxml_helpers_refuse_bad_input() -> None:
    """Reference §5: the root <entity> names the table; entities and DTDs are never expanded."""
    assert root_entity(FETCH) == "contact"
    with pytest.raises(InvalidInput):
        parse_fetch("<fetch><entity name='contact'>")
    with pytest.raises(InvalidInput):
        parse_fetch('<!DOCTYPE x [<!ENTITY a "b">]><fetch><entity name="a">&a;</entity></fetch>')
    with pytest.raises(InvalidInput):
        FetchXmlPager(Server([]), count=5001)
    assert paging_cookie(None) is None
    assert paging_cookie('<cookie pagenumber="2" />') is None
    with pytest.raises(ProtocolError):
        paging_cookie("<cookie")
    text = with_page(FETCH, page=3, count=10, cookie=None)
    assert parse_fetch(text).get("page") == "3"


def test_links_must_stay_within_the_api() -> None:
    """Reference §4.4, §12.1: next and delta links are absolute links into the same API."""
    assert within_api(f"{API}/contacts?$skiptoken=2", API)
    assert within_api("https://CONTOSO.crm4.dynamics.com/api/data/v9.2/contacts", API)
    assert not within_api("https://contoso.crm4.dynamics.com:8443/api/data/v9.2/x", API)
    assert not within_api("http://contoso.crm4.dynamics.com/api/data/v9.2/x", API)
    assert not within_api("https://contoso.crm4.dynamics.com/api/data/v9.20/x", API)
    assert not within_api("https://contoso.crm4.dynamics.com.evil.example/api/data/v9.2/x", API)
