"""Metadata queries (reference §13.1, §13.3, §17.14, §18.23, §18.25)."""

from __future__ import annotations

from .conftest import Org, error_of, with_query

PICKLIST = "Microsoft.Dynamics.CRM.PicklistAttributeMetadata"


def test_entity_definitions_filter_and_select(org: Org) -> None:
    """Reference §13.1, §18.23: the crm2cr table is absent in a new organisation."""
    body = org.get(
        "EntityDefinitions",
        **{"$select": "LogicalName,EntitySetName", "$filter": "LogicalName eq 'contact'"},
    )
    assert [(d["LogicalName"], d["EntitySetName"]) for d in body["value"]] == [
        ("contact", "contacts")
    ]
    assert "MetadataId" in body["value"][0] and "ObjectTypeCode" not in body["value"][0]
    missing = org.get(
        "EntityDefinitions",
        **{"$select": "LogicalName", "$filter": "LogicalName eq 'crm2cr_cleverreachlink'"},
    )
    assert missing["value"] == []
    solutions = org.get(
        "solutions", **{"$select": "uniquename,version", "$filter": "uniquename eq 'crm2cr'"}
    )
    assert solutions["value"] == []


def test_entity_definition_by_name_and_missing(org: Org) -> None:
    """Reference §13.1, §17.14: by LogicalName; a missing one → 404 0x80040217."""
    body = org.get("EntityDefinitions(LogicalName='list')")
    assert body["EntitySetName"] == "lists" and body["ObjectTypeCode"] == 4300
    assert body["PrimaryIdAttribute"] == "listid" and body["ChangeTrackingEnabled"] is True
    assert body["DisplayName"]["UserLocalizedLabel"]["Label"] == "Marketing List"
    by_id = org.get(f"EntityDefinitions({body['MetadataId']})", **{"$select": "LogicalName"})
    assert by_id["LogicalName"] == "list"
    response = org.http.get("EntityDefinitions(LogicalName='missing')")
    assert response.status_code == 404
    assert error_of(response) == ("0x80040217", "Could not find entity with name 'missing'.")


def test_attributes_are_typed(org: Org) -> None:
    """Reference §13.1: Attributes items carry @odata.type of their kind."""
    body = org.get(
        "EntityDefinitions(LogicalName='contact')/Attributes",
        **{"$select": "LogicalName,AttributeType"},
    )
    kinds = {a["LogicalName"]: (a["@odata.type"], a["AttributeType"]) for a in body["value"]}
    assert kinds["emailaddress1"] == ("#Microsoft.Dynamics.CRM.StringAttributeMetadata", "String")
    assert kinds["parentcustomerid"] == (
        "#Microsoft.Dynamics.CRM.LookupAttributeMetadata",
        "Customer",
    )
    assert kinds["gendercode"][1] == "Picklist"
    one = org.get("EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='lastname')")
    assert one["MaxLength"] == 50
    response = org.http.get(
        "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='nope')"
    )
    assert response.status_code == 404


def test_channel_type_options_through_the_picklist_cast(org: Org) -> None:
    """Reference §6 campaignactivity, §13.1, §18.25: options 1–9 with labels."""
    url = (
        "EntityDefinitions(LogicalName='campaignactivity')/Attributes(LogicalName='channeltypecode')"
        f"/{PICKLIST}"
    )
    body = org.get(
        with_query(
            url,
            {
                "$select": "LogicalName",
                "$expand": "OptionSet($select=Options),GlobalOptionSet($select=Options)",
            },
        )
    )
    options = body["OptionSet"]["Options"]
    assert [o["Value"] for o in options] == list(range(1, 10))
    email = next(o for o in options if o["Value"] == 7)["Label"]
    assert email["LocalizedLabels"][0] == {
        **email["LocalizedLabels"][0],
        "Label": "Email",
        "LanguageCode": 1033,
    }
    assert email["UserLocalizedLabel"]["Label"] == "Email"
    assert body["GlobalOptionSet"] is None
    listing = org.get(f"EntityDefinitions(LogicalName='contact')/Attributes/{PICKLIST}")
    assert {a["LogicalName"] for a in listing["value"]} >= {"gendercode"}
    status = org.get(
        "EntityDefinitions(LogicalName='lead')/Attributes(LogicalName='statuscode')"
        "/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$expand=OptionSet"
    )
    states = {o["Value"]: o["State"] for o in status["OptionSet"]["Options"]}
    assert states[3] == 1 and states[4] == 2


def test_relationships_and_privileges(org: Org) -> None:
    """Reference §6 list, §13.3: N:N navigation names; prv{Access}{SchemaName} with ids."""
    relations = org.get("EntityDefinitions(LogicalName='list')/ManyToManyRelationships")["value"]
    assert {r["SchemaName"] for r in relations} >= {
        "listcontact_association",
        "listaccount_association",
        "listlead_association",
        "campaignlist_association",
    }
    many_to_one = org.get("EntityDefinitions(LogicalName='contact')/ManyToOneRelationships")
    navigations = {r["ReferencingEntityNavigationPropertyName"] for r in many_to_one["value"]}
    assert {"parentcustomerid_account", "parentcustomerid_contact", "ownerid"} <= navigations
    privileges = org.get("EntityDefinitions(LogicalName='list')", **{"$select": "Privileges"})
    names = {p["Name"] for p in privileges["Privileges"]}
    assert {"prvReadList", "prvWriteList", "prvCreateList", "prvAppendToList"} <= names
    assert all(p["PrivilegeId"] for p in privileges["Privileges"])


def test_metadata_version_annotation_and_unknown_metadata_property(org: Org) -> None:
    """Reference §4.3, §13.1: unknown $select property on metadata → 400."""
    response = org.http.get("EntityDefinitions?$select=Nope")
    assert response.status_code == 400
