"""The crm2cr solution file: an unmanaged Dataverse solution zip, built from schema.py.

A solution file is a zip of `[Content_Types].xml`, `solution.xml` (the
manifest: name, version, publisher, root components) and `customizations.xml`
(tables, columns, keys, relationships), laid out as files Dataverse exports.
`build_solution_zip` writes one; `read_solution_zip` reads one back into a
`Solution` (what the emulator's ImportSolution imports), treating the file as
hostile: no DTDs or entities, bounded sizes, no path tricks.
"""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from crm2cr.solution.archive import CONTENT_TYPES_XML, CUSTOMIZATIONS_XML, SOLUTION_XML
from crm2cr.solution.reader import read_solution_zip
from crm2cr.solution.schema import (
    MEMO_MAX_LENGTH,
    Column,
    Label,
    Option,
    Relationship,
    Solution,
    Table,
    TableExtension,
)

XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
EXPORT_VERSION = "9.2.25093.168"

# Component types of solution.xml's RootComponents.
COMPONENT_ENTITY = 1
COMPONENT_RELATIONSHIP = 10
# RootComponent behavior: 0 with all subcomponents, 2 the table as a shell only.
INCLUDE_ALL = 0
SHELL_ONLY = 2

WIRE_TYPES: dict[str, str] = {
    "string": "nvarchar",
    "memo": "ntext",
    "integer": "int",
    "bigint": "bigint",
    "datetime": "datetime",
    "boolean": "bit",
    "picklist": "picklist",
    "lookup": "lookup",
}
REQUIRED_LEVELS = {"none": "none", "recommended": "recommended", "required": "required"}
# A fixed timestamp keeps the file byte-for-byte reproducible.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def build_solution_zip(solution: Solution) -> bytes:
    """The solution file for `solution`, ready for ImportSolution or an admin's import."""
    members = (
        (CONTENT_TYPES_XML, _content_types()),
        (SOLUTION_XML, _serialise(_manifest(solution))),
        (CUSTOMIZATIONS_XML, _serialise(_customizations(solution))),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


__all__ = ["build_solution_zip", "read_solution_zip"]


# -- writing -------------------------------------------------------------------------


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def _content_types() -> bytes:
    root = etree.Element(f"{{{CONTENT_TYPES_NS}}}Types", nsmap={None: CONTENT_TYPES_NS})
    etree.SubElement(
        root,
        f"{{{CONTENT_TYPES_NS}}}Default",
        Extension="xml",
        ContentType="application/octet-stream",
    )
    return _serialise(root)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _labels(parent: etree._Element, outer: str, inner: str, label: Label) -> None:
    container = _sub(parent, outer)
    for code, text in label.localized():
        _sub(container, inner, description=text, languagecode=str(code))


def _descriptions(parent: etree._Element, text: str) -> None:
    container = _sub(parent, "Descriptions")
    if text:
        _sub(container, "Description", description=text, languagecode="1033")


def _manifest(solution: Solution) -> etree._Element:
    root = etree.Element(
        "ImportExportXml",
        {
            "version": EXPORT_VERSION,
            "SolutionPackageVersion": "9.2",
            "languagecode": "1033",
            "generatedBy": "crm2cr",
        },
        nsmap={"xsi": XSI},
    )
    manifest = _sub(root, "SolutionManifest")
    _sub(manifest, "UniqueName", solution.unique_name)
    _labels(manifest, "LocalizedNames", "LocalizedName", solution.display)
    _descriptions(manifest, solution.description)
    _sub(manifest, "Version", solution.version)
    _sub(manifest, "Managed", _flag(solution.managed))
    publisher = _sub(manifest, "Publisher")
    _sub(publisher, "UniqueName", solution.publisher.unique_name)
    _labels(publisher, "LocalizedNames", "LocalizedName", solution.publisher.display)
    _descriptions(publisher, "")
    for nil in ("EMailAddress", "SupportingWebsiteUrl"):
        _sub(publisher, nil, "", **{f"{{{XSI}}}nil": "true"})
    _sub(publisher, "CustomizationPrefix", solution.publisher.prefix)
    _sub(publisher, "CustomizationOptionValuePrefix", str(solution.publisher.option_value_prefix))
    components = _sub(manifest, "RootComponents")
    for table in solution.tables:
        _sub(
            components,
            "RootComponent",
            type=str(COMPONENT_ENTITY),
            schemaName=table.logical_name,
            behavior=str(INCLUDE_ALL),
        )
    for ext in solution.extensions:
        _sub(
            components,
            "RootComponent",
            type=str(COMPONENT_ENTITY),
            schemaName=ext.table,
            behavior=str(SHELL_ONLY),
        )
    for rel in solution.relationships:
        _sub(
            components,
            "RootComponent",
            type=str(COMPONENT_RELATIONSHIP),
            schemaName=rel.schema_name,
            behavior=str(INCLUDE_ALL),
        )
    _sub(manifest, "MissingDependencies")
    return root


def _customizations(solution: Solution) -> etree._Element:
    root = etree.Element(
        "ImportExportXml",
        {"OrganizationVersion": EXPORT_VERSION, "OrganizationSchemaType": "Standard"},
        nsmap={"xsi": XSI},
    )
    entities = _sub(root, "Entities")
    for table in solution.tables:
        _table(entities, table, solution)
    for ext in solution.extensions:
        _extension(entities, ext, solution)
    for empty in ("Roles", "Workflows", "FieldSecurityProfiles", "Templates", "EntityMaps"):
        _sub(root, empty)
    relationships = _sub(root, "EntityRelationships")
    for rel in solution.relationships:
        _relationship(relationships, rel, solution)
    for empty in ("OrganizationSettings", "optionsets", "CustomControls", "EntityDataProviders"):
        _sub(root, empty)
    languages = _sub(root, "Languages")
    _sub(languages, "Language", "1033")
    return root


def _entity_shell(entities: etree._Element, schema_name: str, display: str) -> etree._Element:
    entity = _sub(entities, "Entity")
    _sub(entity, "Name", schema_name, LocalizedName=display, OriginalName=display)
    info = _sub(entity, "EntityInfo")
    return _sub(info, "entity", Name=schema_name)


def _table(entities: etree._Element, table: Table, solution: Solution) -> None:
    entity = _entity_shell(entities, table.schema_name, table.display.en)
    _labels(entity, "LocalizedNames", "LocalizedName", table.display)
    _labels(entity, "LocalizedCollectionNames", "LocalizedCollectionName", table.display_plural)
    _descriptions(entity, table.description)
    attributes = _sub(entity, "attributes")
    _primary_key(attributes, table, solution.version)
    _attribute(attributes, table.logical_name, table.primary_name, solution, primary_name=True)
    for column in table.columns:
        _attribute(attributes, table.logical_name, column, solution)
    _sub(entity, "EntitySetName", table.entity_set_name)
    _sub(entity, "IsDuplicateCheckSupported", "0")
    _sub(entity, "IsActivity", "0")
    _sub(entity, "IsCustomizable", "1")
    _sub(entity, "IntroducedVersion", solution.version)
    _sub(entity, "ChangeTrackingEnabled", _flag(table.change_tracking))
    _sub(entity, "OwnershipTypeMask", table.ownership)
    keys = _sub(entity, "EntityKeys")
    for key in table.keys:
        element = _sub(keys, "EntityKey")
        _sub(element, "LogicalName", key.logical_name)
        _sub(element, "Name", key.schema_name)
        columns = _sub(element, "EntityKeyAttributes")
        for name in key.columns:
            _sub(columns, "AttributeName", name)
        _labels(element, "displaynames", "displayname", key.display)
    parent = entity.getparent().getparent()
    for empty in ("FormXml", "SavedQueries", "RibbonDiffXml"):
        _sub(parent, empty)


def _extension(entities: etree._Element, ext: TableExtension, solution: Solution) -> None:
    entity = _entity_shell(entities, ext.schema_name, ext.schema_name)
    attributes = _sub(entity, "attributes")
    for column in ext.columns:
        _attribute(attributes, ext.table, column, solution)
    by_column: dict[str, list[Option]] = {}
    for name, option in ext.options:
        by_column.setdefault(name, []).append(option)
    for name, options in by_column.items():
        # A system choice, carried as a shell holding only the options we add.
        shell = Column(name, Label(name), "picklist", options=tuple(options))
        _attribute(attributes, ext.table, shell, solution, custom=False)


def _primary_key(attributes: etree._Element, table: Table, version: str) -> None:
    attribute = _sub(attributes, "attribute", PhysicalName=table.schema_name + "Id")
    _sub(attribute, "Type", "primarykey")
    _sub(attribute, "Name", table.primary_id)
    _sub(attribute, "LogicalName", table.primary_id)
    _sub(attribute, "RequiredLevel", "systemrequired")
    _sub(attribute, "DisplayMask", "ValidForAdvancedFind|RequiredForGrid")
    _sub(attribute, "IsCustomField", "0")
    _sub(attribute, "IntroducedVersion", version)
    _labels(attribute, "displaynames", "displayname", Label(table.display.en))


def _attribute(
    attributes: etree._Element,
    table: str,
    column: Column,
    solution: Solution,
    *,
    primary_name: bool = False,
    custom: bool = True,
) -> None:
    attribute = _sub(attributes, "attribute", PhysicalName=column.schema_name)
    _sub(attribute, "Type", WIRE_TYPES[column.type])
    _sub(attribute, "Name", column.logical_name)
    _sub(attribute, "LogicalName", column.logical_name)
    _sub(attribute, "RequiredLevel", REQUIRED_LEVELS[column.required])
    mask = "ValidForAdvancedFind|ValidForForm|ValidForGrid"
    _sub(attribute, "DisplayMask", ("PrimaryName|" + mask) if primary_name else mask)
    _sub(attribute, "ValidForUpdateApi", "1")
    _sub(attribute, "ValidForReadApi", "1")
    _sub(attribute, "ValidForCreateApi", "1")
    _sub(attribute, "IsCustomField", _flag(custom))
    _sub(attribute, "IsAuditEnabled", "1")
    _sub(attribute, "IsSecured", "0")
    _sub(attribute, "IntroducedVersion", solution.version)
    _sub(attribute, "IsCustomizable", "1")
    _sub(attribute, "SourceType", "0")
    _type_details(attribute, table, column)
    _labels(attribute, "displaynames", "displayname", column.display)
    _descriptions(attribute, column.description)


def _type_details(attribute: etree._Element, table: str, column: Column) -> None:
    match column.type:
        case "string":
            length = column.max_length or 100
            _sub(attribute, "Format", "text")
            _sub(attribute, "MaxLength", str(length))
            _sub(attribute, "Length", str(2 * length))
        case "memo":
            _sub(attribute, "Format", "text")
            _sub(attribute, "MaxLength", str(column.max_length or MEMO_MAX_LENGTH))
        case "integer":
            _sub(attribute, "Format", "none")
            _sub(attribute, "MinValue", "-2147483648")
            _sub(attribute, "MaxValue", "2147483647")
        case "bigint":
            _sub(attribute, "MinValue", "-9223372036854775808")
            _sub(attribute, "MaxValue", "9223372036854775807")
        case "datetime":
            _sub(attribute, "Format", "datetime")
            _sub(attribute, "CanChangeDateTimeBehavior", "1")
            _sub(attribute, "Behavior", "1")
        case "lookup":
            # The target is the relationship's referenced table, as in real files.
            _sub(attribute, "LookupStyle", "single")
            _sub(attribute, "LookupTypes")
        case "picklist" | "boolean":
            _sub(attribute, "AppDefaultValue", "-1" if column.type == "picklist" else "0")
            _optionset(attribute, table, column)


def _optionset(attribute: etree._Element, table: str, column: Column) -> None:
    optionset = _sub(attribute, "optionset", Name=f"{table}_{column.logical_name}")
    _sub(optionset, "OptionSetType", "bit" if column.type == "boolean" else "picklist")
    _sub(optionset, "IsGlobal", "0")
    _sub(optionset, "IsCustomizable", "1")
    _labels(optionset, "displaynames", "displayname", column.display)
    options = _sub(optionset, "options")
    for option in column.options:
        element = _sub(options, "option", value=str(option.value), IsHidden="0")
        _labels(element, "labels", "label", option.label)


def _schema_of(name: str, solution: Solution) -> str:
    for table in solution.tables:
        if table.logical_name == name:
            return table.schema_name
    for ext in solution.extensions:
        if ext.table == name:
            return ext.schema_name
    return name[:1].upper() + name[1:]


def _lookup_schema(rel: Relationship, solution: Solution) -> str:
    for table in solution.tables:
        if table.logical_name == rel.referencing:
            for column in table.columns:
                if column.logical_name == rel.lookup:
                    return column.schema_name
    return rel.lookup


def _relationship(parent: etree._Element, rel: Relationship, solution: Solution) -> None:
    element = _sub(parent, "EntityRelationship", Name=rel.schema_name)
    _sub(element, "EntityRelationshipType", "OneToMany")
    _sub(element, "IsCustomizable", "1")
    _sub(element, "IntroducedVersion", solution.version)
    _sub(element, "IsHierarchical", "0")
    _sub(element, "ReferencingEntityName", _schema_of(rel.referencing, solution))
    _sub(element, "ReferencedEntityName", _schema_of(rel.referenced, solution))
    _sub(element, "CascadeAssign", "NoCascade")
    _sub(element, "CascadeDelete", rel.cascade_delete)
    for cascade in ("CascadeReparent", "CascadeShare", "CascadeUnshare", "CascadeRollupView"):
        _sub(element, cascade, "NoCascade")
    _sub(element, "IsValidForAdvancedFind", "1")
    lookup = _lookup_schema(rel, solution)
    _sub(element, "ReferencingAttributeName", lookup)
    roles = _sub(element, "EntityRelationshipRoles")
    many = _sub(roles, "EntityRelationshipRole")
    _sub(many, "NavPaneDisplayOption", "UseCollectionName")
    _sub(many, "NavPaneArea", "Details")
    _sub(many, "NavPaneOrder", "10000")
    _sub(many, "NavigationPropertyName", lookup)
    _sub(many, "RelationshipRoleType", "1")
    one = _sub(roles, "EntityRelationshipRole")
    _sub(one, "NavigationPropertyName", rel.schema_name)
    _sub(one, "RelationshipRoleType", "0")
