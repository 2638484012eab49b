"""Requests, answers and errors of the Web API (reference §1–§4, §7.3, §10, §14, §18)."""

from __future__ import annotations

from .conftest import ANNOTATIONS, Org, entity_id, error_of


def test_request_without_token_gets_the_bearer_challenge(org: Org) -> None:
    """Reference §2.2, §17.1, §18.1: 401 with authorization_uri and resource_id."""
    response = org.http.get("contacts", headers={"Authorization": ""})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer authorization_uri=")
    assert f"{org.base}/{org.emu.tenant_id}/oauth2/authorize" in challenge
    assert f"resource_id={org.base}/" in challenge
    assert error_of(response) == ("0x80044302", "Request is not authenticated.")
    assert org.http.get("", headers={"Authorization": "Bearer"}).status_code == 401


def test_who_am_i_names_user_business_unit_and_fixed_organisation(org: Org) -> None:
    """Reference §10, §18.2: WhoAmI answers UserId, BusinessUnitId, OrganizationId."""
    body = org.get("WhoAmI")
    assert body["OrganizationId"] == "c2c2c2c2-0000-4000-8000-00000000c2c2"
    assert body["UserId"] and body["BusinessUnitId"]
    assert org.get("WhoAmI()")["UserId"] == body["UserId"]
    user = org.get(f"systemusers({body['UserId']})", **{"$select": "fullname,applicationid"})
    assert user["fullname"] == "crm2cr app"


def test_wrong_verb_and_unknown_segments_are_404(org: Org) -> None:
    """Reference §1, §10, §18.2: POST WhoAmI 404 code ""; sets are case-sensitive."""
    response = org.http.post("WhoAmI", json={})
    assert response.status_code == 404
    code, message = error_of(response)
    assert code == "" and message.startswith("No HTTP resource was found")
    response = org.http.get("Contacts")
    assert response.status_code == 404
    assert error_of(response) == ("0x8006088a", "Resource not found for the segment 'Contacts'.")
    assert error_of(org.http.get("nosuchthings"))[1] == (
        "Resource not found for the segment 'nosuchthings'."
    )


def test_older_api_versions_answer_too(org: Org) -> None:
    """Reference §1: v9.0 and v9.1 paths still work."""
    for version in ("v9.0", "v9.1"):
        response = org.root.get(
            f"/api/data/{version}/WhoAmI", headers={"Authorization": "Bearer x"}
        )
        assert response.status_code == 200
        assert f"/api/data/{version}/$metadata#" in response.json()["@odata.context"]


