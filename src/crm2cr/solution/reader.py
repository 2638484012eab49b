"""Read a solution file back into a `Solution`, treating it as hostile input.

archive.py unpacks the zip and parses its XML safely; this module turns the
XML into the model, accepting only names that are safe identifiers and carry
the publisher's prefix, since they become table and column names downstream.
Every refusal is an `InvalidInput` whose message says what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from crm2cr.solution.archive import (
    CUSTOMIZATIONS_XML,
    SOLUTION_XML,
    bad,
    unpack,
)
from crm2cr.solution.model import (
    AlternateKey,
    CascadeDelete,
    Column,
    ColumnType,
    Label,
    Option,
    Ownership,
    Publisher,
    Relationship,
    RequiredLevel,
    Solution,
    Table,
    TableExtension,
    parse_version,
)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")

_COLUMN_TYPES: dict[str, ColumnType] = {
    "nvarchar": "string",
    "ntext": "memo",
    "memo": "memo",
    "int": "integer",
    "bigint": "bigint",
    "datetime": "datetime",
    "bit": "boolean",
    "picklist": "picklist",
    "lookup": "lookup",
}
_REQUIRED: dict[str, RequiredLevel] = {
    "none": "none",
    "recommended": "recommended",
    "required": "required",
    "applicationrequired": "required",
    "systemrequired": "required",
}
_CASCADES: tuple[CascadeDelete, ...] = ("Cascade", "RemoveLink", "Restrict")
_OWNERSHIPS: tuple[Ownership, ...] = ("UserOwned", "OrganizationOwned")
_MAX_LENGTHS = {"string": 4000, "memo": 1_048_576}


def read_solution_zip(data: bytes) -> Solution:
    """Parse a solution file; raises InvalidInput naming what is wrong with it."""
    members = unpack(data)
    manifest = members[SOLUTION_XML]
    customizations = members[CUSTOMIZATIONS_XML]
    head = _child(manifest, "SolutionManifest", SOLUTION_XML)
    publisher = _publisher(_child(head, "Publisher", SOLUTION_XML))
    unique_name = _safe_name(_text(head, "UniqueName", SOLUTION_XML), "solution")
    version = _text(head, "Version", SOLUTION_XML)
    parse_version(version)
    managed = _text(head, "Managed", SOLUTION_XML, default="0")
    if managed not in ("0", "1"):
        raise bad(SOLUTION_XML, f"Managed must be 0 or 1, not {managed[:20]!r}")
    relationships = _relationships(customizations, publisher)
    tables, extensions = _entities(customizations, publisher, relationships)
    return Solution(
        unique_name,
        _label(head.find("LocalizedNames"), fallback=unique_name),
        version,
        publisher,
        tuple(tables),
        tuple(extensions),
        tuple(relationships),
        managed=managed == "1",
        description=_description(head),
    )


# -- XML helpers ---------------------------------------------------------------------


def _child(parent: Element, tag: str, member: str) -> Element:
    found = parent.find(tag)
    if found is None:
        raise bad(member, f"<{parent.tag}> has no <{tag}>")
    return found


def _text(parent: Element, tag: str, member: str, *, default: str | None = None) -> str:
    found = parent.find(tag)
    text = (found.text or "").strip() if found is not None else ""
    if text:
        return text
    if default is not None:
        return default
    raise bad(member, f"<{parent.tag}> has no <{tag}>")


def _int(text: str, what: str, member: str = CUSTOMIZATIONS_XML) -> int:
    try:
        return int(text)
    except ValueError:
        raise bad(member, f"{what} must be a whole number, not {text[:30]!r}") from None


def _label(container: Element | None, *, fallback: str = "") -> Label:
    texts: dict[int, str] = {}
    if container is not None:
        for item in container:
            code, text = item.get("languagecode", ""), item.get("description")
            if code.isdigit() and text is not None:
                texts.setdefault(int(code), text)
    english = texts.get(1033) or next(iter(texts.values()), fallback)
    return Label(english, texts.get(1031, ""))


def _description(parent: Element) -> str:
    container = parent.find("Descriptions")
    return _label(container).en if container is not None else ""


def _safe_name(name: str, what: str, *, prefix: str = "") -> str:
    if not _NAME.fullmatch(name):
        raise bad(CUSTOMIZATIONS_XML, f"the {what} name {name[:60]!r} is not a valid name")
    if prefix and not name.lower().startswith(prefix + "_"):
        raise bad(
            CUSTOMIZATIONS_XML,
            f"the {what} {name!r} does not carry the publisher prefix '{prefix}_'",
        )
    return name


# -- manifest ------------------------------------------------------------------------


def _publisher(element: Element) -> Publisher:
    unique_name = _safe_name(_text(element, "UniqueName", SOLUTION_XML), "publisher")
    prefix = _text(element, "CustomizationPrefix", SOLUTION_XML)
    if not re.fullmatch(r"[a-z][a-z0-9]{1,7}", prefix) or prefix == "mscrm":
        raise bad(SOLUTION_XML, f"the customization prefix {prefix[:20]!r} is not valid")
    value_prefix = _int(
        _text(element, "CustomizationOptionValuePrefix", SOLUTION_XML),
        "CustomizationOptionValuePrefix",
        SOLUTION_XML,
    )
    if not 10_000 <= value_prefix <= 99_999:
        raise bad(SOLUTION_XML, "CustomizationOptionValuePrefix must be between 10000 and 99999")
    display = _label(element.find("LocalizedNames"), fallback=unique_name)
    return Publisher(unique_name, display, prefix, value_prefix)


# -- customizations ------------------------------------------------------------------


def _relationships(root: Element, publisher: Publisher) -> list[Relationship]:
    result: list[Relationship] = []
    container = root.find("EntityRelationships")
    for element in container if container is not None else ():
        name = _safe_name(element.get("Name", ""), "relationship")
        lookup = _text(element, "ReferencingAttributeName", CUSTOMIZATIONS_XML).lower()
        if not lookup.startswith(publisher.prefix + "_"):
            continue  # a system relationship (owner, createdby...) the org makes itself
        kind = _text(element, "EntityRelationshipType", CUSTOMIZATIONS_XML)
        if kind != "OneToMany":
            raise bad(
                CUSTOMIZATIONS_XML,
                f"relationship {name!r} is {kind[:30]!r}; "
                "only OneToMany relationships are supported",
            )
        cascade = _text(element, "CascadeDelete", CUSTOMIZATIONS_XML, default="RemoveLink")
        if cascade not in _CASCADES:
            raise bad(
                CUSTOMIZATIONS_XML, f"relationship {name!r} has CascadeDelete {cascade[:30]!r}"
            )
        referencing = _text(element, "ReferencingEntityName", CUSTOMIZATIONS_XML)
        referenced = _text(element, "ReferencedEntityName", CUSTOMIZATIONS_XML)
        result.append(
            Relationship(
                name,
                _safe_name(referenced, "table").lower(),
                _safe_name(referencing, "table").lower(),
                _safe_name(lookup, "column"),
                next(c for c in _CASCADES if c == cascade),
            )
        )
    return result


def _entities(
    root: Element, publisher: Publisher, relationships: list[Relationship]
) -> tuple[list[Table], list[TableExtension]]:
    tables: list[Table] = []
    extensions: list[TableExtension] = []
    container = root.find("Entities")
    for element in container if container is not None else ():
        info = _child(
            _child(element, "EntityInfo", CUSTOMIZATIONS_XML), "entity", CUSTOMIZATIONS_XML
        )
        schema = _safe_name(info.get("Name") or _text(element, "Name", CUSTOMIZATIONS_XML), "table")
        if schema.lower().startswith(publisher.prefix + "_"):
            tables.append(_table(info, schema, publisher, relationships))
        else:
            extensions.append(_extension(info, schema, publisher, relationships))
    names = [t.logical_name for t in tables] + [e.table for e in extensions]
    if len(set(names)) != len(names):
        raise bad(CUSTOMIZATIONS_XML, "a table is defined twice")
    return tables, extensions


def _attributes(info: Element) -> Iterator[Element]:
    container = info.find("attributes")
    yield from container if container is not None else ()


def _table(
    info: Element, schema: str, publisher: Publisher, relationships: list[Relationship]
) -> Table:
    logical = schema.lower()
    primary: Column | None = None
    columns: list[Column] = []
    for element in _attributes(info):
        name = _text(element, "LogicalName", CUSTOMIZATIONS_XML).lower()
        if not name.startswith(publisher.prefix + "_") or name == logical + "id":
            continue  # system columns (primary key, owner, created on...) come with the table
        column = _column(element, logical, relationships)
        if "PrimaryName" in _text(element, "DisplayMask", CUSTOMIZATIONS_XML, default=""):
            if primary is not None:
                raise bad(CUSTOMIZATIONS_XML, f"table {schema!r} has two primary name columns")
            primary = column
        else:
            columns.append(column)
    if primary is None or primary.type != "string":
        raise bad(CUSTOMIZATIONS_XML, f"table {schema!r} has no text primary name column")
    names = [primary.logical_name, *(c.logical_name for c in columns)]
    if len(set(names)) != len(names):
        raise bad(CUSTOMIZATIONS_XML, f"table {schema!r} defines a column twice")
    ownership = _text(info, "OwnershipTypeMask", CUSTOMIZATIONS_XML, default="UserOwned")
    if ownership not in _OWNERSHIPS:
        raise bad(CUSTOMIZATIONS_XML, f"table {schema!r} has ownership {ownership[:30]!r}")
    return Table(
        schema,
        _label(info.find("LocalizedNames"), fallback=schema),
        _label(info.find("LocalizedCollectionNames"), fallback=schema),
        primary,
        tuple(columns),
        tuple(_keys(info, schema, set(names))),
        ownership=next(o for o in _OWNERSHIPS if o == ownership),
        change_tracking=_text(info, "ChangeTrackingEnabled", CUSTOMIZATIONS_XML, default="0")
        == "1",
        description=_description(info),
    )


def _keys(info: Element, schema: str, columns: set[str]) -> Iterator[AlternateKey]:
    container = info.find("EntityKeys")
    for element in container if container is not None else ():
        key_name = _safe_name(_text(element, "Name", CUSTOMIZATIONS_XML), "key")
        parts = element.find("EntityKeyAttributes")
        names = tuple((p.text or "").strip().lower() for p in (parts if parts is not None else ()))
        if not names or not set(names) <= columns:
            raise bad(CUSTOMIZATIONS_XML, f"key {key_name!r} of {schema!r} names unknown columns")
        yield AlternateKey(key_name, _label(element.find("displaynames"), fallback=key_name), names)


def _extension(
    info: Element, schema: str, publisher: Publisher, relationships: list[Relationship]
) -> TableExtension:
    logical = schema.lower()
    columns: list[Column] = []
    options: list[tuple[str, Option]] = []
    first = publisher.first_option_value()
    for element in _attributes(info):
        name = _safe_name(_text(element, "LogicalName", CUSTOMIZATIONS_XML), "column").lower()
        if name.startswith(publisher.prefix + "_"):
            columns.append(_column(element, logical, relationships))
            continue
        # A system choice: only the options in the publisher's value range are
        # ours; the others (a full export lists them all) belong to the org.
        for option in _options(element):
            if first <= option.value < first + 10_000:
                options.append((name, option))
    return TableExtension(logical, schema, tuple(columns), tuple(options))


def _column(element: Element, table: str, relationships: list[Relationship]) -> Column:
    schema = _safe_name(
        element.get("PhysicalName") or _text(element, "Name", CUSTOMIZATIONS_XML), "column"
    )
    wire = _text(element, "Type", CUSTOMIZATIONS_XML)
    kind = _COLUMN_TYPES.get(wire)
    if kind is None:
        raise bad(
            CUSTOMIZATIONS_XML,
            f"column {schema!r} of {table!r} has type {wire[:30]!r}, "
            "which this import does not support",
        )
    required = _REQUIRED.get(_text(element, "RequiredLevel", CUSTOMIZATIONS_XML, default="none"))
    if required is None:
        raise bad(CUSTOMIZATIONS_XML, f"column {schema!r} has an unknown RequiredLevel")
    max_length = None
    if kind in _MAX_LENGTHS:
        max_length = _int(_text(element, "MaxLength", CUSTOMIZATIONS_XML), "MaxLength")
        if not 1 <= max_length <= _MAX_LENGTHS[kind]:
            raise bad(CUSTOMIZATIONS_XML, f"column {schema!r} has MaxLength {max_length}")
    targets: tuple[str, ...] = ()
    if kind == "lookup":
        targets = tuple(
            r.referenced
            for r in relationships
            if r.referencing == table and r.lookup == schema.lower()
        )
        if not targets:
            raise bad(CUSTOMIZATIONS_XML, f"lookup {schema!r} of {table!r} has no relationship")
    options = tuple(_options(element)) if kind in ("picklist", "boolean") else ()
    return Column(
        schema,
        _label(element.find("displaynames"), fallback=schema),
        kind,
        max_length=max_length,
        required=required,
        targets=targets,
        options=options,
        description=_description(element),
    )


def _options(element: Element) -> Iterator[Option]:
    container = element.find("optionset/options")
    values: set[int] = set()
    for option in container if container is not None else ():
        value = _int(option.get("value", ""), "an option value")
        if value in values:
            raise bad(CUSTOMIZATIONS_XML, f"option value {value} appears twice")
        values.add(value)
        yield Option(value, _label(option.find("labels"), fallback=str(value)))
