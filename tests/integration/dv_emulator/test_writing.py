"""Writes: binds, validation, state, fixed columns, alternate keys (reference §6, §7, §18)."""

from __future__ import annotations

from .conftest import Org, error_of


def test_bind_sets_and_null_clears_a_polymorphic_lookup(org: Org) -> None:
    """Reference §7.2, §18.14: per-target navigation names, relative or absolute, and null."""
    account = org.create("accounts", {"name": "Contoso"})
    parent = org.create("contacts", {"lastname": "Parent"})
    record = org.create(
        "contacts",
        {"lastname": "Kid", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
    )
    select = {"$select": "_parentcustomerid_value"}
    assert org.get(f"contacts({record})", **select)["_parentcustomerid_value"] == account
    org.http.patch(
        f"contacts({record})",
        json={"parentcustomerid_contact@odata.bind": f"{org.api}/contacts({parent})"},
    )
    assert org.get(f"contacts({record})", **select)["_parentcustomerid_value"] == parent
    org.http.patch(f"contacts({record})", json={"parentcustomerid_contact@odata.bind": None})
    assert org.get(f"contacts({record})", **select)["_parentcustomerid_value"] is None
    response = org.http.patch(
        f"contacts({record})", json={"parentcustomerid_account@odata.bind": f"/contacts({parent})"}
    )
    assert response.status_code == 400
    missing = "00000000-0000-0000-0000-0000000000aa"
    response = org.http.patch(
        f"contacts({record})", json={"parentcustomerid_account@odata.bind": f"accounts({missing})"}
    )
    assert response.status_code == 404
    assert error_of(response)[0] == "0x80040217"


def test_single_valued_ref_put_and_delete(org: Org) -> None:
    """Reference §7.2, §7.5: PUT/DELETE {nav}/$ref and GET of the navigation."""
    account = org.create("accounts", {"name": "A"})
    record = org.create("contacts", {"lastname": "R"})
    response = org.http.put(
        f"contacts({record})/parentcustomerid_account/$ref",
        json={"@odata.id": f"{org.api}/accounts({account})"},
    )
    assert response.status_code == 204
    assert org.get(f"contacts({record})/parentcustomerid_account")["accountid"] == account
    assert org.http.delete(f"contacts({record})/parentcustomerid_account/$ref").status_code == 204
    assert org.http.get(f"contacts({record})/parentcustomerid_account").status_code == 204


def test_owner_binds_to_users_and_teams(org: Org) -> None:
    """Reference §6 contact: ownerid@odata.bind takes /systemusers(..) or /teams(..)."""
    me = org.get("WhoAmI")["UserId"]
    team = org.get("teams", **{"$select": "name"})["value"][0]["teamid"]
    record = org.create("contacts", {"lastname": "Own", "ownerid@odata.bind": f"/teams({team})"})
    body = org.get(
        f"contacts({record})",
        headers={"Prefer": 'odata.include-annotations="*"'},
        **{"$select": "_ownerid_value,_owningteam_value,_createdby_value"},
    )
    assert body["_ownerid_value"] == team
    assert body["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "team"
    assert body["_owningteam_value"] == team
    assert body["_createdby_value"] == me
    default = org.create("contacts", {"lastname": "Mine"})
    assert org.get(f"contacts({default})")["_ownerid_value"] == me


def test_values_are_validated_like_the_service(org: Org) -> None:
    """Reference §7.1: too long → 0x80044331; wrong JSON type → 0x0; unknown choice → 0x80044331."""
    response = org.http.post("contacts", json={"lastname": "x" * 51})
    assert response.status_code == 400
    code, message = error_of(response)
    assert code == "0x80044331"
    assert "The length of the 'lastname' attribute of the 'contact' entity exceeded" in message
    assert "'50'" in message
    response = org.http.post("accounts", json={"name": "N", "numberofemployees": "many"})
    assert error_of(response)[0] == "0x0" and "Edm.Int32" in error_of(response)[1]
    response = org.http.post("contacts", json={"lastname": "G", "gendercode": 99})
    assert error_of(response)[0] == "0x80044331"
    response = org.http.post("contacts", json={"lastname": "B", "donotbulkemail": "yes"})
    assert response.status_code == 400
    response = org.http.post("contacts", json={"_parentcustomerid_value": None})
    assert response.status_code == 400
    assert org.http.get("contacts").json()["value"] == []


def test_fullname_is_computed_and_read_only(org: Org) -> None:
    """Reference §6 contact: fullname comes from first and last name."""
    record = org.create("contacts", {"firstname": "Erika", "lastname": "Muster", "fullname": "X"})
    assert org.get(f"contacts({record})")["fullname"] == "Erika Muster"
    org.http.patch(f"contacts({record})", json={"firstname": "Anna"})
    assert org.get(f"contacts({record})")["fullname"] == "Anna Muster"


def test_state_and_status_move_together(org: Org) -> None:
    """Reference §6, §7.2: statecode alone picks its first status; a mismatch is refused."""
    record = org.create("contacts", {"lastname": "S"})
    org.http.patch(f"contacts({record})", json={"statecode": 1})
    body = org.get(f"contacts({record})", **{"$select": "statecode,statuscode"})
    assert (body["statecode"], body["statuscode"]) == (1, 2)
    org.http.patch(f"contacts({record})", json={"statecode": 0, "statuscode": 1})
    response = org.http.patch(f"contacts({record})", json={"statecode": 0, "statuscode": 2})
    assert response.status_code == 400
    lead = org.create("leads", {"lastname": "L", "subject": "s"})
    org.http.patch(f"leads({lead})", json={"statecode": 2})
    assert org.get(f"leads({lead})", **{"$select": "statuscode"})["statuscode"] == 4


def test_non_updatable_columns_are_ignored_on_update(org: Org) -> None:
    """Reference §6 list, §17.10: list.type and createdfromcode keep their values."""
    list_id = org.create("lists", {"listname": "Static", "type": False, "createdfromcode": 2})
    response = org.http.patch(
        f"lists({list_id})", json={"type": True, "createdfromcode": 1, "listname": "Renamed"}
    )
    assert response.status_code == 204
    body = org.get(f"lists({list_id})", **{"$select": "type,createdfromcode,listname,membercount"})
    assert (body["type"], body["createdfromcode"], body["listname"]) == (False, 2, "Renamed")
    assert body["membercount"] == 0
    response = org.http.post("lists", json={"listname": "No type"})
    assert response.status_code == 400


def test_campaign_activity_regarding_campaign(org: Org) -> None:
    """Reference §6 campaignactivity: regardingobjectid → campaign via its navigation."""
    campaign = org.create("campaigns", {"name": "Spring"})
    activity = org.create(
        "campaignactivities",
        {
            "subject": "Mailing",
            "channeltypecode": 7,
            "regardingobjectid_campaign_campaignactivity@odata.bind": f"/campaigns({campaign})",
        },
    )
    body = org.get(
        f"campaignactivities({activity})",
        headers={"Prefer": 'odata.include-annotations="*"'},
        **{"$select": "channeltypecode,_regardingobjectid_value,statecode"},
    )
    assert body["_regardingobjectid_value"] == campaign
    assert body["channeltypecode@OData.Community.Display.V1.FormattedValue"] == "Email"
    assert body["statecode@OData.Community.Display.V1.FormattedValue"] == "Open"
    other = org.create("campaigns", {"name": "Autumn"})
    org.http.patch(
        f"campaignactivities({activity})",
        json={"regardingobjectid_campaign_campaignactivity@odata.bind": f"/campaigns({other})"},
    )
    assert org.get(f"campaignactivities({activity})")["_regardingobjectid_value"] == campaign


def test_alternate_keys_once_defined(org: Org) -> None:
    """Reference §7.4: key lookups work only for keys defined on the table."""
    org.create("contacts", {"lastname": "Key", "emailaddress1": "key@x.example"})
    assert org.http.get("contacts(emailaddress1='key@x.example')").status_code == 400
    response = org.http.post(
        "EntityDefinitions(LogicalName='contact')/Keys",
        json={"SchemaName": "crm2cr_emailkey", "KeyAttributes": ["emailaddress1"]},
    )
    assert response.status_code == 204
    body = org.get("contacts(emailaddress1='key@x.example')", **{"$select": "lastname"})
    assert body["lastname"] == "Key"
    response = org.http.patch(
        "contacts(emailaddress1='new@x.example')", json={"lastname": "Created by key"}
    )
    assert response.status_code == 204
    created = org.get("contacts(emailaddress1='new@x.example')")
    assert created["lastname"] == "Created by key"
    response = org.http.post("contacts", json={"lastname": "Dup", "emailaddress1": "key@x.example"})
    assert response.status_code == 400
    assert error_of(response)[0] == "0x80060892"
    keys = org.get("EntityDefinitions(LogicalName='contact')/Keys")["value"]
    assert keys[0]["KeyAttributes"] == ["emailaddress1"]
    assert org.http.delete("contacts(emailaddress1='new@x.example')").status_code == 204
    assert org.http.get("contacts(emailaddress1='new@x.example')").status_code == 404


def test_deleting_a_record_clears_references_to_it(org: Org) -> None:
    """Reference §7.2: related rows keep existing; their lookup is cleared (and versioned)."""
    account = org.create("accounts", {"name": "Parent"})
    record = org.create(
        "contacts",
        {"lastname": "C", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
    )
    before = org.get(f"contacts({record})")["@odata.etag"]
    assert org.http.delete(f"accounts({account})").status_code == 204
    after = org.get(f"contacts({record})")
    assert after["_parentcustomerid_value"] is None
    assert after["@odata.etag"] != before


def test_deep_insert_creates_the_related_record(org: Org) -> None:
    """Reference §7.1: deep insert of a single-valued navigation."""
    record = org.create("accounts", {"name": "Deep", "primarycontactid": {"lastname": "Inside"}})
    body = org.get(f"accounts({record})", **{"$expand": "primarycontactid($select=lastname)"})
    assert body["primarycontactid"]["lastname"] == "Inside"
