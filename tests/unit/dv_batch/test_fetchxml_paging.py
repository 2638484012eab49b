"""FetchXML answers through `dispatch`: paging cookie, counts, top, distinct, shape (§5)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

from defusedxml.ElementTree import fromstring

from crm2cr.emulators.dataverse.wire import InternalResponse
from tests.unit.dv_batch.conftest import Service

ALL = {"prefer": 'odata.include-annotations="*"'}
MORE = "@Microsoft.Dynamics.CRM.morerecords"
COOKIE = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"


def fetch(service: Service, xml: str, headers: dict[str, str] | None = None) -> InternalResponse:
    return service.call("GET", "contacts?fetchXml=" + quote(xml, safe=""), headers=headers)


def contacts_with_ids(service: Service, names: list[str]) -> list[str]:
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, name)) for name in names]
    for record_id, name in zip(ids, names, strict=True):
        response = service.call("PATCH", f"contacts({record_id})", {"lastname": name})
        assert response.status == 204, response.body
    return ids


def page_xml(page: int, cookie: str | None = None, count: int = 2) -> str:
    cookie_attr = f" paging-cookie={quoteattr(cookie)}" if cookie else ""
    return (
        f'<fetch count="{count}" page="{page}"{cookie_attr}><entity name="contact">'
        '<attribute name="lastname"/></entity></fetch>'
    )


def inner_cookie(body: dict[str, Any]) -> str:
    return unquote(unquote(fromstring(body[COOKIE]).get("pagingcookie")))


def test_cookie_paging_continues_after_the_last_key_even_when_rows_arrive(
    service: Service,
) -> None:
    """Reference §5: with the cookie, the next page starts after the previous page's last key."""
    ids = sorted(contacts_with_ids(service, [f"K{n}" for n in range(4)]))
    first = fetch(service, page_xml(1), ALL).json()
    assert [r["contactid"] for r in first["value"]] == ids[:2]
    cookie = inner_cookie(first)
    assert f'last="{{{ids[1].upper()}}}"' in cookie
    # A new row sorting before the cursor would shift an offset page by one.
    service.call("PATCH", "contacts(00000000-0000-0000-0000-000000000001)", {"lastname": "Early"})
    second = fetch(service, page_xml(2, cookie), ALL).json()
    assert [r["contactid"] for r in second["value"]] == ids[2:]
    by_offset = fetch(service, page_xml(2), ALL).json()
    assert [r["contactid"] for r in by_offset["value"]] == [ids[1], ids[2]]


def test_a_cookie_of_another_page_is_ignored_and_a_broken_one_is_400(service: Service) -> None:
    """Reference §5: non-consecutive pages ignore the cookie; the cookie must be XML."""
    ids = sorted(contacts_with_ids(service, [f"C{n}" for n in range(5)]))
    stale = f'<cookie page="1"><contactid last="{{{ids[0].upper()}}}" /></cookie>'
    third = fetch(service, page_xml(3, stale), ALL).json()
    assert [r["contactid"] for r in third["value"]] == ids[4:]
    broken = fetch(service, page_xml(2, "<cookie"), ALL)
    assert broken.status == 400


def test_morerecords_and_cookie_only_when_annotations_are_asked(service: Service) -> None:
    """Reference §5: the paging annotations come with `odata.include-annotations`."""
    contacts_with_ids(service, ["A", "B", "C"])
    plain = fetch(service, page_xml(1)).json()
    assert MORE not in plain
    assert COOKIE not in plain
    assert len(plain["value"]) == 2
    annotated = fetch(service, page_xml(1), ALL)
    assert annotated.headers["Preference-Applied"] == 'odata.include-annotations="*"'
    assert annotated.json()[MORE] is True


def test_total_record_count_is_capped_at_5000(service: Service) -> None:
    """Reference §4.4, §5: `returntotalrecordcount` answers the count, capped at 5000."""
    contacts_with_ids(service, ["T1", "T2", "T3"])
    xml = (
        '<fetch count="1" returntotalrecordcount="true"><entity name="contact">'
        '<attribute name="lastname"/></entity></fetch>'
    )
    body = fetch(service, xml, ALL).json()
    assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 3
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False


def test_top_limits_without_paging_annotations(service: Service) -> None:
    """Reference §5: `top` limits the answer and does not page."""
    contacts_with_ids(service, ["X1", "X2", "X3"])
    body = fetch(
        service,
        '<fetch top="2"><entity name="contact"><attribute name="lastname"/>'
        '<order attribute="lastname" descending="true"/></entity></fetch>',
        ALL,
    ).json()
    assert [r["lastname"] for r in body["value"]] == ["X3", "X2"]
    assert MORE not in body


def test_distinct_collapses_rows_a_join_repeats(service: Service) -> None:
    """Reference §5: `distinct`; two list memberships join a contact twice."""
    (contact,) = contacts_with_ids(service, ["Twice"])
    for name in ("L1", "L2"):
        list_id = service.create("lists", {"listname": name, "createdfromcode": 2})
        response = service.call(
            "POST",
            f"lists({list_id})/Microsoft.Dynamics.CRM.AddMemberList",
            {"EntityId": contact},
        )
        assert response.status == 200, response.body
    xml = (
        '<fetch distinct="{d}"><entity name="contact"><attribute name="lastname"/>'
        '<link-entity name="listmember" from="entityid" to="contactid"/></entity></fetch>'
    )
    assert len(fetch(service, xml.format(d="false")).json()["value"]) == 2
    assert len(fetch(service, xml.format(d="true")).json()["value"]) == 1


def test_record_shape_etag_first_key_always_and_context(service: Service) -> None:
    """Reference §4.2, §5: `@odata.etag` and the key on every record; context names the set."""
    contacts_with_ids(service, ["Shape"])
    body = fetch(
        service,
        '<fetch><entity name="contact"><attribute name="lastname" alias="ln"/>'
        '<attribute name="ownerid"/></entity></fetch>',
        ALL,
    ).json()
    assert body["@odata.context"].endswith(
        "/api/data/v9.2/$metadata#contacts(lastname,_ownerid_value)"
    )
    (record,) = body["value"]
    assert next(iter(record)) == "@odata.etag"
    assert record["ln"] == "Shape"
    assert "contactid" in record
    assert "versionnumber" not in record
    assert record["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "systemuser"
    assert record["_ownerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"] == "ownerid"
    assert record["_ownerid_value@OData.Community.Display.V1.FormattedValue"]


def test_fetchxml_requires_read_on_linked_tables(service: Service) -> None:
    """Reference §13.3: a link-entity reads its table too; without that privilege → 403."""
    from crm2cr.emulators.dataverse.auth import caller_for
    from crm2cr.emulators.dataverse.security_tables import SALES_USER_ID

    caller = caller_for(service.emu, SALES_USER_ID)
    assert caller is not None
    plain = '<fetch><entity name="contact"><attribute name="lastname"/></entity></fetch>'
    linked = (
        '<fetch><entity name="contact"><attribute name="lastname"/>'
        '<link-entity name="importjob" from="importjobid" to="contactid"/></entity></fetch>'
    )
    ok = service.emu.dispatch("GET", "contacts?fetchXml=" + quote(plain, safe=""), {}, b"", caller)
    assert ok.status == 200, ok.body
    denied = service.emu.dispatch(
        "GET", "contacts?fetchXml=" + quote(linked, safe=""), {}, b"", caller
    )
    assert denied.status == 403, denied.body
    assert denied.json()["error"]["code"] == "0x80040220"
    assert "prvReadImportjob" in denied.json()["error"]["message"]
