"""Marketing-list membership (reference §6 list/listmember, §7.5, §10, §11, §17.6–8, §18.22)."""

from __future__ import annotations

import pytest

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.emulators.dataverse.seed import demo_id

from .conftest import Org, error_of, with_query


def _static_list(org: Org, member_type: int = 2, name: str = "Static") -> str:
    return org.create("lists", {"listname": name, "type": False, "createdfromcode": member_type})


def _member_ids(org: Org, list_id: str) -> set[str]:
    rows = org.get(
        "listmembers",
        **{"$select": "_entityid_value", "$filter": f"_listid_value eq {list_id}"},
    )["value"]
    return {r["_entityid_value"] for r in rows}


def _membercount(org: Org, list_id: str) -> int:
    return int(org.get(f"lists({list_id})", **{"$select": "membercount"})["membercount"])


def test_associate_and_disassociate_change_membership(org: Org) -> None:
    """Reference §7.5, §18.22: $ref changes are visible in listmembers and the paged navigation."""
    list_id = _static_list(org)
    contacts = [org.create("contacts", {"lastname": f"M{i}"}) for i in range(5)]
    for contact in contacts:
        response = org.http.post(
            f"lists({list_id})/listcontact_association/$ref",
            json={"@odata.id": f"{org.api}/contacts({contact})"},
        )
        assert response.status_code == 204
    assert _member_ids(org, list_id) == set(contacts)
    assert _membercount(org, list_id) == 5
    pages, url = [], f"lists({list_id})/listcontact_association?$select=lastname"
    while url:
        body = org.get(url, headers={"Prefer": "odata.maxpagesize=2"})
        pages.append([row["contactid"] for row in body["value"]])
        url = body.get("@odata.nextLink", "")
    assert [len(p) for p in pages] == [2, 2, 1]
    assert {c for page in pages for c in page} == set(contacts)

    response = org.http.delete(f"lists({list_id})/listcontact_association({contacts[0]})/$ref")
    assert response.status_code == 204
    response = org.http.delete(
        with_query(
            f"lists({list_id})/listcontact_association/$ref",
            {"$id": f"{org.api}/contacts({contacts[1]})"},
        )
    )
    assert response.status_code == 204
    assert _member_ids(org, list_id) == set(contacts[2:])
    assert _membercount(org, list_id) == 3
    from_contact = org.get(f"contacts({contacts[2]})/listcontact_association")["value"]
    assert [row["listid"] for row in from_contact] == [list_id]


def test_add_member_list_rules(org: Org) -> None:
    """Reference §10, §17.7, §18.21: id answered, no twin row, dynamic 400, wrong type 404."""
    list_id = _static_list(org)
    contact = org.create("contacts", {"lastname": "Add"})
    action = f"lists({list_id})/Microsoft.Dynamics.CRM.AddMemberList"
    first = org.http.post(action, json={"EntityId": contact})
    assert first.status_code == 200
    member_row = first.json()["Id"]
    again = org.http.post(action, json={"EntityId": contact})
    assert again.json()["Id"] == member_row
    assert _membercount(org, list_id) == 1
    account = org.create("accounts", {"name": "Not a contact"})
    wrong = org.http.post(action, json={"EntityId": account})
    assert wrong.status_code == 404
    assert error_of(wrong) == ("0x80040217", f"contact With Id = {account} Does Not Exist")
    dynamic = org.create(
        "lists", {"listname": "Dyn", "type": True, "createdfromcode": 2, "query": "<fetch/>"}
    )
    response = org.http.post(
        f"lists({dynamic})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": contact}
    )
    assert response.status_code == 400
    assert error_of(response)[0] == "0x80040203"
    org.http.patch(f"lists({list_id})", json={"lockstatus": True})
    second = org.create("contacts", {"lastname": "Locked out"})
    assert org.http.post(action, json={"EntityId": second}).status_code == 400


def test_remove_member_list_and_listmember_rows(org: Org) -> None:
    """Reference §11, §17.6: by member id, by listmember id, DELETE /listmembers."""
    list_id = _static_list(org)
    contacts = [org.create("contacts", {"lastname": f"R{i}"}) for i in range(3)]
    ids = []
    for contact in contacts:
        answer = org.http.post(
            f"lists({list_id})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": contact}
        )
        ids.append(answer.json()["Id"])
    remove = f"lists({list_id})/Microsoft.Dynamics.CRM.RemoveMemberList"
    assert org.http.post(remove, json={"EntityId": contacts[0]}).status_code == 204
    assert org.http.post(remove, json={"ListMember": {"listmemberid": ids[1]}}).status_code == 204
    assert org.http.delete(f"listmembers({ids[2]})").status_code == 204
    assert _member_ids(org, list_id) == set()
    assert _membercount(org, list_id) == 0
    assert org.http.get(f"listmembers({ids[0]})").status_code == 400


