"""Queries: $select, $filter, $orderby, paging, counts, $expand, annotations (reference §4, §18)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ANNOTATIONS, Org, error_of, with_query

FORMATTED = "@OData.Community.Display.V1.FormattedValue"


def _pages(org: Org, url: str, page_size: int) -> list[dict[str, Any]]:
    """Every page of a query, following nextLink unchanged with the same Prefer."""
    pages: list[dict[str, Any]] = []
    prefer = {"Prefer": f"odata.maxpagesize={page_size}"}
    next_url: str | None = url
    while next_url is not None:
        response = org.http.get(next_url, headers=prefer)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        next_url = body.get("@odata.nextLink")
        assert len(pages) < 100
    return pages


def test_pages_of_two_over_five_rows(org: Org) -> None:
    """Reference §4.4, §18.10: pages 2, 2, 1; absolute nextLink after value; no gaps."""
    ids = {org.create("contacts", {"lastname": f"P{i}"}) for i in range(5)}
    pages = _pages(org, "contacts?$select=lastname", 2)
    assert [len(p["value"]) for p in pages] == [2, 2, 1]
    for page in pages[:2]:
        assert page["@odata.nextLink"].startswith(f"{org.api}/contacts?")
        assert "$skiptoken=" in page["@odata.nextLink"]
        assert list(page)[-1] == "@odata.nextLink"
    assert "@odata.nextLink" not in pages[2]
    seen = [row["contactid"] for page in pages for row in page["value"]]
    assert len(seen) == len(set(seen)) and set(seen) == ids
    response = org.http.get("contacts", headers={"Prefer": "odata.maxpagesize=2"})
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=2"


@pytest.mark.parametrize("order", ["firstname desc", "firstname asc,lastname desc", "firstname"])
def test_ordered_paging_with_nulls_and_ties_neither_skips_nor_repeats(org: Org, order: str) -> None:
    """Reference §4.4: keyset pages follow $orderby exactly, nulls and equal values included."""
    names = ["b", None, "a", "b", None, "c", "a", "B"]
    for index, first in enumerate(names):
        org.create("contacts", {"firstname": first, "lastname": f"L{index % 3}"})
    full = org.get("contacts", **{"$select": "firstname,lastname", "$orderby": order})["value"]
    pages = _pages(org, with_query("contacts", {"$select": "firstname", "$orderby": order}), 3)
    paged = [row["contactid"] for page in pages for row in page["value"]]
    assert paged == [row["contactid"] for row in full]
    firsts = [(row["firstname"] or "").lower() for row in full]
    if order.startswith("firstname desc"):
        assert firsts == sorted(firsts, reverse=True)
    else:
        assert firsts == sorted(firsts)


def test_skip_is_refused_and_top_yields_to_maxpagesize(org: Org) -> None:
    """Reference §4.1, §17.11, §18.12."""
    for index in range(4):
        org.create("contacts", {"lastname": f"T{index}"})
    response = org.http.get("contacts?$skip=1")
    assert response.status_code == 400
    assert error_of(response) == ("0x0", "The query parameter $skip is not supported")
    assert len(org.get("contacts", **{"$top": "3"})["value"]) == 3
    body = org.get("contacts", headers={"Prefer": "odata.maxpagesize=2"}, **{"$top": "3"})
    assert len(body["value"]) == 2 and "@odata.nextLink" in body
    assert org.http.get("contacts?$bogus=1").status_code == 400


def test_select_and_all_columns_with_nulls(org: Org) -> None:
    """Reference §4.1: $select returns the key too; no $select → every column, nulls included."""
    record = org.create("contacts", {"lastname": "Sel"})
    body = org.get(f"contacts({record})", **{"$select": "lastname"})
    assert set(body) == {"@odata.context", "@odata.etag", "lastname", "contactid"}
    full = org.get(f"contacts({record})")
    assert full["emailaddress1"] is None and full["lastname"] == "Sel"
    assert "_ownerid_value" in full and "ownerid" not in full
    assert full["donotbulkemail"] is False and full["statecode"] == 0 and full["statuscode"] == 1
    assert full["createdon"].endswith("Z") and len(full["createdon"]) == 20


def test_string_filters_ignore_case_and_take_doubled_quotes(org: Org) -> None:
    """Reference §4.1, §18.14."""
    org.create(
        "contacts", {"firstname": "Liam", "lastname": "O'Neil", "emailaddress1": "L@X.example"}
    )
    org.create("contacts", {"firstname": "Mia", "lastname": "Smith"})

    def names(flt: str) -> list[str]:
        rows = org.get("contacts", **{"$select": "lastname", "$filter": flt})["value"]
        return sorted(r["lastname"] for r in rows)

    assert names("lastname eq 'o''neil'") == ["O'Neil"]
    assert names("emailaddress1 eq 'l@x.EXAMPLE'") == ["O'Neil"]
    assert names("contains(lastname,'MIT')") == ["Smith"]
    assert names("startswith(firstname,'li') or endswith(lastname,'TH')") == ["O'Neil", "Smith"]
    assert names("not startswith(firstname,'li')") == ["Smith"]
    assert names("emailaddress1 eq null") == ["Smith"]
    assert names("emailaddress1 ne null and statecode eq 0") == ["O'Neil"]
    assert names("(firstname eq 'Mia' or firstname eq 'Liam') and lastname ne 'Smith'") == [
        "O'Neil"
    ]
    assert names("firstname in ('mia','nobody')") == ["Smith"]


def test_filter_functions_of_the_service(org: Org) -> None:
    """Reference §4.1: Microsoft.Dynamics.CRM.In and LastXDays; dates bare ISO."""
    org.create("contacts", {"lastname": "Berlin", "address1_city": "Berlin"})
    org.create("contacts", {"lastname": "Hamburg", "address1_city": "Hamburg"})
    org.create("contacts", {"lastname": "Köln", "address1_city": "Köln"})

    def names(flt: str) -> list[str]:
        rows = org.get("contacts", **{"$select": "lastname", "$filter": flt})["value"]
        return sorted(r["lastname"] for r in rows)

    in_filter = (
        "Microsoft.Dynamics.CRM.In(PropertyName='address1_city',"
        'PropertyValues=["Berlin","Hamburg"])'
    )
    assert names(in_filter) == ["Berlin", "Hamburg"]
    assert names("Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)") == [
        "Berlin",
        "Hamburg",
        "Köln",
    ]
    org.emu.clock.advance(10 * 86400)
    assert names("Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)") == []
    assert names("createdon gt 2020-01-01T00:00:00Z and createdon lt 2020-01-02") == []
    assert len(names("createdon ge 2020-01-01")) == 3
    response = org.http.get(
        with_query("contacts", {"$filter": "Microsoft.Dynamics.CRM.Above(PropertyName='x')"})
    )
    assert response.status_code == 400 and "Above" in error_of(response)[1]


def test_lookup_filters_navigation_paths_and_expand(org: Org) -> None:
    """Reference §4.1, §4.3: _x_value filters, nav/column filters, $expand with nested $select."""
    account = org.create("accounts", {"name": "Contoso"})
    contact = org.create(
        "contacts",
        {"lastname": "Muster", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
    )
    org.http.patch(
        f"accounts({account})", json={"primarycontactid@odata.bind": f"contacts({contact})"}
    )
    rows = org.get("contacts", **{"$filter": f"_parentcustomerid_value eq {account}"})["value"]
    assert [r["contactid"] for r in rows] == [contact]
    accounts = org.get("accounts", **{"$filter": "primarycontactid/lastname eq 'MUSTER'"})["value"]
    assert [a["accountid"] for a in accounts] == [account]
    body = org.get(
        f"accounts({account})",
        **{"$select": "name", "$expand": "primarycontactid($select=fullname,emailaddress1)"},
    )
    assert body["primarycontactid"]["fullname"] == "Muster"
    assert body["primarycontactid"]["contactid"] == contact
    listing = org.get(
        "contacts", **{"$select": "lastname", "$expand": "parentcustomerid_account($select=name)"}
    )["value"]
    assert listing[0]["parentcustomerid_account"]["name"] == "Contoso"
    response = org.http.get(with_query("contacts", {"$select": "parentcustomerid"}))
    assert response.status_code == 400
    response = org.http.get(with_query("contacts", {"$filter": "_parentcustomerid_value eq 'x'"}))
    assert response.status_code == 400 and "incompatible types" in error_of(response)[1]


def test_annotations_only_when_asked(org: Org) -> None:
    """Reference §4.3, §18.13: FormattedValue, lookuplogicalname, associatednavigationproperty."""
    account = org.create("accounts", {"name": "Fabrikam"})
    record = org.create(
        "contacts",
        {
            "lastname": "Anno",
            "gendercode": 2,
            "donotbulkemail": True,
            "parentcustomerid_account@odata.bind": f"/accounts({account})",
        },
    )
    select = {"$select": "gendercode,donotbulkemail,_parentcustomerid_value,createdon"}
    plain = org.get(f"contacts({record})", **select)
    assert not [k for k in plain if "@" in k and not k.startswith("@odata")]
    assert plain["_parentcustomerid_value"] == account
    body = org.get(f"contacts({record})", headers=ANNOTATIONS, **select)
    assert body[f"gendercode{FORMATTED}"] == "Female"
    assert body[f"donotbulkemail{FORMATTED}"] == "Do Not Allow"
    assert body[f"_parentcustomerid_value{FORMATTED}"] == "Fabrikam"
    lookup = "_parentcustomerid_value@Microsoft.Dynamics.CRM."
    assert body[f"{lookup}lookuplogicalname"] == "account"
    assert body[f"{lookup}associatednavigationproperty"] == "parentcustomerid_account"
    keys = list(body)
    assert keys.index(f"gendercode{FORMATTED}") < keys.index("gendercode")
    assert body[f"createdon{FORMATTED}"].endswith(("AM", "PM"))
    only_labels = {"Prefer": 'odata.include-annotations="OData.Community.Display.V1.*"'}
    body = org.get(f"contacts({record})", headers=only_labels, **select)
    assert f"gendercode{FORMATTED}" in body and f"{lookup}lookuplogicalname" not in body


def test_count_is_capped_at_5000(org: Org) -> None:
    """Reference §4.4, §18.11: @odata.count 5000 and the limit-exceeded annotation."""
    org.control("generate", {"entity": "contact", "count": 6000})
    response = org.http.get(
        "contacts?$select=lastname&$count=true",
        headers={"Prefer": 'odata.include-annotations="*",odata.maxpagesize=10'},
    )
    body = response.json()
    assert body["@odata.count"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True
    assert list(body).index("@odata.count") < list(body).index("value")
    count = org.http.get("contacts/$count")
    assert count.headers["Content-Type"].startswith("text/plain")
    assert count.text == "5000"
    small = org.http.get(with_query("contacts/$count", {"$filter": "statecode eq 1"}))
    assert small.text == "0"
    without = org.get("contacts", headers=ANNOTATIONS, **{"$top": "1"})
    assert without["@Microsoft.Dynamics.CRM.totalrecordcount"] == -1
    assert "@odata.count" not in without


def test_default_page_is_5000(org: Org) -> None:
    """Reference §4.4, §17.12: no or too large maxpagesize → 5000 per page."""
    org.control("generate", {"entity": "lead", "count": 5001})
    response = org.http.get("leads?$select=subject", headers={"Prefer": "odata.maxpagesize=9000"})
    body = response.json()
    assert len(body["value"]) == 5000
    last = org.http.get(body["@odata.nextLink"]).json()
    assert len(last["value"]) == 1 and "@odata.nextLink" not in last


def test_invalid_filters_are_400(org: Org) -> None:
    """Reference §14: OData parse errors are 400 0x0."""
    for flt in ("lastname eq", "lastname eqq 'x'", "nosuch eq 1", "statecode eq 'a'", "1 eq 1"):
        response = org.http.get(with_query("contacts", {"$filter": flt}))
        assert response.status_code == 400, flt
        assert error_of(response)[0] == "0x0"
