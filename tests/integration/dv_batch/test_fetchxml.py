"""FetchXML over the Web API: conformance checklist §18 items 15 and 16 (reference §5, §11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring

from tests.integration.dv_batch.conftest import Org

MORE = "@Microsoft.Dynamics.CRM.morerecords"
COOKIE = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"


def bulk_contacts(org: Org, targets: list[dict[str, Any]]) -> list[str]:
    body = {"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.contact", **t} for t in targets]}
    response = org.http.post("contacts/Microsoft.Dynamics.CRM.CreateMultiple", json=body)
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()["Ids"]
    return ids


def paged(count: int, page: int, cookie: str | None = None) -> str:
    cookie_attr = f' paging-cookie="{escape(cookie, {chr(34): "&quot;"})}"' if cookie else ""
    return (
        f'<fetch count="{count}" page="{page}"{cookie_attr}><entity name="contact">'
        '<attribute name="lastname"/><attribute name="emailaddress1"/>'
        '<order attribute="contactid"/></entity></fetch>'
    )


def test_fetchxml_pages_with_morerecords_and_cookie_never_a_next_link(org: Org) -> None:
    """Reference §5, §18 item 15: no nextLink; morerecords + cookie on non-last pages."""
    ids = bulk_contacts(org, [{"lastname": f"P{n}"} for n in range(5)])
    seen: list[str] = []
    sizes: list[int] = []
    cookie: str | None = None
    for page in range(1, 10):
        response = org.fetch("contacts", paged(2, page, cookie))
        assert response.status_code == 200, response.text
        body = response.json()
        assert "@odata.nextLink" not in body
        sizes.append(len(body["value"]))
        seen.extend(r["contactid"] for r in body["value"])
        if not body.get(MORE):
            assert COOKIE not in body
            break
        assert body[MORE] is True
        outer = fromstring(body[COOKIE])
        assert outer.tag == "cookie"
        assert outer.get("pagenumber") == str(page + 1)
        # The inner cookie is URL-encoded twice (§5).
        cookie = unquote(unquote(outer.get("pagingcookie")))
        assert fromstring(cookie).get("page") == str(page)
    assert sizes == [2, 2, 1]
    assert seen == sorted(ids)


def test_fetchxml_pages_without_cookie_by_page_number(org: Org) -> None:
    """Reference §5: paging without the cookie also works [I]."""
    ids = bulk_contacts(org, [{"lastname": f"Q{n}"} for n in range(5)])
    pages = [org.fetch("contacts", paged(2, p)).json()["value"] for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [r["contactid"] for p in pages for r in p] == sorted(ids)


def test_fetchxml_omits_null_columns(org: Org) -> None:
    """Reference §5, §18 item 15: null columns are omitted (OData queries return null)."""
    (with_mail, without_mail) = bulk_contacts(
        org, [{"lastname": "Mail", "emailaddress1": "m@x.example"}, {"lastname": "NoMail"}]
    )
    rows = {r["contactid"]: r for r in org.fetch("contacts", paged(10, 1)).json()["value"]}
    assert rows[with_mail]["emailaddress1"] == "m@x.example"
    assert "emailaddress1" not in rows[without_mail]
    assert rows[without_mail]["lastname"] == "NoMail"
    assert rows[without_mail]["@odata.etag"].startswith('W/"')
    odata = org.get("contacts", **{"$select": "emailaddress1", "$filter": "lastname eq 'NoMail'"})
    assert odata["value"][0]["emailaddress1"] is None


def test_fetchxml_operators_and_link_entity_filters_select_the_right_rows(org: Org) -> None:
    """Reference §5, §18 item 16: like, in, null/not-null, on-or-after, last-x-days, link-entity."""
    acme = org.create("accounts", {"name": "Acme", "address1_city": "Berlin"})
    other = org.create("accounts", {"name": "Other", "address1_city": "Hamburg"})
    now = org.emu.clock.now()

    def day(delta: int) -> str:
        return (now + timedelta(days=delta)).strftime("%Y-%m-%dT%H:%M:%SZ")

    names = ["Anna", "Ben", "Clara", "Dora"]
    bulk_contacts(
        org,
        [
            {
                "lastname": "Anna",
                "address1_city": "Berlin-Mitte",
                "birthdate": day(-2),
                "parentcustomerid_account@odata.bind": f"/accounts({acme})",
            },
            {
                "lastname": "Ben",
                "address1_city": "Köln",
                "birthdate": day(-20),
                "parentcustomerid_account@odata.bind": f"/accounts({other})",
            },
            {"lastname": "Clara", "emailaddress1": "c@x.example", "birthdate": day(-40)},
            {"lastname": "Dora", "address1_city": "Hamburg"},
        ],
    )

    def select(condition: str, link: str = "") -> list[str]:
        xml = (
            '<fetch><entity name="contact"><attribute name="lastname"/>'
            f"<filter>{condition}</filter>{link}</entity></fetch>"
        )
        response = org.fetch("contacts", xml)
        assert response.status_code == 200, response.text
        return sorted(r["lastname"] for r in response.json()["value"] if r["lastname"] in names)

    assert select('<condition attribute="address1_city" operator="like" value="%berlin%"/>') == [
        "Anna"
    ]
    assert select(
        '<condition attribute="address1_city" operator="in">'
        "<value>köln</value><value>Hamburg</value></condition>"
    ) == ["Ben", "Dora"]
    assert select('<condition attribute="emailaddress1" operator="not-null"/>') == ["Clara"]
    assert select('<condition attribute="birthdate" operator="null"/>') == ["Dora"]
    on_or_after = day(-21)[:10]
    assert select(
        f'<condition attribute="birthdate" operator="on-or-after" value="{on_or_after}"/>'
    ) == ["Anna", "Ben"]
    assert select('<condition attribute="birthdate" operator="last-x-days" value="7"/>') == ["Anna"]
    link = (
        '<link-entity name="account" from="accountid" to="parentcustomerid" alias="a">'
        '<attribute name="name"/>'
        '<filter><condition attribute="address1_city" operator="eq" value="hamburg"/></filter>'
        "</link-entity>"
    )
    assert select("", link) == ["Ben"]


def test_link_entity_columns_come_back_as_alias_dot_attribute(org: Org) -> None:
    """Reference §5: link-entity columns are `{alias}.{attribute}` [I]."""
    acme = org.create("accounts", {"name": "Acme"})
    org.create(
        "contacts",
        {"lastname": "Linked", "parentcustomerid_account@odata.bind": f"/accounts({acme})"},
    )
    xml = (
        '<fetch><entity name="contact"><attribute name="lastname"/>'
        '<attribute name="parentcustomerid"/>'
        '<link-entity name="account" from="accountid" to="parentcustomerid" alias="co">'
        '<attribute name="name"/></link-entity></entity></fetch>'
    )
    (row,) = org.fetch("contacts", xml).json()["value"]
    assert row["co.name"] == "Acme"
    assert row["_parentcustomerid_value"] == acme
    assert row["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    assert row["_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"] == "Acme"


def test_unsupported_fetchxml_is_400_naming_it(org: Org) -> None:
    """Reference §5, §17.11: unsupported FetchXML → 400 0x0 naming it."""
    xml = (
        '<fetch aggregate="true"><entity name="contact">'
        '<attribute name="contactid" aggregate="count" alias="n"/></entity></fetch>'
    )
    response = org.fetch("contacts", xml)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x0"
    assert "aggregate" in response.json()["error"]["message"]
    wrong_set = org.fetch("accounts", '<fetch><entity name="contact"/></fetch>')
    assert wrong_set.status_code == 400


def test_count_above_5000_is_400(org: Org) -> None:
    """Reference §5: `count` ≤ 5000."""
    response = org.fetch("contacts", '<fetch count="5001"><entity name="contact"/></fetch>')
    assert response.status_code == 400
    assert "5000" in response.json()["error"]["message"]


def test_dynamic_list_query_yields_exactly_its_members(org: Org) -> None:
    """Reference §11, §18 item 16: a dynamic list's `query` yields exactly its members."""
    ids = bulk_contacts(
        org,
        [
            {"lastname": "In1", "address1_city": "Berlin"},
            {"lastname": "In2", "address1_city": "berlin"},
            {"lastname": "Out", "address1_city": "Bonn"},
        ],
    )
    query = (
        '<fetch version="1.0" output-format="xml-platform" mapping="logical" distinct="false">'
        '<entity name="contact"><attribute name="fullname"/><attribute name="contactid"/>'
        '<order attribute="fullname"/><filter type="and">'
        '<condition attribute="statecode" operator="eq" value="0"/>'
        '<condition attribute="address1_city" operator="eq" value="Berlin"/>'
        "</filter></entity></fetch>"
    )
    list_id = org.create(
        "lists", {"listname": "Berliners", "type": True, "createdfromcode": 2, "query": query}
    )
    members = org.get(f"lists({list_id})/listcontact_association", **{"$select": "lastname"})[
        "value"
    ]
    assert sorted(m["contactid"] for m in members) == sorted(ids[:2])
    # The query itself, run as FetchXML, selects the same records.
    fetched = org.fetch("contacts", query).json()["value"]
    assert sorted(r["contactid"] for r in fetched) == sorted(ids[:2])