def test_add_list_members_list_and_post_listmembers(org: Org) -> None:
    """Reference §10: AddListMembersList; listmember supports Create."""
    list_id = _static_list(org, member_type=4, name="Leads")
    leads = [org.create("leads", {"lastname": f"L{i}", "subject": "s"}) for i in range(2)]
    response = org.http.post(
        "AddListMembersList",
        json={
            "List": {"@odata.type": "Microsoft.Dynamics.CRM.list", "listid": list_id},
            "Members": [
                {"@odata.type": "Microsoft.Dynamics.CRM.lead", "leadid": lead} for lead in leads
            ],
        },
    )
    assert response.status_code == 204
    assert _member_ids(org, list_id) == set(leads)
    third = org.create("leads", {"lastname": "L3", "subject": "s"})
    response = org.http.post(
        "listmembers",
        json={
            "listid@odata.bind": f"/lists({list_id})",
            "entityid_lead@odata.bind": f"/leads({third})",
        },
    )
    assert response.status_code == 204
    assert _membercount(org, list_id) == 3


def test_deleting_a_member_removes_it_from_its_lists(org: Org) -> None:
    """A deleted record leaves every list; membercount follows."""
    list_id = _static_list(org)
    contact = org.create("contacts", {"lastname": "Leaves"})
    org.http.post(
        f"lists({list_id})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": contact}
    )
    assert org.http.delete(f"contacts({contact})").status_code == 204
    assert _member_ids(org, list_id) == set()
    assert _membercount(org, list_id) == 0


def test_generate_fills_a_static_list(org: Org) -> None:
    """The control API's generator adds synthetic members fast (benchmarks)."""
    list_id = _static_list(org)
    result = org.control("generate", {"entity": "contact", "count": 300, "list": list_id})
    assert result["count"] == 300
    assert _membercount(org, list_id) == 300
    emails = org.get("contacts", **{"$select": "emailaddress1"})["value"]
    assert len({e["emailaddress1"] for e in emails}) == 300


class TestDemoLists:
    @pytest.fixture
    def emulator_options(self) -> EmulatorOptions:
        return EmulatorOptions(seed="demo", limits=False)

    def test_demo_has_static_and_dynamic_lists(self, org: Org) -> None:
        """Reference §17.19: the demo seed's lists, one of them dynamic with a FetchXML query."""
        lists = org.get("lists", **{"$select": "listname,type,createdfromcode,membercount,query"})
        by_name = {row["listname"]: row for row in lists["value"]}
        assert by_name["Newsletter"]["membercount"] == 251
        assert by_name["Kunden Premium"]["membercount"] == 60
        assert by_name["Partnerfirmen"]["createdfromcode"] == 1
        assert by_name["Messe-Leads 2026"]["createdfromcode"] == 4
        dynamic = by_name["Kontakte Berlin und Hamburg"]
        assert dynamic["type"] is True and "<fetch" in dynamic["query"]
        members = org.get(
            f"lists({dynamic['listid']})/listcontact_association",
            **{"$select": "address1_city,statecode"},
        )["value"]
        assert members
        assert {m["address1_city"] for m in members} <= {"Berlin", "Hamburg"}
        assert {m["statecode"] for m in members} == {0}
        expected = org.get(
            "contacts",
            **{
                "$select": "contactid",
                "$filter": "statecode eq 0 and (address1_city eq 'Berlin' or "
                "address1_city eq 'Hamburg')",
            },
        )["value"]
        assert {m["contactid"] for m in members} == {c["contactid"] for c in expected}

    def test_copy_dynamic_list_to_static(self, org: Org) -> None:
        """Reference §10, §17.8: a new static list with the query's members."""
        dynamic = demo_id("list", "Kontakte Berlin und Hamburg")
        response = org.http.post(
            f"lists({dynamic})/Microsoft.Dynamics.CRM.CopyDynamicListToStatic", json={}
        )
        assert response.status_code == 200
        static = response.json()["StaticListId"]
        copied = org.get(f"lists({static})", **{"$select": "type,membercount"})
        assert copied["type"] is False
        assert copied["membercount"] == len(
            org.get(f"lists({dynamic})/listcontact_association")["value"]
        )
