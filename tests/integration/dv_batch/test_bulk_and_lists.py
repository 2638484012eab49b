"""Bulk operations and list membership: checklist §18 items 20 and 21 (§8, §10, §17.7)."""

from __future__ import annotations

from typing import Any

from tests.integration.dv_batch.conftest import Org

CONTACT = "Microsoft.Dynamics.CRM.contact"


def targets(*items: dict[str, Any]) -> dict[str, Any]:
    return {"Targets": [{"@odata.type": CONTACT, **item} for item in items]}


def test_create_multiple_returns_ids_in_order(org: Org) -> None:
    """Reference §8, §18 item 20: 200 CreateMultipleResponse with `Ids` in target order."""
    response = org.http.post(
        "contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json=targets({"lastname": "One"}, {"lastname": "Two"}, {"lastname": "Three"}),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith(
        "$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
    )
    names = [org.get(f"contacts({i})", **{"$select": "lastname"})["lastname"] for i in body["Ids"]]
    assert names == ["One", "Two", "Three"]


def test_create_multiple_with_one_bad_target_rolls_back_all(org: Org) -> None:
    """Reference §8, §18 item 20: one bad target rolls back every target."""
    response = org.http.post(
        "contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json=targets({"lastname": "Kept?"}, {"lastname": "Bad", "nosuchcolumn": 1}),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x0"
    assert org.count("contacts") == 0


def test_targets_without_odata_type_or_of_another_table_are_400(org: Org) -> None:
    """Reference §8: every target needs `@odata.type`; one table per call."""
    missing = org.http.post(
        "contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"lastname": "NoType"}]},
    )
    assert missing.status_code == 400
    assert "@odata.type" in missing.json()["error"]["message"]
    other = org.http.post(
        "contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "A"}]},
    )
    assert other.status_code == 400
    assert org.count("contacts") == 0
    assert org.count("accounts") == 0


def test_upsert_multiple_updates_and_creates_by_key_and_alternate_key(org: Org) -> None:
    """Reference §8, §18 item 20: UpsertMultiple → 204; primary key or `@odata.id` alternate key."""
    key = org.http.post(
        "EntityDefinitions(LogicalName='contact')/Keys",
        json={
            "SchemaName": "crm2cr_emailkey",
            "DisplayName": {"LocalizedLabels": [{"Label": "E-mail", "LanguageCode": 1033}]},
            "KeyAttributes": ["emailaddress1"],
        },
    )
    assert key.status_code == 204, key.text
    existing = org.create("contacts", {"lastname": "Old", "emailaddress1": "old@x.example"})
    by_mail = org.create("contacts", {"lastname": "Mail", "emailaddress1": "mail@x.example"})
    new_id = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    response = org.http.post(
        "contacts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json=targets(
            {"contactid": existing, "lastname": "Updated"},
            {"contactid": new_id, "lastname": "Created"},
            {"@odata.id": "contacts(emailaddress1='mail@x.example')", "lastname": "ByKey"},
        ),
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    for record_id, name in ((existing, "Updated"), (new_id, "Created"), (by_mail, "ByKey")):
        assert org.get(f"contacts({record_id})", **{"$select": "lastname"})["lastname"] == name
    assert org.count("contacts") == 3


def test_update_multiple_is_204_and_a_missing_record_rolls_back(org: Org) -> None:
    """Reference §8: UpdateMultiple → 204; targets must exist; all-or-nothing."""
    first = org.create("contacts", {"lastname": "A"})
    second = org.create("contacts", {"lastname": "B"})
    ok = org.http.post(
        "contacts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json=targets(
            {"contactid": first, "lastname": "A2"}, {"contactid": second, "lastname": "B2"}
        ),
    )
    assert ok.status_code == 204, ok.text
    missing = org.http.post(
        "contacts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json=targets(
            {"contactid": first, "lastname": "A3"},
            {"contactid": "6f9619ff-8b86-d011-b42d-00c04fc964ff", "lastname": "Nobody"},
        ),
    )
    assert missing.status_code == 404
    assert org.get(f"contacts({first})", **{"$select": "lastname"})["lastname"] == "A2"
    assert org.count("contacts") == 2


def test_add_member_list_on_static_and_dynamic_lists(org: Org) -> None:
    """Reference §10, §17.7, §18 item 21: Id, membercount +1, no second row; dynamic → 400."""
    contact = org.create("contacts", {"lastname": "Member"})
    account = org.create("accounts", {"name": "Firm"})
    static = org.create("lists", {"listname": "Static", "type": False, "createdfromcode": 2})
    first = org.http.post(
        f"lists({static})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": contact}
    )
    assert first.status_code == 200, first.text
    member_id = first.json()["Id"]
    assert org.get(f"lists({static})", **{"$select": "membercount"})["membercount"] == 1
    again = org.http.post(
        f"lists({static})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": contact}
    )
    assert again.status_code == 200
    assert again.json()["Id"] == member_id
    assert org.get(f"lists({static})", **{"$select": "membercount"})["membercount"] == 1
    rows = org.get("listmembers", **{"$filter": f"_listid_value eq {static}"})["value"]
    assert len(rows) == 1
    wrong_type = org.http.post(
        f"lists({static})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": account}
    )
    assert wrong_type.status_code >= 400
    dynamic = org.create(
        "lists",
        {
            "listname": "Dynamic",
            "type": True,
            "createdfromcode": 2,
            "query": '<fetch><entity name="contact"/></fetch>',
        },
    )
    refused = org.http.post(
        f"lists({dynamic})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": contact}
    )
    assert refused.status_code == 400