def test_create_answers_204_with_entity_id_or_201_with_representation(org: Org) -> None:
    """Reference §7.1, §18.3."""
    response = org.http.post("contacts", json={"firstname": "Erika", "lastname": "Muster"})
    assert response.status_code == 204
    assert response.content == b""
    location = response.headers["OData-EntityId"]
    assert location.startswith(f"{org.api}/contacts(")
    created = org.get(f"contacts({entity_id(location)})", **{"$select": "fullname"})
    assert created["fullname"] == "Erika Muster"

    response = org.http.post(
        "contacts?$select=lastname",
        json={"lastname": "Beispiel"},
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201
    assert "OData-EntityId" not in response.headers
    assert "return=representation" in response.headers["Preference-Applied"]
    body = response.json()
    assert body["lastname"] == "Beispiel"
    assert body["@odata.etag"].startswith('W/"')
    assert body["@odata.context"].endswith("#contacts(lastname)/$entity")


def test_unknown_property_on_create_or_in_select_is_400(org: Org) -> None:
    """Reference §4.1, §7.1, §18.4: 400 0x0 with the service's messages."""
    response = org.http.post("accounts", json={"Name": "Contoso"})
    assert response.status_code == 400
    code, message = error_of(response)
    assert code == "0x0"
    assert "Invalid property 'Name' was found in entity 'Microsoft.Dynamics.CRM.account'" in message
    response = org.http.get("accounts?$select=Name")
    assert response.status_code == 400
    assert error_of(response) == (
        "0x0",
        "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.",
    )


def test_missing_or_deleted_record_is_404_object_does_not_exist(org: Org) -> None:
    """Reference §4.2, §7.2, §18.5."""
    missing = "00000000-0000-0000-0000-000000000001"
    response = org.http.get(f"contacts({missing})")
    assert response.status_code == 404
    assert error_of(response) == ("0x80040217", f"contact With Id = {missing} Does Not Exist")
    record = org.create("contacts", {"lastname": "Gone"})
    assert org.http.delete(f"contacts({record})").status_code == 204
    assert org.http.get(f"contacts({record})").status_code == 404
    assert org.http.delete(f"contacts({record})").status_code == 404
    response = org.http.get("contacts(not-a-guid)")
    assert response.status_code == 400


def test_etag_grows_with_every_update(org: Org) -> None:
    """Reference §3, §17.16, §18.6: W/"n" from one org-wide counter, bumped per write."""
    record = org.create("contacts", {"lastname": "Etag"})
    first = org.get(f"contacts({record})")["@odata.etag"]
    assert org.http.patch(f"contacts({record})", json={"lastname": "Etag"}).status_code == 204
    second = org.get(f"contacts({record})")["@odata.etag"]
    assert first.startswith('W/"') and second.startswith('W/"')
    assert int(second[3:-1]) > int(first[3:-1])
    listing = org.get("contacts", **{"$select": "lastname"})["value"]
    assert all(item["@odata.etag"].startswith('W/"') for item in listing)


def test_patch_upserts_unless_if_match_star(org: Org) -> None:
    """Reference §7.3, §17.5, §18.7."""
    new_id = "6d3c1a52-5a0e-4c7f-9a55-8d0f6f0b1111"
    response = org.http.patch(f"contacts({new_id})", json={"lastname": "Upserted"})
    assert response.status_code == 204
    assert response.headers["OData-EntityId"].endswith(f"contacts({new_id})")
    assert org.get(f"contacts({new_id})")["lastname"] == "Upserted"

    other = "6d3c1a52-5a0e-4c7f-9a55-8d0f6f0b2222"
    response = org.http.patch(
        f"contacts({other})", json={"lastname": "No"}, headers={"If-Match": "*"}
    )
    assert response.status_code == 404
    assert error_of(response)[0] == "0x80040217"
    assert org.http.get(f"contacts({other})").status_code == 404


def test_conditional_writes_answer_412(org: Org) -> None:
    """Reference §7.3, §17.2, §18.8."""
    record = org.create("contacts", {"lastname": "Cond"})
    response = org.http.patch(
        f"contacts({record})", json={"lastname": "X"}, headers={"If-None-Match": "*"}
    )
    assert response.status_code == 412
    assert error_of(response) == (
        "0x80040237",
        "A record with matching key values already exists.",
    )
    current = org.get(f"contacts({record})")["@odata.etag"]
    assert org.http.patch(f"contacts({record})", json={"lastname": "Y"}).status_code == 204
    response = org.http.patch(
        f"contacts({record})", json={"lastname": "Z"}, headers={"If-Match": current}
    )
    assert response.status_code == 412
    assert error_of(response)[0] == "0x80060882"
    fresh = org.get(f"contacts({record})")["@odata.etag"]
    response = org.http.patch(
        f"contacts({record})", json={"lastname": "Z"}, headers={"If-Match": fresh}
    )
    assert response.status_code == 204
    assert org.http.delete(f"contacts({record})", headers={"If-Match": fresh}).status_code == 412
    new_id = "6d3c1a52-5a0e-4c7f-9a55-8d0f6f0b3333"
    response = org.http.patch(
        f"contacts({new_id})", json={"lastname": "N"}, headers={"If-None-Match": "*"}
    )
    assert response.status_code == 204


def test_conditional_get_is_304_without_annotations_only(org: Org) -> None:
    """Reference §4.4, §18.9; `If-None-Match: null` is no condition (§3)."""
    record = org.create("contacts", {"lastname": "Cache"})
    tag = org.get(f"contacts({record})")["@odata.etag"]
    response = org.http.get(f"contacts({record})", headers={"If-None-Match": tag})
    assert response.status_code == 304
    assert response.content == b""
    response = org.http.get(f"contacts({record})", headers={"If-None-Match": tag, **ANNOTATIONS})
    assert response.status_code == 200
    response = org.http.get(
        f"contacts({record})?$expand=owninguser($select=fullname)",
        headers={"If-None-Match": tag},
    )
    assert response.status_code == 200
    assert org.http.get(f"contacts({record})", headers={"If-None-Match": "null"}).status_code == 200
    org.http.patch(f"contacts({record})", json={"firstname": "New"})
    assert org.http.get(f"contacts({record})", headers={"If-None-Match": tag}).status_code == 200


def test_single_column_get_put_delete(org: Org) -> None:
    """Reference §4.2, §7.2: /{set}({id})/{column}."""
    record = org.create("contacts", {"lastname": "Col", "emailaddress1": "a@b.example"})
    body = org.get(f"contacts({record})/emailaddress1")
    assert body["value"] == "a@b.example"
    assert body["@odata.context"].endswith(f"contacts({record})/emailaddress1")
    assert org.http.put(f"contacts({record})/lastname", json={"value": "Neu"}).status_code == 204
    assert org.get(f"contacts({record})/lastname")["value"] == "Neu"
    assert org.http.delete(f"contacts({record})/emailaddress1").status_code == 204
    assert org.http.get(f"contacts({record})/emailaddress1").status_code == 204
    assert org.http.get(f"contacts({record})/nosuchcolumn").status_code == 404


def test_unreadable_body_is_400(org: Org) -> None:
    """Reference §14: 0x80048d19 for a body that is not JSON."""
    response = org.http.post(
        "contacts", content=b"lastname=x", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)[0] == "0x80048d19"


def test_answers_carry_odata_headers(org: Org) -> None:
    """Reference §3: OData-Version 4.0 and minimal metadata JSON."""
    response = org.http.get("contacts")
    assert response.headers["OData-Version"] == "4.0"
    assert response.headers["Content-Type"].startswith("application/json; odata.metadata=minimal")
    assert isinstance(org.http.get("").json()["value"], list)
    metadata = org.http.get("$metadata")
    assert metadata.status_code == 200 and b'EntitySet Name="contacts"' in metadata.content


def test_injected_fault_bodies_look_like_the_service(org: Org) -> None:
    """Reference §17.17: 5xx 0x80040216, 429 0x80072322 with Retry-After."""
    org.control("faults", {"fault_rate": 1.0, "kinds": ["503"]})
    response = org.http.get("contacts")
    assert response.status_code == 503
    assert error_of(response) == ("0x80040216", "An unexpected error occurred.")
    org.control("faults", {"kinds": ["429"], "retry_after": 3})
    response = org.http.get("contacts")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert error_of(response)[0] == "0x80072322"
    org.control("faults", {"fault_rate": 0.0})
    assert org.http.get("contacts").status_code == 200


def test_journal_marks_writes_and_callers(org: Org) -> None:
    """The request journal counts accepted writes (SPEC invariant 4 relies on it)."""
    before = org.emu.journal.last_seq
    org.create("contacts", {"lastname": "J"})
    org.get("contacts")
    writes = org.emu.journal.writes_since(before)
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in writes] == [("POST", "contacts")]
    assert writes[0].caller == org.get("WhoAmI")["UserId"]
