"""The solution file: schema → zip → schema (reference dataverse.md §13.2, §10 ImportSolution)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping

from lxml import etree

from crm2cr.solution.package import build_solution_zip, read_solution_zip
from crm2cr.solution.schema import SCHEMA, Column, Label, Option, Relationship, Table


def test_schema_survives_a_trip_through_the_solution_file(solution_file: bytes) -> None:
    """§13.2: the file holds everything the schema declares."""
    assert read_solution_zip(solution_file) == SCHEMA


def test_the_file_is_reproducible(solution_file: bytes) -> None:
    assert build_solution_zip(SCHEMA) == solution_file
    assert build_solution_zip(read_solution_zip(solution_file)) == solution_file


def test_the_zip_holds_the_three_members_dataverse_expects(solution_file: bytes) -> None:
    """§13.2: a zip of solution.xml, customizations.xml and [Content_Types].xml."""
    with zipfile.ZipFile(io.BytesIO(solution_file)) as archive:
        assert sorted(archive.namelist()) == [
            "[Content_Types].xml",
            "customizations.xml",
            "solution.xml",
        ]


def test_manifest_names_solution_version_and_publisher(members: Mapping[str, bytes]) -> None:
    """§6 solution/publisher: uniquename, version, prefix, option-value prefix; unmanaged."""
    root = etree.fromstring(members["solution.xml"])
    assert root.tag == "ImportExportXml"
    manifest = root.find("SolutionManifest")
    assert manifest is not None
    assert manifest.findtext("UniqueName") == "crm2cr"
    assert manifest.findtext("Version") == "1.0.0.0"
    assert manifest.findtext("Managed") == "0"
    assert manifest.find("LocalizedNames/LocalizedName[@languagecode='1033']") is not None
    assert manifest.findtext("Publisher/CustomizationPrefix") == "crm2cr"
    assert manifest.findtext("Publisher/CustomizationOptionValuePrefix") == str(
        SCHEMA.publisher.option_value_prefix
    )
    roots = {(c.get("type"), c.get("schemaName")) for c in manifest.iter("RootComponent")}
    assert ("1", "crm2cr_cleverreachlink") in roots
    assert ("1", "campaignactivity") in roots


def test_customizations_describe_tables_as_dataverse_files_do(members: Mapping[str, bytes]) -> None:
    """§13.2: Entities > Entity > Name + EntityInfo > entity with typed attributes."""
    root = etree.fromstring(members["customizations.xml"])
    entity = root.find("Entities/Entity/EntityInfo/entity[@Name='crm2cr_CleverReachLink']")
    assert entity is not None
    types = {a.findtext("LogicalName"): a.findtext("Type") for a in entity.iter("attribute")}
    assert types["crm2cr_cleverreachlinkid"] == "primarykey"
    assert types["crm2cr_name"] == "nvarchar"
    assert types["crm2cr_status"] == "picklist"
    assert types["crm2cr_crstamp"] == "bigint"
    assert types["crm2cr_lastsynced"] == "datetime"
    assert types["crm2cr_contactid"] == "lookup"
    email = entity.find("attributes/attribute[@PhysicalName='crm2cr_Email']")
    assert email is not None and email.findtext("MaxLength") == "320"
    assert entity.findtext("ChangeTrackingEnabled") == "1"
    assert entity.findtext("EntityKeys/EntityKey/EntityKeyAttributes/AttributeName") == (
        "crm2cr_pairkey"
    )
    config = root.find("Entities/Entity/EntityInfo/entity[@Name='crm2cr_Configuration']")
    assert config is not None
    assert config.findtext("attributes/attribute[LogicalName='crm2cr_document']/Type") == "ntext"


def test_customizations_add_the_channel_option_and_relationships(
    members: Mapping[str, bytes],
) -> None:
    """§6 campaignactivity + §13.3: channeltypecode option, 1:N relationships."""
    root = etree.fromstring(members["customizations.xml"])
    channel = root.find(
        "Entities/Entity/EntityInfo/entity[@Name='CampaignActivity']/attributes/"
        "attribute[LogicalName='channeltypecode']"
    )
    assert channel is not None
    (option,) = channel.iter("option")
    assert option.get("value") == str(SCHEMA.publisher.first_option_value())
    label = option.find("labels/label")
    assert label is not None and label.get("description") == "CleverReach"
    rel = root.find("EntityRelationships/EntityRelationship[ReferencedEntityName='Contact']")
    assert rel is not None
    assert rel.findtext("EntityRelationshipType") == "OneToMany"
    assert rel.findtext("ReferencingAttributeName") == "crm2cr_ContactId"


def test_an_upgraded_schema_survives_the_trip_too() -> None:
    """The upgrade path: new tables, columns and relationships reach the file."""
    extra = Column("crm2cr_Score", Label("Score", "Punkte"), "integer")
    option_col = Column(
        "crm2cr_Tier",
        Label("Tier"),
        "picklist",
        options=(Option(SCHEMA.publisher.first_option_value() + 50, Label("gold", "Gold")),),
    )
    note = Table(
        "crm2cr_Note",
        Label("Note"),
        Label("Notes"),
        Column("crm2cr_Name", Label("Name"), "string", max_length=100, required="required"),
        (Column("crm2cr_ContactId", Label("Contact"), "lookup", targets=("contact",)),),
        ownership="OrganizationOwned",
        change_tracking=False,
    )
    newer = SCHEMA.upgraded(
        "1.1.0.0",
        tables=[note],
        columns={"crm2cr_cleverreachlink": [extra], "campaignactivity": [option_col]},
        relationships=[
            Relationship("crm2cr_contact_crm2cr_note", "contact", "crm2cr_note", "crm2cr_contactid")
        ],
    )
    assert read_solution_zip(build_solution_zip(newer)) == newer


def test_a_real_export_with_system_parts_reads_as_our_schema(
    members: Mapping[str, bytes], rezip: Callable[[Mapping[str, bytes]], bytes]
) -> None:
    """A file an admin exported also lists system columns, relationships and options."""
    root = etree.fromstring(members["customizations.xml"])
    attributes = root.find(
        "Entities/Entity/EntityInfo/entity[@Name='crm2cr_CleverReachLink']/attributes"
    )
    assert attributes is not None
    for name, kind in (("ownerid", "owner"), ("statecode", "state"), ("createdon", "datetime")):
        attr = etree.SubElement(attributes, "attribute", PhysicalName=name)
        etree.SubElement(attr, "Type").text = kind
        etree.SubElement(attr, "LogicalName").text = name
    options = root.find(
        "Entities/Entity/EntityInfo/entity[@Name='CampaignActivity']/attributes/"
        "attribute[LogicalName='channeltypecode']/optionset/options"
    )
    assert options is not None
    system_option = etree.SubElement(options, "option", value="7")
    labels = etree.SubElement(system_option, "labels")
    etree.SubElement(labels, "label", description="Email", languagecode="1033")
    relationships = root.find("EntityRelationships")
    assert relationships is not None
    owner = etree.SubElement(relationships, "EntityRelationship", Name="lk_crm2cr_link_createdby")
    etree.SubElement(owner, "ReferencingAttributeName").text = "CreatedBy"
    edited = dict(members, **{"customizations.xml": etree.tostring(root)})
    assert read_solution_zip(rezip(edited)) == SCHEMA
